/* Malformed models: each tests/bad_models/NAME.json must fail with exactly the lines of NAME.expected. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "tests/util/testutil.h"

#define MAX_CASES 1024

static char *case_names[MAX_CASES]; /* "NAME" of every NAME.json, sorted */
static int ncases;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_cases(void)
{
    DIR *dir = opendir(tu_src("tests/bad_models"));
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) && ncases < MAX_CASES) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
            case_names[ncases] = malloc(len - 4);
            memcpy(case_names[ncases], e->d_name, len - 5);
            case_names[ncases][len - 5] = 0;
            ncases++;
        }
    }
    closedir(dir);
    qsort(case_names, (size_t)ncases, sizeof case_names[0], cmp_str);
}

/* Whole file as a NUL-terminated string (NULL if missing). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Expected line with @DIR@ replaced by the cases' folder. */
static char *expand(const char *line, const char *dir)
{
    size_t cap = strlen(line) + 1;
    for (const char *p = strstr(line, "@DIR@"); p; p = strstr(p + 5, "@DIR@"))
        cap += strlen(dir);
    char *out = malloc(cap), *o = out;
    ck_assert_ptr_nonnull(out);
    for (const char *p = line; *p;) {
        if (!strncmp(p, "@DIR@", 5)) {
            strcpy(o, dir);
            o += strlen(dir);
            p += 5;
        } else {
            *o++ = *p++;
        }
    }
    *o = 0;
    return out;
}

/* Each case: the model is rejected with exactly the expected diagnostics, in order. */
START_TEST(test_bad_model)
{
    const char *name = case_names[_i];
    char rel[512], label[512];
    const char *dir = tu_src("tests/bad_models");
    snprintf(rel, sizeof rel, "tests/bad_models/%s.json", name);
    snprintf(label, sizeof label, "%s.json", name);
    size_t len;
    char *text = slurp(tu_src(rel), &len);
    ck_assert_msg(text != NULL, "cannot read %s", rel);
    snprintf(rel, sizeof rel, "tests/bad_models/%s.expected", name);
    char *want = slurp(tu_src(rel), NULL);
    ck_assert_msg(want != NULL, "%s.json has no %s.expected", name, name);

    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(text, len, label, dir, &d);
    ck_assert_msg(g == NULL, "%s: the model was accepted", name);

    int line = 0;
    for (char *save = NULL, *l = strtok_r(want, "\n", &save); l; l = strtok_r(NULL, "\n", &save), line++) {
        char *exp = expand(l, dir);
        ck_assert_msg(line < d.count, "%s: missing diagnostic %d: %s", name, line + 1, exp);
        ck_assert_msg(!strcmp(d.msgs[line], exp), "%s: diagnostic %d\n  got:  %s\n  want: %s", name, line + 1,
                      d.msgs[line], exp);
        free(exp);
    }
    ck_assert_msg(line == d.count, "%s: %d extra diagnostic(s), first: %s", name, d.count - line,
                  d.count > line ? d.msgs[line] : "");
    ir_diag_free(&d);
    free(text);
    free(want);
}
END_TEST

/* The corpus is there, large, and every .expected belongs to a .json. */
START_TEST(test_corpus_complete)
{
    ck_assert_int_ge(ncases, 40);
    DIR *dir = opendir(tu_src("tests/bad_models"));
    ck_assert_ptr_nonnull(dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len > 9 && !strcmp(e->d_name + len - 9, ".expected")) {
            char base[256];
            snprintf(base, sizeof base, "%.*s", (int)(len - 9), e->d_name);
            bool found = false;
            for (int i = 0; i < ncases && !found; i++)
                found = !strcmp(case_names[i], base);
            ck_assert_msg(found, "%s has no .json", e->d_name);
        }
    }
    closedir(dir);
}
END_TEST

/* fe_load_model prefixes messages with the path as given and resolves weights next to the model. */
START_TEST(test_load_prefix)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    const char *path = tu_src("tests/bad_models/weights_shape_mismatch.json");
    IrGraph *g = fe_load_model(path, &d);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(d.count, 1);
    char want[2048];
    snprintf(want, sizeof want, "%s: weights: %s: tensor \"w\" has shape [3, 2] but params[0] \"w\" has shape [2, 3]",
             path, tu_src("tests/bad_models/w_shape.safetensors"));
    ck_assert_str_eq(d.msgs[0], want);
    ir_diag_free(&d);
}
END_TEST

/* A file that does not exist: one line naming it. */
START_TEST(test_load_missing_file)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_ptr_null(fe_load_model("/nonexistent/model.json", &d));
    ck_assert_int_eq(d.count, 1);
    ck_assert_str_eq(d.msgs[0], "/nonexistent/model.json: cannot open: No such file or directory");
    ck_assert_ptr_null(d.file);
    ir_diag_free(&d);
}
END_TEST

/* Errors stop after 50 with a last line saying so. */
START_TEST(test_too_many_errors)
{
    char *text = malloc(100000);
    ck_assert_ptr_nonnull(text);
    size_t o = (size_t)sprintf(text, "{\"sinter\": 1, \"name\": \"m\", \"outputs\": [\"y\"], \"inputs\": [");
    for (int i = 0; i < 80; i++)
        o += (size_t)sprintf(text + o, "%s{\"name\": \"x%d\", \"dtype\": \"f32\", \"shape\": [1]}", i ? ", " : "", i);
    sprintf(text + o, "]}");
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_ptr_null(fe_parse_model(text, strlen(text), "m.json", NULL, &d));
    ck_assert_int_eq(d.count, 51);
    ck_assert_str_eq(d.msgs[0], "m.json: inputs[0].dtype: unknown dtype \"f32\" (dtypes: float32, float64, int64, "
                                "int32, int8, uint8, bool)");
    ck_assert_str_eq(d.msgs[50], "m.json: too many errors (50); stopping");
    ir_diag_free(&d);
    free(text);
}
END_TEST

/* Without a diag sink the parse still fails cleanly; the caller's file prefix is restored. */
START_TEST(test_null_diag_and_prefix_restore)
{
    const char *bad = "{\"sinter\": 1}";
    ck_assert_ptr_null(fe_parse_model(bad, strlen(bad), "x.json", NULL, NULL));
    IrDiag d;
    ir_diag_init(&d, "caller.json");
    ck_assert_ptr_null(fe_parse_model(bad, strlen(bad), NULL, NULL, &d));
    ck_assert_str_eq(d.msgs[0], "caller.json: missing key \"name\" (a C identifier that prefixes the generated "
                                "library's symbols)");
    ck_assert_ptr_null(fe_parse_model(bad, strlen(bad), "other.json", NULL, &d));
    ck_assert_str_eq(d.file, "caller.json");
    ck_assert_int_eq(d.count, 4);
    ck_assert_str_eq(d.msgs[1], "caller.json: missing key \"outputs\" (list the tensors the model returns)");
    ck_assert_str_eq(d.msgs[2], "other.json: missing key \"name\" (a C identifier that prefixes the generated "
                                "library's symbols)");
    ir_diag_free(&d);
}
END_TEST

/* Size limits of FeOptions: data over the budget and too many nodes are rejected, not allocated. */
START_TEST(test_limits)
{
    const char *big = "{\"sinter\": 1, \"name\": \"m\", \"inputs\": [], \"outputs\": [\"w\"],"
                      " \"params\": [{\"name\": \"w\", \"dtype\": \"float64\", \"shape\": [1000, 1000],"
                      " \"init\": {\"kind\": \"zeros\"}}]}";
    FeOptions opt = {.max_data_bytes = 1 << 20, .max_nodes = 2};
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_ptr_null(fe_parse_model_opts(big, strlen(big), "m.json", NULL, &opt, &d));
    ck_assert_int_eq(d.count, 1);
    ck_assert_str_eq(d.msgs[0], "m.json: params[0]: the tensor needs 8000000 bytes, more than the limit of 1048576 "
                                "bytes for model data");
    ir_diag_free(&d);
    const char *many = "{\"sinter\": 1, \"name\": \"m\", \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\","
                       " \"shape\": [1]}], \"outputs\": [\"c\"], \"nodes\": ["
                       "{\"op\": \"Relu\", \"inputs\": [\"x\"], \"outputs\": [\"a\"]},"
                       "{\"op\": \"Relu\", \"inputs\": [\"a\"], \"outputs\": [\"b\"]},"
                       "{\"op\": \"Relu\", \"inputs\": [\"b\"], \"outputs\": [\"c\"]}]}";
    ir_diag_init(&d, NULL);
    ck_assert_ptr_null(fe_parse_model_opts(many, strlen(many), "m.json", NULL, &opt, &d));
    ck_assert_int_eq(d.count, 1);
    ck_assert_str_eq(d.msgs[0], "m.json: nodes: 3 nodes exceed the limit of 2");
    ir_diag_free(&d);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("frontend_errors");
    TCase *tc = tcase_create("bad_models");
    tcase_add_loop_test(tc, test_bad_model, 0, ncases);
    tcase_add_test(tc, test_corpus_complete);
    tcase_add_test(tc, test_load_prefix);
    tcase_add_test(tc, test_load_missing_file);
    tcase_add_test(tc, test_too_many_errors);
    tcase_add_test(tc, test_null_diag_and_prefix_restore);
    tcase_add_test(tc, test_limits);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    find_cases();
    int rc = tu_run(suite());
    for (int i = 0; i < ncases; i++)
        free(case_names[i]);
    return rc;
}
