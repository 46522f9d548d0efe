/* Run-time faults of generated libraries: out-of-range indices, integer division by zero, --check-finite, through the ABI. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "runtime/sinter_model.h"
#include "tests/util/testutil.h"

/* Gather on a [5,4] table (indices [N,3]), an integer division and an integer power that each
 * fault on their own inputs, and an element-wise group (Add, Div, Mul: the Div fused). */
static const char *INT_JSON =
    "{\"sinter\": 1, \"name\": \"ints\",\n"
    " \"inputs\": [{\"name\": \"idx\", \"dtype\": \"int64\", \"shape\": [\"N\", 3]},\n"
    "            {\"name\": \"den\", \"dtype\": \"int32\", \"shape\": [\"N\", 3]},\n"
    "            {\"name\": \"ex\", \"dtype\": \"int64\", \"shape\": [\"N\", 3]}],\n"
    " \"outputs\": [\"y\", \"q\", \"p\"],\n"
    " \"params\": [{\"name\": \"emb\", \"dtype\": \"float32\", \"shape\": [5, 4], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}}],\n"
    " \"constants\": [{\"name\": \"seven\", \"dtype\": \"int32\", \"shape\": [], \"data\": [7]},\n"
    "               {\"name\": \"three\", \"dtype\": \"int32\", \"shape\": [], \"data\": [3]},\n"
    "               {\"name\": \"base\", \"dtype\": \"int64\", \"shape\": [3], \"data\": [0, 2, 1]}],\n"
    " \"nodes\": [{\"name\": \"lookup\", \"op\": \"Gather\", \"inputs\": [\"emb\", \"idx\"], \"outputs\": [\"y\"]},\n"
    "           {\"name\": \"plus\", \"op\": \"Add\", \"inputs\": [\"den\", \"seven\"], \"outputs\": [\"t\"]},\n"
    "           {\"name\": \"quot\", \"op\": \"Div\", \"inputs\": [\"t\", \"den\"], \"outputs\": [\"u\"]},\n"
    "           {\"name\": \"times\", \"op\": \"Mul\", \"inputs\": [\"u\", \"three\"], \"outputs\": [\"q\"]},\n"
    "           {\"name\": \"power\", \"op\": \"Pow\", \"inputs\": [\"base\", \"ex\"], \"outputs\": [\"p\"]}]}\n";

/* log(x): -inf at 0, NaN below. */
static const char *LOG_JSON =
    "{\"sinter\": 1, \"name\": \"logm\",\n"
    " \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 4]}],\n"
    " \"outputs\": [\"y\"],\n"
    " \"nodes\": [{\"name\": \"ln\", \"op\": \"Log\", \"inputs\": [\"x\"], \"outputs\": [\"y\"]}]}\n";

/* An embedding lookup trained with SGD. */
static const char *EMB_JSON =
    "{\"sinter\": 1, \"name\": \"emb\",\n"
    " \"inputs\": [{\"name\": \"idx\", \"dtype\": \"int64\", \"shape\": [\"N\", 2]},\n"
    "            {\"name\": \"scale\", \"dtype\": \"float32\", \"shape\": [\"N\", 8]}],\n"
    " \"outputs\": [\"logits\"],\n"
    " \"params\": [{\"name\": \"table\", \"dtype\": \"float32\", \"shape\": [10, 4], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}},\n"
    "            {\"name\": \"w\", \"dtype\": \"float32\", \"shape\": [3, 8], \"init\": {\"kind\": \"uniform\", \"low\": -1, \"high\": 1}}],\n"
    " \"constants\": [{\"name\": \"shape\", \"dtype\": \"int64\", \"shape\": [2], \"data\": [-1, 8]}],\n"
    " \"nodes\": [{\"name\": \"lookup\", \"op\": \"Gather\", \"inputs\": [\"table\", \"idx\"], \"outputs\": [\"e\"]},\n"
    "           {\"name\": \"flat\", \"op\": \"Reshape\", \"inputs\": [\"e\", \"shape\"], \"outputs\": [\"f\"]},\n"
    "           {\"name\": \"mul\", \"op\": \"Mul\", \"inputs\": [\"f\", \"scale\"], \"outputs\": [\"g\"]},\n"
    "           {\"name\": \"fc\", \"op\": \"Gemm\", \"inputs\": [\"g\", \"w\"], \"outputs\": [\"logits\"], \"attrs\": {\"transB\": 1}}],\n"
    " \"training\": {\"inputs\": [{\"name\": \"y\", \"dtype\": \"int64\", \"shape\": [\"N\"]}],\n"
    "   \"loss\": {\"op\": \"SoftmaxCrossEntropyLoss\", \"inputs\": [\"logits\", \"y\"]},\n"
    "   \"optimizer\": {\"kind\": \"sgd\", \"lr\": 0.1}}}\n";

typedef struct Lib {
    IrGraph *g;
    void *h;
    const SinterModelInfo *info;
    void *m;
} Lib;

static void lib_open(Lib *L, const char *json, const char *label, bool check_finite)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    L->g = fe_parse_model(json, strlen(json), label, ".", &d);
    ck_assert_msg(L->g != NULL, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    char so[512];
    snprintf(so, sizeof so, "%s/lib%s.so", tu_tmpdir(), L->g->name);
    IrGraph *tg = tu_training_graph(L->g);
    CgOptions o = {2, NULL, NULL, NULL, false, check_finite};
    int rc = cg_compile(L->g, tg, &o, so, NULL, &d);
    if (tg)
        ir_graph_free(tg);
    ck_assert_msg(rc == 0, "cg_compile: %s", ir_diag_first(&d) ? ir_diag_first(&d) : "?");
    ir_diag_free(&d);
    L->h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(L->h != NULL, "dlopen: %s", dlerror());
    L->info = dlsym(L->h, "sinter_model_info");
    ck_assert_ptr_nonnull(L->info);
    L->m = L->info->create();
    ck_assert_ptr_nonnull(L->m);
}

static void lib_close(Lib *L)
{
    L->info->destroy(L->m);
    dlclose(L->h);
    ir_graph_free(L->g);
}

/* The message after a failed call must hold every needle. */
static void expect_error(const Lib *L, int rc, const char *n1, const char *n2)
{
    const char *msg = L->info->error(L->m);
    ck_assert_msg(rc == SINTER_EDATA, "status %d (%s), message \"%s\"", rc, srt_status_name(rc), msg);
    ck_assert_msg(strstr(msg, n1) && (!n2 || strstr(msg, n2)), "message \"%s\" lacks \"%s\" / \"%s\"", msg, n1,
                  n2 ? n2 : "");
}

/* Inputs of INT_JSON at batch n, all valid: indices in [-5, 5) (negatives too), nonzero
 * denominators, nonnegative exponents. */
typedef struct IntCall {
    int64_t n;
    int64_t *idx, *ex, *p;
    int32_t *den, *q;
    float *y;
    void *args[6];
} IntCall;

static void int_call(IntCall *c, int64_t n)
{
    c->n = n;
    c->idx = malloc((size_t)n * 3 * sizeof *c->idx);
    c->ex = malloc((size_t)n * 3 * sizeof *c->ex);
    c->p = malloc((size_t)n * 3 * sizeof *c->p);
    c->den = malloc((size_t)n * 3 * sizeof *c->den);
    c->q = malloc((size_t)n * 3 * sizeof *c->q);
    c->y = malloc((size_t)n * 12 * sizeof *c->y);
    ck_assert(c->idx && c->ex && c->p && c->den && c->q && c->y);
    for (int64_t i = 0; i < n * 3; i++) {
        c->idx[i] = i % 10 - 5;
        c->den[i] = (int32_t)(i % 7) - 3 + (i % 7 >= 3);   /* -3..-1, 1..3 */
        c->ex[i] = i % 4;
    }
    void *a[6] = {c->idx, c->den, c->ex, c->y, c->q, c->p};
    memcpy(c->args, a, sizeof a);
}

static void int_call_free(IntCall *c)
{
    free(c->idx);
    free(c->ex);
    free(c->p);
    free(c->den);
    free(c->q);
    free(c->y);
}

/* The interpreter's result on c's inputs: 0, or -1 with its first diagnostic in *msg. */
static int int_interp(const Lib *L, const IntCall *c, char *msg, size_t len)
{
    const IrGraph *g = L->g;
    IrTensor in[3];
    void *data[3] = {c->idx, c->den, c->ex};
    for (int i = 0; i < 3; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        memset(&in[i], 0, sizeof in[i]);
        in[i].dtype = v->dtype;
        in[i].rank = 2;
        in[i].dims[0] = c->n;
        in[i].dims[1] = 3;
        in[i].numel = c->n * 3;
        in[i].data = data[i];
    }
    IrTensor *vals = calloc((size_t)g->nvalues, sizeof *vals);
    ck_assert_ptr_nonnull(vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = ir_interp_eval(g, c->n, in, false, vals, &d);
    snprintf(msg, len, "%s", ir_diag_first(&d) ? ir_diag_first(&d) : "");
    if (rc == 0) {
        /* the compiled results equal the interpreter's */
        const IrTensor *y = &vals[g->outputs[0]], *q = &vals[g->outputs[1]], *p = &vals[g->outputs[2]];
        ck_assert_mem_eq(y->data, c->y, (size_t)c->n * 12 * sizeof(float));
        ck_assert_mem_eq(q->data, c->q, (size_t)c->n * 3 * sizeof(int32_t));
        ck_assert_mem_eq(p->data, c->p, (size_t)c->n * 3 * sizeof(int64_t));
    }
    for (int i = 0; i < g->nvalues; i++)   /* the interpreter copies the inputs too */
        ir_tensor_free(&vals[i]);
    free(vals);
    ir_diag_free(&d);
    return rc;
}

static Lib ints;

static Lib *lib_ints(void)
{
    if (!ints.h)
        lib_open(&ints, INT_JSON, "ints.json", false);
    return &ints;
}

START_TEST(t_valid_data_passes)
{
    /* negative indices within [-5, 0) are legal ONNX Gather indices: no false positive, at a
     * small batch (one thread) and a large one (threads, batch chunks) */
    Lib *L = lib_ints();
    char msg[512];
    int64_t ns[] = {1, 2, 7, 3000};
    for (int t = 1; t <= 4; t *= 4) {
        ck_assert_int_eq(L->info->set_num_threads(L->m, t), 0);
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            IntCall c;
            int_call(&c, ns[k]);
            int rc = L->info->infer(L->m, c.n, c.args);
            ck_assert_msg(rc == 0, "n=%lld: %s", (long long)c.n, L->info->error(L->m));
            ck_assert_int_eq(int_interp(L, &c, msg, sizeof msg), 0);
            int_call_free(&c);
        }
    }
}
END_TEST

START_TEST(t_gather_out_of_range)
{
    Lib *L = lib_ints();
    char msg[512];
    int64_t bad[] = {5, -6, 1000000, INT64_MIN, INT64_MAX};
    for (int t = 1; t <= 4; t *= 4) {
        ck_assert_int_eq(L->info->set_num_threads(L->m, t), 0);
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            for (int64_t n = 1; n <= 3000; n += 2999) {
                IntCall c;
                int_call(&c, n);
                c.idx[n * 3 - 1] = bad[k];   /* the last element: every thread's chunk but one is clean */
                int rc = L->info->infer(L->m, n, c.args);
                expect_error(L, rc, "ints_infer: node \"lookup\" (Gather): an index is out of range for axis 0",
                             "(size 5)");
                /* the interpreter (the oracle) reports the same node */
                ck_assert_int_eq(int_interp(L, &c, msg, sizeof msg), -1);
                ck_assert_msg(strstr(msg, "\"lookup\" (Gather)") && strstr(msg, "out of range"), "%s", msg);
                /* the next call with valid data succeeds: the fault is per call */
                c.idx[n * 3 - 1] = -5;
                ck_assert_int_eq(L->info->infer(L->m, n, c.args), 0);
                int_call_free(&c);
            }
        }
    }
}
END_TEST

START_TEST(t_integer_division_by_zero)
{
    Lib *L = lib_ints();
    char msg[512];
    for (int t = 1; t <= 4; t *= 4) {
        ck_assert_int_eq(L->info->set_num_threads(L->m, t), 0);
        for (int64_t n = 1; n <= 3000; n += 2999) {
            IntCall c;
            int_call(&c, n);
            c.den[n * 3 / 2] = 0;
            int rc = L->info->infer(L->m, n, c.args);
            expect_error(L, rc, "ints_infer: node \"quot\" (Div): integer division by zero", NULL);
            ck_assert_int_eq(int_interp(L, &c, msg, sizeof msg), -1);
            ck_assert_msg(strstr(msg, "\"quot\" (Div): integer division by zero"), "%s", msg);
            int_call_free(&c);
        }
    }
}
END_TEST

START_TEST(t_integer_zero_to_negative_power)
{
    Lib *L = lib_ints();
    char msg[512];
    IntCall c;
    int_call(&c, 4);
    c.ex[3] = -2;   /* base[0] = 0 */
    expect_error(L, L->info->infer(L->m, 4, c.args), "node \"power\" (Pow): integer 0 raised to a negative power",
                 NULL);
    ck_assert_int_eq(int_interp(L, &c, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "\"power\" (Pow)"), "%s", msg);
    c.ex[3] = 2;
    c.ex[4] = -1;   /* base[1] = 2: 2^-1 truncates to 0, no fault */
    ck_assert_int_eq(L->info->infer(L->m, 4, c.args), 0);
    ck_assert_int_eq(int_interp(L, &c, msg, sizeof msg), 0);
    int_call_free(&c);
}
END_TEST

START_TEST(t_first_fault_wins)
{
    /* two faults in one call: the earlier node is named, whatever the threads did */
    Lib *L = lib_ints();
    ck_assert_int_eq(L->info->set_num_threads(L->m, 4), 0);
    IntCall c;
    int_call(&c, 3000);
    c.den[0] = 0;
    c.idx[8999] = 5;
    expect_error(L, L->info->infer(L->m, 3000, c.args), "node \"lookup\" (Gather)", NULL);
    int_call_free(&c);
}
END_TEST

START_TEST(t_check_finite)
{
    Lib plain, checked;
    lib_open(&plain, LOG_JSON, "log.json", false);
    lib_open(&checked, LOG_JSON, "log.json", true);
    float x[8] = {1, 2, 3, 4, 5, 6, 0.5f, 0.25f}, y[8];
    void *args[2] = {x, y};
    ck_assert_int_eq(checked.info->infer(checked.m, 2, args), 0);
    x[5] = 0;   /* log 0 = -inf */
    ck_assert_int_eq(plain.info->infer(plain.m, 2, args), 0);   /* opt-in: no check without the flag */
    ck_assert(isinf(y[5]));
    expect_error(&checked, checked.info->infer(checked.m, 2, args),
                 "logm_infer: output \"y\" (node \"ln\", Log) holds -inf at element 5 (--check-finite)", NULL);
    x[5] = 1;
    x[2] = -1;   /* NaN */
    expect_error(&checked, checked.info->infer(checked.m, 2, args), "holds NaN at element 2", NULL);
    lib_close(&plain);
    lib_close(&checked);
}
END_TEST

/* One training step of EMB_JSON at n = 4 with idx[bad_at] = bad_value (bad_at < 0: none) and
 * scale[0] = s0; returns the status, *changed whether the params moved. */
static int emb_step(Lib *L, int bad_at, int64_t bad_value, float s0, bool *changed)
{
    int64_t idx[8] = {0, 1, 2, 3, 4, 5, -1, -10}, y[4] = {0, 1, 2, 1};
    float scale[32], loss = 0;
    for (int i = 0; i < 32; i++)
        scale[i] = 1.0f;
    scale[0] = s0;
    if (bad_at >= 0)
        idx[bad_at] = bad_value;
    void *args[3] = {idx, scale, y};
    size_t bytes = (size_t)L->info->param_bytes;
    uint8_t *before = malloc(bytes);
    ck_assert_ptr_nonnull(before);
    memcpy(before, srt_model_params(L->info, L->m), bytes);
    int rc = L->info->train_step(L->m, 4, args, &loss);
    *changed = memcmp(before, srt_model_params(L->info, L->m), bytes) != 0;
    free(before);
    return rc;
}

START_TEST(t_train_step_faults)
{
    Lib L;
    lib_open(&L, EMB_JSON, "emb.json", false);
    bool changed;
    ck_assert_int_eq(emb_step(&L, -1, 0, 1.0f, &changed), 0);
    ck_assert(changed);
    /* an index out of range fails the step before the update: params unchanged */
    expect_error(&L, emb_step(&L, 3, 10, 1.0f, &changed), "emb_train_step: node \"lookup\" (Gather)", NULL);
    ck_assert(!changed);
    expect_error(&L, emb_step(&L, 7, -11, 1.0f, &changed), "node \"lookup\" (Gather)", NULL);
    ck_assert(!changed);
    ck_assert_int_eq(emb_step(&L, -1, 0, 1.0f, &changed), 0);
    /* without --check-finite a NaN input trains on (into NaN params) */
    ck_assert_int_eq(emb_step(&L, -1, 0, NAN, &changed), 0);
    lib_close(&L);

    lib_open(&L, EMB_JSON, "emb.json", true);
    ck_assert_int_eq(emb_step(&L, -1, 0, 1.0f, &changed), 0);
    expect_error(&L, emb_step(&L, -1, 0, NAN, &changed), "emb_train_step: loss", "holds NaN at element 0");
    ck_assert(!changed);
    lib_close(&L);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("codegen_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, t_valid_data_passes);
    tcase_add_test(tc, t_gather_out_of_range);
    tcase_add_test(tc, t_integer_division_by_zero);
    tcase_add_test(tc, t_integer_zero_to_negative_power);
    tcase_add_test(tc, t_first_fault_wins);
    tcase_add_test(tc, t_check_finite);
    tcase_add_test(tc, t_train_step_faults);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = tu_run(suite());
    if (ints.h)
        lib_close(&ints);
    return rc;
}
