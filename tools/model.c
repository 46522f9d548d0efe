/* Loading models for the verbs, with diagnostics printed one per line. */
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tools/cli.h"

int cli_report(IrDiag *d)
{
    ir_diag_print(d, stderr);
    ir_diag_free(d);
    return CLI_EINPUT;
}

IrGraph *cli_load_model(const char *path)
{
    IrDiag d;
    ir_diag_init(&d, NULL);   /* the frontend prefixes its messages with the path */
    IrGraph *g = fe_load_any(path, &d);   /* MODEL.onnx: imported in memory */
    if (!g) {
        if (d.count == 0)
            ir_diag_error(&d, NULL, "%s: cannot load the model", path);
        cli_report(&d);
        return NULL;
    }
    ir_diag_free(&d);
    return g;
}

IrGraph *cli_load_model_weights(const char *path, const char *weights)
{
    IrGraph *g = cli_load_model(path);
    if (!g || !weights)
        return g;
    IrDiag d;
    ir_diag_init(&d, NULL);   /* fe_apply_weights names the weights file */
    if (fe_apply_weights(g, weights, &d) != 0) {
        cli_report(&d);
        ir_graph_free(g);
        return NULL;
    }
    ir_diag_free(&d);
    return g;
}

int cli_quantize_option(CliArgs *a, const char **kind, const char **group)
{
    const char *v;
    if (cli_option(a, "--quantize", "int8-weights or int4-weights", &v))
        *kind = v;
    else if (cli_option(a, "--quantize-group", "32, 64 or 128", &v))
        *group = v;
    else
        return 0;
    return v ? 1 : -1;
}

int cli_quantize_args(const char *verb, const char *kind, const char *group, PassQuantize *q)
{
    memset(q, 0, sizeof *q);
    if (!kind && !group)
        return CLI_OK;
    if (!kind)
        return cli_usage_error(verb, "--quantize-group needs --quantize int4-weights or int8-weights");
    char err[200];
    if (pass_quantize_parse(kind, group, q, err, sizeof err) != 0)
        return cli_usage_error(verb, "--quantize %s", err);
    return CLI_OK;
}

int cli_quantize_model(IrGraph *g, const PassQuantize *q, IrDiag *d)
{
    if (q->kind == PASS_QUANT_NONE)
        return 0;
    PassContext ctx;
    pass_context_init(&ctx, d);
    ctx.verify = true;
    ctx.quantize = *q;
    return pass_compress(g, &ctx) != 0 || pass_pack_quantized(g, &ctx) != 0 ? -1 : 0;
}

int cli_write_output(const char *verb, const char *path, int (*write)(void *arg, FILE *f), void *arg)
{
    if (!path)
        return write(arg, stdout);
    /* build in memory, then replace the file atomically: no half-written outputs */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return cli_input_error(verb, "out of memory");
    int r = write(arg, mem);
    fclose(mem);
    char err[256];
    if (r == CLI_OK && srt_write_file_atomic(path, text, len, err, sizeof err) != SINTER_OK)
        r = cli_input_error(verb, "%s: %s", path, err);
    free(text);
    return r;
}

int cli_pass_list(const char *verb, const char *list, const char **names, int max, int *count, char **buf)
{
    *count = 0;
    *buf = strdup(list);
    if (!*buf)
        return cli_input_error(verb, "out of memory");
    int n = 0;
    for (char *tok = strtok(*buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max)
            return cli_usage_error(verb, "--passes expects 1 to %d comma-separated pass names, got \"%s\"", max, list);
        char known[512];
        if (!pass_find(tok))
            return cli_usage_error(verb, "--passes: unknown pass \"%s\" (passes: %s)", tok,
                                   pass_list_names(known, sizeof known));
        names[n++] = tok;
    }
    if (n == 0)
        return cli_usage_error(verb, "--passes expects 1 to %d comma-separated pass names, got \"%s\"", max, list);
    *count = n;
    return CLI_OK;
}
