/* Compiled op kernels vs the reference interpreter on random inputs, and the runtime's parallel-for. */
#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codegen/codegen.h"
#include "codegen/kernels.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "runtime/sinter_model.h"
#include "runtime/sinter_parallel.h"
#include "tests/util/testutil.h"

/* ---- srt_parallel_for ---------------------------------------------------------------------------- */

#define PF_MAX 1000
typedef struct PfLog {
    int calls;
    int64_t begin[64], end[64];
    int hits[PF_MAX];
} PfLog;

static void pf_body(void *closure, int64_t b, int64_t e)
{
    PfLog *log = closure;
    int c = __atomic_fetch_add(&log->calls, 1, __ATOMIC_RELAXED);
    if (c < 64) {
        log->begin[c] = b;
        log->end[c] = e;
    }
    for (int64_t i = b; i < e; i++)
        __atomic_fetch_add(&log->hits[i], 1, __ATOMIC_RELAXED);
}

/* Every index in [0,total) is visited exactly once. */
static void pf_check_cover(const PfLog *log, int64_t total)
{
    for (int64_t i = 0; i < total; i++)
        ck_assert_msg(log->hits[i] == 1, "index %lld visited %d times", (long long)i, log->hits[i]);
}

/* One thread: a single direct call with the whole range. */
START_TEST(test_pf_one_thread)
{
    PfLog log = {0};
    srt_set_current_threads(1);
    srt_parallel_for(pf_body, &log, 500, 1);
    ck_assert_int_eq(log.calls, 1);
    ck_assert_int_eq(log.begin[0], 0);
    ck_assert_int_eq(log.end[0], 500);
    pf_check_cover(&log, 500);
}
END_TEST

/* total <= grain runs directly even with several threads. */
START_TEST(test_pf_small_total)
{
    PfLog log = {0};
    srt_set_current_threads(4);
    srt_parallel_for(pf_body, &log, 100, 100);
    ck_assert_int_eq(log.calls, 1);
    ck_assert_int_eq(log.end[0], 100);
    srt_set_current_threads(1);
}
END_TEST

/* Several threads: chunks (a few per thread) cover the range once, boundaries are multiples
 * of the grain. */
START_TEST(test_pf_chunks)
{
    static const int threads[] = {2, 3, 4};
    for (int t = 0; t < 3; t++) {
        PfLog log = {0};
        srt_set_current_threads(threads[t]);
        srt_parallel_for(pf_body, &log, 997, 10);
        ck_assert_int_le(log.calls, 4 * threads[t]);
        ck_assert_int_gt(log.calls, 1);
        ck_assert_int_ge(log.calls, 1);
        for (int c = 0; c < log.calls; c++) {
            ck_assert_int_eq(log.begin[c] % 10, 0);
            ck_assert(log.end[c] == 997 || log.end[c] % 10 == 0);
            ck_assert_int_lt(log.begin[c], log.end[c]);
        }
        pf_check_cover(&log, 997);
    }
    srt_set_current_threads(1);
}
END_TEST

/* Empty ranges call nothing; thread counts below 1 count as 1. */
START_TEST(test_pf_edges)
{
    PfLog log = {0};
    srt_set_current_threads(2);
    srt_parallel_for(pf_body, &log, 0, 1);
    ck_assert_int_eq(log.calls, 0);
    srt_set_current_threads(0);
    ck_assert_int_eq(srt_current_threads(), 1);
    srt_parallel_for(pf_body, &log, 7, 0);
    ck_assert_int_eq(log.calls, 1);
    pf_check_cover(&log, 7);
}
END_TEST

/* More threads than grains: no empty chunks. */
START_TEST(test_pf_few_blocks)
{
    PfLog log = {0};
    srt_set_current_threads(8);
    srt_parallel_for(pf_body, &log, 25, 10);
    ck_assert_int_le(log.calls, 3);
    pf_check_cover(&log, 25);
    srt_set_current_threads(1);
}
END_TEST

/* ---- per-op tolerances ------------------------------------------------------------------------------
 * float32 error budgets of the compiled kernels against the interpreter (which computes in
 * double and rounds once). rtol/atol as |got-want| <= atol + rtol*|want|. */
typedef struct Tol {
    IrOp op;
    double rtol, atol;
    const char *why;
} Tol;

static const Tol tols[] = {
    /* exact: IEEE add/sub/mul/div/sqrt round the same in float as double-then-float; copies,
       comparisons, selections and integer math are bit-exact */
    {IR_OP_ADD, 0, 0, "correctly rounded in both"},
    {IR_OP_SUB, 0, 0, "correctly rounded in both"},
    {IR_OP_MUL, 0, 0, "correctly rounded in both"},
    {IR_OP_DIV, 0, 0, "correctly rounded in both"},
    {IR_OP_SQRT, 0, 0, "correctly rounded in both"},
    {IR_OP_RELU, 0, 0, "selection"},
    {IR_OP_NEG, 0, 0, "exact"},
    {IR_OP_ABS, 0, 0, "exact"},
    {IR_OP_CLIP, 0, 0, "selection"},
    {IR_OP_CAST, 0, 0, "conversions are exact or correctly rounded"},
    {IR_OP_IDENTITY, 0, 0, "copy"},
    {IR_OP_MAX, 0, 0, "selection"},
    {IR_OP_MIN, 0, 0, "selection"},
    {IR_OP_WHERE, 0, 0, "selection"},
    {IR_OP_EQUAL, 0, 0, "comparison"},
    {IR_OP_LESS, 0, 0, "comparison"},
    {IR_OP_GREATER, 0, 0, "comparison"},
    {IR_OP_EXPAND, 0, 0, "copy"},
    {IR_OP_DROPOUT, 0, 0, "copy"},
    {IR_OP_RESHAPE, 0, 0, "copy"},
    {IR_OP_FLATTEN, 0, 0, "copy"},
    {IR_OP_SQUEEZE, 0, 0, "copy"},
    {IR_OP_UNSQUEEZE, 0, 0, "copy"},
    {IR_OP_TRANSPOSE, 0, 0, "copy"},
    {IR_OP_CONCAT, 0, 0, "copy"},
    {IR_OP_SPLIT, 0, 0, "copy"},
    {IR_OP_SLICE, 0, 0, "copy"},
    {IR_OP_GATHER, 0, 0, "copy"},
    {IR_OP_SHAPE, 0, 0, "integers"},
    {IR_OP_CONSTOFSHAPE, 0, 0, "fill"},
    {IR_OP_RANGE, 1e-6, 0, "start + i*delta in float vs double"},
    {IR_OP_MAXPOOL, 0, 0, "selection"},
    /* one rounding of alpha (float) */
    {IR_OP_LEAKYRELU, 1e-6, 0, "alpha rounded to float before the product"},
    /* libm float functions: within an ulp or two */
    {IR_OP_LOG, 1e-6, 0, "logf"},
    {IR_OP_POW, 1e-6, 0, "powf"},
    /* inline float polynomials: a few ulps; erf/gelu tails are absolute-accurate */
    {IR_OP_EXP, 2e-6, 0, "polynomial exp, ~2 ulp"},
    {IR_OP_SIGMOID, 2e-6, 1e-7, "polynomial exp plus a division"},
    {IR_OP_TANH, 2e-6, 1e-7, "polynomial tanh"},
    {IR_OP_ERF, 2e-6, 2e-7, "polynomial erf; 1-erfc near 1"},
    {IR_OP_GELU, 1e-5, 2e-7, "polynomial erf / sigmoid"},
    /* reassociated float sums (vector lanes, blocked k loops) */
    {IR_OP_REDUCESUM, 1e-5, 1e-5, "reassociated sum"},
    {IR_OP_REDUCEMEAN, 1e-5, 1e-5, "reassociated sum"},
    {IR_OP_REDUCEMAX, 0, 0, "selection"},
    {IR_OP_SOFTMAX, 1e-5, 1e-7, "polynomial exp and a reassociated sum"},
    {IR_OP_LOGSOFTMAX, 1e-5, 1e-6, "log of a reassociated sum"},
    /* reassociated dot products (fma, vector lanes, k blocks): the absolute error grows with
       the reduction length K times the products' size (inputs up to 3, K up to a few hundred:
       ~2e-5 on outputs that cancel to near 0) */
    {IR_OP_GEMM, 1e-4, 1e-4, "reassociated dot products"},
    {IR_OP_MATMUL, 1e-4, 1e-4, "reassociated dot products"},
    {IR_OP_CONV, 1e-4, 1e-4, "reassociated dot products"},
    {IR_OP_CONVT, 1e-4, 1e-4, "reassociated sums"},
    {IR_OP_AVGPOOL, 1e-5, 1e-6, "float sums of a window"},
    {IR_OP_GAP, 1e-5, 1e-6, "reassociated sum"},
    {IR_OP_BATCHNORM, 1e-5, 1e-5, "float instead of double for (x-mean)*scale/sqrt(var+eps)"},
    {IR_OP_LAYERNORM, 1e-4, 1e-5, "float statistics over the normalized axes"},
    {IR_OP_SCELOSS, 1e-5, 1e-6, "float log-sum-exp; totals in double"},
    {IR_OP_MSELOSS, 1e-5, 1e-6, "float differences; totals in double"},
};

static const Tol *tol_of(IrOp op)
{
    for (size_t i = 0; i < sizeof tols / sizeof tols[0]; i++)
        if (tols[i].op == op)
            return &tols[i];
    return NULL;
}

/* ---- cases ---------------------------------------------------------------------------------------------- */

#define MAX_CASES 4096
static char *cases[MAX_CASES];
static int ncases;
static const char *workdir;
static int nskipped, ncompared;

/* xorshift64*: deterministic test data */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double rnd_range(double lo, double hi)
{
    return lo + (hi - lo) * rnd();
}

/* First node reading value id v, and at which input position. */
static const IrNode *consumer(const IrGraph *g, int v, int *pos)
{
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int j = 0; j < n->nin; j++)
            if (n->in[j] == v) {
                *pos = j;
                return n;
            }
    }
    return NULL;
}

/* Random contents for graph input number idx at batch n, in the domain its consumer wants. */
static void fill_input(const IrGraph *g, int idx, int64_t n, IrTensor *t)
{
    const IrValue *v = g->values[g->inputs[idx]];
    int pos = 0;
    const IrNode *c = consumer(g, v->id, &pos);
    IrOp op = c ? c->op : IR_OP_IDENTITY;
    double lo = -3, hi = 3;
    if (op == IR_OP_LOG || op == IR_OP_SQRT)
        lo = 0.05;
    if (op == IR_OP_POW)
        lo = pos == 0 ? 0.1 : -2, hi = pos == 0 ? 3 : 2;
    for (int64_t i = 0; i < t->numel; i++) {
        if (ir_dtype_is_float(v->dtype)) {
            ir_tensor_setf(t, i, rnd_range(lo, hi));
            continue;
        }
        int64_t x;
        if (v->dtype == SRT_BOOL) {
            x = rnd() < 0.5;
        } else if (op == IR_OP_GATHER && pos == 1) {
            int axis;
            const IrValue *data = g->values[c->in[0]];
            ir_norm_axis(ir_attr_int(c, "axis"), data->shape.rank, &axis);
            int64_t s = data->shape.d[axis].a * n + data->shape.d[axis].b;
            x = s > 0 ? (int64_t)(rnd() * 2 * (double)s) - s : 0;
            if (x >= s)
                x = s - 1;
        } else if (op == IR_OP_SCELOSS && pos == 1) {
            /* class labels in [0, C), sometimes ignore_index */
            const IrValue *sc = g->values[c->in[0]];
            int64_t cc = sc->shape.d[1].a * n + sc->shape.d[1].b;
            const IrAttr *ig = ir_attr_get(c, "ignore_index");
            x = (int64_t)(rnd() * (double)cc);
            if (ig && rnd() < 0.2)
                x = ig->i;
        } else if (op == IR_OP_POW) {
            x = pos == 0 ? (int64_t)rnd_range(-4, 5) : (int64_t)rnd_range(0, 6);
        } else if (v->dtype == SRT_U8) {
            x = (int64_t)rnd_range(0, 40);
        } else {
            x = (int64_t)rnd_range(-20, 21);
        }
        if (op == IR_OP_DIV && pos == 1 && x == 0)
            x = 3;
        ir_tensor_seti(t, i, x);
    }
}

static bool close_enough(double got, double want, double rtol, double atol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

/* Does the graph's interface depend on N? */
static bool uses_n(const IrGraph *g)
{
    for (int i = 0; i < g->ninputs + g->noutputs; i++) {
        const IrValue *v = g->values[i < g->ninputs ? g->inputs[i] : g->outputs[i - g->ninputs]];
        for (int r = 0; r < v->shape.rank; r++)
            if (v->shape.d[r].a != 0)
                return true;
    }
    return false;
}

static bool eval_dims(const IrValue *v, int64_t n, IrTensor *t)
{
    int64_t dims[IR_MAX_RANK];
    if (!ir_shape_eval(&v->shape, n, dims))
        return false;
    return ir_tensor_alloc(t, v->dtype, v->shape.rank, dims) == 0;
}

/* Run the library at batch n on inputs (NULL: random) and compare every output with the
 * interpreter. Returns the number of compared elements. */
static int64_t run_and_compare(const char *label, const IrGraph *g, const SinterModelInfo *info, void *m, int64_t n,
                               IrTensor *given, double rtol, double atol)
{
    IrTensor *in = calloc((size_t)g->ninputs + 1, sizeof *in);
    IrTensor *out = calloc((size_t)g->noutputs + 1, sizeof *out);
    void **args = calloc((size_t)(g->ninputs + g->noutputs) + 1, sizeof *args);
    for (int i = 0; i < g->ninputs; i++) {
        if (given) {
            in[i] = given[i];
        } else {
            ck_assert(eval_dims(g->values[g->inputs[i]], n, &in[i]));
            fill_input(g, i, n, &in[i]);
        }
        args[i] = in[i].data;
    }
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    int rc = ir_interp_eval(g, n, in, false, vals, &d);
    ck_assert_msg(rc == 0, "%s: interpreter: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    for (int o = 0; o < g->noutputs; o++) {
        ck_assert(eval_dims(g->values[g->outputs[o]], n, &out[o]));
        /* poison: a kernel that skips elements must fail */
        if (out[o].numel)
            memset(out[o].data, 0x7f, (size_t)out[o].numel * srt_dtype_size(out[o].dtype));
        args[g->ninputs + o] = out[o].data;
    }
    rc = info->infer(m, n, args);
    ck_assert_msg(rc == 0, "%s: infer(n=%lld) returned %d: %s", label, (long long)n, rc, info->error(m));
    int64_t compared = 0;
    for (int o = 0; o < g->noutputs; o++) {
        const IrTensor *want = &vals[g->outputs[o]], *got = &out[o];
        const char *oname = g->values[g->outputs[o]]->name;
        ck_assert_int_eq(want->numel, got->numel);
        for (int64_t i = 0; i < got->numel; i++) {
            if (ir_dtype_is_float(got->dtype)) {
                double a = ir_tensor_getf(got, i), b = ir_tensor_getf(want, i);
                ck_assert_msg(close_enough(a, b, rtol, atol), "%s: n=%lld output %s[%lld] = %.9g, interpreter %.9g",
                              label, (long long)n, oname, (long long)i, a, b);
            } else {
                int64_t a = ir_tensor_geti(got, i), b = ir_tensor_geti(want, i);
                ck_assert_msg(a == b, "%s: n=%lld output %s[%lld] = %lld, interpreter %lld", label, (long long)n,
                              oname, (long long)i, (long long)a, (long long)b);
            }
        }
        compared += got->numel;
    }
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    for (int o = 0; o < g->noutputs; o++)
        ir_tensor_free(&out[o]);
    if (!given)
        for (int i = 0; i < g->ninputs; i++)
            ir_tensor_free(&in[i]);
    free(vals);
    free(in);
    free(out);
    free(args);
    ir_diag_free(&d);
    return compared;
}

/* The case's own input files (edge values: NaN, inf, empty tensors) at the case's n. */
static bool load_case_inputs(const char *dir, const IrGraph *g, int64_t *n, IrTensor **out, SrtTensor **files)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/case.json", dir);
    uint8_t *buf;
    size_t len;
    if (srt_read_file(path, 1 << 20, &buf, &len, err, sizeof err) != 0)
        return false;
    cJSON *c = cJSON_ParseWithLength((const char *)buf, len);
    free(buf);
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(c, "n");
    const cJSON *jin = cJSON_GetObjectItemCaseSensitive(c, "inputs");
    if (!c || cJSON_GetArraySize(jin) != g->ninputs) {
        cJSON_Delete(c);
        return false;
    }
    *n = cJSON_IsNumber(jn) ? (int64_t)jn->valuedouble : 1;
    IrTensor *in = calloc((size_t)g->ninputs + 1, sizeof *in);
    SrtTensor *f = calloc((size_t)g->ninputs + 1, sizeof *f);
    for (int i = 0; i < g->ninputs; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetArrayItem(jin, i)->valuestring);
        ck_assert_msg(srt_npy_read(path, &f[i], err, sizeof err) == 0, "%s: %s", path, err);
        in[i].dtype = f[i].dtype;
        in[i].rank = f[i].rank;
        in[i].numel = 1;
        for (int r = 0; r < f[i].rank; r++) {
            in[i].dims[r] = f[i].dims[r];
            in[i].numel *= f[i].dims[r];
        }
        in[i].data = f[i].data;
    }
    cJSON_Delete(c);
    *out = in;
    *files = f;
    return true;
}

/* Tolerance of a graph: the loosest of its ops'; false if an op has no kernel (no entry). */
static bool graph_tolerance(const IrGraph *g, double *rtol, double *atol)
{
    bool f64 = true;
    *rtol = *atol = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const Tol *t = tol_of(g->nodes[i]->op);
        if (!t)
            return false;
        *rtol = fmax(*rtol, t->rtol);
        *atol = fmax(*atol, t->atol);
        for (int j = 0; j < g->nodes[i]->nout; j++)
            if (g->nodes[i]->out[j] >= 0 && g->values[g->nodes[i]->out[j]]->dtype != SRT_F64)
                f64 = false;
    }
    if (f64 && *rtol > 0) {   /* float64 kernels: libm and reassociation only */
        *rtol = 1e-12;
        *atol = *atol > 0 ? 1e-12 : 0;
    }
    return true;
}

/* Compile g with options o into a library and compare with the interpreter: on the case's own
 * inputs when dir has them, then on random inputs at each n of ns (the last with 2 threads;
 * only the first when the interface does not depend on N). */
static void check_graph_opts(const char *label, const char *dir, IrGraph *g, const CgOptions *o, const int64_t *ns,
                             int nns, double rtol, double atol)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    char so[4200];
    snprintf(so, sizeof so, "%s/lib_%s_O%d_%s.so", workdir, g->name, o->opt_level, o->cpu ? o->cpu : "host");
    int rc = cg_compile(g, NULL, o, so, "so", &d);
    ck_assert_msg(rc == 0, "%s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "compile failed");
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(h != NULL, "%s: dlopen: %s", label, dlerror());
    const SinterModelInfo *info = dlsym(h, "sinter_model_info");
    ck_assert_ptr_nonnull(info);
    void *m = info->create();
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(info->set_num_threads(m, 1), 0);

    int64_t cn;
    IrTensor *given;
    SrtTensor *files;
    if (dir && load_case_inputs(dir, g, &cn, &given, &files)) {
        run_and_compare(label, g, info, m, cn, given, rtol, atol);
        for (int i = 0; i < g->ninputs; i++)
            srt_tensor_free(&files[i]);
        free(files);
        free(given);
    }
    int runs = uses_n(g) ? nns : 1;
    for (int r = 0; r < runs; r++) {
        if (r == nns - 1 && nns > 1)
            ck_assert_int_eq(info->set_num_threads(m, 2), 0);
        run_and_compare(label, g, info, m, ns[r], NULL, rtol, atol);
    }
    ncompared++;
    info->destroy(m);
    dlclose(h);
    unlink(so);
    char hdr[4200];
    snprintf(hdr, sizeof hdr, "%s/%s.h", workdir, g->name);
    unlink(hdr);
    ir_diag_free(&d);
}

/* Batch sizes of the op sweep: 1, an odd one, and one that fills whole register tiles. */
static const int64_t sweep_ns[3] = {1, 3, 64};

static void check_graph(const char *label, const char *dir, IrGraph *g, int opt_level, double rtol, double atol)
{
    CgOptions o = {opt_level, NULL, NULL, NULL, false, false};
    check_graph_opts(label, dir, g, &o, sweep_ns, 3, rtol, atol);
}

/* The inference pipeline (fuse last), as `sinter compile` runs it. */
static void run_inference_pipeline(IrGraph *g, const char *label)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext pc;
    pass_context_init(&pc, &d);
    pc.verify = true;
    ck_assert_msg(pass_run_pipeline(g, &pc) == 0, "%s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "passes");
    ir_diag_free(&d);
}

/* One conformance model (skipped and counted when an op has no kernel). */
static void check_model(const char *dir, int opt_level)
{
    const char *label = strstr(dir, "tests/conformance/") ? strstr(dir, "tests/conformance/") + 18 : dir;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.json", dir);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(path, &d);
    ck_assert_msg(g != NULL, "%s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "load failed");
    double rtol, atol;
    if (graph_tolerance(g, &rtol, &atol)) {
        /* as `sinter compile` builds it: the inference pipeline, fusion included */
        run_inference_pipeline(g, label);
        check_graph(label, dir, g, opt_level, rtol, atol);
    } else {
        nskipped++;
    }
    ir_graph_free(g);
    ir_diag_free(&d);
}

/* Each conformance model: compiled at -O1 vs the interpreter. */
START_TEST(test_conformance_o1)
{
    check_model(cases[_i], 1);
}
END_TEST

/* A subset at -O3 (the vectorized paths): every 5th case. */
START_TEST(test_conformance_o3)
{
    check_model(cases[_i * 5], 3);
}
END_TEST

/* ---- larger models: the code paths small conformance shapes do not reach ------------------------ */

#define Q "\""
#define INP(name, shape) "{" Q "name" Q ":" Q name Q "," Q "dtype" Q ":" Q "float32" Q "," Q "shape" Q ":" shape "}"
#define PRM(name, shape)                                                                                     \
    "{" Q "name" Q ":" Q name Q "," Q "dtype" Q ":" Q "float32" Q "," Q "shape" Q ":" shape "," Q "init" Q \
    ":{" Q "kind" Q ":" Q "uniform" Q "," Q "low" Q ":-1," Q "high" Q ":1}}"
#define NODE(op, ins, outs, attrs)                                                                            \
    "{" Q "name" Q ":" Q "n" Q "," Q "op" Q ":" Q op Q "," Q "inputs" Q ":" ins "," Q "outputs" Q ":" outs "," Q \
    "attrs" Q ":" attrs "}"
#define MODEL(name, ins, outs, params, nodes)                                                                 \
    "{" Q "sinter" Q ":1," Q "name" Q ":" Q name Q "," Q "inputs" Q ":[" ins "]," Q "outputs" Q ":" outs "," Q   \
    "params" Q ":[" params "]," Q "nodes" Q ":[" nodes "]}"

typedef struct Extra {
    const char *what;        /* what the model exercises */
    const char *json;
} Extra;

static const Extra extras[] = {
    {"direct conv, stride 2, odd sizes, bias",
     MODEL("x_conv_s2", INP("x", "[\"N\",16,15,17]"), "[\"y\"]", PRM("w", "[24,16,3,3]") "," PRM("b", "[24]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"pads\":[1,1,1,1],\"strides\":[2,2]}"))},
    {"packed conv (stride 3), several k blocks",
     MODEL("x_conv_s3", INP("x", "[\"N\",40,11,11]"), "[\"y\"]", PRM("w", "[8,40,3,3]") "," PRM("b", "[8]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"strides\":[3,3],\"pads\":[1,0,2,1]}"))},
    {"direct conv, dilation 2, rows of 100 (several column tiles)",
     MODEL("x_conv_dil", INP("x", "[\"N\",5,9,100]"), "[\"y\"]", PRM("w", "[13,5,3,3]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"y\"]", "{\"pads\":[2,2,2,2],\"dilations\":[2,2]}"))},
    {"depthwise conv (one output channel per group)",
     MODEL("x_conv_dw", INP("x", "[\"N\",32,9,9]"), "[\"y\"]", PRM("w", "[32,1,3,3]") "," PRM("b", "[32]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"pads\":[1,1,1,1],\"group\":32}"))},
    {"1x1 conv read directly as a matrix",
     MODEL("x_conv_1x1", INP("x", "[\"N\",24,10,10]"), "[\"y\"]", PRM("w", "[40,24,1,1]") "," PRM("b", "[40]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{}"))},
    {"1-D conv, stride 2, long rows",
     MODEL("x_conv1d", INP("x", "[\"N\",6,131]"), "[\"y\"]", PRM("w", "[10,6,5]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"y\"]", "{\"pads\":[2,2],\"strides\":[2]}"))},
    {"Gemm transB (dot tiles, column and k remainders)",
     MODEL("x_gemm_tb", INP("x", "[\"N\",300]"), "[\"y\"]", PRM("w", "[131,300]") "," PRM("b", "[131]"),
           NODE("Gemm", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"transB\":1}"))},
    {"Gemm plain (outer-product tiles, masked columns), alpha/beta, row bias",
     MODEL("x_gemm_nn", INP("x", "[\"N\",77]"), "[\"y\"]", PRM("w", "[77,150]") "," PRM("b", "[1,150]"),
           NODE("Gemm", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"alpha\":0.5,\"beta\":2}"))},
    {"Gemm transA (strided A), bias broadcast along columns",
     MODEL("x_gemm_ta", INP("x", "[70,\"N\"]") "," INP("c", "[\"N\",1]"), "[\"y\"]", PRM("w", "[70,33]"),
           NODE("Gemm", "[\"x\",\"w\",\"c\"]", "[\"y\"]", "{\"transA\":1}"))},
    {"Gemm transA and transB (the swapped problem, strided C)",
     MODEL("x_gemm_tt", INP("x", "[70,\"N\"]"), "[\"y\"]", PRM("w", "[33,70]") "," PRM("b", "[33]"),
           NODE("Gemm", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"transA\":1,\"transB\":1,\"beta\":-1}"))},
    {"MatMul with batch folded into rows",
     MODEL("x_matmul_fold", INP("x", "[\"N\",3,17,40]"), "[\"y\"]", PRM("w", "[40,29]"),
           NODE("MatMul", "[\"x\",\"w\"]", "[\"y\"]", "{}"))},
    {"MatMul through packed B panels (K = 300: three k blocks; N = 256: 6 x 4 tiles), a last "
     "row block too short to pack",
     MODEL("x_matmul_pack", INP("x", "[\"N\",196,300]"), "[\"y\"]", PRM("w", "[300,256]"),
           NODE("MatMul", "[\"x\",\"w\"]", "[\"y\"]", "{}"))},
    {"MatMul whose B rows are 4 KB apart (packed from 12 rows up)",
     MODEL("x_matmul_4k", INP("x", "[\"N\",7,70]"), "[\"y\"]", PRM("w", "[70,1024]"),
           NODE("MatMul", "[\"x\",\"w\"]", "[\"y\"]", "{}"))},
    {"batch chunks: 512 KB of scratch per sample runs a batch of 3 as chunks of 2 and 1 (own scratch "
     "slices, arguments advanced)",
     MODEL("x_chunks", INP("x", "[\"N\",8,128,128]"), "[\"y\"]", PRM("w", "[8,8,3,3]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"c\"]", "{\"pads\":[1,1,1,1]}") ","
           NODE("MaxPool", "[\"c\"]", "[\"y\"]", "{\"kernel_shape\":[2,2],\"strides\":[2,2]}"))},
    {"MatMul with broadcast batch dims",
     MODEL("x_matmul_bc", INP("x", "[\"N\",1,5,40]") "," INP("z", "[3,40,21]"), "[\"y\"]", "",
           NODE("MatMul", "[\"x\",\"z\"]", "[\"y\"]", "{}"))},
    {"MaxPool with an unrolled-too-large window (looped taps) and Indices",
     MODEL("x_maxpool9", INP("x", "[\"N\",3,20,20]"), "[\"y\",\"i\"]", "",
           NODE("MaxPool", "[\"x\"]", "[\"y\",\"i\"]",
                "{\"kernel_shape\":[9,9],\"pads\":[4,4,4,4],\"strides\":[2,2]}"))},
    {"AveragePool with a large window, counting the padding",
     MODEL("x_avgpool9", INP("x", "[\"N\",3,20,20]"), "[\"y\"]", "",
           NODE("AveragePool", "[\"x\"]", "[\"y\"]",
                "{\"kernel_shape\":[9,9],\"pads\":[4,4,4,4],\"count_include_pad\":1}"))},
    {"Softmax along a middle axis (strided)",
     MODEL("x_softmax_mid", INP("x", "[\"N\",37,5]"), "[\"y\"]", "",
           NODE("Softmax", "[\"x\"]", "[\"y\"]", "{\"axis\":1}"))},
    {"LogSoftmax along long rows (vector main loop and tail)",
     MODEL("x_logsoftmax", INP("x", "[\"N\",1003]"), "[\"y\"]", "", NODE("LogSoftmax", "[\"x\"]", "[\"y\"]", "{}"))},
    {"LayerNormalization of 300 features with Mean/InvStdDev",
     MODEL("x_layernorm", INP("x", "[\"N\",7,300]"), "[\"y\",\"m\",\"v\"]", PRM("s", "[300]") "," PRM("b", "[300]"),
           NODE("LayerNormalization", "[\"x\",\"s\",\"b\"]", "[\"y\",\"m\",\"v\"]", "{}"))},
    {"ReduceMean over a middle axis and ReduceMax over two",
     MODEL("x_reduce", INP("x", "[\"N\",13,17]"), "[\"y\",\"z\"]", "",
           NODE("ReduceMean", "[\"x\"]", "[\"y\"]", "{\"axes\":[1]}") ","
           NODE("ReduceMax", "[\"x\"]", "[\"z\"]", "{\"axes\":[0,2],\"keepdims\":0}"))},
    {"Transpose of a 4-D tensor (merged and strided axes)",
     MODEL("x_transpose", INP("x", "[\"N\",5,7,9]"), "[\"y\",\"z\"]", "",
           NODE("Transpose", "[\"x\"]", "[\"y\"]", "{\"perm\":[0,3,1,2]}") ","
           NODE("Transpose", "[\"x\"]", "[\"z\"]", "{\"perm\":[3,2,1,0]}"))},
    {"broadcast Add and Gelu on larger tensors",
     MODEL("x_eltwise", INP("x", "[\"N\",33,65]") "," INP("z", "[33,1]"), "[\"y\"]", "",
           NODE("Add", "[\"x\",\"z\"]", "[\"s\"]", "{}") "," NODE("Gelu", "[\"s\"]", "[\"y\"]", "{}"))},
};

/* ---- kernel groups (passes/fuse): each rule, its groups and its numbers --------------------------- */

#define PRMPOS(name, shape)                                                                                  \
    "{" Q "name" Q ":" Q name Q "," Q "dtype" Q ":" Q "float32" Q "," Q "shape" Q ":" shape "," Q "init" Q \
    ":{" Q "kind" Q ":" Q "uniform" Q "," Q "low" Q ":0.5," Q "high" Q ":1.5}}"
#define BNP(p) PRM(p "s", "[C]") "," PRM(p "b", "[C]") "," PRM(p "m", "[C]") "," PRMPOS(p "v", "[C]")

/* Scalar float constants after a model's params: PRM(...) CONSTS(CST(...) "," CST(...)) */
#define CONSTS(list) "]," Q "constants" Q ":[" list
#define CST(name, v) \
    "{" Q "name" Q ":" Q name Q "," Q "dtype" Q ":" Q "float32" Q "," Q "shape" Q ":[]," Q "data" Q ":[" v "]}"

typedef struct Fused {
    const char *what;
    const char *json;
    const char *groups;      /* after the inference pipeline: "Op:group" per node, '-' for none */
} Fused;

static const Fused fused[] = {
    {"element-wise chain with broadcast operands",
     MODEL("f_chain", INP("x", "[\"N\",33,65]") "," INP("z", "[33,1]"), "[\"y\"]", PRM("c", "[65]"),
           NODE("Add", "[\"x\",\"z\"]", "[\"a\"]", "{}") "," NODE("Mul", "[\"a\",\"c\"]", "[\"b\"]", "{}") ","
           NODE("Tanh", "[\"b\"]", "[\"y\"]", "{}")),
     "Add:0 Mul:0 Tanh:0"},
    {"decomposed LayerNormalization (canonicalize) with a Relu epilogue",
     MODEL("f_ln_dec", INP("x", "[\"N\",5,40]"), "[\"y\"]",
           PRM("g", "[40]") "," PRM("b", "[40]") CONSTS(CST("two", "2") "," CST("eps", "1e-5")),
           NODE("ReduceMean", "[\"x\"]", "[\"m\"]", "{\"axes\":[-1]}") ","
           NODE("Sub", "[\"x\",\"m\"]", "[\"d\"]", "{}") "," NODE("Pow", "[\"d\",\"two\"]", "[\"p\"]", "{}") ","
           NODE("ReduceMean", "[\"p\"]", "[\"v\"]", "{\"axes\":[-1]}") ","
           NODE("Add", "[\"v\",\"eps\"]", "[\"ve\"]", "{}") "," NODE("Sqrt", "[\"ve\"]", "[\"s\"]", "{}") ","
           NODE("Div", "[\"d\",\"s\"]", "[\"n\"]", "{}") "," NODE("Mul", "[\"n\",\"g\"]", "[\"gn\"]", "{}") ","
           NODE("Add", "[\"gn\",\"b\"]", "[\"z\"]", "{}") "," NODE("Relu", "[\"z\"]", "[\"y\"]", "{}")),
     "LayerNormalization:0 Relu:0"},
    {"Gelu in erf form (canonicalize) as a MatMul epilogue",
     MODEL("f_gelu_erf", INP("x", "[\"N\",7,30]"), "[\"y\"]",
           PRM("w", "[30,50]") CONSTS(CST("r2", "1.4142135381698608") "," CST("one", "1") "," CST("half", "0.5")),
           NODE("MatMul", "[\"x\",\"w\"]", "[\"h\"]", "{}") "," NODE("Div", "[\"h\",\"r2\"]", "[\"u\"]", "{}") ","
           NODE("Erf", "[\"u\"]", "[\"e\"]", "{}") "," NODE("Add", "[\"e\",\"one\"]", "[\"a\"]", "{}") ","
           NODE("Mul", "[\"h\",\"a\"]", "[\"m\"]", "{}") "," NODE("Mul", "[\"m\",\"half\"]", "[\"y\"]", "{}")),
     "MatMul:0 Gelu:0"},
    {"Gemm epilogue: Relu and a scale; the anchor's output kept too",
     MODEL("f_gemm", INP("x", "[\"N\",70]"), "[\"y\",\"h\"]", PRM("w", "[45,70]") "," PRM("b", "[45]") "," PRM("s", "[1]"),
           NODE("Gemm", "[\"x\",\"w\",\"b\"]", "[\"h\"]", "{\"transB\":1}") ","
           NODE("Relu", "[\"h\"]", "[\"r\"]", "{}") "," NODE("Mul", "[\"r\",\"s\"]", "[\"y\"]", "{}")),
     "Gemm:0 Relu:0 Mul:0"},
    {"Gemm epilogue: residual Add and Gelu (outer-product tiles)",
     MODEL("f_gemm_res", INP("x", "[\"N\",64]") "," INP("r", "[\"N\",50]"), "[\"y\"]", PRM("w", "[64,50]"),
           NODE("Gemm", "[\"x\",\"w\"]", "[\"h\"]", "{}") "," NODE("Add", "[\"h\",\"r\"]", "[\"s\"]", "{}") ","
           NODE("Gelu", "[\"s\"]", "[\"y\"]", "{}")),
     "Gemm:0 Add:0 Gelu:0"},
    {"MatMul epilogue: bias and Sigmoid over a folded batch",
     MODEL("f_matmul", INP("x", "[\"N\",3,17,40]"), "[\"y\"]", PRM("w", "[40,29]") "," PRM("b", "[29]"),
           NODE("MatMul", "[\"x\",\"w\"]", "[\"h\"]", "{}") "," NODE("Add", "[\"h\",\"b\"]", "[\"s\"]", "{}") ","
           NODE("Sigmoid", "[\"s\"]", "[\"y\"]", "{}")),
     "MatMul:0 Add:0 Sigmoid:0"},
    {"Conv (row kernel) + BatchNormalization (folded: Mul, Add in the epilogue) + Relu",
     MODEL("f_conv_bn", INP("x", "[\"N\",16,15,17]"), "[\"y\"]", PRM("w", "[8,16,3,3]") "," BNP("n"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"c\"]", "{\"pads\":[1,1,1,1]}") ","
           NODE("BatchNormalization", "[\"c\",\"ns\",\"nb\",\"nm\",\"nv\"]", "[\"n\"]", "{}") ","
           NODE("Relu", "[\"n\"]", "[\"y\"]", "{}")),
     "Add:0 Sqrt:0 Div:0 Mul:0 Sub:0 Reshape:- Reshape:- Conv:1 Mul:1 Add:1 Relu:1"},
    {"Conv on rows of 8 (two rows per 16-lane vector), odd height, + residual Add + Relu",
     MODEL("f_conv_pairs", INP("x", "[\"N\",12,7,8]") "," INP("r", "[\"N\",13,7,8]"), "[\"y\"]",
           PRM("w", "[13,12,3,3]") "," PRM("b", "[13]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"c\"]", "{\"pads\":[1,1,1,1]}") ","
           NODE("Add", "[\"c\",\"r\"]", "[\"s\"]", "{}") "," NODE("Relu", "[\"s\"]", "[\"y\"]", "{}")),
     "Conv:0 Add:0 Relu:0"},
    {"Conv with stride 2 on rows of 8 and of 6 (pairs), asymmetric pads",
     MODEL("f_conv_pairs_s2", INP("x", "[\"N\",6,15,16]") "," INP("z", "[\"N\",3,13,13]"), "[\"y\",\"u\"]",
           PRM("w", "[8,6,3,3]") "," PRM("v", "[5,3,3,3]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"y\"]", "{\"strides\":[2,2],\"pads\":[1,1,1,1]}") ","
           NODE("Conv", "[\"z\",\"v\"]", "[\"u\"]", "{\"strides\":[2,2],\"pads\":[0,1,1,0]}")),
     "Conv:- Conv:-"},
    {"Conv on rows of 4 (pairs on 8 lanes) + Sigmoid",
     MODEL("f_conv_pairs4", INP("x", "[\"N\",5,9,4]"), "[\"y\"]", PRM("w", "[3,5,3,3]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"c\"]", "{\"pads\":[1,1,1,1]}") ","
           NODE("Sigmoid", "[\"c\"]", "[\"y\"]", "{}")),
     "Conv:0 Sigmoid:0"},
    {"ConvTranspose of stride 1 as a flipped Conv on the row kernel, bias, asymmetric pads",
     MODEL("f_convt_rows", INP("x", "[\"N\",6,5,19]"), "[\"y\"]", PRM("w", "[6,4,3,3]") "," PRM("b", "[4]"),
           NODE("ConvTranspose", "[\"x\",\"w\",\"b\"]", "[\"y\"]", "{\"pads\":[0,2,1,0]}")),
     "ConvTranspose:-"},
    {"ConvTranspose of stride 1, 2 groups, 5x5 kernel, rows of 8 (pairs)",
     MODEL("f_convt_pairs", INP("x", "[\"N\",8,9,8]"), "[\"y\"]", PRM("w", "[8,6,5,5]"),
           NODE("ConvTranspose", "[\"x\",\"w\"]", "[\"y\"]", "{\"group\":2,\"pads\":[2,2,2,2]}")),
     "ConvTranspose:-"},
    {"ConvTranspose of stride 1 with dilation 2 and output_padding 1",
     MODEL("f_convt_dil", INP("x", "[\"N\",4,9,17]"), "[\"y\"]", PRM("w", "[4,3,3,3]"),
           NODE("ConvTranspose", "[\"x\",\"w\"]", "[\"y\"]",
                "{\"dilations\":[2,2],\"pads\":[1,1,0,2],\"output_padding\":[1,0]}")),
     "ConvTranspose:-"},
    {"packed Conv over several k blocks + residual Add + Relu",
     MODEL("f_conv_res", INP("x", "[\"N\",40,11,11]") "," INP("r", "[\"N\",8,4,4]"), "[\"y\"]",
           PRM("w", "[8,40,3,3]") "," PRM("b", "[8]"),
           NODE("Conv", "[\"x\",\"w\",\"b\"]", "[\"c\"]", "{\"strides\":[3,3],\"pads\":[1,0,2,1]}") ","
           NODE("Add", "[\"c\",\"r\"]", "[\"s\"]", "{}") "," NODE("Relu", "[\"s\"]", "[\"y\"]", "{}")),
     "Conv:0 Add:0 Relu:0"},
    {"1x1 Conv read directly + per-channel Add + LeakyRelu",
     MODEL("f_conv_1x1", INP("x", "[\"N\",24,10,10]"), "[\"y\"]", PRM("w", "[40,24,1,1]") "," PRM("c", "[40,1,1]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"h\"]", "{}") "," NODE("Add", "[\"h\",\"c\"]", "[\"s\"]", "{}") ","
           NODE("LeakyRelu", "[\"s\"]", "[\"y\"]", "{}")),
     "Conv:0 Add:0 LeakyRelu:0"},
    {"Softmax on the last axis + a scale",
     MODEL("f_softmax", INP("x", "[\"N\",7,300]"), "[\"y\"]", PRM("p", "[1]"),
           NODE("Softmax", "[\"x\"]", "[\"s\"]", "{}") "," NODE("Mul", "[\"s\",\"p\"]", "[\"y\"]", "{}")),
     "Softmax:0 Mul:0"},
    {"LayerNormalization + residual Add",
     MODEL("f_layernorm", INP("x", "[\"N\",7,300]"), "[\"y\"]", PRM("s", "[300]") "," PRM("b", "[300]"),
           NODE("LayerNormalization", "[\"x\",\"s\",\"b\"]", "[\"l\"]", "{}") ","
           NODE("Add", "[\"l\",\"x\"]", "[\"y\"]", "{}")),
     "LayerNormalization:0 Add:0"},
    {"ReduceMean + square",
     MODEL("f_reduce", INP("x", "[\"N\",13,17]"), "[\"y\"]", "",
           NODE("ReduceMean", "[\"x\"]", "[\"m\"]", "{\"axes\":[2]}") "," NODE("Mul", "[\"m\",\"m\"]", "[\"y\"]", "{}")),
     "ReduceMean:0 Mul:0"},
    {"MaxPool + Relu and GlobalAveragePool + Sigmoid",
     MODEL("f_pool", INP("x", "[\"N\",3,20,20]"), "[\"y\",\"z\"]", "",
           NODE("MaxPool", "[\"x\"]", "[\"p\"]", "{\"kernel_shape\":[3,3],\"strides\":[2,2]}") ","
           NODE("Relu", "[\"p\"]", "[\"y\"]", "{}") "," NODE("GlobalAveragePool", "[\"x\"]", "[\"g\"]", "{}") ","
           NODE("Sigmoid", "[\"g\"]", "[\"z\"]", "{}")),
     "MaxPool:0 Relu:0 GlobalAveragePool:1 Sigmoid:1"},
    {"BatchNormalization folded to a multiply-add that fuses with the Relu",
     MODEL("f_bn", INP("x", "[\"N\",C,9,7]"), "[\"y\"]", BNP("n"),
           NODE("BatchNormalization", "[\"x\",\"ns\",\"nb\",\"nm\",\"nv\"]", "[\"n\"]", "{}") ","
           NODE("Relu", "[\"n\"]", "[\"y\"]", "{}")),
     "Add:0 Sqrt:0 Div:0 Mul:0 Sub:0 Reshape:- Reshape:- Mul:1 Add:1 Relu:1"},
    {"an operand broadcast along part of the columns stays outside the Conv's group",
     MODEL("f_split_rule", INP("x", "[\"N\",3,6,6]") "," INP("z", "[4,1]"), "[\"y\"]", PRM("w", "[5,3,3,3]"),
           NODE("Conv", "[\"x\",\"w\"]", "[\"c\"]", "{}") "," NODE("Add", "[\"c\",\"z\"]", "[\"y\"]", "{}")),
     "Conv:- Add:-"},
    {"a join that would make a group depend on itself is refused",
     MODEL("f_convex", INP("x", "[\"N\",8]"), "[\"y\"]", "",
           NODE("Relu", "[\"x\"]", "[\"a\"]", "{}") ","
           NODE("ReduceSum", "[\"a\"]", "[\"m\"]", "{\"axes\":[1]}") "," NODE("Add", "[\"a\",\"m\"]", "[\"y\"]", "{}")),
     "Relu:- ReduceSum:- Add:-"},
};

/* Each fusion rule: the groups fuse marks, then the compiled groups against the interpreter
 * (which ignores groups), at -O2 for this machine and for AVX2. */
START_TEST(test_fused_models)
{
    const Fused *e = &fused[_i];
    IrDiag d;
    ir_diag_init(&d, NULL);
    char *json = strdup(e->json);
    for (char *c = json; *c; c++)   /* channel count placeholder of BNP */
        if (*c == 'C' && (c[1] == ']' || c[1] == ','))
            *c = '8';
    IrGraph *g = fe_parse_model(json, strlen(json), "fused.json", NULL, &d);
    free(json);
    ck_assert_msg(g != NULL, "%s: %s", e->what, ir_diag_first(&d) ? ir_diag_first(&d) : "parse failed");
    run_inference_pipeline(g, e->what);
    char sig[512] = "";
    for (int i = 0; i < g->nnodes; i++) {
        char one[64];
        if (g->nodes[i]->group >= 0)
            snprintf(one, sizeof one, "%s%s:%d", i ? " " : "", ir_op_name(g->nodes[i]->op), g->nodes[i]->group);
        else
            snprintf(one, sizeof one, "%s%s:-", i ? " " : "", ir_op_name(g->nodes[i]->op));
        strncat(sig, one, sizeof sig - strlen(sig) - 1);
    }
    ck_assert_msg(!strcmp(sig, e->groups), "%s: groups \"%s\", expected \"%s\"", e->what, sig, e->groups);
    double rtol, atol;
    ck_assert(graph_tolerance(g, &rtol, &atol));
    check_graph(e->what, NULL, g, 2, rtol, atol);
    CgOptions avx2 = {2, NULL, "x86-64-v3", NULL, false, false};
    static const int64_t n3[1] = {3};
    char label[300];
    snprintf(label, sizeof label, "%s (x86-64-v3)", e->what);
    check_graph_opts(label, NULL, g, &avx2, n3, 1, rtol, atol);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* Each larger model, at -O2. */
START_TEST(test_extra_models)
{
    const Extra *e = &extras[_i];
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(e->json, strlen(e->json), "extra.json", NULL, &d);
    ck_assert_msg(g != NULL, "%s: %s", e->what, ir_diag_first(&d) ? ir_diag_first(&d) : "parse failed");
    double rtol, atol;
    ck_assert(graph_tolerance(g, &rtol, &atol));
    check_graph(e->what, NULL, g, 2, rtol, atol);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* Each larger model for narrower vector units, run on this machine: AVX2 (16 registers,
 * 256-bit masked loads) and SSE2 (128 bits, no FMA, masked accesses scalarized); and compiled
 * to an aarch64 object (NEON), which must at least build. */
START_TEST(test_extra_targets)
{
    const Extra *e = &extras[_i];
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(e->json, strlen(e->json), "extra.json", NULL, &d);
    ck_assert_ptr_nonnull(g);
    double rtol, atol;
    ck_assert(graph_tolerance(g, &rtol, &atol));
    static const char *const cpus[2] = {"x86-64-v3", "x86-64"};
    for (int c = 0; c < 2; c++) {
        CgOptions o = {2, NULL, cpus[c], NULL, false, false};
        char label[300];
        snprintf(label, sizeof label, "%s (%s)", e->what, cpus[c]);
        static const int64_t n3[1] = {3};
        check_graph_opts(label, NULL, g, &o, n3, 1, rtol, atol);
    }
    CgOptions arm = {2, "aarch64-linux-gnu", NULL, NULL, false, false};
    char obj[4200];
    snprintf(obj, sizeof obj, "%s/%s_arm.o", workdir, g->name);
    ck_assert_msg(cg_compile(g, NULL, &arm, obj, "o", &d) == 0, "%s (aarch64): %s", e->what,
                  ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    unlink(obj);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* ---- whole example models ------------------------------------------------------------------------- */

static const char *const examples[] = {"fmnist_mlp", "lenet5", "resnet_small", "transformer_encoder"};

/* Each example model's inference after the default pass pipeline (as `sinter compile` builds
 * it), at -O3, against the interpreter at n = 1, 2, 5. Tolerance: rtol 1e-4, atol 1e-4 for every model,
 * because the per-op float32 differences (reassociated sums, polynomial exp/erf) compound over
 * a dozen layers. */
START_TEST(test_example_models)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", tu_src("examples"));
    snprintf(path + strlen(path), sizeof path - strlen(path), "/%s.json", examples[_i]);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(path, &d);
    ck_assert_msg(g != NULL, "%s: %s", path, ir_diag_first(&d) ? ir_diag_first(&d) : "load failed");
    PassContext pc;
    pass_context_init(&pc, &d);
    pc.verify = true;
    ck_assert_msg(pass_run_pipeline(g, &pc) == 0, "%s: %s", path, ir_diag_first(&d) ? ir_diag_first(&d) : "passes");
    /* inference only: the training step's kernels are tested in test_codegen_train */
    g->training = NULL;
    static const int64_t ns[3] = {1, 2, 5};
    CgOptions o = {3, NULL, NULL, NULL, false, false};
    check_graph_opts(examples[_i], NULL, g, &o, ns, 3, 1e-4, 1e-4);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* The dispatch table has an emitter for every op of the op table. */
START_TEST(test_every_op_has_kernel)
{
    for (int op = 0; op < IR_OP_COUNT; op++)
        ck_assert_msg(cg_op_has_kernel((IrOp)op), "%s has no kernel emitter in codegen/kernel.c", ir_op_name((IrOp)op));
}
END_TEST

/* Unsupported cases get a clear diagnostic naming the node, never wrong code. */
START_TEST(test_unsupported_diag)
{
    const char *model = "{\"sinter\":1,\"name\":\"m\","
                        "\"inputs\":[{\"name\":\"x\",\"dtype\":\"float32\",\"shape\":[2]}],\"outputs\":[\"y\"],"
                        "\"nodes\":[{\"name\":\"e\",\"op\":\"Exp\",\"inputs\":[\"x\"],\"outputs\":[\"y\"]}]}";
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(model, strlen(model), "m.json", NULL, &d);
    ck_assert_ptr_nonnull(g);
    /* force an unsupported dtype onto the activation */
    g->values[g->nodes[0]->out[0]]->dtype = SRT_F16;
    g->values[g->nodes[0]->in[0]]->dtype = SRT_F16;
    char so[4200];
    snprintf(so, sizeof so, "%s/libm_bad.so", workdir);
    ck_assert_int_eq(cg_compile(g, NULL, NULL, so, "so", &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "nodes[0] \"e\" (Exp): codegen does not support dtype float16 yet");
    ck_assert_int_ne(access(so, F_OK), 0);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* ---- weight-only quantization: DequantGemm's kernel against its reference ------------------- */

/* Cases: bits, group (0: per channel), K, outputs n, Gemm (transB=1, bias) or MatMul, Relu after. */
static const struct {
    int bits;
    int64_t group, k, n;
    bool gemm, relu;
} dq_cases[] = {
    {4, 32, 70, 45, true, true},     /* a short last group; outputs not a multiple of 32 */
    {4, 64, 128, 64, false, false},  /* MatMul [K, n] */
    {4, 128, 200, 33, true, false},
    {8, 0, 70, 45, true, true},      /* per channel */
    {8, 32, 96, 100, false, true},
};

/* A model of one layer with seeded weights, as text IR. */
static char *dq_model(int c)
{
    int64_t k = dq_cases[c].k, n = dq_cases[c].n;
    size_t cap = (size_t)(k * n + n) * 24 + 4096, len = 0;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    len += (size_t)snprintf(t + len, cap - len, "model dq%d (seed 0)\ninput %%x : f32[N,%lld]\n", c, (long long)k);
    len += (size_t)snprintf(t + len, cap - len, "param %%w : f32[%lld,%lld] = [", (long long)(dq_cases[c].gemm ? n : k),
                            (long long)(dq_cases[c].gemm ? k : n));
    for (int64_t i = 0; i < k * n; i++)   /* some channels much larger than others */
        len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "", rnd_range(-1, 1) * (1 + (i % 7 == 0) * 4));
    len += (size_t)snprintf(t + len, cap - len, "]\nparam %%b : f32[%lld] = [", (long long)n);
    for (int64_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "", rnd_range(-1, 1));
    const char *h = dq_cases[c].relu ? "h" : "y";
    if (dq_cases[c].gemm)
        len += (size_t)snprintf(t + len, cap - len, "]\n%%%s = Gemm(%%x, %%w, %%b) {transB=1} : f32[N,%lld]\n", h,
                                (long long)n);
    else
        len += (size_t)snprintf(t + len, cap - len, "]\n%%%s = MatMul(%%x, %%w) : f32[N,%lld]\n", h, (long long)n);
    if (dq_cases[c].relu)
        len += (size_t)snprintf(t + len, cap - len, "%%y = Relu(%%h) : f32[N,%lld]\n", (long long)n);
    snprintf(t + len, cap - len, "output %%y\n");
    return t;
}

static IrGraph *dq_parse(const char *text)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_sir(text, strlen(text), "dq.sir", NULL, NULL, &d);
    ck_assert_msg(g != NULL, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return g;
}

/* Graph g (one input [N, k], one output [N, n]) and its original ref give the same output on
 * the interpreter for 5 random examples in [-2, 2), within tol. */
static void interp_equal(const char *label, const IrGraph *g, const IrGraph *ref, int64_t k, int64_t n, double tol)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    int64_t m = 5, dims[2] = {m, k};
    IrTensor x;
    ck_assert_int_eq(ir_tensor_alloc(&x, SRT_F32, 2, dims), 0);
    for (int64_t i = 0; i < x.numel; i++)
        ir_tensor_setf(&x, i, rnd_range(-2, 2));
    IrTensor *va = calloc((size_t)g->nvalues + 1, sizeof *va), *vb = calloc((size_t)ref->nvalues + 1, sizeof *vb);
    ck_assert_int_eq(ir_interp_eval(g, m, &x, false, va, &d), 0);
    ck_assert_int_eq(ir_interp_eval(ref, m, &x, false, vb, &d), 0);
    const IrTensor *ya = &va[g->outputs[0]], *yb = &vb[ref->outputs[0]];
    ck_assert_int_eq(ya->numel, m * n);
    for (int64_t i = 0; i < ya->numel; i++)
        ck_assert_msg(close_enough(ir_tensor_getf(ya, i), ir_tensor_getf(yb, i), tol, tol), "%s: [%lld] = %.9g, "
                      "the original %.9g", label, (long long)i, ir_tensor_getf(ya, i), ir_tensor_getf(yb, i));
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&va[i]);
    for (int i = 0; i < ref->nvalues; i++)
        ir_tensor_free(&vb[i]);
    free(va);
    free(vb);
    ir_tensor_free(&x);
    ir_diag_free(&d);
}

/* The quantize pass puts the weights on the grid; qpack makes DequantGemm of them. The
 * interpreter's DequantGemm (packed integers) equals its float Gemm on the snapped weights, and
 * the compiled kernel equals the interpreter, at batch 1, 3 and 64. */
START_TEST(test_dequant_gemm)
{
    int c = _i;
    char *text = dq_model(c);
    IrGraph *g = dq_parse(text), *ref;
    free(text);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext pc;
    pass_context_init(&pc, &d);
    pc.verify = true;
    pc.quantize.kind = dq_cases[c].bits == 4 ? PASS_QUANT_INT4_WEIGHTS : PASS_QUANT_INT8_WEIGHTS;
    pc.quantize.group = dq_cases[c].group;
    ck_assert_msg(pass_compress(g, &pc) == 0, "%s", ir_diag_first(&d));
    int w = ir_value_find(g, "w");
    ck_assert_ptr_nonnull(g->values[w]->quant);
    ck_assert_int_eq(g->values[w]->quant->bits, dq_cases[c].bits);
    ref = ir_graph_clone(g);   /* float Gemm on the snapped weights */
    ck_assert_msg(pass_pack_quantized(g, &pc) == 0, "%s", ir_diag_first(&d));
    ck_assert_int_eq(g->nodes[0]->op, IR_OP_DEQUANTGEMM);
    ck_assert_int_eq(ir_value_find(g, "w"), -1);   /* the float param is gone */
    char label[64];
    snprintf(label, sizeof label, "dequant_gemm case %d (DequantGemm vs Gemm on the snapped weights)", c);
    interp_equal(label, g, ref, dq_cases[c].k, dq_cases[c].n, 1e-5);
    snprintf(label, sizeof label, "dequant_gemm case %d", c);
    run_inference_pipeline(g, label);
    check_graph(label, NULL, g, 2, 1e-5, 1e-5);
    ir_graph_free(ref);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* ---- static int8: IntGemm's kernels against the interpreter's integer reference -------------- */

/* Cases: K, outputs of the first layer, a Relu after it, outputs of a second layer (0: none),
 * Gemm (transB=1, bias) or MatMul. */
static const struct {
    int64_t k, n1;
    bool relu;
    int64_t n2;
    bool gemm;
} i8_cases[] = {
    {70, 45, true, 10, true},     /* K % 4 = 2; outputs not a multiple of 16; uint8 between layers */
    {64, 32, false, 0, false},    /* one MatMul: float out */
    {300, 100, true, 0, true},    /* Relu into the graph output: float out, the Relu in its epilogue */
    {33, 17, false, 20, true},    /* an asymmetric uint8 output (no Relu), K % 4 = 1 */
};
/* Targets: the host (its dot product), AVX2 with 7-bit activations (vpmaddubsw), AVX2 with
 * 8-bit ones (plain LLVM IR instead), and SSE only (plain LLVM IR). */
static const struct {
    const char *cpu;
    int qmax;                 /* 0: what cg_int8_activation_max says for the host */
} i8_targets[] = {{NULL, 0}, {"x86-64-v3", 127}, {"x86-64-v3", 255}, {"x86-64", 255}};
#define I8_NTARGETS ((int)(sizeof i8_targets / sizeof i8_targets[0]))

static int i8_print_layer(char *t, size_t cap, size_t len, const char *w, const char *b, const char *in,
                          const char *out, int64_t k, int64_t n, bool gemm)
{
    len += (size_t)snprintf(t + len, cap - len, "param %%%s : f32[%lld,%lld] = [", w, (long long)(gemm ? n : k),
                            (long long)(gemm ? k : n));
    for (int64_t i = 0; i < k * n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "", rnd_range(-1, 1) / sqrt((double)k) *
                                (1 + (i % 5 == 0)));
    len += (size_t)snprintf(t + len, cap - len, "]\n");
    if (!gemm)
        return (int)(len + (size_t)snprintf(t + len, cap - len, "%%%s = MatMul(%%%s, %%%s) : f32[N,%lld]\n", out, in,
                                            w, (long long)n));
    len += (size_t)snprintf(t + len, cap - len, "param %%%s : f32[%lld] = [", b, (long long)n);
    for (int64_t i = 0; i < n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "", rnd_range(-0.5, 0.5));
    return (int)(len + (size_t)snprintf(t + len, cap - len, "]\n%%%s = Gemm(%%%s, %%%s, %%%s) {transB=1} : f32[N,%lld]\n",
                                        out, in, w, b, (long long)n));
}

static char *i8_model(int c)
{
    int64_t k = i8_cases[c].k, n1 = i8_cases[c].n1, n2 = i8_cases[c].n2;
    size_t cap = (size_t)(k * n1 + n1 * n2 + n1 + n2) * 24 + 4096, len = 0;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    len += (size_t)snprintf(t + len, cap - len, "model i8_%d (seed 0)\ninput %%x : f32[N,%lld]\n", c, (long long)k);
    bool relu = i8_cases[c].relu;
    const char *h1 = relu ? "h1" : n2 ? "a1" : "y";
    len = (size_t)i8_print_layer(t, cap, len, "w1", "b1", "x", h1, k, n1, i8_cases[c].gemm);
    if (relu)
        len += (size_t)snprintf(t + len, cap - len, "%%%s = Relu(%%h1) : f32[N,%lld]\n", n2 ? "a1" : "y",
                                (long long)n1);
    if (n2)
        len = (size_t)i8_print_layer(t, cap, len, "w2", "b2", "a1", "y", n1, n2, i8_cases[c].gemm);
    snprintf(t + len, cap - len, "output %%y\n");
    return t;
}

/* Random inputs in [-3, 3), as fill_input makes them. */
static void i8_input(IrTensor *x, int64_t n, int64_t k)
{
    int64_t dims[2] = {n, k};
    ck_assert_int_eq(ir_tensor_alloc(x, SRT_F32, 2, dims), 0);
    for (int64_t i = 0; i < x->numel; i++)
        ir_tensor_setf(x, i, rnd_range(-3, 3));
}

/* The quantize pass and qint8 with ranges from the interpreter on random inputs (x clipped to
 * [-2.9, 3]: Quantize saturates); then (1) the interpreter's integer model is within a few
 * percent of the float one, (2) the compiled kernels equal the interpreter bit for bit (float
 * outputs compared exactly: the int32 sums here stay below 2^24, where (float)acc * mult tells
 * them apart) at batch 1, 3 and 64, on each target. */
START_TEST(test_int_gemm)
{
    int c = _i / I8_NTARGETS, tgt = _i % I8_NTARGETS;
    char *text = i8_model(c);
    IrGraph *g = dq_parse(text);
    free(text);
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {.opt_level = 2, .cpu = i8_targets[tgt].cpu, .check_finite = false};
    int qmax = i8_targets[tgt].qmax ? i8_targets[tgt].qmax : cg_int8_activation_max(&o, &d);
    ck_assert_int_gt(qmax, 0);
    /* calibration: min/max of every float value on 32 random examples */
    IrTensor x;
    i8_input(&x, 32, i8_cases[c].k);
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    ck_assert_int_eq(ir_interp_eval(g, 32, &x, false, vals, &d), 0);
    PassRange *ranges = calloc((size_t)g->nvalues + 1, sizeof *ranges);
    int nr = 0;
    for (int v = 0; v < g->nvalues; v++) {
        if (g->values[v]->role == IR_ROLE_PARAM || !vals[v].data)
            continue;
        PassRange *r = &ranges[nr++];
        r->name = g->values[v]->name;
        r->lo = r->hi = (float)ir_tensor_getf(&vals[v], 0);
        for (int64_t i = 0; i < vals[v].numel; i++) {
            r->lo = fminf(r->lo, (float)ir_tensor_getf(&vals[v], i));
            r->hi = fmaxf(r->hi, (float)ir_tensor_getf(&vals[v], i));
        }
        if (!strcmp(r->name, "x"))
            r->lo = -2.9f;
    }
    IrGraph *ref = ir_graph_clone(g);
    PassContext pc;
    pass_context_init(&pc, &d);
    pc.verify = true;
    pc.quantize.kind = PASS_QUANT_INT8;
    pc.quantize.act_qmax = qmax;
    pc.quantize.ranges = ranges;
    pc.quantize.nranges = nr;
    ck_assert_msg(pass_compress(g, &pc) == 0 && pass_pack_quantized(g, &pc) == 0, "%s", ir_diag_first(&d));
    int nint = 0, nquant = 0;
    for (int i = 0; i < g->nnodes; i++) {
        nint += g->nodes[i]->op == IR_OP_INTGEMM;
        nquant += g->nodes[i]->op == IR_OP_QUANTIZE;
    }
    ck_assert_int_eq(nint, i8_cases[c].n2 ? 2 : 1);
    ck_assert_int_eq(nquant, 1);   /* only where x enters; the layers between stay uint8 */
    ck_assert_int_eq(pass_stat_get(&pc, "qint8", "relus folded"), i8_cases[c].relu && i8_cases[c].n2 ? 1 : 0);
    /* (1) the integer model against the float one */
    IrTensor *va = calloc((size_t)g->nvalues + 1, sizeof *va), *vb = calloc((size_t)ref->nvalues + 1, sizeof *vb);
    ck_assert_int_eq(ir_interp_eval(g, 32, &x, false, va, &d), 0);
    ck_assert_int_eq(ir_interp_eval(ref, 32, &x, false, vb, &d), 0);
    const IrTensor *ya = &va[g->outputs[0]], *yb = &vb[ref->outputs[0]];
    double err = 0, norm = 0;
    for (int64_t i = 0; i < yb->numel; i++) {
        double e = ir_tensor_getf(ya, i) - ir_tensor_getf(yb, i), f = ir_tensor_getf(yb, i);
        err += e * e;
        norm += f * f;
    }
    ck_assert_msg(sqrt(err / norm) < 0.025, "case %d, qmax %d: relative error %g of the int8 "
                  "model", c, qmax, sqrt(err / norm));
    for (int v = 0; v < g->nvalues; v++)
        ir_tensor_free(&va[v]);
    for (int v = 0; v < ref->nvalues; v++)
        ir_tensor_free(&vb[v]);
    for (int v = 0; v < ref->nvalues; v++)
        ir_tensor_free(&vals[v]);
    free(va);
    free(vb);
    free(vals);
    ir_tensor_free(&x);
    /* (2) compiled = interpreter, exactly */
    char label[96];
    snprintf(label, sizeof label, "int_gemm case %d on %s, qmax %d", c, o.cpu ? o.cpu : "host", qmax);
    run_inference_pipeline(g, label);
    check_graph_opts(label, NULL, g, &o, sweep_ns, 3, 0, 0);
    free(ranges);
    ir_graph_free(ref);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* The dot product each target gets, through the activation grid it implies. */
START_TEST(test_int8_targets)
{
    static const struct {
        const char *triple, *cpu, *features;
        int qmax;
    } t[] = {
        {NULL, "icelake-server", NULL, 255},        /* AVX512-VNNI */
        {NULL, "icelake-server", "-avx512vnni,-avxvnni", 127},
        {NULL, "alderlake", NULL, 255},             /* AVX-VNNI */
        {NULL, "znver3", NULL, 127},                /* AVX2 */
        {NULL, "znver4", NULL, 255},
        {NULL, "haswell", NULL, 127},
        {NULL, "x86-64", NULL, 255},                /* SSE only: plain IR, exact for 8 bits */
        {"aarch64-linux-gnu", NULL, NULL, 255},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        IrDiag d;
        ir_diag_init(&d, NULL);
        CgOptions o = {.opt_level = 2, .triple = t[i].triple, .cpu = t[i].cpu, .features = t[i].features,
                       .check_finite = false};
        ck_assert_msg(cg_int8_activation_max(&o, &d) == t[i].qmax, "%s %s %s: %d", t[i].triple ? t[i].triple : "",
                      t[i].cpu ? t[i].cpu : "", t[i].features ? t[i].features : "", cg_int8_activation_max(&o, &d));
        ir_diag_free(&d);
    }
}
END_TEST

/* ---- --sparse: SparseGemm's kernel against its reference ------------------------------------------ */

/* Cases: K, outputs, the fraction of non-zero weights, Gemm (transB=1, bias, Relu after) or
 * MatMul, and whether sparsify takes it (above 25% it stays dense). */
static const struct {
    int64_t k, n;
    double density;
    bool gemm, sparse;
} sp_cases[] = {
    {70, 45, 0.1, true, true},      /* rows of 0..20 entries, padded to 16 */
    {256, 10, 0.2, false, true},
    {33, 17, 0.02, true, true},     /* empty rows */
    {64, 32, 0.5, true, false},
};

static char *sp_model(int c)
{
    int64_t k = sp_cases[c].k, n = sp_cases[c].n;
    size_t cap = (size_t)(k * n + n) * 24 + 4096, len = 0;
    char *t = malloc(cap);
    ck_assert_ptr_nonnull(t);
    len += (size_t)snprintf(t + len, cap - len, "model sp%d (seed 0)\ninput %%x : f32[N,%lld]\n", c, (long long)k);
    len += (size_t)snprintf(t + len, cap - len, "param %%w : f32[%lld,%lld] = [", (long long)(sp_cases[c].gemm ? n : k),
                            (long long)(sp_cases[c].gemm ? k : n));
    for (int64_t i = 0; i < k * n; i++)
        len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "",
                                rnd() < sp_cases[c].density ? rnd_range(-1, 1) : 0.0);
    len += (size_t)snprintf(t + len, cap - len, "]\n");
    if (sp_cases[c].gemm) {
        len += (size_t)snprintf(t + len, cap - len, "param %%b : f32[%lld] = [", (long long)n);
        for (int64_t i = 0; i < n; i++)
            len += (size_t)snprintf(t + len, cap - len, "%s%.6g", i ? ", " : "", rnd_range(-1, 1));
        len += (size_t)snprintf(t + len, cap - len, "]\n%%h = Gemm(%%x, %%w, %%b) {transB=1} : f32[N,%lld]\n"
                                "%%y = Relu(%%h) : f32[N,%lld]\n", (long long)n, (long long)n);
    } else {
        len += (size_t)snprintf(t + len, cap - len, "%%y = MatMul(%%x, %%w) : f32[N,%lld]\n", (long long)n);
    }
    snprintf(t + len, cap - len, "output %%y\n");
    return t;
}

/* sparsify makes SparseGemm of the sparse weights only; the interpreter's SparseGemm equals the
 * dense Gemm on the same weights, and the compiled kernel (gathers; the Relu in its epilogue)
 * equals the interpreter at batch 1, 3 and 64, on the host and AVX2. */
START_TEST(test_sparse_gemm)
{
    int c = _i;
    char *text = sp_model(c);
    IrGraph *g = dq_parse(text), *ref;
    free(text);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext pc;
    pass_context_init(&pc, &d);
    pc.verify = true;
    pc.sparse = true;
    ref = ir_graph_clone(g);
    ck_assert_msg(pass_pack_quantized(g, &pc) == 0, "%s", ir_diag_first(&d));
    ck_assert_int_eq(g->nodes[0]->op, sp_cases[c].sparse ? IR_OP_SPARSEGEMM : (sp_cases[c].gemm ? IR_OP_GEMM :
                     IR_OP_MATMUL));
    ck_assert_int_eq(pass_stat_get(&pc, "sparsify", "weights made sparse"), sp_cases[c].sparse);
    if (!sp_cases[c].sparse) {
        ir_graph_free(ref);
        ir_graph_free(g);
        ir_diag_free(&d);
        return;
    }
    ck_assert_int_eq(ir_value_find(g, "w"), -1);
    char label[64];
    snprintf(label, sizeof label, "sparse_gemm case %d (SparseGemm vs dense Gemm)", c);
    interp_equal(label, g, ref, sp_cases[c].k, sp_cases[c].n, 1e-6);
    snprintf(label, sizeof label, "sparse_gemm case %d", c);
    run_inference_pipeline(g, label);
    check_graph(label, NULL, g, 2, 1e-5, 1e-5);
    CgOptions avx2 = {.opt_level = 2, .cpu = "x86-64-v3", .check_finite = false};
    check_graph_opts(label, NULL, g, &avx2, sweep_ns, 3, 1e-5, 1e-5);
    ir_graph_free(ref);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* Report how much of the conformance set ran (skips are ops without kernels). */
START_TEST(test_summary)
{
    fprintf(stderr, "test_codegen_ops: %d conformance models compared, %d skipped (op without a kernel)\n", ncompared,
            nskipped);
    ck_assert_int_gt(ncompared, 0);
}
END_TEST

int main(void)
{
    /* libgomp + fork hangs (TOOLCHAIN.md): the compiled kernels run OpenMP regions */
    setenv("CK_FORK", "no", 1);
    ncases = tu_conformance_cases("model.json", cases, MAX_CASES);
    static char wd[] = "/tmp/sinter-cgops-XXXXXX";   /* not tu_tmpdir: no ck_assert outside tests */
    workdir = mkdtemp(wd);
    if (!workdir)
        return 1;
    const char *only = getenv("SINTER_TEST_CASE");   /* substring filter for debugging */
    if (only && *only) {
        int k = 0;
        for (int i = 0; i < ncases; i++) {
            if (strstr(cases[i], only))
                cases[k++] = cases[i];
            else
                free(cases[i]);
        }
        ncases = k;
    }
    Suite *s = suite_create("codegen_ops");
    TCase *pf = tcase_create("parallel_for");
    tcase_add_test(pf, test_pf_one_thread);
    tcase_add_test(pf, test_pf_small_total);
    tcase_add_test(pf, test_pf_chunks);
    tcase_add_test(pf, test_pf_edges);
    tcase_add_test(pf, test_pf_few_blocks);
    suite_add_tcase(s, pf);
    TCase *tc = tcase_create("conformance");
    tcase_set_timeout(tc, 120);
    if (ncases > 0)
        tcase_add_loop_test(tc, test_conformance_o1, 0, ncases);
    if (ncases >= 5)
        tcase_add_loop_test(tc, test_conformance_o3, 0, ncases / 5);
    tcase_add_loop_test(tc, test_extra_models, 0, (int)(sizeof extras / sizeof extras[0]));
    tcase_add_loop_test(tc, test_extra_targets, 0, (int)(sizeof extras / sizeof extras[0]));
    tcase_add_loop_test(tc, test_fused_models, 0, (int)(sizeof fused / sizeof fused[0]));
    tcase_add_loop_test(tc, test_example_models, 0, (int)(sizeof examples / sizeof examples[0]));
    tcase_add_test(tc, test_unsupported_diag);
    tcase_add_test(tc, test_every_op_has_kernel);
    tcase_add_loop_test(tc, test_dequant_gemm, 0, (int)(sizeof dq_cases / sizeof dq_cases[0]));
    tcase_add_loop_test(tc, test_int_gemm, 0, (int)(sizeof i8_cases / sizeof i8_cases[0]) * I8_NTARGETS);
    tcase_add_test(tc, test_int8_targets);
    tcase_add_loop_test(tc, test_sparse_gemm, 0, (int)(sizeof sp_cases / sizeof sp_cases[0]));
    tcase_add_test(tc, test_summary);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    rmdir(workdir);
    for (int i = 0; i < ncases; i++)
        free(cases[i]);
    return rc;
}
