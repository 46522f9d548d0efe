/* Compiled training steps: train_step/grad/apply/grads/set_lr/get_step and save/load of optimizer state vs the interpreter. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/sinter_model.h"
#include "tests/util/testutil.h"

/* Tolerances (compiled float32 vs the interpreter, which computes every op in double and
 * rounds its results to float32): the kernels reassociate float32 sums (vector lanes, blocked
 * Gemm), use polynomial exp/erf/tanh within a few ulps, and accumulate batch statistics in
 * float32. Observed here (AVX-512): losses within 1e-6 relative, gradients within 3e-6 of the
 * tensor's largest, params after 10 steps within 2.2e-4 of the tensor's largest change (Adam
 * divides each element's step by its own gradient size, which magnifies rounding on elements
 * whose gradient is nearly 0). The limits leave ~5x room for other vector widths:
 *   loss of every step:     relative 1e-5
 *   gradients (one step):   |c - i| <= 2e-5 * max|i| of the tensor
 *   params after 10 steps:  |c - i| <= 1e-3 * the tensor's largest change from the start
 * A param whose exact gradient is 0 moves by amplified rounding noise in both implementations:
 * the attention key bias (softmax ignores a shift of all scores); for it and its moments only
 * |change| <= lr * steps is checked, and that its gradient is about 0. */
#define LOSS_RTOL 1e-5
#define GRAD_RTOL 2e-5
#define PARAM_RTOL 1e-3

/* Params (and their optimizer state) whose exact gradient is 0 (see above). */
static bool noise_only(const char *model, const char *name)
{
    size_t len = strlen(name), k = strlen("attn.k.bias");
    return !strcmp(model, "transformer_encoder") && len >= k && !strcmp(name + len - k, "attn.k.bias");
}

/* ---- models ---------------------------------------------------------------------------- */

/* Conv (groups, dilations), AveragePool (count_include_pad, padding), Dropout, Gelu (tanh),
 * LogSoftmax and MSELoss, trained with Adam + L2 weight decay: what the examples do not reach. */
static const char *MISC_JSON =
    "{\"sinter\": 1, \"name\": \"misc\", \"seed\": 3,\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 2, 7, 7]}],\n"
    " \"outputs\": [\"ls\"],\n"
    " \"params\": [{\"name\": \"cw\", \"dtype\": \"float32\", \"shape\": [4, 1, 3, 3], \"init\": {\"kind\": \"kaiming_uniform\"}},\n"
    "            {\"name\": \"cb\", \"dtype\": \"float32\", \"shape\": [4], \"init\": {\"kind\": \"uniform\", \"low\": -0.1, \"high\": 0.1}},\n"
    "            {\"name\": \"w1\", \"dtype\": \"float32\", \"shape\": [16, 36], \"init\": {\"kind\": \"kaiming_uniform\"}},\n"
    "            {\"name\": \"w2\", \"dtype\": \"float32\", \"shape\": [4, 16], \"init\": {\"kind\": \"kaiming_uniform\"}}],\n"
    " \"nodes\": [{\"op\": \"Conv\", \"inputs\": [\"x\", \"cw\", \"cb\"], \"outputs\": [\"c\"], \"attrs\": {\"pads\": [1, 1, 1, 1], \"group\": 2, \"dilations\": [2, 2]}},\n"
    "           {\"op\": \"AveragePool\", \"inputs\": [\"c\"], \"outputs\": [\"p\"], \"attrs\": {\"kernel_shape\": [3, 3], \"strides\": [2, 2], \"pads\": [1, 1, 1, 1], \"count_include_pad\": 1}},\n"
    "           {\"op\": \"Flatten\", \"inputs\": [\"p\"], \"outputs\": [\"f\"]},\n"
    "           {\"op\": \"Gemm\", \"inputs\": [\"f\", \"w1\"], \"outputs\": [\"h\"], \"attrs\": {\"transB\": 1}},\n"
    "           {\"op\": \"Dropout\", \"inputs\": [\"h\"], \"outputs\": [\"hd\"]},\n"
    "           {\"op\": \"Gelu\", \"inputs\": [\"hd\"], \"outputs\": [\"a\"], \"attrs\": {\"approximate\": \"tanh\"}},\n"
    "           {\"op\": \"Gemm\", \"inputs\": [\"a\", \"w2\"], \"outputs\": [\"z\"], \"attrs\": {\"transB\": 1}},\n"
    "           {\"op\": \"LogSoftmax\", \"inputs\": [\"z\"], \"outputs\": [\"ls\"]}],\n"
    " \"training\": {\"inputs\": [{\"name\": \"t\", \"dtype\": \"float32\", \"shape\": [\"N\", 4]}],\n"
    "   \"loss\": {\"op\": \"MSELoss\", \"inputs\": [\"ls\", \"t\"], \"attrs\": {\"reduction\": \"mean\"}},\n"
    "   \"optimizer\": {\"kind\": \"adam\", \"lr\": 0.01, \"weight_decay\": 0.01}}}\n";

/* Gather (embedding) and Slice of int64 token ids, SoftmaxCrossEntropyLoss with ignore_index
 * and sum reduction, SGD with momentum, dampening and weight decay; emb.frozen is frozen. */
static const char *EMBED_JSON =
    "{\"sinter\": 1, \"name\": \"embed\", \"seed\": 5,\n"
    " \"inputs\": [{\"name\": \"ids\", \"dtype\": \"int64\", \"shape\": [\"N\", 6]}],\n"
    " \"outputs\": [\"z\"],\n"
    " \"params\": [{\"name\": \"emb\", \"dtype\": \"float32\", \"shape\": [20, 8], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}},\n"
    "            {\"name\": \"emb.frozen\", \"dtype\": \"float32\", \"shape\": [20, 8], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}, \"trainable\": false},\n"
    "            {\"name\": \"w\", \"dtype\": \"float32\", \"shape\": [5, 8], \"init\": {\"kind\": \"kaiming_uniform\"}},\n"
    "            {\"name\": \"b\", \"dtype\": \"float32\", \"shape\": [5], \"init\": {\"kind\": \"zeros\"}}],\n"
    " \"constants\": [{\"name\": \"st\", \"dtype\": \"int64\", \"shape\": [1], \"data\": [1]},\n"
    "               {\"name\": \"en\", \"dtype\": \"int64\", \"shape\": [1], \"data\": [5]},\n"
    "               {\"name\": \"ax\", \"dtype\": \"int64\", \"shape\": [1], \"data\": [1]}],\n"
    " \"nodes\": [{\"op\": \"Gather\", \"inputs\": [\"emb\", \"ids\"], \"outputs\": [\"e\"]},\n"
    "           {\"op\": \"Gather\", \"inputs\": [\"emb.frozen\", \"ids\"], \"outputs\": [\"ef\"]},\n"
    "           {\"op\": \"Add\", \"inputs\": [\"e\", \"ef\"], \"outputs\": [\"es\"]},\n"
    "           {\"op\": \"Slice\", \"inputs\": [\"es\", \"st\", \"en\", \"ax\"], \"outputs\": [\"s\"]},\n"
    "           {\"op\": \"ReduceMean\", \"inputs\": [\"s\"], \"outputs\": [\"m\"], \"attrs\": {\"axes\": [1], \"keepdims\": 0}},\n"
    "           {\"op\": \"Gemm\", \"inputs\": [\"m\", \"w\", \"b\"], \"outputs\": [\"z\"], \"attrs\": {\"transB\": 1}}],\n"
    " \"training\": {\"inputs\": [{\"name\": \"y\", \"dtype\": \"int64\", \"shape\": [\"N\"]}],\n"
    "   \"loss\": {\"op\": \"SoftmaxCrossEntropyLoss\", \"inputs\": [\"z\", \"y\"], \"attrs\": {\"reduction\": \"sum\", \"ignore_index\": 4}},\n"
    "   \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.05, \"momentum\": 0.9, \"dampening\": 0.1, \"weight_decay\": 0.001}}}\n";

/* BatchNormalization in training (batch statistics, running statistics updated), MaxPool with
 * padding, SGD without momentum; the running statistics are frozen params. */
static const char *BN_JSON =
    "{\"sinter\": 1, \"name\": \"bn\", \"seed\": 2,\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 3, 5, 5]}],\n"
    " \"outputs\": [\"z\"],\n"
    " \"params\": [{\"name\": \"s\", \"dtype\": \"float32\", \"shape\": [3], \"init\": {\"kind\": \"ones\"}},\n"
    "            {\"name\": \"b\", \"dtype\": \"float32\", \"shape\": [3], \"init\": {\"kind\": \"zeros\"}},\n"
    "            {\"name\": \"rm\", \"dtype\": \"float32\", \"shape\": [3], \"init\": {\"kind\": \"zeros\"}, \"trainable\": false},\n"
    "            {\"name\": \"rv\", \"dtype\": \"float32\", \"shape\": [3], \"init\": {\"kind\": \"ones\"}, \"trainable\": false},\n"
    "            {\"name\": \"w\", \"dtype\": \"float32\", \"shape\": [4, 27], \"init\": {\"kind\": \"kaiming_uniform\"}}],\n"
    " \"nodes\": [{\"op\": \"BatchNormalization\", \"inputs\": [\"x\", \"s\", \"b\", \"rm\", \"rv\"], \"outputs\": [\"yb\"]},\n"
    "           {\"op\": \"Relu\", \"inputs\": [\"yb\"], \"outputs\": [\"r\"]},\n"
    "           {\"op\": \"MaxPool\", \"inputs\": [\"r\"], \"outputs\": [\"p\"], \"attrs\": {\"kernel_shape\": [3, 3], \"strides\": [2, 2], \"pads\": [1,1,1,1]}},\n"
    "           {\"op\": \"Flatten\", \"inputs\": [\"p\"], \"outputs\": [\"f\"]},\n"
    "           {\"op\": \"Gemm\", \"inputs\": [\"f\", \"w\"], \"outputs\": [\"z\"], \"attrs\": {\"transB\": 1}}],\n"
    " \"training\": {\"inputs\": [{\"name\": \"y\", \"dtype\": \"int64\", \"shape\": [\"N\"]}],\n"
    "   \"loss\": {\"op\": \"SoftmaxCrossEntropyLoss\", \"inputs\": [\"z\", \"y\"]},\n"
    "   \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.1, \"weight_decay\": 0.01}}}\n";

/* Per-position classification: SoftmaxCrossEntropyLoss over [N, C, positions] and a Softmax
 * along a non-last axis (strided rows), trained with AdamW. */
static const char *SEG_JSON =
    "{\"sinter\": 1, \"name\": \"seg\", \"seed\": 9,\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 4, 3]}],\n"
    " \"outputs\": [\"u\"],\n"
    " \"params\": [{\"name\": \"w\", \"dtype\": \"float32\", \"shape\": [3, 5], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}}],\n"
    " \"nodes\": [{\"op\": \"MatMul\", \"inputs\": [\"x\", \"w\"], \"outputs\": [\"z\"]},\n"
    "           {\"op\": \"Transpose\", \"inputs\": [\"z\"], \"outputs\": [\"zt\"], \"attrs\": {\"perm\": [0, 2, 1]}},\n"
    "           {\"op\": \"Softmax\", \"inputs\": [\"zt\"], \"outputs\": [\"s\"], \"attrs\": {\"axis\": 1}},\n"
    "           {\"op\": \"Add\", \"inputs\": [\"s\", \"zt\"], \"outputs\": [\"u\"]}],\n"
    " \"training\": {\"inputs\": [{\"name\": \"y\", \"dtype\": \"int64\", \"shape\": [\"N\", 4]}],\n"
    "   \"loss\": {\"op\": \"SoftmaxCrossEntropyLoss\", \"inputs\": [\"u\", \"y\"]},\n"
    "   \"optimizer\": {\"kind\": \"adamw\", \"lr\": 0.05, \"weight_decay\": 0.1}}}\n";

/* No training section. */
static const char *PLAIN_JSON =
    "{\"sinter\": 1, \"name\": \"plain\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 3]}],\n"
    " \"outputs\": [\"y\"],\n"
    " \"nodes\": [{\"op\": \"Relu\", \"inputs\": [\"x\"], \"outputs\": [\"y\"]}]}\n";

typedef struct Model {
    const char *name;
    IrGraph *g;                      /* after the inference pipeline, as `sinter compile` has it */
    IrGraph *tg;                     /* its training graph (the training pipeline) */
    CgJit *jit;
    const SinterModelInfo *info;
} Model;

static const char *const examples[] = {"fmnist_mlp", "lenet5", "resnet_small", "transformer_encoder", "misc",
                                       "embed", "bn", "seg"};
#define NMODELS ((int)(sizeof examples / sizeof *examples))

static const char *first_msg(const IrDiag *d)
{
    return ir_diag_first(d) ? ir_diag_first(d) : "?";
}

static IrGraph *load_graph(const char *name, IrGraph **tg)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g;
    if (!strcmp(name, "misc"))
        g = fe_parse_model(MISC_JSON, strlen(MISC_JSON), "misc.json", ".", &d);
    else if (!strcmp(name, "embed"))
        g = fe_parse_model(EMBED_JSON, strlen(EMBED_JSON), "embed.json", ".", &d);
    else if (!strcmp(name, "seg"))
        g = fe_parse_model(SEG_JSON, strlen(SEG_JSON), "seg.json", ".", &d);
    else if (!strcmp(name, "bn"))
        g = fe_parse_model(BN_JSON, strlen(BN_JSON), "bn.json", ".", &d);
    else if (!strcmp(name, "plain"))
        g = fe_parse_model(PLAIN_JSON, strlen(PLAIN_JSON), "plain.json", ".", &d);
    else {
        char rel[128];
        snprintf(rel, sizeof rel, "examples/%s.json", name);
        g = fe_load_model(tu_src(rel), &d);
    }
    ck_assert_msg(g != NULL, "%s: %s", name, first_msg(&d));
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    ck_assert_msg(pass_prepare(g, &ctx, tg) == 0, "%s: %s", name, first_msg(&d));
    ir_diag_free(&d);
    return g;
}

/* JIT-compiled once per process (the suite runs without fork). */
static Model *model(const char *name)
{
    static Model models[NMODELS + 1];
    int i = 0;
    while (i < NMODELS && strcmp(examples[i], name))
        i++;
    Model *m = &models[i];
    if (m->info)
        return m;
    m->name = name;
    m->g = load_graph(name, &m->tg);
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {2, NULL, NULL, NULL, false, false};
    ck_assert_msg(cg_jit_compile(m->g, m->tg, &o, &m->jit, &d) == 0, "%s: %s", name, first_msg(&d));
    ir_diag_free(&d);
    m->info = cg_jit_info(m->jit);
    return m;
}

/* The interpreter's training graph of a model, fresh (its params are the initial ones). */
static IrGraph *oracle(const Model *m)
{
    ck_assert_msg(m->tg != NULL, "%s has no training graph", m->name);
    return ir_graph_clone(m->tg);
}

/* ---- batches ------------------------------------------------------------------------------ */

typedef struct Batch {
    int64_t n;
    int count;                       /* graph inputs then training inputs */
    IrTensor t[8];
    void *args[8];
} Batch;

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

static double rng_unit(uint64_t *s)
{
    return (double)rng_next(s) * 0x1p-53;
}

/* Random inputs: floats in [-1, 1), class labels in [0, classes), token ids in [0, 20). */
static void batch_make(const IrGraph *g, int64_t n, uint64_t seed, Batch *b)
{
    memset(b, 0, sizeof *b);
    b->n = n;
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    const IrNode *loss = g->training->loss;
    int64_t classes = g->values[loss->in[0]]->shape.d[1].b;
    b->count = g->ninputs + g->training->ninputs;
    ck_assert_int_le(b->count, 8);
    for (int i = 0; i < b->count; i++) {
        const IrValue *v = g->values[i < g->ninputs ? g->inputs[i] : g->training->inputs[i - g->ninputs]];
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&b->t[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t e = 0; e < b->t[i].numel; e++) {
            if (ir_dtype_is_float(v->dtype))
                ir_tensor_setf(&b->t[i], e, 2 * rng_unit(&s) - 1);
            else
                ir_tensor_seti(&b->t[i], e, (int64_t)(rng_next(&s) % (uint64_t)(v->training_input ? classes : 20)));
        }
        b->args[i] = b->t[i].data;
    }
}

static void batch_free(Batch *b)
{
    for (int i = 0; i < b->count; i++)
        ir_tensor_free(&b->t[i]);
}

/* ---- comparisons ---------------------------------------------------------------------------- */

static const SinterTensorInfo *find_tensor(const SinterTensorInfo *ts, int64_t count, const char *name)
{
    for (int64_t i = 0; i < count; i++)
        if (!strcmp(ts[i].name, name))
            return &ts[i];
    return NULL;
}

static int64_t numel_of(const SinterTensorInfo *t)
{
    return t->bytes.b / (int64_t)srt_dtype_size((SrtDtype)t->dtype);
}

static const float *ctx_tensor(const Model *m, void *ctx, const SinterTensorInfo *t)
{
    return (const float *)((const char *)srt_model_params(m->info, ctx) + t->offset);
}

static size_t block_bytes(const SinterModelInfo *info)
{
    return (size_t)(info->param_bytes + info->state_bytes);
}

/* A copy of a context's param block (params and state). */
static void *block_copy(const Model *m, void *ctx)
{
    void *c = malloc(block_bytes(m->info));
    ck_assert_ptr_nonnull(c);
    memcpy(c, srt_model_params(m->info, ctx), block_bytes(m->info));
    return c;
}

/* ---- compiled training vs the interpreter ------------------------------------------------- */

/* Ten compiled train_step calls give the interpreter's losses and parameters (every example and
 * the two op models; BatchNorm running statistics and the step counter included). */
START_TEST(t_train_matches_interp)
{
    Model *m = model(examples[_i]);
    const SinterModelInfo *info = m->info;
    IrGraph *tg = oracle(m);
    void *ctx = info->create();
    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(info->set_num_threads(ctx, 2), SINTER_OK);
    void *initial = block_copy(m, ctx);
    IrDiag d;
    ir_diag_init(&d, NULL);
    for (int step = 0; step < 10; step++) {
        Batch b;
        batch_make(m->g, 3, (uint64_t)step, &b);
        float lc = NAN;
        double li = NAN;
        ck_assert_msg(info->train_step(ctx, b.n, b.args, &lc) == SINTER_OK, "%s", info->error(ctx));
        ck_assert_msg(ir_interp_train_step(tg, b.n, b.t, &li, &d) == 0, "%s", first_msg(&d));
        if (getenv("SINTER_TEST_VERBOSE"))
            fprintf(stderr, "%s loss step %d: %.3g relative\n", m->name, step, fabs(lc - li) / fmax(1, fabs(li)));
        ck_assert_msg(fabs(lc - li) <= LOSS_RTOL * fmax(1, fabs(li)), "%s step %d: loss %.9g vs %.9g", m->name, step,
                      (double)lc, li);
        batch_free(&b);
    }
    ck_assert_int_eq(info->get_step(ctx), 10);
    for (int64_t i = 0; i < info->nparams + info->nstate; i++) {
        const SinterTensorInfo *t = i < info->nparams ? &info->params[i] : &info->state[i - info->nparams];
        const IrValue *v = tg->values[ir_value_find(tg, t->name)];
        if (t->dtype != SRT_F32) {
            ck_assert_int_eq(memcmp(ctx_tensor(m, ctx, t), v->data, (size_t)t->bytes.b), 0);   /* the step */
            continue;
        }
        const float *c = ctx_tensor(m, ctx, t), *o = v->data;
        const float *c0 = (const float *)((const char *)initial + t->offset);
        int64_t count = numel_of(t);
        double big = 0, worst = 0;
        if (noise_only(m->name, t->name)) {
            double lr = *(const float *)((const char *)initial + info->lr_offset);
            for (int64_t e = 0; e < count && !strcmp(t->name, "attn.k.bias"); e++)
                ck_assert(fabs((double)c[e] - c0[e]) <= 10 * lr * 1.001);
            continue;
        }
        for (int64_t e = 0; e < count; e++)
            big = fmax(big, fabs((double)o[e] - c0[e]));
        for (int64_t e = 0; e < count; e++)
            worst = fmax(worst, fabs((double)c[e] - o[e]));
        if (getenv("SINTER_TEST_VERBOSE"))
            fprintf(stderr, "%s param %s: worst %.3g of largest change %.3g\n", m->name, t->name, worst, big);
        ck_assert_msg(worst <= PARAM_RTOL * big, "%s: %s differs by %g (largest change %g)",
                      m->name, t->name, worst, big);
    }
    free(initial);
    info->destroy(ctx);
    ir_diag_free(&d);
    ir_graph_free(tg);
}
END_TEST

/* NAME_grad leaves the interpreter's gradients in the flat buffer (one step from the initial
 * params) at batch size n, in the order and at the offsets the descriptor lists; the loss too. */
static void check_grads(const Model *m, int64_t n, int threads)
{
    const SinterModelInfo *info = m->info;
    IrGraph *tg = oracle(m);
    void *ctx = info->create();
    ck_assert_int_eq(info->set_num_threads(ctx, threads), SINTER_OK);
    Batch b;
    batch_make(m->g, n, 99, &b);
    float lc;
    double li;
    ck_assert_msg(info->grad(ctx, b.n, b.args, &lc) == SINTER_OK, "%s", info->error(ctx));
    size_t count = 0;
    float *gbuf = info->grads(ctx, &count);
    ck_assert_ptr_nonnull(gbuf);
    IrDiag d;
    ir_diag_init(&d, NULL);
    const IrTraining *tr = tg->training;
    IrTensor *gi = calloc((size_t)tr->ngrads + 1, sizeof *gi);
    ck_assert_msg(ir_interp_train_grads(tg, b.n, b.t, &li, gi, &d) == 0, "%s", first_msg(&d));
    ck_assert_msg(fabs(lc - li) <= LOSS_RTOL * fmax(1, fabs(li)), "%s n=%lld: loss %.9g vs %.9g", m->name,
                  (long long)n, (double)lc, li);
    ck_assert_int_eq(info->ngrad_params, tr->ngrads);
    int64_t off = 0;
    for (int i = 0; i < tr->ngrads; i++) {
        const SinterTensorInfo *t = &info->grad_params[i];
        ck_assert_str_eq(t->name, tg->values[tr->grad_param[i]]->name);
        ck_assert_int_eq(t->offset, off);
        off += t->bytes.b;
        const float *c = (const float *)((const char *)gbuf + t->offset);
        double big = 0, worst = 0;
        for (int64_t e = 0; e < gi[i].numel; e++)
            big = fmax(big, fabs(ir_tensor_getf(&gi[i], e)));
        for (int64_t e = 0; e < gi[i].numel; e++)
            worst = fmax(worst, fabs(c[e] - ir_tensor_getf(&gi[i], e)));
        if (getenv("SINTER_TEST_VERBOSE"))
            fprintf(stderr, "%s n=%lld grad %s: worst %.3g of largest %.3g\n", m->name, (long long)n, t->name, worst,
                    big);
        if (noise_only(m->name, t->name))
            ck_assert_msg(worst <= 1e-5, "%s: gradient of %s is %g, not about 0", m->name, t->name, worst);
        else
            ck_assert_msg(worst <= GRAD_RTOL * big, "%s n=%lld: gradient of %s differs by %g (largest %g)", m->name,
                          (long long)n, t->name, worst, big);
        ir_tensor_free(&gi[i]);
    }
    ck_assert_int_eq((int64_t)count * 4, off);
    ck_assert_int_eq(info->grad_count, (int64_t)count);
    free(gi);
    batch_free(&b);
    info->destroy(ctx);
    ir_diag_free(&d);
    ir_graph_free(tg);
}

/* Gradients at n = 1 (vector tails only) and n = 4, one thread. */
START_TEST(t_grads_match_interp)
{
    check_grads(model(examples[_i]), 1, 1);
    check_grads(model(examples[_i]), 4, 1);
}
END_TEST

/* Gradients at n = 37 on two threads: several parallel chunks per kernel (the interpreter is
 * slow on the residual CNN at this size: it runs at n = 9 there). */
START_TEST(t_grads_parallel)
{
    Model *m = model(examples[_i]);
    check_grads(m, strcmp(m->name, "resnet_small") ? 37 : 9, 2);
}
END_TEST

/* grad then apply equals train_step bit for bit (losses, params, state), over three steps. */
START_TEST(t_grad_apply_is_train_step)
{
    Model *m = model(examples[_i]);
    const SinterModelInfo *info = m->info;
    void *a = info->create(), *b = info->create();
    for (int step = 0; step < 3; step++) {
        Batch x;
        batch_make(m->g, 5, 40 + (uint64_t)step, &x);
        float la, lb;
        ck_assert_int_eq(info->train_step(a, x.n, x.args, &la), SINTER_OK);
        ck_assert_int_eq(info->grad(b, x.n, x.args, &lb), SINTER_OK);
        ck_assert_int_eq(info->get_step(b), step);
        ck_assert_int_eq(info->apply(b), SINTER_OK);
        ck_assert_int_eq(memcmp(&la, &lb, sizeof la), 0);
        batch_free(&x);
    }
    ck_assert_int_eq(memcmp(srt_model_params(info, a), srt_model_params(info, b), block_bytes(info)), 0);
    ck_assert_int_eq(info->get_step(a), 3);
    info->destroy(a);
    info->destroy(b);
}
END_TEST

/* The flat gradient buffer holds exactly the trainable params' elements. */
START_TEST(t_grads_count)
{
    Model *m = model(examples[_i]);
    int64_t want = 0;
    for (int id = 0; id < m->g->nvalues; id++) {
        const IrValue *v = m->g->values[id];
        IrDim c;
        if (v->role == IR_ROLE_PARAM && v->trainable && ir_shape_numel(&v->shape, &c))
            want += c.b;
    }
    void *ctx = m->info->create();
    size_t count = 0;
    ck_assert_ptr_nonnull(m->info->grads(ctx, &count));
    ck_assert_int_eq((int64_t)count, want);
    ck_assert_ptr_eq(m->info->grads(ctx, NULL), m->info->grads(ctx, &count));
    m->info->destroy(ctx);
}
END_TEST

/* Save after 3 steps, load into a fresh context, 3 more steps: bit-identical to 6 uninterrupted
 * steps (same thread count), with the step counter restored. */
START_TEST(t_save_load_continue)
{
    Model *m = model(examples[_i]);
    const SinterModelInfo *info = m->info;
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    void *a = info->create(), *b = info->create();
    ck_assert_int_eq(info->set_num_threads(a, 2), SINTER_OK);
    ck_assert_int_eq(info->set_num_threads(b, 2), SINTER_OK);
    for (int step = 0; step < 6; step++) {
        Batch x;
        batch_make(m->g, 4, 70 + (uint64_t)step, &x);
        if (step == 3) {
            ck_assert_int_eq(info->save(a, path), SINTER_OK);
            ck_assert_int_eq(info->load(b, path), SINTER_OK);
            ck_assert_int_eq(info->get_step(b), 3);
        }
        float la;
        ck_assert_int_eq(info->train_step(a, x.n, x.args, &la), SINTER_OK);
        if (step >= 3) {
            float lb;
            ck_assert_int_eq(info->train_step(b, x.n, x.args, &lb), SINTER_OK);
            ck_assert_int_eq(memcmp(&la, &lb, sizeof la), 0);
        }
        batch_free(&x);
    }
    ck_assert_int_eq(memcmp(srt_model_params(info, a), srt_model_params(info, b), block_bytes(info)), 0);
    ck_assert_int_eq(info->get_step(b), 6);
    info->destroy(a);
    info->destroy(b);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* ---- single behaviours (the MLP unless said otherwise) ---------------------------------------- */

static void train_steps(const Model *m, void *ctx, int steps, uint64_t seed)
{
    for (int s = 0; s < steps; s++) {
        Batch x;
        batch_make(m->g, 4, seed + (uint64_t)s, &x);
        ck_assert_msg(m->info->train_step(ctx, x.n, x.args, NULL) == SINTER_OK, "%s", m->info->error(ctx));
        batch_free(&x);
    }
}

/* The descriptor lists the training inputs, the optimizer state after the params, and the
 * gradients packed in declaration order. */
START_TEST(t_descriptor)
{
    const SinterModelInfo *info = model("fmnist_mlp")->info;
    ck_assert_int_eq(info->version, SINTER_MODEL_INFO_VERSION);
    ck_assert_int_eq(info->size, (int64_t)sizeof(SinterModelInfo));
    ck_assert(info->flags & SINTER_MODEL_TRAINING);
    ck_assert_int_eq(info->ntraining_inputs, 1);
    ck_assert_str_eq(info->training_inputs[0].name, "y");
    ck_assert_int_eq(info->training_inputs[0].dtype, SRT_I64);
    ck_assert_int_eq(info->training_inputs[0].dims[0].a, 1);
    ck_assert_int_eq(info->nstate, 10);   /* step, lr, and m, v of 4 params */
    ck_assert_ptr_nonnull(find_tensor(info->state, info->nstate, "optim.step"));
    ck_assert_ptr_nonnull(find_tensor(info->state, info->nstate, "optim.lr"));
    ck_assert_ptr_nonnull(find_tensor(info->state, info->nstate, "adam.v/fc2.bias"));
    for (int64_t i = 0; i < info->nstate; i++) {
        ck_assert_int_ge(info->state[i].offset, info->param_bytes);
        ck_assert_int_le(info->state[i].offset + info->state[i].bytes.b, info->param_bytes + info->state_bytes);
    }
    ck_assert_int_eq(info->step_offset, find_tensor(info->state, info->nstate, "optim.step")->offset);
    ck_assert_int_eq(info->lr_offset, find_tensor(info->state, info->nstate, "optim.lr")->offset);
    ck_assert_int_eq(info->ngrad_params, 4);
    ck_assert_str_eq(info->grad_params[0].name, "fc1.weight");
    ck_assert_int_eq(info->grad_params[1].offset, 256 * 784 * 4);
    ck_assert_int_eq(info->grad_count, 256 * 784 + 256 + 10 * 256 + 10);
    ck_assert_int_eq(info->train_scratch_bytes.a > 0, 1);
    ck_assert_int_gt(info->train_max_n, 1000000);
    void *ctx = info->create();
    float lr;
    memcpy(&lr, (char *)srt_model_params(info, ctx) + info->lr_offset, sizeof lr);
    ck_assert(lr == 0.001f);
    info->destroy(ctx);
    const SinterModelInfo *plain = model("plain")->info;
    ck_assert_int_eq(plain->flags & SINTER_MODEL_TRAINING, 0);
    ck_assert(plain->train_step == NULL);
    ck_assert_int_eq(plain->nstate, 0);
}
END_TEST

/* get_step counts optimizer steps: train_step and apply count, grad alone does not. */
START_TEST(t_get_step)
{
    Model *m = model("fmnist_mlp");
    const SinterModelInfo *info = m->info;
    void *ctx = info->create();
    ck_assert_int_eq(info->get_step(ctx), 0);
    train_steps(m, ctx, 2, 1);
    ck_assert_int_eq(info->get_step(ctx), 2);
    Batch x;
    batch_make(m->g, 2, 5, &x);
    ck_assert_int_eq(info->grad(ctx, x.n, x.args, NULL), SINTER_OK);
    ck_assert_int_eq(info->get_step(ctx), 2);
    ck_assert_int_eq(info->apply(ctx), SINTER_OK);
    ck_assert_int_eq(info->get_step(ctx), 3);
    batch_free(&x);
    info->destroy(ctx);
}
END_TEST

/* set_lr changes the learning rate of the next steps: lr 0 leaves the params as they are (the
 * step still counts), and a changed lr matches the interpreter with the same lr. */
START_TEST(t_set_lr)
{
    Model *m = model("embed");
    const SinterModelInfo *info = m->info;
    void *ctx = info->create();
    void *before = block_copy(m, ctx);
    ck_assert_int_eq(info->set_lr(ctx, 0.0f), SINTER_OK);
    train_steps(m, ctx, 1, 3);
    ck_assert_int_eq(memcmp(srt_model_params(info, ctx), before, (size_t)info->param_bytes), 0);
    ck_assert_int_eq(info->get_step(ctx), 1);
    info->destroy(ctx);
    free(before);

    IrGraph *tg = oracle(m);
    *(float *)tg->values[ir_value_find(tg, "optim.lr")]->data = 0.2f;
    ctx = info->create();
    ck_assert_int_eq(info->set_lr(ctx, 0.2f), SINTER_OK);
    IrDiag d;
    ir_diag_init(&d, NULL);
    for (int s = 0; s < 2; s++) {
        Batch x;
        batch_make(m->g, 4, 11 + (uint64_t)s, &x);
        ck_assert_int_eq(info->train_step(ctx, x.n, x.args, NULL), SINTER_OK);
        ck_assert_int_eq(ir_interp_train_step(tg, x.n, x.t, NULL, &d), 0);
        batch_free(&x);
    }
    const float *c = ctx_tensor(m, ctx, find_tensor(info->params, info->nparams, "w"));
    const float *o = tg->values[ir_value_find(tg, "w")]->data;
    for (int e = 0; e < 40; e++)
        ck_assert_msg(fabs(c[e] - o[e]) <= 1e-5 * fmax(1, fabs(o[e])), "w[%d]: %g vs %g", e, (double)c[e], (double)o[e]);
    ck_assert_int_eq(info->set_lr(ctx, -1.0f), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "embed_set_lr: lr = -1: the learning rate must be a finite number >= 0");
    ck_assert_int_eq(info->set_lr(ctx, NAN), SINTER_EINVAL);
    ck_assert_int_eq(info->set_lr(ctx, INFINITY), SINTER_EINVAL);
    info->destroy(ctx);
    ir_diag_free(&d);
    ir_graph_free(tg);
}
END_TEST

/* Frozen params neither change nor get gradients or optimizer state. */
START_TEST(t_frozen_unchanged)
{
    Model *m = model("embed");
    const SinterModelInfo *info = m->info;
    void *ctx = info->create();
    const SinterTensorInfo *fz = find_tensor(info->params, info->nparams, "emb.frozen");
    const SinterTensorInfo *tr = find_tensor(info->params, info->nparams, "emb");
    void *before = block_copy(m, ctx);
    train_steps(m, ctx, 3, 21);
    const char *now = srt_model_params(info, ctx);
    ck_assert_int_eq(memcmp(now + fz->offset, (char *)before + fz->offset, (size_t)fz->bytes.b), 0);
    ck_assert_int_ne(memcmp(now + tr->offset, (char *)before + tr->offset, (size_t)tr->bytes.b), 0);
    ck_assert_ptr_null(find_tensor(info->grad_params, info->ngrad_params, "emb.frozen"));
    ck_assert_ptr_null(find_tensor(info->state, info->nstate, "sgd.momentum/emb.frozen"));
    ck_assert_ptr_nonnull(find_tensor(info->state, info->nstate, "sgd.momentum/emb"));
    free(before);
    info->destroy(ctx);
}
END_TEST

/* A file with params only loads the params and restarts the optimizer (state as created); a
 * file with part of the state is refused and changes nothing. */
START_TEST(t_load_params_only)
{
    Model *m = model("fmnist_mlp");
    const SinterModelInfo *info = m->info;
    void *a = info->create(), *b = info->create(), *fresh = info->create();
    train_steps(m, a, 2, 30);
    train_steps(m, b, 1, 50);
    char dir[256], only[512], part[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(only, sizeof only, "%s/params.safetensors", dir);
    snprintf(part, sizeof part, "%s/part.safetensors", dir);
    SrtTensor ts[16];
    ck_assert_int_le(info->nparams + 1, 16);
    for (int64_t i = 0; i <= info->nparams; i++) {
        const SinterTensorInfo *p = i < info->nparams ? &info->params[i] : find_tensor(info->state, info->nstate, "optim.step");
        ts[i].name = (char *)(uintptr_t)p->name;
        ts[i].dtype = (SrtDtype)p->dtype;
        ts[i].rank = (int)p->rank;
        for (int r = 0; r < p->rank; r++)
            ts[i].dims[r] = p->dims[r].b;
        ts[i].nbytes = (size_t)p->bytes.b;
        ts[i].data = (char *)srt_model_params(info, a) + p->offset;
    }
    char err[256];
    ck_assert_int_eq(srt_safetensors_write(only, ts, (int)info->nparams, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_safetensors_write(part, ts, (int)info->nparams + 1, err, sizeof err), SINTER_OK);

    void *keep = block_copy(m, b);
    ck_assert_int_eq(info->load(b, part), SINTER_EFORMAT);
    ck_assert_msg(strstr(info->error(b), ": the file has optimizer state, so it needs all of it)") != NULL, "%s",
                  info->error(b));
    ck_assert_int_eq(memcmp(srt_model_params(info, b), keep, block_bytes(info)), 0);

    ck_assert_int_eq(info->load(b, only), SINTER_OK);
    ck_assert_int_eq(memcmp(srt_model_params(info, b), srt_model_params(info, a), (size_t)info->param_bytes), 0);
    ck_assert_int_eq(memcmp((char *)srt_model_params(info, b) + info->param_bytes,
                            (char *)srt_model_params(info, fresh) + info->param_bytes, (size_t)info->state_bytes), 0);
    ck_assert_int_eq(info->get_step(b), 0);
    free(keep);
    info->destroy(a);
    info->destroy(b);
    info->destroy(fresh);
    unlink(only);
    unlink(part);
    rmdir(dir);
}
END_TEST

/* Bad arguments: SINTER_EINVAL with a message naming the function, nothing changed. */
START_TEST(t_bad_arguments)
{
    Model *m = model("fmnist_mlp");
    const SinterModelInfo *info = m->info;
    void *ctx = info->create();
    void *before = block_copy(m, ctx);
    Batch x;
    batch_make(m->g, 4, 1, &x);
    float loss = 7;
    ck_assert_int_eq(info->train_step(ctx, 0, x.args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "fmnist_mlp_train_step: n = 0: the batch size must be at least 1");
    ck_assert_int_eq(info->grad(ctx, -3, x.args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "fmnist_mlp_grad: n = -3: the batch size must be at least 1");
    ck_assert_int_eq(info->train_step(ctx, 4, NULL, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "fmnist_mlp_train_step: the argument array is NULL");
    void *args[2] = {x.args[0], NULL};
    ck_assert_int_eq(info->grad(ctx, 4, args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "fmnist_mlp_grad: training input \"y\" is NULL");
    int64_t *y = x.args[1];
    y[3] = 10;
    ck_assert_int_eq(info->train_step(ctx, 4, x.args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx),
                     "fmnist_mlp_train_step: training input \"y\" holds 10 at index 3; labels must be in [0, 10)");
    y[3] = -1;
    ck_assert_int_eq(info->grad(ctx, 4, x.args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx), "fmnist_mlp_grad: training input \"y\" holds -1 at index 3; labels must be in [0, 10)");
    ck_assert(loss == 7);
    ck_assert_int_eq(memcmp(srt_model_params(info, ctx), before, block_bytes(info)), 0);
    ck_assert_int_eq(info->get_step(ctx), 0);

    /* no context */
    ck_assert_int_eq(info->train_step(NULL, 4, x.args, &loss), SINTER_EINVAL);
    ck_assert_str_eq(info->error(NULL), "fmnist_mlp_train_step: the context is NULL");
    ck_assert_int_eq(info->apply(NULL), SINTER_EINVAL);
    ck_assert_str_eq(info->error(NULL), "fmnist_mlp_apply: the context is NULL");
    ck_assert_int_eq(info->set_lr(NULL, 0.1f), SINTER_EINVAL);
    size_t count = 9;
    ck_assert_ptr_null(info->grads(NULL, &count));
    ck_assert_int_eq(count, 0);
    ck_assert_int_eq(info->get_step(NULL), -1);
    ck_assert_str_eq(info->error(NULL), "fmnist_mlp_get_step: the context is NULL");
    /* a context of another model */
    void *other = model("embed")->info->create();
    ck_assert_int_eq(info->apply(other), SINTER_EINVAL);
    ck_assert_str_eq(info->error(NULL), "fmnist_mlp_apply: not a context of model fmnist_mlp (created by another "
                                        "library, or destroyed)");
    model("embed")->info->destroy(other);
    batch_free(&x);
    free(before);
    info->destroy(ctx);
}
END_TEST

/* A label equal to ignore_index passes the check and weighs nothing. */
START_TEST(t_ignore_index)
{
    Model *m = model("embed");
    const SinterModelInfo *info = m->info;
    IrGraph *tg = oracle(m);
    void *ctx = info->create();
    Batch x;
    batch_make(m->g, 4, 8, &x);
    int64_t *y = x.args[1];
    y[0] = y[2] = 4;
    float lc;
    double li;
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(info->train_step(ctx, x.n, x.args, &lc), SINTER_OK);
    ck_assert_int_eq(ir_interp_train_step(tg, x.n, x.t, &li, &d), 0);
    ck_assert_msg(fabs(lc - li) <= LOSS_RTOL * fmax(1, fabs(li)), "loss %.9g vs %.9g", (double)lc, li);
    y[1] = 5;
    ck_assert_int_eq(info->grad(ctx, x.n, x.args, &lc), SINTER_EINVAL);
    ck_assert_str_eq(info->error(ctx),
                     "embed_grad: training input \"y\" holds 5 at index 1; labels must be in [0, 5) or equal ignore_index");
    batch_free(&x);
    info->destroy(ctx);
    ir_diag_free(&d);
    ir_graph_free(tg);
}
END_TEST

/* The shared library (cg_compile + dlopen) trains exactly like the JIT-compiled code, and a
 * C program using its header's training functions compiles, links and runs. */
START_TEST(t_shared_library)
{
    Model *m = model("fmnist_mlp");
    char dir[256], so[512], hdr[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(so, sizeof so, "%s/libfmnist_mlp.so", dir);
    snprintf(hdr, sizeof hdr, "%s/fmnist_mlp.h", dir);
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {2, NULL, NULL, NULL, false, false};
    ck_assert_msg(cg_compile(m->g, m->tg, &o, so, NULL, &d) == 0, "%s", first_msg(&d));
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "%s", dlerror());
    const SinterModelInfo *info = dlsym(h, "sinter_model_info");
    ck_assert_ptr_nonnull(info);
    typedef int (*StepFn)(void *, int64_t, const float *, const int64_t *, float *);
    StepFn step = (StepFn)(uintptr_t)dlsym(h, "fmnist_mlp_train_step");
    ck_assert(step != NULL);
    void *a = info->create(), *b = m->info->create();
    info->set_num_threads(a, 1);
    m->info->set_num_threads(b, 1);
    for (int s = 0; s < 2; s++) {
        Batch x;
        batch_make(m->g, 3, 60 + (uint64_t)s, &x);
        float la, lb;
        ck_assert_int_eq(step(a, x.n, x.args[0], x.args[1], &la), SINTER_OK);
        ck_assert_int_eq(m->info->train_step(b, x.n, x.args, &lb), SINTER_OK);
        ck_assert(la == lb);
        batch_free(&x);
    }
    ck_assert_int_eq(memcmp(srt_model_params(info, a), srt_model_params(m->info, b), block_bytes(info)), 0);
    info->destroy(a);
    m->info->destroy(b);
    dlclose(h);

    char src[600], prog[600], out[600], cmd[4096];
    snprintf(src, sizeof src, "%s/main.c", dir);
    snprintf(prog, sizeof prog, "%s/main", dir);
    snprintf(out, sizeof out, "%s/main.out", dir);
    tu_write_text(src, "#include \"fmnist_mlp.h\"\n#include <stdio.h>\n"
                       "static float x[4 * 784];\nstatic int64_t y[4] = {1, 2, 3, 4};\n"
                       "int main(void) {\n"
                       "    fmnist_mlp *m = fmnist_mlp_create();\n"
                       "    float loss = -1;\n"
                       "    for (int i = 0; i < 4 * 784; i++) x[i] = (float)(i % 7) / 7;\n"
                       "    int rc = fmnist_mlp_train_step(m, 4, x, y, &loss);\n"
                       "    rc |= fmnist_mlp_grad(m, 4, x, y, NULL);\n"
                       "    size_t count = 0;\n"
                       "    float *g = fmnist_mlp_grads(m, &count);\n"
                       "    g[0] *= 2;\n"
                       "    rc |= fmnist_mlp_apply(m) | fmnist_mlp_set_lr(m, 0.5f);\n"
                       "    printf(\"%d %zu %lld %d\\n\", rc, count, (long long)fmnist_mlp_get_step(m), loss > 0);\n"
                       "    rc = fmnist_mlp_train_step(m, 4, x, NULL, NULL);\n"
                       "    printf(\"%d %s\\n\", rc, fmnist_mlp_error(m));\n"
                       "    fmnist_mlp_destroy(m);\n"
                       "    return 0;\n}\n");
#if defined(__SANITIZE_ADDRESS__)
    const char *san = "-fsanitize=address,undefined";   /* the library is instrumented too */
#else
    const char *san = "";
#endif
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -Wall -Wextra -Wpedantic -Werror %s -I%s -o %s %s -L%s -lfmnist_mlp -Wl,-rpath,%s && %s > %s",
             san, dir, prog, src, dir, dir, prog, out);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(out, "r");
    char line[300];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "0 203530 2 1\n");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "1 fmnist_mlp_train_step: training input \"y\" is NULL\n");
    fclose(f);
    ir_diag_free(&d);
    unlink(so);
    unlink(hdr);
    unlink(src);
    unlink(prog);
    unlink(out);
    rmdir(dir);
}
END_TEST

/* With external weights, the optimizer state is initialized at create (lr from the model) and
 * training waits for NAME_load; a checkpoint with state then resumes exactly. */
START_TEST(t_external_weights)
{
    Model *m = model("embed");
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgJit *j;
    CgOptions o = {1, NULL, NULL, NULL, true, false};
    ck_assert_msg(cg_jit_compile(m->g, m->tg, &o, &j, &d) == 0, "%s", first_msg(&d));
    const SinterModelInfo *ext = cg_jit_info(j), *info = m->info;
    ck_assert_ptr_null(ext->weights);
    void *e = ext->create(), *a = info->create();
    float lr;
    memcpy(&lr, (char *)srt_model_params(ext, e) + ext->lr_offset, sizeof lr);
    ck_assert(lr == 0.05f);
    Batch x;
    batch_make(m->g, 4, 3, &x);
    ck_assert_int_eq(ext->train_step(e, x.n, x.args, NULL), SINTER_ESTATE);
    ck_assert_str_eq(ext->error(e), "embed_train_step: no weights loaded (the library was built with external "
                                    "weights: call embed_load first)");
    ck_assert_int_eq(ext->apply(e), SINTER_ESTATE);
    train_steps(m, a, 2, 90);
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    ck_assert_int_eq(info->save(a, path), SINTER_OK);
    ck_assert_int_eq(ext->load(e, path), SINTER_OK);
    ck_assert_int_eq(ext->get_step(e), 2);
    float la, le;
    ck_assert_int_eq(ext->train_step(e, x.n, x.args, &le), SINTER_OK);
    ck_assert_int_eq(info->train_step(a, x.n, x.args, &la), SINTER_OK);
    ck_assert(la == le);
    ck_assert_int_eq(memcmp(srt_model_params(ext, e), srt_model_params(info, a), block_bytes(info)), 0);
    batch_free(&x);
    ext->destroy(e);
    info->destroy(a);
    cg_jit_free(j);
    ir_diag_free(&d);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* Without a training graph the library has no training entry points. */
START_TEST(t_inference_only)
{
    Model *m = model("embed");
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgJit *j;
    ck_assert_msg(cg_jit_compile(m->g, NULL, NULL, &j, &d) == 0, "%s", first_msg(&d));
    const SinterModelInfo *info = cg_jit_info(j);
    ck_assert_int_eq(info->flags & SINTER_MODEL_TRAINING, 0);
    ck_assert(info->train_step == NULL && info->grads == NULL);
    ck_assert_int_eq(info->nstate, 0);
    void *ctx = info->create();
    ck_assert_int_eq(info->get_step == NULL, 1);
    ck_assert_int_eq(info->param_bytes, m->info->param_bytes);
    info->destroy(ctx);
    cg_jit_free(j);
    ir_diag_free(&d);
}
END_TEST

/* The header declares the training functions for models with a training section only. */
START_TEST(t_header)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    char *h = cg_header_text(model("fmnist_mlp")->g, true, &d);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(strstr(h, "int fmnist_mlp_train_step(fmnist_mlp *m, int64_t n, const float *x, "
                                    "const int64_t *y, float *loss);\n"));
    ck_assert_ptr_nonnull(strstr(h, "int fmnist_mlp_grad(fmnist_mlp *m, int64_t n, const float *x, const int64_t *y, "
                                    "float *loss);\n"));
    ck_assert_ptr_nonnull(strstr(h, "int fmnist_mlp_apply(fmnist_mlp *m);\n"));
    ck_assert_ptr_nonnull(strstr(h, "float *fmnist_mlp_grads(fmnist_mlp *m, size_t *count);\n"));
    ck_assert_ptr_nonnull(strstr(h, "int fmnist_mlp_set_lr(fmnist_mlp *m, float lr);\n"));
    ck_assert_ptr_nonnull(strstr(h, "int64_t fmnist_mlp_get_step(const fmnist_mlp *m);\n"));
    free(h);
    h = cg_header_text(model("plain")->g, false, &d);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_null(strstr(h, "train_step"));
    ck_assert_ptr_null(strstr(h, "get_step"));
    free(h);
    ir_diag_free(&d);
}
END_TEST

/* The training graph: refused for a model without a training section or a graph autodiff
 * already differentiated; the programs print with their storage. */
START_TEST(t_training_graph_errors)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ck_assert_ptr_null(pass_training_graph(model("plain")->g, &ctx));
    ck_assert_str_eq(ir_diag_first(&d), "plain: the model has no training section");
    ir_diag_free(&d);
    ir_diag_init(&d, NULL);
    IrGraph *tg = oracle(model("fmnist_mlp"));
    pass_context_init(&ctx, &d);
    ck_assert_ptr_null(pass_training_graph(tg, &ctx));
    ck_assert_str_eq(ir_diag_first(&d), "fmnist_mlp: the graph is a training graph already (autodiff ran); compile "
                                        "the model itself: the compiler builds the training step from it");
    ir_graph_free(tg);
    ir_diag_free(&d);
    ir_diag_init(&d, NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_int_eq(cg_print_training_programs(model("fmnist_mlp")->g, model("fmnist_mlp")->tg, f, &d), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "program fmnist_mlp (gradient): "));
    ck_assert_ptr_nonnull(strstr(text, "program fmnist_mlp (optimizer): 5 kernels, 6 steps"));
    ck_assert_ptr_nonnull(strstr(text, "  %\"next/fc1.weight\" : f32[256,784]  param offset 0 size 802816\n"));
    ck_assert_ptr_nonnull(strstr(text, "  %\"grad/fc1.weight\" : f32[256,784]  gradient offset 0 size 802816\n"));
    ck_assert_ptr_nonnull(strstr(text, "update %optim.step <- %\"next/optim.step\""));
    free(text);
    ir_diag_free(&d);
}
END_TEST

/* A float64 model's training step is refused with a message saying what to do. */
START_TEST(t_float64_refused)
{
    static const char *json =
        "{\"sinter\": 1, \"name\": \"f64\",\n"
        " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float64\", \"shape\": [\"N\", 3]}],\n"
        " \"outputs\": [\"z\"],\n"
        " \"params\": [{\"name\": \"w\", \"dtype\": \"float64\", \"shape\": [2, 3], \"init\": {\"kind\": \"ones\"}}],\n"
        " \"nodes\": [{\"op\": \"Gemm\", \"inputs\": [\"x\", \"w\"], \"outputs\": [\"z\"], \"attrs\": {\"transB\": 1}}],\n"
        " \"training\": {\"inputs\": [{\"name\": \"t\", \"dtype\": \"float64\", \"shape\": [\"N\", 2]}],\n"
        "   \"loss\": {\"op\": \"MSELoss\", \"inputs\": [\"z\", \"t\"]},\n"
        "   \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.1}}}\n";
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(json, strlen(json), "f64.json", ".", &d);
    ck_assert_ptr_nonnull(g);
    CgJit *j = NULL;
    PassContext ctx;
    pass_context_init(&ctx, &d);
    IrGraph *tg = pass_training_graph(g, &ctx);
    ck_assert_ptr_nonnull(tg);
    ck_assert_int_eq(cg_jit_compile(g, tg, NULL, &j, &d), -1);
    ir_graph_free(tg);
    ck_assert_str_eq(ir_diag_first(&d), "training.loss: the compiled training step computes in float32, but the loss "
                                        "is float64 (use float32 tensors, or remove the training section to compile "
                                        "inference only)");
    ck_assert_ptr_null(j);
    ir_diag_free(&d);
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(cg_jit_compile(g, NULL, NULL, &j, &d), 0);
    cg_jit_free(j);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

int main(void)
{
    /* libgomp hangs in forked children once the parent ran a parallel region, and the models
     * are compiled once per process: run the tests in this process. */
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("codegen_train");
    TCase *ex = tcase_create("examples");
    tcase_set_timeout(ex, 300);
    tcase_add_loop_test(ex, t_train_matches_interp, 0, NMODELS);
    tcase_add_loop_test(ex, t_grads_match_interp, 0, NMODELS);
    tcase_add_loop_test(ex, t_grads_parallel, 0, NMODELS);
    tcase_add_loop_test(ex, t_grad_apply_is_train_step, 0, NMODELS);
    tcase_add_loop_test(ex, t_grads_count, 0, NMODELS);
    tcase_add_loop_test(ex, t_save_load_continue, 0, NMODELS);
    suite_add_tcase(s, ex);
    TCase *abi = tcase_create("abi");
    tcase_set_timeout(abi, 120);
    tcase_add_test(abi, t_descriptor);
    tcase_add_test(abi, t_get_step);
    tcase_add_test(abi, t_set_lr);
    tcase_add_test(abi, t_frozen_unchanged);
    tcase_add_test(abi, t_load_params_only);
    tcase_add_test(abi, t_bad_arguments);
    tcase_add_test(abi, t_ignore_index);
    tcase_add_test(abi, t_shared_library);
    tcase_add_test(abi, t_external_weights);
    tcase_add_test(abi, t_inference_only);
    tcase_add_test(abi, t_header);
    tcase_add_test(abi, t_training_graph_errors);
    tcase_add_test(abi, t_float64_refused);
    suite_add_tcase(s, abi);
    return tu_run(s);
}
