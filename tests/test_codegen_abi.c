/* Generated-library ABI: compile models to .so, dlopen, and check infer/create/load/save/errors/threads/headers. */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Core.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "runtime/sinter_model.h"
#include "tests/util/testutil.h"

/* Element-wise ops with a broadcast param, two inputs with names that need sanitizing, a view
 * listed as an output, a compile-time output (Shape) and an input listed as an output. */
static const char *ABI_JSON =
    "{\"sinter\": 1, \"name\": \"abi\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 8]},\n"
    "            {\"name\": \"x 2\", \"dtype\": \"float32\", \"shape\": [\"N\", 8]}],\n"
    " \"outputs\": [\"y\", \"y.view\", \"shape\", \"x 2\"],\n"
    " \"params\": [{\"name\": \"w\", \"dtype\": \"float32\", \"shape\": [8], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}},\n"
    "            {\"name\": \"b\", \"dtype\": \"float32\", \"shape\": [8], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}}],\n"
    " \"nodes\": [{\"op\": \"Mul\", \"inputs\": [\"x\", \"w\"], \"outputs\": [\"t\"]},\n"
    "           {\"op\": \"Add\", \"inputs\": [\"t\", \"b\"], \"outputs\": [\"u\"]},\n"
    "           {\"op\": \"Add\", \"inputs\": [\"u\", \"x 2\"], \"outputs\": [\"v\"]},\n"
    "           {\"op\": \"Relu\", \"inputs\": [\"v\"], \"outputs\": [\"y\"]},\n"
    "           {\"op\": \"Identity\", \"inputs\": [\"y\"], \"outputs\": [\"y.view\"]},\n"
    "           {\"op\": \"Shape\", \"inputs\": [\"x\"], \"outputs\": [\"shape\"]}]}\n";

/* A second model, for contexts passed to the wrong library. */
static const char *OTHER_JSON =
    "{\"sinter\": 1, \"name\": \"other\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 3]}],\n"
    " \"outputs\": [\"y\"],\n"
    " \"nodes\": [{\"op\": \"Relu\", \"inputs\": [\"x\"], \"outputs\": [\"y\"]}]}\n";

/* ---- helpers ----------------------------------------------------------------------- */

/* Temporary folders of this process, removed at the end of main. */
static char *tmpdirs[256];
static int ntmpdirs;

static const char *tmpdir(void)
{
    const char *t = tu_tmpdir();
    if (ntmpdirs < 256)
        tmpdirs[ntmpdirs++] = strdup(t);
    return t;
}

static void remove_tmpdirs(void)
{
    for (int i = 0; i < ntmpdirs; i++) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdirs[i]);   /* /tmp/sinter-test-XXXXXX */
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdirs[i]);
        free(tmpdirs[i]);
    }
}

typedef struct Lib {
    IrGraph *g;
    char dir[256];
    char so[512];
    void *h;
    const SinterModelInfo *info;
} Lib;

static IrGraph *parse(const char *json, const char *label)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(json, strlen(json), label, ".", &d);
    ck_assert_msg(g != NULL, "parse %s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return g;
}

static void compile_into(Lib *L, const CgOptions *o)
{
    snprintf(L->dir, sizeof L->dir, "%s", tmpdir());
    snprintf(L->so, sizeof L->so, "%s/lib%s.so", L->dir, L->g->name);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *tg = tu_training_graph(L->g);
    int rc = cg_compile(L->g, tg, o, L->so, NULL, &d);
    if (tg)
        ir_graph_free(tg);
    ck_assert_msg(rc == 0, "cg_compile %s: %s", L->g->name, ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    L->h = dlopen(L->so, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(L->h != NULL, "dlopen: %s", dlerror());
    L->info = dlsym(L->h, "sinter_model_info");
    ck_assert_ptr_nonnull(L->info);
}

/* Libraries are compiled once per process (the suite runs without fork). */
static Lib *lib_abi(void)
{
    static Lib L;
    if (!L.h) {
        L.g = parse(ABI_JSON, "abi.json");
        CgOptions o = {2, NULL, NULL, NULL, false, false};
        compile_into(&L, &o);
    }
    return &L;
}

static Lib *lib_other(void)
{
    static Lib L;
    if (!L.h) {
        L.g = parse(OTHER_JSON, "other.json");
        CgOptions o = {1, NULL, NULL, NULL, false, false};
        compile_into(&L, &o);
    }
    return &L;
}

static Lib *lib_mlp(void)
{
    static Lib L;
    if (!L.h) {
        IrDiag d;
        ir_diag_init(&d, NULL);
        L.g = fe_load_model(tu_src("examples/fmnist_mlp.json"), &d);
        ck_assert_msg(L.g != NULL, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
        ir_diag_free(&d);
        CgOptions o = {3, NULL, NULL, NULL, false, false};
        compile_into(&L, &o);
    }
    return &L;
}

static Lib *lib_external(void)
{
    static Lib L;
    if (!L.h) {
        L.g = parse(ABI_JSON, "abi.json");
        CgOptions o = {1, NULL, NULL, NULL, true, false};
        compile_into(&L, &o);
    }
    return &L;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float frand(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

/* Buffers for one call at batch n: random inputs, zeroed outputs (in SinterTensorInfo terms). */
typedef struct Call {
    int64_t n;
    int nargs;
    void *args[16];
    size_t bytes[16];
} Call;

static size_t bytes_at(const SinterTensorInfo *t, int64_t n)
{
    return (size_t)(t->bytes.a * n + t->bytes.b);
}

static void call_init(Call *c, const SinterModelInfo *info, int64_t n)
{
    memset(c, 0, sizeof *c);
    c->n = n;
    c->nargs = (int)(info->ninputs + info->noutputs);
    ck_assert_int_le(c->nargs, 16);
    for (int i = 0; i < c->nargs; i++) {
        const SinterTensorInfo *t = i < info->ninputs ? &info->inputs[i] : &info->outputs[i - info->ninputs];
        c->bytes[i] = bytes_at(t, n);
        c->args[i] = calloc(1, c->bytes[i] + 1);
        ck_assert_ptr_nonnull(c->args[i]);
        if (i < info->ninputs) {
            ck_assert_int_eq(t->dtype, SRT_F32);
            float *f = c->args[i];
            for (size_t k = 0; k < c->bytes[i] / 4; k++)
                f[k] = frand();
        }
    }
}

static void call_free(Call *c)
{
    for (int i = 0; i < c->nargs; i++)
        free(c->args[i]);
}

/* Run the interpreter on c's inputs with g's params replaced by params (the library's block,
 * NULL: the graph's own) and compare every output: |got - want| <= atol + rtol*|want|. */
static void check_against_interp(const Lib *L, const Call *c, const uint8_t *params, double rtol, double atol)
{
    const IrGraph *g = L->g;
    const SinterModelInfo *info = L->info;
    IrTensor *vals = calloc((size_t)g->nvalues, sizeof *vals);
    IrTensor *ins = calloc((size_t)g->ninputs + 1, sizeof *ins);
    void **saved = calloc((size_t)g->nvalues, sizeof *saved);
    ck_assert(vals && ins && saved);
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        ck_assert(ir_shape_eval(&v->shape, c->n, ins[i].dims));
        ins[i].dtype = v->dtype;
        ins[i].rank = v->shape.rank;
        ins[i].numel = (int64_t)(c->bytes[i] / srt_dtype_size(v->dtype));
        ins[i].data = c->args[i];
    }
    if (params)
        for (int64_t p = 0; p < info->nparams; p++) {
            int id = ir_value_find(g, info->params[p].name);
            ck_assert_int_ge(id, 0);
            saved[id] = g->values[id]->data;
            g->values[id]->data = (void *)(params + info->params[p].offset);
        }
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_interp_eval(g, c->n, ins, false, vals, &d);
    for (int id = 0; id < g->nvalues; id++)
        if (saved[id])
            g->values[id]->data = saved[id];
    ck_assert_msg(rc == 0, "interp: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    for (int j = 0; j < g->noutputs; j++) {
        const IrTensor *want = &vals[g->outputs[j]];
        const void *got = c->args[g->ninputs + j];
        ck_assert_uint_eq((size_t)want->numel * srt_dtype_size(want->dtype), c->bytes[g->ninputs + j]);
        for (int64_t k = 0; k < want->numel; k++) {
            if (want->dtype == SRT_I64) {
                ck_assert_int_eq(((const int64_t *)got)[k], ir_tensor_geti(want, k));
                continue;
            }
            double w = ir_tensor_getf(want, k), x = ((const float *)got)[k];
            ck_assert_msg(fabs(x - w) <= atol + rtol * fabs(w), "n=%lld output %d [%lld]: got %.9g want %.9g",
                          (long long)c->n, j, (long long)k, x, w);
        }
    }
    for (int id = 0; id < g->nvalues; id++)
        ir_tensor_free(&vals[id]);
    free(vals);
    free(ins);
    free(saved);
}

static const char *msg_of(const Lib *L, void *m)
{
    return L->info->error(m);
}

/* Params of a context (the test process has its own copy of the runtime: same layout). */
static uint8_t *params_of(const Lib *L, void *m)
{
    uint8_t *p = srt_model_params(L->info, m);
    ck_assert_ptr_nonnull(p);
    return p;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
    uint8_t *r = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(r);
    memcpy(r, p, n);
    return r;
}

/* Writes the abi model's params as a .safetensors file with w and b given (NULL: omitted). */
static void write_weights(const char *path, SrtDtype wdt, int wrank, const int64_t *wdims, const void *w,
                          size_t wbytes, const float *b)
{
    SrtTensor t[2];
    int n = 0;
    memset(t, 0, sizeof t);
    if (w) {
        t[n].name = "w";
        t[n].dtype = wdt;
        t[n].rank = wrank;
        memcpy(t[n].dims, wdims, (size_t)wrank * sizeof *wdims);
        t[n].nbytes = wbytes;
        t[n].data = (void *)(uintptr_t)w;
        n++;
    }
    if (b) {
        t[n].name = "b";
        t[n].dtype = SRT_F32;
        t[n].rank = 1;
        t[n].dims[0] = 8;
        t[n].nbytes = 32;
        t[n].data = (void *)(uintptr_t)b;
        n++;
    }
    char err[256];
    ck_assert_msg(srt_safetensors_write(path, t, n, err, sizeof err) == 0, "%s", err);
}

/* ---- inference --------------------------------------------------------------------------- */

/* The generic entry (infer through the descriptor) matches the interpreter at n = 1, 3, 64. */
START_TEST(t_infer_v_matches_interp)
{
    Lib *L = lib_abi();
    void *m = L->info->create();
    ck_assert_ptr_nonnull(m);
    static const int64_t ns[] = {1, 3, 64};
    for (int i = 0; i < 3; i++) {
        Call c;
        call_init(&c, L->info, ns[i]);
        ck_assert_int_eq(L->info->infer(m, c.n, c.args), SINTER_OK);
        check_against_interp(L, &c, NULL, 1e-6, 1e-6);
        call_free(&c);
    }
    L->info->destroy(m);
}
END_TEST

typedef int (*AbiInfer)(void *, int64_t, const float *, const float *, float *, float *, int64_t *, float *);

/* The named entry abi_infer(m, n, x, x_2, y, y_view, shape, x_2) matches the interpreter. */
START_TEST(t_named_infer_matches_interp)
{
    Lib *L = lib_abi();
    AbiInfer f = (AbiInfer)(uintptr_t)dlsym(L->h, "abi_infer");
    void *(*create)(void) = (void *(*)(void))(uintptr_t)dlsym(L->h, "abi_create");
    void (*destroy)(void *) = (void (*)(void *))(uintptr_t)dlsym(L->h, "abi_destroy");
    ck_assert(f && create && destroy);
    void *m = create();
    Call c;
    call_init(&c, L->info, 5);
    ck_assert_int_eq(f(m, 5, c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]), SINTER_OK);
    check_against_interp(L, &c, NULL, 1e-6, 1e-6);
    ck_assert_int_eq(((int64_t *)c.args[4])[0], 5);
    ck_assert_int_eq(((int64_t *)c.args[4])[1], 8);
    call_free(&c);
    destroy(m);
}
END_TEST

/* The example MLP (Gemm, Relu) matches the interpreter at n = 1, 3, 64. */
START_TEST(t_mlp_matches_interp)
{
    Lib *L = lib_mlp();
    void *m = L->info->create();
    ck_assert_ptr_nonnull(m);
    static const int64_t ns[] = {1, 3, 64};
    for (int i = 0; i < 3; i++) {
        Call c;
        call_init(&c, L->info, ns[i]);
        ck_assert_int_eq(L->info->infer(m, c.n, c.args), SINTER_OK);
        /* K = 784 sums in another order than the interpreter's. */
        check_against_interp(L, &c, NULL, 1e-4, 1e-5);
        call_free(&c);
    }
    L->info->destroy(m);
}
END_TEST

/* The descriptor describes names, dtypes, shapes (a*N+b), params and entry points. */
START_TEST(t_descriptor)
{
    const SinterModelInfo *in = lib_abi()->info;
    ck_assert_int_eq(in->version, SINTER_MODEL_INFO_VERSION);
    ck_assert_int_eq(in->size, (int64_t)sizeof(SinterModelInfo));
    ck_assert_str_eq(in->name, "abi");
    ck_assert_int_eq(in->ninputs, 2);
    ck_assert_int_eq(in->noutputs, 4);
    ck_assert_int_eq(in->nparams, 2);
    ck_assert_str_eq(in->inputs[1].name, "x 2");
    ck_assert_int_eq(in->inputs[0].rank, 2);
    ck_assert_int_eq(in->inputs[0].dims[0].a, 1);
    ck_assert_int_eq(in->inputs[0].dims[0].b, 0);
    ck_assert_int_eq(in->inputs[0].dims[1].a, 0);
    ck_assert_int_eq(in->inputs[0].dims[1].b, 8);
    ck_assert_int_eq(in->inputs[0].bytes.a, 32);
    ck_assert_str_eq(in->outputs[2].name, "shape");
    ck_assert_int_eq(in->outputs[2].dtype, SRT_I64);
    ck_assert_int_eq(in->outputs[2].bytes.b, 16);
    ck_assert_str_eq(in->params[0].name, "w");
    ck_assert_int_eq(in->params[0].offset, 0);
    ck_assert_str_eq(in->params[1].name, "b");
    ck_assert_int_eq(in->params[1].offset, 64);
    ck_assert_int_eq(in->param_bytes, 128);
    ck_assert_ptr_nonnull(in->weights);
    ck_assert_int_eq(in->flags, 0);
    ck_assert(in->create && in->destroy && in->load && in->save && in->infer && in->set_num_threads && in->error);
    ck_assert_int_gt(in->max_n, 1000000);
}
END_TEST

/* Only the ABI symbols are exported: internals (runtime, kernels, infer_v) stay hidden. */
START_TEST(t_exports)
{
    Lib *L = lib_abi();
    static const char *const pub[] = {"abi_create", "abi_destroy", "abi_load", "abi_save", "abi_infer",
                                      "abi_set_num_threads", "abi_error", "sinter_model_info"};
    for (size_t i = 0; i < sizeof pub / sizeof *pub; i++)
        ck_assert_msg(dlsym(L->h, pub[i]) != NULL, "%s not exported", pub[i]);
    static const char *const priv[] = {"abi__infer_v", "abi__info", "srt_model_create", "srt_model_begin",
                                       "srt_safetensors_read", "abi__k0_Mul", "abi__impl_create"};
    for (size_t i = 0; i < sizeof priv / sizeof *priv; i++)
        ck_assert_msg(dlsym(L->h, priv[i]) == NULL, "%s is exported", priv[i]);
}
END_TEST

/* ---- create / save / load ------------------------------------------------------------------ */

/* save then load into a fresh context reproduces params and results; loading new weights changes
 * the results to what the interpreter computes with them. */
START_TEST(t_save_load_roundtrip)
{
    Lib *L = lib_abi();
    char path[600], path2[600];
    snprintf(path, sizeof path, "%s/a.safetensors", tmpdir());
    snprintf(path2, sizeof path2, "%s/b.safetensors", tmpdir());
    void *a = L->info->create();
    ck_assert_int_eq(memcmp(params_of(L, a), L->info->weights, (size_t)L->info->param_bytes), 0);
    ck_assert_int_eq(L->info->save(a, path), SINTER_OK);

    float w[8], b[8];
    for (int i = 0; i < 8; i++)
        w[i] = 0.5f * (float)i - 1.0f, b[i] = 0.25f * (float)i;
    int64_t wd[1] = {8};
    write_weights(path2, SRT_F32, 1, wd, w, sizeof w, b);
    ck_assert_int_eq(L->info->load(a, path2), SINTER_OK);
    ck_assert_int_eq(memcmp(params_of(L, a), w, sizeof w), 0);
    ck_assert_int_eq(memcmp(params_of(L, a) + 64, b, sizeof b), 0);
    Call c;
    call_init(&c, L->info, 3);
    ck_assert_int_eq(L->info->infer(a, 3, c.args), SINTER_OK);
    check_against_interp(L, &c, params_of(L, a), 1e-6, 1e-6);
    call_free(&c);

    void *fresh = L->info->create();
    ck_assert_int_eq(L->info->load(fresh, path), SINTER_OK);
    ck_assert_int_eq(memcmp(params_of(L, fresh), L->info->weights, (size_t)L->info->param_bytes), 0);
    ck_assert_int_eq(L->info->save(a, path), SINTER_OK);
    ck_assert_int_eq(L->info->load(fresh, path), SINTER_OK);
    ck_assert_int_eq(memcmp(params_of(L, fresh), params_of(L, a), (size_t)L->info->param_bytes), 0);
    L->info->destroy(a);
    L->info->destroy(fresh);
}
END_TEST

/* Truncated weight files fail with SINTER_EFORMAT and leave the params untouched. */
START_TEST(t_load_truncated)
{
    Lib *L = lib_abi();
    const char *dir = tmpdir();
    char good[600], bad[600];
    snprintf(good, sizeof good, "%s/good.safetensors", dir);
    snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
    float w[8], b[8];
    for (int i = 0; i < 8; i++)
        w[i] = (float)i, b[i] = -(float)i;
    int64_t wd[1] = {8};
    write_weights(good, SRT_F32, 1, wd, w, sizeof w, b);
    uint8_t *file;
    size_t len;
    char err[256];
    ck_assert_int_eq(srt_read_file(good, 1 << 20, &file, &len, err, sizeof err), 0);
    void *m = L->info->create();
    uint8_t *before = dup_bytes(params_of(L, m), (size_t)L->info->param_bytes);
    size_t cuts[] = {0, 4, 8, 12, len / 2, len - 4, len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        ck_assert_int_eq(srt_write_file_atomic(bad, file, cuts[i], err, sizeof err), 0);
        int rc = L->info->load(m, bad);
        ck_assert_msg(rc == SINTER_EFORMAT, "cut at %zu: rc %d (%s)", cuts[i], rc, msg_of(L, m));
        ck_assert_int_eq(memcmp(params_of(L, m), before, (size_t)L->info->param_bytes), 0);
        char prefix[700];
        snprintf(prefix, sizeof prefix, "abi_load: %s: ", bad);
        ck_assert_msg(!strncmp(msg_of(L, m), prefix, strlen(prefix)), "message: %s", msg_of(L, m));
        ck_assert_ptr_null(strchr(msg_of(L, m), '\n'));
    }
    free(file);
    free(before);
    L->info->destroy(m);
}
END_TEST

/* Files that do not match the model (dtype, shape, missing tensor, no file) fail with the right
 * code and message, and change nothing even when an earlier tensor matched. */
START_TEST(t_load_mismatch)
{
    Lib *L = lib_abi();
    const char *dir = tmpdir();
    char path[600], expect[900];
    void *m = L->info->create();
    uint8_t *before = dup_bytes(params_of(L, m), (size_t)L->info->param_bytes);
    float w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[8] = {0};
    double w64[8] = {0};
    int64_t d8[1] = {8}, d42[2] = {4, 2};

    snprintf(path, sizeof path, "%s/f64.safetensors", dir);
    write_weights(path, SRT_F64, 1, d8, w64, sizeof w64, b);
    ck_assert_int_eq(L->info->load(m, path), SINTER_EFORMAT);
    snprintf(expect, sizeof expect, "abi_load: %s: tensor \"w\" is float64, the model needs float32", path);
    ck_assert_str_eq(msg_of(L, m), expect);

    snprintf(path, sizeof path, "%s/shape.safetensors", dir);
    write_weights(path, SRT_F32, 2, d42, w, sizeof w, b);
    ck_assert_int_eq(L->info->load(m, path), SINTER_EFORMAT);
    snprintf(expect, sizeof expect, "abi_load: %s: tensor \"w\" has shape [4, 2], the model needs [8]", path);
    ck_assert_str_eq(msg_of(L, m), expect);

    snprintf(path, sizeof path, "%s/missing.safetensors", dir);
    write_weights(path, SRT_F32, 1, d8, w, sizeof w, NULL);
    ck_assert_int_eq(L->info->load(m, path), SINTER_EFORMAT);
    snprintf(expect, sizeof expect, "abi_load: %s: tensor \"b\" is missing (the model needs float32[8])", path);
    ck_assert_str_eq(msg_of(L, m), expect);
    ck_assert_int_eq(memcmp(params_of(L, m), before, (size_t)L->info->param_bytes), 0);

    snprintf(path, sizeof path, "%s/nonexistent.safetensors", dir);
    ck_assert_int_eq(L->info->load(m, path), SINTER_EIO);
    snprintf(expect, sizeof expect, "abi_load: %s: cannot open: No such file or directory", path);
    ck_assert_str_eq(msg_of(L, m), expect);
    ck_assert_int_eq(memcmp(params_of(L, m), before, (size_t)L->info->param_bytes), 0);
    free(before);
    L->info->destroy(m);
}
END_TEST

/* save replaces the file atomically: no temporary files remain; an unwritable path fails cleanly. */
START_TEST(t_save_atomic)
{
    Lib *L = lib_abi();
    const char *dir = tmpdir();
    char path[600], expect[900];
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    tu_write_text(path, "old contents");
    void *m = L->info->create();
    ck_assert_int_eq(L->info->save(m, path), SINTER_OK);
    DIR *dh = opendir(dir);
    int files = 0;
    for (struct dirent *e; (e = readdir(dh));)
        files += e->d_name[0] != '.';
    closedir(dh);
    ck_assert_int_eq(files, 1);
    ck_assert_int_eq(L->info->load(m, path), SINTER_OK);
    snprintf(path, sizeof path, "%s/no/such/dir/w.safetensors", dir);
    ck_assert_int_eq(L->info->save(m, path), SINTER_EIO);
    snprintf(expect, sizeof expect, "abi_save: %s: ", path);
    ck_assert_msg(!strncmp(msg_of(L, m), expect, strlen(expect)), "%s", msg_of(L, m));
    L->info->destroy(m);
}
END_TEST

/* With external weights, create leaves params zero and infer refuses until load. */
START_TEST(t_external_weights)
{
    Lib *L = lib_external();
    ck_assert_ptr_null(L->info->weights);
    ck_assert_int_eq(L->info->flags, SINTER_MODEL_EXTERNAL_WEIGHTS);
    void *m = L->info->create();
    Call c;
    call_init(&c, L->info, 2);
    ck_assert_int_eq(L->info->infer(m, 2, c.args), SINTER_ESTATE);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: no weights loaded (the library was built with external weights: "
                                   "call abi_load first)");
    char path[600];
    snprintf(path, sizeof path, "%s/w.safetensors", tmpdir());
    float w[8], b[8];
    for (int i = 0; i < 8; i++)
        w[i] = (float)i / 8, b[i] = 1.0f - (float)i / 4;
    int64_t d8[1] = {8};
    write_weights(path, SRT_F32, 1, d8, w, sizeof w, b);
    ck_assert_int_eq(L->info->load(m, path), SINTER_OK);
    ck_assert_int_eq(L->info->infer(m, 2, c.args), SINTER_OK);
    check_against_interp(L, &c, params_of(L, m), 1e-6, 1e-6);
    call_free(&c);
    L->info->destroy(m);
}
END_TEST

/* ---- argument checks ----------------------------------------------------------------------- */

/* NULL context, n <= 0, n beyond max_n, NULL tensors: SINTER_EINVAL with a message. */
START_TEST(t_bad_arguments)
{
    Lib *L = lib_abi();
    const SinterModelInfo *in = L->info;
    void *m = in->create();
    Call c;
    call_init(&c, in, 2);
    ck_assert_int_eq(in->infer(NULL, 2, c.args), SINTER_EINVAL);
    ck_assert_str_eq(in->error(NULL), "abi_infer: the context is NULL");
    ck_assert_int_eq(in->infer(m, 0, c.args), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: n = 0: the batch size must be at least 1");
    ck_assert_int_eq(in->infer(m, -7, c.args), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: n = -7: the batch size must be at least 1");
    ck_assert_int_eq(in->infer(m, INT64_MAX, c.args), SINTER_EINVAL);
    char expect[300];
    snprintf(expect, sizeof expect, "abi_infer: n = %lld is too large (this model accepts at most %lld)",
             (long long)INT64_MAX, (long long)in->max_n);
    ck_assert_str_eq(msg_of(L, m), expect);
    ck_assert_int_eq(in->infer(m, in->max_n + 1, c.args), SINTER_EINVAL);
    void *x2 = c.args[1];
    c.args[1] = NULL;
    ck_assert_int_eq(in->infer(m, 2, c.args), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: input \"x 2\" is NULL");
    c.args[1] = x2;
    void *y = c.args[2];
    c.args[2] = NULL;
    ck_assert_int_eq(in->infer(m, 2, c.args), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: output \"y\" is NULL");
    c.args[2] = y;
    ck_assert_int_eq(in->infer(m, 2, NULL), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_infer: the argument array is NULL");
    /* Still works after all that. */
    ck_assert_int_eq(in->infer(m, 2, c.args), SINTER_OK);
    call_free(&c);

    ck_assert_int_eq(in->set_num_threads(m, 0), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_set_num_threads: 0 threads: must be in 1..4096");
    ck_assert_int_eq(in->set_num_threads(NULL, 2), SINTER_EINVAL);
    ck_assert_str_eq(in->error(NULL), "abi_set_num_threads: the context is NULL");
    ck_assert_int_eq(in->load(m, NULL), SINTER_EINVAL);
    ck_assert_str_eq(msg_of(L, m), "abi_load: the path is NULL");
    ck_assert_int_eq(in->save(NULL, "x.safetensors"), SINTER_EINVAL);
    ck_assert_str_eq(in->error(NULL), "abi_save: the context is NULL");
    in->destroy(NULL);
    in->destroy(m);
}
END_TEST

/* A context of another library is refused, not misused. */
START_TEST(t_foreign_context)
{
    Lib *A = lib_abi(), *B = lib_other();
    void *m = B->info->create();
    Call c;
    call_init(&c, A->info, 1);
    ck_assert_int_eq(A->info->infer(m, 1, c.args), SINTER_EINVAL);
    ck_assert_str_eq(A->info->error(NULL), "abi_infer: not a context of model abi (created by another library, "
                                           "or destroyed)");
    ck_assert_str_eq(B->info->error(m), "");
    call_free(&c);
    B->info->destroy(m);
}
END_TEST

/* ---- threads ------------------------------------------------------------------------------- */

typedef struct Worker {
    const Lib *L;
    Call *call;
    void *out_expected[16];
    int mismatches;
    int failures;
} Worker;

static void *worker(void *arg)
{
    Worker *w = arg;
    const SinterModelInfo *in = w->L->info;
    void *m = in->create();
    if (!m || in->set_num_threads(m, 2) != 0) {
        w->failures++;
        return NULL;
    }
    Call *c = w->call;
    for (int it = 0; it < 20; it++) {
        for (int j = (int)in->ninputs; j < c->nargs; j++)
            memset(c->args[j], 0, c->bytes[j]);
        if (in->infer(m, c->n, c->args) != 0)
            w->failures++;
        for (int j = (int)in->ninputs; j < c->nargs; j++)
            w->mismatches += memcmp(c->args[j], w->out_expected[j], c->bytes[j]) != 0;
    }
    in->destroy(m);
    return NULL;
}

/* 4 threads with 4 contexts (2 threads each) give bit-identical results to serial runs. */
static void threads_agree(const Lib *L, int64_t n)
{
    Call calls[4];
    Worker ws[4];
    void *m = L->info->create();
    ck_assert_int_eq(L->info->set_num_threads(m, 2), SINTER_OK);
    for (int t = 0; t < 4; t++) {
        call_init(&calls[t], L->info, n);
        ck_assert_int_eq(L->info->infer(m, n, calls[t].args), SINTER_OK);
        memset(&ws[t], 0, sizeof ws[t]);
        ws[t].L = L;
        ws[t].call = &calls[t];
        for (int j = (int)L->info->ninputs; j < calls[t].nargs; j++)
            ws[t].out_expected[j] = dup_bytes(calls[t].args[j], calls[t].bytes[j]);
    }
    L->info->destroy(m);
    pthread_t th[4];
    for (int t = 0; t < 4; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, worker, &ws[t]), 0);
    for (int t = 0; t < 4; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(ws[t].failures, 0);
        ck_assert_int_eq(ws[t].mismatches, 0);
        for (int j = (int)L->info->ninputs; j < calls[t].nargs; j++)
            free(ws[t].out_expected[j]);
        call_free(&calls[t]);
    }
}

/* Concurrent contexts of the element-wise model agree with serial runs. */
START_TEST(t_threads_abi)
{
    threads_agree(lib_abi(), 37);
}
END_TEST

/* Concurrent contexts of the MLP agree with serial runs. */
START_TEST(t_threads_mlp)
{
    threads_agree(lib_mlp(), 64);
}
END_TEST

/* ---- files: header, dependencies, other kinds, cross targets ------------------------------- */

/* The header compiles in a strict C program that links the library and calls it. */
START_TEST(t_header_compiles_and_links)
{
    Lib *L = lib_abi();
    char src[2048], cmd[16384], out[2048];
    snprintf(src, sizeof src, "%s/main.c", L->dir);
    tu_write_text(src, "#include \"abi.h\"\n#include <stdio.h>\n"
                       "int main(void) {\n"
                       "    float x[16] = {1, -2, 3}, x2[16] = {0}, y[16], yv[16], x2o[16];\n"
                       "    int64_t shape[2];\n"
                       "    abi *m = abi_create();\n"
                       "    int rc = abi_infer(m, 2, x, x2, y, yv, shape, x2o);\n"
                       "    printf(\"%d %lld %lld %s|\\n\", rc, (long long)shape[0], (long long)shape[1], abi_error(m));\n"
                       "    rc = abi_infer(m, 0, x, x2, y, yv, shape, x2o);\n"
                       "    printf(\"%d %s\\n\", rc, abi_error(m));\n"
                       "    abi_destroy(m);\n"
                       "    return 0;\n}\n");
    snprintf(out, sizeof out, "%s/main.out", L->dir);
#if defined(__SANITIZE_ADDRESS__)
    const char *san = "-fsanitize=address,undefined";   /* the library is instrumented too */
#else
    const char *san = "";
#endif
    snprintf(cmd, sizeof cmd,
             "cc -std=c99 -Wall -Wextra -Wpedantic -Werror %s -I%s -o %s/main %s -L%s -labi -Wl,-rpath,%s && "
             "%s/main > %s",
             san, L->dir, L->dir, src, L->dir, L->dir, L->dir, out);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(out, "r");
    char line[300];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "0 2 8 |\n");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "1 abi_infer: n = 0: the batch size must be at least 1\n");
    fclose(f);
}
END_TEST

/* The header declares the ABI with sanitized parameter names and typed pointers. */
START_TEST(t_header_text)
{
    Lib *L = lib_abi();
    IrDiag d;
    ir_diag_init(&d, NULL);
    char *h = cg_header_text(L->g, true, &d);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(strstr(h, "int abi_infer(abi *m, int64_t n, const float *x, const float *x_2, float *y, "
                                    "float *y_view, int64_t *shape, float *x_2_2);\n"));
    ck_assert_ptr_nonnull(strstr(h, " *   x_2          in  float32[N, 8]  \"x 2\"\n"));
    ck_assert_ptr_nonnull(strstr(h, " *   shape        out int64[2]\n"));
    ck_assert_ptr_nonnull(strstr(h, " *   \"w\" float32[8]\n"));
    ck_assert_ptr_nonnull(strstr(h, "int abi_save(const abi *m, const char *safetensors_path);\n"));
    ck_assert_ptr_nonnull(strstr(h, "const char *abi_error(const abi *m);\n"));
    free(h);
    ir_diag_free(&d);
}
END_TEST

/* Awkward tensor names become distinct, legal C identifiers. */
START_TEST(t_header_identifiers)
{
    static const char *json =
        "{\"sinter\": 1, \"name\": \"idents\",\n"
        " \"inputs\": [{\"name\": \"0\", \"dtype\": \"float32\", \"shape\": [2]},\n"
        "            {\"name\": \"int\", \"dtype\": \"int64\", \"shape\": [2]},\n"
        "            {\"name\": \"/a*/b\", \"dtype\": \"float32\", \"shape\": [2]},\n"
        "            {\"name\": \"_A\", \"dtype\": \"float32\", \"shape\": [2]},\n"
        "            {\"name\": \"n\", \"dtype\": \"float32\", \"shape\": [2]}],\n"
        " \"outputs\": [\"0\"], \"nodes\": []}\n";
    IrGraph *g = parse(json, "idents.json");
    IrDiag d;
    ir_diag_init(&d, NULL);
    char *h = cg_header_text(g, true, &d);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_nonnull(strstr(h, "int idents_infer(idents *m, int64_t n, const float *t_0, const int64_t *int_, "
                                    "const float *_a__b, const float *t__A, const float *n_, float *t_0_2);\n"));
    ck_assert_ptr_nonnull(strstr(h, "\"/a* /b\""));
    free(h);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* Tensor names that would break out of the header's comments or identifiers (a quote, the end
 * of a comment, a newline then a directive, a trailing backslash, a trigraph, non-ASCII, keywords, a leading
 * digit, the prototypes' own names): the header compiles as C11 and as C++17 with every warning
 * an error, and a program built on it runs inference and a training step. */
static char *slurp(const char *path, size_t *len);

START_TEST(t_header_hostile_names)
{
    static const char *json =
        "{\"sinter\": 1, \"name\": \"hostile\",\n"
        " \"inputs\": [{\"name\": \"a\\\"b\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]},\n"
        "            {\"name\": \"*/ ) oops ( /*\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]},\n"
        "            {\"name\": \"x\\n#error injected\\n\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]},\n"
        "            {\"name\": \"back\\\\\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]},\n"
        "            {\"name\": \"q?\?/\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]}],\n"
        " \"outputs\": [\"9lives\", \"int\", \"\\u00e9*/\"],\n"
        " \"params\": [{\"name\": \"*/ int evil; /*\", \"dtype\": \"float32\", \"shape\": [2], \"init\": {\"kind\": \"ones\"}},\n"
        "            {\"name\": \"w?\?/\\n*/\", \"dtype\": \"float32\", \"shape\": [2], \"init\": {\"kind\": \"ones\"}}],\n"
        " \"nodes\": [{\"op\": \"Add\", \"inputs\": [\"a\\\"b\", \"*/ ) oops ( /*\"], \"outputs\": [\"t1\"]},\n"
        "           {\"op\": \"Add\", \"inputs\": [\"t1\", \"x\\n#error injected\\n\"], \"outputs\": [\"t2\"]},\n"
        "           {\"op\": \"Add\", \"inputs\": [\"t2\", \"back\\\\\"], \"outputs\": [\"t3\"]},\n"
        "           {\"op\": \"Add\", \"inputs\": [\"t3\", \"q?\?/\"], \"outputs\": [\"t4\"]},\n"
        "           {\"op\": \"Mul\", \"inputs\": [\"t4\", \"*/ int evil; /*\"], \"outputs\": [\"t5\"]},\n"
        "           {\"op\": \"Mul\", \"inputs\": [\"t5\", \"w?\?/\\n*/\"], \"outputs\": [\"9lives\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"9lives\"], \"outputs\": [\"int\"]},\n"
        "           {\"op\": \"Identity\", \"inputs\": [\"int\"], \"outputs\": [\"\\u00e9*/\"]}],\n"
        " \"training\": {\"inputs\": [{\"name\": \"return\", \"dtype\": \"float32\", \"shape\": [\"N\", 2]}],\n"
        "   \"loss\": {\"op\": \"MSELoss\", \"inputs\": [\"9lives\", \"return\"]},\n"
        "   \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.1}}}\n";
    Lib L;
    memset(&L, 0, sizeof L);
    L.g = parse(json, "hostile.json");
    CgOptions o = {1, NULL, NULL, NULL, false, false};
    compile_into(&L, &o);
    char src[600], cmd[16384], out[600], hdr[600];
    snprintf(hdr, sizeof hdr, "%s/hostile.h", L.dir);
    size_t hlen;
    char *h = slurp(hdr, &hlen);
    ck_assert_ptr_nonnull(h);
    ck_assert_ptr_null(strstr(h, "\n#error"));   /* the newlines stay out: the directive is comment text */
    ck_assert_ptr_null(strstr(h, "\xc3"));   /* no byte outside ASCII */
    ck_assert_ptr_null(strstr(h, "?\?"));
    ck_assert_ptr_nonnull(strstr(h, "int hostile_infer(hostile *m, int64_t n, const float *a_b, const float *t______oops_____, "
                                    "const float *x__error_injected_, const float *back_, const float *q___, "
                                    "float *t_9lives, float *int_, float *t_____);\n"));
    free(h);
    snprintf(src, sizeof src, "%s/main.c", L.dir);
    tu_write_text(src, "#include \"hostile.h\"\n#include <stdio.h>\n"
                       "int main(void) {\n"
                       "    float in[5][4] = {{1, 2, 3, 4}}, y[3][4], target[4] = {0}, loss = -1;\n"
                       "    hostile *m = hostile_create();\n"
                       "    int rc = hostile_infer(m, 2, in[0], in[1], in[2], in[3], in[4], y[0], y[1], y[2]);\n"
                       "    int rt = hostile_train_step(m, 2, in[0], in[1], in[2], in[3], in[4], target, &loss);\n"
                       "    printf(\"%d %g %d %g\\n\", rc, (double)y[2][3], rt, (double)loss);\n"
                       "    hostile_destroy(m);\n"
                       "    return 0;\n}\n");
    snprintf(out, sizeof out, "%s/main.out", L.dir);
#if defined(__SANITIZE_ADDRESS__)
    const char *san = "-fsanitize=address,undefined";
#else
    const char *san = "";
#endif
    snprintf(cmd, sizeof cmd,
             "cc -std=c11 -Wall -Wextra -Wpedantic -Werror %s -I%s -o %s/main %s -L%s -lhostile -Wl,-rpath,%s && "
             "%s/main > %s && g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c++ %s",
             san, L.dir, L.dir, src, L.dir, L.dir, L.dir, out, hdr);
    ck_assert_int_eq(system(cmd), 0);
    FILE *f = fopen(out, "r");
    char line[300];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "0 4 0 7.5\n");   /* y = x; the mean of 1, 4, 9, 16 */
    fclose(f);
    dlclose(L.h);
    ir_graph_free(L.g);
}
END_TEST

/* Model names that cannot be a C type and symbol prefix are refused where models are read
 * (JSON, .sir) and by codegen, each with the reason. */
START_TEST(t_model_name_refused)
{
    static const char *const bad[][2] = {
        {"int", "is a C keyword"},
        {"_Bool", "is a C keyword"},
        {"class", "is a C++ keyword"},
        {"__x", "is reserved to the C implementation"},
        {"_Model", "is reserved to the C implementation"},
        {"int64_t", "<stdint.h>"},
        {"NULL", "<stddef.h>"},
        {"srt_model", "\"srt_\" namespace"},
        {"9lives", "is not a C identifier"},
        {"a\"b", "is not a C identifier"},
        {"a*/b", "is not a C identifier"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_nonnull(ir_model_name_problem(bad[i][0]));
        ck_assert_msg(strstr(ir_model_name_problem(bad[i][0]), bad[i][1]), "%s: %s", bad[i][0],
                      ir_model_name_problem(bad[i][0]));
    }
    char longname[IR_MODEL_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_ptr_nonnull(strstr(ir_model_name_problem(longname), "at most 100"));
    longname[IR_MODEL_NAME_MAX] = '\0';
    ck_assert_ptr_null(ir_model_name_problem(longname));
    ck_assert_ptr_null(ir_model_name_problem("_model"));
    ck_assert_ptr_null(ir_model_name_problem("srtx"));
    /* the readers and codegen apply it */
    IrDiag d;
    ir_diag_init(&d, NULL);
    const char *js = "{\"sinter\": 1, \"name\": \"class\", \"inputs\": [], \"outputs\": [], \"nodes\": []}";
    ck_assert_ptr_null(fe_parse_model(js, strlen(js), "m.json", ".", &d));
    ck_assert_str_eq(ir_diag_first(&d), "m.json: name: \"class\" is a C++ keyword (the generated header is usable from C++)");
    ir_diag_free(&d);
    IrGraph *g = ir_graph_new("__evil");
    ir_diag_init(&d, NULL);
    char path[600];
    snprintf(path, sizeof path, "%s/libevil.so", tmpdir());
    ck_assert_int_eq(cg_compile(g, NULL, NULL, path, NULL, &d), -1);
    ck_assert_ptr_nonnull(strstr(ir_diag_first(&d), "model name \"__evil\" is reserved to the C implementation"));
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ldd lists nothing beyond libc, libm, the OpenMP runtime and the loader. */
START_TEST(t_ldd_minimal)
{
    Lib *L = lib_mlp();
    char cmd[700], line[512];
    snprintf(cmd, sizeof cmd, "ldd %s", L->so);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    int lines = 0;
    while (fgets(line, sizeof line, p)) {
        lines++;
        const char *s = line + strspn(line, " \t");
        bool ok = !strncmp(s, "linux-vdso.so", 13) || !strncmp(s, "libc.so", 7) || !strncmp(s, "libm.so", 7) ||
                  !strncmp(s, "libgomp.so", 10) || strstr(s, "ld-linux") != NULL;
#if defined(__SANITIZE_ADDRESS__)
        /* SINTER_SANITIZE builds instrument the runtime archive: its sanitizer runtimes come along. */
        ok |= !strncmp(s, "libasan.so", 10) || !strncmp(s, "libubsan.so", 11) || !strncmp(s, "libstdc++.so", 12) ||
              !strncmp(s, "libgcc_s.so", 11);
#endif
        ck_assert_msg(ok, "unexpected dependency: %s", line);
    }
    ck_assert_int_eq(pclose(p), 0);
    ck_assert_int_ge(lines, 2);
}
END_TEST

static unsigned elf_machine(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char h[20];
    ck_assert_uint_eq(fread(h, 1, sizeof h, f), sizeof h);
    fclose(f);
    ck_assert(h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F');
    ck_assert_int_eq(h[4], 2);   /* ELFCLASS64 */
    ck_assert_int_eq(h[5], 1);   /* little-endian */
    return (unsigned)h[18] | (unsigned)h[19] << 8;
}

/* --target aarch64-linux-gnu --emit o produces an AArch64 ELF object (e_machine 183). */
START_TEST(t_cross_aarch64_object)
{
    IrGraph *g = parse(ABI_JSON, "abi.json");
    char path[600];
    snprintf(path, sizeof path, "%s/abi.o", tmpdir());
    CgOptions o = {2, "aarch64-linux-gnu", NULL, NULL, false, false};
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_msg(cg_compile(g, NULL, &o, path, "o", &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ck_assert_uint_eq(elf_machine(path), 183);
    /* and a portable x86-64 baseline object */
    CgOptions x = {2, "x86_64-linux-gnu", "x86-64-v3", NULL, false, false};
    ck_assert_msg(cg_compile(g, NULL, &x, path, NULL, &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ck_assert_uint_eq(elf_machine(path), 62);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
    uint8_t *data;
    char err[256];
    ck_assert_msg(srt_read_file(path, 64 << 20, &data, len, err, sizeof err) == 0, "%s", err);
    return (char *)data;
}

/* .ll, .bc and .s by extension: LLVM text with the descriptor, bitcode magic, assembly. */
START_TEST(t_emit_kinds)
{
    IrGraph *g = parse(ABI_JSON, "abi.json");
    const char *dir = tmpdir();
    char path[600];
    size_t len;
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {0, NULL, NULL, NULL, false, false};

    snprintf(path, sizeof path, "%s/abi.ll", dir);
    ck_assert_int_eq(cg_compile(g, NULL, &o, path, NULL, &d), 0);
    char *text = slurp(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "@sinter_model_info = weak alias"));
    ck_assert_ptr_nonnull(strstr(text, "define internal void @abi__k0_Mul(i64 %0, ptr noalias align 4 %1, "
                                       "ptr noalias align 64 %2, ptr noalias align 64 %3)"));
    free(text);

    snprintf(path, sizeof path, "%s/abi.bc", dir);
    ck_assert_int_eq(cg_compile(g, NULL, &o, path, NULL, &d), 0);
    text = slurp(path, &len);
    ck_assert(len > 4 && !memcmp(text, "BC\xc0\xde", 4));
    free(text);

    snprintf(path, sizeof path, "%s/abi.s", dir);
    ck_assert_int_eq(cg_compile(g, NULL, &o, path, NULL, &d), 0);
    text = slurp(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "abi_infer"));
    free(text);

    snprintf(path, sizeof path, "%s/abi.anything", dir);
    ck_assert_int_eq(cg_compile(g, NULL, &o, path, "s", &d), 0);
    text = slurp(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "sinter_model_info"));
    free(text);
    ck_assert_int_eq(d.count, 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

static int count_files(const char *dir)
{
    DIR *dh = opendir(dir);
    ck_assert_ptr_nonnull(dh);
    int n = 0;
    for (struct dirent *e; (e = readdir(dh));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(dh);
    return n;
}

/* Bad options and names give one diagnostic each and leave no file behind. */
START_TEST(t_compile_errors)
{
    IrGraph *g = parse(ABI_JSON, "abi.json");
    const char *dir = tmpdir();
    char path[600], expect[900];
    snprintf(path, sizeof path, "%s/libabi.so", dir);
    IrDiag d;

    ir_diag_init(&d, NULL);
    CgOptions bad_target = {2, "nosuch-unknown-none", NULL, NULL, false, false};
    ck_assert_int_eq(cg_compile(g, NULL, &bad_target, path, NULL, &d), -1);
    ck_assert_int_eq(d.count, 1);
    ck_assert_ptr_nonnull(strstr(ir_diag_first(&d), "--target: unknown target \"nosuch-unknown-none\": "));
    ir_diag_free(&d);

    ir_diag_init(&d, NULL);
    CgOptions bare = {2, "aarch64-none-elf", NULL, NULL, false, false};
    ck_assert_int_eq(cg_compile(g, NULL, &bare, path, NULL, &d), -1);
    snprintf(expect, sizeof expect, "%s: cannot link a shared library for aarch64-unknown-none-elf: only Linux "
             "targets are linked; use --emit o and link it with the target's toolchain together with the runtime",
             path);
    ck_assert_str_eq(ir_diag_first(&d), expect);
    ir_diag_free(&d);

    /* a Linux cross target without its cross compiler on PATH */
    ir_diag_init(&d, NULL);
    char *saved_path = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    CgOptions cross = {2, "aarch64-linux-gnu", NULL, NULL, false, false};
    ck_assert_int_eq(cg_compile(g, NULL, &cross, path, NULL, &d), -1);
    setenv("PATH", saved_path, 1);
    free(saved_path);
    snprintf(expect, sizeof expect, "%s: cannot link a shared library for aarch64-unknown-linux-gnu: the cross "
             "compiler aarch64-linux-gnu-gcc is not on PATH (Debian: apt-get install gcc-aarch64-linux-gnu); or use "
             "--emit o and link it with the target's toolchain together with the runtime", path);
    ck_assert_str_eq(ir_diag_first(&d), expect);
    ir_diag_free(&d);

    ir_diag_init(&d, NULL);
    ck_assert_int_eq(cg_compile(g, NULL, NULL, path, "exe", &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "--emit: unknown output kind \"exe\" (expected so, o, ll, bc or s)");
    ir_diag_free(&d);

    ir_diag_init(&d, NULL);
    CgOptions o9 = {9, NULL, NULL, NULL, false, false};
    ck_assert_int_eq(cg_compile(g, NULL, &o9, path, NULL, &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "-O: optimization level 9 is outside 0..3");
    ir_diag_free(&d);

    ir_diag_init(&d, NULL);
    char missing[700];
    snprintf(missing, sizeof missing, "%s/no/such/dir/libabi.so", dir);
    ck_assert_int_eq(cg_compile(g, NULL, NULL, missing, NULL, &d), -1);
    snprintf(expect, sizeof expect, "%s: cannot create a file beside it: No such file or directory", missing);
    ck_assert_str_eq(ir_diag_first(&d), expect);
    ir_diag_free(&d);

    const char *saved = g->name;
    g->name = "bad-name";
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(cg_compile(g, NULL, NULL, path, NULL, &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "name: model name \"bad-name\" is not a C identifier (it prefixes "
                                        "exported symbols: use letters, digits and '_', not starting with a digit)");
    ir_diag_free(&d);
    g->name = saved;

    ck_assert_int_eq(count_files(dir), 0);
    ir_graph_free(g);
}
END_TEST

/* A failing link (no runtime archive) leaves neither library nor header behind. */
START_TEST(t_link_failure_leaves_nothing)
{
    IrGraph *g = parse(OTHER_JSON, "other.json");
    const char *dir = tmpdir();
    char path[600], expect[900];
    snprintf(path, sizeof path, "%s/libother.so", dir);
    setenv("SINTER_RT_ARCHIVE", "/nonexistent/libsinter_rt.a", 1);
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {0, NULL, NULL, NULL, false, false};
    int rc = cg_compile(g, NULL, &o, path, NULL, &d);
    unsetenv("SINTER_RT_ARCHIVE");
    ck_assert_int_eq(rc, -1);
    snprintf(expect, sizeof expect, "%s: cannot link: the runtime library /nonexistent/libsinter_rt.a is missing "
             "(set SINTER_RT_ARCHIVE)", path);
    ck_assert_str_eq(ir_diag_first(&d), expect);
    ck_assert_int_eq(count_files(dir), 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- in-memory compilation ---------------------------------------------------------------- */

/* The JIT-compiled model behaves like the library: same results as the interpreter, same errors. */
START_TEST(t_jit_matches_interp)
{
    Lib L;
    memset(&L, 0, sizeof L);
    L.g = parse(ABI_JSON, "abi.json");
    CgJit *j;
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_msg(cg_jit_compile(L.g, NULL, NULL, &j, &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    L.info = cg_jit_info(j);
    ck_assert_str_eq(L.info->name, "abi");
    void *m = L.info->create();
    static const int64_t ns[] = {1, 3, 64};
    for (int i = 0; i < 3; i++) {
        Call c;
        call_init(&c, L.info, ns[i]);
        ck_assert_int_eq(L.info->infer(m, c.n, c.args), SINTER_OK);
        check_against_interp(&L, &c, NULL, 1e-6, 1e-6);
        ck_assert_int_eq(L.info->infer(m, 0, c.args), SINTER_EINVAL);
        ck_assert_str_eq(L.info->error(m), "abi_infer: n = 0: the batch size must be at least 1");
        call_free(&c);
    }
    L.info->destroy(m);
    cg_jit_free(j);
    CgOptions cross = {2, "aarch64-linux-gnu", NULL, NULL, false, false};
    ck_assert_int_eq(cg_jit_compile(L.g, NULL, &cross, &j, &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "--target: in-memory compilation runs on this machine only: compile to a "
                                        "file for aarch64-linux-gnu");
    ir_diag_free(&d);
    ir_graph_free(L.g);
}
END_TEST

/* The JIT-compiled MLP (parallel kernels through the process's runtime) matches the interpreter. */
START_TEST(t_jit_mlp)
{
    Lib L;
    memset(&L, 0, sizeof L);
    L.g = lib_mlp()->g;
    CgJit *j;
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgOptions o = {2, NULL, NULL, NULL, false, false};
    ck_assert_msg(cg_jit_compile(L.g, NULL, &o, &j, &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    L.info = cg_jit_info(j);
    void *m = L.info->create();
    ck_assert_int_eq(L.info->set_num_threads(m, 2), SINTER_OK);
    Call c;
    call_init(&c, L.info, 64);
    ck_assert_int_eq(L.info->infer(m, c.n, c.args), SINTER_OK);
    check_against_interp(&L, &c, NULL, 1e-4, 1e-5);
    call_free(&c);
    L.info->destroy(m);
    cg_jit_free(j);
    ir_diag_free(&d);
}
END_TEST

/* cg_compile_module hands out the optimized module with the ABI functions and the descriptor. */
START_TEST(t_compile_module)
{
    IrGraph *g = parse(OTHER_JSON, "other.json");
    LLVMContextRef ctx = LLVMContextCreate();
    IrDiag d;
    ir_diag_init(&d, NULL);
    LLVMModuleRef mod = cg_compile_module(g, NULL, NULL, ctx, &d);
    ck_assert_msg(mod != NULL, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ck_assert_ptr_nonnull(LLVMGetNamedGlobalAlias(mod, "other_infer", strlen("other_infer")));
    ck_assert_ptr_nonnull(LLVMGetNamedGlobalAlias(mod, "sinter_model_info", strlen("sinter_model_info")));
    LLVMDisposeModule(mod);
    CgOptions bad = {4, NULL, NULL, NULL, false, false};
    ck_assert_ptr_null(cg_compile_module(g, NULL, &bad, ctx, &d));
    ck_assert_str_eq(ir_diag_first(&d), "-O: optimization level 4 is outside 0..3");
    LLVMContextDispose(ctx);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- the `sinter compile` verb ---------------------------------------------------------------- */

/* Runs the sinter binary of this build with args (shell words); stdout and stderr go to files
 * in dir. Returns the exit status. */
static int run_sinter(const char *dir, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s/sinter %s > %s/stdout.txt 2> %s/stderr.txt", SINTER_BINARY_DIR, args, dir, dir);
    int st = system(cmd);
    ck_assert_msg(st != -1 && WIFEXITED(st), "cannot run: %s", cmd);
    return WEXITSTATUS(st);
}

static char *output_of(const char *dir, const char *which)
{
    char path[2048];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.txt", dir, which);
    return slurp(path, &len);
}

/* `sinter compile` writes exactly the library and its header, and says so on stdout. */
START_TEST(t_cli_compile)
{
    const char *dir = tmpdir(), *work = tmpdir();
    char model[2048], args[8192], path[2048];
    snprintf(model, sizeof model, "%s/abi.json", work);
    tu_write_text(model, ABI_JSON);
    snprintf(args, sizeof args, "compile %s -o %s/libabi.so -O1", model, dir);
    ck_assert_int_eq(run_sinter(work, args), 0);
    char *err = output_of(work, "stderr");
    ck_assert_str_eq(err, "");
    free(err);
    snprintf(path, sizeof path, "%s/libabi.so", dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/abi.h", dir);
    ck_assert_int_eq(access(path, R_OK), 0);
    ck_assert_int_eq(count_files(dir), 2);
}
END_TEST

/* --dump-after plan prints the kernels and buffers before compiling. */
START_TEST(t_cli_dump_plan)
{
    const char *work = tmpdir();
    char model[2048], args[8192];
    snprintf(model, sizeof model, "%s/abi.json", work);
    tu_write_text(model, ABI_JSON);
    snprintf(args, sizeof args, "compile %s -o %s/abi.ll --dump-after plan", model, work);
    ck_assert_int_eq(run_sinter(work, args), 0);
    char *out = output_of(work, "stdout");
    /* the four element-wise nodes run as one kernel group, so no scratch is needed */
    static const char *head = "; after plan\nprogram abi: 1 kernel, 3 steps, params 128 bytes, scratch 0 bytes\n"
                              "  s0: group 0: Mul(%x, %w) -> %t; Add(%t, %b) -> %u; Add(%u, %\"x 2\") -> %v; "
                              "Relu(%v) -> %y\n";
    ck_assert_msg(!strncmp(out, head, strlen(head)), "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "  %t : f32[N,8]  inside kernel s0 (not stored)\n"));
    ck_assert_ptr_nonnull(strstr(out, "  %y.view : f32[N,8]  view of %y\n"));
    ck_assert_ptr_nonnull(strstr(out, "  %shape : i64[2]  output 2 = [N, 8]\n"));
    free(out);
}
END_TEST

/* Usage errors exit 2 with one line and a hint; model errors exit 1; nothing is written. */
START_TEST(t_cli_compile_errors)
{
    const char *work = tmpdir(), *dir = tmpdir();
    char model[2048], args[8192], expect[4096];
    snprintf(model, sizeof model, "%s/abi.json", work);
    tu_write_text(model, ABI_JSON);
    static const struct {
        const char *opts;
        const char *first_line;
    } usage[] = {
        {"", "sinter compile: expects an output file: -o OUT (e.g. -o libNAME.so)"},
        {"-o DIR/libabi.so -O7", "sinter compile: unknown optimization level -O7 (use -O0, -O1, -O2 or -O3)"},
        {"-o DIR/libabi.so --emit exe", "sinter compile: --emit: unknown output kind \"exe\" (expected so, o, ll, "
                                        "bc or s)"},
        {"-o DIR/libabi.so --target aarch64-none-elf",
         "sinter compile: --emit: cannot link a shared library for aarch64-unknown-none-elf: only Linux targets are "
         "linked; use --emit o and link it with the target's toolchain together with the runtime"},
        {"-o DIR/abi.o --strip", "sinter compile: --strip: applies to shared libraries only, not to .o output"},
        {"-o DIR/libabi.so --soname a/b", "sinter compile: --soname: expects a file name such as libNAME.so.1, got "
                                          "\"a/b\""},
        {"-o DIR/libabi.so --dump-after nosuch", NULL},
        {"-o DIR/libabi.so --frobnicate", NULL},
    };
    for (size_t i = 0; i < sizeof usage / sizeof *usage; i++) {
        char opts[4096];
        const char *at = strstr(usage[i].opts, "DIR");
        if (at)
            snprintf(opts, sizeof opts, "%.*s%s%s", (int)(at - usage[i].opts), usage[i].opts, dir, at + 3);
        else
            snprintf(opts, sizeof opts, "%s", usage[i].opts);
        snprintf(args, sizeof args, "compile %s %s", model, opts);
        ck_assert_msg(run_sinter(work, args) == 2, "%s", args);
        char *err = output_of(work, "stderr");
        if (usage[i].first_line) {
            snprintf(expect, sizeof expect, "%s\ntry 'sinter compile --help'\n", usage[i].first_line);
            ck_assert_str_eq(err, expect);
        } else if (strstr(usage[i].opts, "nosuch")) {
            /* the list of passes changes as passes are added */
            const char *want = "sinter compile: --dump-after expects a pass of the pipeline, plan or all, got "
                               "\"nosuch\" (the pipeline runs shape_infer, ";
            ck_assert_msg(!strncmp(err, want, strlen(want)), "%s", err);
        } else {
            ck_assert_ptr_nonnull(strstr(err, "--frobnicate"));
        }
        free(err);
    }
    snprintf(args, sizeof args, "compile %s/missing.json -o %s/libabi.so", work, dir);
    ck_assert_int_eq(run_sinter(work, args), 1);
    ck_assert_int_eq(count_files(dir), 0);
    ck_assert_int_eq(run_sinter(work, "compile --help"), 0);
    char *out = output_of(work, "stdout");
    ck_assert(!strncmp(out, "usage: sinter compile MODEL.json -o OUT", 39));
    free(out);
}
END_TEST

/* ---- lowering and the buffer plan ---------------------------------------------------------- */

static CgProgram *lower(IrGraph *g)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgProgram *p;
    ck_assert_msg(cg_lower(g, &p, &d) == 0, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    return p;
}

static const CgBuffer *buf_of(const CgProgram *p, const char *name)
{
    int id = ir_value_find(p->g, name);
    ck_assert_msg(id >= 0, "no value %s", name);
    return &p->buf[id];
}

/* Storage classes of the abi model: inputs, outputs, params, views, compile-time values. */
START_TEST(t_plan_storage)
{
    IrGraph *g = parse(ABI_JSON, "abi.json");
    CgProgram *p = lower(g);
    ck_assert_int_eq(buf_of(p, "x")->storage, CG_STORE_INPUT);
    ck_assert_int_eq(buf_of(p, "x 2")->arg, 1);
    ck_assert_int_eq(buf_of(p, "y")->storage, CG_STORE_OUTPUT);
    ck_assert_int_eq(buf_of(p, "y")->arg, 0);
    ck_assert_int_eq(buf_of(p, "y.view")->storage, CG_STORE_VIEW);
    ck_assert_int_eq(buf_of(p, "y.view")->view_of, ir_value_find(g, "y"));
    ck_assert_int_eq(buf_of(p, "shape")->storage, CG_STORE_OUTPUT);
    ck_assert_int_eq(buf_of(p, "w")->storage, CG_STORE_PARAM);
    ck_assert_int_eq(buf_of(p, "b")->offset.b, 64);
    ck_assert_int_eq(buf_of(p, "t")->storage, CG_STORE_SCRATCH);
    /* 4 kernels (Mul, Add, Add, Relu), then copies into y.view and the input listed as output. */
    ck_assert_int_eq(p->nsteps, 6);
    ck_assert_int_eq(p->steps[4].kind, CG_STEP_COPY);
    ck_assert_int_eq(p->steps[4].out_index, 1);
    ck_assert_int_eq(p->steps[5].src, ir_value_find(g, "x 2"));
    /* t and u are 32N bytes, 64-aligned: t dies when u is made, so u cannot share its bytes,
     * but v can take t's place. */
    ck_assert_int_eq(buf_of(p, "t")->offset.a, 0);
    ck_assert_int_eq(buf_of(p, "u")->offset.a, 64);
    ck_assert_int_eq(buf_of(p, "v")->offset.a, 0);
    ck_assert_int_eq(p->scratch_bytes.a, 128);
    ck_assert_int_eq(p->scratch_bytes.b, 0);
    cg_program_free(p);
    ir_graph_free(g);
}
END_TEST

/* A chain reuses two buffers (best fit), the view extends its source's life, dead nodes vanish. */
START_TEST(t_plan_reuse)
{
    static const char *json =
        "{\"sinter\": 1, \"name\": \"chain\",\n"
        " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 16]}],\n"
        " \"outputs\": [\"out\"],\n"
        " \"nodes\": [{\"op\": \"Relu\", \"inputs\": [\"x\"], \"outputs\": [\"a\"]},\n"
        "           {\"op\": \"Identity\", \"inputs\": [\"a\"], \"outputs\": [\"av\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"av\"], \"outputs\": [\"b\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"b\"], \"outputs\": [\"c\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"c\"], \"outputs\": [\"dead\"]},\n"
        "           {\"op\": \"Add\", \"inputs\": [\"c\", \"av\"], \"outputs\": [\"out\"]}]}\n";
    IrGraph *g = parse(json, "chain.json");
    CgProgram *p = lower(g);
    ck_assert_int_eq(p->nsteps, 4);     /* the dead Relu and the view have no kernel */
    ck_assert_int_eq(buf_of(p, "dead")->storage, CG_STORE_NONE);
    const CgBuffer *a = buf_of(p, "a"), *b = buf_of(p, "b"), *c = buf_of(p, "c");
    ck_assert_int_eq(a->last, 3);       /* read through the view by the final Add */
    ck_assert_int_eq(b->offset.a, 64);
    ck_assert_int_eq(c->offset.a, 128); /* a is still live, b is c's input */
    ck_assert_int_eq(p->scratch_bytes.a, 192);
    char *text;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    cg_print_program(p, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(text, "program chain: 4 kernels, 4 steps, params 0 bytes, scratch 192N bytes\n"));
    ck_assert_ptr_nonnull(strstr(text, "  s1: Relu(%av) -> %b\n"));
    ck_assert_ptr_nonnull(strstr(text, "  %a : f32[N,16]  scratch offset 0 size 64N live s0..s3\n"));
    ck_assert_ptr_nonnull(strstr(text, "  %av : f32[N,16]  view of %a\n"));
    ck_assert_ptr_nonnull(strstr(text, "  %dead : f32[N,16]  unused\n"));
    free(text);
    IrDim peak;
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(cg_scratch_bytes(g, &peak, &d), 0);
    ck_assert(peak.a == 192 && peak.b == 0);
    ir_diag_free(&d);
    cg_program_free(p);
    ir_graph_free(g);
}
END_TEST

/* A freed block is reused for a smaller value and split; outputs and inputs are never reused. */
START_TEST(t_plan_best_fit)
{
    static const char *json =
        "{\"sinter\": 1, \"name\": \"fit\",\n"
        " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 64]},\n"
        "            {\"name\": \"s\", \"dtype\": \"float32\", \"shape\": [\"N\", 16]}],\n"
        " \"outputs\": [\"y\", \"big2\"],\n"
        " \"nodes\": [{\"op\": \"Relu\", \"inputs\": [\"x\"], \"outputs\": [\"big\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"big\"], \"outputs\": [\"big2\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"s\"], \"outputs\": [\"small\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"small\"], \"outputs\": [\"small2\"]},\n"
        "           {\"op\": \"Relu\", \"inputs\": [\"small2\"], \"outputs\": [\"y\"]}]}\n";
    IrGraph *g = parse(json, "fit.json");
    CgProgram *p = lower(g);
    /* big (256N) is free after step 1; small (64N) takes its first part, small2 the rest. */
    ck_assert_int_eq(buf_of(p, "big")->offset.a, 0);
    ck_assert_int_eq(buf_of(p, "small")->offset.a, 0);
    ck_assert_int_eq(buf_of(p, "small2")->offset.a, 64);
    ck_assert_int_eq(buf_of(p, "big2")->storage, CG_STORE_OUTPUT);
    ck_assert_int_eq(p->scratch_bytes.a, 256);
    cg_program_free(p);
    ir_graph_free(g);
}
END_TEST

/* Lowering refuses untyped values with a diagnostic naming the node. */
START_TEST(t_lower_untyped)
{
    IrGraph *g = ir_graph_new("untyped");
    IrShape s = ir_shape_make(1, (int64_t[]){4});
    int x = ir_value_new(g, "x", SRT_F32, &s, IR_ROLE_INPUT);
    int y = ir_value_new(g, "y", SRT_F32, NULL, IR_ROLE_ACT);
    ir_node_new(g, IR_OP_RELU, "r", 1, &x, 1, &y);
    g->inputs = &x;
    g->ninputs = 1;
    g->outputs = &y;
    g->noutputs = 1;
    IrDiag d;
    ir_diag_init(&d, NULL);
    CgProgram *p;
    ck_assert_int_eq(cg_lower(g, &p, &d), -1);
    ck_assert_ptr_null(p);
    ck_assert_str_eq(ir_diag_first(&d), "node \"r\" (Relu): outputs[0] \"y\" has no type: run shape inference "
                                        "before codegen");
    ir_diag_free(&d);
    g->inputs = g->outputs = NULL;
    ir_graph_free(g);
}
END_TEST

int main(void)
{
    /* libgomp hangs in forked children once the parent ran a parallel region (TOOLCHAIN.md),
     * and the libraries are compiled once per process: run the tests in this process. */
    setenv("CK_FORK", "no", 1);
    Suite *s = suite_create("codegen_abi");
    TCase *plan = tcase_create("plan");
    tcase_add_test(plan, t_plan_storage);
    tcase_add_test(plan, t_plan_reuse);
    tcase_add_test(plan, t_plan_best_fit);
    tcase_add_test(plan, t_lower_untyped);
    suite_add_tcase(s, plan);
    TCase *abi = tcase_create("abi");
    tcase_set_timeout(abi, 120);
    tcase_add_test(abi, t_infer_v_matches_interp);
    tcase_add_test(abi, t_named_infer_matches_interp);
    tcase_add_test(abi, t_descriptor);
    tcase_add_test(abi, t_exports);
    tcase_add_test(abi, t_save_load_roundtrip);
    tcase_add_test(abi, t_load_truncated);
    tcase_add_test(abi, t_load_mismatch);
    tcase_add_test(abi, t_save_atomic);
    tcase_add_test(abi, t_external_weights);
    tcase_add_test(abi, t_bad_arguments);
    tcase_add_test(abi, t_foreign_context);
    tcase_add_test(abi, t_threads_abi);
    tcase_add_test(abi, t_header_compiles_and_links);
    tcase_add_test(abi, t_header_text);
    tcase_add_test(abi, t_header_identifiers);
    tcase_add_test(abi, t_header_hostile_names);
    tcase_add_test(abi, t_model_name_refused);
    tcase_add_test(abi, t_cross_aarch64_object);
    tcase_add_test(abi, t_emit_kinds);
    tcase_add_test(abi, t_compile_errors);
    tcase_add_test(abi, t_link_failure_leaves_nothing);
    suite_add_tcase(s, abi);
    TCase *mlp = tcase_create("mlp");
    tcase_set_timeout(mlp, 120);
    tcase_add_test(mlp, t_mlp_matches_interp);
    tcase_add_test(mlp, t_threads_mlp);
    tcase_add_test(mlp, t_ldd_minimal);
    tcase_add_test(mlp, t_jit_matches_interp);
    tcase_add_test(mlp, t_jit_mlp);
    tcase_add_test(mlp, t_compile_module);
    suite_add_tcase(s, mlp);
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, t_cli_compile);
    tcase_add_test(cli, t_cli_dump_plan);
    tcase_add_test(cli, t_cli_compile_errors);
    suite_add_tcase(s, cli);
    int rc = tu_run(s);
    remove_tmpdirs();
    return rc;
}
