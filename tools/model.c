/* Loading models for the verbs, with diagnostics printed one per line. */
#include <stdlib.h>

#include "frontend/frontend.h"
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
