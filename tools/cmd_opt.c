/* `sinter opt`: runs named passes on a model or .sir file and prints the text IR (like mlir-opt). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "tools/cli.h"

#define OPT_MAX_PASSES 64

typedef struct OptArgs {
    const char *model;
    const char *passes;       /* comma-separated */
    bool verify_each;
    int64_t stop_after;       /* run only the first N passes; -1: all */
    bool show_data;
    bool stats;
    const char *out;
    PassPrune prune;          /* --prune SPEC: what the prune pass removes */
    CliQuant quantize;        /* --quantize KIND [--quantize-group G] [--calibrate DATA]: what quantize and qpack do */
} OptArgs;

static int parse_args(int argc, char **argv, OptArgs *o)
{
    static const char *const known[] = {"--passes", "--verify-each", "--stop-after", "--show-data", "--stats",
                                        "-o", "--output", "--prune", "--quantize", "--quantize-group", "--help", NULL};
    memset(o, 0, sizeof *o);
    o->stop_after = -1;
    CliArgs a;
    cli_args_init(&a, "opt", argc, argv);
    const char *v;
    int qr;
    while (cli_next(&a)) {
        if ((qr = cli_quantize_option(&a, &o->quantize)) != 0) {
            if (qr < 0)
                return CLI_EUSAGE;
        } else if (cli_option(&a, "--passes", "a comma-separated list of passes", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->passes = v;
        } else if (cli_option(&a, "--stop-after", "a number of passes", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, OPT_MAX_PASSES, &o->stop_after))
                return cli_usage_error("opt", "--stop-after expects a number of passes (0 to %d), got \"%s\"",
                                       OPT_MAX_PASSES, v);
        } else if (cli_option(&a, "-o", "an output file", &v) || cli_option(&a, "--output", "an output file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->out = v;
        } else if (cli_option(&a, "--prune", "magnitude:S, global-magnitude:S, channels:S or N:M", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char err[160];
            if (pass_prune_parse(v, &o->prune, err, sizeof err) != 0)
                return cli_usage_error("opt", "--prune %s", err);
        } else if (cli_flag(&a, "--verify-each")) {
            o->verify_each = true;
        } else if (cli_flag(&a, "--show-data")) {
            o->show_data = true;
        } else if (cli_flag(&a, "--stats")) {
            o->stats = true;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("opt", "expects one model, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("opt", "expects a MODEL.json or FILE.sir");
    if (o->quantize.calibrate || o->quantize.samples)
        return cli_usage_error("opt", "takes no --calibrate (it runs passes on IR; calibrate with sinter compile)");
    if ((qr = cli_quantize_args("opt", &o->quantize)) != CLI_OK)
        return qr;
    if (!o->passes)
        return cli_usage_error("opt", "expects --passes P1,P2,... (passes: see 'sinter opt --help')");
    return CLI_OK;
}

/* Loads, runs the passes and prints into f. */
static int opt_run(const OptArgs *o, const char *const *names, int n, FILE *f)
{
    IrGraph *g = cli_load_model(o->model);
    if (!g)
        return CLI_EINPUT;
    IrDiag d;
    ir_diag_init(&d, o->model);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = o->verify_each;
    ctx.prune = o->prune;
    ctx.quantize = o->quantize.pass;
    ctx.pipeline = names;
    ctx.npipeline = o->stop_after >= 0 && o->stop_after < n ? (int)o->stop_after : n;
    int status = CLI_OK;
    if (ctx.npipeline > 0 && pass_run_pipeline(g, &ctx) != 0) {
        if (d.count == 0)
            ir_diag_error(&d, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
        status = cli_report(&d);
    } else if (ir_verify(g, &d) != 0) {
        /* without --verify-each the result is still verified once */
        ir_diag_error(&d, NULL, "the graph fails verification after the passes (rerun with --verify-each)");
        status = cli_report(&d);
    } else {
        if (o->stats)
            pass_print_stats(&ctx, stderr);
        IrPrintOptions popt = {.show_data = o->show_data};
        ir_print_text(g, f, &popt);
        ir_diag_free(&d);
    }
    ir_graph_free(g);
    return status;
}

typedef struct OptJob {
    const OptArgs *o;
    const char *const *names;
    int n;
} OptJob;

static int opt_write(void *arg, FILE *f)
{
    const OptJob *j = arg;
    return opt_run(j->o, j->names, j->n, f);
}

static int run_opt(int argc, char **argv)
{
    OptArgs o;
    int r = parse_args(argc, argv, &o);
    if (r != CLI_OK)
        return r;
    const char *names[OPT_MAX_PASSES];
    int n;
    char *buf;
    r = cli_pass_list("opt", o.passes, names, OPT_MAX_PASSES, &n, &buf);
    if (r == CLI_OK) {
        OptJob job = {&o, names, n};
        r = cli_write_output("opt", o.out, opt_write, &job);
    }
    free(buf);
    return r;
}

const CliVerb cli_verb_opt = {
    "opt", run_opt,
    "usage: sinter opt MODEL.json|FILE.sir --passes P1,P2,... [--verify-each] [--stop-after N]\n"
    "                  [--show-data] [--stats] [--prune SPEC] [--quantize KIND [--quantize-group G]]\n"
    "                  [-o FILE]\n"
    "\n"
    "Runs the named passes in order on a model (or a .sir text IR file at any stage) and prints\n"
    "the result as text IR (docs/ir.md), which parses back: the way to test a pass (this IR in,\n"
    "these lines out: tests/passes/) and to bisect a pipeline. Passes: shape_infer, const_fold,\n"
    "dce, cse, ... (an unknown name lists them all; 'sinter dump --help' names the pipelines).\n"
    "\n"
    "  --passes LIST     comma-separated pass names, run in this order (a pass may repeat)\n"
    "  --verify-each     verify the graph after every pass, naming the pass that broke it\n"
    "                    (without it the result is verified once, at the end)\n"
    "  --stop-after N    run only the first N passes of LIST (0: none; to bisect)\n"
    "  --show-data       print constant contents in full instead of a summary\n"
    "  --stats           print what each pass changed to stderr\n"
    "  --prune SPEC      what the prune pass removes (as 'sinter compile --prune'; without it\n"
    "                    prune changes nothing)\n"
    "  --quantize KIND   what quantize and qpack do (as 'sinter compile --quantize'), and\n"
    "  --quantize-group G  its group size\n"
    "  -o, --output FILE write to FILE (replaced atomically) instead of stdout\n"
    "\n"
    "Exit status: 0 success, 1 invalid model or a pass failed (diagnostics on stderr), 2 bad usage.\n",
    "run named passes on a model or .sir file and print the text IR",
};
