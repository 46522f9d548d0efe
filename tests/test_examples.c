/* Tests of the cost model (ir_node_flops) on hand-built nodes, and of the example models in examples/. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

/* ---- building typed nodes without shape inference ------------------------------------ */

/* "N,784" / "2N,3" / "" (scalar) -> shape. */
static IrShape shp(const char *s)
{
    IrShape r;
    memset(&r, 0, sizeof r);
    while (*s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        IrDim d = ir_dim_const(v);
        if (*end == 'N') {
            d.a = end == s ? 1 : v;
            d.b = 0;
            end++;
        }
        if (*end == '+' || *end == '-') {   /* "N+1", "N-2" */
            d.b = strtoll(end, &end, 10);
        }
        r.d[r.rank++] = d;
        s = *end == ',' ? end + 1 : end;
    }
    return r;
}

static int val(IrGraph *g, const char *name, const char *shape)
{
    IrShape s = shp(shape);
    int id = ir_value_new(g, name, SRT_F32, &s, IR_ROLE_INPUT);
    ck_assert_int_ge(id, 0);
    return id;
}

/* A node of op with the given typed inputs and one output of type out_shape. */
static IrNode *node(IrGraph *g, IrOp op, int nin, const int *in, const char *out_shape)
{
    char name[32];
    snprintf(name, sizeof name, "out%d", g->nvalues);
    int out = val(g, name, out_shape);
    return ir_node(g, ir_node_new(g, op, "", nin, in, 1, &out));
}

/* ir_node_flops must succeed with exactly a*N + b. */
static void expect_flops(const IrGraph *g, const IrNode *n, int64_t a, int64_t b)
{
    IrDim f = {-1, -1};
    ck_assert_msg(ir_node_flops(g, n, &f), "%s: no FLOP count", ir_op_name(n->op));
    ck_assert_msg(f.a == a && f.b == b, "%s: FLOPs %lld*N + %lld, expected %lld*N + %lld", ir_op_name(n->op),
                  (long long)f.a, (long long)f.b, (long long)a, (long long)b);
}

/* Gemm: 2*M*N*K plus one per output for the bias. */
START_TEST(gemm_with_bias)
{
    IrGraph *g = ir_graph_new("t");
    int in[3] = {val(g, "x", "N,784"), val(g, "w", "256,784"), val(g, "b", "256")};
    IrNode *n = node(g, IR_OP_GEMM, 3, in, "N,256");
    ir_node_set_int(g, n, "transB", 1);
    expect_flops(g, n, 2 * 784 * 256 + 256, 0);
    ir_graph_free(g);
}
END_TEST

/* Gemm without C: no bias term. */
START_TEST(gemm_without_bias)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,784"), val(g, "w", "784,256")};
    expect_flops(g, node(g, IR_OP_GEMM, 2, in, "N,256"), 2 * 784 * 256, 0);
    ir_graph_free(g);
}
END_TEST

/* Gemm with transA takes K from A's first dim. */
START_TEST(gemm_trans_a)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "30,N"), val(g, "w", "30,5")};
    IrNode *n = node(g, IR_OP_GEMM, 2, in, "N,5");
    ir_node_set_int(g, n, "transA", 1);
    expect_flops(g, n, 2 * 5 * 30, 0);
    ir_graph_free(g);
}
END_TEST

/* Gemm with constant shapes only: everything is in the fixed part. */
START_TEST(gemm_fixed)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "4,3"), val(g, "w", "3,2")};
    expect_flops(g, node(g, IR_OP_GEMM, 2, in, "4,2"), 0, 2 * 4 * 2 * 3);
    ir_graph_free(g);
}
END_TEST

/* Batched MatMul: 2*K per output element. */
START_TEST(matmul_batched)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,16,64"), val(g, "w", "64,32")};
    expect_flops(g, node(g, IR_OP_MATMUL, 2, in, "N,16,32"), 2 * 16 * 32 * 64, 0);
    ir_graph_free(g);
}
END_TEST

/* MatMul whose K is N and whose output also grows with N: N*N is not a*N+b. */
START_TEST(matmul_quadratic_is_unknown)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,N"), val(g, "y", "N,3")};
    IrDim f;
    ck_assert(!ir_node_flops(g, node(g, IR_OP_MATMUL, 2, in, "N,3"), &f));
    ir_graph_free(g);
}
END_TEST

/* Conv: 2*out*Cin*kh*kw plus the bias. */
START_TEST(conv_with_bias)
{
    IrGraph *g = ir_graph_new("t");
    int in[3] = {val(g, "x", "N,1,28,28"), val(g, "w", "6,1,5,5"), val(g, "b", "6")};
    expect_flops(g, node(g, IR_OP_CONV, 3, in, "N,6,28,28"), 2 * 6 * 28 * 28 * 25 + 6 * 28 * 28, 0);
    ir_graph_free(g);
}
END_TEST

/* Depthwise Conv: W's second dim is Cin/group = 1. */
START_TEST(conv_depthwise)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,8,10,10"), val(g, "w", "8,1,3,3")};
    IrNode *n = node(g, IR_OP_CONV, 2, in, "N,8,10,10");
    ir_node_set_int(g, n, "group", 8);
    expect_flops(g, n, 2 * 8 * 100 * 9, 0);
    ir_graph_free(g);
}
END_TEST

/* ConvTranspose: every input element is scattered over Cout/group*kh*kw outputs. */
START_TEST(conv_transpose)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,4,5,5"), val(g, "w", "4,2,3,3")};
    expect_flops(g, node(g, IR_OP_CONVT, 2, in, "N,2,7,7"), 2 * 100 * 2 * 9, 0);
    ir_graph_free(g);
}
END_TEST

/* MaxPool: one per window element per output. */
START_TEST(maxpool)
{
    IrGraph *g = ir_graph_new("t");
    int x = val(g, "x", "N,6,28,28");
    IrNode *n = node(g, IR_OP_MAXPOOL, 1, &x, "N,6,14,14");
    int64_t k[2] = {2, 2};
    ir_node_set_ints(g, n, "kernel_shape", 2, k);
    expect_flops(g, n, 6 * 14 * 14 * 4, 0);
    ir_graph_free(g);
}
END_TEST

/* GlobalAveragePool and reductions: one per input element. */
START_TEST(reductions)
{
    IrGraph *g = ir_graph_new("t");
    int x = val(g, "x", "N,32,7,7");
    expect_flops(g, node(g, IR_OP_GAP, 1, &x, "N,32,1,1"), 32 * 49, 0);
    expect_flops(g, node(g, IR_OP_REDUCEMEAN, 1, &x, "N,32"), 32 * 49, 0);
    ir_graph_free(g);
}
END_TEST

/* Element-wise ops: one per output element (after broadcasting). */
START_TEST(elementwise)
{
    IrGraph *g = ir_graph_new("t");
    int in[2] = {val(g, "x", "N,10"), val(g, "b", "10")};
    expect_flops(g, node(g, IR_OP_ADD, 2, in, "N,10"), 10, 0);
    expect_flops(g, node(g, IR_OP_RELU, 1, in, "N,10"), 10, 0);
    expect_flops(g, node(g, IR_OP_GELU, 1, in, "N,10"), 10, 0);
    ir_graph_free(g);
}
END_TEST

/* Variadic Max: one per input after the first. */
START_TEST(variadic_max)
{
    IrGraph *g = ir_graph_new("t");
    int in[3] = {val(g, "a", "N,4"), val(g, "b", "N,4"), val(g, "c", "4")};
    expect_flops(g, node(g, IR_OP_MAX, 3, in, "N,4"), 8, 0);
    ir_graph_free(g);
}
END_TEST

/* Softmax and LayerNormalization: a few per element; Identity, Cast, Reshape: none. */
START_TEST(per_element_costs)
{
    IrGraph *g = ir_graph_new("t");
    int x = val(g, "x", "N,4,16,16");
    expect_flops(g, node(g, IR_OP_SOFTMAX, 1, &x, "N,4,16,16"), 5 * 1024, 0);
    int ln[3] = {x, val(g, "s", "16"), val(g, "b", "16")};
    expect_flops(g, node(g, IR_OP_LAYERNORM, 3, ln, "N,4,16,16"), 8 * 1024, 0);
    expect_flops(g, node(g, IR_OP_IDENTITY, 1, &x, "N,4,16,16"), 0, 0);
    int rs[2] = {x, val(g, "shape", "2")};
    expect_flops(g, node(g, IR_OP_RESHAPE, 2, rs, "N,1024"), 0, 0);
    ir_graph_free(g);
}
END_TEST

/* BatchNormalization: 2 per element at inference. */
START_TEST(batchnorm)
{
    IrGraph *g = ir_graph_new("t");
    int in[5] = {val(g, "x", "N,16,8,8"), val(g, "s", "16"), val(g, "b", "16"), val(g, "m", "16"), val(g, "v", "16")};
    expect_flops(g, node(g, IR_OP_BATCHNORM, 5, in, "N,16,8,8"), 2 * 1024, 0);
    ir_graph_free(g);
}
END_TEST

/* Dims of the form a*N+b are kept: a Relu on [2N+1, 3] is 6*N + 3. */
START_TEST(affine_dims)
{
    IrGraph *g = ir_graph_new("t");
    int x = val(g, "x", "2N+1,3");
    expect_flops(g, node(g, IR_OP_RELU, 1, &x, "2N+1,3"), 6, 3);
    ir_graph_free(g);
}
END_TEST

/* An untyped input makes the count unknown instead of crashing. */
START_TEST(untyped_is_unknown)
{
    IrGraph *g = ir_graph_new("t");
    int x = ir_value_new(g, "x", SRT_F32, NULL, IR_ROLE_INPUT);
    IrNode *n = node(g, IR_OP_RELU, 1, &x, "N,3");
    IrDim f;
    ck_assert(!ir_node_flops(g, n, &f));
    ir_graph_free(g);
}
END_TEST

/* ---- the example models ------------------------------------------------------------ */

static IrGraph *load_example(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "examples/%s.json", name);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src(rel), &d);
    ck_assert_msg(g != NULL, "%s: %s", name, d.count ? d.msgs[0] : "no diagnostic");
    ir_diag_free(&d);
    return g;
}

static void graph_flops(const IrGraph *g, int64_t *a, int64_t *b)
{
    *a = *b = 0;
    for (int i = 0; i < g->nnodes; i++) {
        IrDim f;
        ck_assert_msg(ir_node_flops(g, g->nodes[i], &f), "node %d (%s) has no FLOP count", i,
                      ir_op_name(g->nodes[i]->op));
        *a += f.a;
        *b += f.b;
    }
}

static int64_t param_count(const IrGraph *g, int64_t *frozen)
{
    int64_t total = 0;
    *frozen = 0;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        IrDim ne;
        if (v->role != IR_ROLE_PARAM)
            continue;
        ck_assert(ir_shape_numel(&v->shape, &ne) && ne.a == 0);
        ck_assert_msg(v->data != NULL, "param %s has no data", v->name);
        total += ne.b;
        if (!v->trainable)
            *frozen += ne.b;
    }
    return total;
}

/* Each example loads, passes the default pipeline with verification, keeps its output
 * type, and has the hand-counted params and FLOPs (numbers as in tests/cli/check.sh). */
typedef struct ExampleFacts {
    const char *name;
    const char *input_type, *logits_type;
    int64_t params, frozen, flops_per_sample;
    int64_t flops_fixed;      /* per call, whatever the batch: fold_bn's per-channel scale and shift */
} ExampleFacts;

static const ExampleFacts examples[] = {
    /* fmnist_mlp and lenet5: 784 + 784 for the input standardization (normalize.sub, normalize.div) */
    {"fmnist_mlp", "f32[N,784]", "f32[N,10]", 203530, 0, 408618, 0},
    {"lenet5", "f32[N,1,28,28]", "f32[N,10]", 61706, 0, 853938, 0},
    {"resnet_small", "f32[N,1,28,28]", "f32[N,10]", 19994, 288, 13259658, 720},
    {"transformer_encoder", "f32[N,16,64]", "f32[N,10]", 34122, 0, 1150218, 0},
};

START_TEST(example_loads_and_costs)
{
    const ExampleFacts *e = &examples[_i];
    IrGraph *g = load_example(e->name);
    char type[64];
    ck_assert_int_eq(g->ninputs, 1);
    const IrValue *x = ir_val(g, g->inputs[0]);
    ir_type_format(x->dtype, &x->shape, type, sizeof type);
    ck_assert_str_eq(type, e->input_type);
    ck_assert_int_eq(g->noutputs, 1);
    const IrValue *y = ir_val(g, g->outputs[0]);
    ck_assert_str_eq(y->name, "logits");
    ir_type_format(y->dtype, &y->shape, type, sizeof type);
    ck_assert_str_eq(type, e->logits_type);
    ck_assert_ptr_nonnull(g->training);
    ck_assert_int_eq(g->training->ninputs, 1);
    ck_assert_int_eq(g->training->loss->op, IR_OP_SCELOSS);

    IrDiag d;
    ir_diag_init(&d, e->name);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    ck_assert_msg(pass_run_pipeline(g, &ctx) == 0, "%s", d.count ? d.msgs[0] : "?");
    ck_assert_int_eq(ir_verify(g, &d), 0);
    ir_diag_free(&d);

    int64_t frozen, a, b;
    ck_assert_int_eq(param_count(g, &frozen), e->params);
    ck_assert_int_eq(frozen, e->frozen);
    graph_flops(g, &a, &b);
    ck_assert_int_eq(a, e->flops_per_sample);
    ck_assert_int_eq(b, e->flops_fixed);
    ir_graph_free(g);
}
END_TEST

/* The transformer's PyTorch-style Shape->Gather->Unsqueeze->Concat targets fold to
 * symbolic shapes: the heads reshape gives f32[N,16,4,16] and the merge f32[N,16,64]. */
START_TEST(transformer_symbolic_reshape)
{
    IrGraph *g = load_example("transformer_encoder");
    char type[64];
    const IrValue *v = ir_val(g, ir_value_find(g, "q.heads"));
    ir_type_format(v->dtype, &v->shape, type, sizeof type);
    ck_assert_str_eq(type, "f32[N,16,4,16]");
    v = ir_val(g, ir_value_find(g, "context.merged"));
    ir_type_format(v->dtype, &v->shape, type, sizeof type);
    ck_assert_str_eq(type, "f32[N,16,64]");
    ir_graph_free(g);
}
END_TEST

/* BatchNormalization running statistics are frozen params initialized to 0 and 1. */
START_TEST(resnet_running_stats_frozen)
{
    IrGraph *g = load_example("resnet_small");
    const IrValue *m = ir_val(g, ir_value_find(g, "stem.bn.running_mean"));
    const IrValue *var = ir_val(g, ir_value_find(g, "stem.bn.running_var"));
    ck_assert(!m->trainable && !var->trainable);
    ck_assert(ir_val(g, ir_value_find(g, "stem.bn.weight"))->trainable);
    for (int i = 0; i < 16; i++) {
        ck_assert(((const float *)m->data)[i] == 0.0f);
        ck_assert(((const float *)var->data)[i] == 1.0f);
    }
    ir_graph_free(g);
}
END_TEST

/* PyTorch nn.Linear initialization: weights and biases within +-1/sqrt(fan_in), not all equal. */
START_TEST(mlp_init_bounds)
{
    IrGraph *g = load_example("fmnist_mlp");
    const IrValue *w = ir_val(g, ir_value_find(g, "fc1.weight"));
    const IrValue *b = ir_val(g, ir_value_find(g, "fc1.bias"));
    const float *wd = w->data, *bd = b->data;
    float bound = 1.0f / 28.0f, lo = 1, hi = -1;
    for (int i = 0; i < 256 * 784; i++) {
        ck_assert(wd[i] >= -bound * 1.0001f && wd[i] <= bound * 1.0001f);
        lo = wd[i] < lo ? wd[i] : lo;
        hi = wd[i] > hi ? wd[i] : hi;
    }
    ck_assert(lo < -0.9f * bound && hi > 0.9f * bound);   /* spans the range */
    for (int i = 0; i < 256; i++)
        ck_assert(bd[i] >= -bound && bd[i] <= bound);
    ir_graph_free(g);
}
END_TEST

/* The interpreter runs every example at N=2 and produces finite logits. */
START_TEST(example_runs)
{
    const ExampleFacts *e = &examples[_i];
    IrGraph *g = load_example(e->name);
    const IrValue *x = ir_val(g, g->inputs[0]);
    int64_t dims[IR_MAX_RANK];
    ck_assert(ir_shape_eval(&x->shape, 2, dims));
    IrTensor in;
    ck_assert_int_eq(ir_tensor_alloc(&in, x->dtype, x->shape.rank, dims), 0);
    for (int64_t i = 0; i < in.numel; i++)
        ir_tensor_setf(&in, i, (double)(i % 17) / 17.0);
    IrTensor *vals = calloc((size_t)g->nvalues, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, e->name);
    ck_assert_msg(ir_interp_eval(g, 2, &in, false, vals, &d) == 0, "%s", d.count ? d.msgs[0] : "?");
    const IrTensor *logits = &vals[g->outputs[0]];
    ck_assert_int_eq(logits->numel, 20);
    for (int64_t i = 0; i < logits->numel; i++)
        ck_assert(isfinite(ir_tensor_getf(logits, i)));
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
    ir_tensor_free(&in);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("examples");
    TCase *c = tcase_create("cost");
    tcase_add_test(c, gemm_with_bias);
    tcase_add_test(c, gemm_without_bias);
    tcase_add_test(c, gemm_trans_a);
    tcase_add_test(c, gemm_fixed);
    tcase_add_test(c, matmul_batched);
    tcase_add_test(c, matmul_quadratic_is_unknown);
    tcase_add_test(c, conv_with_bias);
    tcase_add_test(c, conv_depthwise);
    tcase_add_test(c, conv_transpose);
    tcase_add_test(c, maxpool);
    tcase_add_test(c, reductions);
    tcase_add_test(c, elementwise);
    tcase_add_test(c, variadic_max);
    tcase_add_test(c, per_element_costs);
    tcase_add_test(c, batchnorm);
    tcase_add_test(c, affine_dims);
    tcase_add_test(c, untyped_is_unknown);
    suite_add_tcase(s, c);
    TCase *e = tcase_create("examples");
    tcase_set_timeout(e, 60);
    int n = (int)(sizeof examples / sizeof examples[0]);
    tcase_add_loop_test(e, example_loads_and_costs, 0, n);
    tcase_add_loop_test(e, example_runs, 0, n);
    tcase_add_test(e, transformer_symbolic_reshape);
    tcase_add_test(e, resnet_running_stats_frozen);
    tcase_add_test(e, mlp_init_bounds);
    suite_add_tcase(s, e);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
