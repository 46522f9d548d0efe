/* Element-wise, comparison and reduction ops: shape inference (errors, symbolic contents) and kernel spot checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"
#include "tests/util/testutil.h"

/* ---- graph building helpers -------------------------------------------------------- */

/* "N,4" -> [N,4]; "2N+1" and "" (scalar) also work. */
static IrShape S(const char *spec)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    const char *p = spec;
    while (*p) {
        char *end;
        long long v = strtoll(p, &end, 10);
        IrDim dim = ir_dim_const(v);
        if (*end == 'N') {
            dim.a = end == p ? 1 : v;
            dim.b = 0;
            p = end + 1;
            if (*p == '+' || *p == '-') {
                dim.b = strtoll(p, &end, 10);
                p = end;
            }
        } else {
            p = end;
        }
        ck_assert_int_lt(s.rank, IR_MAX_RANK);
        s.d[s.rank++] = dim;
        if (*p == ',')
            p++;
    }
    return s;
}

static void add_graph_input(IrGraph *g, int id)
{
    int *ins = ir_arena_alloc(g->arena, (size_t)(g->ninputs + 1) * sizeof(int));
    if (g->ninputs)
        memcpy(ins, g->inputs, (size_t)g->ninputs * sizeof(int));
    ins[g->ninputs++] = id;
    g->inputs = ins;
}

/* A graph input of the given type. Graph inputs are numbered in call order: where the order
 * matters (kernel tests), create them in separate statements, not as arguments of one call. */
static int input(IrGraph *g, const char *name, IrDtype t, const char *shape)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_INPUT);
    ck_assert_int_ge(id, 0);
    add_graph_input(g, id);
    return id;
}

/* A constant with the given contents (numel elements of dtype t, packed). */
static int constant(IrGraph *g, const char *name, IrDtype t, const char *shape, const void *data, size_t numel)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_CONST);
    ck_assert_int_ge(id, 0);
    g->values[id]->data = ir_arena_memdup(g->arena, data, (numel ? numel : 1) * srt_dtype_size(t));
    return id;
}

static int const_i64(IrGraph *g, const char *name, const char *shape, const int64_t *v, size_t numel)
{
    return constant(g, name, SRT_I64, shape, v, numel);
}

/* A node "nodes[k]" with one fresh output; returns the node. */
static IrNode *node(IrGraph *g, IrOp op, int nin, const int *in)
{
    char name[32];
    snprintf(name, sizeof name, "y%d", g->nnodes);
    int out = ir_value_new(g, name, SRT_F32, NULL, IR_ROLE_ACT);
    ck_assert_int_ge(out, 0);
    IrNode *n = ir_node(g, ir_node_new(g, op, "", nin, in, 1, &out));
    char where[32];
    snprintf(where, sizeof where, "nodes[%d]", n->id);
    n->where = ir_arena_strdup(g->arena, where);
    return n;
}

static IrNode *node1(IrGraph *g, IrOp op, int a)
{
    return node(g, op, 1, &a);
}

static IrNode *node2(IrGraph *g, IrOp op, int a, int b)
{
    int in[2] = {a, b};
    return node(g, op, 2, in);
}

static IrNode *node3(IrGraph *g, IrOp op, int a, int b, int c)
{
    int in[3] = {a, b, c};
    return node(g, op, 3, in);
}

static IrValue *out0(IrGraph *g, const IrNode *n)
{
    return g->values[n->out[0]];
}

/* Runs shape inference; returns NULL on success or the first diagnostic (static copy). */
static const char *infer(IrGraph *g)
{
    static char msg[1024];
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_infer_shapes(g, &d);
    const char *first = ir_diag_first(&d);
    ck_assert_int_eq(rc == 0, first == NULL);
    snprintf(msg, sizeof msg, "%s", first ? first : "");
    ir_diag_free(&d);
    return rc == 0 ? NULL : msg;
}

static void expect_error(IrGraph *g, const char *want)
{
    const char *got = infer(g);
    ck_assert_msg(got != NULL, "shape inference succeeded; expected: %s", want);
    ck_assert_str_eq(got, want);
    ir_graph_free(g);
}

/* Type of a value as "f32[N,4]". */
static const char *type_of(const IrValue *v)
{
    static char buf[8][128];
    static int next;
    char *b = buf[next++ % 8];
    ir_type_format(v->dtype, &v->shape, b, sizeof buf[0]);
    return b;
}

/* Compile-time content of a value as "N,1568" ("-" if unknown). */
static const char *sym_of(IrGraph *g, const IrValue *v)
{
    static char buf[4][256];
    static int next;
    char *b = buf[next++ % 4];
    if (!v->sym)
        return "-";
    IrDim cnt;
    ck_assert(ir_shape_numel(&v->shape, &cnt) && cnt.a == 0);
    b[0] = 0;
    for (int64_t i = 0; i < cnt.b; i++) {
        char dim[48];
        ir_dim_format(v->sym[i], dim, sizeof dim);
        strcat(b, i ? "," : "");
        strcat(b, dim);
    }
    return b;
}

/* ---- interpreter helpers ----------------------------------------------------------- */

/* Graph inputs' tensors at batch n, filled from doubles (or int64 for integer dtypes). */
typedef struct Run {
    IrTensor *vals;
    IrTensor in[8];
    int nin;
    char err[1024];
} Run;

static void run_set_f(Run *r, IrGraph *g, int64_t n, const double *v)
{
    int k = r->nin++;
    const IrValue *iv = g->values[g->inputs[k]];
    int64_t dims[IR_MAX_RANK];
    ck_assert(ir_shape_eval(&iv->shape, n, dims));
    ck_assert_int_eq(ir_tensor_alloc(&r->in[k], iv->dtype, iv->shape.rank, dims), 0);
    for (int64_t i = 0; i < r->in[k].numel; i++)
        ir_tensor_setf(&r->in[k], i, v[i]);
}

static void run_set_i(Run *r, IrGraph *g, int64_t n, const int64_t *v)
{
    int k = r->nin++;
    const IrValue *iv = g->values[g->inputs[k]];
    int64_t dims[IR_MAX_RANK];
    ck_assert(ir_shape_eval(&iv->shape, n, dims));
    ck_assert_int_eq(ir_tensor_alloc(&r->in[k], iv->dtype, iv->shape.rank, dims), 0);
    for (int64_t i = 0; i < r->in[k].numel; i++)
        ir_tensor_seti(&r->in[k], i, v[i]);
}

/* Infers shapes (must succeed) and evaluates at n; returns 0 or -1 with r->err set. */
static int run(Run *r, IrGraph *g, int64_t n)
{
    const char *e = infer(g);
    ck_assert_msg(e == NULL, "shape inference failed: %s", e);
    IrDiag d;
    ir_diag_init(&d, NULL);
    r->vals = calloc((size_t)g->nvalues + 1, sizeof *r->vals);
    int rc = ir_interp_eval(g, n, r->in, false, r->vals, &d);
    snprintf(r->err, sizeof r->err, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "");
    ir_diag_free(&d);
    return rc;
}

static void run_free(Run *r, IrGraph *g)
{
    for (int i = 0; r->vals && i < g->nvalues; i++)
        ir_tensor_free(&r->vals[i]);
    free(r->vals);
    for (int i = 0; i < r->nin; i++)
        ir_tensor_free(&r->in[i]);
    ir_graph_free(g);
}

static const IrTensor *val(Run *r, const IrNode *n)
{
    return &r->vals[n->out[0]];
}

/* ---- dtype errors ------------------------------------------------------------------ */

/* Math ops reject integers and name the accepted dtypes. */
START_TEST(sigmoid_rejects_int)
{
    IrGraph *g = ir_graph_new("t");
    node1(g, IR_OP_SIGMOID, input(g, "x", SRT_I64, "N,4"));
    expect_error(g, "nodes[0] (Sigmoid): inputs[0] has type i64[N,4]; Sigmoid needs float32 or float64");
}
END_TEST

/* Relu follows ONNX's type list: signed types only, no uint8 and no bool. */
START_TEST(relu_rejects_uint8)
{
    IrGraph *g = ir_graph_new("t");
    node1(g, IR_OP_RELU, input(g, "x", SRT_U8, "3"));
    expect_error(g, "nodes[0] (Relu): inputs[0] has type u8[3]; Relu needs float32, float64, int64, int32 or int8");
}
END_TEST

/* Abs takes every numeric dtype but not bool. */
START_TEST(abs_rejects_bool)
{
    IrGraph *g = ir_graph_new("t");
    node1(g, IR_OP_ABS, input(g, "x", SRT_BOOL, "2"));
    expect_error(g, "nodes[0] (Abs): inputs[0] has type bool[2]; Abs needs float32, float64, int64, int32, int8 or uint8");
}
END_TEST

/* Binary arithmetic needs equal dtypes and says to insert a Cast. */
START_TEST(add_dtype_mismatch)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_ADD, input(g, "a", SRT_F32, "N,4"), input(g, "b", SRT_I64, "4"));
    expect_error(g, "nodes[0] (Add): inputs[0] has type f32[N,4] and inputs[1] has type i64[4]; Add needs both of "
                    "the same dtype (insert a Cast)");
}
END_TEST

/* Arithmetic on bool is not allowed (ONNX has no bool Add). */
START_TEST(mul_rejects_bool)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_MUL, input(g, "a", SRT_BOOL, "2"), input(g, "b", SRT_BOOL, "2"));
    expect_error(g, "nodes[0] (Mul): inputs[0] has type bool[2]; Mul needs float32, float64, int64, int32, int8 or uint8");
}
END_TEST

/* Less compares numbers only; Equal also takes bool. */
START_TEST(less_rejects_bool_equal_accepts)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_LESS, input(g, "a", SRT_BOOL, "2"), input(g, "b", SRT_BOOL, "2"));
    expect_error(g, "nodes[0] (Less): inputs[0] has type bool[2]; Less needs float32, float64, int64, int32, int8 or uint8");
    g = ir_graph_new("t");
    IrNode *n = node2(g, IR_OP_EQUAL, input(g, "a", SRT_BOOL, "2"), input(g, "b", SRT_BOOL, "1"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, n)), "bool[2]");
    ir_graph_free(g);
}
END_TEST

/* Pow: the base is float32/float64/int32/int64; the exponent may be any numeric dtype. */
START_TEST(pow_types)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_POW, input(g, "a", SRT_I8, "2"), input(g, "b", SRT_I8, "2"));
    expect_error(g, "nodes[0] (Pow): inputs[0] (base) has type i8[2]; Pow needs float32, float64, int64 or int32");
    g = ir_graph_new("t");
    node2(g, IR_OP_POW, input(g, "a", SRT_F32, "2"), input(g, "b", SRT_BOOL, "2"));
    expect_error(g, "nodes[0] (Pow): inputs[1] (exponent) has type bool[2]; Pow needs float32, float64, int64, int32, "
                    "int8 or uint8");
    g = ir_graph_new("t");
    IrNode *a = node2(g, IR_OP_POW, input(g, "x", SRT_F32, "N,3"), input(g, "e", SRT_I64, ""));
    IrNode *b = node2(g, IR_OP_POW, input(g, "i", SRT_I64, "3"), input(g, "f", SRT_F64, "N,1"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, a)), "f32[N,3]");
    ck_assert_str_eq(type_of(out0(g, b)), "i64[N,3]");
    ir_graph_free(g);
}
END_TEST

/* ---- broadcasting ------------------------------------------------------------------ */

/* Incompatible dims are named with their axis counted from the right. */
START_TEST(add_broadcast_error)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_ADD, input(g, "a", SRT_F32, "N,4"), input(g, "b", SRT_F32, "3"));
    expect_error(g, "nodes[0] (Add): inputs[1] has type f32[3], which does not broadcast with inputs[0]'s shape [N,4]: "
                    "3 vs 4 at axis -1 (dims must match or be 1)");
}
END_TEST

/* N and a constant other than 1 do not broadcast (they differ for most N). */
START_TEST(sub_broadcast_n_vs_const)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_SUB, input(g, "a", SRT_F32, "N,2"), input(g, "b", SRT_F32, "3,2"));
    expect_error(g, "nodes[0] (Sub): inputs[1] has type f32[3,2], which does not broadcast with inputs[0]'s shape [N,2]: "
                    "3 vs N at axis -2 (dims must match or be 1)");
}
END_TEST

/* Valid broadcasts: [N,1,4]x[3,1], scalar x [2,3], [0]x[1], [N]x[N]. */
START_TEST(broadcast_shapes)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *a = node2(g, IR_OP_MUL, input(g, "a", SRT_F32, "N,1,4"), input(g, "b", SRT_F32, "3,1"));
    IrNode *b = node2(g, IR_OP_DIV, input(g, "s", SRT_F64, ""), input(g, "m", SRT_F64, "2,3"));
    IrNode *c = node2(g, IR_OP_GREATER, input(g, "z", SRT_I32, "0"), input(g, "o", SRT_I32, "1"));
    IrNode *e = node2(g, IR_OP_ADD, input(g, "p", SRT_U8, "2N+1"), input(g, "q", SRT_U8, "2N+1"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, a)), "f32[N,3,4]");
    ck_assert_str_eq(type_of(out0(g, b)), "f64[2,3]");
    ck_assert_str_eq(type_of(out0(g, c)), "bool[0]");
    ck_assert_str_eq(type_of(out0(g, e)), "u8[2N+1]");
    ir_graph_free(g);
}
END_TEST

/* Variadic Max: the third input is checked against the first two broadcast together. */
START_TEST(max_variadic_broadcast_error)
{
    IrGraph *g = ir_graph_new("t");
    int in[3] = {input(g, "a", SRT_F32, "N,1"), input(g, "b", SRT_F32, "4"), input(g, "c", SRT_F32, "5")};
    node(g, IR_OP_MAX, 3, in);
    expect_error(g, "nodes[0] (Max): inputs[2] has type f32[5], which does not broadcast with inputs[0..1]'s shape "
                    "[N,4]: 5 vs 4 at axis -1 (dims must match or be 1)");
}
END_TEST

/* Variadic Min: a different dtype among several inputs is named against inputs[0]. */
START_TEST(min_variadic_dtype_error)
{
    IrGraph *g = ir_graph_new("t");
    int in[3] = {input(g, "a", SRT_I64, "2"), input(g, "b", SRT_I64, "2"), input(g, "c", SRT_I32, "2")};
    node(g, IR_OP_MIN, 3, in);
    expect_error(g, "nodes[0] (Min): inputs[0] has type i64[2] and inputs[2] has type i32[2]; Min needs both of the "
                    "same dtype (insert a Cast)");
}
END_TEST

/* Max with one input is its identity; with none it is an arity error. */
START_TEST(max_arity)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_MAX, input(g, "a", SRT_F32, "N,2"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, n)), "f32[N,2]");
    ir_graph_free(g);
    g = ir_graph_new("t");
    node(g, IR_OP_MAX, 0, NULL);
    expect_error(g, "nodes[0] (Max): Max needs at least 1 input, got 0");
}
END_TEST

/* Binary ops with a wrong input count or an absent input say so. */
START_TEST(add_arity)
{
    IrGraph *g = ir_graph_new("t");
    node1(g, IR_OP_ADD, input(g, "a", SRT_F32, "2"));
    expect_error(g, "nodes[0] (Add): Add needs 2 inputs, got 1");
    g = ir_graph_new("t");
    node2(g, IR_OP_ADD, input(g, "a", SRT_F32, "2"), -1);
    expect_error(g, "nodes[0] (Add): inputs[1] is missing; Add needs it");
}
END_TEST

/* Where: the condition must be bool, the branches share a dtype, all three broadcast. */
START_TEST(where_checks)
{
    IrGraph *g = ir_graph_new("t");
    node3(g, IR_OP_WHERE, input(g, "c", SRT_F32, "3"), input(g, "x", SRT_F32, "3"), input(g, "y", SRT_F32, "3"));
    expect_error(g, "nodes[0] (Where): inputs[0] (condition) has type f32[3]; Where needs bool");
    g = ir_graph_new("t");
    node3(g, IR_OP_WHERE, input(g, "c", SRT_BOOL, "3"), input(g, "x", SRT_F32, "3"), input(g, "y", SRT_F64, "3"));
    expect_error(g, "nodes[0] (Where): inputs[1] has type f32[3] and inputs[2] has type f64[3]; Where needs both of the "
                    "same dtype (insert a Cast)");
    g = ir_graph_new("t");
    node3(g, IR_OP_WHERE, input(g, "c", SRT_BOOL, "N,1"), input(g, "x", SRT_F32, "3"), input(g, "y", SRT_F32, "2,1,1"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(g->values[g->nodes[0]->out[0]]), "f32[2,N,3]");
    ir_graph_free(g);
    g = ir_graph_new("t");
    node3(g, IR_OP_WHERE, input(g, "c", SRT_BOOL, "N,1"), input(g, "x", SRT_I64, "3"), input(g, "y", SRT_I64, "2"));
    expect_error(g, "nodes[0] (Where): inputs[2] has type i64[2], which does not broadcast with inputs[0..1]'s shape "
                    "[N,3]: 2 vs 3 at axis -1 (dims must match or be 1)");
}
END_TEST

/* ---- attributes and optional inputs ------------------------------------------------ */

/* Gelu's approximate must be "none" or "tanh". */
START_TEST(gelu_bad_approximate)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_GELU, input(g, "x", SRT_F32, "2"));
    ir_node_set_string(g, n, "approximate", "fast");
    expect_error(g, "nodes[0] (Gelu): attribute approximate = \"fast\" must be \"none\" or \"tanh\"");
}
END_TEST

/* LeakyRelu's alpha must be finite. */
START_TEST(leakyrelu_bad_alpha)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_LEAKYRELU, input(g, "x", SRT_F32, "2"));
    ir_node_set_float(g, n, "alpha", INFINITY);
    expect_error(g, "nodes[0] (LeakyRelu): attribute alpha = inf must be a finite number");
}
END_TEST

/* Clip takes 1 to 3 inputs. */
START_TEST(clip_arity)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F32, "2");
    int in[4] = {x, x, x, x};
    node(g, IR_OP_CLIP, 4, in);
    expect_error(g, "nodes[0] (Clip): Clip needs 1 to 3 inputs, got 4");
}
END_TEST

/* Clip's bounds must be scalars of the input's dtype; either may be absent. */
START_TEST(clip_bounds)
{
    IrGraph *g = ir_graph_new("t");
    node2(g, IR_OP_CLIP, input(g, "x", SRT_F32, "N,3"), input(g, "lo", SRT_F32, "2"));
    expect_error(g, "nodes[0] (Clip): inputs[1] (min) has type f32[2]; Clip needs a scalar (shape [] or [1])");
    g = ir_graph_new("t");
    node3(g, IR_OP_CLIP, input(g, "x", SRT_F32, "N,3"), -1, input(g, "hi", SRT_F64, ""));
    expect_error(g, "nodes[0] (Clip): inputs[2] (max) has type f64[] but inputs[0] has type f32[N,3]; Clip needs its "
                    "bounds in the input's dtype");
    g = ir_graph_new("t");
    IrNode *n = node3(g, IR_OP_CLIP, input(g, "x", SRT_I64, "N,3"), -1, input(g, "hi", SRT_I64, "1"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, n)), "i64[N,3]");
    ir_graph_free(g);
}
END_TEST

/* Cast: dtype names and ONNX codes; unsupported targets are named. */
START_TEST(cast_targets)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_CAST, input(g, "x", SRT_F32, "N"));
    ir_node_set_string(g, n, "to", "float16");
    expect_error(g, "nodes[0] (Cast): attribute to = \"float16\" is not a supported dtype; use float32, float64, "
                    "int64, int32, int8, uint8 or bool");
    g = ir_graph_new("t");
    node1(g, IR_OP_CAST, input(g, "x", SRT_F32, "N"));
    expect_error(g, "nodes[0] (Cast): attribute to is required (a dtype name such as \"float32\")");
    g = ir_graph_new("t");
    n = node1(g, IR_OP_CAST, input(g, "x", SRT_F32, "N"));
    ir_node_set_int(g, n, "to", 10);
    expect_error(g, "nodes[0] (Cast): attribute to = 10 is not a supported ONNX dtype code; use 1 (float32), "
                    "11 (float64), 7 (int64), 6 (int32), 3 (int8), 2 (uint8) or 9 (bool)");
    g = ir_graph_new("t");
    IrNode *a = node1(g, IR_OP_CAST, input(g, "x", SRT_F32, "N,2"));
    ir_node_set_int(g, a, "to", 7);
    IrNode *b = node1(g, IR_OP_CAST, input(g, "y", SRT_I8, "3"));
    ir_node_set_string(g, b, "to", "bool");
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, a)), "i64[N,2]");
    ck_assert_str_eq(type_of(out0(g, b)), "bool[3]");
    ir_graph_free(g);
}
END_TEST

/* ---- reductions -------------------------------------------------------------------- */

/* Axes out of range name the axis, the input type and the valid range. */
START_TEST(reduce_axis_out_of_range)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_REDUCEMEAN, input(g, "x", SRT_F32, "N,4"));
    int64_t axes[2] = {0, 2};
    ir_node_set_ints(g, n, "axes", 2, axes);
    expect_error(g, "nodes[0] (ReduceMean): axes[1] = 2 is out of range for inputs[0] of type f32[N,4]; use -2..1");
    g = ir_graph_new("t");
    n = node1(g, IR_OP_REDUCEMAX, input(g, "x", SRT_F32, ""));
    ir_node_set_ints(g, n, "axes", 1, axes);
    expect_error(g, "nodes[0] (ReduceMax): axes[0] = 0 is out of range for inputs[0] of type f32[]; a scalar has no "
                    "axes (give no axes)");
}
END_TEST

/* Axes as attribute and input at once is an error; an axes input must be a 1-D int64 constant. */
START_TEST(reduce_axes_input_checks)
{
    int64_t one[1] = {1};
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node2(g, IR_OP_REDUCESUM, input(g, "x", SRT_F32, "N,4"), const_i64(g, "ax", "1", one, 1));
    ir_node_set_ints(g, n, "axes", 1, one);
    expect_error(g, "nodes[0] (ReduceSum): axes given both as the attribute and as inputs[1]; give only one");
    g = ir_graph_new("t");
    node2(g, IR_OP_REDUCESUM, input(g, "x", SRT_F32, "N,4"), input(g, "ax", SRT_I64, "1"));
    expect_error(g, "nodes[0] (ReduceSum): inputs[1] (axes) \"ax\" is not known at compile time; ReduceSum needs "
                    "constant axes (a constant, or shape arithmetic on constant dims)");
    g = ir_graph_new("t");
    int32_t one32 = 1;
    node2(g, IR_OP_REDUCESUM, input(g, "x", SRT_F32, "N,4"), constant(g, "ax", SRT_I32, "1", &one32, 1));
    expect_error(g, "nodes[0] (ReduceSum): inputs[1] (axes) has type i32[1]; ReduceSum needs int64");
    g = ir_graph_new("t");
    node2(g, IR_OP_REDUCEMEAN, input(g, "x", SRT_F32, "N,4"), const_i64(g, "ax", "1,1", one, 1));
    expect_error(g, "nodes[0] (ReduceMean): inputs[1] (axes) has type i64[1,1]; ReduceMean needs a 1-D list of axes");
    g = ir_graph_new("t");
    int ax = input(g, "ax", SRT_I64, "1");
    node2(g, IR_OP_REDUCEMAX, input(g, "x", SRT_F32, "N,4"), ax);
    g->values[ax]->sym = ir_arena_alloc(g->arena, sizeof(IrDim));
    g->values[ax]->sym[0] = ir_dim_n();
    expect_error(g, "nodes[0] (ReduceMax): inputs[1] (axes) \"ax\" depends on the batch size N; ReduceMax needs "
                    "constant axes");
}
END_TEST

/* keepdims and noop_with_empty_axes only take 0 or 1; Sum/Mean reject 8-bit ints (ONNX). */
START_TEST(reduce_attr_values)
{
    IrGraph *g = ir_graph_new("t");
    IrNode *n = node1(g, IR_OP_REDUCESUM, input(g, "x", SRT_F32, "N,4"));
    ir_node_set_int(g, n, "keepdims", 2);
    expect_error(g, "nodes[0] (ReduceSum): attribute keepdims = 2 must be 0 or 1");
    g = ir_graph_new("t");
    n = node1(g, IR_OP_REDUCESUM, input(g, "x", SRT_F32, "N,4"));
    ir_node_set_int(g, n, "noop_with_empty_axes", -1);
    expect_error(g, "nodes[0] (ReduceSum): attribute noop_with_empty_axes = -1 must be 0 or 1");
    g = ir_graph_new("t");
    node1(g, IR_OP_REDUCEMEAN, input(g, "x", SRT_U8, "4"));
    expect_error(g, "nodes[0] (ReduceMean): inputs[0] has type u8[4]; ReduceMean needs float32, float64, int64 or int32");
}
END_TEST

/* Output shapes: keepdims, negative and duplicate axes, empty axes (all or noop), scalars. */
START_TEST(reduce_shapes)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F32, "N,3,5");
    int64_t neg[2] = {-1, 0}, dup[2] = {1, -2};
    int64_t none[1] = {0};
    IrNode *a = node1(g, IR_OP_REDUCEMEAN, x);
    ir_node_set_ints(g, a, "axes", 2, neg);
    IrNode *b = node1(g, IR_OP_REDUCESUM, x);
    ir_node_set_ints(g, b, "axes", 2, neg);
    ir_node_set_int(g, b, "keepdims", 0);
    IrNode *c = node1(g, IR_OP_REDUCEMAX, x);
    ir_node_set_ints(g, c, "axes", 2, dup);
    IrNode *e = node1(g, IR_OP_REDUCESUM, x);
    ir_node_set_int(g, e, "keepdims", 0);
    IrNode *f = node2(g, IR_OP_REDUCESUM, x, const_i64(g, "empty", "0", none, 0));
    ir_node_set_int(g, f, "noop_with_empty_axes", 1);
    IrNode *h = node1(g, IR_OP_REDUCEMEAN, input(g, "s", SRT_F64, ""));
    IrNode *k = node2(g, IR_OP_REDUCEMAX, x, const_i64(g, "ax1", "1", neg, 1));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(type_of(out0(g, a)), "f32[1,3,1]");
    ck_assert_str_eq(type_of(out0(g, b)), "f32[3]");
    ck_assert_str_eq(type_of(out0(g, c)), "f32[N,1,5]");
    ck_assert_str_eq(type_of(out0(g, e)), "f32[]");
    ck_assert_str_eq(type_of(out0(g, f)), "f32[N,3,5]");
    ck_assert_str_eq(type_of(out0(g, h)), "f64[]");
    ck_assert_str_eq(type_of(out0(g, k)), "f32[N,3,1]");
    ir_graph_free(g);
}
END_TEST

/* ---- shape arithmetic (symbolic contents) ------------------------------------------ */

/* A graph input standing for Shape(x) = [N, 784] (its producer set sym). */
static int shape_value(IrGraph *g, const char *name)
{
    int id = input(g, name, SRT_I64, "2");
    IrDim *s = ir_arena_alloc(g->arena, 2 * sizeof(IrDim));
    s[0] = ir_dim_n();
    s[1] = ir_dim_const(784);
    g->values[id]->sym = s;
    return id;
}

/* Add/Sub/Mul/Div/Neg over [N,784] and constants give a*N+b contents. */
START_TEST(sym_arithmetic)
{
    IrGraph *g = ir_graph_new("t");
    int s = shape_value(g, "s");
    int64_t two[2] = {2, 1}, four = 4, seven[3] = {7, -7, 7}, m2[3] = {-2, 2, 0};
    IrNode *mul = node2(g, IR_OP_MUL, s, const_i64(g, "c2", "2", two, 2));
    IrNode *add = node2(g, IR_OP_ADD, out0(g, mul)->id, const_i64(g, "c4", "", &four, 1));
    IrNode *sub = node2(g, IR_OP_SUB, add->out[0], s);
    IrNode *div = node2(g, IR_OP_DIV, add->out[0], const_i64(g, "d2", "", two, 1));
    IrNode *neg = node1(g, IR_OP_NEG, s);
    IrNode *cdiv = node2(g, IR_OP_DIV, const_i64(g, "n7", "3", seven, 3), const_i64(g, "m2", "3", m2, 3));
    IrNode *sq = node2(g, IR_OP_MUL, s, s);
    IrNode *unk = node2(g, IR_OP_ADD, s, input(g, "data", SRT_I64, "2"));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(sym_of(g, out0(g, mul)), "2N,784");
    ck_assert_str_eq(sym_of(g, out0(g, add)), "2N+4,788");
    ck_assert_str_eq(sym_of(g, out0(g, sub)), "N+4,4");
    ck_assert_str_eq(sym_of(g, out0(g, div)), "N+2,394");
    ck_assert_str_eq(sym_of(g, out0(g, neg)), "-1N,-784");
    ck_assert_str_eq(sym_of(g, out0(g, cdiv)), "-");  /* 7/0 has no value: left to the kernel */
    ck_assert_str_eq(sym_of(g, out0(g, sq)), "-");    /* N*N is not a*N+b */
    ck_assert_str_eq(sym_of(g, out0(g, unk)), "-");   /* data is not known */
    ir_graph_free(g);
}
END_TEST

/* Integer division truncates toward zero, also in shape arithmetic; (2N+1)/2 is N. */
START_TEST(sym_division)
{
    IrGraph *g = ir_graph_new("t");
    int64_t a[3] = {7, -7, 9}, b[3] = {-2, 2, 3}, two = 2;
    IrNode *c = node2(g, IR_OP_DIV, const_i64(g, "a", "3", a, 3), const_i64(g, "b", "3", b, 3));
    int s = input(g, "s", SRT_I64, "1");
    g->values[s]->sym = ir_arena_alloc(g->arena, sizeof(IrDim));
    g->values[s]->sym[0] = (IrDim){2, 1};
    IrNode *h = node2(g, IR_OP_DIV, s, const_i64(g, "two", "", &two, 1));
    IrNode *q = node2(g, IR_OP_DIV, shape_value(g, "t"), const_i64(g, "three", "", &a[2], 1));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(sym_of(g, out0(g, c)), "-3,-3,3");
    ck_assert_str_eq(sym_of(g, out0(g, h)), "N");
    ck_assert_str_eq(sym_of(g, out0(g, q)), "-"); /* N/9 is not a*N+b */
    ir_graph_free(g);
}
END_TEST

/* Max/Min resolve when one side is provably larger for every N >= 1. */
START_TEST(sym_max_min)
{
    IrGraph *g = ir_graph_new("t");
    int s = shape_value(g, "s");
    int64_t c[2] = {1, 1000}, big[2] = {5, 0};
    IrNode *mx = node2(g, IR_OP_MAX, s, const_i64(g, "c", "2", c, 2));
    IrNode *mn = node2(g, IR_OP_MIN, s, const_i64(g, "c1", "", c, 1));
    IrNode *un = node2(g, IR_OP_MAX, s, const_i64(g, "big", "2", big, 2));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(sym_of(g, out0(g, mx)), "N,1000");
    ck_assert_str_eq(sym_of(g, out0(g, mn)), "1,1");
    ck_assert_str_eq(sym_of(g, out0(g, un)), "-"); /* max(N, 5) depends on N */
    ir_graph_free(g);
}
END_TEST

/* Equal + Where: the torch export pattern Where(Equal(shape, -1), 1, shape) folds to [N,784];
 * Equal(N, 3) is not provable and stays unknown. */
START_TEST(sym_equal_where)
{
    IrGraph *g = ir_graph_new("t");
    int s = shape_value(g, "s");
    int64_t m1 = -1, one = 1, three[2] = {3, 784};
    IrNode *eq = node2(g, IR_OP_EQUAL, s, const_i64(g, "m1", "", &m1, 1));
    IrNode *wh = node3(g, IR_OP_WHERE, eq->out[0], const_i64(g, "one", "", &one, 1), s);
    IrNode *eq3 = node2(g, IR_OP_EQUAL, s, const_i64(g, "three", "2", three, 2));
    IrNode *wh3 = node3(g, IR_OP_WHERE, eq3->out[0], const_i64(g, "one2", "", &one, 1), s);
    IrNode *gt = node2(g, IR_OP_GREATER, s, const_i64(g, "zero", "", &m1, 1));
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(sym_of(g, out0(g, eq)), "0,0");
    ck_assert_str_eq(sym_of(g, out0(g, wh)), "N,784");
    ck_assert_str_eq(sym_of(g, out0(g, eq3)), "-");
    ck_assert_str_eq(sym_of(g, out0(g, wh3)), "-");
    ck_assert_str_eq(sym_of(g, out0(g, gt)), "1,1");
    ir_graph_free(g);
}
END_TEST

/* Identity and Cast to integer types carry the content; float constants truncate; Cast to
 * float drops it. */
START_TEST(sym_cast_identity)
{
    IrGraph *g = ir_graph_new("t");
    int s = shape_value(g, "s");
    IrNode *id = node1(g, IR_OP_IDENTITY, s);
    IrNode *c32 = node1(g, IR_OP_CAST, s);
    ir_node_set_string(g, c32, "to", "int32");
    IrNode *cf = node1(g, IR_OP_CAST, s);
    ir_node_set_string(g, cf, "to", "float32");
    float fv[3] = {2.7f, -2.7f, 300.0f};
    int fc = constant(g, "fc", SRT_F32, "3", fv, 3);
    IrNode *ci = node1(g, IR_OP_CAST, fc);
    ir_node_set_string(g, ci, "to", "int64");
    IrNode *c8 = node1(g, IR_OP_CAST, fc);
    ir_node_set_string(g, c8, "to", "int8");
    IrNode *c8n = node1(g, IR_OP_CAST, s);
    ir_node_set_string(g, c8n, "to", "int8");
    ck_assert_ptr_null(infer(g));
    ck_assert_str_eq(sym_of(g, out0(g, id)), "N,784");
    ck_assert_str_eq(sym_of(g, out0(g, c32)), "N,784");
    ck_assert_str_eq(sym_of(g, out0(g, cf)), "-");
    ck_assert_str_eq(sym_of(g, out0(g, ci)), "2,-2,300");
    ck_assert_str_eq(sym_of(g, out0(g, c8)), "2,-2,44"); /* wraps like numpy */
    ck_assert_str_eq(sym_of(g, out0(g, c8n)), "-");      /* N may not fit in int8 */
    ir_graph_free(g);
}
END_TEST

/* ---- kernels ----------------------------------------------------------------------- */

/* Integer Div truncates toward zero (ONNX reference), int64 stays exact beyond 2^53. */
START_TEST(kernel_int_div_add)
{
    IrGraph *g = ir_graph_new("t");
    int a = input(g, "a", SRT_I64, "4"), b = input(g, "b", SRT_I64, "4");
    IrNode *dv = node2(g, IR_OP_DIV, a, b);
    IrNode *ad = node2(g, IR_OP_ADD, a, b);
    Run r = {0};
    int64_t av[4] = {-7, 7, 9007199254740993LL, INT64_MIN}, bv[4] = {2, -2, 1, -1};
    run_set_i(&r, g, 1, av);
    run_set_i(&r, g, 1, bv);
    ck_assert_int_eq(run(&r, g, 1), 0);
    const IrTensor *q = val(&r, dv), *s = val(&r, ad);
    ck_assert_int_eq(ir_tensor_geti(q, 0), -3);
    ck_assert_int_eq(ir_tensor_geti(q, 1), -3);
    ck_assert_int_eq(ir_tensor_geti(q, 2), 9007199254740993LL);
    ck_assert_int_eq(ir_tensor_geti(q, 3), INT64_MIN); /* wraps */
    ck_assert_int_eq(ir_tensor_geti(s, 2), 9007199254740994LL);
    ck_assert_int_eq(ir_tensor_geti(s, 3), INT64_MAX); /* wraps */
    run_free(&r, g);
}
END_TEST

/* Integer division by zero is a runtime error naming the node. */
START_TEST(kernel_int_div_by_zero)
{
    IrGraph *g = ir_graph_new("t");
    int a = input(g, "a", SRT_I32, "2");
    int b = input(g, "b", SRT_I32, "2");
    node2(g, IR_OP_DIV, a, b);
    Run r = {0};
    int64_t av[2] = {1, 2}, bv[2] = {1, 0};
    run_set_i(&r, g, 1, av);
    run_set_i(&r, g, 1, bv);
    ck_assert_int_eq(run(&r, g, 1), -1);
    ck_assert_str_eq(r.err, "nodes[0] (Div): integer division by zero (inputs[1] has a 0 at output element 1)");
    run_free(&r, g);
}
END_TEST

/* Broadcast [N,1,4] + [3,1] at N=2 picks the right elements. */
START_TEST(kernel_broadcast_add)
{
    IrGraph *g = ir_graph_new("t");
    int a = input(g, "a", SRT_F32, "N,1,4");
    int b = input(g, "b", SRT_F32, "3,1");
    IrNode *n = node2(g, IR_OP_ADD, a, b);
    Run r = {0};
    double av[8] = {0, 1, 2, 3, 10, 11, 12, 13}, bv[3] = {100, 200, 300};
    run_set_f(&r, g, 2, av);
    run_set_f(&r, g, 2, bv);
    ck_assert_int_eq(run(&r, g, 2), 0);
    const IrTensor *y = val(&r, n);
    ck_assert_int_eq(y->numel, 24);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                ck_assert_double_eq(ir_tensor_getf(y, (i * 3 + j) * 4 + k), av[i * 4 + k] + bv[j]);
    run_free(&r, g);
}
END_TEST

/* Clip with min > max gives max everywhere; NaN passes through; Max propagates NaN. */
START_TEST(kernel_clip_max_nan)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F32, "3");
    int lo_id = input(g, "lo", SRT_F32, "");
    int hi_id = input(g, "hi", SRT_F32, "");
    int z_id = input(g, "z", SRT_F32, "");
    IrNode *c = node3(g, IR_OP_CLIP, x, lo_id, hi_id);
    IrNode *m = node2(g, IR_OP_MAX, x, z_id);
    Run r = {0};
    double xv[3] = {-5, NAN, 5}, lo = 2, hi = 1, z = 0;
    run_set_f(&r, g, 1, xv);
    run_set_f(&r, g, 1, &lo);
    run_set_f(&r, g, 1, &hi);
    run_set_f(&r, g, 1, &z);
    ck_assert_int_eq(run(&r, g, 1), 0);
    ck_assert_double_eq(ir_tensor_getf(val(&r, c), 0), 1);
    ck_assert(isnan(ir_tensor_getf(val(&r, c), 1)));
    ck_assert_double_eq(ir_tensor_getf(val(&r, c), 2), 1);
    ck_assert_double_eq(ir_tensor_getf(val(&r, m), 0), 0);
    ck_assert(isnan(ir_tensor_getf(val(&r, m), 1)));
    run_free(&r, g);
}
END_TEST

/* Cast: float->int truncates toward zero and wraps like numpy; NaN->bool is true. */
START_TEST(kernel_cast)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F32, "4");
    IrNode *u8 = node1(g, IR_OP_CAST, x);
    ir_node_set_string(g, u8, "to", "uint8");
    IrNode *b = node1(g, IR_OP_CAST, x);
    ir_node_set_string(g, b, "to", "bool");
    IrNode *i32 = node1(g, IR_OP_CAST, x);
    ir_node_set_string(g, i32, "to", "int32");
    Run r = {0};
    double xv[4] = {-1.5, 2.9, NAN, 0.0};
    run_set_f(&r, g, 1, xv);
    ck_assert_int_eq(run(&r, g, 1), 0);
    ck_assert_int_eq(ir_tensor_geti(val(&r, u8), 0), 255);
    ck_assert_int_eq(ir_tensor_geti(val(&r, u8), 1), 2);
    ck_assert_int_eq(ir_tensor_geti(val(&r, i32), 0), -1);
    ck_assert_int_eq(ir_tensor_geti(val(&r, b), 2), 1);
    ck_assert_int_eq(ir_tensor_geti(val(&r, b), 3), 0);
    run_free(&r, g);
}
END_TEST

/* Reductions over an empty set: Max gives -inf, Mean NaN, Sum 0. */
START_TEST(kernel_reduce_empty)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F32, "N,0");
    int64_t ax = 1;
    IrNode *mx = node1(g, IR_OP_REDUCEMAX, x);
    ir_node_set_ints(g, mx, "axes", 1, &ax);
    IrNode *mn = node1(g, IR_OP_REDUCEMEAN, x);
    ir_node_set_ints(g, mn, "axes", 1, &ax);
    IrNode *sm = node2(g, IR_OP_REDUCESUM, x, const_i64(g, "ax", "1", &ax, 1));
    Run r = {0};
    run_set_f(&r, g, 2, NULL);
    ck_assert_int_eq(run(&r, g, 2), 0);
    ck_assert_int_eq(val(&r, mx)->numel, 2);
    ck_assert(isinf(ir_tensor_getf(val(&r, mx), 1)) && ir_tensor_getf(val(&r, mx), 1) < 0);
    ck_assert(isnan(ir_tensor_getf(val(&r, mn), 0)));
    ck_assert_double_eq(ir_tensor_getf(val(&r, sm), 0), 0);
    run_free(&r, g);
}
END_TEST

/* ReduceSum over axis 0 with keepdims=0 and int64 exactness; ReduceMean of ints truncates. */
START_TEST(kernel_reduce_int)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_I64, "2,2");
    int64_t ax = 0;
    IrNode *sm = node1(g, IR_OP_REDUCESUM, x);
    ir_node_set_ints(g, sm, "axes", 1, &ax);
    ir_node_set_int(g, sm, "keepdims", 0);
    IrNode *mn = node1(g, IR_OP_REDUCEMEAN, x);
    Run r = {0};
    int64_t xv[4] = {9007199254740993LL, -3, 1, -4};
    run_set_i(&r, g, 1, xv);
    ck_assert_int_eq(run(&r, g, 1), 0);
    ck_assert_int_eq(ir_tensor_geti(val(&r, sm), 0), 9007199254740994LL);
    ck_assert_int_eq(ir_tensor_geti(val(&r, sm), 1), -7);
    ck_assert_int_eq(val(&r, mn)->rank, 2);
    ck_assert_int_eq(ir_tensor_geti(val(&r, mn), 0), 2251799813685246LL); /* (2^53+1+1-7)/4 truncated */
    run_free(&r, g);
}
END_TEST

/* Integer Pow is exact; 0 to a negative power is a runtime error. */
START_TEST(kernel_int_pow)
{
    IrGraph *g = ir_graph_new("t");
    int a = input(g, "a", SRT_I64, "3");
    int b = input(g, "b", SRT_I32, "3");
    node2(g, IR_OP_POW, a, b);
    Run r = {0};
    int64_t av[3] = {3, -2, 0}, bv[3] = {39, 3, -1};
    run_set_i(&r, g, 1, av);
    run_set_i(&r, g, 1, bv);
    ck_assert_int_eq(run(&r, g, 1), -1);
    ck_assert_str_eq(r.err, "nodes[0] (Pow): integer 0 raised to the negative power -1 (output element 2) has no value");
    ck_assert_int_eq(ir_tensor_geti(&r.vals[g->nodes[0]->out[0]], 0), 4052555153018976267LL);
    ck_assert_int_eq(ir_tensor_geti(&r.vals[g->nodes[0]->out[0]], 1), -8);
    run_free(&r, g);
}
END_TEST

/* Where picks per element with 3-way broadcasting; Relu on ints. */
START_TEST(kernel_where_relu)
{
    IrGraph *g = ir_graph_new("t");
    int c = input(g, "c", SRT_BOOL, "2,1");
    int x = input(g, "x", SRT_I64, "3");
    int y = input(g, "y", SRT_I64, "");
    int rin = input(g, "r", SRT_I8, "3");
    IrNode *w = node3(g, IR_OP_WHERE, c, x, y);
    IrNode *re = node1(g, IR_OP_RELU, rin);
    Run r = {0};
    int64_t cv[2] = {1, 0}, xv[3] = {1, 2, 3}, yv = -9, rv[3] = {-128, 0, 127};
    run_set_i(&r, g, 1, cv);
    run_set_i(&r, g, 1, xv);
    run_set_i(&r, g, 1, &yv);
    run_set_i(&r, g, 1, rv);
    ck_assert_int_eq(run(&r, g, 1), 0);
    int64_t want[6] = {1, 2, 3, -9, -9, -9};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(ir_tensor_geti(val(&r, w), i), want[i]);
    ck_assert_int_eq(ir_tensor_geti(val(&r, re), 0), 0);
    ck_assert_int_eq(ir_tensor_geti(val(&r, re), 2), 127);
    run_free(&r, g);
}
END_TEST

/* Gelu (exact and tanh) against their closed forms at one point. */
START_TEST(kernel_gelu)
{
    IrGraph *g = ir_graph_new("t");
    int x = input(g, "x", SRT_F64, "1");
    IrNode *e = node1(g, IR_OP_GELU, x);
    IrNode *t = node1(g, IR_OP_GELU, x);
    ir_node_set_string(g, t, "approximate", "tanh");
    Run r = {0};
    double xv = -0.75;
    run_set_f(&r, g, 1, &xv);
    ck_assert_int_eq(run(&r, g, 1), 0);
    ck_assert_double_eq_tol(ir_tensor_getf(val(&r, e), 0), -0.1699705142826511, 1e-12);
    ck_assert_double_eq_tol(ir_tensor_getf(val(&r, t), 0), -0.1700394448343797, 1e-12);
    run_free(&r, g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_elementwise");
    TCase *tc = tcase_create("shape");
    tcase_add_test(tc, sigmoid_rejects_int);
    tcase_add_test(tc, relu_rejects_uint8);
    tcase_add_test(tc, abs_rejects_bool);
    tcase_add_test(tc, add_dtype_mismatch);
    tcase_add_test(tc, mul_rejects_bool);
    tcase_add_test(tc, less_rejects_bool_equal_accepts);
    tcase_add_test(tc, pow_types);
    tcase_add_test(tc, add_broadcast_error);
    tcase_add_test(tc, sub_broadcast_n_vs_const);
    tcase_add_test(tc, broadcast_shapes);
    tcase_add_test(tc, max_variadic_broadcast_error);
    tcase_add_test(tc, min_variadic_dtype_error);
    tcase_add_test(tc, max_arity);
    tcase_add_test(tc, add_arity);
    tcase_add_test(tc, where_checks);
    tcase_add_test(tc, gelu_bad_approximate);
    tcase_add_test(tc, leakyrelu_bad_alpha);
    tcase_add_test(tc, clip_arity);
    tcase_add_test(tc, clip_bounds);
    tcase_add_test(tc, cast_targets);
    tcase_add_test(tc, reduce_axis_out_of_range);
    tcase_add_test(tc, reduce_axes_input_checks);
    tcase_add_test(tc, reduce_attr_values);
    tcase_add_test(tc, reduce_shapes);
    suite_add_tcase(s, tc);
    TCase *ts = tcase_create("sym");
    tcase_add_test(ts, sym_arithmetic);
    tcase_add_test(ts, sym_division);
    tcase_add_test(ts, sym_max_min);
    tcase_add_test(ts, sym_equal_where);
    tcase_add_test(ts, sym_cast_identity);
    suite_add_tcase(s, ts);
    TCase *tk = tcase_create("kernels");
    tcase_add_test(tk, kernel_int_div_add);
    tcase_add_test(tk, kernel_int_div_by_zero);
    tcase_add_test(tk, kernel_broadcast_add);
    tcase_add_test(tk, kernel_clip_max_nan);
    tcase_add_test(tk, kernel_cast);
    tcase_add_test(tk, kernel_reduce_empty);
    tcase_add_test(tk, kernel_reduce_int);
    tcase_add_test(tk, kernel_int_pow);
    tcase_add_test(tk, kernel_where_relu);
    tcase_add_test(tk, kernel_gelu);
    suite_add_tcase(s, tk);
    return tu_run(s);
}
