/* Shape functions (exact diagnostics) and reference kernels of the nn ops, on graphs built with the IR API. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/util/testutil.h"

static IrGraph *G;
static IrDiag D;
static int inputs[16];
static int ninputs;

static void setup(void)
{
    G = ir_graph_new("t");
    ir_diag_init(&D, NULL);
    ninputs = 0;
}

static void teardown(void)
{
    ir_graph_free(G);
    ir_diag_free(&D);
}

/* "N,3,8,8" -> shape; dims are integers, N, kN, or kN+b / kN-b; "" is a scalar. */
static IrShape shp(const char *spec)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    const char *p = spec;
    while (*p) {
        char *end = (char *)p;
        IrDim dm = {0, 0};
        if (*p == 'N') {
            dm.a = 1;
            end = (char *)p + 1;
        } else {
            long long v = strtoll(p, &end, 10);
            if (*end == 'N') {
                dm.a = v;
                end++;
            } else {
                dm.b = v;
            }
        }
        if (dm.a && (*end == '+' || *end == '-'))
            dm.b = strtoll(end, &end, 10);
        s.d[s.rank++] = dm;
        p = *end == ',' ? end + 1 : end;
    }
    return s;
}

/* A graph input. */
static int in_(const char *name, IrDtype t, const char *spec)
{
    IrShape s = shp(spec);
    int id = ir_value_new(G, name, t, &s, IR_ROLE_INPUT);
    inputs[ninputs++] = id;
    G->inputs = inputs;
    G->ninputs = ninputs;
    return id;
}

/* A constant holding data (row-major, dtype t). */
static int cst(const char *name, IrDtype t, const char *spec, const void *data)
{
    IrShape s = shp(spec);
    int id = ir_value_new(G, name, t, &s, IR_ROLE_CONST);
    IrDim cnt;
    ck_assert(ir_shape_numel(&s, &cnt) && cnt.a == 0);
    G->values[id]->data = ir_arena_memdup(G->arena, data, (size_t)(cnt.b ? cnt.b : 1) * srt_dtype_size(t));
    return id;
}

/* An activation, typed by shape inference. */
static int act(const char *name)
{
    return ir_value_new(G, name, SRT_F32, NULL, IR_ROLE_ACT);
}

/* A node named "op". */
static IrNode *node(IrOp op, int nin, const int *in, int nout, const int *out)
{
    return ir_node(G, ir_node_new(G, op, "op", nin, in, nout, out));
}

/* Shape inference: NULL on success, else the first diagnostic. */
static const char *infer(void)
{
    return ir_infer_shapes(G, &D) == 0 ? NULL : ir_diag_first(&D);
}

#define ERR(msg) ck_assert_str_eq(infer() ? ir_diag_first(&D) : "(no error)", msg)
#define OK() ck_assert_msg(infer() == NULL, "%s", ir_diag_first(&D))

/* Type of a value as text. */
static const char *ty(int id)
{
    static char bufs[4][192];
    static int next;
    char *b = bufs[next++ % 4];
    const IrValue *v = G->values[id];
    ir_type_format(v->dtype, &v->shape, b, 192);
    return b;
}

/* Run the interpreter at batch n; data[i] fills graph input i (converted from double).
 * Returns the value tensors (free with free_vals) or NULL on a diagnostic. */
static IrTensor *run(int64_t n, const double *const *data)
{
    IrTensor ins[16];
    for (int i = 0; i < ninputs; i++) {
        const IrValue *v = G->values[inputs[i]];
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&ins[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t k = 0; k < ins[i].numel; k++)
            ir_tensor_setf(&ins[i], k, data[i][k]);
    }
    IrTensor *vals = calloc((size_t)G->nvalues, sizeof *vals);
    int rc = ir_interp_eval(G, n, ins, false, vals, &D);
    for (int i = 0; i < ninputs; i++)
        ir_tensor_free(&ins[i]);
    if (rc != 0) {
        for (int i = 0; i < G->nvalues; i++)
            ir_tensor_free(&vals[i]);
        free(vals);
        return NULL;
    }
    return vals;
}

static void free_vals(IrTensor *vals)
{
    for (int i = 0; i < G->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
}

/* Assert tensor t holds want[0..count) within 1e-6 (NaN matches NaN). */
static void expect_vals(const IrTensor *t, int count, const double *want)
{
    ck_assert_int_eq(t->numel, count);
    for (int i = 0; i < count; i++) {
        double got = ir_tensor_getf(t, i);
        if (isnan(want[i]))
            ck_assert_msg(isnan(got), "[%d] = %g, expected nan", i, got);
        else
            ck_assert_msg(fabs(got - want[i]) <= 1e-6 + 1e-6 * fabs(want[i]), "[%d] = %.9g, expected %.9g", i, got,
                          want[i]);
    }
}

/* Node op(x, w) -> y with y returned. */
static int op2(IrOp op, int a, int b, IrNode **nd)
{
    int y = act("y");
    int ins[2] = {a, b};
    *nd = node(op, 2, ins, 1, &y);
    return y;
}

/* ==== Gemm ================================================================================ */

/* Gemm with transB gives [M, N], keeping the symbolic batch. */
START_TEST(gemm_shape_transb)
{
    int a = in_("a", SRT_F32, "N,4"), b = in_("b", SRT_F32, "5,4"), c = in_("c", SRT_F32, "5"), y = act("y");
    int ins[3] = {a, b, c};
    IrNode *n = node(IR_OP_GEMM, 3, ins, 1, &y);
    ir_node_set_int(G, n, "transB", 1);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,5]");
}
END_TEST

/* Gemm reports mismatched K naming both operands. */
START_TEST(gemm_k_mismatch)
{
    IrNode *n;
    op2(IR_OP_GEMM, in_("a", SRT_F32, "N,256"), in_("b", SRT_F32, "10,255"), &n);
    ir_node_set_int(G, n, "transB", 1);
    ERR("node \"op\" (Gemm): inputs[1] has type f32[10,255]; Gemm needs its K (255) to match inputs[0]'s K (256) "
        "(transA=0, transB=1)");
}
END_TEST

/* Gemm needs rank-2 operands. */
START_TEST(gemm_rank)
{
    IrNode *n;
    op2(IR_OP_GEMM, in_("a", SRT_F32, "2,3,4"), in_("b", SRT_F32, "4,5"), &n);
    ERR("node \"op\" (Gemm): inputs[0] has type f32[2,3,4]; Gemm needs a matrix (rank 2)");
}
END_TEST

/* Gemm needs one dtype for A and B. */
START_TEST(gemm_dtype_mismatch)
{
    IrNode *n;
    op2(IR_OP_GEMM, in_("a", SRT_F32, "2,3"), in_("b", SRT_F64, "3,4"), &n);
    ERR("node \"op\" (Gemm): inputs[1] has type f64[3,4]; Gemm needs the dtype of inputs[0] (f32[2,3])");
}
END_TEST

/* Gemm rejects bool. */
START_TEST(gemm_bool)
{
    IrNode *n;
    op2(IR_OP_GEMM, in_("a", SRT_BOOL, "2,3"), in_("b", SRT_BOOL, "3,4"), &n);
    ERR("node \"op\" (Gemm): inputs[0] has type bool[2,3]; Gemm needs float32, float64, int64 or int32");
}
END_TEST

/* Gemm's C must broadcast to [M, N]. */
START_TEST(gemm_c_broadcast)
{
    int a = in_("a", SRT_F32, "2,3"), b = in_("b", SRT_F32, "3,4"), c = in_("c", SRT_F32, "3"), y = act("y");
    int ins[3] = {a, b, c};
    node(IR_OP_GEMM, 3, ins, 1, &y);
    ERR("node \"op\" (Gemm): inputs[2] has type f32[3]; Gemm needs it to broadcast to the output shape [2,4]");
}
END_TEST

/* Integer Gemm needs whole-number alpha. */
START_TEST(gemm_int_alpha)
{
    IrNode *n;
    op2(IR_OP_GEMM, in_("a", SRT_I64, "2,3"), in_("b", SRT_I64, "3,4"), &n);
    ir_node_set_float(G, n, "alpha", 0.5);
    ERR("node \"op\" (Gemm): attribute alpha = 0.5; Gemm on int64 needs whole-number alpha and beta");
}
END_TEST

/* Any non-zero transA transposes A (ONNX). */
START_TEST(gemm_trans_flag)
{
    IrNode *n;
    int y = op2(IR_OP_GEMM, in_("a", SRT_F32, "3,2"), in_("b", SRT_F32, "3,4"), &n);
    ir_node_set_int(G, n, "transA", 2);
    OK();
    ck_assert_str_eq(ty(y), "f32[2,4]");
}
END_TEST

/* Gemm with one input is an arity error. */
START_TEST(gemm_arity)
{
    int a = in_("a", SRT_F32, "2,3"), y = act("y");
    node(IR_OP_GEMM, 1, &a, 1, &y);
    ERR("node \"op\" (Gemm): Gemm needs 2 to 3 inputs, got 1");
}
END_TEST

/* Float Gemm: alpha*A'*B + beta*C with a row-broadcast C. */
START_TEST(gemm_kernel_float)
{
    int a = in_("a", SRT_F32, "3,2"), b = in_("b", SRT_F32, "3,2"), c = in_("c", SRT_F32, "1,2"), y = act("y");
    int ins[3] = {a, b, c};
    IrNode *n = node(IR_OP_GEMM, 3, ins, 1, &y);
    ir_node_set_int(G, n, "transA", 1);
    ir_node_set_float(G, n, "alpha", 2);
    ir_node_set_float(G, n, "beta", -1);
    OK();
    /* A' = [[1,3,5],[2,4,6]], B = [[1,0],[0,1],[1,1]]: A'B = [[6,8],[8,10]] */
    double da[] = {1, 2, 3, 4, 5, 6}, db[] = {1, 0, 0, 1, 1, 1}, dc[] = {1, 10};
    const double *data[] = {da, db, dc};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {11, 6, 15, 10};
    expect_vals(&v[y], 4, want);
    free_vals(v);
}
END_TEST

/* Integer Gemm stays exact beyond 2^53 (no trip through double). */
START_TEST(gemm_kernel_int64_exact)
{
    int64_t av[] = {(int64_t)1 << 53, 1}, bv[] = {1, 1};
    int a = cst("a", SRT_I64, "1,2", av), b = cst("b", SRT_I64, "2,1", bv);
    IrNode *n;
    int y = op2(IR_OP_GEMM, a, b, &n);
    OK();
    IrTensor *v = run(1, NULL);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(ir_tensor_geti(&v[y], 0), ((int64_t)1 << 53) + 1);
    free_vals(v);
}
END_TEST

/* ==== MatMul ============================================================================== */

/* MatMul promotes 1-D operands and broadcasts batch dims. */
START_TEST(matmul_shapes)
{
    IrNode *n;
    int y1 = op2(IR_OP_MATMUL, in_("a", SRT_F32, "3"), in_("b", SRT_F32, "3"), &n);
    int y2 = act("y2"), y3 = act("y3"), y4 = act("y4");
    int a2 = in_("a2", SRT_F32, "3"), b2 = in_("b2", SRT_F32, "3,4");
    int a3 = in_("a3", SRT_F32, "2,3"), b3 = in_("b3", SRT_F32, "3");
    int a4 = in_("a4", SRT_F64, "N,1,2,3"), b4 = in_("b4", SRT_F64, "5,3,4");
    int i2[2] = {a2, b2}, i3[2] = {a3, b3}, i4[2] = {a4, b4};
    ir_node_new(G, IR_OP_MATMUL, "m2", 2, i2, 1, &y2);
    ir_node_new(G, IR_OP_MATMUL, "m3", 2, i3, 1, &y3);
    ir_node_new(G, IR_OP_MATMUL, "m4", 2, i4, 1, &y4);
    OK();
    ck_assert_str_eq(ty(y1), "f32[]");
    ck_assert_str_eq(ty(y2), "f32[4]");
    ck_assert_str_eq(ty(y3), "f32[2]");
    ck_assert_str_eq(ty(y4), "f64[N,5,2,4]");
}
END_TEST

/* MatMul K mismatch. */
START_TEST(matmul_k_mismatch)
{
    IrNode *n;
    op2(IR_OP_MATMUL, in_("a", SRT_F32, "N,3"), in_("b", SRT_F32, "4,5"), &n);
    ERR("node \"op\" (MatMul): inputs[1] has type f32[4,5]; MatMul needs its K (4) to match inputs[0]'s K (3)");
}
END_TEST

/* MatMul batch dims that do not broadcast. */
START_TEST(matmul_batch_mismatch)
{
    IrNode *n;
    op2(IR_OP_MATMUL, in_("a", SRT_F32, "2,2,3"), in_("b", SRT_F32, "3,3,4"), &n);
    ERR("node \"op\" (MatMul): inputs[0] (f32[2,2,3]) and inputs[1] (f32[3,3,4]) have batch dims [2] and [3] that "
        "do not broadcast");
}
END_TEST

/* MatMul rejects a scalar. */
START_TEST(matmul_scalar)
{
    IrNode *n;
    op2(IR_OP_MATMUL, in_("a", SRT_F32, ""), in_("b", SRT_F32, "3"), &n);
    ERR("node \"op\" (MatMul): inputs[0] has type f32[]; MatMul needs rank 1 or more");
}
END_TEST

/* Batched MatMul with a broadcast operand. */
START_TEST(matmul_kernel_batched)
{
    IrNode *n;
    int a = in_("a", SRT_F32, "2,1,2");
    int b = in_("b", SRT_F32, "2,1");
    int y = op2(IR_OP_MATMUL, a, b, &n);
    OK();
    double da[] = {1, 2, 3, 4}, db[] = {10, 1};
    const double *data[] = {da, db};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {12, 34};
    expect_vals(&v[y], 2, want);
    free_vals(v);
}
END_TEST

/* Integer MatMul of 1-D vectors is their dot product. */
START_TEST(matmul_kernel_dot_i32)
{
    IrNode *n;
    int a = in_("a", SRT_I32, "3");
    int b = in_("b", SRT_I32, "3");
    int y = op2(IR_OP_MATMUL, a, b, &n);
    OK();
    double da[] = {1, -2, 3}, db[] = {4, 5, 6};
    const double *data[] = {da, db};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(ir_tensor_geti(&v[y], 0), 12);
    free_vals(v);
}
END_TEST

/* ==== Conv ================================================================================ */

static IrNode *conv(const char *x, const char *w, int *y)
{
    int xi = in_("x", SRT_F32, x);
    int wi = in_("w", SRT_F32, w);
    int ins[2] = {xi, wi};
    *y = act("y");
    return node(IR_OP_CONV, 2, ins, 1, y);
}

/* Conv output sizes: pads, strides, SAME_UPPER, dilations. */
START_TEST(conv_shapes)
{
    int y;
    int64_t p1[4] = {1, 1, 1, 1};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "pads", 4, p1);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,4,8,8]");

    int64_t s2[2] = {2, 2};
    ir_node_set_ints(G, n, "strides", 2, s2);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,4,4,4]");

    n->nattrs = 0;
    ir_node_set_ints(G, n, "strides", 2, s2);
    ir_node_set_string(G, n, "auto_pad", "SAME_UPPER");
    OK();
    ck_assert_str_eq(ty(y), "f32[N,4,4,4]");

    n->nattrs = 0;
    ir_node_set_ints(G, n, "dilations", 2, s2);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,4,4,4]");
}
END_TEST

/* A spatial dim that is a multiple of N with a dividing stride stays symbolic. */
START_TEST(conv_symbolic_spatial)
{
    int y;
    int64_t p[2] = {1, 1}, s[1] = {2};
    IrNode *n = conv("1,2,2N", "4,2,3", &y);
    ir_node_set_ints(G, n, "pads", 2, p);
    ir_node_set_ints(G, n, "strides", 1, s);
    OK();
    ck_assert_str_eq(ty(y), "f32[1,4,N]");
}
END_TEST

/* A stride that does not divide N's coefficient is not representable. */
START_TEST(conv_symbolic_stride)
{
    int y;
    int64_t s[1] = {2};
    IrNode *n = conv("1,2,N", "4,2,1", &y);
    ir_node_set_ints(G, n, "strides", 1, s);
    ERR("node \"op\" (Conv): spatial axis 0 of inputs[0] (f32[1,2,N]) has size N; with stride 2 the output size is "
        "not of the form a*N+b");
}
END_TEST

/* A kernel larger than the padded input. */
START_TEST(conv_kernel_too_large)
{
    int y;
    conv("1,2,2,2", "3,2,3,3", &y);
    ERR("node \"op\" (Conv): along spatial axis 0 the padded input (2 + pads 0+0) is smaller than the kernel extent "
        "3 (kernel 3, dilation 1)");
}
END_TEST

/* group must divide the channels. */
START_TEST(conv_group_divides)
{
    int y;
    IrNode *n = conv("N,4,8,8", "3,1,3,3", &y);
    ir_node_set_int(G, n, "group", 3);
    ERR("node \"op\" (Conv): attribute group = 3 does not divide the 4 channels of inputs[0] (f32[N,4,8,8])");
}
END_TEST

/* W's dim 1 is C / group. */
START_TEST(conv_weight_channels)
{
    int y;
    conv("N,4,8,8", "8,3,3,3", &y);
    ERR("node \"op\" (Conv): inputs[1] has type f32[8,3,3,3]; Conv with group=1 needs its dim 1 to be 4 (the 4 "
        "channels of inputs[0] divided by group)");
}
END_TEST

/* The output channels must split into groups. */
START_TEST(conv_out_channels_group)
{
    int y;
    IrNode *n = conv("N,4,8,8", "3,2,3,3", &y);
    ir_node_set_int(G, n, "group", 2);
    ERR("node \"op\" (Conv): inputs[1] has type f32[3,2,3,3]; Conv needs its dim 0 (3 output channels) to be a "
        "multiple of group (2)");
}
END_TEST

/* group 0 is rejected. */
START_TEST(conv_group_zero)
{
    int y;
    IrNode *n = conv("N,4,8,8", "4,4,3,3", &y);
    ir_node_set_int(G, n, "group", 0);
    ERR("node \"op\" (Conv): attribute group = 0; it must be >= 1");
}
END_TEST

/* The bias has one entry per output channel. */
START_TEST(conv_bias_shape)
{
    int y = act("y");
    int ins[3] = {in_("x", SRT_F32, "N,3,8,8"), in_("w", SRT_F32, "4,3,3,3"), in_("b", SRT_F32, "3")};
    node(IR_OP_CONV, 3, ins, 1, &y);
    ERR("node \"op\" (Conv): inputs[2] has type f32[3]; Conv needs a bias of shape [4] (one per output channel)");
}
END_TEST

/* strides needs one value per spatial axis. */
START_TEST(conv_strides_count)
{
    int y;
    int64_t s[1] = {2};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "strides", 1, s);
    ERR("node \"op\" (Conv): attribute strides has 1 value; it needs 2 (one per spatial axis of inputs[0] "
        "(f32[N,3,8,8]))");
}
END_TEST

/* Negative strides are rejected. */
START_TEST(conv_strides_negative)
{
    int y;
    int64_t s[2] = {1, -1};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "strides", 2, s);
    ERR("node \"op\" (Conv): attribute strides[1] = -1; it must be >= 1");
}
END_TEST

/* Absurdly large strides are rejected before any arithmetic. */
START_TEST(conv_strides_huge)
{
    int y;
    int64_t s[2] = {1, (int64_t)1 << 32};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "strides", 2, s);
    ERR("node \"op\" (Conv): attribute strides[1] = 4294967296 is too large (at most 2147483648)");
}
END_TEST

/* Negative pads are rejected. */
START_TEST(conv_pads_negative)
{
    int y;
    int64_t p[4] = {-1, 0, 0, 0};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "pads", 4, p);
    ERR("node \"op\" (Conv): attribute pads[0] = -1; it must be >= 0");
}
END_TEST

/* pads and auto_pad together are rejected. */
START_TEST(conv_pads_and_auto_pad)
{
    int y;
    int64_t p[4] = {1, 1, 1, 1};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "pads", 4, p);
    ir_node_set_string(G, n, "auto_pad", "SAME_UPPER");
    ERR("node \"op\" (Conv): attribute pads cannot be used together with auto_pad = \"SAME_UPPER\"; remove one of "
        "them");
}
END_TEST

/* An unknown auto_pad value. */
START_TEST(conv_auto_pad_unknown)
{
    int y;
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_string(G, n, "auto_pad", "SAME");
    ERR("node \"op\" (Conv): attribute auto_pad = \"SAME\"; it must be NOTSET, SAME_UPPER, SAME_LOWER or VALID");
}
END_TEST

/* kernel_shape must agree with W. */
START_TEST(conv_kernel_shape_mismatch)
{
    int y;
    int64_t k[2] = {3, 5};
    IrNode *n = conv("N,3,8,8", "4,3,3,3", &y);
    ir_node_set_ints(G, n, "kernel_shape", 2, k);
    ERR("node \"op\" (Conv): attribute kernel_shape[1] = 5 does not match the kernel size 3 of inputs[1]");
}
END_TEST

/* Conv needs a spatial axis. */
START_TEST(conv_rank)
{
    int y;
    conv("N,3", "4,3", &y);
    ERR("node \"op\" (Conv): inputs[0] has type f32[N,3]; Conv needs rank 3 or more (N, C and at least one spatial "
        "axis)");
}
END_TEST

/* W has the rank of X. */
START_TEST(conv_weight_rank)
{
    int y;
    conv("N,3,8,8", "4,3,3", &y);
    ERR("node \"op\" (Conv): inputs[1] has type f32[4,3,3]; Conv needs weights of rank 4 like inputs[0] "
        "(f32[N,3,8,8])");
}
END_TEST

/* Conv is float-only. */
START_TEST(conv_int)
{
    int y = act("y");
    int ins[2] = {in_("x", SRT_I64, "1,1,3"), in_("w", SRT_I64, "1,1,1")};
    node(IR_OP_CONV, 2, ins, 1, &y);
    ERR("node \"op\" (Conv): inputs[0] has type i64[1,1,3]; Conv needs float32 or float64");
}
END_TEST

/* Channels may not depend on N. */
START_TEST(conv_symbolic_channels)
{
    int y;
    conv("1,N,8", "2,1,3", &y);
    ERR("node \"op\" (Conv): inputs[0] has type f32[1,N,8]; Conv needs a constant channel dim (dim 1)");
}
END_TEST

/* Weights may not depend on N. */
START_TEST(conv_symbolic_weights)
{
    int y;
    conv("1,3,8", "N,3,3", &y);
    ERR("node \"op\" (Conv): inputs[1] has type f32[N,3,3]; Conv needs its dims to be constants (not N)");
}
END_TEST

/* 1-D Conv with pads: a difference filter. */
START_TEST(conv_kernel_1d)
{
    int y;
    int64_t p[2] = {1, 1};
    IrNode *n = conv("1,1,5", "1,1,3", &y);
    ir_node_set_ints(G, n, "pads", 2, p);
    OK();
    double dx[] = {1, 2, 3, 4, 5}, dw[] = {1, 0, -1};
    const double *data[] = {dx, dw};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {-2, -2, -2, -2, 4};
    expect_vals(&v[y], 5, want);
    free_vals(v);
}
END_TEST

/* Depthwise 2-D Conv with bias and SAME_LOWER padding (extra pad at the beginning). */
START_TEST(conv_kernel_depthwise_same_lower)
{
    int y = act("y");
    int ins[3];
    ins[0] = in_("x", SRT_F32, "1,2,1,3");
    ins[1] = in_("w", SRT_F32, "2,1,1,2");
    ins[2] = in_("b", SRT_F32, "2");
    IrNode *n = node(IR_OP_CONV, 3, ins, 1, &y);
    ir_node_set_int(G, n, "group", 2);
    ir_node_set_string(G, n, "auto_pad", "SAME_LOWER");
    OK();
    ck_assert_str_eq(ty(y), "f32[1,2,1,3]");
    double dx[] = {1, 2, 3, 10, 20, 30}, dw[] = {1, 1, 1, -1}, db[] = {0, 100};
    const double *data[] = {dx, dw, db};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    /* channel 0: [0+1, 1+2, 2+3]; channel 1: 100 + [0-10, 10-20, 20-30] */
    double want[] = {1, 3, 5, 90, 90, 90};
    expect_vals(&v[y], 6, want);
    free_vals(v);
}
END_TEST

/* ==== ConvTranspose ========================================================================= */

static IrNode *convt(const char *x, const char *w, int *y)
{
    int xi = in_("x", SRT_F32, x);
    int wi = in_("w", SRT_F32, w);
    int ins[2] = {xi, wi};
    *y = act("y");
    return node(IR_OP_CONVT, 2, ins, 1, y);
}

/* ConvTranspose output sizes. */
START_TEST(convt_shapes)
{
    int y;
    IrNode *n = convt("N,3,4,4", "3,2,3,3", &y);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,2,6,6]");

    int64_t s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1}, op[2] = {1, 1}, os[2] = {9, 9};
    ir_node_set_ints(G, n, "strides", 2, s2);
    ir_node_set_ints(G, n, "pads", 4, p1);
    ir_node_set_ints(G, n, "output_padding", 2, op);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,2,8,8]");

    ir_node_set_ints(G, n, "output_shape", 2, os);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,2,9,9]");

    n->nattrs = 0;
    ir_node_set_ints(G, n, "strides", 2, s2);
    ir_node_set_string(G, n, "auto_pad", "SAME_UPPER");
    OK();
    ck_assert_str_eq(ty(y), "f32[N,2,8,8]");
}
END_TEST

/* Grouped ConvTranspose has W.shape[1] * group output channels. */
START_TEST(convt_group)
{
    int y;
    IrNode *n = convt("N,4,3", "4,3,2", &y);
    ir_node_set_int(G, n, "group", 2);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,6,4]");
}
END_TEST

/* W's dim 0 is the input channels. */
START_TEST(convt_weight_channels)
{
    int y;
    convt("N,3,4,4", "4,2,3,3", &y);
    ERR("node \"op\" (ConvTranspose): inputs[1] has type f32[4,2,3,3]; ConvTranspose needs its dim 0 to be the 3 "
        "channels of inputs[0] (f32[N,3,4,4])");
}
END_TEST

/* output_padding must be smaller than stride or dilation. */
START_TEST(convt_output_padding)
{
    int y;
    int64_t s[2] = {2, 2}, op[2] = {2, 0};
    IrNode *n = convt("N,3,4,4", "3,2,3,3", &y);
    ir_node_set_ints(G, n, "strides", 2, s);
    ir_node_set_ints(G, n, "output_padding", 2, op);
    ERR("node \"op\" (ConvTranspose): attribute output_padding[0] = 2; it must be smaller than the stride (2) or the "
        "dilation (1)");
}
END_TEST

/* Pads that leave no output. */
START_TEST(convt_pads_too_large)
{
    int y;
    int64_t p[4] = {1, 1, 1, 1};
    IrNode *n = convt("1,1,2,2", "1,1,1,1", &y);
    ir_node_set_ints(G, n, "pads", 4, p);
    ERR("node \"op\" (ConvTranspose): along spatial axis 0 the output size 0 is less than 1 (pads 1+1 are too large "
        "for input size 2)");
}
END_TEST

/* 1-D ConvTranspose with stride 2 spreads each input over the kernel. */
START_TEST(convt_kernel_stride)
{
    int y;
    int64_t s[1] = {2};
    IrNode *n = convt("1,1,2", "1,1,3", &y);
    ir_node_set_ints(G, n, "strides", 1, s);
    OK();
    ck_assert_str_eq(ty(y), "f32[1,1,5]");
    double dx[] = {1, 2}, dw[] = {1, 10, 100};
    const double *data[] = {dx, dw};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {1, 10, 102, 20, 200};
    expect_vals(&v[y], 5, want);
    free_vals(v);
}
END_TEST

/* output_shape with NOTSET puts the odd padding unit at the beginning (ONNX formula). */
START_TEST(convt_kernel_output_shape)
{
    int y;
    int64_t s[1] = {2}, os[1] = {4};
    IrNode *n = convt("1,1,2", "1,1,3", &y);
    ir_node_set_ints(G, n, "strides", 1, s);
    ir_node_set_ints(G, n, "output_shape", 1, os);
    OK();
    double dx[] = {1, 2}, dw[] = {1, 10, 100};
    const double *data[] = {dx, dw};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    /* full output [1,10,102,20,200], total padding 1 -> begin 1, end 0 */
    double want[] = {10, 102, 20, 200};
    expect_vals(&v[y], 4, want);
    free_vals(v);
}
END_TEST

/* ==== pools ================================================================================= */

static IrNode *pool(IrOp op, const char *x, int nk, const int64_t *k, int *y)
{
    *y = act("y");
    int xi = in_("x", SRT_F32, x);
    IrNode *n = node(op, 1, &xi, 1, y);
    ir_node_set_ints(G, n, "kernel_shape", nk, k);
    return n;
}

/* MaxPool sizes with floor and ceil modes; Indices are int64. */
START_TEST(maxpool_shapes)
{
    int64_t k[2] = {2, 2};
    int y = act("y"), ind = act("ind");
    int xi = in_("x", SRT_F32, "N,3,7,7");
    int outs[2] = {y, ind};
    IrNode *n = node(IR_OP_MAXPOOL, 1, &xi, 2, outs);
    ir_node_set_ints(G, n, "kernel_shape", 2, k);
    ir_node_set_ints(G, n, "strides", 2, k);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,3,3,3]");
    ck_assert_str_eq(ty(ind), "i64[N,3,3,3]");
    ir_node_set_int(G, n, "ceil_mode", 1);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,3,4,4]");
}
END_TEST

/* ceil_mode drops a last window that would start in the end padding. */
START_TEST(maxpool_ceil_drop)
{
    int64_t k[1] = {2}, p[2] = {1, 1};
    int y;
    IrNode *n = pool(IR_OP_MAXPOOL, "1,1,5", 1, k, &y);
    ir_node_set_ints(G, n, "strides", 1, k);
    ir_node_set_ints(G, n, "pads", 2, p);
    ir_node_set_int(G, n, "ceil_mode", 1);
    OK();
    ck_assert_str_eq(ty(y), "f32[1,1,3]");
}
END_TEST

/* SAME_LOWER pools give ceil(in / stride). */
START_TEST(maxpool_same_lower)
{
    int64_t k[2] = {3, 3}, s[2] = {2, 2};
    int y;
    IrNode *n = pool(IR_OP_MAXPOOL, "1,1,5,6", 2, k, &y);
    ir_node_set_ints(G, n, "strides", 2, s);
    ir_node_set_string(G, n, "auto_pad", "SAME_LOWER");
    OK();
    ck_assert_str_eq(ty(y), "f32[1,1,3,3]");
}
END_TEST

/* kernel_shape is required. */
START_TEST(maxpool_no_kernel)
{
    int y = act("y");
    int xi = in_("x", SRT_F32, "1,1,4,4");
    node(IR_OP_MAXPOOL, 1, &xi, 1, &y);
    ERR("node \"op\" (MaxPool): attribute kernel_shape is required by MaxPool");
}
END_TEST

/* kernel_shape entries must be positive. */
START_TEST(maxpool_kernel_zero)
{
    int64_t k[2] = {0, 2};
    int y;
    pool(IR_OP_MAXPOOL, "1,1,4,4", 2, k, &y);
    ERR("node \"op\" (MaxPool): attribute kernel_shape[0] = 0; it must be >= 1");
}
END_TEST

/* kernel_shape needs one value per spatial axis. */
START_TEST(maxpool_kernel_count)
{
    int64_t k[1] = {2};
    int y;
    pool(IR_OP_MAXPOOL, "N,3,7,7", 1, k, &y);
    ERR("node \"op\" (MaxPool): attribute kernel_shape has 1 value; it needs 2 (one per spatial axis of inputs[0] "
        "(f32[N,3,7,7]))");
}
END_TEST

/* storage_order is 0 or 1. */
START_TEST(maxpool_storage_order)
{
    int64_t k[2] = {2, 2};
    int y;
    IrNode *n = pool(IR_OP_MAXPOOL, "1,1,4,4", 2, k, &y);
    ir_node_set_int(G, n, "storage_order", 2);
    ERR("node \"op\" (MaxPool): attribute storage_order = 2; it must be 0 or 1");
}
END_TEST

/* MaxPool takes 8-bit ints but not int64. */
START_TEST(maxpool_int64)
{
    int64_t k[2] = {2, 2};
    int y = act("y");
    int xi = in_("x", SRT_I64, "1,1,4,4");
    IrNode *n = node(IR_OP_MAXPOOL, 1, &xi, 1, &y);
    ir_node_set_ints(G, n, "kernel_shape", 2, k);
    ERR("node \"op\" (MaxPool): inputs[0] has type i64[1,1,4,4]; MaxPool needs float32, float64, int8 or uint8");
}
END_TEST

/* Indices count over the whole tensor (batch and channel offsets), row- or column-major. */
START_TEST(maxpool_kernel_indices)
{
    int64_t k[2] = {2, 2};
    int y = act("y"), ind = act("ind");
    int xi = in_("x", SRT_F32, "N,1,2,2");
    int outs[2] = {y, ind};
    IrNode *n = node(IR_OP_MAXPOOL, 1, &xi, 2, outs);
    ir_node_set_ints(G, n, "kernel_shape", 2, k);
    ir_node_set_int(G, n, "storage_order", 1);
    OK();
    /* plane 0: max 9 at (0,1) -> col-major 0 + 1*2 = 2; plane 1: max 8 at (1,0) -> 4 + 1 = 5 */
    double dx[] = {1, 9, 3, 4, 5, 6, 8, 7};
    const double *data[] = {dx};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {9, 8}, wanti[] = {2, 5};
    expect_vals(&v[y], 2, want);
    expect_vals(&v[ind], 2, wanti);
    free_vals(v);
}
END_TEST

/* A NaN in a window wins over numbers. */
START_TEST(maxpool_kernel_nan)
{
    int64_t k[1] = {3};
    int y;
    pool(IR_OP_MAXPOOL, "1,1,3", 1, k, &y);
    OK();
    double dx[] = {1, NAN, 3};
    const double *data[] = {dx};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    ck_assert(isnan(ir_tensor_getf(&v[y], 0)));
    free_vals(v);
}
END_TEST

/* count_include_pad chooses the divisor at the edges. */
START_TEST(avgpool_kernel_count_include_pad)
{
    int64_t k[1] = {2}, p[2] = {1, 1};
    int y;
    IrNode *n = pool(IR_OP_AVGPOOL, "1,1,2", 1, k, &y);
    ir_node_set_ints(G, n, "pads", 2, p);
    OK();
    double dx[] = {2, 4};
    const double *data[] = {dx};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double excl[] = {2, 3, 4};
    expect_vals(&v[y], 3, excl);
    free_vals(v);
    ir_node_set_int(G, n, "count_include_pad", 1);
    OK();
    v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double incl[] = {1, 3, 2};
    expect_vals(&v[y], 3, incl);
    free_vals(v);
}
END_TEST

/* A ceil_mode window's overhang past the padded input is not counted even with count_include_pad. */
START_TEST(avgpool_kernel_ceil_overhang)
{
    int64_t k[1] = {2};
    int y;
    IrNode *n = pool(IR_OP_AVGPOOL, "1,1,3", 1, k, &y);
    ir_node_set_ints(G, n, "strides", 1, k);
    ir_node_set_int(G, n, "ceil_mode", 1);
    ir_node_set_int(G, n, "count_include_pad", 1);
    OK();
    double dx[] = {1, 3, 5};
    const double *data[] = {dx};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {2, 5};
    expect_vals(&v[y], 2, want);
    free_vals(v);
}
END_TEST

/* count_include_pad is 0 or 1; AveragePool is float-only. */
START_TEST(avgpool_errors)
{
    int64_t k[2] = {2, 2};
    int y;
    IrNode *n = pool(IR_OP_AVGPOOL, "1,1,4,4", 2, k, &y);
    ir_node_set_int(G, n, "count_include_pad", 3);
    ERR("node \"op\" (AveragePool): attribute count_include_pad = 3; it must be 0 or 1");
}
END_TEST

/* AveragePool rejects int8. */
START_TEST(avgpool_int8)
{
    int64_t k[2] = {2, 2};
    int y = act("y");
    int xi = in_("x", SRT_I8, "1,1,4,4");
    IrNode *n = node(IR_OP_AVGPOOL, 1, &xi, 1, &y);
    ir_node_set_ints(G, n, "kernel_shape", 2, k);
    ERR("node \"op\" (AveragePool): inputs[0] has type i8[1,1,4,4]; AveragePool needs float32 or float64");
}
END_TEST

/* GlobalAveragePool keeps N and C and sets the spatial dims to 1. */
START_TEST(gap_shape_and_kernel)
{
    int y = act("y");
    int xi = in_("x", SRT_F32, "N,2,2");
    node(IR_OP_GAP, 1, &xi, 1, &y);
    OK();
    ck_assert_str_eq(ty(y), "f32[N,2,1]");
    double dx[] = {1, 2, 3, 5, 10, 20, 30, 50};
    const double *data[] = {dx};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {1.5, 4, 15, 40};
    expect_vals(&v[y], 4, want);
    free_vals(v);
}
END_TEST

/* GlobalAveragePool needs N and C. */
START_TEST(gap_rank)
{
    int y = act("y");
    int xi = in_("x", SRT_F32, "3");
    node(IR_OP_GAP, 1, &xi, 1, &y);
    ERR("node \"op\" (GlobalAveragePool): inputs[0] has type f32[3]; GlobalAveragePool needs rank 2 or more (N and C)");
}
END_TEST

/* ==== BatchNormalization ======================================================================= */

static IrNode *bn(const char *x, const char *c, IrDtype t1, int nout, int *outs)
{
    int ins[5];
    ins[0] = in_("x", SRT_F32, x);
    ins[1] = in_("scale", t1, c);
    ins[2] = in_("b", SRT_F32, c);
    ins[3] = in_("mean", SRT_F32, c);
    ins[4] = in_("var", SRT_F32, c);
    for (int i = 0; i < nout; i++)
        outs[i] = act(i == 0 ? "y" : i == 1 ? "rm" : "rv");
    return node(IR_OP_BATCHNORM, 5, ins, nout, outs);
}

/* Per-channel inputs have C entries. */
START_TEST(bn_channel_shape)
{
    int outs[1];
    bn("N,3,4,4", "4", SRT_F32, 1, outs);
    ERR("node \"op\" (BatchNormalization): inputs[1] (scale) has type f32[4]; BatchNormalization needs shape [3] (the "
        "channels of inputs[0] f32[N,3,4,4])");
}
END_TEST

/* scale and B share a dtype. */
START_TEST(bn_t1_dtype)
{
    int outs[1];
    bn("N,3,4,4", "3", SRT_F64, 1, outs);
    ERR("node \"op\" (BatchNormalization): inputs[2] has type f32[3]; BatchNormalization needs the dtype of inputs[1] "
        "(f64[3])");
}
END_TEST

/* Running statistics are outputs only in training mode. */
START_TEST(bn_outputs_need_training)
{
    int outs[3];
    bn("N,3", "3", SRT_F32, 3, outs);
    ERR("node \"op\" (BatchNormalization): outputs[1] (running_mean) is only produced with training_mode=1");
}
END_TEST

/* epsilon must not be negative. */
START_TEST(bn_epsilon)
{
    int outs[1];
    IrNode *n = bn("N,3", "3", SRT_F32, 1, outs);
    ir_node_set_float(G, n, "epsilon", -1);
    ERR("node \"op\" (BatchNormalization): attribute epsilon = -1; it must be a finite number >= 0");
}
END_TEST

/* Inference form: running statistics normalize. */
START_TEST(bn_kernel_inference)
{
    int outs[1];
    IrNode *n = bn("N,2", "2", SRT_F32, 1, outs);
    ir_node_set_float(G, n, "epsilon", 0);
    OK();
    double dx[] = {1, 2, 3, 4}, ds[] = {2, 1}, db[] = {0, 10}, dm[] = {1, 2}, dv[] = {4, 1};
    const double *data[] = {dx, ds, db, dm, dv};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {0, 10, 2, 12};
    expect_vals(&v[outs[0]], 4, want);
    free_vals(v);
}
END_TEST

/* Training form on x = [1, 3] (mean 2, population variance 1, unbiased 2), running mean 10 and
 * var 5, momentum 0.75: normalization with the batch statistics, momentum-blended running stats;
 * unbiased=1 (what autodiff sets, as PyTorch) puts the unbiased variance in the running one. */
static void bn_training_case(int unbiased, double want_var)
{
    int outs[3];
    IrNode *n = bn("N,1", "1", SRT_F32, 3, outs);
    ir_node_set_int(G, n, "training_mode", 1);
    if (unbiased)
        ir_node_set_int(G, n, "unbiased", 1);
    ir_node_set_float(G, n, "epsilon", 0);
    ir_node_set_float(G, n, "momentum", 0.75);
    OK();
    ck_assert_str_eq(ty(outs[1]), "f32[1]");
    double dx[] = {1, 3}, ds[] = {1}, db[] = {0}, dm[] = {10}, dv[] = {5};
    const double *data[] = {dx, ds, db, dm, dv};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {-1, 1}, wm[] = {8}, wv[] = {want_var};
    expect_vals(&v[outs[0]], 2, want);
    expect_vals(&v[outs[1]], 1, wm);
    expect_vals(&v[outs[2]], 1, wv);
    free_vals(v);
}

START_TEST(bn_kernel_training)
{
    bn_training_case(0, 4);      /* 0.75*5 + 0.25*1 (ONNX) */
}
END_TEST

START_TEST(bn_kernel_training_unbiased)
{
    bn_training_case(1, 4.25);   /* 0.75*5 + 0.25*2 */
}
END_TEST

/* ==== LayerNormalization ======================================================================== */

static IrNode *ln(IrDtype t, const char *x, const char *s, int nout, int *outs)
{
    int ins[2];
    ins[0] = in_("x", t, x);
    ins[1] = in_("scale", t, s);
    for (int i = 0; i < nout; i++)
        outs[i] = act(i == 0 ? "y" : i == 1 ? "mean" : "inv");
    return node(IR_OP_LAYERNORM, 2, ins, nout, outs);
}

/* Mean and InvStdDev keep the leading dims; their dtype follows stash_type. */
START_TEST(ln_shapes)
{
    int outs[3];
    IrNode *n = ln(SRT_F64, "N,4,6", "4,6", 3, outs);
    ir_node_set_int(G, n, "axis", 1);
    OK();
    ck_assert_str_eq(ty(outs[0]), "f64[N,4,6]");
    ck_assert_str_eq(ty(outs[1]), "f32[N,1,1]");
    ck_assert_str_eq(ty(outs[2]), "f32[N,1,1]");
    ir_node_set_int(G, n, "stash_type", 11);
    OK();
    ck_assert_str_eq(ty(outs[1]), "f64[N,1,1]");
}
END_TEST

/* axis out of range. */
START_TEST(ln_axis)
{
    int outs[1];
    IrNode *n = ln(SRT_F32, "N,4,6", "6", 1, outs);
    ir_node_set_int(G, n, "axis", 3);
    ERR("node \"op\" (LayerNormalization): attribute axis = 3 is out of range for inputs[0] (f32[N,4,6]); it must be "
        "in [-3, 2]");
}
END_TEST

/* Scale must broadcast to X. */
START_TEST(ln_scale_shape)
{
    int outs[1];
    ln(SRT_F32, "N,4,6", "5", 1, outs);
    ERR("node \"op\" (LayerNormalization): inputs[1] has type f32[5]; LayerNormalization needs it to broadcast to "
        "inputs[0] (f32[N,4,6])");
}
END_TEST

/* stash_type must name float32 or float64. */
START_TEST(ln_stash_type)
{
    int outs[1];
    IrNode *n = ln(SRT_F32, "N,6", "6", 1, outs);
    ir_node_set_int(G, n, "stash_type", 2);
    ERR("node \"op\" (LayerNormalization): attribute stash_type = 2; it must be 1 (float32) or 11 (float64)");
}
END_TEST

/* LayerNorm over the last axis with Mean and InvStdDev. */
START_TEST(ln_kernel)
{
    int outs[3];
    IrNode *n = ln(SRT_F32, "N,2", "2", 3, outs);
    ir_node_set_float(G, n, "epsilon", 0);
    OK();
    double dx[] = {1, 3, 10, 10}, ds[] = {1, 2};
    const double *data[] = {dx, ds};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {-1, 2, NAN, NAN}, wm[] = {2, 10}, wi[] = {1, INFINITY};
    expect_vals(&v[outs[0]], 4, want);
    expect_vals(&v[outs[1]], 2, wm);
    ck_assert(ir_tensor_getf(&v[outs[2]], 0) == wi[0] && isinf(ir_tensor_getf(&v[outs[2]], 1)));
    free_vals(v);
}
END_TEST

/* ==== Softmax, LogSoftmax ======================================================================= */

/* Softmax axis range and scalar input. */
START_TEST(softmax_errors)
{
    int y = act("y"), y2 = act("y2");
    int x = in_("x", SRT_F32, "N,5"), s = in_("s", SRT_F32, "");
    IrNode *n = node(IR_OP_SOFTMAX, 1, &x, 1, &y);
    ir_node_set_int(G, n, "axis", -3);
    ERR("node \"op\" (Softmax): attribute axis = -3 is out of range for inputs[0] (f32[N,5]); it must be in [-2, 1]");
    ir_diag_free(&D);
    ir_node_set_int(G, n, "axis", 0);
    ir_node_new(G, IR_OP_LOGSOFTMAX, "op2", 1, &s, 1, &y2);
    ERR("node \"op2\" (LogSoftmax): inputs[0] has type f32[]; LogSoftmax needs rank 1 or more");
}
END_TEST

/* Softmax and LogSoftmax stay finite on large logits. */
START_TEST(softmax_kernel_stable)
{
    int x = in_("x", SRT_F32, "2"), y = act("y"), y2 = act("y2");
    node(IR_OP_SOFTMAX, 1, &x, 1, &y);
    ir_node_new(G, IR_OP_LOGSOFTMAX, "op2", 1, &x, 1, &y2);
    OK();
    double dx[] = {1000, 1000};
    const double *data[] = {dx};
    IrTensor *v = run(1, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {0.5, 0.5}, wl[] = {-log(2.0), -log(2.0)};
    expect_vals(&v[y], 2, want);
    expect_vals(&v[y2], 2, wl);
    free_vals(v);
}
END_TEST

/* ==== Dropout ================================================================================== */

/* ratio known at compile time must be in [0, 1). */
START_TEST(dropout_ratio)
{
    float r = 1.5f;
    int ins[2] = {in_("x", SRT_F32, "N,4"), cst("r", SRT_F32, "", &r)}, y = act("y");
    node(IR_OP_DROPOUT, 2, ins, 1, &y);
    ERR("node \"op\" (Dropout): inputs[1] (ratio) is 1.5; it must be in [0, 1)");
}
END_TEST

/* A constant true training_mode is refused (only inference is implemented). */
START_TEST(dropout_training_const)
{
    uint8_t t = 1;
    int ins[3] = {in_("x", SRT_F32, "N,4"), -1, cst("t", SRT_BOOL, "", &t)}, y = act("y");
    node(IR_OP_DROPOUT, 3, ins, 1, &y);
    ERR("node \"op\" (Dropout): inputs[2] (training_mode) is true; training-mode Dropout (random masks) is not "
        "supported yet, only inference (set training_mode to false or drop the input)");
}
END_TEST

/* training_mode must be a bool scalar. */
START_TEST(dropout_training_type)
{
    int ins[3] = {in_("x", SRT_F32, "N,4"), -1, in_("t", SRT_F32, "")}, y = act("y");
    node(IR_OP_DROPOUT, 3, ins, 1, &y);
    ERR("node \"op\" (Dropout): inputs[2] (training_mode) has type f32[]; Dropout needs a bool scalar");
}
END_TEST

/* Inference Dropout copies and reports an all-true mask; a runtime-true training_mode fails. */
START_TEST(dropout_kernel)
{
    int ins[3], outs[2];
    ins[0] = in_("x", SRT_F32, "N,2");
    ins[1] = -1;
    ins[2] = in_("t", SRT_BOOL, "");
    outs[0] = act("y");
    outs[1] = act("m");
    node(IR_OP_DROPOUT, 3, ins, 2, outs);
    OK();
    ck_assert_str_eq(ty(outs[1]), "bool[N,2]");
    double dx[] = {1.5, -2, 3, 4}, dt[] = {0};
    const double *data[] = {dx, dt};
    IrTensor *v = run(2, data);
    ck_assert_ptr_nonnull(v);
    double ones[] = {1, 1, 1, 1};
    expect_vals(&v[outs[0]], 4, dx);
    expect_vals(&v[outs[1]], 4, ones);
    free_vals(v);
    dt[0] = 1;
    ck_assert_ptr_null(run(2, data));
    ck_assert_str_eq(ir_diag_first(&D), "node \"op\" (Dropout): inputs[2] (training_mode) is true; training-mode "
                                        "Dropout (random masks) is not supported yet, only inference");
}
END_TEST

/* ==== losses =================================================================================== */

/* Labels have the scores' shape without the class dim. */
START_TEST(sce_label_shape)
{
    IrNode *n;
    op2(IR_OP_SCELOSS, in_("x", SRT_F32, "N,5"), in_("l", SRT_I64, "N,3"), &n);
    ERR("node \"op\" (SoftmaxCrossEntropyLoss): inputs[1] (labels) has type i64[N,3]; SoftmaxCrossEntropyLoss needs "
        "shape [N] (inputs[0] f32[N,5] without its class dim)");
}
END_TEST

/* Labels are integers. */
START_TEST(sce_label_dtype)
{
    IrNode *n;
    op2(IR_OP_SCELOSS, in_("x", SRT_F32, "N,5"), in_("l", SRT_F32, "N"), &n);
    ERR("node \"op\" (SoftmaxCrossEntropyLoss): inputs[1] has type f32[N]; SoftmaxCrossEntropyLoss needs int64 or "
        "int32");
}
END_TEST

/* Weights have one entry per class. */
START_TEST(sce_weights_shape)
{
    int ins[3] = {in_("x", SRT_F32, "N,5"), in_("l", SRT_I64, "N"), in_("w", SRT_F32, "4")}, y = act("y");
    node(IR_OP_SCELOSS, 3, ins, 1, &y);
    ERR("node \"op\" (SoftmaxCrossEntropyLoss): inputs[2] (weights) has type f32[4]; SoftmaxCrossEntropyLoss needs "
        "shape [5] (one per class of inputs[0] f32[N,5])");
}
END_TEST

/* reduction must be none, sum or mean. */
START_TEST(sce_reduction)
{
    IrNode *n;
    op2(IR_OP_SCELOSS, in_("x", SRT_F32, "N,5"), in_("l", SRT_I64, "N"), &n);
    ir_node_set_string(G, n, "reduction", "avg");
    ERR("node \"op\" (SoftmaxCrossEntropyLoss): attribute reduction = \"avg\"; it must be \"none\", \"sum\" or "
        "\"mean\"");
}
END_TEST

/* Output shapes: scalar loss, per-element loss with none, log_prob like the scores. */
START_TEST(sce_shapes)
{
    int ins[2] = {in_("x", SRT_F64, "N,5,3"), in_("l", SRT_I32, "N,3")}, outs[2] = {act("y"), act("lp")};
    IrNode *n = node(IR_OP_SCELOSS, 2, ins, 2, outs);
    OK();
    ck_assert_str_eq(ty(outs[0]), "f64[]");
    ck_assert_str_eq(ty(outs[1]), "f64[N,5,3]");
    ir_node_set_string(G, n, "reduction", "none");
    OK();
    ck_assert_str_eq(ty(outs[0]), "f64[N,3]");
}
END_TEST

/* Weighted mean divides by the weights of the non-ignored labels; a bad label fails at run time. */
START_TEST(sce_kernel)
{
    int ins[3];
    ins[0] = in_("x", SRT_F32, "N,2");
    ins[1] = in_("l", SRT_I64, "N");
    ins[2] = in_("w", SRT_F32, "2");
    int y = act("y");
    IrNode *n = node(IR_OP_SCELOSS, 3, ins, 1, &y);
    ir_node_set_int(G, n, "ignore_index", -1);
    OK();
    /* rows: equal logits -> loss ln 2 each */
    double dx[] = {0, 0, 0, 0, 0, 0}, dl[] = {0, 1, -1}, dw[] = {1, 3};
    const double *data[] = {dx, dl, dw};
    IrTensor *v = run(3, data);
    ck_assert_ptr_nonnull(v);
    double want[] = {log(2.0)};
    expect_vals(&v[y], 1, want);
    free_vals(v);
    dl[2] = 2;
    ck_assert_ptr_null(run(3, data));
    ck_assert_str_eq(ir_diag_first(&D), "node \"op\" (SoftmaxCrossEntropyLoss): inputs[1] (labels) holds 2 at flat "
                                        "index 2; labels must be in [0, 2) or equal ignore_index");
}
END_TEST

/* MSELoss needs identical shapes. */
START_TEST(mse_shape)
{
    IrNode *n;
    op2(IR_OP_MSELOSS, in_("a", SRT_F32, "N,3"), in_("b", SRT_F32, "N,4"), &n);
    ERR("node \"op\" (MSELoss): inputs[1] has type f32[N,4]; MSELoss needs the shape of inputs[0] (f32[N,3]), "
        "without broadcasting");
}
END_TEST

/* MSELoss reductions. */
START_TEST(mse_kernel)
{
    IrNode *n;
    int a = in_("a", SRT_F32, "N");
    int b = in_("b", SRT_F32, "N");
    int y = op2(IR_OP_MSELOSS, a, b, &n);
    OK();
    ck_assert_str_eq(ty(y), "f32[]");
    double da[] = {1, 2, 3}, db[] = {1, 4, 0};
    const double *data[] = {da, db};
    IrTensor *v = run(3, data);
    ck_assert_ptr_nonnull(v);
    double mean[] = {13.0 / 3};
    expect_vals(&v[y], 1, mean);
    free_vals(v);
    ir_node_set_string(G, n, "reduction", "none");
    OK();
    v = run(3, data);
    ck_assert_ptr_nonnull(v);
    double none[] = {0, 4, 9};
    expect_vals(&v[y], 3, none);
    free_vals(v);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_nn");
    TCase *tc = tcase_create("nn");
    tcase_add_checked_fixture(tc, setup, teardown);
    TTest const *tests[] = {
        gemm_shape_transb, gemm_k_mismatch, gemm_rank, gemm_dtype_mismatch, gemm_bool, gemm_c_broadcast,
        gemm_int_alpha, gemm_trans_flag, gemm_arity, gemm_kernel_float, gemm_kernel_int64_exact,
        matmul_shapes, matmul_k_mismatch, matmul_batch_mismatch, matmul_scalar, matmul_kernel_batched,
        matmul_kernel_dot_i32,
        conv_shapes, conv_symbolic_spatial, conv_symbolic_stride, conv_kernel_too_large, conv_group_divides,
        conv_weight_channels, conv_out_channels_group, conv_group_zero, conv_bias_shape, conv_strides_count,
        conv_strides_negative, conv_strides_huge, conv_pads_negative, conv_pads_and_auto_pad, conv_auto_pad_unknown,
        conv_kernel_shape_mismatch, conv_rank, conv_weight_rank, conv_int, conv_symbolic_channels,
        conv_symbolic_weights, conv_kernel_1d, conv_kernel_depthwise_same_lower,
        convt_shapes, convt_group, convt_weight_channels, convt_output_padding, convt_pads_too_large,
        convt_kernel_stride, convt_kernel_output_shape,
        maxpool_shapes, maxpool_ceil_drop, maxpool_same_lower, maxpool_no_kernel, maxpool_kernel_zero,
        maxpool_kernel_count, maxpool_storage_order, maxpool_int64, maxpool_kernel_indices, maxpool_kernel_nan,
        avgpool_kernel_count_include_pad, avgpool_kernel_ceil_overhang, avgpool_errors, avgpool_int8,
        gap_shape_and_kernel, gap_rank,
        bn_channel_shape, bn_t1_dtype, bn_outputs_need_training, bn_epsilon, bn_kernel_inference,
        bn_kernel_training, bn_kernel_training_unbiased,
        ln_shapes, ln_axis, ln_scale_shape, ln_stash_type, ln_kernel,
        softmax_errors, softmax_kernel_stable,
        dropout_ratio, dropout_training_const, dropout_training_type, dropout_kernel,
        sce_label_shape, sce_label_dtype, sce_weights_shape, sce_reduction, sce_shapes, sce_kernel,
        mse_shape, mse_kernel,
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
