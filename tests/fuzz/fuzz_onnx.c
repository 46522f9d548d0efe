/* libFuzzer target: the ONNX import on arbitrary bytes must not crash or leak; every message is
 * one line that starts with the file label; a rejection always says why; and the model JSON an
 * accepted file gives is read by the frontend (which may refuse it, with a message, since ONNX
 * allows graphs sinter does not). External data files are looked up in a folder that does not
 * exist, so the fuzzer never reads the disk. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz.onnx"

static void check_diags(const IrDiag *d)
{
    size_t l = strlen(LABEL);
    for (int i = 0; i < d->count; i++)
        if (strncmp(d->msgs[i], LABEL ": ", l + 2) || strchr(d->msgs[i], '\n'))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small limits: the fuzzer looks for bugs, not for out-of-memory on huge declared tensors */
    FeOnnxOptions o = {.max_bytes = 1 << 20};
    IrDiag d;
    ir_diag_init(&d, NULL);
    FeOnnxModel m;
    int rc = fe_onnx_import_mem(data, size, LABEL, "/nonexistent-sinter-fuzz", &o, &m, &d);
    check_diags(&d);
    if (rc != 0) {
        if (d.count == 0)
            __builtin_trap();
        ir_diag_free(&d);
        return 0;
    }
    if (d.count != 0 || !m.json)
        __builtin_trap();
    FeOptions fo = {.max_data_bytes = 1 << 20, .max_nodes = 1 << 12, .weights = &m.weights,
                    .weights_label = "initializers of " LABEL};
    IrGraph *g = fe_parse_model_opts(m.json, m.json_len, LABEL, "/nonexistent-sinter-fuzz", &fo, &d);
    check_diags(&d);
    if (g ? d.count != 0 || ir_verify(g, NULL) != 0 : d.count == 0)
        __builtin_trap();
    ir_graph_free(g);
    fe_onnx_model_free(&m);
    ir_diag_free(&d);
    return 0;
}
