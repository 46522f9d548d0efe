/* `sinter check`: validates models and prints their size and cost in one line each. */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "passes/passes.h"
#include "tools/cli.h"

/* Totals of one graph. FLOPs are a*N + b summed in double (they only get printed). */
typedef struct ModelCost {
    int64_t params;           /* elements of all params */
    int64_t frozen;           /* elements of params with "trainable": false */
    double param_bytes;
    double flops_per_sample;  /* coefficient of N */
    double flops_fixed;       /* constant part */
    int unknown_flops;        /* nodes whose count is not of the form a*N + b */
} ModelCost;

static void model_cost(const IrGraph *g, ModelCost *c)
{
    memset(c, 0, sizeof *c);
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        IrDim numel;
        if (v->role != IR_ROLE_PARAM || !ir_shape_numel(&v->shape, &numel))
            continue;
        c->params += numel.b;
        if (!v->trainable)
            c->frozen += numel.b;
        c->param_bytes += (double)numel.b * (double)srt_dtype_size(v->dtype);
    }
    for (int i = 0; i < g->nnodes; i++) {
        IrDim f;
        if (!ir_node_flops(g, g->nodes[i], &f)) {
            c->unknown_flops++;
            continue;
        }
        c->flops_per_sample += (double)f.a;
        c->flops_fixed += (double)f.b;
    }
}

static const char *optimizer_name(IrOptimKind k)
{
    switch (k) {
    case IR_OPTIM_SGD:
        return "sgd";
    case IR_OPTIM_ADAM:
        return "adam";
    case IR_OPTIM_ADAMW:
        return "adamw";
    }
    return "?";
}

/* "fmnist_mlp: ok: 1 input, 1 output, 5 nodes, 203,530 params (795.0 KiB), 408.6 KFLOPs per
 * sample, trains with adam on SoftmaxCrossEntropyLoss" */
static void print_summary(const IrGraph *g, FILE *f)
{
    ModelCost c;
    model_cost(g, &c);
    char a[64], b[64];
    fprintf(f, "%s: ok: %d input%s, %d output%s, %d node%s, ", g->name, g->ninputs, g->ninputs == 1 ? "" : "s",
            g->noutputs, g->noutputs == 1 ? "" : "s", g->nnodes, g->nnodes == 1 ? "" : "s");
    fprintf(f, "%s param%s (%s", cli_fmt_count(c.params, a, sizeof a), c.params == 1 ? "" : "s",
            cli_fmt_bytes(c.param_bytes, b, sizeof b));
    if (c.frozen)
        fprintf(f, ", %s frozen", cli_fmt_count(c.frozen, a, sizeof a));
    fprintf(f, "), ");
    if (c.flops_per_sample > 0) {
        fprintf(f, "%sFLOPs per sample", cli_fmt_si(c.flops_per_sample, a, sizeof a));
        if (c.flops_fixed > 0)
            fprintf(f, " + %sFLOPs fixed", cli_fmt_si(c.flops_fixed, a, sizeof a));
    } else {
        fprintf(f, "%sFLOPs per run", cli_fmt_si(c.flops_fixed, a, sizeof a));
    }
    if (c.unknown_flops)
        fprintf(f, " (not counting %d node%s whose cost is not linear in N)", c.unknown_flops,
                c.unknown_flops == 1 ? "" : "s");
    IrDim scratch;
    IrDiag sd;
    ir_diag_init(&sd, NULL);
    if (cg_scratch_bytes(g, &scratch, &sd) == 0) {
        char dim[64];
        ir_dim_format(scratch, dim, sizeof dim);
        fprintf(f, ", %s bytes of scratch", dim);
    }
    ir_diag_free(&sd);
    if (g->training && g->training->loss)
        fprintf(f, ", trains with %s on %s", optimizer_name(g->training->opt.kind), ir_op_name(g->training->loss->op));
    fputc('\n', f);
}

/* One row per node: name, op, output type, FLOPs per sample and fixed, share of the total. */
static void print_nodes(const IrGraph *g, FILE *f)
{
    ModelCost c;
    model_cost(g, &c);
    double total = c.flops_per_sample > 0 ? c.flops_per_sample : c.flops_fixed;
    fprintf(f, "  %-28s %-20s %-24s %14s %10s %6s\n", "node", "op", "output", "FLOPs/sample", "fixed", "share");
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        char name[32], type[64] = "", fa[32] = "?", fb[32] = "?", share[16] = "";
        if (n->name && *n->name)
            snprintf(name, sizeof name, "%s", n->name);
        else
            snprintf(name, sizeof name, "#%d", n->id);
        if (n->nout > 0 && n->out[0] >= 0) {
            const IrValue *v = g->values[n->out[0]];
            ir_type_format(v->dtype, &v->shape, type, sizeof type);
        }
        IrDim fl;
        if (ir_node_flops(g, n, &fl)) {
            cli_fmt_count(fl.a, fa, sizeof fa);
            cli_fmt_count(fl.b, fb, sizeof fb);
            double mine = c.flops_per_sample > 0 ? (double)fl.a : (double)fl.b;
            if (total > 0)
                snprintf(share, sizeof share, "%.1f%%", 100.0 * mine / total);
        }
        fprintf(f, "  %-28s %-20s %-24s %14s %10s %6s\n", name, ir_op_name(n->op), type, fa, fb, share);
    }
}

/* Per layer (a node with a weight param: Gemm, MatMul, Conv): its params (all param inputs),
 * their non-zeros and bytes, and its FLOPs per sample. */
typedef struct LayerRow {
    const char *name;
    int64_t params, nnz;
    double bytes, flops;
} LayerRow;

static int layer_rows(const IrGraph *g, LayerRow *rows, int max)
{
    int n = 0;
    for (int i = 0; i < g->nnodes && n < max; i++) {
        const IrNode *nd = g->nodes[i];
        if (nd->op != IR_OP_GEMM && nd->op != IR_OP_MATMUL && nd->op != IR_OP_CONV)
            continue;
        LayerRow r = {.name = nd->name && *nd->name ? nd->name : ir_op_name(nd->op)};
        for (int k = 0; k < nd->nin; k++) {
            const IrValue *v = nd->in[k] >= 0 ? g->values[nd->in[k]] : NULL;
            IrDim cnt;
            if (!v || v->role != IR_ROLE_PARAM || !v->data || !ir_shape_numel(&v->shape, &cnt) || cnt.a)
                continue;
            r.params += cnt.b;
            r.nnz += ir_count_nonzero(v->dtype, v->data, cnt.b);
            r.bytes += (double)cnt.b * (double)srt_dtype_size(v->dtype);
        }
        IrDim f;
        if (ir_node_flops(g, nd, &f))
            r.flops = (double)f.a;
        if (r.params)
            rows[n++] = r;
    }
    return n;
}

#define MAX_LAYERS 256

/* The table of `check --stats`: each layer as loaded and after compression and the pipeline. */
static void print_layers(const LayerRow *before, int nb, const LayerRow *after, int na, FILE *f)
{
    char a[32], b[32], c[32], e[32], x[32], y[32];
    fprintf(f, "  %-20s %-22s %-22s %-24s %s\n", "layer", "    params", "    non-zeros", "     bytes", "  FLOPs/sample");
    for (int i = 0; i < nb; i++) {
        const LayerRow *q = NULL;
        for (int j = 0; j < na && !q; j++)
            if (!strcmp(after[j].name, before[i].name))
                q = &after[j];
        LayerRow z = {0};
        if (!q)
            q = &z;
        snprintf(x, sizeof x, "%s", cli_fmt_count(before[i].params, a, sizeof a));
        snprintf(y, sizeof y, "%s", cli_fmt_count(q->params, a, sizeof a));
        fprintf(f, "  %-20s %9s -> %-9s", before[i].name, x, y);
        snprintf(x, sizeof x, "%s", cli_fmt_count(before[i].nnz, a, sizeof a));
        snprintf(y, sizeof y, "%s", cli_fmt_count(q->nnz, a, sizeof a));
        fprintf(f, " %9s -> %-9s", x, y);
        cli_fmt_bytes(before[i].bytes, b, sizeof b);
        cli_fmt_bytes(q->bytes, c, sizeof c);
        fprintf(f, " %10s -> %-10s", b, c);
        cli_fmt_si(before[i].flops, e, sizeof e);
        cli_fmt_si(q->flops, x, sizeof x);
        fprintf(f, " %8s -> %-8s\n", e, x);
    }
}

/* Returns CLI_OK or CLI_EINPUT (diagnostics printed). */
static int check_one(const char *path, const char *weights, bool verbose, bool stats, const PassPrune *prune)
{
    IrGraph *g = cli_load_model_weights(path, weights);
    if (!g)
        return CLI_EINPUT;
    IrDiag d;
    ir_diag_init(&d, path);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    ctx.prune = *prune;
    int status = CLI_OK;
    LayerRow *before = srt_calloc(2 * MAX_LAYERS, sizeof *before), *after = before + MAX_LAYERS;
    IR_ASSERT(before);
    int nb = layer_rows(g, before, MAX_LAYERS), na = 0;
    if (pass_compress(g, &ctx) != 0 || pass_run_pipeline(g, &ctx) != 0 || ir_verify(g, &d) != 0) {
        if (d.count == 0)
            ir_diag_error(&d, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
        status = cli_report(&d);
    } else {
        print_summary(g, stdout);
        if (verbose)
            print_nodes(g, stdout);
        if (verbose || stats)
            pass_print_stats(&ctx, stdout);
        if (stats) {
            na = layer_rows(g, after, MAX_LAYERS);
            print_layers(before, nb, after, na, stdout);
        }
        ir_diag_free(&d);
    }
    free(before);
    ir_graph_free(g);
    return status;
}

static int run_check(int argc, char **argv)
{
    static const char *const known[] = {"--verbose", "-v", "--stats", "--prune", "--weights", "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "check", argc, argv);
    bool verbose = false, stats = false;
    int nmodels = 0;
    const char *v, *weights = NULL;
    PassPrune prune = {0};
    while (cli_next(&a)) {
        if (cli_flag(&a, "-v") || cli_flag(&a, "--verbose"))
            verbose = true;
        else if (cli_flag(&a, "--stats"))
            stats = true;
        else if (cli_option(&a, "--prune", "magnitude:S, global-magnitude:S, channels:S or N:M", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char err[256];
            if (pass_prune_parse(v, &prune, err, sizeof err) != 0)
                return cli_usage_error("check", "--prune %s", err);
        } else if (cli_option(&a, "--weights", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            weights = v;
        } else if (cli_positional(&a, &v))
            nmodels++;
        else
            return cli_unknown(&a, known);
    }
    if (nmodels == 0)
        return cli_usage_error("check", "expects a MODEL.json");
    if (weights && nmodels > 1)
        return cli_usage_error("check", "--weights gives the params of one model, got %d models", nmodels);
    int status = CLI_OK;
    cli_args_init(&a, "check", argc, argv);
    while (cli_next(&a)) {
        if (cli_option(&a, "--prune", "", &v) || cli_option(&a, "--weights", "", &v))
            continue;
        if (cli_positional(&a, &v) && check_one(v, weights, verbose, stats, &prune) != CLI_OK)
            status = CLI_EINPUT;
    }
    return status;
}

const CliVerb cli_verb_check = {
    "check", run_check,
    "usage: sinter check [-v] [--stats] [--prune SPEC] [--weights FILE] MODEL.json ...\n"
    "\n"
    "Validates each model: parses it, infers every shape, runs the default pass pipeline\n"
    "(verifying the graph after every pass) and prints one line per model, e.g.\n"
    "  fmnist_mlp: ok: 1 input, 1 output, 5 nodes, 203,530 params (795.0 KiB),\n"
    "  408.6 KFLOPs per sample, trains with adam on SoftmaxCrossEntropyLoss\n"
    "(on one line; plus the peak scratch memory of one inference, a*N+b bytes), or the diagnostics, one per line naming the file and the place in it.\n"
    "\n"
    "Nodes are counted after the pipeline. params: elements of all params (frozen ones are\n"
    "also listed apart) and their bytes. FLOPs: inference cost estimate of the graph, a\n"
    "multiply-add counting 2 and data movement 0; 'per sample' is the coefficient of the\n"
    "batch symbol N, and a part that does not grow with N is shown as 'fixed'.\n"
    "\n"
    "  -v, --verbose   also print every node with its output type and FLOPs, and what each\n"
    "                  pass changed\n"
    "  --stats         print what each pass changed, e.g. 'fuse: 4 nodes fused' and the\n"
    "                  intermediate bytes that fusion keeps out of memory, then per layer\n"
    "                  (Gemm, MatMul, Conv) its params, non-zeros, bytes and FLOPs per\n"
    "                  sample as loaded -> after compression and the pipeline\n"
    "  --prune SPEC    prune first, as 'sinter compile --prune' does (magnitude:S,\n"
    "                  global-magnitude:S, channels:S or N:M)\n"
    "  --weights FILE  the params from a .safetensors file (a checkpoint of 'sinter train\n"
    "                  --save' works; its optimizer state is ignored): checks that it fits the\n"
    "                  model, and --stats counts its non-zeros (one MODEL.json)\n"
    "\n"
    "Exit status: 0 if every model is valid, 1 if any is not, 2 on bad usage.\n",
    "validate models; print params, bytes and FLOPs per sample, or the diagnostics",
};
