/* libFuzzer target: the .sir text IR parser on arbitrary bytes must not crash or leak, every
 * rejection says why in one line, and every text it accepts prints to a text that parses back
 * and prints identically (with and without full data). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print_graph(const IrGraph *g, bool full)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        __builtin_trap();
    IrPrintOptions opt = {.show_data = full};
    ir_print_text(g, f, &opt);
    fclose(f);
    return buf;
}

static void check_diags(const IrDiag *d)
{
    for (int i = 0; i < d->count; i++)
        if (strncmp(d->msgs[i], "fuzz.sir: ", 10) || strchr(d->msgs[i], '\n'))
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FeOptions opt = {.max_data_bytes = 1 << 20, .max_nodes = 1 << 12};
    const char *dir = "/nonexistent-sinter-fuzz";
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = fe_parse_sir((const char *)data, size, "fuzz.sir", dir, &opt, &d);
    check_diags(&d);
    if (!g) {
        if (d.count == 0)
            __builtin_trap(); /* a rejection always says why */
        ir_diag_free(&d);
        return 0;
    }
    if (d.count != 0 || ir_verify(g, NULL) != 0)
        __builtin_trap();
    for (int full = 0; full < 2; full++) {
        char *p1 = print_graph(g, full);
        IrGraph *g2 = fe_parse_sir(p1, strlen(p1), "fuzz.sir", dir, &opt, &d);
        if (!g2) {
            ir_diag_print(&d, stderr);
            __builtin_trap(); /* a printed graph must parse again */
        }
        char *p2 = print_graph(g2, full);
        if (strcmp(p1, p2))
            __builtin_trap();
        free(p1);
        free(p2);
        ir_graph_free(g2);
    }
    ir_graph_free(g);
    ir_diag_free(&d);
    return 0;
}
