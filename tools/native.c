/* Compiled models for the verbs: dlopen of libraries, in-memory compilation (cg_jit_compile), descriptor checks. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "passes/passes.h"
#include "tools/native.h"

/* Descriptor counts beyond these are taken as a corrupt or foreign library. */
#define MAX_TENSORS (1 << 20)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

bool cli_native_dims(const SinterTensorInfo *t, int64_t n, int64_t *dims)
{
    for (int64_t k = 0; k < t->rank; k++) {
        int64_t an;
        if (__builtin_mul_overflow(t->dims[k].a, n, &an) || __builtin_add_overflow(an, t->dims[k].b, &dims[k]) ||
            dims[k] < 0)
            return false;
    }
    return true;
}

/* ---- descriptor checks -------------------------------------------------------------- */

/* One tensor entry of a descriptor is usable: name, a dtype the C interface has, rank, dims. */
static bool tensor_ok(const SinterTensorInfo *t)
{
    if (!t->name || !*t->name || t->dtype < 0 || t->dtype >= SRT_BF16 || t->rank < 0 || t->rank > SRT_MAX_RANK)
        return false;
    for (int64_t k = 0; k < t->rank; k++)
        if (t->dims[k].a < 0)
            return false;
    return true;
}

static bool tensors_ok(const SinterTensorInfo *ts, int64_t count)
{
    if (count < 0 || count > MAX_TENSORS || (count > 0 && !ts))
        return false;
    for (int64_t i = 0; i < count; i++)
        if (!tensor_ok(&ts[i]))
            return false;
    return true;
}

/* Records "LABEL: ..." and returns -1 when info cannot be used by this sinter. */
static int check_info(const SinterModelInfo *info, const char *label, IrDiag *d)
{
    if (info->version != SINTER_MODEL_INFO_VERSION) {
        ir_diag_error(d, label, "the library's descriptor has version %lld, this sinter reads version %d; "
                      "recompile the model with this sinter", (long long)info->version, SINTER_MODEL_INFO_VERSION);
        return -1;
    }
    if (info->size != (int64_t)sizeof *info || !info->name || !tensors_ok(info->inputs, info->ninputs) ||
        !tensors_ok(info->outputs, info->noutputs) || !tensors_ok(info->params, info->nparams) ||
        info->max_n < 1 || !info->create || !info->destroy || !info->load || !info->save || !info->infer ||
        !info->set_num_threads || !info->error) {
        ir_diag_error(d, label, "the library's sinter_model_info is malformed (a damaged or foreign library); "
                      "recompile the model with sinter compile");
        return -1;
    }
    return 0;
}

/* Creates the context of x->info. */
static int create_context(CliNative *x, const char *label, IrDiag *d)
{
    x->m = x->info->create();
    if (!x->m) {
        const char *msg = x->info->error(NULL);
        ir_diag_error(d, label, "cannot create a context: %s", msg && *msg ? msg : "unknown error");
        return -1;
    }
    return 0;
}

/* ---- libraries ------------------------------------------------------------------------ */

int cli_native_open(CliNative *x, const char *path, IrDiag *d)
{
    memset(x, 0, sizeof *x);
    /* dlopen searches the system's library path for a name without a slash; on the command line
     * a bare "libx.so" means the file in the current folder. */
    size_t len = strlen(path) + 3;
    char *p = srt_malloc(len);
    if (!p) {
        ir_diag_error(d, path, "out of memory");
        return -1;
    }
    snprintf(p, len, "%s%s", strchr(path, '/') ? "" : "./", path);
    if (access(p, R_OK) != 0) {
        ir_diag_error(d, path, "cannot open: %s", strerror(errno));
        free(p);
        return -1;
    }
    dlerror();
    x->dl = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    free(p);
    if (!x->dl) {
        const char *e = dlerror();
        ir_diag_error(d, path, "cannot load the library: %s", e ? e : "unknown error");
        return -1;
    }
    x->info = dlsym(x->dl, "sinter_model_info");
    if (!x->info) {
        ir_diag_error(d, path, "not a library made by sinter compile (it has no sinter_model_info)");
        cli_native_close(x);
        return -1;
    }
    if (check_info(x->info, path, d) != 0 || create_context(x, path, d) != 0) {
        cli_native_close(x);
        return -1;
    }
    return 0;
}

/* ---- compiling in memory ------------------------------------------------------------- */

int cli_native_compile(CliNative *x, const IrGraph *g0, int opt_level, bool training, bool check_finite, IrDiag *d)
{
    memset(x, 0, sizeof *x);
    double t0 = now_seconds();
    IrGraph *g = ir_graph_clone(g0);
    PassContext pc;
    pass_context_init(&pc, d);
    IrGraph *tg = NULL;
    int rc = pass_prepare(g, &pc, training ? &tg : NULL);
    if (rc != 0 && d->count == 0)
        ir_diag_error(d, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
    CgOptions o = {opt_level, NULL, NULL, NULL, false, check_finite};
    if (rc == 0 && (rc = cg_jit_compile(g, tg, &o, &x->jit, d)) == 0) {
        x->info = cg_jit_info(x->jit);
        rc = check_info(x->info, g->name, d);
    }
    if (rc == 0)
        rc = create_context(x, g->name, d);
    ir_graph_free(g);
    if (tg)
        ir_graph_free(tg);
    if (rc != 0) {
        cli_native_close(x);
        return -1;
    }
    x->compile_seconds = now_seconds() - t0;
    return 0;
}

void cli_native_close(CliNative *x)
{
    if (x->m && x->info)
        x->info->destroy(x->m);
    x->m = NULL;
    if (x->jit)
        cg_jit_free(x->jit);   /* only after destroy: the descriptor is part of the JIT's code */
    if (x->dl)
        dlclose(x->dl);
    memset(x, 0, sizeof *x);
}

/* ---- calls ------------------------------------------------------------------------------ */

static int call_failed(CliNative *x, int rc, const char *what, IrDiag *d)
{
    const char *msg = x->info->error(x->m);
    ir_diag_error(d, NULL, "%s: %s: %s", what, srt_status_name(rc), msg && *msg ? msg : "no message");
    return -1;
}

int cli_native_prepare(CliNative *x, int threads, const char *weights, IrDiag *d)
{
    int rc;
    if (threads > 0 && (rc = x->info->set_num_threads(x->m, threads)) != SINTER_OK)
        return call_failed(x, rc, "setting the thread count", d);
    if (weights && (rc = x->info->load(x->m, weights)) != SINTER_OK)
        return call_failed(x, rc, "loading weights", d);
    if (!weights && (x->info->flags & SINTER_MODEL_EXTERNAL_WEIGHTS) && x->info->nparams > 0) {
        ir_diag_error(d, NULL, "the library was built with --external-weights: give its params with --weights "
                      "FILE.safetensors");
        return -1;
    }
    return 0;
}

int cli_native_infer(CliNative *x, int64_t n, void *const *args, IrDiag *d)
{
    int rc = x->info->infer(x->m, n, args);
    return rc == SINTER_OK ? 0 : call_failed(x, rc, "inference failed", d);
}

int cli_native_train_step(CliNative *x, int64_t n, void *const *args, float *loss, IrDiag *d)
{
    int rc = x->info->train_step(x->m, n, args, loss);
    return rc == SINTER_OK ? 0 : call_failed(x, rc, "training step failed", d);
}

/* ---- the descriptor as a graph ---------------------------------------------------------- */

static IrShape tensor_shape(const SinterTensorInfo *t)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    s.rank = (int)t->rank;
    for (int k = 0; k < s.rank; k++) {
        s.d[k].a = t->dims[k].a;
        s.d[k].b = t->dims[k].b;
    }
    return s;
}

/* The value named like t (made if new: role as given). */
static int value_for(IrGraph *g, const SinterTensorInfo *t, IrRole role)
{
    int id = ir_value_find(g, t->name);
    if (id >= 0)
        return id;
    IrShape s = tensor_shape(t);
    id = ir_value_new(g, t->name, (IrDtype)t->dtype, &s, role);
    g->values[id]->typed = true;
    return id;
}

IrGraph *cli_native_graph(const SinterModelInfo *info)
{
    IrGraph *g = ir_graph_new(info->name);
    g->ninputs = (int)info->ninputs;
    g->noutputs = (int)info->noutputs;
    g->inputs = ir_arena_alloc(g->arena, (size_t)(g->ninputs + 1) * sizeof(int));
    g->outputs = ir_arena_alloc(g->arena, (size_t)(g->noutputs + 1) * sizeof(int));
    for (int i = 0; i < g->ninputs; i++)
        g->inputs[i] = value_for(g, &info->inputs[i], IR_ROLE_INPUT);
    for (int i = 0; i < g->noutputs; i++) {
        g->outputs[i] = value_for(g, &info->outputs[i], IR_ROLE_ACT);
        g->values[g->outputs[i]]->is_output = true;
    }
    return g;
}
