/* Loading models for the verbs, with diagnostics printed one per line. */
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
