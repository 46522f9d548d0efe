/* Diagnostics: one-line user-facing error messages collected up the stack. */
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

void ir_diag_init(IrDiag *d, const char *file)
{
    memset(d, 0, sizeof *d);
    d->file = file;
}

void ir_diag_free(IrDiag *d)
{
    for (int i = 0; i < d->count; i++)
        free(d->msgs[i]);
    free(d->msgs);
    d->msgs = NULL;
    d->count = d->cap = 0;
}

void ir_diag_verror(IrDiag *d, const char *where, const char *fmt, va_list ap)
{
    if (!d)
        return;
    char body[1024];
    vsnprintf(body, sizeof body, fmt, ap);
    /* messages are one line: fold any newline a caller let through */
    for (char *p = body; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t need = strlen(body) + (d->file ? strlen(d->file) : 0) + (where ? strlen(where) : 0) + 8;
    char *msg = srt_malloc(need);
    IR_ASSERT(msg);
    if (d->file && where && *where)
        snprintf(msg, need, "%s: %s: %s", d->file, where, body);
    else if (d->file)
        snprintf(msg, need, "%s: %s", d->file, body);
    else if (where && *where)
        snprintf(msg, need, "%s: %s", where, body);
    else
        snprintf(msg, need, "%s", body);
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->msgs = srt_realloc(d->msgs, (size_t)d->cap * sizeof *d->msgs);
        IR_ASSERT(d->msgs);
    }
    d->msgs[d->count++] = msg;
}

void ir_diag_error(IrDiag *d, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(d, where, fmt, ap);
    va_end(ap);
}

void ir_diag_print(const IrDiag *d, FILE *f)
{
    for (int i = 0; i < d->count; i++)
        fprintf(f, "%s\n", d->msgs[i]);
}

const char *ir_diag_first(const IrDiag *d)
{
    return d->count ? d->msgs[0] : NULL;
}
