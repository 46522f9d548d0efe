/* ONNX import: PyTorch exports against PyTorch's outputs (interpreter and compiled code, at the
 * exported batch and at batch 1), import-to-files against import-in-memory, and the exact
 * diagnostics of bad models (tests/onnx/gen_models.py made the files). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "tests/util/onnxrun.h"
#include "tests/util/testutil.h"

#define TOL 1e-4

static void load_npy(const char *path, SrtTensor *t)
{
    char err[512];
    ck_assert_msg(srt_npy_read(path, t, err, sizeof err) == SINTER_OK, "%s: %s", path, err);
}

/* Runs the model on inputs (in) through the interpreter and the JIT and compares with want. */
static void check_outputs(const char *label, const IrGraph *g, CgJit *jit, const SrtTensor *in, const SrtTensor *want)
{
    char err[512];
    int64_t n = tu_onnx_batch(g, in, err, sizeof err);
    ck_assert_msg(n > 0, "%s: %s", label, err);
    IrTensor out;
    for (int pass = 0; pass < 2; pass++) {
        const char *how = pass ? "compiled" : "interpreter";
        int rc = pass ? tu_onnx_jit(g, jit, n, in, &out, err, sizeof err) : tu_onnx_interp(g, n, in, &out, err, sizeof err);
        ck_assert_msg(rc == 0, "%s (%s, n=%lld): %s", label, how, (long long)n, err);
        double max_err;
        bool ok = tu_onnx_compare("y", &out, want, TOL, TOL, &max_err, err, sizeof err);
        ck_assert_msg(ok, "%s (%s, n=%lld): %s", label, how, (long long)n, err);
        ir_tensor_free(&out);
    }
}

/* The first sample of a batch (dim 0 cut to 1). */
static SrtTensor first_sample(const SrtTensor *t)
{
    SrtTensor s = *t;
    s.dims[0] = 1;
    s.nbytes = t->nbytes / (size_t)t->dims[0];
    return s;
}

static const char *const EXPORTS[] = {"mlp", "lenet5", "resnet_bn", "encoder", "encoder_op13"};

START_TEST(test_export)
{
    const char *name = EXPORTS[_i];
    char path[600], label[64];
    snprintf(path, sizeof path, "%s", tu_src("tests/onnx/exports/"));
    size_t l = strlen(path);
    snprintf(path + l, sizeof path - l, "%s.onnx", name);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_onnx(path, NULL, &d);
    ck_assert_msg(g != NULL, "%s: %s", name, ir_diag_first(&d));
    /* the batch is symbolic: the input's dim 0 is N */
    ck_assert_int_eq(g->values[g->inputs[0]]->shape.d[0].a, 1);
    SrtTensor x, y;
    snprintf(path + l, sizeof path - l, "%s.x.npy", name);
    load_npy(path, &x);
    snprintf(path + l, sizeof path - l, "%s.y.npy", name);
    load_npy(path, &y);
    char err[512];
    CgJit *jit = NULL;
    ck_assert_msg(tu_onnx_compile(g, &jit, err, sizeof err) == 0, "%s: %s", name, err);
    snprintf(label, sizeof label, "%s", name);
    check_outputs(label, g, jit, &x, &y);
    SrtTensor x1 = first_sample(&x), y1 = first_sample(&y);
    snprintf(label, sizeof label, "%s, first sample", name);
    check_outputs(label, g, jit, &x1, &y1);
    cg_jit_free(jit);
    srt_tensor_free(&x);
    srt_tensor_free(&y);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

static char *print_graph(const IrGraph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    IrPrintOptions opt = {.show_data = true};
    ir_print_text(g, f, &opt);
    fclose(f);
    return buf;
}

/* The files `sinter import` writes load to the graph the in-memory import gives. */
START_TEST(test_files_match_memory)
{
    const char *src = tu_src("tests/onnx/exports/resnet_bn.onnx");
    const char *dir = tu_tmpdir();
    char json[600], wpath[600], err[512];
    snprintf(json, sizeof json, "%s/resnet_bn.json", dir);
    snprintf(wpath, sizeof wpath, "%s/resnet_bn.safetensors", dir);
    IrDiag d;
    ir_diag_init(&d, NULL);
    FeOnnxOptions o = {.weights = "resnet_bn.safetensors"};
    FeOnnxModel m;
    ck_assert_msg(fe_onnx_import(src, &o, &m, &d) == 0, "%s", ir_diag_first(&d));
    ck_assert_int_eq(srt_safetensors_write(wpath, m.weights.tensors, m.weights.count, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_write_file_atomic(json, m.json, m.json_len, err, sizeof err), SINTER_OK);
    fe_onnx_model_free(&m);
    IrGraph *a = fe_load_model(json, &d), *b = fe_load_onnx(src, NULL, &d);
    ck_assert_msg(a && b, "%s", ir_diag_first(&d));
    char *ta = print_graph(a), *tb = print_graph(b);
    /* the same but for the file a names ("weights" line 2; b's weights are in memory) */
    char *wl = strstr(ta, "\nweights \""), *end = wl ? strchr(wl + 1, '\n') : NULL;
    ck_assert_msg(wl && end && strstr(wl, "resnet_bn.safetensors\"\n") == end - 22, "%s", ta);
    memmove(wl, end, strlen(end) + 1);
    ck_assert_str_eq(ta, tb);
    /* BatchNormalization's running statistics are frozen params */
    int frozen = 0;
    for (int i = 0; i < a->nvalues; i++)
        frozen += a->values[i]->role == IR_ROLE_PARAM && !a->values[i]->trainable;
    ck_assert_int_eq(frozen, 5 * 2);
    free(ta);
    free(tb);
    ir_graph_free(a);
    ir_graph_free(b);
    ir_diag_free(&d);
}
END_TEST

/* ---- bad models: the one-line message after "PATH: " ---- */

static void expect_error(const char *path, const FeOnnxOptions *o, const char *want)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_onnx(path, o, &d);
    ck_assert_msg(g == NULL, "%s loaded", path);
    ck_assert_int_eq(d.count, 1);
    const char *msg = ir_diag_first(&d);
    size_t pl = strlen(path);
    ck_assert_msg(!strncmp(msg, path, pl) && !strncmp(msg + pl, ": ", 2), "%s: message %s", path, msg);
    ck_assert_str_eq(msg + pl + 2, want);
    ir_diag_free(&d);
}

static const struct {
    const char *file, *msg;
} BAD[] = {
    {"unsupported.onnx", "unsupported ops (opset 17): Hardmax (nodes \"hm1\", \"hm2\"), com.example.FusedThing (node \"ft\")"},
    {"loop.onnx", "node 0 \"loop1\" (Loop): control flow is not supported (sinter compiles graphs without Loop)"},
    {"bad_init.onnx", "initializer \"w\": raw_data has 12 bytes but float of this shape needs 16"},
    {"opset22.onnx", "opset_import: opset 22 is not supported (sinter imports opsets 1 to 21)"},
    {"relu_opset5.onnx", "unsupported op (opset 5): Relu (node \"r\")"},
    {"two_syms.onnx", "graph.input: the inputs have several symbolic dims (\"batch\", \"seq\") but sinter has one, "
                      "the batch N: name it with --batch-dim"},
};

START_TEST(test_bad)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", tu_src("tests/onnx/bad"), BAD[_i].file);
    expect_error(path, NULL, BAD[_i].msg);
}
END_TEST

START_TEST(test_bad_files)
{
    const char *dir = tu_tmpdir();
    char path[600], ext[600], err[512];
    uint8_t *buf;
    size_t len;
    /* truncated */
    ck_assert_int_eq(srt_read_file(tu_src("tests/onnx/exports/mlp.onnx"), 1 << 24, &buf, &len, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/truncated.onnx", dir);
    ck_assert_int_eq(srt_write_file_atomic(path, buf, len / 2, err, sizeof err), 0);
    free(buf);
    expect_error(path, NULL, "not an ONNX model (the protobuf ModelProto does not parse: truncated or another format)");
    /* not ONNX at all */
    expect_error(tu_src("examples/lenet5.json"), NULL,
                 "not an ONNX model (the protobuf ModelProto does not parse: truncated or another format)");
    snprintf(path, sizeof path, "%s/empty.onnx", dir);
    ck_assert_int_eq(srt_write_file_atomic(path, "", 0, err, sizeof err), 0);
    expect_error(path, NULL, "empty file: not an ONNX model");
    /* external data: missing, and present (offset 8, length 16) */
    snprintf(path, sizeof path, "%s/ext_missing.onnx", tu_src("tests/onnx/bad"));
    snprintf(ext, sizeof ext, "initializer \"w\": external data file %s/missing.bin: cannot open", tu_src("tests/onnx/bad"));
    expect_error(path, NULL, ext);
    IrDiag d;
    ir_diag_init(&d, NULL);
    snprintf(path, sizeof path, "%s/ext_ok.onnx", tu_src("tests/onnx/bad"));
    IrGraph *g = fe_load_onnx(path, NULL, &d);
    ck_assert_msg(g != NULL, "%s", ir_diag_first(&d));
    int w = ir_value_find(g, "w");
    ck_assert_int_ge(w, 0);
    const float *v = g->values[w]->data;
    ck_assert(v[0] == 1 && v[1] == 2 && v[2] == 3 && v[3] == 4);
    ir_graph_free(g);
    /* --batch-dim naming a symbol, and a symbol left over */
    snprintf(path, sizeof path, "%s/two_syms.onnx", tu_src("tests/onnx/bad"));
    FeOnnxOptions o = {.batch_dim = "batch"};
    expect_error(path, &o, "input \"x\": dim 1 is the symbol \"seq\"; only one symbolic dim, the batch \"batch\", is "
                           "supported");
    ir_diag_free(&d);
}
END_TEST

/* FeOnnxOptions.bind: a graph input given a value is a constant; a value for no input, or of
 * another type, is an error naming the input. */
START_TEST(test_bind)
{
    char path[600];
    snprintf(path, sizeof path, "%s", tu_src("tests/fuzz/corpus/onnx/gemm.onnx"));
    float xv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    int64_t iv[2] = {1, 2};
    SrtTensor x = {.name = "x", .dtype = SRT_F32, .rank = 2, .dims = {2, 4}, .nbytes = sizeof xv, .data = xv};
    FeOnnxOptions o = {.bind = &x, .nbind = 1};
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_onnx(path, &o, &d);
    ck_assert_msg(g != NULL, "%s", ir_diag_first(&d));
    ck_assert_int_eq(g->ninputs, 0);
    int id = ir_value_find(g, "x");
    ck_assert_int_ge(id, 0);
    ck_assert_int_eq(g->values[id]->role, IR_ROLE_CONST);
    ck_assert(((const float *)g->values[id]->data)[7] == 8);
    ir_graph_free(g);
    ir_diag_free(&d);
    SrtTensor wrong = {.name = "x", .dtype = SRT_I64, .rank = 1, .dims = {2}, .nbytes = sizeof iv, .data = iv};
    o.bind = &wrong;
    expect_error(path, &o, "input \"x\": the value given for it (int64, rank 1) does not match its declared type");
    SrtTensor none = x;
    none.name = "nope";
    o.bind = &none;
    expect_error(path, &o, "input \"nope\": a value is given for it but the graph has no such input");
}
END_TEST

static Suite *onnx_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *t = tcase_create("exports");
    tcase_set_timeout(t, 120);
    tcase_add_loop_test(t, test_export, 0, (int)(sizeof EXPORTS / sizeof EXPORTS[0]));
    tcase_add_test(t, test_files_match_memory);
    suite_add_tcase(s, t);
    t = tcase_create("bad");
    tcase_add_loop_test(t, test_bad, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(t, test_bad_files);
    tcase_add_test(t, test_bind);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run(onnx_suite());
}
