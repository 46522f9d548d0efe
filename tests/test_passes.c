/* Tests of the pass registry, the pipeline runner and the passes (IR-API graphs and golden files). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tests/util/testutil.h"

/* ---- building graphs ------------------------------------------------------------------- */

/* "N,784" -> [N,784]; "" is a scalar. */
static IrShape S(const char *spec)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    const char *p = spec;
    while (*p) {
        ck_assert_int_lt(s.rank, IR_MAX_RANK);
        if (*p == 'N') {
            s.d[s.rank++] = ir_dim_n();
            p++;
        } else {
            char *end;
            s.d[s.rank++] = ir_dim_const(strtoll(p, &end, 10));
            p = end;
        }
        if (*p == ',')
            p++;
    }
    return s;
}

static int input(IrGraph *g, const char *name, IrDtype t, const char *shape)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_INPUT);
    ck_assert_int_ge(id, 0);
    return id;
}

/* An untyped activation (shape_infer types it) or, with shape, a typed one. */
static int act(IrGraph *g, const char *name)
{
    int id = ir_value_new(g, name, SRT_F32, NULL, IR_ROLE_ACT);
    ck_assert_int_ge(id, 0);
    return id;
}

static int typed_act(IrGraph *g, const char *name, IrDtype t, const char *shape)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, IR_ROLE_ACT);
    ck_assert_int_ge(id, 0);
    return id;
}

/* A param or constant holding the given values (converted to its dtype). */
static int data_val(IrGraph *g, const char *name, IrDtype t, const char *shape, IrRole role, int count,
                    const double *values)
{
    IrShape s = S(shape);
    int id = ir_value_new(g, name, t, &s, role);
    ck_assert_int_ge(id, 0);
    IrValue *v = ir_val(g, id);
    IrDim cnt;
    ck_assert(ir_shape_numel(&v->shape, &cnt) && cnt.a == 0 && cnt.b == count);
    v->data = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * srt_dtype_size(t));
    IrTensor tt = {.dtype = t, .numel = count, .data = v->data};
    for (int i = 0; i < count; i++)
        ir_tensor_setf(&tt, i, values[i]);
    return id;
}

#define CONST(g, name, t, shape, ...)                                                                          \
    data_val(g, name, t, shape, IR_ROLE_CONST, (int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)),      \
             (double[]){__VA_ARGS__})
#define PARAM(g, name, t, shape, ...)                                                                          \
    data_val(g, name, t, shape, IR_ROLE_PARAM, (int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)),      \
             (double[]){__VA_ARGS__})

static IrNode *node(IrGraph *g, IrOp op, const char *name, int nin, const int *in, int nout, const int *out)
{
    return ir_node(g, ir_node_new(g, op, name, nin, in, nout, out));
}

#define N1(g, op, x, y) node(g, op, "", 1, (int[]){x}, 1, (int[]){y})
#define N2(g, op, x1, x2, y) node(g, op, "", 2, (int[]){x1, x2}, 1, (int[]){y})

static void set_io(IrGraph *g, int nin, const int *in, int nout, const int *out)
{
    g->ninputs = nin;
    g->inputs = ir_arena_memdup(g->arena, in, (size_t)(nin ? nin : 1) * sizeof(int));
    g->noutputs = nout;
    g->outputs = ir_arena_memdup(g->arena, out, (size_t)(nout ? nout : 1) * sizeof(int));
    for (int i = 0; i < nout; i++)
        ir_val(g, out[i])->is_output = true;
}

/* A training section whose loss node (outside g->nodes) reads pred and a label input. */
static void add_mse_training(IrGraph *g, int pred, const char *label_shape)
{
    IrShape s = S(label_shape);
    int y = ir_value_new(g, "label", SRT_F32, &s, IR_ROLE_INPUT);
    ir_val(g, y)->training_input = true;
    IrShape scalar = S("");
    int loss = ir_value_new(g, "loss", SRT_F32, &scalar, IR_ROLE_ACT);
    IrNode *l = ir_arena_alloc(g->arena, sizeof *l);
    l->id = -1;
    l->group = -1;
    l->op = IR_OP_MSELOSS;
    l->name = "";
    l->where = "training.loss";
    l->nin = 2;
    l->in = ir_arena_memdup(g->arena, (int[]){pred, y}, 2 * sizeof(int));
    l->nout = 1;
    l->out = ir_arena_memdup(g->arena, &loss, sizeof(int));
    g->training = ir_arena_alloc(g->arena, sizeof *g->training);
    g->training->ninputs = 1;
    g->training->inputs = ir_arena_memdup(g->arena, &y, sizeof(int));
    g->training->loss = l;
    g->training->opt = (IrOptimizer){.kind = IR_OPTIM_SGD, .lr = 0.1};
}

/* ---- running passes -------------------------------------------------------------------- */

static char *text_of(const IrGraph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    ir_print_text(g, f, NULL);
    fclose(f);
    return buf;
}

/* Diagnostics joined with newlines (static buffer). */
static const char *diag_text(const IrDiag *d)
{
    static char buf[8192];
    buf[0] = 0;
    for (int i = 0; i < d->count; i++) {
        strncat(buf, d->msgs[i], sizeof buf - strlen(buf) - 2);
        strcat(buf, "\n");
    }
    return buf;
}

/* Runs the named passes (NULL-terminated list; no list = default pipeline) with verification
 * on; fails the test on any error. Returns the context for statistics. */
static PassContext run_ok(IrGraph *g, const char *const *names)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    if (names) {
        ctx.pipeline = names;
        while (names[ctx.npipeline])
            ctx.npipeline++;
    }
    int rc = pass_run_pipeline(g, &ctx);
    ck_assert_msg(rc == 0, "pipeline failed:\n%s", diag_text(&d));
    ctx.diag = NULL;
    ir_diag_free(&d);
    return ctx;
}

#define PASSES(...) ((const char *const[]){__VA_ARGS__, NULL})

/* ---- registry and runner ------------------------------------------------------------- */

/* The registry lists the passes in passes.def order (these first), each with a summary. */
START_TEST(registry)
{
    ck_assert_int_ge(pass_count(), 4);
    const char *names[] = {"shape_infer", "const_fold", "dce", "cse"};
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(pass_get(i)->name, names[i]);
        ck_assert_ptr_eq(pass_find(names[i]), pass_get(i));
    }
    for (int i = 0; i < pass_count(); i++)
        ck_assert_int_gt((int)strlen(pass_get(i)->summary), 20);
    ck_assert(pass_find("dce")->run == pass_dce);
    ck_assert_ptr_null(pass_find("DCE"));
    ck_assert_ptr_null(pass_find(NULL));
    char buf[512];
    ck_assert_int_eq(strncmp(pass_list_names(buf, sizeof buf), "shape_infer, const_fold, dce, cse", 33), 0);
    int commas = 0;
    for (const char *p = buf; *p; p++)
        commas += *p == ',';
    ck_assert_int_eq(commas, pass_count() - 1);
    ck_assert_str_eq(pass_list_names(buf, 12), "shape_infer");
}
END_TEST

/* The default pipeline is the inference one: shape_infer, const_fold, dce, cse, dce,
 * canonicalize, fold_bn, fuse; the training one simplifies, canonicalizes, differentiates, simplifies
 * again and fuses. */
START_TEST(default_pipeline)
{
    const char *const *names, *const *inf, *const *tr;
    int n = pass_default_pipeline(&names);
    ck_assert_int_eq(n, 8);
    const char *want[] = {"shape_infer", "const_fold", "dce", "cse", "dce", "canonicalize", "fold_bn", "fuse"};
    for (int i = 0; i < n; i++)
        ck_assert_str_eq(names[i], want[i]);
    ck_assert_int_eq(pass_pipeline("inference", &inf), 8);
    ck_assert_ptr_eq(inf, names);
    ck_assert_int_eq(pass_pipeline("training", &tr), 13);
    ck_assert_str_eq(tr[5], "canonicalize");
    ck_assert_str_eq(tr[6], "autodiff");
    ck_assert_str_eq(tr[12], "fuse");
    ck_assert_int_eq(pass_pipeline("nope", &tr), -1);
    ck_assert_ptr_null(tr);
}
END_TEST

static IrGraph *small_graph(void)
{
    IrGraph *g = ir_graph_new("small");
    int x = input(g, "x", SRT_F32, "N,4");
    int a = act(g, "a"), b = act(g, "b"), dead = act(g, "dead");
    N1(g, IR_OP_RELU, x, a);
    N1(g, IR_OP_NEG, a, b);
    N1(g, IR_OP_EXP, x, dead);
    set_io(g, 1, &x, 1, &b);
    return g;
}

/* Runs a pipeline expected to fail before any pass runs; returns the diagnostics. */
static const char *run_fail(const char *const *names, const char *dump_after, const char *stop_after)
{
    IrGraph *g = small_graph();
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    if (names) {
        ctx.pipeline = names;
        while (names[ctx.npipeline])
            ctx.npipeline++;
    }
    ctx.dump_after = dump_after;
    ctx.stop_after = stop_after;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), -1);
    ck_assert_int_eq(ctx.passes_run, 0);
    const char *msgs = diag_text(&d);
    ir_diag_free(&d);
    ir_graph_free(g);
    return msgs;
}

/* Unknown pass names are diagnostics listing the valid names, before anything runs. */
START_TEST(unknown_pass)
{
    char valid[512], want[2048];
    pass_list_names(valid, sizeof valid);   /* "shape_infer, const_fold, dce, cse, ..." */
    snprintf(want, sizeof want, "unknown pass \"cfold\" (valid passes: %s)\nunknown pass \"licm\" (valid passes: %s)\n",
             valid, valid);
    ck_assert_str_eq(run_fail(PASSES("shape_infer", "cfold", "dce", "licm"), NULL, NULL), want);
    snprintf(want, sizeof want, "dump after: unknown pass \"dec\" (valid: all, %s)\n", valid);
    ck_assert_str_eq(run_fail(NULL, "dec", NULL), want);
    snprintf(want, sizeof want, "stop after: unknown pass \"all\" (valid: %s)\n", valid);
    ck_assert_str_eq(run_fail(NULL, NULL, "all"), want);
    ck_assert_str_eq(run_fail(PASSES("shape_infer", "dce"), NULL, "cse"),
                     "stop after: pass \"cse\" is not in the pipeline (shape_infer, dce)\n");
    ck_assert_str_eq(run_fail(PASSES("shape_infer", "dce"), "const_fold", NULL),
                     "dump after: pass \"const_fold\" is not in the pipeline (shape_infer, dce)\n");
}
END_TEST

/* Dumps every pass with "; after" headers when asked for "all". */
START_TEST(dump_all)
{
    IrGraph *g = small_graph();
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    char *buf = NULL;
    size_t len = 0;
    ctx.dump_file = open_memstream(&buf, &len);
    ctx.dump_after = "all";
    ctx.verify = true;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), 0);
    fclose(ctx.dump_file);
    ck_assert_int_eq(ctx.passes_run, 8);
    ck_assert_int_eq(ctx.passes_changed, 3);   /* shape_infer typed, dce removed Exp, fuse grouped */
    const char *want = "; after shape_infer\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4]\n"
                       "%b = Neg(%a) : f32[N,4]\n"
                       "%dead = Exp(%x) : f32[N,4]\n"
                       "output %b\n"
                       "\n; after const_fold\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4]\n"
                       "%b = Neg(%a) : f32[N,4]\n"
                       "%dead = Exp(%x) : f32[N,4]\n"
                       "output %b\n";
    ck_assert_int_eq(strncmp(buf, want, strlen(want)), 0);
    const char *tail = "\n; after dce\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4]\n"
                       "%b = Neg(%a) : f32[N,4]\n"
                       "output %b\n"
                       "\n; after canonicalize\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4]\n"
                       "%b = Neg(%a) : f32[N,4]\n"
                       "output %b\n"
                       "\n; after fold_bn\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4]\n"
                       "%b = Neg(%a) : f32[N,4]\n"
                       "output %b\n"
                       "\n; after fuse\n"
                       "model small (seed 0)\n"
                       "input %x : f32[N,4]\n"
                       "%a = Relu(%x) : f32[N,4] group=0\n"
                       "%b = Neg(%a) : f32[N,4] group=0\n"
                       "output %b\n";
    ck_assert_str_eq(buf + len - strlen(tail), tail);
    int headers = 0;
    for (const char *p = buf; (p = strstr(p, "; after ")); p++)
        headers++;
    ck_assert_int_eq(headers, 8);
    free(buf);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* stop_after ends the pipeline after the named pass; a named dump prints only that pass. */
START_TEST(stop_and_dump_named)
{
    IrGraph *g = small_graph();
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    char *buf = NULL;
    size_t len = 0;
    ctx.dump_file = open_memstream(&buf, &len);
    ctx.dump_after = "dce";
    ctx.stop_after = "dce";
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), 0);
    fclose(ctx.dump_file);
    ck_assert_int_eq(ctx.passes_run, 3);
    ck_assert_str_eq(buf, "; after dce\n"
                          "model small (seed 0)\n"
                          "input %x : f32[N,4]\n"
                          "%a = Relu(%x) : f32[N,4]\n"
                          "%b = Neg(%a) : f32[N,4]\n"
                          "output %b\n");
    free(buf);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* Statistics accumulate per (pass, what) and print with singular/plural nouns. */
START_TEST(statistics)
{
    IrGraph *g = small_graph();
    PassContext ctx = run_ok(g, NULL);
    ck_assert_int_eq(pass_stat_get(&ctx, "dce", "nodes removed"), 1);
    ck_assert_int_eq(pass_stat_get(&ctx, "shape_infer", "values typed"), 3);
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 0);
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "no such thing"), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pass_print_stats(&ctx, f);
    fclose(f);
    ck_assert_str_eq(buf, "shape_infer: 3 values typed\n"
                          "const_fold: 0 nodes folded\n"
                          "dce: 1 node removed\n"
                          "dce: 1 value removed\n"
                          "cse: 0 constants merged\n"
                          "cse: 0 nodes merged\n"
                          "fuse: 1 group formed\n"
                          "fuse: 1 node fused\n"
                          "fuse: 16 bytes of intermediates saved at N=1\n");
    free(buf);
    ir_graph_free(g);
}
END_TEST

/* With verify on, an invalid graph stops the pipeline with the verifier's findings. */
START_TEST(verify_after_pass)
{
    IrGraph *g = small_graph();
    int w = PARAM(g, "w", SRT_F32, "4", 1, 2, 3, 4);
    ir_val(g, w)->data = NULL;
    ir_node(g, 1)->in[0] = w;   /* Neg reads a param without data */
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    ctx.pipeline = PASSES("shape_infer", "dce");
    ctx.npipeline = 2;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), -1);
    ck_assert_int_eq(ctx.passes_run, 1);
    ck_assert_str_eq(diag_text(&d), "value \"w\": param has no data\n"
                                    "the graph fails verification after pass \"shape_infer\" (1 of 2)\n");
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* A failing pass stops the pipeline with its own diagnostic. */
START_TEST(pass_error_stops)
{
    IrGraph *g = ir_graph_new("bad");
    int x = input(g, "x", SRT_F32, "N,4");
    int k = input(g, "k", SRT_I64, "N,4");
    int y = act(g, "y");
    IrNode *n = N2(g, IR_OP_ADD, x, k, y);
    n->where = "nodes[0]";
    set_io(g, 2, (int[]){x, k}, 1, &y);
    IrDiag d;
    ir_diag_init(&d, "bad.json");
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), -1);
    ck_assert_int_eq(ctx.passes_run, 1);
    ck_assert_int_eq(d.count, 1);
    ck_assert_msg(strncmp(d.msgs[0], "bad.json: nodes[0] (Add): ", 26) == 0, "got %s", d.msgs[0]);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- shape_infer ------------------------------------------------------------------------ */

/* shape_infer types every activation; a second run changes nothing. */
START_TEST(shape_infer_types)
{
    IrGraph *g = small_graph();
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.current = "shape_infer";
    ck_assert_int_eq(pass_shape_infer(g, &ctx), PASS_CHANGED);
    ck_assert_int_eq(pass_shape_infer(g, &ctx), PASS_UNCHANGED);
    ck_assert_int_eq(pass_stat_get(&ctx, "shape_infer", "values typed"), 3);
    ck_assert_int_eq(ir_verify(g, &d), 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- dce ---------------------------------------------------------------------------------- */

/* Dead chains go, nodes feeding outputs and the training loss stay, unused inputs stay, and so
 * does a param that only a dead node read (params are the model's interface). */
START_TEST(dce_basic)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int unused = input(g, "unused", SRT_F32, "N");
    int w = PARAM(g, "w", SRT_F32, "4", 1, 2, 3, 4);
    int a = act(g, "a"), b = act(g, "b"), c = act(g, "c"), e = act(g, "e"), f = act(g, "f");
    N1(g, IR_OP_RELU, x, a);
    N2(g, IR_OP_MUL, x, w, b);     /* dead, and the only user of w */
    N1(g, IR_OP_NEG, b, c);        /* dead */
    N1(g, IR_OP_EXP, a, e);        /* feeds only the loss */
    N1(g, IR_OP_ABS, a, f);        /* dead */
    set_io(g, 2, (int[]){x, unused}, 1, &a);
    add_mse_training(g, e, "N,4");
    PassContext ctx = run_ok(g, PASSES("shape_infer", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "dce", "nodes removed"), 3);
    ck_assert_int_eq(pass_stat_get(&ctx, "dce", "values removed"), 3);   /* b, c, f; not w */
    char *s = text_of(g);
    ck_assert_str_eq(s, "model m (seed 0)\n"
                        "input %x : f32[N,4]\n"
                        "input %unused : f32[N]\n"
                        "param %w : f32[4] = [1, 2, 3, 4]\n"
                        "%a = Relu(%x) : f32[N,4]\n"
                        "%e = Exp(%a) : f32[N,4]\n"
                        "output %a\n"
                        "training input %label : f32[N,4]\n"
                        "training loss %loss = MSELoss(%e, %label) : f32[]\n"
                        "training optimizer sgd lr=0.1 momentum=0 dampening=0 nesterov=false weight_decay=0\n");
    free(s);
    ir_graph_free(g);
}
END_TEST

/* dce on a graph without dead code reports no change. */
START_TEST(dce_unchanged)
{
    IrGraph *g = small_graph();
    run_ok(g, PASSES("shape_infer", "dce"));
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.current = "dce";
    ck_assert_int_eq(pass_dce(g, &ctx), PASS_UNCHANGED);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- cse ---------------------------------------------------------------------------------- */

/* Identical nodes merge, and chains of them merge in the same sweep. */
START_TEST(cse_chains)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int a1 = act(g, "a1"), a2 = act(g, "a2"), b1 = act(g, "b1"), b2 = act(g, "b2"), s = act(g, "s");
    N1(g, IR_OP_RELU, x, a1);
    N1(g, IR_OP_RELU, x, a2);
    N1(g, IR_OP_NEG, a1, b1);
    N1(g, IR_OP_NEG, a2, b2);
    N2(g, IR_OP_ADD, b1, b2, s);
    set_io(g, 1, &x, 1, &s);
    PassContext ctx = run_ok(g, PASSES("shape_infer", "cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 2);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,4]\n"
                        "%a1 = Relu(%x) : f32[N,4]\n"
                        "%b1 = Neg(%a1) : f32[N,4]\n"
                        "%s = Add(%b1, %b1) : f32[N,4]\n"
                        "output %s\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Attributes decide: a written default equals an absent one; a different value does not merge. */
START_TEST(cse_attrs)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int a = act(g, "a"), b = act(g, "b"), c = act(g, "c"), d = act(g, "d"), e = act(g, "e");
    N1(g, IR_OP_LEAKYRELU, x, a);
    ir_node_set_float(g, N1(g, IR_OP_LEAKYRELU, x, b), "alpha", 0.01);   /* the default */
    ir_node_set_float(g, N1(g, IR_OP_LEAKYRELU, x, c), "alpha", 0.02);
    N2(g, IR_OP_ADD, a, b, d);
    N2(g, IR_OP_ADD, d, c, e);
    set_io(g, 1, &x, 1, &e);
    PassContext ctx = run_ok(g, PASSES("shape_infer", "cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 1);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,4]\n"
                        "%a = LeakyRelu(%x) : f32[N,4]\n"
                        "%c = LeakyRelu(%x) {alpha=0.02} : f32[N,4]\n"
                        "%d = Add(%a, %a) : f32[N,4]\n"
                        "%e = Add(%d, %c) : f32[N,4]\n"
                        "output %e\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Graph outputs keep their names: a duplicate that is an output is kept, not renamed. */
START_TEST(cse_outputs)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int a = act(g, "a"), b = act(g, "b"), c = act(g, "c"), d = act(g, "d"), e = act(g, "e");
    N1(g, IR_OP_RELU, x, a);   /* output */
    N1(g, IR_OP_RELU, x, b);   /* output too: kept */
    N1(g, IR_OP_NEG, x, c);    /* output */
    N1(g, IR_OP_NEG, x, d);    /* not an output: merged into c */
    N1(g, IR_OP_EXP, d, e);
    set_io(g, 1, &x, 4, (int[]){a, b, c, e});
    PassContext ctx = run_ok(g, PASSES("shape_infer", "cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 1);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,4]\n"
                        "%a = Relu(%x) : f32[N,4]\n"
                        "%b = Relu(%x) : f32[N,4]\n"
                        "%c = Neg(%x) : f32[N,4]\n"
                        "%e = Exp(%c) : f32[N,4]\n"
                        "output %a\n"
                        "output %b\n"
                        "output %c\n"
                        "output %e\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Equal constants merge (then the nodes reading them); dtype, shape or data differences do not. */
START_TEST(cse_constants)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,2");
    int c1 = CONST(g, "c1", SRT_F32, "2", 1.5, -2);
    int c2 = CONST(g, "c2", SRT_F32, "2", 1.5, -2);
    int c3 = CONST(g, "c3", SRT_F32, "1,2", 1.5, -2);
    int c4 = CONST(g, "c4", SRT_F32, "2", 1.5, 2);
    int c5 = CONST(g, "c5", SRT_F64, "2", 1.5, -2);
    int a1 = act(g, "a1"), a2 = act(g, "a2"), a3 = act(g, "a3"), a4 = act(g, "a4"), a5 = act(g, "a5");
    int s1 = act(g, "s1"), s2 = act(g, "s2"), s3 = act(g, "s3");
    N2(g, IR_OP_ADD, x, c1, a1);
    N2(g, IR_OP_ADD, x, c2, a2);
    N2(g, IR_OP_ADD, x, c3, a3);
    N2(g, IR_OP_ADD, x, c4, a4);
    N1(g, IR_OP_CAST, c5, a5);
    ir_node_set_string(g, ir_node(g, 4), "to", "float32");
    N2(g, IR_OP_ADD, a1, a2, s1);
    N2(g, IR_OP_ADD, a3, a4, s2);
    N2(g, IR_OP_ADD, s1, a5, s3);
    N2(g, IR_OP_ADD, s3, s2, act(g, "out"));
    set_io(g, 1, &x, 1, (int[]){ir_value_find(g, "out")});
    PassContext ctx = run_ok(g, PASSES("shape_infer", "cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "constants merged"), 1);
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 1);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,2]\n"
                        "const %c1 : f32[2] = [1.5, -2]\n"
                        "const %c3 : f32[1,2] = [1.5, -2]\n"
                        "const %c4 : f32[2] = [1.5, 2]\n"
                        "const %c5 : f64[2] = [1.5, -2]\n"
                        "%a1 = Add(%x, %c1) : f32[N,2]\n"
                        "%a3 = Add(%x, %c3) : f32[N,2]\n"
                        "%a4 = Add(%x, %c4) : f32[N,2]\n"
                        "%a5 = Cast(%c5) {to=\"float32\"} : f32[2]\n"
                        "%s1 = Add(%a1, %a1) : f32[N,2]\n"
                        "%s2 = Add(%a3, %a4) : f32[N,2]\n"
                        "%s3 = Add(%s1, %a5) : f32[N,2]\n"
                        "%out = Add(%s3, %s2) : f32[N,2]\n"
                        "output %out\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Dropout nodes never merge; the training loss's uses are rewired to the kept node. */
START_TEST(cse_dropout_and_loss)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int d1 = typed_act(g, "d1", SRT_F32, "N,4"), d2 = typed_act(g, "d2", SRT_F32, "N,4");
    int r1 = typed_act(g, "r1", SRT_F32, "N,4"), r2 = typed_act(g, "r2", SRT_F32, "N,4");
    int s = typed_act(g, "s", SRT_F32, "N,4");
    N1(g, IR_OP_DROPOUT, x, d1);
    N1(g, IR_OP_DROPOUT, x, d2);
    N2(g, IR_OP_ADD, d1, d2, s);
    N1(g, IR_OP_RELU, s, r1);
    N1(g, IR_OP_RELU, s, r2);
    set_io(g, 1, &x, 1, &r1);
    add_mse_training(g, r2, "N,4");
    PassContext ctx = run_ok(g, PASSES("cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 1);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,4]\n"
                        "%d1 = Dropout(%x) : f32[N,4]\n"
                        "%d2 = Dropout(%x) : f32[N,4]\n"
                        "%s = Add(%d1, %d2) : f32[N,4]\n"
                        "%r1 = Relu(%s) : f32[N,4]\n"
                        "output %r1\n"
                        "training input %label : f32[N,4]\n"
                        "training loss %loss = MSELoss(%r1, %label) : f32[]\n"
                        "training optimizer sgd lr=0.1 momentum=0 dampening=0 nesterov=false weight_decay=0\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* ---- const_fold ---------------------------------------------------------------------------- */

/* Nodes on constants are evaluated (chains in one sweep); params are never folded. */
START_TEST(fold_kernels)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,3");
    int c1 = CONST(g, "c1", SRT_F32, "3", 1, 2, 3);
    int c2 = CONST(g, "c2", SRT_F32, "3", 0.5, 0.25, -4);
    int w = PARAM(g, "w", SRT_F32, "3", 1, 1, 1);
    int s = act(g, "s"), n = act(g, "n"), p = act(g, "p"), y = act(g, "y"), z = act(g, "z");
    N2(g, IR_OP_ADD, c1, c2, s);
    N1(g, IR_OP_NEG, s, n);
    N2(g, IR_OP_MUL, n, w, p);   /* reads a param: stays */
    N2(g, IR_OP_MUL, x, p, y);
    N2(g, IR_OP_ADD, y, n, z);
    set_io(g, 1, &x, 1, &z);
    PassContext ctx = run_ok(g, PASSES("shape_infer", "const_fold", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 2);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,3]\n"
                        "param %w : f32[3] = [1, 1, 1]\n"
                        "const %n : f32[3] = [-1.5, -2.25, 1]\n"
                        "%p = Mul(%n, %w) : f32[3]\n"
                        "%y = Mul(%x, %p) : f32[N,3]\n"
                        "%z = Add(%y, %n) : f32[N,3]\n"
                        "output %z\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Shape arithmetic: constant symbolic content folds, content with N stays for Reshape. */
START_TEST(fold_symbolic)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,8,16");
    int i0 = CONST(g, "i0", SRT_I64, "", 0);
    int i1 = CONST(g, "i1", SRT_I64, "", 1);
    int ax = CONST(g, "ax", SRT_I64, "1", 0);
    int m1 = CONST(g, "m1", SRT_I64, "1", -1);
    int sh = act(g, "sh"), g0 = act(g, "g0"), g1 = act(g, "g1"), u0 = act(g, "u0"), u1 = act(g, "u1");
    int cat = act(g, "cat"), y = act(g, "y");
    N1(g, IR_OP_SHAPE, x, sh);
    N2(g, IR_OP_GATHER, sh, i0, g0);   /* N: stays */
    N2(g, IR_OP_GATHER, sh, i1, g1);   /* 8: folds */
    N2(g, IR_OP_UNSQUEEZE, g0, ax, u0);
    N2(g, IR_OP_UNSQUEEZE, g1, ax, u1);
    node(g, IR_OP_CONCAT, "", 3, (int[]){u0, u1, m1}, 1, &cat);
    ir_node_set_int(g, ir_node(g, 5), "axis", 0);
    N2(g, IR_OP_RESHAPE, x, cat, y);
    set_io(g, 1, &x, 1, &y);
    PassContext ctx = run_ok(g, NULL);
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 2);
    char *t = text_of(g);
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "input %x : f32[N,8,16]\n"
                        "const %i0 : i64[] = 0\n"
                        "const %ax : i64[1] = [0]\n"
                        "const %m1 : i64[1] = [-1]\n"
                        "const %u1 : i64[1] = [8]\n"
                        "%sh = Shape(%x) : i64[3] = sym[N, 8, 16]\n"
                        "%g0 = Gather(%sh, %i0) : i64[] = sym[N]\n"
                        "%u0 = Unsqueeze(%g0, %ax) : i64[1] = sym[N]\n"
                        "%cat = Concat(%u0, %u1, %m1) {axis=0} : i64[3] = sym[N, 8, -1]\n"
                        "%y = Reshape(%x, %cat) : f32[N,8,16]\n"
                        "output %y\n");
    free(t);
    ir_graph_free(g);
}
END_TEST

/* Outputs over the size cap stay computed at run time; Dropout is never folded. */
START_TEST(fold_limits)
{
    IrGraph *g = ir_graph_new("m");
    int big = CONST(g, "big", SRT_I64, "2", 1100, 1000);
    int small = CONST(g, "small", SRT_I64, "2", 2, 3);
    int b = act(g, "b"), s = act(g, "s");
    N1(g, IR_OP_CONSTOFSHAPE, big, b);
    N1(g, IR_OP_CONSTOFSHAPE, small, s);
    set_io(g, 0, NULL, 2, (int[]){b, s});
    PassContext ctx = run_ok(g, PASSES("shape_infer", "const_fold"));
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 1);
    char *t = text_of(g);   /* the folding also dropped %small, which nothing uses any more */
    ck_assert_str_eq(t, "model m (seed 0)\n"
                        "const %big : i64[2] = [1100, 1000]\n"
                        "const %s : f32[2,3] = [0, 0, 0, 0, 0, 0]\n"
                        "%b = ConstantOfShape(%big) : f32[1100,1000]\n"
                        "output %b\n"
                        "output %s\n");
    free(t);
    ir_graph_free(g);

    g = ir_graph_new("m");
    int c = CONST(g, "c", SRT_F32, "2", 1, 2);
    int d = typed_act(g, "d", SRT_F32, "2");
    N1(g, IR_OP_DROPOUT, c, d);
    set_io(g, 0, NULL, 1, &d);
    ctx = run_ok(g, PASSES("const_fold"));
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 0);
    ir_graph_free(g);
}
END_TEST

/* A kernel error while folding (bad constant index) is the pass's error; the graph stays valid. */
START_TEST(fold_kernel_error)
{
    IrGraph *g = ir_graph_new("m");
    int data = CONST(g, "data", SRT_F32, "3", 1, 2, 3);
    int ok = CONST(g, "ok", SRT_F32, "3", 1, 1, 1);
    int idx = CONST(g, "idx", SRT_I64, "1", 7);
    int s = typed_act(g, "s", SRT_F32, "3");
    int y = typed_act(g, "y", SRT_F32, "1");
    N2(g, IR_OP_ADD, data, ok, s);
    IrNode *n = N2(g, IR_OP_GATHER, s, idx, y);
    n->where = "nodes[1]";
    set_io(g, 0, NULL, 1, &y);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.pipeline = PASSES("const_fold");
    ctx.npipeline = 1;
    ck_assert_int_eq(pass_run_pipeline(g, &ctx), -1);
    ck_assert_int_eq(d.count, 1);
    ck_assert_msg(strncmp(d.msgs[0], "nodes[1] (Gather): ", 19) == 0, "got %s", d.msgs[0]);
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 1);
    ir_diag_free(&d);
    ir_diag_init(&d, NULL);
    ck_assert_msg(ir_verify(g, &d) == 0, "%s", diag_text(&d));
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* A training graph as autodiff leaves it: update sources and gradients are roots for dce,
 * are never merged away or folded, and keep pointing at the right values after compaction. */
START_TEST(training_lists)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,4");
    int w = PARAM(g, "w", SRT_F32, "4", 1, 2, 3, 4);
    int acc = PARAM(g, "acc", SRT_F32, "4", 0, 0, 0, 0);
    ir_val(g, acc)->trainable = false;
    ir_val(g, acc)->opt_state = true;
    int one = CONST(g, "one", SRT_F32, "4", 1, 1, 1, 1);
    int dead = act(g, "dead"), y = act(g, "y"), ga = act(g, "ga"), gb = act(g, "grad/w");
    int wn = act(g, "w/new"), two = act(g, "two"), accn = act(g, "acc/new");
    N1(g, IR_OP_EXP, x, dead);          /* dead: removing it renumbers everything after it */
    N2(g, IR_OP_MUL, x, w, y);
    N1(g, IR_OP_NEG, w, ga);
    N1(g, IR_OP_NEG, w, gb);            /* same as ga, but it is the gradient: kept */
    N2(g, IR_OP_SUB, w, ga, wn);
    N2(g, IR_OP_ADD, one, one, two);    /* foldable, but an update source: stays a node */
    N2(g, IR_OP_ADD, acc, two, accn);
    set_io(g, 1, &x, 1, &y);
    add_mse_training(g, y, "N,4");
    IrTraining *t = g->training;
    t->has_backward = true;
    t->nupdates = 3;
    t->update_dst = ir_arena_memdup(g->arena, (int[]){w, acc, acc}, 3 * sizeof(int));
    t->update_src = ir_arena_memdup(g->arena, (int[]){wn, accn, two}, 3 * sizeof(int));
    t->ngrads = 1;
    t->grad_param = ir_arena_memdup(g->arena, &w, sizeof(int));
    t->grad_value = ir_arena_memdup(g->arena, &gb, sizeof(int));
    PassContext ctx = run_ok(g, PASSES("shape_infer", "const_fold", "dce", "cse", "dce"));
    ck_assert_int_eq(pass_stat_get(&ctx, "dce", "nodes removed"), 1);
    ck_assert_int_eq(pass_stat_get(&ctx, "cse", "nodes merged"), 0);
    ck_assert_int_eq(pass_stat_get(&ctx, "const_fold", "nodes folded"), 0);
    char *text = text_of(g);
    ck_assert_str_eq(text, "model m (seed 0)\n"
                           "input %x : f32[N,4]\n"
                           "param %w : f32[4] = [1, 2, 3, 4]\n"
                           "param %acc : f32[4] optimizer state = [0, 0, 0, 0]\n"
                           "const %one : f32[4] = [1, 1, 1, 1]\n"
                           "%y = Mul(%x, %w) : f32[N,4]\n"
                           "%ga = Neg(%w) : f32[4]\n"
                           "%\"grad/w\" = Neg(%w) : f32[4]\n"
                           "%\"w/new\" = Sub(%w, %ga) : f32[4]\n"
                           "%two = Add(%one, %one) : f32[4]\n"
                           "%\"acc/new\" = Add(%acc, %two) : f32[4]\n"
                           "output %y\n"
                           "training input %label : f32[N,4]\n"
                           "training loss %loss = MSELoss(%y, %label) : f32[]\n"
                           "training optimizer sgd lr=0.1 momentum=0 dampening=0 nesterov=false weight_decay=0\n"
                           "training update %w <- %\"w/new\"\n"
                           "training update %acc <- %\"acc/new\"\n"
                           "training update %acc <- %two\n"
                           "training grad %w : %\"grad/w\"\n");
    free(text);
    ir_graph_free(g);
}
END_TEST

/* ---- optimized vs unoptimized --------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 11;
}

/* The inputs the interpreter takes: graph inputs, then training inputs (when g trains). */
static int ninterp_inputs(const IrGraph *g)
{
    return g->ninputs + (g->training ? g->training->ninputs : 0);
}

static int interp_input(const IrGraph *g, int i)
{
    return i < g->ninputs ? g->inputs[i] : g->training->inputs[i - g->ninputs];
}

/* Random values for every interpreter input at batch n: floats in [-2, 2), integers (class
 * labels, indices) in {0, 1}. */
static IrTensor *random_inputs(const IrGraph *g, int64_t n, uint64_t seed)
{
    int count = ninterp_inputs(g);
    IrTensor *in = calloc((size_t)count + 1, sizeof *in);
    ck_assert_ptr_nonnull(in);
    for (int i = 0; i < count; i++) {
        const IrValue *v = ir_val(g, interp_input(g, i));
        int64_t dims[IR_MAX_RANK];
        ck_assert(ir_shape_eval(&v->shape, n, dims));
        ck_assert_int_eq(ir_tensor_alloc(&in[i], v->dtype, v->shape.rank, dims), 0);
        for (int64_t k = 0; k < in[i].numel; k++) {
            double r = (double)rng_next(&seed) / 9007199254740992.0;
            if (ir_dtype_is_float(v->dtype))
                ir_tensor_setf(&in[i], k, 4.0 * r - 2.0);
            else
                ir_tensor_seti(&in[i], k, r < 0.5 ? 0 : 1);
        }
    }
    return in;
}

/* The graph outputs of g at batch n, then the training loss when g trains (malloc'ed tensors;
 * *count is set to how many). */
static IrTensor *eval_outputs(const IrGraph *g, int64_t n, const IrTensor *in, int *count)
{
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    bool with_loss = g->training && g->training->loss;
    int rc = ir_interp_eval(g, n, in, with_loss, vals, &d);
    ck_assert_msg(rc == 0, "interpreter failed: %s", diag_text(&d));
    ir_diag_free(&d);
    *count = g->noutputs + with_loss;
    IrTensor *out = calloc((size_t)*count + 1, sizeof *out);
    for (int i = 0; i < *count; i++) {
        int id = i < g->noutputs ? g->outputs[i] : g->training->loss->out[0];
        out[i] = vals[id];
        size_t bytes = (size_t)out[i].numel * srt_dtype_size(out[i].dtype);
        out[i].data = malloc(bytes ? bytes : 1);
        if (bytes)
            memcpy(out[i].data, vals[id].data, bytes);
    }
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
    return out;
}

/* The default pipeline changes no output value (nor the training loss): interpreter before vs
 * after on random inputs at two batch sizes. Returns the number of nodes removed. */
static int check_same_numbers(const IrGraph *orig, const char *label)
{
    IrGraph *opt = ir_graph_clone(orig);
    run_ok(opt, NULL);
    ck_assert_int_eq(opt->noutputs, orig->noutputs);
    for (int i = 0; i < orig->noutputs; i++)
        ck_assert_str_eq(ir_val(orig, orig->outputs[i])->name, ir_val(opt, opt->outputs[i])->name);
    for (int64_t n = 1; n <= 3; n += 2) {
        IrTensor *in = random_inputs(orig, n, 42 + (uint64_t)n);
        int na, nb;
        IrTensor *a = eval_outputs(orig, n, in, &na), *b = eval_outputs(opt, n, in, &nb);
        ck_assert_int_eq(na, nb);
        for (int i = 0; i < na; i++) {
            ck_assert_int_eq(a[i].dtype, b[i].dtype);
            ck_assert_int_eq(a[i].numel, b[i].numel);
            for (int64_t k = 0; k < a[i].numel; k++) {
                double x = ir_tensor_getf(&a[i], k), y = ir_tensor_getf(&b[i], k);
                ck_assert_msg(x == y || (isnan(x) && isnan(y)) || fabs(x - y) <= 1e-6 * (1 + fabs(x)),
                              "%s: %s %d element %lld: %g unoptimized, %g optimized (n=%lld)", label,
                              i < orig->noutputs ? "output" : "loss", i, (long long)k, x, y, (long long)n);
            }
            ir_tensor_free(&a[i]);
            ir_tensor_free(&b[i]);
        }
        for (int i = 0; i < ninterp_inputs(orig); i++)
            ir_tensor_free(&in[i]);
        free(in);
        free(a);
        free(b);
    }
    int removed = orig->nnodes - opt->nnodes;
    ir_graph_free(opt);
    return removed;
}

/* A graph exercising all passes computes the same numbers after the default pipeline. */
START_TEST(numbers_unchanged)
{
    IrGraph *g = ir_graph_new("m");
    int x = input(g, "x", SRT_F32, "N,8,16");
    int i0 = CONST(g, "i0", SRT_I64, "", 0);
    int ax = CONST(g, "ax", SRT_I64, "1", 0);
    int m1 = CONST(g, "m1", SRT_I64, "1", -1);
    IrShape s128 = S("128");
    int c1 = ir_value_new(g, "c1", SRT_F32, &s128, IR_ROLE_CONST);
    int c2 = CONST(g, "c2", SRT_F32, "", 0.25);
    int c3 = CONST(g, "c3", SRT_F32, "", 0.25);
    int sh = act(g, "sh"), g0 = act(g, "g0"), u0 = act(g, "u0"), cat = act(g, "cat"), y = act(g, "y");
    int k = act(g, "k"), z = act(g, "z"), r1 = act(g, "r1"), r2 = act(g, "r2"), s = act(g, "s");
    int e = act(g, "e"), q = act(g, "q");
    N1(g, IR_OP_SHAPE, x, sh);
    N2(g, IR_OP_GATHER, sh, i0, g0);
    N2(g, IR_OP_UNSQUEEZE, g0, ax, u0);
    node(g, IR_OP_CONCAT, "", 2, (int[]){u0, m1}, 1, &cat);
    ir_node_set_int(g, ir_node(g, 3), "axis", 0);
    N2(g, IR_OP_RESHAPE, x, cat, y);
    ir_val(g, c1)->data = ir_arena_alloc(g->arena, 128 * sizeof(float));
    for (int i = 0; i < 128; i++)
        ((float *)ir_val(g, c1)->data)[i] = (float)i / 64.0f - 1.0f;
    N2(g, IR_OP_MUL, c1, c2, k);   /* folds */
    N2(g, IR_OP_ADD, y, k, z);
    N1(g, IR_OP_RELU, z, r1);
    N1(g, IR_OP_RELU, z, r2);      /* merges */
    N2(g, IR_OP_MUL, r1, c3, s);   /* c3 == c2 after folding: merges constants */
    N2(g, IR_OP_MUL, r2, c2, e);   /* ... and then this node */
    N2(g, IR_OP_SUB, s, e, q);
    set_io(g, 1, &x, 2, (int[]){q, s});
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(ir_infer_shapes(g, &d), 0);
    ir_diag_free(&d);
    /* removed: the folded Mul, the second Relu and the Mul that becomes identical to the first */
    ck_assert_int_eq(check_same_numbers(g, "numbers_unchanged"), 3);
    ir_graph_free(g);
}
END_TEST

/* fold_bn: BatchNormalization as x * k + s computes what the op does, with statistics that
 * are not the identity (the examples' initial ones are), on rank 4 after a Conv and on rank 2. */
START_TEST(fold_bn_numbers)
{
    IrGraph *g = ir_graph_new("bn");
    int x = input(g, "x", SRT_F32, "N,2,3,3");
    int w = PARAM(g, "w", SRT_F32, "3,2,1,1", 0.5, -1.0, 0.25, 2.0, -0.75, 1.5);
    int s = PARAM(g, "s", SRT_F32, "3", 1.5, -0.5, 2.0), b = PARAM(g, "b", SRT_F32, "3", 0.25, -1.0, 3.0);
    int m = PARAM(g, "m", SRT_F32, "3", 0.5, -0.25, 1.0), v = PARAM(g, "v", SRT_F32, "3", 0.3, 2.5, 0.01);
    int c = act(g, "c"), y = act(g, "y"), r = act(g, "r"), f = act(g, "f"), h = act(g, "h");
    double w2v[4 * 27];
    for (int i = 0; i < 4 * 27; i++)
        w2v[i] = (double)((i * 37) % 17) / 8.0 - 1.0;
    int w2 = data_val(g, "w2", SRT_F32, "4,27", IR_ROLE_PARAM, 4 * 27, w2v), s2 = PARAM(g, "s2", SRT_F32, "4", 0.5, 1, 2, -1);
    int b2 = PARAM(g, "b2", SRT_F32, "4", 0, 1, -1, 2), m2 = PARAM(g, "m2", SRT_F32, "4", 1, 0, -2, 0.5);
    int v2 = PARAM(g, "v2", SRT_F32, "4", 1, 4, 0.5, 9), y2 = act(g, "y2");
    N2(g, IR_OP_CONV, x, w, c);
    node(g, IR_OP_BATCHNORM, "bn", 5, (int[]){c, s, b, m, v}, 1, &y);
    ir_node_set_float(g, ir_node(g, 1), "epsilon", 1e-3);
    N1(g, IR_OP_RELU, y, r);
    N1(g, IR_OP_FLATTEN, r, f);
    node(g, IR_OP_GEMM, "fc", 2, (int[]){f, w2}, 1, &h);
    ir_node_set_int(g, ir_node(g, 4), "transB", 1);
    node(g, IR_OP_BATCHNORM, "bn2", 5, (int[]){h, s2, b2, m2, v2}, 1, &y2);
    set_io(g, 1, &x, 1, &y2);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_msg(ir_infer_shapes(g, &d) == 0, "%s", diag_text(&d));
    ir_diag_free(&d);
    /* the rank-4 fold adds 8 nodes (two of them Reshapes), the rank-2 one 6 */
    ck_assert_int_eq(check_same_numbers(g, "fold_bn_numbers"), -(8 + 6));
    ir_graph_free(g);
}
END_TEST

/* ---- golden files ------------------------------------------------------------------------ */

/* tests/golden/NAME.json is a model; tests/golden/NAME.after_PASS.txt the expected dump after
 * PASS ("all": after every pass) of the default pipeline, stopping there. The expected file
 * starts with "//" lines: a description of what the case checks (required) and optionally
 * "// passes: a, b, c" to run that pipeline instead. SINTER_UPDATE_GOLDEN=1 rewrites the
 * expected dumps (keeping the header) -- review the diff before committing. */

#define MAX_GOLDEN 64
static char golden_cases[MAX_GOLDEN][256];   /* "NAME.after_PASS.txt" */
static int ngolden_cases;
static char golden_models[MAX_GOLDEN][256];  /* "tests/golden/NAME.json", "examples/NAME.json" */
static int ngolden_models;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Golden cases and models from tests/golden; the example models join the model checks. */
static void scan_dir(const char *rel, bool cases)
{
    DIR *dir = opendir(tu_src(rel));
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        if (len + strlen(rel) + 2 >= sizeof golden_models[0])
            continue;
        if (cases && len > 4 && !strcmp(e->d_name + len - 4, ".txt") && strstr(e->d_name, ".after_") &&
            ngolden_cases < MAX_GOLDEN)
            strcpy(golden_cases[ngolden_cases++], e->d_name);
        if (len > 5 && !strcmp(e->d_name + len - 5, ".json") && ngolden_models < MAX_GOLDEN)
            snprintf(golden_models[ngolden_models++], sizeof golden_models[0], "%s/%s", rel, e->d_name);
    }
    closedir(dir);
}

static void scan_golden(void)
{
    scan_dir("tests/golden", true);
    scan_dir("examples", false);
    qsort(golden_cases, (size_t)ngolden_cases, sizeof golden_cases[0], cmp_names);
    qsort(golden_models, (size_t)ngolden_models, sizeof golden_models[0], cmp_names);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, m);
    fclose(f);
    fclose(m);
    return buf;
}

static IrGraph *load_golden(const char *rel)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_load_model(tu_src(rel), &d);
    ck_assert_msg(g != NULL, "cannot load %s:\n%s", rel, diag_text(&d));
    ir_diag_free(&d);
    return g;
}

/* Fails the test when a != b, naming the first differing line (Check limits message sizes, so
 * the full texts go to stderr). */
static void assert_same_text(const char *what, const char *want, const char *got)
{
    if (!strcmp(want, got))
        return;
    int line = 1;
    const char *a = want, *b = got;
    while (*a && *a == *b) {
        if (*a == '\n') {
            line++;
            want = a + 1;
            got = b + 1;
        }
        a++;
        b++;
    }
    fprintf(stderr, "%s: texts differ\n--- expected\n%s--- got\n%s---\n", what, want, got);
    int la = (int)strcspn(want, "\n"), lb = (int)strcspn(got, "\n");
    ck_abort_msg("%s: line %d differs:\n  expected: %.*s\n  got:      %.*s", what, line, la > 300 ? 300 : la, want,
                 lb > 300 ? 300 : lb, got);
}

/* Each expected dump matches the pipeline's output exactly. */
START_TEST(golden)
{
    ck_assert_int_gt(ngolden_cases, 0);
    const char *file = golden_cases[_i];
    char model[512], pass[64], rel[512];
    const char *dot = strstr(file, ".after_");
    snprintf(model, sizeof model, "tests/golden/%.*s.json", (int)(dot - file), file);
    snprintf(pass, sizeof pass, "%.*s", (int)(strlen(dot) - strlen(".after_") - strlen(".txt")), dot + 7);
    snprintf(rel, sizeof rel, "tests/golden/%s", file);
    char *expected = read_text(tu_src(rel));

    /* header: description and directives */
    char *body = expected;
    int described = 0;
    char passes_buf[512] = "";
    while (!strncmp(body, "//", 2)) {
        char *eol = strchr(body, '\n');
        ck_assert_msg(eol != NULL, "%s: header without a body", file);
        if (!strncmp(body, "// passes:", 10))
            snprintf(passes_buf, sizeof passes_buf, "%.*s", (int)(eol - body - 10), body + 10);
        else
            described++;
        body = eol + 1;
    }
    ck_assert_msg(described > 0, "%s: starts with no \"// what this checks\" line", file);
    const char *names[32];
    int count = 0;
    for (char *tok = strtok(passes_buf, ", "); tok && count < 32; tok = strtok(NULL, ", "))
        names[count++] = tok;

    IrGraph *g = load_golden(model);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    if (count) {
        ctx.pipeline = names;
        ctx.npipeline = count;
    }
    ctx.dump_after = pass;
    if (strcmp(pass, "all"))
        ctx.stop_after = pass;
    char *got = NULL;
    size_t len = 0;
    ctx.dump_file = open_memstream(&got, &len);
    int rc = pass_run_pipeline(g, &ctx);
    fclose(ctx.dump_file);
    ck_assert_msg(rc == 0, "%s: pipeline failed:\n%s", file, diag_text(&d));

    if (getenv("SINTER_UPDATE_GOLDEN")) {
        FILE *f = fopen(tu_src(rel), "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(expected, 1, (size_t)(body - expected), f);
        fputs(got, f);
        fclose(f);
    } else
        assert_same_text(file, body, got);
    free(got);
    free(expected);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* print -> emit JSON -> parse -> print is the identity, as loaded and after the pipeline. */
START_TEST(golden_roundtrip)
{
    ck_assert_int_gt(ngolden_models, 0);
    IrGraph *g = load_golden(golden_models[_i]);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            run_ok(g, NULL);
            /* kernel groups are the compiler's marks, not part of the model format */
            for (int i = 0; i < g->nnodes; i++)
                g->nodes[i]->group = -1;
        }
        char *json = fe_emit_json(g);
        ck_assert_ptr_nonnull(json);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrGraph *back = fe_parse_model(json, strlen(json), "emitted.json", tu_src("tests/golden"), &d);
        if (!back)
            fprintf(stderr, "%s", json);
        ck_assert_msg(back != NULL, "%s (round %d): the emitted JSON (on stderr) does not parse: %.500s",
                      golden_models[_i], round, diag_text(&d));
        char *a = text_of(g), *b = text_of(back);
        char what[512];
        snprintf(what, sizeof what, "%s (%s): print after emit+parse", golden_models[_i],
                 round ? "after the pipeline" : "as loaded");
        assert_same_text(what, a, b);
        free(a);
        free(b);
        free(json);
        ir_diag_free(&d);
        ir_graph_free(back);
    }
    ir_graph_free(g);
}
END_TEST

/* The default pipeline does not change what any golden model computes. */
START_TEST(golden_numbers)
{
    ck_assert_int_gt(ngolden_models, 0);
    IrGraph *g = load_golden(golden_models[_i]);
    check_same_numbers(g, golden_models[_i]);
    ir_graph_free(g);
}
END_TEST

/* ---- fuse ------------------------------------------------------------------------------------ */

/* Groups are recomputed from scratch: a second run changes nothing; the verifier checks them. */
START_TEST(fuse_idempotent_and_verified)
{
    IrGraph *g = small_graph();
    run_ok(g, PASSES("shape_infer", "dce", "fuse"));
    ck_assert_int_eq(g->nodes[0]->group, 0);
    ck_assert_int_eq(g->nodes[1]->group, 0);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ck_assert_int_eq(pass_fuse(g, &ctx), PASS_UNCHANGED);
    ck_assert_int_eq(ir_verify(g, &d), 0);
    /* a group whose second node is no element-wise node of its shape */
    IrGraph *h = ir_graph_new("bad");
    int x = input(h, "x", SRT_F32, "N,4");
    int a = act(h, "a"), b = act(h, "b"), c = act(h, "c");
    N1(h, IR_OP_RELU, x, a);
    N1(h, IR_OP_SOFTMAX, a, b);
    N1(h, IR_OP_NEG, a, c);
    int outs[2] = {b, c};
    set_io(h, 1, &x, 2, outs);
    run_ok(h, PASSES("shape_infer"));
    h->nodes[0]->group = h->nodes[1]->group = 0;
    ck_assert_int_eq(ir_verify(h, &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "node (Softmax): is in group 0 but is not an element-wise node of "
                                        "the group's shape");
    ir_diag_free(&d);
    ir_diag_init(&d, NULL);
    h->nodes[1]->group = -1;
    h->nodes[2]->group = 0;   /* not contiguous */
    ck_assert_int_eq(ir_verify(h, &d), -1);
    ck_assert_str_eq(ir_diag_first(&d), "node (Neg): is in group 0, which an earlier node also is in but the "
                                        "nodes between are not (a group's nodes must be contiguous)");
    ir_diag_free(&d);
    ir_graph_free(h);
    ir_graph_free(g);
}
END_TEST

/* An anchor joins its epilogue before an element-wise producer; the residual operand computed
 * between the anchor and the Add, read only by the group, is then pulled into it too, and the
 * anchor leads the group. */
START_TEST(fuse_reorders)
{
    IrGraph *g = ir_graph_new("reorder");
    int x = input(g, "x", SRT_F32, "N,4");
    int w = PARAM(g, "w", SRT_F32, "4,4", 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1);
    int h = act(g, "h"), r = act(g, "r"), s = act(g, "s"), y = act(g, "y");
    N2(g, IR_OP_MATMUL, x, w, h);
    N1(g, IR_OP_EXP, x, r);                 /* the residual, between anchor and Add */
    N2(g, IR_OP_ADD, h, r, s);
    N1(g, IR_OP_RELU, s, y);
    set_io(g, 1, &x, 1, &y);
    run_ok(g, PASSES("shape_infer", "fuse"));
    char *text = text_of(g);
    ck_assert_str_eq(text, "model reorder (seed 0)\n"
                           "input %x : f32[N,4]\n"
                           "param %w : f32[4,4] = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]\n"
                           "%h = MatMul(%x, %w) : f32[N,4] group=0\n"
                           "%r = Exp(%x) : f32[N,4] group=0\n"
                           "%s = Add(%h, %r) : f32[N,4] group=0\n"
                           "%y = Relu(%s) : f32[N,4] group=0\n"
                           "output %y\n");
    free(text);
    IrDiag d;
    ir_diag_init(&d, NULL);
    ck_assert_int_eq(ir_verify(g, &d), 0);
    ir_diag_free(&d);
    ir_graph_free(g);
}
END_TEST

/* ---- prune ----------------------------------------------------------------------------------- */

/* Runs the prune pass alone with --prune spec, verified; returns the context's statistic. */
static int64_t prune_ok(IrGraph *g, const char *spec, const char *stat)
{
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    char err[256];
    ck_assert_msg(pass_prune_parse(spec, &ctx.prune, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(pass_compress(g, &ctx) == 0, "prune %s failed:\n%s", spec, diag_text(&d));
    ir_diag_free(&d);
    return pass_stat_get(&ctx, "prune", stat);
}

/* Outputs of x and y agree on random inputs (graph inputs alike). */
static void assert_same_outputs(const IrGraph *x, const IrGraph *y, double tol, const char *label)
{
    IrTensor *in = random_inputs(x, 3, 7);
    int na, nb;
    IrTensor *a = eval_outputs(x, 3, in, &na), *b = eval_outputs(y, 3, in, &nb);
    ck_assert_int_eq(na, nb);
    for (int i = 0; i < na; i++) {
        ck_assert_int_eq(a[i].numel, b[i].numel);
        for (int64_t k = 0; k < a[i].numel; k++) {
            double p = ir_tensor_getf(&a[i], k), q = ir_tensor_getf(&b[i], k);
            ck_assert_msg(fabs(p - q) <= tol * (1 + fabs(p)), "%s: output %d element %lld: %.9g masked, %.9g pruned",
                          label, i, (long long)k, p, q);
        }
        ir_tensor_free(&a[i]);
        ir_tensor_free(&b[i]);
    }
    for (int i = 0; i < ninterp_inputs(x); i++)
        ir_tensor_free(&in[i]);
    free(in);
    free(a);
    free(b);
}

static int64_t value_numel(const IrValue *v)
{
    IrDim c;
    ck_assert(ir_shape_numel(&v->shape, &c) && c.a == 0);
    return c.b;
}

/* Structured pruning equals the original with the removed channels masked: for every Gemm/Conv
 * whose output channels shrank, the kept ones are found through its bias (a subsequence of the
 * original's random bias), and the original's weights and bias of the others are zeroed (ReLU
 * then makes them contribute nothing). */
static void check_channels(const char *model, double s, int64_t expect_removed)
{
    IrGraph *orig = load_golden(model), *g = ir_graph_clone(orig);
    ck_assert_int_eq(prune_ok(g, s == 0.5 ? "channels:0.5" : "channels:0.25", "channels removed"), expect_removed);
    for (int i = 0; i < orig->nnodes; i++) {
        IrNode *n = orig->nodes[i];
        if ((n->op != IR_OP_GEMM && n->op != IR_OP_CONV) || n->nin < 3)
            continue;
        IrValue *b0 = ir_val(orig, n->in[2]), *b1 = ir_val(g, ir_value_find(g, b0->name)),
                *w0 = ir_val(orig, n->in[1]);
        int64_t c0 = value_numel(b0), c1 = value_numel(b1), per = value_numel(w0) / c0, j = 0;
        const float *kept = b1->data;
        float *bias = b0->data, *w = w0->data;
        for (int64_t c = 0; c < c0; c++) {
            if (j < c1 && bias[c] == kept[j]) {
                j++;
                continue;
            }
            bias[c] = 0;
            for (int64_t k = 0; k < per; k++)
                w[c * per + k] = 0;
        }
        ck_assert_msg(j == c1, "%s: %s's bias is not a subsequence of the original's", model, b0->name);
    }
    assert_same_outputs(orig, g, 1e-5, model);
    ir_graph_free(orig);
    ir_graph_free(g);
}

START_TEST(prune_channels_mlp_lenet)
{
    check_channels("examples/fmnist_mlp.json", 0.5, 128);        /* fc1 256 -> 128; fc2 feeds the output */
    check_channels("examples/lenet5.json", 0.5, 3 + 8 + 60 + 42); /* conv1, conv2 (through Flatten), fc1, fc2 */
    check_channels("examples/lenet5.json", 0.25, 1 + 4 + 30 + 21);
}
END_TEST

/* A layer whose output reaches a residual Add (or an output) keeps its channels. */
START_TEST(prune_channels_residual)
{
    static const char *model =
        "{\"sinter\": 1, \"name\": \"res\", \"inputs\": [{\"name\": \"x\", \"dtype\": \"float32\", \"shape\": [\"N\", 4]}],"
        " \"outputs\": [\"y\"], \"params\": ["
        "  {\"name\": \"w1\", \"dtype\": \"float32\", \"shape\": [4, 4], \"init\": {\"kind\": \"uniform\", \"low\": -1}},"
        "  {\"name\": \"w2\", \"dtype\": \"float32\", \"shape\": [4, 4], \"init\": {\"kind\": \"uniform\", \"low\": -1}},"
        "  {\"name\": \"w3\", \"dtype\": \"float32\", \"shape\": [2, 4], \"init\": {\"kind\": \"uniform\", \"low\": -1}}],"
        " \"nodes\": ["
        "  {\"op\": \"Gemm\", \"inputs\": [\"x\", \"w1\"], \"outputs\": [\"h\"], \"attrs\": {\"transB\": 1}},"
        "  {\"op\": \"Relu\", \"inputs\": [\"h\"], \"outputs\": [\"r\"]},"
        "  {\"op\": \"Add\", \"inputs\": [\"r\", \"x\"], \"outputs\": [\"s\"]},"
        "  {\"op\": \"Gemm\", \"inputs\": [\"s\", \"w2\"], \"outputs\": [\"t\"], \"attrs\": {\"transB\": 1}},"
        "  {\"op\": \"Relu\", \"inputs\": [\"t\"], \"outputs\": [\"u\"]},"
        "  {\"op\": \"Gemm\", \"inputs\": [\"u\", \"w3\"], \"outputs\": [\"y\"], \"attrs\": {\"transB\": 1}}]}";
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model(model, strlen(model), "res.json", ".", &d);
    ck_assert_msg(g != NULL, "%s", diag_text(&d));
    ir_diag_free(&d);
    ck_assert_int_eq(prune_ok(g, "channels:0.5", "channels removed"), 2);   /* w2 only */
    ck_assert_int_eq(ir_val(g, ir_value_find(g, "w1"))->shape.d[0].b, 4);
    ck_assert_int_eq(ir_val(g, ir_value_find(g, "w2"))->shape.d[0].b, 2);
    ck_assert_int_eq(ir_val(g, ir_value_find(g, "w3"))->shape.d[1].b, 2);
    ir_graph_free(g);
}
END_TEST

/* Unstructured and N:M pruning zero what they say, record it, and change nothing else. */
START_TEST(prune_magnitude_and_nm)
{
    IrGraph *orig = load_golden("examples/fmnist_mlp.json");
    const char *specs[] = {"magnitude:0.75", "global-magnitude:0.75", "2:4"};
    for (int t = 0; t < 3; t++) {
        IrGraph *g = ir_graph_clone(orig);
        int64_t zeroed = prune_ok(g, specs[t], "weights zeroed");
        IrValue *w1 = ir_val(g, ir_value_find(g, "fc1.weight")), *w2 = ir_val(g, ir_value_find(g, "fc2.weight"));
        int64_t n1 = value_numel(w1), n2 = value_numel(w2);
        int64_t z1 = n1 - ir_count_nonzero(SRT_F32, w1->data, n1), z2 = n2 - ir_count_nonzero(SRT_F32, w2->data, n2);
        ck_assert_int_eq(zeroed, z1 + z2);
        ck_assert_ptr_nonnull(w1->sparse);
        ck_assert_int_eq(w1->sparse->nnz, n1 - z1);
        ck_assert_ptr_null(w1->init_json);
        if (t == 0) {   /* per layer: 3/4 of each */
            ck_assert_int_eq(z1, n1 * 3 / 4);
            ck_assert_int_eq(z2, (int64_t)llround(0.75 * (double)n2));
        } else if (t == 1) {   /* one ranking: 3/4 of all, the small fc2 may keep more or fewer */
            ck_assert_int_eq(z1 + z2, (int64_t)llround(0.75 * (double)(n1 + n2)));
        } else {
            ck_assert_int_eq(w1->sparse->format, IR_SPARSE_NM);
            ck_assert_int_eq(z1, n1 / 2);   /* random weights: no zeros to begin with */
        }
        /* the kept weights are the original ones, and each zeroed one is no larger than any kept one of
           its layer (per layer kinds) */
        const float *a = ir_val(orig, ir_value_find(orig, "fc1.weight"))->data, *b = w1->data;
        float max_zeroed = 0, min_kept = INFINITY;
        for (int64_t i = 0; i < n1; i++) {
            ck_assert(b[i] == 0 || b[i] == a[i]);
            if (b[i] == 0)
                max_zeroed = fmaxf(max_zeroed, fabsf(a[i]));
            else
                min_kept = fminf(min_kept, fabsf(a[i]));
        }
        if (t == 0)
            ck_assert(max_zeroed <= min_kept);
        ck_assert(ir_val(g, ir_value_find(g, "fc1.bias"))->sparse == NULL);   /* biases are not pruned */
        ir_graph_free(g);
    }
    ir_graph_free(orig);
}
END_TEST

/* Bad specs are one-line messages. */
START_TEST(prune_parse)
{
    PassPrune p;
    char err[256];
    ck_assert_int_eq(pass_prune_parse("2:4", &p, err, sizeof err), 0);
    ck_assert(p.kind == PASS_PRUNE_NM && p.n == 2 && p.m == 4);
    ck_assert_int_eq(pass_prune_parse("channels:0.5", &p, err, sizeof err), 0);
    ck_assert(p.kind == PASS_PRUNE_CHANNELS && p.sparsity == 0.5);
    ck_assert_int_eq(pass_prune_parse("magnitude:1.5", &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "expects a sparsity S in [0, 1) after \"magnitude:\", got \"1.5\"");
    ck_assert_int_eq(pass_prune_parse("4:2", &p, err, sizeof err), -1);
    ck_assert_str_eq(err, "expects magnitude:S, global-magnitude:S, channels:S (S in [0, 1)) or N:M such as 2:4, got "
                          "\"4:2\"");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("passes");
    TCase *tc = tcase_create("runner");
    tcase_add_test(tc, registry);
    tcase_add_test(tc, default_pipeline);
    tcase_add_test(tc, unknown_pass);
    tcase_add_test(tc, dump_all);
    tcase_add_test(tc, stop_and_dump_named);
    tcase_add_test(tc, statistics);
    tcase_add_test(tc, verify_after_pass);
    tcase_add_test(tc, pass_error_stops);
    suite_add_tcase(s, tc);
    tc = tcase_create("passes");
    tcase_add_test(tc, shape_infer_types);
    tcase_add_test(tc, dce_basic);
    tcase_add_test(tc, dce_unchanged);
    tcase_add_test(tc, cse_chains);
    tcase_add_test(tc, cse_attrs);
    tcase_add_test(tc, cse_outputs);
    tcase_add_test(tc, cse_constants);
    tcase_add_test(tc, cse_dropout_and_loss);
    tcase_add_test(tc, fold_kernels);
    tcase_add_test(tc, fold_symbolic);
    tcase_add_test(tc, fold_limits);
    tcase_add_test(tc, fold_kernel_error);
    tcase_add_test(tc, training_lists);
    tcase_add_test(tc, fuse_idempotent_and_verified);
    tcase_add_test(tc, fuse_reorders);
    tcase_add_test(tc, numbers_unchanged);
    tcase_add_test(tc, fold_bn_numbers);
    tcase_add_test(tc, prune_channels_mlp_lenet);
    tcase_add_test(tc, prune_channels_residual);
    tcase_add_test(tc, prune_magnitude_and_nm);
    tcase_add_test(tc, prune_parse);
    suite_add_tcase(s, tc);
    scan_golden();
    tc = tcase_create("golden");
    tcase_add_loop_test(tc, golden, 0, ngolden_cases ? ngolden_cases : 1);
    tcase_add_loop_test(tc, golden_roundtrip, 0, ngolden_models ? ngolden_models : 1);
    tcase_add_loop_test(tc, golden_numbers, 0, ngolden_models ? ngolden_models : 1);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
