/* Conformance: the reference interpreter against committed NumPy/PyTorch vectors, one case per
 * directory tests/conformance/<group>/<case>/ (model.json, case.json, *.npy). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "tests/util/testutil.h"

#define MAX_CASES 4096
static char *cases[MAX_CASES];
static int ncases;

static char *read_text(const char *path)
{
    uint8_t *buf;
    size_t len;
    char err[256];
    ck_assert_msg(srt_read_file(path, 1 << 24, &buf, &len, err, sizeof err) == 0, "%s: %s", path, err);
    char *s = realloc(buf, len + 1);
    s[len] = 0;
    return s;
}

static void load_npy(const char *dir, const char *file, SrtTensor *t)
{
    char path[4096], err[256];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ck_assert_msg(srt_npy_read(path, t, err, sizeof err) == 0, "%s: %s", path, err);
}

static bool close_enough(double got, double want, double rtol, double atol)
{
    if (isnan(want))
        return isnan(got);
    if (isinf(want))
        return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

START_TEST(test_case)
{
    const char *dir = cases[_i];
    const char *label = dir + strlen(tu_src("tests/conformance")) + 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/case.json", dir);
    char *text = read_text(path);
    cJSON *c = cJSON_Parse(text);
    ck_assert_msg(c != NULL, "%s: case.json is not valid JSON", label);
    const cJSON *jn = cJSON_GetObjectItemCaseSensitive(c, "n");
    const cJSON *jin = cJSON_GetObjectItemCaseSensitive(c, "inputs");
    const cJSON *jout = cJSON_GetObjectItemCaseSensitive(c, "outputs");
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(c, "rtol");
    const cJSON *ja = cJSON_GetObjectItemCaseSensitive(c, "atol");
    int64_t n = cJSON_IsNumber(jn) ? (int64_t)jn->valuedouble : 1;
    double rtol = cJSON_IsNumber(jr) ? jr->valuedouble : 1e-5;
    double atol = cJSON_IsNumber(ja) ? ja->valuedouble : 1e-6;

    snprintf(path, sizeof path, "%s/model.json", dir);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(path, &d);
    ck_assert_msg(g != NULL, "%s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "load failed");
    ck_assert_int_eq(cJSON_GetArraySize(jin), g->ninputs);
    ck_assert_int_eq(cJSON_GetArraySize(jout), g->noutputs);

    IrTensor *inputs = calloc((size_t)g->ninputs + 1, sizeof *inputs);
    SrtTensor *files = calloc((size_t)g->ninputs + 1, sizeof *files);
    for (int i = 0; i < g->ninputs; i++) {
        load_npy(dir, cJSON_GetArrayItem(jin, i)->valuestring, &files[i]);
        inputs[i].dtype = files[i].dtype;
        inputs[i].rank = files[i].rank;
        inputs[i].numel = 1;
        for (int r = 0; r < files[i].rank; r++) {
            inputs[i].dims[r] = files[i].dims[r];
            inputs[i].numel *= files[i].dims[r];
        }
        inputs[i].data = files[i].data;
    }
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    int rc = ir_interp_eval(g, n, inputs, false, vals, &d);
    ck_assert_msg(rc == 0, "%s: %s", label, ir_diag_first(&d) ? ir_diag_first(&d) : "interp failed");

    for (int o = 0; o < g->noutputs; o++) {
        SrtTensor want;
        load_npy(dir, cJSON_GetArrayItem(jout, o)->valuestring, &want);
        const IrTensor *got = &vals[g->outputs[o]];
        const char *oname = g->values[g->outputs[o]]->name;
        ck_assert_msg(got->dtype == want.dtype, "%s: output %s: dtype %s, expected %s", label, oname,
                      srt_dtype_name(got->dtype), srt_dtype_name(want.dtype));
        ck_assert_msg(got->rank == want.rank, "%s: output %s: rank %d, expected %d", label, oname, got->rank,
                      want.rank);
        for (int r = 0; r < got->rank; r++)
            ck_assert_msg(got->dims[r] == want.dims[r], "%s: output %s: dim %d is %lld, expected %lld", label,
                          oname, r, (long long)got->dims[r], (long long)want.dims[r]);
        IrTensor w = {.dtype = want.dtype, .rank = want.rank, .numel = got->numel, .data = want.data};
        for (int64_t i = 0; i < got->numel; i++) {
            if (ir_dtype_is_float(got->dtype)) {
                double a = ir_tensor_getf(got, i), b = ir_tensor_getf(&w, i);
                ck_assert_msg(close_enough(a, b, rtol, atol), "%s: output %s[%lld] = %.9g, expected %.9g", label,
                              oname, (long long)i, a, b);
            } else {
                int64_t a = ir_tensor_geti(got, i), b = ir_tensor_geti(&w, i);
                ck_assert_msg(a == b, "%s: output %s[%lld] = %lld, expected %lld", label, oname, (long long)i,
                              (long long)a, (long long)b);
            }
        }
        srt_tensor_free(&want);
    }
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    for (int i = 0; i < g->ninputs; i++)
        srt_tensor_free(&files[i]);
    free(vals);
    free(inputs);
    free(files);
    ir_graph_free(g);
    ir_diag_free(&d);
    cJSON_Delete(c);
    free(text);
}
END_TEST

/* Every ONNX op of the v1 set has at least one conformance case (internal training ops are
 * checked by finite differences in test_gradcheck instead). */
START_TEST(test_every_op_covered)
{
    bool seen[IR_OP_COUNT] = {0};
    for (int i = 0; i < ncases; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/model.json", cases[i]);
        char *text = read_text(path);
        cJSON *m = cJSON_Parse(text);
        const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(m, "nodes");
        const cJSON *nd;
        cJSON_ArrayForEach(nd, nodes)
        {
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(nd, "op");
            IrOp k;
            if (cJSON_IsString(op) && ir_op_from_name(op->valuestring, &k))
                seen[k] = true;
        }
        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(m, "training");
        const cJSON *loss = tr ? cJSON_GetObjectItemCaseSensitive(tr, "loss") : NULL;
        const cJSON *lop = loss ? cJSON_GetObjectItemCaseSensitive(loss, "op") : NULL;
        IrOp k;
        if (cJSON_IsString(lop) && ir_op_from_name(lop->valuestring, &k))
            seen[k] = true;
        cJSON_Delete(m);
        free(text);
    }
    char missing[2048] = "";
    for (int k = 0; k < IR_OP_COUNT; k++)
        if (!seen[k] && !(ir_op_info((IrOp)k)->flags & IR_OPF_INTERNAL)) {   /* internal ops: test_gradcheck, test_optim */
            strncat(missing, " ", sizeof missing - strlen(missing) - 1);
            strncat(missing, ir_op_name((IrOp)k), sizeof missing - strlen(missing) - 1);
        }
    ck_assert_msg(missing[0] == 0, "ops without conformance cases:%s", missing);
}
END_TEST

int main(void)
{
    ncases = tu_conformance_cases("case.json", cases, MAX_CASES);
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("cases");
    tcase_set_timeout(tc, 60);
    if (ncases > 0)
        tcase_add_loop_test(tc, test_case, 0, ncases);
    tcase_add_test(tc, test_every_op_covered);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    for (int i = 0; i < ncases; i++)
        free(cases[i]);
    return rc;
}
