/* Tests of the autodiff pass: the training graph's structure, names, state, updates, dropout and errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* The text with ' turned into " (malloc'ed). */
static char *dq(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

static IrGraph *parse(const char *json_sq)
{
    char *text = dq(json_sq);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(text, strlen(text), "m.json", NULL, &d);
    ck_assert_msg(g != NULL, "parse: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    free(text);
    return g;
}

/* Runs passes (comma-separated) with verification; returns 0 or -1 with d filled. */
static int run(IrGraph *g, const char *passes, IrDiag *d)
{
    const char *names[16];
    char buf[256];
    snprintf(buf, sizeof buf, "%s", passes);
    int n = 0;
    for (char *p = strtok(buf, ","); p; p = strtok(NULL, ","))
        names[n++] = p;
    PassContext ctx;
    pass_context_init(&ctx, d);
    ctx.pipeline = names;
    ctx.npipeline = n;
    ctx.verify = true;
    return pass_run_pipeline(g, &ctx);
}

static void run_ok(IrGraph *g, const char *passes)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = run(g, passes, &d);
    ck_assert_msg(rc == 0, "%s: %s", passes, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
}

/* The printed graph (malloc'ed). */
static char *print(const IrGraph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ir_print_text(g, f, NULL);
    fclose(f);
    return buf;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

#define ASSERT_LINE(text, line) ck_assert_msg(has_line(text, line), "missing line: %s\n--- in ---\n%s", line, text)

static const IrNode *producer(const IrGraph *g, const char *name)
{
    int id = ir_value_find(g, name);
    ck_assert_msg(id >= 0, "no value %s", name);
    ck_assert_int_ge(ir_val(g, id)->producer, 0);
    return ir_node(g, ir_val(g, id)->producer);
}

/* A two-layer model with a frozen param, an input-fed Gemm, and a choice of optimizer. */
static const char *mlp(const char *optimizer)
{
    static char buf[4096];
    snprintf(buf, sizeof buf,
             "{'sinter': 1, 'name': 'mlp', 'seed': 3, 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 4]}], "
             "'outputs': ['logits'], 'params': ["
             "{'name': 'w1', 'dtype': 'float32', 'shape': [8, 4], 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}, "
             "{'name': 'b1', 'dtype': 'float32', 'shape': [8], 'init': {'kind': 'zeros'}}, "
             "{'name': 'w2', 'dtype': 'float32', 'shape': [3, 8], 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}, "
             "{'name': 'b2', 'dtype': 'float32', 'shape': [3], 'trainable': false, 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}], "
             "'nodes': [{'name': 'fc1', 'op': 'Gemm', 'inputs': ['x', 'w1', 'b1'], 'outputs': ['h'], 'attrs': {'transB': 1}}, "
             "{'name': 'act', 'op': 'Relu', 'inputs': ['h'], 'outputs': ['a']}, "
             "{'name': 'fc2', 'op': 'Gemm', 'inputs': ['a', 'w2', 'b2'], 'outputs': ['logits'], 'attrs': {'transB': 1}}], "
             "'training': {'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': ['N']}], "
             "'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['logits', 'y']}, 'optimizer': %s}}",
             optimizer);
    return buf;
}

/* ---- structure and names --------------------------------------------------------------------- */

/* The MLP's training graph, line by line: gradients, Adam updates, state and update pairs. */
START_TEST(test_mlp_adam_dump)
{
    IrGraph *g = parse(mlp("{'kind': 'adam', 'lr': 0.01}"));
    run_ok(g, "shape_infer,autodiff");
    char *t = print(g);
    ASSERT_LINE(t, "param %optim.step : i64[] optimizer state = 0");
    ASSERT_LINE(t, "param %optim.lr : f32[] optimizer state = 0.01");
    ASSERT_LINE(t, "param %\"adam.m/w1\" : f32[8,4] optimizer state = <32 values, all 0>");
    ASSERT_LINE(t, "param %\"adam.v/b1\" : f32[8] optimizer state = [0, 0, 0, 0, 0, 0, 0, 0]");
    ASSERT_LINE(t, "%\"grad/logits\" = SCELossGrad(%logits, %y) : f32[N,3]    # bwd/loss");
    ASSERT_LINE(t, "%\"grad/a\" = Gemm(%\"grad/logits\", %w2) : f32[N,8]    # bwd/fc2");
    ASSERT_LINE(t, "%\"grad/w2\" = Gemm(%\"grad/logits\", %a) {transA=1} : f32[3,8]    # bwd/fc2");
    ASSERT_LINE(t, "%\"grad/h\" = ReluGrad(%\"grad/a\", %h) : f32[N,8]    # bwd/act");
    ASSERT_LINE(t, "%\"grad/w1\" = Gemm(%\"grad/h\", %x) {transA=1} : f32[8,4]    # bwd/fc1");
    ASSERT_LINE(t, "%\"grad/b1\" = ReduceSum(%\"grad/h\", %\"autodiff/ints\") {keepdims=0} : f32[8]    # bwd/fc1");
    ASSERT_LINE(t, "%\"next/w1\", %\"next/adam.m/w1\", %\"next/adam.v/w1\" = AdamUpdate(%w1, %\"grad/w1\", %optim.lr, "
                   "%optim.step, %\"adam.m/w1\", %\"adam.v/w1\") {beta1=0.9, beta2=0.999, decoupled=0, eps=1e-08, "
                   "weight_decay=0} : f32[8,4], f32[8,4], f32[8,4]    # optim/w1");
    ASSERT_LINE(t, "%\"next/optim.step\" = Add(%optim.step, %\"autodiff/1\") : i64[]    # optim/step");
    ASSERT_LINE(t, "training update %w1 <- %\"next/w1\"");
    ASSERT_LINE(t, "training update %\"adam.v/w2\" <- %\"next/adam.v/w2\"");
    ASSERT_LINE(t, "training update %optim.step <- %\"next/optim.step\"");
    ASSERT_LINE(t, "training grad %w1 : %\"grad/w1\"");
    ASSERT_LINE(t, "training grad %w2 : %\"grad/w2\"");
    /* no gradient w.r.t. the input x */
    ck_assert_int_lt(ir_value_find(g, "grad/x"), 0);
    free(t);
    ir_graph_free(g);
}
END_TEST

/* A frozen param gets no gradient, no optimizer state and no update. */
START_TEST(test_frozen_param_untouched)
{
    IrGraph *g = parse(mlp("{'kind': 'adam'}"));
    run_ok(g, "shape_infer,autodiff");
    const IrTraining *t = g->training;
    int b2 = ir_value_find(g, "b2");
    ck_assert_int_eq(t->ngrads, 3);
    for (int i = 0; i < t->ngrads; i++)
        ck_assert_int_ne(t->grad_param[i], b2);
    ck_assert_int_lt(ir_training_find_update(g, b2), 0);
    ck_assert_int_lt(ir_value_find(g, "grad/b2"), 0);
    ck_assert_int_lt(ir_value_find(g, "adam.m/b2"), 0);
    /* 3 params x 3 (param, m, v) + the step counter */
    ck_assert_int_eq(t->nupdates, 10);
    ir_graph_free(g);
}
END_TEST

/* SGD with momentum: one buffer per param, named sgd.momentum/<param>, with the hyper-parameters. */
START_TEST(test_sgd_momentum_state)
{
    IrGraph *g = parse(mlp("{'kind': 'sgd', 'lr': 0.1, 'momentum': 0.9, 'nesterov': true, 'weight_decay': 0.01}"));
    run_ok(g, "shape_infer,autodiff");
    char *t = print(g);
    ASSERT_LINE(t, "%\"next/w2\", %\"next/sgd.momentum/w2\" = SgdUpdate(%w2, %\"grad/w2\", %optim.lr, %optim.step, "
                   "%\"sgd.momentum/w2\") {dampening=0, momentum=0.9, nesterov=1, weight_decay=0.01} : f32[3,8], "
                   "f32[3,8]    # optim/w2");
    ASSERT_LINE(t, "training update %\"sgd.momentum/w1\" <- %\"next/sgd.momentum/w1\"");
    ck_assert_int_eq(g->training->nupdates, 7);
    free(t);
    ir_graph_free(g);
}
END_TEST

/* SGD without momentum keeps no buffer; AdamW sets decoupled. */
START_TEST(test_plain_sgd_and_adamw)
{
    IrGraph *g = parse(mlp("{'kind': 'sgd', 'lr': 0.5}"));
    run_ok(g, "shape_infer,autodiff");
    char *t = print(g);
    ASSERT_LINE(t, "%\"next/w1\" = SgdUpdate(%w1, %\"grad/w1\", %optim.lr, %optim.step) {dampening=0, momentum=0, "
                   "nesterov=0, weight_decay=0} : f32[8,4]    # optim/w1");
    ck_assert_int_lt(ir_value_find(g, "sgd.momentum/w1"), 0);
    ck_assert_int_eq(g->training->nupdates, 4);
    free(t);
    ir_graph_free(g);
    g = parse(mlp("{'kind': 'adamw', 'lr': 0.01}"));
    run_ok(g, "shape_infer,autodiff");
    const IrNode *n = producer(g, "next/w1");
    ck_assert_int_eq(n->op, IR_OP_ADAMUPDATE);
    ck_assert_int_eq(ir_attr_int(n, "decoupled"), 1);
    ck_assert(ir_attr_float(n, "weight_decay") == 0.01);
    ir_graph_free(g);
}
END_TEST

/* A param used by two nodes: the contributions are summed with Add into grad/<param>. */
START_TEST(test_accumulation_names)
{
    IrGraph *g = parse("{'sinter': 1, 'name': 'm', 'inputs': [], 'outputs': ['out'], "
                       "'params': [{'name': 'p', 'dtype': 'float64', 'shape': [2], 'init': {'kind': 'ones'}}], "
                       "'nodes': [{'op': 'Mul', 'inputs': ['p', 'p'], 'outputs': ['sq']}, "
                       "{'op': 'Exp', 'inputs': ['p'], 'outputs': ['e']}, {'op': 'Add', 'inputs': ['sq', 'e'], 'outputs': ['out']}], "
                       "'training': {'inputs': [{'name': 't', 'dtype': 'float64', 'shape': [2]}], "
                       "'loss': {'op': 'MSELoss', 'inputs': ['out', 't'], 'attrs': {'reduction': 'sum'}}, "
                       "'optimizer': {'kind': 'sgd', 'lr': 0.1}}}");
    run_ok(g, "shape_infer,autodiff");
    const IrNode *n = producer(g, "grad/p");
    ck_assert_int_eq(n->op, IR_OP_ADD);
    ck_assert_str_eq(n->name, "bwd/p");
    /* three contributions (Mul twice, Exp once): two Adds */
    int adds = 0;
    for (int i = 0; i < g->nnodes; i++)
        adds += ir_node(g, i)->op == IR_OP_ADD && !strcmp(ir_node(g, i)->name, "bwd/p");
    ck_assert_int_eq(adds, 2);
    ck_assert_int_ge(ir_value_find(g, "grad/out"), 0);
    ir_graph_free(g);
}
END_TEST

/* Two params whose gradient is one value get one distinct gradient value each. */
START_TEST(test_shared_gradient_gets_copies)
{
    IrGraph *g = parse("{'sinter': 1, 'name': 'm', 'inputs': [], 'outputs': ['out'], "
                       "'params': [{'name': 'a', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}, "
                       "{'name': 'b', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}], "
                       "'nodes': [{'op': 'Add', 'inputs': ['a', 'b'], 'outputs': ['out']}], "
                       "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': [2]}], "
                       "'loss': {'op': 'MSELoss', 'inputs': ['out', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}");
    run_ok(g, "shape_infer,autodiff");
    const IrTraining *t = g->training;
    ck_assert_int_eq(t->ngrads, 2);
    ck_assert_int_ne(t->grad_value[0], t->grad_value[1]);
    ck_assert_str_eq(ir_val(g, t->grad_value[0])->name, "grad/a");
    ck_assert_str_eq(ir_val(g, t->grad_value[1])->name, "grad/b");
    ir_graph_free(g);
}
END_TEST

/* Pow with a float64 exponent on a float32 base: the exponent's gradient is cast back to float64. */
START_TEST(test_pow_mixed_dtypes)
{
    IrGraph *g = parse("{'sinter': 1, 'name': 'm', 'inputs': [], 'outputs': ['out'], "
                       "'params': [{'name': 'a', 'dtype': 'float32', 'shape': [3], 'init': {'kind': 'ones'}}, "
                       "{'name': 'e', 'dtype': 'float64', 'shape': [], 'init': {'kind': 'ones'}}], "
                       "'nodes': [{'op': 'Pow', 'inputs': ['a', 'e'], 'outputs': ['out']}], "
                       "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': [3]}], "
                       "'loss': {'op': 'MSELoss', 'inputs': ['out', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}");
    run_ok(g, "shape_infer,autodiff");
    int ge = ir_value_find(g, "grad/e");
    ck_assert_int_ge(ge, 0);
    ck_assert_int_eq(ir_val(g, ge)->dtype, SRT_F64);
    ck_assert_int_eq(ir_val(g, ir_value_find(g, "grad/a"))->dtype, SRT_F32);
    ir_graph_free(g);
}
END_TEST

/* The pass runs once: a second run leaves the training graph as it is. */
START_TEST(test_idempotent)
{
    IrGraph *g = parse(mlp("{'kind': 'adam'}"));
    run_ok(g, "shape_infer,autodiff");
    char *a = print(g);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ck_assert_int_eq(pass_autodiff(g, &ctx), PASS_UNCHANGED);
    char *b = print(g);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* A model without a training section is left alone. */
START_TEST(test_no_training_unchanged)
{
    IrGraph *g = parse("{'sinter': 1, 'name': 'm', 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': [2]}], "
                       "'outputs': ['y'], 'nodes': [{'op': 'Relu', 'inputs': ['x'], 'outputs': ['y']}]}");
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    int before = g->nnodes;
    ck_assert_int_eq(pass_autodiff(g, &ctx), PASS_UNCHANGED);
    ck_assert_int_eq(g->nnodes, before);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* The pass statistics count nodes, trained params and state values. */
START_TEST(test_stats)
{
    IrGraph *g = parse(mlp("{'kind': 'adam'}"));
    IrDiag d;
    ir_diag_init(&d, NULL);
    const char *names[] = {"shape_infer", "autodiff"};
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.pipeline = names;
    ctx.npipeline = 2;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), 0);
    ck_assert_int_eq(pass_stat_get(&ctx, "autodiff", "params trained"), 3);
    ck_assert_int_eq(pass_stat_get(&ctx, "autodiff", "state values added"), 8);   /* step, lr, 3 x (m, v) */
    ck_assert_int_gt(pass_stat_get(&ctx, "autodiff", "nodes added"), 8);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* The passes after autodiff (const_fold, dce, cse) keep the whole training graph and verify. */
START_TEST(test_later_passes_keep_training_graph)
{
    IrGraph *g = fe_load_model(tu_src("examples/lenet5.json"), NULL);
    ck_assert_ptr_nonnull(g);
    run_ok(g, "shape_infer,const_fold,autodiff,const_fold,dce,cse,dce");
    const IrTraining *t = g->training;
    ck_assert_int_eq(t->ngrads, 10);
    ck_assert_int_eq(t->nupdates, 31);
    for (int i = 0; i < t->nupdates; i++)
        ck_assert_int_ge(ir_val(g, t->update_src[i])->producer, 0);
    /* the step counter is not folded although optim.step has data */
    const IrNode *n = producer(g, "next/optim.step");
    ck_assert_int_eq(n->op, IR_OP_ADD);
    ir_graph_free(g);
}
END_TEST

/* ---- training forms: BatchNorm and Dropout ---------------------------------------------------- */

static const char *bn_model =
    "{'sinter': 1, 'name': 'bn', 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 2, 3]}], 'outputs': ['y'], "
    "'params': [{'name': 's', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}, "
    "{'name': 'b', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'zeros'}}, "
    "{'name': 'rm', 'dtype': 'float32', 'shape': [2], 'trainable': false, 'init': {'kind': 'zeros'}}, "
    "{'name': 'rv', 'dtype': 'float32', 'shape': [2], 'trainable': false, 'init': {'kind': 'ones'}}], "
    "'nodes': [{'name': 'bn', 'op': 'BatchNormalization', 'inputs': ['x', 's', 'b', 'rm', 'rv'], 'outputs': ['y'], "
    "'attrs': {'momentum': 0.8}}], "
    "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': ['N', 2, 3]}], "
    "'loss': {'op': 'MSELoss', 'inputs': ['y', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}";

/* BatchNormalization becomes its training form; its running statistics are update pairs. */
START_TEST(test_batchnorm_training_form)
{
    IrGraph *g = parse(bn_model);
    run_ok(g, "shape_infer,autodiff");
    char *t = print(g);
    ASSERT_LINE(t, "%y, %\"next/rm\", %\"next/rv\" = BatchNormalization(%x, %s, %b, %rm, %rv) {momentum=0.8, "
                   "training_mode=1, unbiased=1} : f32[N,2,3], f32[2], f32[2]    # bn");
    /* x is an input: its gradient is made (the op has three outputs) but not kept as grad/x */
    ASSERT_LINE(t, "%\"bwd/bn/BatchNormGrad\", %\"grad/s\", %\"grad/b\" = BatchNormGrad(%\"grad/y\", %x, %s) {epsilon=1e-05} : "
                   "f32[N,2,3], f32[2], f32[2]    # bwd/bn");
    ASSERT_LINE(t, "training update %rm <- %\"next/rm\"");
    ASSERT_LINE(t, "training update %rv <- %\"next/rv\"");
    ck_assert_int_eq(g->training->ngrads, 2);
    free(t);
    ir_graph_free(g);
}
END_TEST

/* The BatchNorm running statistics are forward updates: not part of the optimizer step. */
START_TEST(test_apply_nodes_split)
{
    IrGraph *g = parse(bn_model);
    run_ok(g, "shape_infer,autodiff");
    bool *apply = calloc((size_t)g->nnodes, sizeof(bool));
    ir_training_apply_nodes(g, apply);
    for (int i = 0; i < g->nnodes; i++) {
        IrOp op = ir_node(g, i)->op;
        bool opt = op == IR_OP_SGDUPDATE || (op == IR_OP_ADD && !strcmp(ir_node(g, i)->name, "optim/step"));
        ck_assert_msg(apply[i] == opt, "node %d (%s)", i, ir_op_name(op));
    }
    free(apply);
    ir_graph_free(g);
}
END_TEST

static const char *dropout_model =
    "{'sinter': 1, 'name': 'dr', 'seed': 42, 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 1000]}], "
    "'outputs': ['y'], 'params': [{'name': 'w', 'dtype': 'float32', 'shape': [1000], 'init': {'kind': 'ones'}}], "
    "'constants': [{'name': 'r', 'dtype': 'float32', 'shape': [], 'data': [0.25]}], "
    "'nodes': [{'op': 'Mul', 'inputs': ['x', 'w'], 'outputs': ['h']}, "
    "{'name': 'drop', 'op': 'Dropout', 'inputs': ['h', 'r'], 'outputs': ['y', 'keep']}], "
    "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': ['N', 1000]}], "
    "'loss': {'op': 'MSELoss', 'inputs': ['y', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}";

/* Dropout becomes x * DropoutMask(x, step) with the ratio and a seed from the model and node. */
START_TEST(test_dropout_training_form)
{
    IrGraph *g = parse(dropout_model);
    run_ok(g, "shape_infer,autodiff");
    const IrNode *m = producer(g, "dropout.mask/y");
    ck_assert_int_eq(m->op, IR_OP_DROPOUTMASK);
    ck_assert(fabs(ir_attr_float(m, "ratio") - 0.25) < 1e-7);
    ck_assert_str_eq(ir_val(g, m->in[1])->name, "optim.step");
    const IrNode *y = producer(g, "y");
    ck_assert_int_eq(y->op, IR_OP_MUL);
    ck_assert_int_eq(y->in[1], m->out[0]);
    ck_assert_int_eq(producer(g, "keep")->op, IR_OP_GREATER);
    /* the gradient goes through the same mask */
    const IrNode *gh = producer(g, "grad/h");
    ck_assert_int_eq(gh->op, IR_OP_MUL);
    ck_assert(gh->in[0] == m->out[0] || gh->in[1] == m->out[0]);
    ir_graph_free(g);
}
END_TEST

/* The mask: 0 or 1/(1-ratio), about ratio of the elements dropped, a new mask each step, the
 * same mask for the same step, and the bool mask output agreeing. */
START_TEST(test_dropout_mask_values)
{
    IrGraph *g = parse(dropout_model);
    run_ok(g, "shape_infer,autodiff");
    int mask = ir_value_find(g, "dropout.mask/y"), keep = ir_value_find(g, "keep"), step = ir_value_find(g, "optim.step");
    IrTensor in[2];
    int64_t dims[2] = {4, 1000};
    ck_assert_int_eq(ir_tensor_alloc(&in[0], SRT_F32, 2, dims), 0);
    ck_assert_int_eq(ir_tensor_alloc(&in[1], SRT_F32, 2, dims), 0);
    double *first = calloc(4000, sizeof(double));
    for (int s = 0; s < 3; s++) {
        *(int64_t *)ir_val(g, step)->data = s % 2;   /* steps 0, 1, 0 */
        IrTensor *vals = calloc((size_t)g->nvalues, sizeof *vals);
        IrDiag d;
        ir_diag_init(&d, NULL);
        ck_assert_int_eq(ir_interp_eval(g, 4, in, true, vals, &d), 0);
        int dropped = 0, same = 0;
        for (int64_t e = 0; e < 4000; e++) {
            double v = ir_tensor_getf(&vals[mask], e);
            ck_assert(v == 0 || fabs(v - 1 / 0.75) < 1e-6);
            ck_assert_int_eq(ir_tensor_geti(&vals[keep], e), v != 0);
            dropped += v == 0;
            if (s == 0)
                first[e] = v;
            same += first[e] == v;
        }
        ck_assert_int_gt(dropped, 850);
        ck_assert_int_lt(dropped, 1150);
        if (s == 1)
            ck_assert_int_lt(same, 3000);   /* another step, another mask */
        if (s == 2)
            ck_assert_int_eq(same, 4000);   /* the same step, the same mask */
        for (int i = 0; i < g->nvalues; i++)
            ir_tensor_free(&vals[i]);
        free(vals);
        ir_diag_free(&d);
    }
    free(first);
    ir_tensor_free(&in[0]);
    ir_tensor_free(&in[1]);
    ir_graph_free(g);
}
END_TEST

/* The counter-based RNG is pinned (docs/training.md): codegen must reproduce these bits. */
START_TEST(test_dropout_rng_reference)
{
    IrGraph *g = ir_graph_new("rng");
    int64_t dims[1] = {8};
    IrShape s8 = ir_shape_make(1, dims), s0 = {.rank = 0};
    int x = ir_value_new(g, "x", SRT_F64, &s8, IR_ROLE_INPUT);
    int step = ir_value_new(g, "step", SRT_I64, &s0, IR_ROLE_INPUT);
    int m = ir_value_new(g, "m", SRT_F64, NULL, IR_ROLE_ACT);
    int in[2] = {x, step};
    IrNode *n = ir_node(g, ir_node_new(g, IR_OP_DROPOUTMASK, "", 2, in, 1, &m));
    ir_node_set_float(g, n, "ratio", 0.5);
    ir_node_set_int(g, n, "seed", 12345);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(ir_op_info(n->op)->shape(g, n, &d), 0);
    IrTensor tx, ts, tm;
    ck_assert_int_eq(ir_tensor_alloc(&tx, SRT_F64, 1, dims), 0);
    ck_assert_int_eq(ir_tensor_alloc(&ts, SRT_I64, 0, NULL), 0);
    ck_assert_int_eq(ir_tensor_alloc(&tm, SRT_F64, 1, dims), 0);
    ir_tensor_seti(&ts, 0, 7);
    IrTensor *pin[2] = {&tx, &ts}, *pout[1] = {&tm};
    ck_assert_int_eq(ir_op_info(n->op)->ref(g, n, pin, pout, &d), 0);
    /* mask bits for seed 12345, step 7, ratio 0.5 (1 = kept, scaled by 2) */
    char bits[9] = {0};
    for (int i = 0; i < 8; i++)
        bits[i] = ir_tensor_getf(&tm, i) == 2 ? '1' : ir_tensor_getf(&tm, i) == 0 ? '0' : '?';
    ck_assert_str_eq(bits, "11100000");   /* computed independently from the spec in Python */
    ir_tensor_free(&tx);
    ir_tensor_free(&ts);
    ir_tensor_free(&tm);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------------ */

static const char *autodiff_error(const char *model)
{
    static char msg[1024];
    IrGraph *g = parse(model);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_ne(run(g, "shape_infer,autodiff", &d), 0);
    snprintf(msg, sizeof msg, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "");
    ir_diag_free(&d);
    ir_graph_free(g);
    return msg;
}

/* A loss with reduction "none" is not a scalar: a diagnostic says what to use. */
START_TEST(test_error_reduction_none)
{
    ck_assert_str_eq(autodiff_error(
                         "{'sinter': 1, 'name': 'm', 'inputs': [], 'outputs': ['out'], "
                         "'params': [{'name': 'p', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}], "
                         "'nodes': [{'op': 'Relu', 'inputs': ['p'], 'outputs': ['out']}], "
                         "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': [2]}], "
                         "'loss': {'op': 'MSELoss', 'inputs': ['out', 't'], 'attrs': {'reduction': 'none'}}, "
                         "'optimizer': {'kind': 'sgd', 'lr': 0.1}}}"),
                     "training.loss (MSELoss): autodiff: reduction \"none\" gives one loss per element; training needs a "
                     "scalar loss (use \"mean\" or \"sum\")");
}
END_TEST

/* A loss that depends on LayerNormalization's Mean output is reported. */
START_TEST(test_error_layernorm_mean_output)
{
    ck_assert_str_eq(autodiff_error(
                         "{'sinter': 1, 'name': 'm', 'inputs': [], 'outputs': ['out'], "
                         "'params': [{'name': 'p', 'dtype': 'float32', 'shape': [2, 3], 'init': {'kind': 'ones'}}, "
                         "{'name': 's', 'dtype': 'float32', 'shape': [3], 'init': {'kind': 'ones'}}], "
                         "'nodes': [{'name': 'ln', 'op': 'LayerNormalization', 'inputs': ['p', 's'], 'outputs': ['y', 'mu']}, "
                         "{'op': 'Mul', 'inputs': ['y', 'mu'], 'outputs': ['out']}], "
                         "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': [2, 3]}], "
                         "'loss': {'op': 'MSELoss', 'inputs': ['out', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}"),
                     "nodes[0] \"ln\" (LayerNormalization): autodiff: the loss depends on the Mean/InvStdDev outputs; their "
                     "gradient is not supported");
}
END_TEST

/* A Dropout ratio computed at run time cannot be trained with. */
START_TEST(test_error_dropout_ratio_computed)
{
    ck_assert_str_eq(autodiff_error(
                         "{'sinter': 1, 'name': 'm', 'inputs': [{'name': 'r', 'dtype': 'float32', 'shape': []}], 'outputs': ['out'], "
                         "'params': [{'name': 'p', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}], "
                         "'nodes': [{'op': 'Dropout', 'inputs': ['p', 'r'], 'outputs': ['out']}], "
                         "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': [2]}], "
                         "'loss': {'op': 'MSELoss', 'inputs': ['out', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}"),
                     "nodes[0] (Dropout): autodiff: inputs[1] (ratio) \"r\" is computed; training needs a constant ratio");
}
END_TEST

/* Two BatchNormalization nodes sharing running statistics are rejected. */
START_TEST(test_error_shared_running_mean)
{
    ck_assert_str_eq(autodiff_error(
                         "{'sinter': 1, 'name': 'm', 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 2]}], "
                         "'outputs': ['z'], 'params': [{'name': 's', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'ones'}}, "
                         "{'name': 'b', 'dtype': 'float32', 'shape': [2], 'init': {'kind': 'zeros'}}, "
                         "{'name': 'rm', 'dtype': 'float32', 'shape': [2], 'trainable': false, 'init': {'kind': 'zeros'}}, "
                         "{'name': 'rv', 'dtype': 'float32', 'shape': [2], 'trainable': false, 'init': {'kind': 'ones'}}], "
                         "'nodes': [{'name': 'bn1', 'op': 'BatchNormalization', 'inputs': ['x', 's', 'b', 'rm', 'rv'], 'outputs': ['y']}, "
                         "{'name': 'bn2', 'op': 'BatchNormalization', 'inputs': ['y', 's', 'b', 'rm', 'rv'], 'outputs': ['z']}], "
                         "'training': {'inputs': [{'name': 't', 'dtype': 'float32', 'shape': ['N', 2]}], "
                         "'loss': {'op': 'MSELoss', 'inputs': ['z', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}"),
                     "nodes[1] \"bn2\" (BatchNormalization): autodiff: param \"rm\" is the running mean of more than one "
                     "BatchNormalization; give each node its own");
}
END_TEST

/* The internal ops check their inputs like any op: a wrong gradient shape is a diagnostic. */
START_TEST(test_internal_op_shape_error)
{
    IrGraph *g = ir_graph_new("m");
    int64_t d23[2] = {2, 3}, d32[2] = {3, 2};
    IrShape a = ir_shape_make(2, d23), b = ir_shape_make(2, d32);
    int dy = ir_value_new(g, "dy", SRT_F32, &a, IR_ROLE_INPUT);
    int x = ir_value_new(g, "x", SRT_F32, &b, IR_ROLE_INPUT);
    int dx = ir_value_new(g, "dx", SRT_F32, NULL, IR_ROLE_ACT);
    int in[2] = {dy, x};
    IrNode *n = ir_node(g, ir_node_new(g, IR_OP_RELUGRAD, "rg", 2, in, 1, &dx));
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_ne(ir_infer_shapes(g, &d), 0);
    ck_assert_str_eq(ir_diag_first(&d), "node \"rg\" (ReluGrad): inputs[0] has type f32[2,3]; ReluGrad needs the type of "
                                        "inputs[1] (f32[3,2])");
    (void)n;
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* Internal ops are flagged, so model files and the conformance suite can tell them apart. */
START_TEST(test_internal_flag)
{
    ck_assert(ir_op_info(IR_OP_ADAMUPDATE)->flags & IR_OPF_INTERNAL);
    ck_assert(ir_op_info(IR_OP_RELUGRAD)->flags & IR_OPF_INTERNAL);
    ck_assert(!(ir_op_info(IR_OP_RELU)->flags & IR_OPF_INTERNAL));
    ck_assert(!(ir_op_info(IR_OP_ADAMUPDATE)->flags & IR_OPF_DIFF));
}
END_TEST

/* ---- round trip ----------------------------------------------------------------------------------- */

/* print -> emit JSON -> parse: the re-parsed model gives the same training graph. */
START_TEST(test_emit_parse_roundtrip)
{
    IrGraph *g = fe_load_model(tu_src("examples/fmnist_mlp.json"), NULL);
    ck_assert_ptr_nonnull(g);
    char *json = fe_emit_json(g);
    ck_assert_ptr_nonnull(json);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *h = fe_parse_model(json, strlen(json), "emitted.json", NULL, &d);
    ck_assert_msg(h != NULL, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    run_ok(g, "shape_infer,autodiff");
    run_ok(h, "shape_infer,autodiff");
    char *a = print(g), *b = print(h);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    free(json);
    ir_diag_free(&d);
    ir_graph_free(g);
    ir_graph_free(h);
}
END_TEST

/* A clone of a training graph is independent and prints the same. */
START_TEST(test_clone_training_graph)
{
    IrGraph *g = parse(mlp("{'kind': 'adam'}"));
    run_ok(g, "shape_infer,autodiff");
    IrGraph *c = ir_graph_clone(g);
    char *a = print(g);
    ir_graph_free(g);
    char *b = print(c);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(c->training->nupdates, 10);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(ir_verify(c, &d), 0);
    free(a);
    free(b);
    ir_diag_free(&d);
    ir_graph_free(c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("autodiff");
    TCase *tc = tcase_create("structure");
    tcase_add_test(tc, test_mlp_adam_dump);
    tcase_add_test(tc, test_frozen_param_untouched);
    tcase_add_test(tc, test_sgd_momentum_state);
    tcase_add_test(tc, test_plain_sgd_and_adamw);
    tcase_add_test(tc, test_accumulation_names);
    tcase_add_test(tc, test_shared_gradient_gets_copies);
    tcase_add_test(tc, test_pow_mixed_dtypes);
    tcase_add_test(tc, test_idempotent);
    tcase_add_test(tc, test_no_training_unchanged);
    tcase_add_test(tc, test_stats);
    tcase_add_test(tc, test_later_passes_keep_training_graph);
    suite_add_tcase(s, tc);
    TCase *tf = tcase_create("training forms");
    tcase_add_test(tf, test_batchnorm_training_form);
    tcase_add_test(tf, test_apply_nodes_split);
    tcase_add_test(tf, test_dropout_training_form);
    tcase_add_test(tf, test_dropout_mask_values);
    tcase_add_test(tf, test_dropout_rng_reference);
    suite_add_tcase(s, tf);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_error_reduction_none);
    tcase_add_test(te, test_error_layernorm_mean_output);
    tcase_add_test(te, test_error_dropout_ratio_computed);
    tcase_add_test(te, test_error_shared_running_mean);
    tcase_add_test(te, test_internal_op_shape_error);
    tcase_add_test(te, test_internal_flag);
    suite_add_tcase(s, te);
    TCase *tr = tcase_create("round trip");
    tcase_add_test(tr, test_emit_parse_roundtrip);
    tcase_add_test(tr, test_clone_training_graph);
    suite_add_tcase(s, tr);
    return tu_run(s);
}
