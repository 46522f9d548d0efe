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

int cli_quantize_option(CliArgs *a, CliQuant *q)
{
    const char *v;
    if (cli_option(a, "--quantize", "int8, int8-weights or int4-weights", &v))
        q->kind = v;
    else if (cli_option(a, "--quantize-group", "32, 64 or 128", &v))
        q->group = v;
    else if (cli_option(a, "--calibrate", "calibration data, as --data of sinter train", &v))
        q->calibrate = v;
    else if (cli_option(a, "--calibrate-samples", "a count of examples", &v))
        q->samples = v;
    else if (cli_option(a, "--quantize-tolerance", "a relative error such as 0.05", &v))
        q->tolerance = v;
    else if (cli_flag(a, "--quantize-report"))
        return q->report = true;
    else if (cli_flag(a, "--sparse"))
        return q->sparse = true;
    else
        return 0;
    return v ? 1 : -1;
}

int cli_quantize_args(const char *verb, CliQuant *q)
{
    memset(&q->pass, 0, sizeof q->pass);
    q->ranges = NULL;
    q->nsamples = CLI_CALIBRATE_SAMPLES;
    q->tol = 0;
    q->keep = NULL;
    q->nkeep = 0;
    if ((q->report || q->tolerance) && !(q->kind && !strcmp(q->kind, "int8")))
        return cli_usage_error(verb, "%s applies to --quantize int8 (its errors are measured on the calibration "
                               "examples)", q->report ? "--quantize-report" : "--quantize-tolerance");
    if (!q->kind && !q->group && !q->calibrate && !q->samples)
        return CLI_OK;
    if (!q->kind)
        return cli_usage_error(verb, "%s needs --quantize %s", q->group ? "--quantize-group" : q->calibrate ?
                               "--calibrate" : "--calibrate-samples", q->group ? "int4-weights or int8-weights" : "int8");
    char err[200];
    if (pass_quantize_parse(q->kind, q->group, &q->pass, err, sizeof err) != 0)
        return cli_usage_error(verb, "--quantize %s", err);
    if (q->pass.kind != PASS_QUANT_INT8 && (q->calibrate || q->samples))
        return cli_usage_error(verb, "--calibrate applies to --quantize int8 (%s quantizes weights only)", q->kind);
    if (q->pass.kind == PASS_QUANT_INT8 && !q->calibrate)
        return cli_usage_error(verb, "--quantize int8 needs the ranges of the activations: give --calibrate DATA "
                               "(e.g. fmnist: a few hundred training examples)");
    if (q->samples) {
        char *end;
        long long k = strtoll(q->samples, &end, 10);
        if (*end || end == q->samples || k < 1 || k > 1000000)
            return cli_usage_error(verb, "--calibrate-samples expects a count from 1 to 1000000, got \"%s\"",
                                   q->samples);
        q->nsamples = k;
    }
    if (q->tolerance) {
        char *end;
        q->tol = strtod(q->tolerance, &end);
        if (*end || end == q->tolerance || !(q->tol > 0 && q->tol < 1e6))
            return cli_usage_error(verb, "--quantize-tolerance expects a relative error > 0 such as 0.05, got \"%s\"",
                                   q->tolerance);
    }
    return CLI_OK;
}

void cli_quant_free(CliQuant *q)
{
    for (int i = 0; q->ranges && i < q->pass.nranges; i++)
        free((char *)q->ranges[i].name);
    free(q->ranges);
    q->ranges = NULL;
    for (int i = 0; i < q->nkeep; i++)
        free(q->keep[i]);
    free(q->keep);
    q->keep = NULL;
    q->nkeep = 0;
    q->pass.keep = NULL;
    q->pass.nkeep = 0;
    q->pass.ranges = NULL;
    q->pass.nranges = 0;
}

int cli_quantize_model(IrGraph *g, CliQuant *q, IrDiag *d)
{
    if (q->pass.kind == PASS_QUANT_NONE && !q->sparse)
        return 0;
    if (cli_quantize_calibrate(g, NULL, q, NULL, d) != 0)
        return -1;
    PassContext ctx;
    pass_context_init(&ctx, d);
    ctx.verify = true;
    ctx.quantize = q->pass;
    ctx.sparse = q->sparse;
    int rc = pass_compress(g, &ctx) != 0 || pass_pack_quantized(g, &ctx) != 0 ? -1 : 0;
    cli_quant_free(q);
    return rc;
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
    *buf = srt_strdup(list);
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
