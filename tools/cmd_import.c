/* `sinter import`: an ONNX model -> model JSON plus its weights (.safetensors) beside it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "tools/cli.h"

#define MAX_BIND 16

typedef struct ImportArgs {
    const char *model;        /* MODEL.onnx */
    const char *out;          /* DIR/NAME.json */
    FeOnnxOptions onnx;
    const char *bind[MAX_BIND]; /* --bind NAME=FILE.npy */
    int nbind;
} ImportArgs;

static int parse_args(int argc, char **argv, ImportArgs *o)
{
    static const char *const known[] = {"-o", "--batch-dim", "--batch-first", "--name", "--bind", NULL};
    memset(o, 0, sizeof *o);
    CliArgs a;
    cli_args_init(&a, "import", argc, argv);
    const char *v;
    while (cli_next(&a)) {
        if (cli_option(&a, "-o", "the output path DIR/NAME.json", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->out = v;
        } else if (cli_option(&a, "--batch-dim", "the name of a symbolic dim (dim_param)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->onnx.batch_dim = v;
        } else if (cli_option(&a, "--name", "a C identifier", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->onnx.name = v;
        } else if (cli_option(&a, "--bind", "NAME=FILE.npy", &v)) {
            if (!v)
                return CLI_EUSAGE;
            const char *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1])
                return cli_usage_error("import", "--bind %s: expected NAME=FILE.npy", v);
            if (o->nbind == MAX_BIND)
                return cli_usage_error("import", "--bind: at most %d inputs", MAX_BIND);
            o->bind[o->nbind++] = v;
        } else if (cli_flag(&a, "--batch-first")) {
            o->onnx.batch_first = true;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("import", "expects one MODEL.onnx, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("import", "expects a MODEL.onnx");
    if (!o->out)
        return cli_usage_error("import", "-o DIR/NAME.json is required");
    if (!cli_has_suffix(o->out, ".json") || strlen(o->out) <= 5)
        return cli_usage_error("import", "-o %s: the output must be a .json path (the weights go beside it as "
                               "NAME.safetensors)", o->out);
    if (o->onnx.batch_dim && o->onnx.batch_first)
        return cli_usage_error("import", "give either --batch-dim or --batch-first, not both");
    return CLI_OK;
}

/* NAME of DIR/NAME.json, and the model name made from it (a C identifier). */
static void names_of(const char *out, char *stem, size_t len, char *ident, size_t ilen)
{
    const char *b = strrchr(out, '/');
    b = b ? b + 1 : out;
    size_t n = strlen(b) - 5;
    snprintf(stem, len, "%.*s", (int)n, b);
    size_t o = 0;
    if (!((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= 'A' && b[0] <= 'Z') || b[0] == '_'))
        ident[o++] = 'm', ident[o++] = '_';
    for (size_t i = 0; i < n && o + 1 < ilen; i++) {
        char ch = b[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        ident[o++] = ok ? ch : '_';
    }
    ident[o] = 0;
}

static int import_bound(const ImportArgs *po, const char *wname);

static int run_import(int argc, char **argv)
{
    ImportArgs o;
    int r = parse_args(argc, argv, &o);
    if (r != CLI_OK)
        return r;
    char stem[256], ident[256], wname[300];
    names_of(o.out, stem, sizeof stem, ident, sizeof ident);
    snprintf(wname, sizeof wname, "%s.safetensors", stem);
    if (!o.onnx.name)
        o.onnx.name = ident;
    o.onnx.weights = wname;

    /* --bind: the graph inputs given values (constants of the model) */
    SrtTensor bound[MAX_BIND];
    for (int i = 0; i < o.nbind; i++) {
        char err[512];
        const char *eq = strchr(o.bind[i], '=');
        if (srt_npy_read(eq + 1, &bound[i], err, sizeof err) != SINTER_OK) {
            for (int k = 0; k < i; k++)
                srt_tensor_free(&bound[k]);
            return cli_input_error("import", "%s: %s", eq + 1, err);
        }
        free(bound[i].name);
        bound[i].name = srt_strndup(o.bind[i], (size_t)(eq - o.bind[i]));
        if (!bound[i].name) {
            for (int k = 0; k <= i; k++)
                srt_tensor_free(&bound[k]);
            return cli_input_error("import", "out of memory");
        }
    }
    o.onnx.bind = bound;
    o.onnx.nbind = o.nbind;
    int status = import_bound(&o, wname);
    for (int i = 0; i < o.nbind; i++)
        srt_tensor_free(&bound[i]);
    return status;
}

/* The import proper (o->onnx complete). */
static int import_bound(const ImportArgs *po, const char *wname)
{
    ImportArgs o = *po;
    IrDiag d;
    ir_diag_init(&d, NULL);
    FeOnnxModel m;
    if (fe_onnx_import(o.model, &o.onnx, &m, &d) != 0) {
        if (d.count == 0)
            ir_diag_error(&d, NULL, "%s: cannot import the model", o.model);
        return cli_report(&d);
    }
    /* The result must load before anything is written: the frontend checks it as it will
     * check the files (types, shapes, every op's rules), with the weights from memory. */
    size_t olen = strlen(o.out);
    char *dir = srt_malloc(olen + 2), *wpath = srt_malloc(olen + 300);
    if (!dir || !wpath) {
        free(dir);
        free(wpath);
        fe_onnx_model_free(&m);
        return cli_input_error("import", "out of memory");
    }
    memcpy(dir, o.out, olen + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    snprintf(wpath, olen + 300, "%s/%s", dir, wname);
    int status = CLI_OK;
    {
        char label[600];
        snprintf(label, sizeof label, "initializers of %s", o.model);
        FeOptions fo = {.weights = &m.weights, .weights_label = label};
        IrGraph *g = fe_parse_model_opts(m.json, m.json_len, o.model, dir, &fo, &d);
        if (!g) {
            status = cli_report(&d);
            goto out;
        }
        ir_graph_free(g);
    }
    char err[512];
    if (srt_safetensors_write(wpath, m.weights.tensors, m.weights.count, err, sizeof err) != SINTER_OK) {
        status = cli_input_error("import", "%s: %s", wpath, err);
        goto out;
    }
    if (srt_write_file_atomic(o.out, m.json, m.json_len, err, sizeof err) != SINTER_OK) {
        unlink(wpath);
        status = cli_input_error("import", "%s: %s", o.out, err);
        goto out;
    }
    printf("wrote %s and %s (%d params)\n", o.out, wpath, m.weights.count);
    ir_diag_free(&d);
out:
    free(dir);
    free(wpath);
    fe_onnx_model_free(&m);
    return status;
}

const CliVerb cli_verb_import = {
    "import", run_import,
    "usage: sinter import MODEL.onnx -o DIR/NAME.json [--batch-dim SYMBOL | --batch-first]\n"
    "                     [--name IDENT] [--bind NAME=FILE.npy ...]\n"
    "\n"
    "Converts an ONNX model (opsets 1 to 21) to sinter's model format: DIR/NAME.json and its\n"
    "params (the ONNX initializers, external data included) in DIR/NAME.safetensors, which the\n"
    "JSON names as its weights. Nodes of older opsets are written in the forms sinter\n"
    "implements; Constant nodes and small integer initializers become constants; tensor and\n"
    "node names stay the ONNX names. The result is checked as 'sinter check' would before\n"
    "anything is written. Every other verb also takes MODEL.onnx directly (imported in memory).\n"
    "\n"
    "  -o DIR/NAME.json  the model file to write; NAME.safetensors goes beside it\n"
    "  --batch-dim SYM   the symbolic input dim (dim_param) that is sinter's batch N (default:\n"
    "                    the only dim_param of the graph inputs, when there is exactly one)\n"
    "  --batch-first     dim 0 of every graph input is N, whatever the file says\n"
    "  --name IDENT      the model name (prefix of the generated library's symbols; default:\n"
    "                    NAME made a C identifier)\n"
    "  --bind NAME=FILE.npy  graph input NAME becomes a constant with this value (for inputs\n"
    "                    sinter needs at compile time: a Reshape's shape, a Slice's starts,\n"
    "                    ...); repeatable\n"
    "\n"
    "Unsupported ops are listed in one message with their node names. Exit status: 0 success,\n"
    "1 bad or unsupported model (nothing is written), 2 bad usage.\n",
    "convert an ONNX model to model JSON + .safetensors weights",
};
