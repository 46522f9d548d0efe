/* `sinter dump`: prints a model's IR (text, DOT or model JSON), as parsed or after passes. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "codegen/codegen.h"
#include "passes/passes.h"
#include "tools/cli.h"
#include "tools/textdiff.h"

/* SVG and PNG are the DOT picture rendered by Graphviz. */
typedef enum DumpFormat { DUMP_TEXT, DUMP_DOT, DUMP_JSON, DUMP_SVG, DUMP_PNG } DumpFormat;

static const char *format_name(DumpFormat f)
{
    static const char *const names[] = {"text", "dot", "json", "svg", "png"};
    return names[f];
}

/* Parsed command line. */
typedef struct DumpArgs {
    const char *model;
    const char *after;        /* NULL: as parsed; a pass name; "all" */
    const char *passes;       /* comma-separated pipeline, NULL: a named one */
    const char *pipeline;     /* a named pipeline ("inference", "training"), NULL: by --after */
    DumpFormat format;
    bool show_data;
    bool stats;
    bool diff;                /* --diff: each stage as a unified diff against the one before */
    const char *out;          /* NULL: stdout */
} DumpArgs;

#define MAX_PIPELINE 64

static int parse_args(int argc, char **argv, DumpArgs *o)
{
    static const char *const known[] = {"--after", "--format", "--show-data", "--passes", "--pipeline", "--stats", "--diff",
                                        "-o", "--output", "--help", NULL};
    memset(o, 0, sizeof *o);
    CliArgs a;
    cli_args_init(&a, "dump", argc, argv);
    const char *v;
    while (cli_next(&a)) {
        if (cli_option(&a, "--after", "a pass name or all", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->after = v;
        } else if (cli_option(&a, "--format", "text, dot, json, svg or png", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!strcmp(v, "text"))
                o->format = DUMP_TEXT;
            else if (!strcmp(v, "dot"))
                o->format = DUMP_DOT;
            else if (!strcmp(v, "json"))
                o->format = DUMP_JSON;
            else if (!strcmp(v, "svg"))
                o->format = DUMP_SVG;
            else if (!strcmp(v, "png"))
                o->format = DUMP_PNG;
            else
                return cli_usage_error("dump", "--format expects text, dot, json, svg or png, got \"%s\"", v);
        } else if (cli_option(&a, "--passes", "a comma-separated list of passes", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->passes = v;
        } else if (cli_option(&a, "--pipeline", "inference or training", &v)) {
            if (!v)
                return CLI_EUSAGE;
            const char *const *names;
            if (pass_pipeline(v, &names) < 0)
                return cli_usage_error("dump", "--pipeline expects inference or training, got \"%s\"", v);
            o->pipeline = v;
        } else if (cli_option(&a, "-o", "an output file", &v) || cli_option(&a, "--output", "an output file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->out = v;
        } else if (cli_flag(&a, "--show-data")) {
            o->show_data = true;
        } else if (cli_flag(&a, "--diff")) {
            o->diff = true;
        } else if (cli_flag(&a, "--stats")) {
            o->stats = true;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("dump", "expects one MODEL.json, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("dump", "expects a MODEL.json");
    if (o->after && !strcmp(o->after, "plan") && o->format == DUMP_JSON)
        return cli_usage_error("dump", "--after plan prints text or a picture (dot, svg, png), not json");
    if (o->after && !strcmp(o->after, "all") && o->format != DUMP_TEXT)
        return cli_usage_error("dump", "--after all prints text only; use --after PASS with --format %s",
                               format_name(o->format));
    if (o->diff && (!o->after || !strcmp(o->after, "plan") || o->format != DUMP_TEXT))
        return cli_usage_error("dump", "--diff needs --after PASS or --after all, with --format text");
    if (o->show_data && o->format != DUMP_TEXT)
        return cli_usage_error("dump", "--show-data applies to --format text (json always has the data)");
    return CLI_OK;
}

/* Checks that --after names a pass of the pipeline (its names are registered passes), before
 * loading anything. */
static int check_pipeline(const DumpArgs *o, const char *const *names, int n)
{
    char list[512];
    if (!o->after || !strcmp(o->after, "all") || !strcmp(o->after, "plan"))
        return CLI_OK;
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], o->after))
            return CLI_OK;
    if (!pass_find(o->after))
        return cli_usage_error("dump", "--after expects a pass name or all, got \"%s\" (passes: %s)", o->after,
                               pass_list_names(list, sizeof list));
    return cli_usage_error("dump", "--after %s: the pipeline does not run %s%s", o->after, o->after,
                           o->passes ? "" : " (add --passes)");
}

static void draw_graph(const void *g, FILE *f)
{
    ir_print_dot(g, f);
}

static void draw_plan(const void *p, FILE *f)
{
    cg_print_program_dot(p, f);
}

/* The DOT text draw(obj) prints, as it is (--format dot) or rendered by Graphviz (svg, png). */
static int put_picture(const DumpArgs *o, void (*draw)(const void *obj, FILE *f), const void *obj, FILE *f)
{
    if (o->format == DUMP_DOT) {
        draw(obj, f);
        return CLI_OK;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return cli_input_error("dump", "out of memory while drawing %s", o->model);
    draw(obj, m);
    if (fclose(m) != 0) {
        free(buf);
        return cli_input_error("dump", "out of memory while drawing %s", o->model);
    }
    int r = cli_render_dot("dump", buf, len, format_name(o->format), f);
    free(buf);
    return r;
}

/* Prints g in the requested format: CLI_OK, or CLI_EINPUT after a message. */
static int print_graph(const IrGraph *g, const DumpArgs *o, FILE *f)
{
    IrPrintOptions popt = {.show_data = o->show_data};
    switch (o->format) {
    case DUMP_TEXT:
        ir_print_text(g, f, &popt);
        return CLI_OK;
    case DUMP_DOT:
    case DUMP_SVG:
    case DUMP_PNG:
        return put_picture(o, draw_graph, g, f);
    case DUMP_JSON: {
        char *json = fe_emit_json(g);
        if (!json)
            return cli_input_error("dump", "out of memory while printing %s", o->model);
        fputs(json, f);
        size_t len = strlen(json);
        if (len == 0 || json[len - 1] != '\n')
            fputc('\n', f);
        free(json);
        return CLI_OK;
    }
    }
    return CLI_OK;
}

/* The text IR of g as a string (NULL if memory ran out). */
static char *graph_text(const IrGraph *g, const DumpArgs *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return NULL;
    IrPrintOptions popt = {.show_data = o->show_data};
    ir_print_text(g, m, &popt);
    if (fclose(m) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* --diff: runs the pipeline one pass at a time and prints, for every pass (--after all) or for
 * the one named, a unified diff of the text IR against the stage before it, or one line saying
 * the pass changed nothing. */
static int dump_diff(IrGraph *g, const DumpArgs *o, const char *const *names, int npasses, PassContext *ctx,
                     FILE *f)
{
    bool all = !strcmp(o->after, "all");
    char *prev = graph_text(g, o);
    char prev_label[128] = "as parsed";
    int rc = prev ? 0 : -2;
    for (int i = 0; rc == 0 && i < npasses; i++) {
        ctx->pipeline = &names[i];
        ctx->npipeline = 1;
        if (pass_run_pipeline(g, ctx) != 0) {
            rc = -1;
            break;
        }
        bool here = !strcmp(names[i], o->after);
        char *cur = graph_text(g, o);
        if (!cur) {
            rc = -2;
            break;
        }
        if (all || here) {
            char label[128];
            snprintf(label, sizeof label, "after %s (%d of %d)", names[i], i + 1, npasses);
            bool changed;
            if (text_diff(prev, cur, prev_label, label, 3, f, &changed) != 0)
                rc = -2;
            else if (!changed)
                fprintf(f, "; %s: no change\n", names[i]);
        }
        snprintf(prev_label, sizeof prev_label, "after %s (%d of %d)", names[i], i + 1, npasses);
        free(prev);
        prev = cur;
        if (here)
            break;
    }
    free(prev);
    return rc;
}

/* Loads, runs the passes asked for and prints into f. */
static int dump(const DumpArgs *o, const char *const *names, int npasses, FILE *f)
{
    IrGraph *g = cli_load_model(o->model);
    if (!g)
        return CLI_EINPUT;
    IrDiag d;
    ir_diag_init(&d, o->model);
    int status = CLI_OK;
    bool plan = o->after && !strcmp(o->after, "plan");
    if (o->after || o->passes) {
        PassContext ctx;
        pass_context_init(&ctx, &d);
        ctx.verify = true;
        ctx.pipeline = names;
        ctx.npipeline = npasses;
        int rc;   /* 0, -1: the pipeline failed, -2: out of memory */
        if (o->diff) {
            rc = dump_diff(g, o, names, npasses, &ctx, f);
        } else {
            if (o->after && strcmp(o->after, "all") != 0 && strcmp(o->after, "plan") != 0)
                ctx.stop_after = o->after;
            if (o->after && !strcmp(o->after, "all")) {
                ctx.dump_after = "all";
                ctx.dump_file = f;
                ctx.dump_opt.show_data = o->show_data;
            }
            rc = pass_run_pipeline(g, &ctx) != 0 ? -1 : 0;
        }
        if (rc == -1) {
            if (d.count == 0)
                ir_diag_error(&d, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
            status = cli_report(&d);
        } else if (rc == -2) {
            status = cli_input_error("dump", "out of memory while printing %s", o->model);
        } else if (o->stats) {
            pass_print_stats(&ctx, stderr);
        }
    }
    if (status == CLI_OK && plan) {
        /* the lowered program: kernels in order and the buffer plan */
        CgProgram *p;
        if (cg_lower(g, &p, &d) != 0)
            status = cli_report(&d);
        else {
            if (o->format == DUMP_TEXT)
                cg_print_program(p, f);
            else
                status = put_picture(o, draw_plan, p, f);
            cg_program_free(p);
        }
    } else if (status == CLI_OK && !o->diff && !(o->after && !strcmp(o->after, "all"))) {
        status = print_graph(g, o, f);
    }
    ir_diag_free(&d);
    ir_graph_free(g);
    return status;
}

typedef struct DumpJob {
    const DumpArgs *o;
    const char *const *names;
    int npasses;
} DumpJob;

static int dump_write(void *arg, FILE *f)
{
    const DumpJob *j = arg;
    return dump(j->o, j->names, j->npasses, f);
}

static int run_dump(int argc, char **argv)
{
    DumpArgs o;
    int r = parse_args(argc, argv, &o);
    if (r != CLI_OK)
        return r;
    const char *names[MAX_PIPELINE];
    int npasses;
    char *buf = NULL;
    if (o.passes) {
        r = cli_pass_list("dump", o.passes, names, MAX_PIPELINE, &npasses, &buf);
        if (r != CLI_OK) {
            free(buf);
            return r;
        }
    } else {
        /* a named pipeline: --pipeline, else the training one when --after names a pass only
         * it runs (autodiff), else the inference one */
        const char *const *def;
        const char *which = o.pipeline;
        if (!which) {
            which = "inference";
            npasses = pass_pipeline("inference", &def);
            bool in_inference = false;
            for (int i = 0; o.after && i < npasses; i++)
                in_inference |= !strcmp(def[i], o.after);
            if (o.after && !in_inference && pass_find(o.after))
                which = "training";
        }
        npasses = pass_pipeline(which, &def);
        for (int i = 0; i < npasses && i < MAX_PIPELINE; i++)
            names[i] = def[i];
    }
    r = check_pipeline(&o, names, npasses);
    char dot[4096];   /* before any work: a picture needs Graphviz */
    if (r == CLI_OK && (o.format == DUMP_SVG || o.format == DUMP_PNG))
        r = cli_find_dot("dump", format_name(o.format), dot, sizeof dot);
    if (r == CLI_OK) {
        DumpJob job = {&o, names, npasses};
        r = cli_write_output("dump", o.out, dump_write, &job);
    }
    free(buf);
    return r;
}

const CliVerb cli_verb_dump = {
    "dump", run_dump,
    "usage: sinter dump MODEL.json|FILE.sir [--after PASS|all] [--passes P1,P2,...] [--pipeline NAME]\n"
    "                             [--diff] [--format text|dot|json|svg|png] [--show-data] [--stats]\n"
    "                             [-o FILE]\n"
    "\n"
    "Prints a model's graph IR. Without --after: the graph as parsed (shapes inferred, no\n"
    "passes run). With --after PASS: after running the pass pipeline up to and including\n"
    "PASS. With --after all: the text IR after every pass of the pipeline, each headed by\n"
    "a '; after PASS' line. With --after plan: after the whole pipeline, the lowered\n"
    "program: kernels in execution order and every buffer's storage, offset and size\n"
    "(a*N+b bytes). With --after autodiff: the training graph (forward, loss, backward and\n"
    "optimizer update nodes), from the training pipeline. The graph is verified after\n"
    "every pass. After fuse, nodes of one kernel group carry 'group=K'. The text parses\n"
    "back: saved as FILE.sir (-o FILE.sir) it is a model for every verb (docs/ir.md).\n"
    "\n"
    "  --after PASS|all|plan  where to print (passes: shape_infer, const_fold, dce, cse, ...)\n"
    "  --pipeline NAME   inference (default) or training: the named pipeline to run\n"
    "  --passes LIST     run this comma-separated pipeline instead of a named one\n"
    "                    (and print after its last pass unless --after says otherwise)\n"
    "  --format FORMAT   text: one node per line with its types (default)\n"
    "                    dot:  a Graphviz digraph: ops as boxes (params and small constants\n"
    "                          in their label), a training graph's optimizer state and what\n"
    "                          each step writes back; with --after plan the kernels (a group\n"
    "                          as a cluster) and the buffers with storage, offset and size\n"
    "                    svg, png: that picture, drawn by Graphviz's dot (must be on PATH)\n"
    "                    json: a model in the input format that parses back (params keep\n"
    "                          their init specs or weights file; folded constants have data)\n"
    "  --diff            with --after all: each pass's change as a unified diff of the text\n"
    "                    IR against the stage before (a pass that changes nothing prints\n"
    "                    '; PASS: no change'); with --after PASS: that pass's diff only\n"
    "  --show-data       text: print constant contents in full instead of a summary\n"
    "  --stats           print what each pass changed to stderr\n"
    "  -o, --output FILE write to FILE (replaced atomically) instead of stdout\n"
    "\n"
    "Exit status: 0 success, 1 invalid model (diagnostics on stderr), 2 bad usage.\n",
    "print the IR as text, DOT or JSON, as parsed or after any pass",
};
