/* Shape ops (Reshape ... Range): shape inference and its diagnostics, compile-time content, kernels. */
#include <stdlib.h>
#include <string.h>

#include "tests/util/testutil.h"

/* ---- graph building ------------------------------------------------------------- */

/* "N", "12", "2N", "N-1", "3N+2" */
static IrDim parse_dim(const char *s, const char **end)
{
    char *e;
    long long v = strtoll(s, &e, 10);
    IrDim d = {0, v};
    if (*e == 'N') {
        d.a = e == s ? 1 : v;
        d.b = 0;
        e++;
        if (*e == '+' || *e == '-')
            d.b = strtoll(e, &e, 10);
    }
    *end = e;
    return d;
}

/* "N,8,16" -> shape; "" is a scalar. */
static IrShape shp(const char *s)
{
    IrShape r;
    memset(&r, 0, sizeof r);
    while (*s) {
        r.d[r.rank++] = parse_dim(s, &s);
        if (*s == ',')
            s++;
    }
    return r;
}

static void add_graph_input(IrGraph *g, int id)
{
    int *in = ir_arena_alloc(g->arena, (size_t)(g->ninputs + 1) * sizeof *in);
    if (g->ninputs)
        memcpy(in, g->inputs, (size_t)g->ninputs * sizeof *in);
    in[g->ninputs++] = id;
    g->inputs = in;
}

/* A graph input of the given type. */
static int input(IrGraph *g, const char *name, IrDtype t, const char *shape)
{
    IrShape s = shp(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_INPUT);
    ck_assert_int_ge(id, 0);
    add_graph_input(g, id);
    return id;
}

/* A constant of dtype t and shape with the given values (converted from int64). */
static int cst(IrGraph *g, const char *name, IrDtype t, const char *shape, int count, const int64_t *v)
{
    IrShape s = shp(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_CONST);
    ck_assert_int_ge(id, 0);
    IrDim numel;
    ck_assert(ir_shape_numel(&s, &numel) && numel.a == 0 && numel.b == count);
    IrTensor tmp = {.dtype = t, .numel = count};
    tmp.data = ir_arena_alloc(g->arena, (size_t)count * srt_dtype_size(t) + 8);
    for (int i = 0; i < count; i++)
        ir_tensor_seti(&tmp, i, v[i]);
    ir_val(g, id)->data = tmp.data;
    return id;
}

/* A 1-D int64 constant. */
static int ints(IrGraph *g, const char *name, int count, const int64_t *v)
{
    char shape[16];
    snprintf(shape, sizeof shape, "%d", count);
    return cst(g, name, SRT_I64, shape, count, v);
}
#define INTS(g, name, ...) \
    ints(g, name, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* A float scalar constant. */
static int fscalar(IrGraph *g, const char *name, IrDtype t, double v)
{
    IrShape s = shp("");
    int id = ir_value_new(g, name, t, &s, IR_ROLE_CONST);
    IrTensor tmp;
    ck_assert_int_eq(ir_tensor_alloc(&tmp, t, 0, NULL), 0);
    ir_tensor_setf(&tmp, 0, v);
    ir_val(g, id)->data = ir_arena_memdup(g->arena, tmp.data, srt_dtype_size(t));
    ir_tensor_free(&tmp);
    return id;
}

/* Split "a,,b" into ids (an empty name is -1, also a trailing one); outputs are created. */
static int names_to_ids(IrGraph *g, const char *list, bool create, int *ids)
{
    int count = 0;
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[64];
        ck_assert_uint_lt(len, sizeof name);
        memcpy(name, p, len);
        name[len] = 0;
        if (!len)
            ids[count] = -1;
        else if (create)
            ids[count] = ir_value_new(g, name, SRT_F32, NULL, IR_ROLE_ACT);
        else
            ids[count] = ir_value_find(g, name);
        ck_assert_msg(!len || ids[count] >= 0, "bad tensor name %s", name);
        count++;
        if (!e)
            return count;
        p = e + 1;
    }
}

/* A node of op with inputs and (new) outputs given as name lists; it is named after its first output. */
static IrNode *node(IrGraph *g, IrOp op, const char *ins, const char *outs)
{
    int in[16], out[16];
    int nin = *ins ? names_to_ids(g, ins, false, in) : 0;
    int nout = names_to_ids(g, outs, true, out);
    const char *name = ir_val(g, out[0])->name;
    int id = ir_node_new(g, op, name, nin, in, nout, out);
    return ir_node(g, id);
}

static void mark_output(IrGraph *g, const char *name)
{
    int *o = ir_arena_alloc(g->arena, (size_t)(g->noutputs + 1) * sizeof *o);
    if (g->noutputs)
        memcpy(o, g->outputs, (size_t)g->noutputs * sizeof *o);
    o[g->noutputs++] = ir_value_find(g, name);
    g->outputs = o;
}

/* ---- inspection ------------------------------------------------------------------- */

static char msg_buf[1024];

/* Runs shape inference: NULL on success, else the first diagnostic. */
static const char *infer(IrGraph *g)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_infer_shapes(g, &d);
    const char *first = ir_diag_first(&d);
    ck_assert_int_eq(rc != 0, first != NULL);
    if (first)
        snprintf(msg_buf, sizeof msg_buf, "%s", first);
    ir_diag_free(&d);
    return first ? msg_buf : NULL;
}

/* Asserts inference succeeds. */
static void infer_ok(IrGraph *g)
{
    const char *e = infer(g);
    ck_assert_msg(e == NULL, "unexpected diagnostic: %s", e);
}

static char type_buf[256];

static const char *type_of(IrGraph *g, const char *name)
{
    int id = ir_value_find(g, name);
    ck_assert_int_ge(id, 0);
    const IrValue *v = ir_val(g, id);
    ck_assert(v->typed);
    ir_type_format(v->dtype, &v->shape, type_buf, sizeof type_buf);
    return type_buf;
}

static char sym_buf[512];

/* Compile-time content as "[N,8,16]", or "none". */
static const char *sym_of(IrGraph *g, const char *name)
{
    IrDim *c;
    int count = ir_value_known_ints(g, ir_value_find(g, name), &c);
    if (count < 0)
        return "none";
    size_t pos = 0;
    sym_buf[pos++] = '[';
    for (int i = 0; i < count; i++) {
        if (i)
            sym_buf[pos++] = ',';
        pos += (size_t)ir_dim_format(c[i], sym_buf + pos, sizeof sym_buf - pos);
    }
    sym_buf[pos++] = ']';
    sym_buf[pos] = 0;
    return sym_buf;
}

/* ---- running ---------------------------------------------------------------------- */

/* Runs g at batch n with every float/int input filled with 0, 1, 2, ... (bools: alternating).
 * Returns the values array, or NULL with the first diagnostic in msg_buf. */
static IrTensor *run(IrGraph *g, int64_t n)
{
    IrTensor *inputs = calloc((size_t)g->ninputs + 1, sizeof *inputs);
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = ir_val(g, g->inputs[i]);
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&inputs[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t k = 0; k < inputs[i].numel; k++)
            ir_tensor_seti(&inputs[i], k, v->dtype == SRT_BOOL ? k % 2 : k);
    }
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_interp_eval(g, n, inputs, false, vals, &d);
    for (int i = 0; i < g->ninputs; i++)
        ir_tensor_free(&inputs[i]);
    free(inputs);
    if (rc != 0) {
        snprintf(msg_buf, sizeof msg_buf, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
        for (int i = 0; i < g->nvalues; i++)
            ir_tensor_free(&vals[i]);
        free(vals);
        vals = NULL;
    }
    ir_diag_free(&d);
    return vals;
}

static void free_vals(IrGraph *g, IrTensor *vals)
{
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
}

/* Asserts value name holds exactly the given integers (as read by ir_tensor_geti). */
static void expect_ints(IrGraph *g, IrTensor *vals, const char *name, int count, const int64_t *want)
{
    const IrTensor *t = &vals[ir_value_find(g, name)];
    ck_assert_int_eq(t->numel, count);
    for (int i = 0; i < count; i++)
        ck_assert_msg(ir_tensor_geti(t, i) == want[i], "%s[%d] = %lld, expected %lld", name, i,
                      (long long)ir_tensor_geti(t, i), (long long)want[i]);
}
#define EXPECT_INTS(g, vals, name, ...)                                                                   \
    expect_ints(g, vals, name, (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__})

/* ==== Reshape ================================================================= */

/* A -1 is inferred from the symbolic element count: [N,784] -> [-1,28,28] is [N,28,28]. */
START_TEST(reshape_infer_minus_one)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,784");
    INTS(g, "s", -1, 28, 28);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[N,28,28]");
    ir_graph_free(g);
}
END_TEST

/* [N,4] reshaped to [-1] is one dim of 4N. */
START_TEST(reshape_flat_symbolic)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,4");
    INTS(g, "s", -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[4N]");
    ir_graph_free(g);
}
END_TEST

/* A 0 copies the input dim (also a symbolic one); the -1 takes the rest. */
START_TEST(reshape_zero_copies)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I64, "N,3,4");
    INTS(g, "s", 0, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "i64[N,12]");
    ir_graph_free(g);
}
END_TEST

/* allowzero=1 keeps a 0 as a zero-size dim. */
START_TEST(reshape_allowzero)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "0,3");
    INTS(g, "s", 3, 0);
    ir_node_set_int(g, node(g, IR_OP_RESHAPE, "x,s", "y"), "allowzero", 1);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[3,0]");
    ir_graph_free(g);
}
END_TEST

/* An empty target shape makes a scalar from a one-element tensor. */
START_TEST(reshape_to_scalar)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F64, "1,1");
    cst(g, "s", SRT_I64, "0", 0, NULL);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f64[]");
    ir_graph_free(g);
}
END_TEST

/* Copied dims that each hold N keep their N even though the count is N^2. */
START_TEST(reshape_n_squared)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,N,4");
    INTS(g, "s", 0, 0, 2, 2);
    INTS(g, "s2", 0, 0, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    node(g, IR_OP_RESHAPE, "y,s2", "z");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[N,N,2,2]");
    ck_assert_str_eq(type_of(g, "z"), "f32[N,N,4]");
    ir_graph_free(g);
}
END_TEST

/* Two -1 entries are rejected. */
START_TEST(reshape_err_two_minus_one)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    INTS(g, "s", -1, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): shape [-1,-1] has more than one -1");
    ir_graph_free(g);
}
END_TEST

/* Entries below -1 are rejected. */
START_TEST(reshape_err_below_minus_one)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    INTS(g, "s", 3, -2);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): shape [3,-2]: entry 1 is -2; entries must be >= -1");
    ir_graph_free(g);
}
END_TEST

/* A 0 past the input rank has no dim to copy. */
START_TEST(reshape_err_zero_past_rank)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "6");
    INTS(g, "s", 6, 0);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): shape [6,0]: entry 1 is 0 (copy the input dim) but inputs[0] "
                               "has type f32[6]");
    ir_graph_free(g);
}
END_TEST

/* Element counts must match. */
START_TEST(reshape_err_count)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    INTS(g, "s", 4, 2);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot reshape f32[2,3] (6 elements) into [4,2] (8 elements)");
    ir_graph_free(g);
}
END_TEST

/* A symbolic count never equals a constant one. */
START_TEST(reshape_err_count_symbolic)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,4");
    INTS(g, "s", 4, 3);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot reshape f32[N,4] (4N elements) into [4,3] (12 elements)");
    ir_graph_free(g);
}
END_TEST

/* The -1 must divide the count exactly. */
START_TEST(reshape_err_not_multiple)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "5,3");
    INTS(g, "s", 4, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot reshape f32[5,3] (15 elements) into [4,-1]: 15 is not a "
                               "multiple of 4");
    ir_graph_free(g);
}
END_TEST

/* A -1 that would be N/3 or N^2 is not a dim sinter can represent. */
START_TEST(reshape_err_not_representable)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,4");
    INTS(g, "s", 3, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot reshape f32[N,4] (4N elements) into [3,-1]: the -1 would "
                               "be (4N)/(3), which is not of the form a*N+b");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,N,4");
    INTS(g, "s", -1, 4);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot reshape f32[N,N,4] (4N^2 elements) into [-1,4]: the -1 "
                               "would be (4N^2)/(4), which is not of the form a*N+b");
    ir_graph_free(g);
}
END_TEST

/* allowzero=1 with both 0 and -1 is ambiguous. */
START_TEST(reshape_err_allowzero_ambiguous)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "0,3");
    INTS(g, "s", 0, -1);
    ir_node_set_int(g, node(g, IR_OP_RESHAPE, "x,s", "y"), "allowzero", 1);
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): shape [0,-1] has both 0 and -1 with allowzero=1, so the -1 "
                               "cannot be inferred");
    ir_graph_free(g);
}
END_TEST

/* A -1 next to a zero-size dim cannot be inferred. */
START_TEST(reshape_err_zero_product)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "0,3");
    INTS(g, "s", 0, -1);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): cannot infer the -1 in shape [0,-1] for f32[0,3]: the other "
                               "entries multiply to 0");
    ir_graph_free(g);
}
END_TEST

/* The target shape must be known at compile time. */
START_TEST(reshape_err_unknown_shape)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    input(g, "s", SRT_I64, "2");
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): inputs[1] (shape) \"s\" is not known at compile time; Reshape "
                               "needs a constant there (or shape arithmetic on Shape)");
    ir_graph_free(g);
}
END_TEST

/* The target shape must be a 1-D int64 tensor. */
START_TEST(reshape_err_shape_dtype)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    cst(g, "s", SRT_I32, "2", 2, (int64_t[]){3, 2});
    node(g, IR_OP_RESHAPE, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): inputs[1] (shape) has type i32[2]; Reshape needs a 1-D int64 "
                               "tensor there");
    ir_graph_free(g);
}
END_TEST

/* allowzero accepts only 0 and 1. */
START_TEST(reshape_err_allowzero_value)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    INTS(g, "s", 3, 2);
    ir_node_set_int(g, node(g, IR_OP_RESHAPE, "x,s", "y"), "allowzero", 2);
    ck_assert_str_eq(infer(g), "node \"y\" (Reshape): allowzero is 2; it must be 0 or 1");
    ir_graph_free(g);
}
END_TEST

/* Reshape keeps the row-major order and the content of known integer tensors. */
START_TEST(reshape_kernel_and_sym)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I32, "N,2,3");
    INTS(g, "s", 3, -1);
    INTS(g, "k", 1, 2, 3, 4, 5, 6);
    INTS(g, "s2", 2, 3);
    node(g, IR_OP_RESHAPE, "x,s", "y");
    node(g, IR_OP_RESHAPE, "k,s2", "k2");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "i32[3,2N]");
    ck_assert_str_eq(sym_of(g, "k2"), "[1,2,3,4,5,6]");
    IrTensor *v = run(g, 2);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    ck_assert_int_eq(v[ir_value_find(g, "y")].dims[1], 4);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== the PyTorch-export shape chain ============================================ */

/* x[N,8,16] -> Shape -> Gather(0) -> Unsqueeze -> Concat(.., [-1]) -> Reshape gives f32[N,128]. */
START_TEST(chain_torch_flatten)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,8,16");
    cst(g, "zero", SRT_I64, "", 1, (int64_t[]){0});
    INTS(g, "ax0", 0);
    INTS(g, "minus1", -1);
    node(g, IR_OP_SHAPE, "x", "shape");
    node(g, IR_OP_GATHER, "shape,zero", "batch");
    node(g, IR_OP_UNSQUEEZE, "batch,ax0", "batch1");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "batch1,minus1", "target"), "axis", 0);
    node(g, IR_OP_RESHAPE, "x,target", "y");
    mark_output(g, "y");
    infer_ok(g);
    ck_assert_str_eq(sym_of(g, "shape"), "[N,8,16]");
    ck_assert_str_eq(type_of(g, "batch"), "i64[]");
    ck_assert_str_eq(sym_of(g, "batch"), "[N]");
    ck_assert_str_eq(sym_of(g, "batch1"), "[N]");
    ck_assert_str_eq(sym_of(g, "target"), "[N,-1]");
    ck_assert_str_eq(type_of(g, "y"), "f32[N,128]");
    IrTensor *v = run(g, 3);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "target", 3, -1);
    ck_assert_int_eq(v[ir_value_find(g, "y")].dims[0], 3);
    ck_assert_int_eq(v[ir_value_find(g, "y")].dims[1], 128);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* Shape -> Slice -> Concat with constants folds to [N,8,64] (multi-head attention reshape). */
START_TEST(chain_slice_concat)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,512");
    INTS(g, "st", 0);
    INTS(g, "en", 1);
    INTS(g, "heads", 8, 64);
    node(g, IR_OP_SHAPE, "x", "shape");
    node(g, IR_OP_SLICE, "shape,st,en", "b");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "b,heads", "target"), "axis", 0);
    node(g, IR_OP_RESHAPE, "x,target", "y");
    infer_ok(g);
    ck_assert_str_eq(sym_of(g, "b"), "[N]");
    ck_assert_str_eq(type_of(g, "y"), "f32[N,8,64]");
    ir_graph_free(g);
}
END_TEST

/* ==== Flatten =================================================================== */

/* Flatten's default axis 1 and the extremes 0, -1 and r. */
START_TEST(flatten_axes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3,4");
    node(g, IR_OP_FLATTEN, "x", "a");
    ir_node_set_int(g, node(g, IR_OP_FLATTEN, "x", "b"), "axis", 0);
    ir_node_set_int(g, node(g, IR_OP_FLATTEN, "x", "c"), "axis", -1);
    ir_node_set_int(g, node(g, IR_OP_FLATTEN, "x", "d"), "axis", 3);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N,12]");
    ck_assert_str_eq(type_of(g, "b"), "f32[1,12N]");
    ck_assert_str_eq(type_of(g, "c"), "f32[3N,4]");
    ck_assert_str_eq(type_of(g, "d"), "f32[12N,1]");
    ir_graph_free(g);
}
END_TEST

/* Flatten's axis must lie in [-r, r]. */
START_TEST(flatten_err_axis)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    ir_node_set_int(g, node(g, IR_OP_FLATTEN, "x", "y"), "axis", 3);
    ck_assert_str_eq(infer(g), "node \"y\" (Flatten): axis 3 is out of range [-2, 2] for inputs[0] of type f32[2,3]");
    ir_graph_free(g);
}
END_TEST

/* Flatten of dims that are both N cannot be a*N+b. */
START_TEST(flatten_err_n_squared)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,N");
    ir_node_set_int(g, node(g, IR_OP_FLATTEN, "x", "y"), "axis", 0);
    ck_assert_str_eq(infer(g), "node \"y\" (Flatten): flattening f32[N,N] at axis 0 needs a product of dims that is "
                               "not of the form a*N+b");
    ir_graph_free(g);
}
END_TEST

/* ==== Transpose ================================================================= */

/* Without perm the axes reverse; with perm they follow it. */
START_TEST(transpose_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3,4");
    node(g, IR_OP_TRANSPOSE, "x", "a");
    ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, "x", "b"), "perm", 3, (int64_t[]){0, 2, 1});
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[4,3,N]");
    ck_assert_str_eq(type_of(g, "b"), "f32[N,4,3]");
    ir_graph_free(g);
}
END_TEST

/* perm must be a permutation of 0..r-1 of the right length. */
START_TEST(transpose_err_perm)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3,4");
    ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, "x", "y"), "perm", 3, (int64_t[]){0, 0, 1});
    ck_assert_str_eq(infer(g), "node \"y\" (Transpose): perm [0,0,1] is not a permutation of 0..2");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3,4");
    ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, "x", "y"), "perm", 2, (int64_t[]){1, 0});
    ck_assert_str_eq(infer(g), "node \"y\" (Transpose): perm [1,0] has 2 entries but inputs[0] has type f32[2,3,4] "
                               "(rank 3)");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,3");
    ir_node_set_ints(g, node(g, IR_OP_TRANSPOSE, "x", "y"), "perm", 2, (int64_t[]){-1, 0});
    ck_assert_str_eq(infer(g), "node \"y\" (Transpose): perm [-1,0] is not a permutation of 0..1");
    ir_graph_free(g);
}
END_TEST

/* Transpose moves elements: a 2x3 becomes its 3x2 transpose; known contents follow. */
START_TEST(transpose_kernel)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I64, "2,3");
    cst(g, "k", SRT_I64, "2,2", 4, (int64_t[]){1, 2, 3, 4});
    node(g, IR_OP_TRANSPOSE, "x", "y");
    node(g, IR_OP_TRANSPOSE, "k", "kt");
    infer_ok(g);
    ck_assert_str_eq(sym_of(g, "kt"), "[1,3,2,4]");
    IrTensor *v = run(g, 1);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 0, 3, 1, 4, 2, 5);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== Squeeze / Unsqueeze ======================================================== */

/* Without axes every constant 1 goes (N stays); with axes only those; empty axes keep all. */
START_TEST(squeeze_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "1,N,1,3");
    INTS(g, "ax", -2);
    cst(g, "none", SRT_I64, "0", 0, NULL);
    node(g, IR_OP_SQUEEZE, "x", "a");
    node(g, IR_OP_SQUEEZE, "x,ax", "b");
    node(g, IR_OP_SQUEEZE, "x,none", "c");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N,3]");
    ck_assert_str_eq(type_of(g, "b"), "f32[1,N,3]");
    ck_assert_str_eq(type_of(g, "c"), "f32[1,N,1,3]");
    ir_graph_free(g);
}
END_TEST

/* Squeezing a dim that is not 1 (or is N) is an error. */
START_TEST(squeeze_err_not_one)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3");
    INTS(g, "ax", 1);
    node(g, IR_OP_SQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Squeeze): cannot squeeze axis 1 of f32[N,3]: its size is 3, not 1");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3");
    INTS(g, "ax", 0);
    node(g, IR_OP_SQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Squeeze): cannot squeeze axis 0 of f32[N,3]: its size is N, not 1");
    ir_graph_free(g);
}
END_TEST

/* Squeeze axes: out of range, repeated, not constants. */
START_TEST(squeeze_err_axes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "1,1");
    INTS(g, "ax", 2);
    node(g, IR_OP_SQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Squeeze): axes [2]: axis 2 is out of range for rank 2 (inputs[0] has type "
                               "f32[1,1])");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "1,1");
    INTS(g, "ax", 0, -2);
    node(g, IR_OP_SQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Squeeze): axes [0,-2] names axis 0 more than once");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "1,1");
    input(g, "ax", SRT_I64, "1");
    node(g, IR_OP_SQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Squeeze): inputs[1] (axes) \"ax\" is not known at compile time; Squeeze "
                               "needs a constant there (or shape arithmetic on Shape)");
    ir_graph_free(g);
}
END_TEST

/* Unsqueeze inserts 1s; negative axes count from the back of the output. */
START_TEST(unsqueeze_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,4");
    INTS(g, "ax", 0, -1);
    INTS(g, "ax2", 3, 1);
    node(g, IR_OP_UNSQUEEZE, "x,ax", "a");
    node(g, IR_OP_UNSQUEEZE, "x,ax2", "b");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[1,N,4,1]");
    ck_assert_str_eq(type_of(g, "b"), "f32[N,1,4,1]");
    ir_graph_free(g);
}
END_TEST

/* Unsqueeze axes: repeated, out of range, too many, missing. */
START_TEST(unsqueeze_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    INTS(g, "ax", 1, -2);
    node(g, IR_OP_UNSQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Unsqueeze): axes [1,-2] names axis 1 more than once");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    INTS(g, "ax", 2);
    node(g, IR_OP_UNSQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Unsqueeze): axes [2]: axis 2 is out of range for the output rank 2");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2,2,2,2,2");
    INTS(g, "ax", 0, 1, 2, 3);
    node(g, IR_OP_UNSQUEEZE, "x,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Unsqueeze): axes [0,1,2,3] would give f32[2,2,2,2,2] rank 9; sinter "
                               "supports rank <= 8");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    node(g, IR_OP_UNSQUEEZE, "x,", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Unsqueeze): inputs[1] (axes) is missing; Unsqueeze needs it");
    ir_graph_free(g);
}
END_TEST

/* ==== Concat ==================================================================== */

/* Concat adds sizes along the axis, symbolically; negative axes count from the back. */
START_TEST(concat_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "a", SRT_F32, "N,2");
    input(g, "b", SRT_F32, "N,3");
    input(g, "c", SRT_F32, "2,2");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,b", "y"), "axis", -1);
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,c,a", "z"), "axis", 0);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[N,5]");
    ck_assert_str_eq(type_of(g, "z"), "f32[2N+2,2]");
    ir_graph_free(g);
}
END_TEST

/* Concat needs equal dtypes and other dims; no scalars; axis in range. */
START_TEST(concat_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "a", SRT_F32, "N,2");
    input(g, "b", SRT_F32, "3,2");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,b", "y"), "axis", 1);
    ck_assert_str_eq(infer(g), "node \"y\" (Concat): inputs[1] has type f32[3,2] but inputs[0] has type f32[N,2]; "
                               "Concat on axis 1 needs the same dtype, rank and other dims");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "a", SRT_F32, "2");
    input(g, "b", SRT_I64, "2");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,b", "y"), "axis", 0);
    ck_assert_str_eq(infer(g), "node \"y\" (Concat): inputs[1] has type i64[2] but inputs[0] has type f32[2]; Concat "
                               "on axis 0 needs the same dtype, rank and other dims");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "a", SRT_F32, "");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,a", "y"), "axis", 0);
    ck_assert_str_eq(infer(g), "node \"y\" (Concat): inputs[0] has type f32[]; Concat cannot join scalars (rank 0)");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "a", SRT_F32, "2,2");
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a", "y"), "axis", -3);
    ck_assert_str_eq(infer(g), "node \"y\" (Concat): axis -3 is out of range for inputs of rank 2");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "a", SRT_F32, "2,2");
    node(g, IR_OP_CONCAT, "a", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Concat): attribute axis is required");
    ir_graph_free(g);
}
END_TEST

/* Concat interleaves rows along an inner axis. */
START_TEST(concat_kernel)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "a", SRT_I64, "2,1");
    cst(g, "b", SRT_I64, "2,2", 4, (int64_t[]){7, 8, 9, 10});
    ir_node_set_int(g, node(g, IR_OP_CONCAT, "a,b", "y"), "axis", 1);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "i64[2,3]");
    IrTensor *v = run(g, 1);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 0, 7, 8, 1, 9, 10);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== Split ===================================================================== */

/* Split into equal parts by output count, ceil-sized with a smaller last part. */
START_TEST(split_equal_parts)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "6,N");
    input(g, "z", SRT_F32, "7");
    input(g, "w", SRT_F32, "2N,3");
    node(g, IR_OP_SPLIT, "x", "a,b,c");
    node(g, IR_OP_SPLIT, "z", "p,q,r");
    ir_node_set_int(g, node(g, IR_OP_SPLIT, "w", "u,v"), "num_outputs", 2);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[2,N]");
    ck_assert_str_eq(type_of(g, "c"), "f32[2,N]");
    ck_assert_str_eq(type_of(g, "p"), "f32[3]");
    ck_assert_str_eq(type_of(g, "q"), "f32[3]");
    ck_assert_str_eq(type_of(g, "r"), "f32[1]");
    ck_assert_str_eq(type_of(g, "u"), "f32[N,3]");
    ir_graph_free(g);
}
END_TEST

/* Split with sizes (which may hold N); the copied content follows. */
START_TEST(split_sizes_kernel)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I64, "2,N+2");
    input(g, "z", SRT_F32, "N,2");
    INTS(g, "k", 10, 11, 12, 13, 14);
    INTS(g, "s", 2, 3);
    node(g, IR_OP_SHAPE, "z", "sh");
    ir_node_set_int(g, node(g, IR_OP_SPLIT, "x,sh", "a,b"), "axis", -1);
    node(g, IR_OP_SPLIT, "k,s", "k1,k2");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "i64[2,N]");
    ck_assert_str_eq(type_of(g, "b"), "i64[2,2]");
    ck_assert_str_eq(sym_of(g, "k2"), "[12,13,14]");
    IrTensor *v = run(g, 1);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "a", 0, 3);
    EXPECT_INTS(g, v, "b", 1, 2, 4, 5);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* Split errors: sums, counts, both forms, impossible equal parts. */
START_TEST(split_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "5");
    INTS(g, "s", 2, 2);
    node(g, IR_OP_SPLIT, "x,s", "a,b");
    ck_assert_str_eq(infer(g), "node \"a\" (Split): split [2,2] sums to 4 but axis 0 of inputs[0] (f32[5]) has size 5");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "5");
    INTS(g, "s", 5);
    node(g, IR_OP_SPLIT, "x,s", "a,b");
    ck_assert_str_eq(infer(g), "node \"a\" (Split): split [5] has 1 entries but the node has 2 outputs");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    INTS(g, "s", 2, 2);
    ir_node_set_int(g, node(g, IR_OP_SPLIT, "x,s", "a,b"), "num_outputs", 2);
    ck_assert_str_eq(infer(g), "node \"a\" (Split): both inputs[1] (split) and num_outputs are given; give one of them");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    ir_node_set_int(g, node(g, IR_OP_SPLIT, "x", "a,b"), "num_outputs", 3);
    ck_assert_str_eq(infer(g), "node \"a\" (Split): num_outputs is 3 but the node has 2 outputs");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "5");
    node(g, IR_OP_SPLIT, "x", "a,b,c,d");
    ck_assert_str_eq(infer(g), "node \"a\" (Split): cannot split axis 0 of f32[5] into 4 parts of ceil(5/4) = 2; give "
                               "the sizes in inputs[1] (split)");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N");
    node(g, IR_OP_SPLIT, "x", "a,b");
    ck_assert_str_eq(infer(g), "node \"a\" (Split): cannot split axis 0 of f32[N] (size N) into 2 equal parts for "
                               "every N; give the sizes in inputs[1] (split)");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    INTS(g, "s", 5, -1);
    node(g, IR_OP_SPLIT, "x,s", "a,b");
    ck_assert_str_eq(infer(g), "node \"a\" (Split): split [5,-1]: entry 1 (-1) is negative");
    ir_graph_free(g);
}
END_TEST

/* ==== Slice ===================================================================== */

/* x[1:] on an N dim is N-1; reversed and strided slices on constant dims. */
START_TEST(slice_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,10");
    INTS(g, "one", 1);
    INTS(g, "big", INT64_MAX);
    INTS(g, "zero", 0);
    INTS(g, "m1", -1);
    INTS(g, "small", INT64_MIN);
    INTS(g, "ax1", 1);
    INTS(g, "st2", 2);
    INTS(g, "stm3", -3);
    node(g, IR_OP_SLICE, "x,one,big,zero", "a");
    node(g, IR_OP_SLICE, "x,m1,small,ax1,m1", "b");
    node(g, IR_OP_SLICE, "x,one,big,ax1,st2", "c");
    node(g, IR_OP_SLICE, "x,m1,small,ax1,stm3", "d");
    node(g, IR_OP_SLICE, "x,zero,m1", "e");
    node(g, IR_OP_SLICE, "x,m1,small,zero,m1", "f");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N-1,10]");
    ck_assert_str_eq(type_of(g, "b"), "f32[N,10]");
    ck_assert_str_eq(type_of(g, "c"), "f32[N,5]");
    ck_assert_str_eq(type_of(g, "d"), "f32[N,4]");
    ck_assert_str_eq(type_of(g, "e"), "f32[N-1,10]");
    ck_assert_str_eq(type_of(g, "f"), "f32[N,10]");
    ir_graph_free(g);
}
END_TEST

/* Strided slices of 2N stay representable; of N they do not. */
START_TEST(slice_symbolic_steps)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "2N");
    INTS(g, "zero", 0);
    INTS(g, "big", INT64_MAX);
    INTS(g, "two", 2);
    node(g, IR_OP_SLICE, "x,zero,big,zero,two", "a");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N]");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N");
    INTS(g, "zero", 0);
    INTS(g, "big", INT64_MAX);
    INTS(g, "two", 2);
    node(g, IR_OP_SLICE, "x,zero,big,zero,two", "a");
    ck_assert_str_eq(infer(g), "node \"a\" (Slice): slicing axis 0 of f32[N] from 0 to 9223372036854775807 by 2 gives "
                               "a size that is not of the form a*N+b for every N");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N");
    INTS(g, "zero", 0);
    INTS(g, "three", 3);
    node(g, IR_OP_SLICE, "x,zero,three", "a");
    ck_assert_str_eq(infer(g), "node \"a\" (Slice): slicing axis 0 of f32[N] from 0 to 3 by 1 gives a size that is "
                               "not of the form a*N+b for every N");
    ir_graph_free(g);
}
END_TEST

/* Slice ends may come from shape arithmetic: x[:, :Shape(x)[0]] on [N,N]. */
START_TEST(slice_symbolic_end)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,N");
    INTS(g, "zero", 0);
    INTS(g, "ax1", 1);
    node(g, IR_OP_SHAPE, "x", "sh");
    node(g, IR_OP_SLICE, "sh,zero,ax1", "n1");
    node(g, IR_OP_SLICE, "x,zero,n1,ax1", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[N,N]");
    IrTensor *v = run(g, 2);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 0, 1, 2, 3);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* Slice errors: zero step, repeated axes, length mismatch, missing ends. */
START_TEST(slice_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    INTS(g, "zero", 0);
    INTS(g, "four", 4);
    node(g, IR_OP_SLICE, "x,zero,four,zero,zero", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Slice): steps [0]: entry 0 is 0");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4,4");
    INTS(g, "s", 0, 0);
    INTS(g, "e", 2, 2);
    INTS(g, "ax", 1, -1);
    node(g, IR_OP_SLICE, "x,s,e,ax", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Slice): axes [1,-1] names axis 1 more than once");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4,4");
    INTS(g, "s", 0, 0);
    INTS(g, "e", 2);
    node(g, IR_OP_SLICE, "x,s,e", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Slice): inputs[2] (ends) has 1 entries but inputs[1] (starts) has 2");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    INTS(g, "s", 0);
    node(g, IR_OP_SLICE, "x,s,", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Slice): inputs[2] (ends) is missing; Slice needs it");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "4");
    INTS(g, "s", 0);
    cst(g, "e", SRT_F32, "1", 1, (int64_t[]){2});
    node(g, IR_OP_SLICE, "x,s,e", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Slice): inputs[2] (ends) has type f32[1]; Slice needs a 1-D int32 or "
                               "int64 tensor there");
    ir_graph_free(g);
}
END_TEST

/* Slice kernel: negative steps, clamping of far starts/ends, int32 parameters. */
START_TEST(slice_kernel)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I64, "5");
    INTS(g, "m1", -1);
    INTS(g, "small", INT64_MIN);
    INTS(g, "m2", -2);
    INTS(g, "m10", -10);
    INTS(g, "big", INT64_MAX);
    cst(g, "s32", SRT_I32, "1", 1, (int64_t[]){1});
    cst(g, "e32", SRT_I32, "1", 1, (int64_t[]){4});
    node(g, IR_OP_SLICE, "x,m1,small,,m1", "rev");
    node(g, IR_OP_SLICE, "x,big,m10,,m2", "rev2");
    node(g, IR_OP_SLICE, "x,m10,m10,,m1", "clamp"); /* ONNX: start clamps to 0, end to -1: one element */
    node(g, IR_OP_SLICE, "x,s32,e32", "mid");
    node(g, IR_OP_SLICE, "x,big,small", "empty");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "clamp"), "i64[1]");
    ck_assert_str_eq(type_of(g, "empty"), "i64[0]");
    IrTensor *v = run(g, 1);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "rev", 4, 3, 2, 1, 0);
    EXPECT_INTS(g, v, "rev2", 4, 2, 0);
    EXPECT_INTS(g, v, "clamp", 0);
    EXPECT_INTS(g, v, "mid", 1, 2, 3);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* A 2-D slice with a symbolic dim runs at a concrete N. */
START_TEST(slice_kernel_batch)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3");
    INTS(g, "s", 1, 2);
    INTS(g, "e", INT64_MAX, INT64_MIN);
    INTS(g, "ax", 0, 1);
    INTS(g, "st", 1, -2);
    node(g, IR_OP_SLICE, "x,s,e,ax,st", "y");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[N-1,2]");
    IrTensor *v = run(g, 3);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 5, 3, 8, 6);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== Gather ==================================================================== */

/* Gather's output shape: data[:axis] + indices.shape + data[axis+1:]; scalar indices drop the axis. */
START_TEST(gather_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,5,4");
    input(g, "i", SRT_I32, "2,3");
    cst(g, "s", SRT_I64, "", 1, (int64_t[]){-1});
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,i", "a"), "axis", 1);
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,s", "b"), "axis", -1);
    node(g, IR_OP_GATHER, "x,i", "c");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N,2,3,4]");
    ck_assert_str_eq(type_of(g, "b"), "f32[N,5]");
    ck_assert_str_eq(type_of(g, "c"), "f32[2,3,5,4]");
    ir_graph_free(g);
}
END_TEST

/* Gather errors: constant index out of range, float indices, scalar data, bad axis. */
START_TEST(gather_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,5");
    INTS(g, "i", 1, 5);
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,i", "y"), "axis", 1);
    ck_assert_str_eq(infer(g), "node \"y\" (Gather): indices[1] is 5, out of range for axis 1 of inputs[0] (f32[N,5])");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "5");
    input(g, "i", SRT_F32, "2");
    node(g, IR_OP_GATHER, "x,i", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Gather): inputs[1] (indices) has type f32[2]; Gather needs int32 or int64 "
                               "indices");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "");
    INTS(g, "i", 0);
    node(g, IR_OP_GATHER, "x,i", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Gather): inputs[0] has type f32[]; Gather needs rank >= 1");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    INTS(g, "i", 0);
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,i", "y"), "axis", 1);
    ck_assert_str_eq(infer(g), "node \"y\" (Gather): axis 1 is out of range for inputs[0] of type f32[3]");
    ir_graph_free(g);
}
END_TEST

/* Gather kernel with negative indices; an index out of range at run time is a diagnostic. */
START_TEST(gather_kernel)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_I64, "N,3");
    input(g, "i", SRT_I64, "2");
    cst(g, "j", SRT_I32, "2", 2, (int64_t[]){-1, 0});
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,j", "y"), "axis", 1);
    node(g, IR_OP_GATHER, "x,i", "z");
    infer_ok(g);
    IrTensor *v = run(g, 1); /* i is [0, 1] but axis 0 has size 1 */
    ck_assert_ptr_null(v);
    ck_assert_str_eq(msg_buf, "node \"z\" (Gather): indices[1] is 1, out of range for axis 0 of size 1");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_I64, "N,3");
    cst(g, "j", SRT_I32, "2", 2, (int64_t[]){-1, 0});
    ir_node_set_int(g, node(g, IR_OP_GATHER, "x,j", "y"), "axis", 1);
    infer_ok(g);
    v = run(g, 2);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "y", 2, 0, 5, 3);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== Expand ==================================================================== */

/* Expand broadcasts both ways: the target may have 1s where the input is larger. */
START_TEST(expand_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3,1");
    input(g, "b", SRT_F32, "N,1");
    INTS(g, "s", 2, 1, 4);
    INTS(g, "s2", 1, 5);
    node(g, IR_OP_EXPAND, "x,s", "y");
    node(g, IR_OP_EXPAND, "b,s2", "z");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "y"), "f32[2,3,4]");
    ck_assert_str_eq(type_of(g, "z"), "f32[N,5]");
    IrTensor *v = run(g, 2);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "z", 0, 0, 0, 0, 0, 1, 1, 1, 1, 1);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* Expand errors: incompatible dims, negative entries. */
START_TEST(expand_errors)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    INTS(g, "s", 2, 4);
    node(g, IR_OP_EXPAND, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Expand): cannot expand f32[3] to shape [2,4]: right-aligned dims must be "
                               "equal or 1");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "3");
    INTS(g, "s", -1, 3);
    node(g, IR_OP_EXPAND, "x,s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Expand): shape [-1,3]: entry 0 (-1) is negative");
    ir_graph_free(g);
}
END_TEST

/* ==== Shape ===================================================================== */

/* Shape's start/end select and clamp; the content is the (symbolic) dims. */
START_TEST(shape_start_end)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_BOOL, "N,3,4");
    node(g, IR_OP_SHAPE, "x", "a");
    ir_node_set_int(g, node(g, IR_OP_SHAPE, "x", "b"), "start", 1);
    ir_node_set_int(g, node(g, IR_OP_SHAPE, "x", "c"), "end", -1);
    IrNode *nd = node(g, IR_OP_SHAPE, "x", "d");
    ir_node_set_int(g, nd, "start", -10);
    ir_node_set_int(g, nd, "end", 10);
    nd = node(g, IR_OP_SHAPE, "x", "e");
    ir_node_set_int(g, nd, "start", 2);
    ir_node_set_int(g, nd, "end", 1);
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "i64[3]");
    ck_assert_str_eq(sym_of(g, "a"), "[N,3,4]");
    ck_assert_str_eq(sym_of(g, "b"), "[3,4]");
    ck_assert_str_eq(sym_of(g, "c"), "[N,3]");
    ck_assert_str_eq(sym_of(g, "d"), "[N,3,4]");
    ck_assert_str_eq(type_of(g, "e"), "i64[0]");
    IrTensor *v = run(g, 5);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "a", 5, 3, 4);
    EXPECT_INTS(g, v, "c", 5, 3);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ==== ConstantOfShape ============================================================== */

/* ConstantOfShape: default float32 0, a typed value, a symbolic shape, a scalar. */
START_TEST(constant_of_shape)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,2");
    INTS(g, "s", 2, 3);
    cst(g, "empty", SRT_I64, "0", 0, NULL);
    node(g, IR_OP_SHAPE, "x", "sh");
    node(g, IR_OP_CONSTOFSHAPE, "sh", "a");
    IrNode *nd = node(g, IR_OP_CONSTOFSHAPE, "s", "b");
    int64_t seven = 7;
    IrAttr val = {.name = "value", .kind = IR_ATTR_TENSOR, .n = 1, .tdtype = SRT_I64, .tdata = &seven};
    ir_node_set_attrs(g, nd, 1, &val);
    node(g, IR_OP_CONSTOFSHAPE, "empty", "c");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "f32[N,2]");
    ck_assert_str_eq(type_of(g, "b"), "i64[2,3]");
    ck_assert_str_eq(sym_of(g, "b"), "[7,7,7,7,7,7]");
    ck_assert_str_eq(type_of(g, "c"), "f32[]");
    IrTensor *v = run(g, 2);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "a", 0, 0, 0, 0);
    EXPECT_INTS(g, v, "b", 7, 7, 7, 7, 7, 7);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* ConstantOfShape errors: negative dims, a value with two elements. */
START_TEST(constant_of_shape_errors)
{
    IrGraph *g = ir_graph_new("t");
    INTS(g, "s", 2, -3);
    node(g, IR_OP_CONSTOFSHAPE, "s", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (ConstantOfShape): shape [2,-3]: entry 1 (-3) is negative");
    ir_graph_free(g);
    g = ir_graph_new("t");
    INTS(g, "s", 2);
    IrNode *nd = node(g, IR_OP_CONSTOFSHAPE, "s", "y");
    float two[2] = {1, 2};
    IrAttr val = {.name = "value", .kind = IR_ATTR_TENSOR, .n = 2, .tdtype = SRT_F32, .tdata = two};
    ir_node_set_attrs(g, nd, 1, &val);
    ck_assert_str_eq(infer(g), "node \"y\" (ConstantOfShape): value must be a one-element tensor, got 2 elements");
    ir_graph_free(g);
}
END_TEST

/* ==== Range ===================================================================== */

/* Range over ints (with content), floats, negative deltas and an N limit. */
START_TEST(range_shapes)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N,3");
    cst(g, "i0", SRT_I64, "", 1, (int64_t[]){0});
    cst(g, "i1", SRT_I64, "", 1, (int64_t[]){1});
    cst(g, "i5", SRT_I64, "", 1, (int64_t[]){5});
    cst(g, "m2", SRT_I64, "", 1, (int64_t[]){-2});
    fscalar(g, "f0", SRT_F32, 0.5);
    fscalar(g, "f1", SRT_F32, 2.0);
    fscalar(g, "fd", SRT_F32, 0.4);
    node(g, IR_OP_RANGE, "i0,i5,i1", "a");
    node(g, IR_OP_RANGE, "i5,i0,m2", "b");
    node(g, IR_OP_RANGE, "f0,f1,fd", "c");
    node(g, IR_OP_SHAPE, "x", "sh");
    node(g, IR_OP_GATHER, "sh,i0", "n");
    node(g, IR_OP_RANGE, "i1,n,i1", "d");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "a"), "i64[5]");
    ck_assert_str_eq(sym_of(g, "a"), "[0,1,2,3,4]");
    ck_assert_str_eq(sym_of(g, "b"), "[5,3,1]");
    ck_assert_str_eq(type_of(g, "c"), "f32[4]");
    ck_assert_str_eq(type_of(g, "d"), "i64[N-1]");
    IrTensor *v = run(g, 4);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "d", 1, 2, 3);
    EXPECT_INTS(g, v, "b", 5, 3, 1);
    const IrTensor *c = &v[ir_value_find(g, "c")];
    ck_assert_float_eq_tol(ir_tensor_getf(c, 3), 1.7, 1e-6);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

/* Range errors: zero delta, mixed dtypes, non-scalars, unrepresentable length. */
START_TEST(range_errors)
{
    IrGraph *g = ir_graph_new("t");
    cst(g, "a", SRT_I64, "", 1, (int64_t[]){0});
    cst(g, "z", SRT_I64, "", 1, (int64_t[]){0});
    node(g, IR_OP_RANGE, "a,a,z", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): inputs[2] (delta) is 0; Range needs a nonzero constant step");
    ir_graph_free(g);
    g = ir_graph_new("t");
    cst(g, "a", SRT_I64, "", 1, (int64_t[]){0});
    fscalar(g, "b", SRT_F32, 2);
    node(g, IR_OP_RANGE, "a,b,a", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): inputs[1] (limit) has type f32[] but inputs[0] (start) has type "
                               "i64[]; Range needs one dtype");
    ir_graph_free(g);
    g = ir_graph_new("t");
    INTS(g, "a", 0);
    node(g, IR_OP_RANGE, "a,a,a", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): inputs[0] (start) has type i64[1]; Range needs a float32, "
                               "float64, int32 or int64 scalar");
    ir_graph_free(g);
    g = ir_graph_new("t");
    fscalar(g, "a", SRT_F64, 0);
    node(g, IR_OP_RANGE, "a,a,a", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): inputs[2] (delta) is 0");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "x", SRT_F32, "N");
    cst(g, "i0", SRT_I64, "", 1, (int64_t[]){0});
    cst(g, "i2", SRT_I64, "", 1, (int64_t[]){2});
    node(g, IR_OP_SHAPE, "x", "sh");
    node(g, IR_OP_GATHER, "sh,i0", "n");
    node(g, IR_OP_RANGE, "i0,n,i2", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): Range from 0 to N by 2 has a length that is not of the form a*N+b "
                               "for every N");
    ir_graph_free(g);
    g = ir_graph_new("t");
    input(g, "s", SRT_F32, "");
    fscalar(g, "b", SRT_F32, 2);
    node(g, IR_OP_RANGE, "s,b,b", "y");
    ck_assert_str_eq(infer(g), "node \"y\" (Range): inputs[0] (start) \"s\" is not a constant; Range needs float "
                               "inputs known at compile time");
    ir_graph_free(g);
}
END_TEST

/* ==== data types ============================================================ */

/* Bool and float64 data move through every movement kernel unchanged. */
START_TEST(dtypes_move)
{
    IrGraph *g = ir_graph_new("t");
    input(g, "b", SRT_BOOL, "2,3");
    input(g, "f", SRT_F64, "2,3");
    node(g, IR_OP_TRANSPOSE, "b", "bt");
    node(g, IR_OP_TRANSPOSE, "f", "ft");
    infer_ok(g);
    ck_assert_str_eq(type_of(g, "bt"), "bool[3,2]");
    IrTensor *v = run(g, 1);
    ck_assert_ptr_nonnull(v);
    EXPECT_INTS(g, v, "bt", 0, 1, 1, 0, 0, 1);
    EXPECT_INTS(g, v, "ft", 0, 3, 1, 4, 2, 5);
    free_vals(g, v);
    ir_graph_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ops_shape");
    TCase *tc = tcase_create("reshape");
    tcase_add_test(tc, reshape_infer_minus_one);
    tcase_add_test(tc, reshape_flat_symbolic);
    tcase_add_test(tc, reshape_zero_copies);
    tcase_add_test(tc, reshape_allowzero);
    tcase_add_test(tc, reshape_to_scalar);
    tcase_add_test(tc, reshape_n_squared);
    tcase_add_test(tc, reshape_err_two_minus_one);
    tcase_add_test(tc, reshape_err_below_minus_one);
    tcase_add_test(tc, reshape_err_zero_past_rank);
    tcase_add_test(tc, reshape_err_count);
    tcase_add_test(tc, reshape_err_count_symbolic);
    tcase_add_test(tc, reshape_err_not_multiple);
    tcase_add_test(tc, reshape_err_not_representable);
    tcase_add_test(tc, reshape_err_allowzero_ambiguous);
    tcase_add_test(tc, reshape_err_zero_product);
    tcase_add_test(tc, reshape_err_unknown_shape);
    tcase_add_test(tc, reshape_err_shape_dtype);
    tcase_add_test(tc, reshape_err_allowzero_value);
    tcase_add_test(tc, reshape_kernel_and_sym);
    suite_add_tcase(s, tc);
    tc = tcase_create("chains");
    tcase_add_test(tc, chain_torch_flatten);
    tcase_add_test(tc, chain_slice_concat);
    suite_add_tcase(s, tc);
    tc = tcase_create("layout");
    tcase_add_test(tc, flatten_axes);
    tcase_add_test(tc, flatten_err_axis);
    tcase_add_test(tc, flatten_err_n_squared);
    tcase_add_test(tc, transpose_shapes);
    tcase_add_test(tc, transpose_err_perm);
    tcase_add_test(tc, transpose_kernel);
    tcase_add_test(tc, squeeze_shapes);
    tcase_add_test(tc, squeeze_err_not_one);
    tcase_add_test(tc, squeeze_err_axes);
    tcase_add_test(tc, unsqueeze_shapes);
    tcase_add_test(tc, unsqueeze_errors);
    tcase_add_test(tc, dtypes_move);
    suite_add_tcase(s, tc);
    tc = tcase_create("join_split");
    tcase_add_test(tc, concat_shapes);
    tcase_add_test(tc, concat_errors);
    tcase_add_test(tc, concat_kernel);
    tcase_add_test(tc, split_equal_parts);
    tcase_add_test(tc, split_sizes_kernel);
    tcase_add_test(tc, split_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("index");
    tcase_add_test(tc, slice_shapes);
    tcase_add_test(tc, slice_symbolic_steps);
    tcase_add_test(tc, slice_symbolic_end);
    tcase_add_test(tc, slice_errors);
    tcase_add_test(tc, slice_kernel);
    tcase_add_test(tc, slice_kernel_batch);
    tcase_add_test(tc, gather_shapes);
    tcase_add_test(tc, gather_errors);
    tcase_add_test(tc, gather_kernel);
    tcase_add_test(tc, expand_shapes);
    tcase_add_test(tc, expand_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("generators");
    tcase_add_test(tc, shape_start_end);
    tcase_add_test(tc, constant_of_shape);
    tcase_add_test(tc, constant_of_shape_errors);
    tcase_add_test(tc, range_shapes);
    tcase_add_test(tc, range_errors);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
