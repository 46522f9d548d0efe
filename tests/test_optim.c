/* Tests of the interpreter's training step: optimizer updates vs PyTorch, BatchNorm statistics, frozen params, training. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

/* The reference vectors come from torch.optim via tests/optim/gen_optim.py (committed output
 * tests/optim/optim_vectors.json). Tolerances: relative 1e-6 in float64 and 1e-5 in float32
 * (the interpreter computes an update in double and rounds once; torch rounds each step of it). */

/* ---- helpers ---------------------------------------------------------------------------------- */

/* The parsed vectors file, or NULL when it cannot be read (no Check assertions: main uses it). */
static cJSON *load_vectors(void)
{
    static cJSON *root;
    if (root)
        return root;
    FILE *f = fopen(tu_src("tests/optim/optim_vectors.json"), "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (text && fread(text, 1, (size_t)len, f) == (size_t)len) {
        text[len] = 0;
        root = cJSON_Parse(text);
    }
    free(text);
    fclose(f);
    return root;
}

static cJSON *vectors(void)
{
    cJSON *root = load_vectors();
    ck_assert_msg(root != NULL, "cannot read tests/optim/optim_vectors.json (run tests/optim/gen_optim.py)");
    return root;
}

static const cJSON *item(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(it != NULL, "vectors: no \"%s\"", key);
    return it;
}

/* The text with ' turned into " (malloc'ed). */
static char *dq(const char *s)
{
    char *r = strdup(s);
    for (char *p = r; *p; p++)
        if (*p == '\'')
            *p = '"';
    return r;
}

/* Parses a model and builds its training graph (shape_infer, autodiff; verified). */
static IrGraph *training_graph(const char *text)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(text, strlen(text), "m.json", NULL, &d);
    ck_assert_msg(g != NULL, "parse: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    static const char *const pipe[] = {"shape_infer", "autodiff"};
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.pipeline = pipe;
    ctx.npipeline = 2;
    ctx.verify = true;
    ck_assert_msg(pass_run_pipeline(g, &ctx) == 0, "passes: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return g;
}

static IrGraph *training_graph_sq(const char *json_sq)
{
    char *text = dq(json_sq);
    IrGraph *g = training_graph(text);
    free(text);
    return g;
}

static void tensor_from_json(IrTensor *t, IrDtype dt, int rank, const int64_t *dims, const cJSON *arr)
{
    ck_assert_int_eq(ir_tensor_alloc(t, dt, rank, dims), 0);
    ck_assert_int_eq(cJSON_GetArraySize(arr), t->numel);
    int64_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) ir_tensor_setf(t, i++, v->valuedouble);
}

/* The param's data equals the expected values within the dtype's tolerance. */
static void expect_data(const IrGraph *g, const char *name, const cJSON *want, const char *what)
{
    const IrValue *v = ir_val(g, ir_value_find(g, name));
    double rtol = v->dtype == SRT_F64 ? 1e-6 : 1e-5, atol = v->dtype == SRT_F64 ? 1e-12 : 1e-7;
    IrTensor t = {.dtype = v->dtype, .numel = cJSON_GetArraySize(want), .data = v->data};
    int64_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, want)
    {
        double got = ir_tensor_getf(&t, i), exp = e->valuedouble;
        ck_assert_msg(fabs(got - exp) <= atol + rtol * fabs(exp), "%s: %s[%lld] = %.9g, torch %.9g", what, name,
                      (long long)i, got, exp);
        i++;
    }
}

static int64_t get_step(const IrGraph *g)
{
    return *(const int64_t *)ir_val(g, ir_value_find(g, "optim.step"))->data;
}

/* Random uniform values in [-1, 1), reproducible. */
static uint64_t rng_state = 99;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * 0x1p-53 * 2 - 1;
}

/* Random inputs of the graph then of the training section at batch n (labels in [0, nclass)). */
static IrTensor *random_inputs(const IrGraph *g, int64_t n, int nclass, int *count)
{
    int k = g->ninputs + g->training->ninputs;
    IrTensor *in = calloc((size_t)k + 1, sizeof *in);
    for (int i = 0; i < k; i++) {
        const IrValue *v = ir_val(g, i < g->ninputs ? g->inputs[i] : g->training->inputs[i - g->ninputs]);
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&in[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t e = 0; e < in[i].numel; e++) {
            if (ir_dtype_is_float(v->dtype))
                ir_tensor_setf(&in[i], e, uniform());
            else
                ir_tensor_seti(&in[i], e, (int64_t)((uniform() + 1) / 2 * nclass) % nclass);
        }
    }
    *count = k;
    return in;
}

static void free_tensors(IrTensor *t, int count)
{
    for (int i = 0; i < count; i++)
        ir_tensor_free(&t[i]);
    free(t);
}

static void step_ok(IrGraph *g, int64_t n, const IrTensor *in, double *loss)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_interp_train_step(g, n, in, loss, &d);
    ck_assert_msg(rc == 0, "train step: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
}

/* ---- optimizers vs torch.optim ------------------------------------------------------------------- */

/* The model of an optimizer case: out = x @ w + b with the case's initial w [3, 4], b [4]. */
static IrGraph *optim_model(const cJSON *c)
{
    const char *dtype = item(c, "dtype")->valuestring;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "sinter", 1);
    cJSON_AddStringToObject(m, "name", "opt");
    char *text = malloc(1024);
    snprintf(text, 1024,
             "{'inputs': [{'name': 'x', 'dtype': '%s', 'shape': ['N', 3]}], 'outputs': ['out'], "
             "'nodes': [{'op': 'Gemm', 'inputs': ['x', 'w', 'b'], 'outputs': ['out']}]}",
             dtype);
    char *t2 = dq(text);
    cJSON *part = cJSON_Parse(t2);
    free(t2);
    free(text);
    for (cJSON *it = part->child; it; it = it->next)
        cJSON_AddItemToObject(m, it->string, cJSON_Duplicate(it, 1));
    cJSON_Delete(part);
    cJSON *params = cJSON_AddArrayToObject(m, "params");
    const char *names[2] = {"w", "b"};
    int rank[2] = {2, 1};
    for (int k = 0; k < 2; k++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "name", names[k]);
        cJSON_AddStringToObject(p, "dtype", dtype);
        cJSON *shape = cJSON_AddArrayToObject(p, "shape");
        if (rank[k] == 2)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(3));
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(4));
        cJSON_AddItemToObject(p, "data", cJSON_Duplicate(item(item(c, "init"), names[k]), 1));
        cJSON_AddItemToArray(params, p);
    }
    cJSON *tr = cJSON_AddObjectToObject(m, "training");
    cJSON *tin = cJSON_AddArrayToObject(tr, "inputs");
    cJSON *ti = cJSON_CreateObject();
    cJSON_AddStringToObject(ti, "name", "t");
    cJSON_AddStringToObject(ti, "dtype", dtype);
    cJSON *ts = cJSON_AddArrayToObject(ti, "shape");
    cJSON_AddItemToArray(ts, cJSON_CreateString("N"));
    cJSON_AddItemToArray(ts, cJSON_CreateNumber(4));
    cJSON_AddItemToArray(tin, ti);
    cJSON *loss = cJSON_AddObjectToObject(tr, "loss");
    cJSON_AddStringToObject(loss, "op", "MSELoss");
    cJSON *li = cJSON_AddArrayToObject(loss, "inputs");
    cJSON_AddItemToArray(li, cJSON_CreateString("out"));
    cJSON_AddItemToArray(li, cJSON_CreateString("t"));
    cJSON_AddItemToObject(tr, "optimizer", cJSON_Duplicate(item(c, "optimizer"), 1));
    char *json = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    IrGraph *g = training_graph(json);
    free(json);
    return g;
}

/* The number of optimizer cases; 1 when the file is missing, so that the test reports it. */
static int ncases(void)
{
    cJSON *root = load_vectors();
    const cJSON *c = root ? cJSON_GetObjectItemCaseSensitive(root, "cases") : NULL;
    return c ? cJSON_GetArraySize(c) : 1;
}

/* Each torch.optim case: three optimizer steps from the given gradients (ir_interp_train_apply)
 * give torch's params after every step; the step counter counts them. */
START_TEST(test_optimizer_vs_torch)
{
    const cJSON *c = cJSON_GetArrayItem(item(vectors(), "cases"), _i);
    const char *name = item(c, "name")->valuestring;
    IrGraph *g = optim_model(c);
    const IrTraining *t = g->training;
    ck_assert_int_eq(t->ngrads, 2);
    IrDtype dt = ir_val(g, t->grad_param[0])->dtype;
    int64_t dw[2] = {3, 4}, db[1] = {4};
    int step = 0;
    const cJSON *gs;
    cJSON_ArrayForEach(gs, item(c, "grads"))
    {
        IrTensor grads[2];
        for (int i = 0; i < 2; i++) {
            bool is_w = !strcmp(ir_val(g, t->grad_param[i])->name, "w");
            tensor_from_json(&grads[i], dt, is_w ? 2 : 1, is_w ? dw : db, item(gs, is_w ? "w" : "b"));
        }
        IrDiag d;
        ir_diag_init(&d, NULL);
        ck_assert_msg(ir_interp_train_apply(g, grads, &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
        ir_diag_free(&d);
        const cJSON *after = cJSON_GetArrayItem(item(c, "after"), step);
        char what[128];
        snprintf(what, sizeof what, "%s step %d", name, step + 1);
        expect_data(g, "w", item(after, "w"), what);
        expect_data(g, "b", item(after, "b"), what);
        ir_tensor_free(&grads[0]);
        ir_tensor_free(&grads[1]);
        step++;
    }
    ck_assert_int_eq(get_step(g), 3);
    ir_graph_free(g);
}
END_TEST

/* The whole step (ir_interp_train_step: loss, backward, update) follows torch too: with
 * loss = sum((w - t)^2) and t = w - G/2 the gradient is G, so the case's gradients drive it. */
static void full_step_case(const char *case_name)
{
    const cJSON *c = NULL, *it;
    cJSON_ArrayForEach(it, item(vectors(), "cases")) if (!strcmp(item(it, "name")->valuestring, case_name)) c = it;
    ck_assert_ptr_nonnull(c);
    char *opt = cJSON_PrintUnformatted(item(c, "optimizer")), *init = cJSON_PrintUnformatted(item(item(c, "init"), "w"));
    size_t len = strlen(opt) + strlen(init) + 1024;
    char *text = malloc(len);
    snprintf(text, len,
             "{\"sinter\": 1, \"name\": \"full\", \"inputs\": [], \"outputs\": [\"out\"], \"params\": [{\"name\": \"w\", "
             "\"dtype\": \"float64\", \"shape\": [3, 4], \"data\": %s}], \"nodes\": [{\"op\": \"Identity\", \"inputs\": "
             "[\"w\"], \"outputs\": [\"out\"]}], \"training\": {\"inputs\": [{\"name\": \"t\", \"dtype\": \"float64\", "
             "\"shape\": [3, 4]}], \"loss\": {\"op\": \"MSELoss\", \"inputs\": [\"out\", \"t\"], \"attrs\": "
             "{\"reduction\": \"sum\"}}, \"optimizer\": %s}}",
             init, opt);
    IrGraph *g = training_graph(text);
    double *w = ir_val(g, ir_value_find(g, "w"))->data;
    int64_t dims[2] = {3, 4};
    for (int s = 0; s < 3; s++) {
        const cJSON *gw = item(cJSON_GetArrayItem(item(c, "grads"), s), "w");
        IrTensor tt;
        ck_assert_int_eq(ir_tensor_alloc(&tt, SRT_F64, 2, dims), 0);
        for (int e = 0; e < 12; e++)
            ir_tensor_setf(&tt, e, w[e] - cJSON_GetArrayItem(gw, e)->valuedouble / 2);
        double loss;
        step_ok(g, 1, &tt, &loss);
        ir_tensor_free(&tt);
        char what[128];
        snprintf(what, sizeof what, "%s (train step %d)", case_name, s + 1);
        expect_data(g, "w", item(cJSON_GetArrayItem(item(c, "after"), s), "w"), what);
    }
    ir_graph_free(g);
    free(text);
    free(opt);
    free(init);
}

/* Adam with L2 weight decay through the full training step. */
START_TEST(test_full_step_adam)
{
    full_step_case("adam_l2_float64");
}
END_TEST

/* SGD with momentum, dampening and weight decay through the full training step. */
START_TEST(test_full_step_sgd)
{
    full_step_case("sgd_dampening_wd_float64");
}
END_TEST

/* ---- BatchNorm running statistics ------------------------------------------------------------------ */

/* Five training steps update the running statistics like torch's BatchNorm2d(momentum=0.1):
 * the running variance with the unbiased batch variance (autodiff sets unbiased=1), as torch
 * does and unlike ONNX's training_mode=1 (the population variance; the ONNX node tests check
 * that form). */
START_TEST(test_batchnorm_running_stats)
{
    const cJSON *bn = item(vectors(), "batchnorm");
    IrGraph *g = training_graph_sq(
        "{'sinter': 1, 'name': 'bn', 'inputs': [{'name': 'x', 'dtype': 'float64', 'shape': ['N', 3, 2, 2]}], "
        "'outputs': ['y'], 'params': [{'name': 's', 'dtype': 'float64', 'shape': [3], 'init': {'kind': 'ones'}}, "
        "{'name': 'b', 'dtype': 'float64', 'shape': [3], 'init': {'kind': 'zeros'}}, "
        "{'name': 'rm', 'dtype': 'float64', 'shape': [3], 'trainable': false, 'init': {'kind': 'zeros'}}, "
        "{'name': 'rv', 'dtype': 'float64', 'shape': [3], 'trainable': false, 'init': {'kind': 'ones'}}], "
        "'nodes': [{'op': 'BatchNormalization', 'inputs': ['x', 's', 'b', 'rm', 'rv'], 'outputs': ['y'], "
        "'attrs': {'momentum': 0.9}}], "
        "'training': {'inputs': [{'name': 't', 'dtype': 'float64', 'shape': ['N', 3, 2, 2]}], "
        "'loss': {'op': 'MSELoss', 'inputs': ['y', 't']}, 'optimizer': {'kind': 'sgd', 'lr': 0.1}}}");
    int64_t dims[4] = {4, 3, 2, 2};
    const cJSON *x;
    cJSON_ArrayForEach(x, item(bn, "x"))
    {
        IrTensor in[2];
        tensor_from_json(&in[0], SRT_F64, 4, dims, x);
        ck_assert_int_eq(ir_tensor_alloc(&in[1], SRT_F64, 4, dims), 0);
        step_ok(g, 4, in, NULL);
        ir_tensor_free(&in[0]);
        ir_tensor_free(&in[1]);
    }
    expect_data(g, "rm", item(bn, "torch_running_mean"), "running mean");
    expect_data(g, "rv", item(bn, "torch_running_var"), "running var");
    /* not the population variance's recurrence (ONNX), which is smaller */
    const double *rv = ir_val(g, ir_value_find(g, "rv"))->data;
    ck_assert(rv[0] > cJSON_GetArrayItem(item(bn, "population_running_var"), 0)->valuedouble * (1 + 1e-6));
    ir_graph_free(g);
}
END_TEST

/* ---- frozen params, training, learning rate ----------------------------------------------------------- */

static const char *frozen_mlp =
    "{'sinter': 1, 'name': 'fz', 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 4]}], 'outputs': ['z'], "
    "'params': [{'name': 'w1', 'dtype': 'float32', 'shape': [6, 4], 'trainable': false, 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}, "
    "{'name': 'b1', 'dtype': 'float32', 'shape': [6], 'trainable': false, 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}, "
    "{'name': 'w2', 'dtype': 'float32', 'shape': [3, 6], 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}], "
    "'nodes': [{'op': 'Gemm', 'inputs': ['x', 'w1', 'b1'], 'outputs': ['h'], 'attrs': {'transB': 1}}, "
    "{'op': 'Tanh', 'inputs': ['h'], 'outputs': ['a']}, {'op': 'Gemm', 'inputs': ['a', 'w2'], 'outputs': ['z'], 'attrs': {'transB': 1}}], "
    "'training': {'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': ['N']}], "
    "'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['z', 'y']}, 'optimizer': {'kind': 'adamw', 'lr': 0.1, 'weight_decay': 0.5}}}";

/* Frozen params keep their values (even under AdamW's decay); trainable ones change. */
START_TEST(test_frozen_params_do_not_change)
{
    IrGraph *g = training_graph_sq(frozen_mlp);
    const IrValue *w1 = ir_val(g, ir_value_find(g, "w1")), *b1 = ir_val(g, ir_value_find(g, "b1"));
    const IrValue *w2 = ir_val(g, ir_value_find(g, "w2"));
    float w1_0[24], b1_0[6], w2_0[18];
    memcpy(w1_0, w1->data, sizeof w1_0);
    memcpy(b1_0, b1->data, sizeof b1_0);
    memcpy(w2_0, w2->data, sizeof w2_0);
    int k;
    IrTensor *in = random_inputs(g, 5, 3, &k);
    for (int s = 0; s < 3; s++)
        step_ok(g, 5, in, NULL);
    ck_assert(!memcmp(w1_0, w1->data, sizeof w1_0));
    ck_assert(!memcmp(b1_0, b1->data, sizeof b1_0));
    ck_assert(memcmp(w2_0, w2->data, sizeof w2_0) != 0);
    ck_assert_int_eq(get_step(g), 3);
    free_tensors(in, k);
    ir_graph_free(g);
}
END_TEST

/* examples/fmnist_mlp.json trains: on a fixed random batch the loss falls over five steps. */
START_TEST(test_fmnist_mlp_loss_decreases)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src("examples/fmnist_mlp.json"), &d);
    ck_assert_ptr_nonnull(g);
    static const char *const pipe[] = {"shape_infer", "const_fold", "autodiff", "dce", "cse", "dce"};
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.pipeline = pipe;
    ctx.npipeline = 6;
    ctx.verify = true;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), 0);
    int k;
    IrTensor *in = random_inputs(g, 16, 10, &k);
    double first = 0, loss = 0;
    for (int s = 0; s < 5; s++) {
        step_ok(g, 16, in, &loss);
        if (s == 0)
            first = loss;
    }
    ck_assert_msg(loss < first * 0.9, "loss %g after 5 steps, %g at the first", loss, first);
    ck_assert(first > 1.5 && first < 4);   /* about log(10) at initialization */
    ck_assert_int_eq(get_step(g), 5);
    free_tensors(in, k);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* The learning rate is state (NAME_set_lr): with optim.lr set to 0 a step leaves the params as
 * they are but still counts. */
START_TEST(test_learning_rate_state)
{
    IrGraph *g = training_graph_sq(frozen_mlp);
    IrValue *lr = ir_val(g, ir_value_find(g, "optim.lr"));
    ck_assert(lr->opt_state && lr->dtype == SRT_F32 && *(float *)lr->data == 0.1f);
    *(float *)lr->data = 0;
    const IrValue *w2 = ir_val(g, ir_value_find(g, "w2"));
    float w2_0[18];
    memcpy(w2_0, w2->data, sizeof w2_0);
    int k;
    IrTensor *in = random_inputs(g, 2, 3, &k);
    step_ok(g, 2, in, NULL);
    ck_assert(!memcmp(w2_0, w2->data, sizeof w2_0));
    ck_assert_int_eq(get_step(g), 1);
    free_tensors(in, k);
    ir_graph_free(g);
}
END_TEST

/* The loss a step reports is the loss before its update: two graphs in the same state report the
 * same first loss, and a repeated batch gives a different (lower) second one. */
START_TEST(test_reported_loss_is_before_update)
{
    IrGraph *g = training_graph_sq(frozen_mlp);
    int k;
    IrTensor *in = random_inputs(g, 4, 3, &k);
    IrTensor *vals = calloc((size_t)g->nvalues, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(ir_interp_eval(g, 4, in, true, vals, &d), 0);
    double before = ir_tensor_getf(&vals[g->training->loss->out[0]], 0);
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
    double l1, l2;
    step_ok(g, 4, in, &l1);
    step_ok(g, 4, in, &l2);
    ck_assert(l1 == before);
    ck_assert(l2 < l1);
    free_tensors(in, k);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- grads + apply = step ------------------------------------------------------------------------------- */

/* NAME_grad then NAME_apply is NAME_train_step bit for bit, with BatchNorm statistics, Dropout
 * and Adam state; the gradients come back in training->grad_param order. */
START_TEST(test_grads_then_apply_equals_step)
{
    const char *model =
        "{'sinter': 1, 'name': 'ga', 'seed': 5, 'inputs': [{'name': 'x', 'dtype': 'float32', 'shape': ['N', 3]}], "
        "'outputs': ['z'], 'params': [{'name': 'w', 'dtype': 'float32', 'shape': [4, 3], 'init': {'kind': 'uniform', 'low': -1, 'high': 1}}, "
        "{'name': 's', 'dtype': 'float32', 'shape': [4], 'init': {'kind': 'ones'}}, "
        "{'name': 'b', 'dtype': 'float32', 'shape': [4], 'init': {'kind': 'zeros'}}, "
        "{'name': 'rm', 'dtype': 'float32', 'shape': [4], 'trainable': false, 'init': {'kind': 'zeros'}}, "
        "{'name': 'rv', 'dtype': 'float32', 'shape': [4], 'trainable': false, 'init': {'kind': 'ones'}}], "
        "'constants': [{'name': 'r', 'dtype': 'float32', 'shape': [], 'data': [0.5]}], "
        "'nodes': [{'op': 'Gemm', 'inputs': ['x', 'w'], 'outputs': ['h'], 'attrs': {'transB': 1}}, "
        "{'op': 'BatchNormalization', 'inputs': ['h', 's', 'b', 'rm', 'rv'], 'outputs': ['hn']}, "
        "{'op': 'Dropout', 'inputs': ['hn', 'r'], 'outputs': ['z']}], "
        "'training': {'inputs': [{'name': 'y', 'dtype': 'int64', 'shape': ['N']}], "
        "'loss': {'op': 'SoftmaxCrossEntropyLoss', 'inputs': ['z', 'y']}, 'optimizer': {'kind': 'adam', 'lr': 0.05}}}";
    IrGraph *a = training_graph_sq(model), *b = training_graph_sq(model);
    int k;
    IrTensor *in = random_inputs(a, 6, 4, &k);
    IrDiag d;
    ir_diag_init(&d, NULL);
    for (int s = 0; s < 3; s++) {
        double la, lb;
        step_ok(a, 6, in, &la);
        IrTensor grads[3] = {{0}};
        ck_assert_int_eq(b->training->ngrads, 3);
        ck_assert_int_eq(ir_interp_train_grads(b, 6, in, &lb, grads, &d), 0);
        ck_assert(la == lb);
        ck_assert_int_eq(grads[0].numel, 12);
        ck_assert_int_eq(ir_interp_train_apply(b, grads, &d), 0);
        for (int i = 0; i < 3; i++)
            ir_tensor_free(&grads[i]);
    }
    for (int v = 0; v < a->nvalues; v++) {
        const IrValue *va = ir_val(a, v), *vb = ir_val(b, v);
        if (va->role != IR_ROLE_PARAM)
            continue;
        IrDim cnt;
        ck_assert(ir_shape_numel(&va->shape, &cnt));
        ck_assert_msg(!memcmp(va->data, vb->data, (size_t)cnt.b * srt_dtype_size(va->dtype)), "%s differs", va->name);
    }
    ck_assert_int_eq(get_step(b), 3);
    /* the running mean moved */
    ck_assert(((float *)ir_val(b, ir_value_find(b, "rm"))->data)[0] != 0);
    free_tensors(in, k);
    ir_diag_free(&d);
    ir_graph_free(a);
    ir_graph_free(b);
}
END_TEST

/* ---- errors ------------------------------------------------------------------------------------------------ */

/* A graph that autodiff has not differentiated has no training step. */
START_TEST(test_error_not_differentiated)
{
    char *text = dq(frozen_mlp);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(text, strlen(text), NULL, NULL, &d);
    ck_assert_ptr_nonnull(g);
    ck_assert_int_ne(ir_interp_train_step(g, 1, NULL, NULL, &d), 0);
    ck_assert_str_eq(ir_diag_first(&d), "fz: the graph has no training step; run the autodiff pass on a model with a "
                                        "training section first");
    ir_diag_free(&d);
    ir_graph_free(g);
    free(text);
}
END_TEST

/* Inputs of the wrong shape: a diagnostic, and the params and state stay as they were. */
START_TEST(test_error_bad_input_leaves_state)
{
    IrGraph *g = training_graph_sq(frozen_mlp);
    const IrValue *w2 = ir_val(g, ir_value_find(g, "w2"));
    float w2_0[18];
    memcpy(w2_0, w2->data, sizeof w2_0);
    IrTensor in[2];
    int64_t dx[2] = {2, 5}, dy[1] = {2};
    ck_assert_int_eq(ir_tensor_alloc(&in[0], SRT_F32, 2, dx), 0);
    ck_assert_int_eq(ir_tensor_alloc(&in[1], SRT_I64, 1, dy), 0);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_ne(ir_interp_train_step(g, 2, in, NULL, &d), 0);
    ck_assert_str_eq(ir_diag_first(&d), "x: input does not match the declared type f32[N,4] at N=2");
    ck_assert(!memcmp(w2_0, w2->data, sizeof w2_0));
    ck_assert_int_eq(get_step(g), 0);
    ir_tensor_free(&in[0]);
    ir_tensor_free(&in[1]);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* Gradients of the wrong type for apply: a diagnostic naming the gradient. */
START_TEST(test_error_apply_bad_gradient)
{
    IrGraph *g = training_graph_sq(frozen_mlp);
    IrTensor grad;
    int64_t dims[2] = {6, 3};
    ck_assert_int_eq(ir_tensor_alloc(&grad, SRT_F32, 2, dims), 0);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_ne(ir_interp_train_apply(g, &grad, &d), 0);
    ck_assert_str_eq(ir_diag_first(&d), "grad/w2: gradient 0 does not have the type f32[3,6]");
    ck_assert_int_eq(get_step(g), 0);
    ir_tensor_free(&grad);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("optim");
    TCase *tv = tcase_create("torch");
    tcase_set_timeout(tv, 60);
    tcase_add_loop_test(tv, test_optimizer_vs_torch, 0, ncases());
    tcase_add_test(tv, test_full_step_adam);
    tcase_add_test(tv, test_full_step_sgd);
    tcase_add_test(tv, test_batchnorm_running_stats);
    suite_add_tcase(s, tv);
    TCase *tt = tcase_create("training");
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, test_frozen_params_do_not_change);
    tcase_add_test(tt, test_fmnist_mlp_loss_decreases);
    tcase_add_test(tt, test_learning_rate_state);
    tcase_add_test(tt, test_reported_loss_is_before_update);
    tcase_add_test(tt, test_grads_then_apply_equals_step);
    suite_add_tcase(s, tt);
    TCase *te = tcase_create("errors");
    tcase_add_test(te, test_error_not_differentiated);
    tcase_add_test(te, test_error_bad_input_leaves_state);
    tcase_add_test(te, test_error_apply_bad_gradient);
    suite_add_tcase(s, te);
    return tu_run(s);
}
