/* Tests of the .sir text IR: print -> parse -> print identity for every example, golden and
 * conformance model at every stage of both pipelines, data kept exactly, and parse errors. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

static char *print_text(const IrGraph *g, bool show_data)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    IrPrintOptions opt = {.show_data = show_data};
    ir_print_text(g, f, &opt);
    fclose(f);
    return text;
}

/* Values with data hold the same bytes in both graphs (matched by name). */
static void same_data(const IrGraph *a, const IrGraph *b, const char *what)
{
    for (int id = 0; id < a->nvalues; id++) {
        const IrValue *v = a->values[id];
        if (!v->data || v->role == IR_ROLE_ACT)
            continue;
        int j = ir_value_find(b, v->name);
        ck_assert_msg(j >= 0 && b->values[j]->data, "%s: %s lost its data", what, v->name);
        IrDim n;
        ck_assert(ir_shape_numel(&v->shape, &n) && n.a == 0);
        ck_assert_msg(!memcmp(v->data, b->values[j]->data, (size_t)n.b * srt_dtype_size(v->dtype)),
                      "%s: %s has other data after the round trip", what, v->name);
    }
}

/* print -> parse -> print is the identity (with and without --show-data). */
static void check_roundtrip(const IrGraph *g, const char *what)
{
    for (int full = 0; full < 2; full++) {
        char *t1 = print_text(g, full);
        IrDiag d;
        ir_diag_init(&d, "roundtrip.sir");
        IrGraph *g2 = fe_parse_sir(t1, strlen(t1), NULL, g->model_dir, NULL, &d);
        ck_assert_msg(g2, "%s: the dump does not parse: %s\n--- dump ---\n%s", what, ir_diag_first(&d), t1);
        char *t2 = print_text(g2, full);
        if (strcmp(t1, t2) != 0)
            ck_abort_msg("%s: print -> parse -> print differs\n--- first ---\n%s--- second ---\n%s", what, t1, t2);
        same_data(g, g2, what);
        ck_assert_int_eq(g2->nnodes, g->nnodes);
        for (int i = 0; i < g->nnodes; i++)
            ck_assert_int_eq(g2->nodes[i]->group, g->nodes[i]->group);
        ck_assert_int_eq(!!g2->training, !!g->training);
        if (g->training)
            ck_assert_int_eq(g2->training->has_backward, g->training->has_backward);
        ir_graph_free(g2);
        ir_diag_free(&d);
        free(t1);
        free(t2);
    }
}

/* The round trip as loaded and after every prefix of the named pipeline. */
static void check_pipeline(const IrGraph *g, const char *pipeline, const char *what)
{
    const char *const *names;
    int n = pass_pipeline(pipeline, &names);
    ck_assert_int_gt(n, 0);
    for (int k = 1; k <= n; k++) {
        IrGraph *c = ir_graph_clone(g);
        IrDiag d;
        ir_diag_init(&d, what);
        PassContext ctx;
        pass_context_init(&ctx, &d);
        ctx.verify = true;
        ctx.pipeline = names;
        ctx.npipeline = k;
        ck_assert_msg(pass_run_pipeline(c, &ctx) == 0, "%s: %s", what, ir_diag_first(&d));
        char stage[512];
        snprintf(stage, sizeof stage, "%s, %s pipeline after %d passes (%s)", what, pipeline, k, names[k - 1]);
        check_roundtrip(c, stage);
        ir_diag_free(&d);
        ir_graph_free(c);
    }
}

static void check_model(const char *path)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(path, &d);
    ck_assert_msg(g, "%s: %s", path, ir_diag_first(&d));
    check_roundtrip(g, path);
    check_pipeline(g, "inference", path);
    if (g->training)
        check_pipeline(g, "training", path);
    ir_graph_free(g);
    ir_diag_free(&d);
}

#define MAX_MODELS 64
static char models[MAX_MODELS][512];
static int nmodels;

static void scan(const char *rel)
{
    DIR *dir = opendir(tu_src(rel));
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json") && nmodels < MAX_MODELS)
            snprintf(models[nmodels++], sizeof models[0], "%s/%s", tu_src(rel), e->d_name);
    }
    closedir(dir);
}

START_TEST(roundtrip_models)
{
    check_model(models[_i]);
}
END_TEST

/* Every conformance model (all ops and their attributes), as loaded and through the pipeline. */
START_TEST(roundtrip_conformance)
{
    char *cases[1024];
    int n = tu_conformance_cases("model.json", cases, 1024);
    ck_assert_int_gt(n, 100);
    for (int i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/model.json", cases[i]);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrGraph *g = fe_load_model(path, &d);
        ck_assert_msg(g, "%s: %s", path, ir_diag_first(&d));
        check_roundtrip(g, path);
        IrGraph *c = ir_graph_clone(g);
        PassContext ctx;
        pass_context_init(&ctx, &d);
        ctx.verify = true;
        ck_assert_msg(pass_run_pipeline(c, &ctx) == 0, "%s: %s", path, ir_diag_first(&d));
        check_roundtrip(c, path);
        ir_graph_free(c);
        ir_graph_free(g);
        ir_diag_free(&d);
        free(cases[i]);
    }
}
END_TEST

/* A .sir file loads through fe_load_model like a model, and dumps identically. */
START_TEST(load_sir_file)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src("examples/fmnist_mlp.json"), &d);
    ck_assert_ptr_nonnull(g);
    IrGraph *tg = tu_training_graph(g);
    char *t1 = print_text(tg, false);
    char path[512];
    snprintf(path, sizeof path, "%s/mlp.sir", tu_tmpdir());
    tu_write_text(path, t1);
    IrGraph *g2 = fe_load_model(path, &d);
    ck_assert_msg(g2, "%s", ir_diag_first(&d));
    char *t2 = print_text(g2, false);
    ck_assert_str_eq(t1, t2);
    ck_assert(g2->training && g2->training->has_backward);
    ck_assert_int_eq(g2->training->nupdates, tg->training->nupdates);
    free(t1);
    free(t2);
    ir_graph_free(g2);
    ir_graph_free(tg);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

/* ---- errors: one line naming the place ---------------------------------------------------- */

static const struct {
    const char *text;
    const char *error;     /* expected first diagnostic */
} BAD[] = {
    {"", "t.sir: empty: a .sir file starts with \"model NAME (seed S)\""},
    {"input %x : f32[N]\n", "t.sir: 1:1: expected \"model NAME (seed S)\" first"},
    {"model 1m (seed 0)\n", "t.sir: 1:7: expected the model name (a C identifier), got \"1m\""},
    {"model m (seed 0)\nmodel m (seed 0)\n", "t.sir: 2:6: a second \"model\" line"},
    {"model m (seed 0)\ninput %x : f33[N]\n", "t.sir: 2:12: unknown dtype \"f33[N]\""},
    {"model m (seed 0)\ninput %x : f32[N,N]\n", "t.sir: 2:20: an input's dims are constants or one N"},
    {"model m (seed 0)\ninput %x : f32[N]\ninput %x : f32[N]\n", "t.sir: 3:7: \"x\" is already defined (line 2)"},
    {"model m (seed 0)\ninput %x : f32[N]\n%y = Relu(%z) : f32[N]\n",
     "t.sir: 3:11: unknown value \"z\" (values are declared before their uses)"},
    {"model m (seed 0)\ninput %x : f32[N]\n%y = Rleu(%x) : f32[N]\n", "t.sir: 3:6: unknown op \"Rleu\""},
    {"model m (seed 0)\ninput %x : f32[N]\n%y = Relu(%x, %x) : f32[N]\n", "Relu takes 1 to 1 inputs, got 2"},
    {"model m (seed 0)\ninput %x : f32[N]\n%y = Relu(%x) : f32[N,2]\noutput %y\n",
     "t.sir: line 3: %y is written f32[N,2] but Relu gives f32[N]"},
    {"model m (seed 0)\ninput %x : f32[N,4]\n%y = Softmax(%x) {axes=1} : f32[N,4]\n",
     "unknown attribute \"axes\" for Softmax"},
    {"model m (seed 0)\ninput %x : f32[N,4]\n%y = Softmax(%x) {axis=\"a\"} : f32[N,4]\n",
     "t.sir: 3:24: expected an integer, got \"\"a\"}\""},
    {"model m (seed 0)\nconst %c : i8[2] = [1, 300]\n", "t.sir: 2:24: 300 is out of range for i8"},
    {"model m (seed 0)\nconst %c : f32[3] = [1, 2]\n", "t.sir: 2:27: 2 values for a type of 3"},
    {"model m (seed 0)\nconst %c : f32[20] = <20 values, min 0 max 1>\n",
     "t.sir: line 2: %c has a summary <...> of its data but no \"data %c = [...]\" line"},
    {"model m (seed 0)\nparam %w : f32[2]\n", "the param has no data"},
    {"model m (seed 0)\nparam %w : f32[2] init kaiming_uniform a=1\n", "t.sir: 2:23: init: kaiming_uniform needs a param of rank 2"},
    {"model m (seed 0)\nparam %w : f32[2] from weights\n", "\"from weights\" but no \"weights\" line"},
    {"model m (seed 0)\nconst %c : f32[] = \"x\n", "expected a number"},
    {"model m (seed 0)\ninput %\"x : f32[N]\n", "t.sir: 2:8: unterminated string"},
    {"model m (seed 0)\ninput %x : f32[N] extra\n", "t.sir: 2:19: unexpected \"extra\""},
    {"model m (seed 0)\ninput %x : i64[N]\ntraining input %y : i64[N]\n",
     "t.sir: the training section has no \"training loss\" line"},
    {"model m (seed 0)\nbogus\n", "t.sir: 2:1: expected a declaration"},
    {"model m (seed 0)\nconst %c : f32[] = 1\ndata %c = [1]\n",
     "t.sir: 3:6: c was not declared with a summary <...> of its data"},
    /* quantization and sparsity records: the model JSON's checks, placed on the line */
    {"model m (seed 0)\nparam %w : f32[2] quant{bits=3, axis=-1, scale=[1]} = [1, 2]\n",
     "t.sir: 2:19.quant.bits: expected 8 or 4, got 3"},
    {"model m (seed 0)\nparam %w : f32[2] quant{bits=8, axis=-1, scale=[1]} = [1, 2.5]\n",
     "t.sir: line 2 \"w\": element 1 is 2.5, which is not on its quantization grid"},
    {"model m (seed 0)\nparam %w : f32[2] sparse{format=\"csr\", block=[1, 1], nnz=2} = [0, 2]\n",
     "t.sir: line 2 \"w\": sparsity record says 2 non-zeros, the data has 1"},
    {"model m (seed 0)\nparam %w : f32[2] quant{bits=8 axis=-1} = [1, 2]\n", "t.sir: 2:32: expected '}', got \"axis=-1}\""},
    {"model m (seed 0)\nparam %w : f32[2] quant{bogus=1} = [1, 2]\n", "t.sir: 2:19.quant: unknown key \"bogus\""},
};

START_TEST(parse_errors)
{
    const char *text = BAD[_i].text;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_sir(text, strlen(text), "t.sir", NULL, NULL, &d);
    ck_assert_msg(!g, "case %d parsed", _i);
    const char *first = ir_diag_first(&d);
    ck_assert_ptr_nonnull(first);
    ck_assert_msg(strstr(first, BAD[_i].error), "case %d: got \"%s\", want \"%s\"", _i, first, BAD[_i].error);
    ck_assert_ptr_null(strchr(first, '\n'));
    ir_diag_free(&d);
}
END_TEST

/* Hand-written text: comments, quoted names, absent inputs, defaults for omitted types' syms. */
START_TEST(parse_handwritten)
{
    const char *text = "; a comment\n"
                       "// another\n"
                       "model hand (seed 7)\n"
                       "input %\"in/x\" : f32[N,3]\n"
                       "const %s : f32[3] = [1, 2, 3]\n"
                       "%\"a b\" = Mul(%\"in/x\", %s) : ?    # \" odd name \"\n"
                       "%y = Relu(%\"a b\") : f32[N,3] group=0    # relu\n"
                       "output %y\n";
    IrDiag d;
    ir_diag_init(&d, "hand.sir");
    IrGraph *g = fe_parse_sir(text, strlen(text), NULL, NULL, NULL, &d);
    ck_assert_msg(g, "%s", ir_diag_first(&d));
    ck_assert_int_eq(g->seed, 7);
    ck_assert_int_eq(g->nnodes, 2);
    ck_assert_str_eq(g->nodes[0]->name, " odd name ");
    ck_assert_int_eq(g->nodes[1]->group, 0);
    ck_assert_int_eq(g->nodes[0]->group, -1);
    char *t = print_text(g, false);
    ck_assert_str_eq(t, "model hand (seed 7)\n"
                        "input %\"in/x\" : f32[N,3]\n"
                        "const %s : f32[3] = [1, 2, 3]\n"
                        "%\"a b\" = Mul(%\"in/x\", %s) : f32[N,3]    # \" odd name \"\n"
                        "%y = Relu(%\"a b\") : f32[N,3] group=0    # relu\n"
                        "output %y\n");
    free(t);
    ir_graph_free(g);
    ir_diag_free(&d);
}
END_TEST

int main(void)
{
    scan("tests/golden");
    scan("examples");
    Suite *s = suite_create("sir");
    TCase *tc = tcase_create("sir");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, roundtrip_models, 0, nmodels);
    tcase_add_test(tc, roundtrip_conformance);
    tcase_add_test(tc, load_sir_file);
    tcase_add_loop_test(tc, parse_errors, 0, (int)(sizeof BAD / sizeof BAD[0]));
    tcase_add_test(tc, parse_handwritten);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
