/* Pass shape_infer: types every value by running each op's shape function (ir_infer_shapes). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* A value's type and symbolic content before the pass, to tell whether anything changed. */
typedef struct TypeSnapshot {
    bool typed;
    IrDtype dtype;
    IrShape shape;
    const IrDim *sym;         /* arena memory: stays valid when inference replaces it */
} TypeSnapshot;

static bool same_sym(const IrValue *v, const TypeSnapshot *s)
{
    if (!v->sym || !s->sym)
        return !v->sym && !s->sym;
    IrDim cnt;
    if (!ir_shape_numel(&v->shape, &cnt) || cnt.a != 0)
        return false;
    return memcmp(v->sym, s->sym, (size_t)cnt.b * sizeof(IrDim)) == 0;
}

PassResult pass_shape_infer(IrGraph *g, PassContext *ctx)
{
    TypeSnapshot *before = srt_calloc((size_t)g->nvalues + 1, sizeof *before);
    IR_ASSERT(before);
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        before[i] = (TypeSnapshot){v->typed, v->dtype, v->shape, v->sym};
    }
    if (ir_infer_shapes(g, ctx->diag) != 0) {
        free(before);
        return PASS_ERROR;
    }
    int64_t typed = 0, sym = 0;
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        const TypeSnapshot *s = &before[i];
        bool type_same = s->typed == v->typed && (!v->typed || (s->dtype == v->dtype && ir_shape_eq(&s->shape, &v->shape)));
        if (!type_same)
            typed++;
        else if (!same_sym(v, s))
            sym++;
    }
    free(before);
    pass_stat_add(ctx, "values typed", typed);
    return typed || sym ? PASS_CHANGED : PASS_UNCHANGED;
}
