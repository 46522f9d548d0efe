/* libFuzzer target: the model frontend on arbitrary bytes must not crash or leak, and every
 * model it accepts must verify, emit, and re-parse to a graph that prints and emits identically. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_graph(const IrGraph *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        __builtin_trap();
    IrPrintOptions opt = {.show_data = true};
    ir_print_text(g, f, &opt);
    fclose(f);
    return buf;
}

/* Every diagnostic is one line that starts with the file label. */
static void check_diags(const IrDiag *d)
{
    for (int i = 0; i < d->count; i++)
        if (strncmp(d->msgs[i], "fuzz.json: ", 11) || strchr(d->msgs[i], '\n'))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* small limits: the fuzzer looks for bugs, not for out-of-memory on huge declared params */
    FeOptions opt = {.max_data_bytes = 1 << 20, .max_nodes = 1 << 12};
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_model_opts((const char *)data, size, "fuzz.json", "/nonexistent-sinter-fuzz", &opt, &d);
    check_diags(&d);
    if (!g) {
        if (d.count == 0)
            __builtin_trap(); /* a rejection always says why */
        ir_diag_free(&d);
        return 0;
    }
    if (d.count != 0 || ir_verify(g, NULL) != 0)
        __builtin_trap();
    char *j1 = fe_emit_json(g);
    if (!j1)
        __builtin_trap();
    IrGraph *g2 = fe_parse_model_opts(j1, strlen(j1), "fuzz.json", "/nonexistent-sinter-fuzz", &opt, &d);
    if (!g2) {
        ir_diag_print(&d, stderr);
        __builtin_trap(); /* an emitted model must parse again */
    }
    char *j2 = fe_emit_json(g2);
    char *p1 = print_graph(g), *p2 = print_graph(g2);
    if (!j2 || strcmp(j1, j2) || strcmp(p1, p2))
        __builtin_trap();
    free(p1);
    free(p2);
    free(j1);
    free(j2);
    ir_graph_free(g2);
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}
