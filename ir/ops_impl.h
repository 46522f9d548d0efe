/* Private to ir/: prototypes of every op's shape function and reference kernel, and
 * helpers shared by their implementations (ops_*.c). */
#ifndef SINTER_IR_OPS_IMPL_H
#define SINTER_IR_OPS_IMPL_H

#include "ir/ir.h"

#define OP(id, name, min_in, max_in, min_out, max_out, flags, attrs)                         \
    int shape_##name(IrGraph *g, IrNode *n, IrDiag *d);                                     \
    int ref_##name(const IrGraph *g, const IrNode *n, IrTensor *const *in,                  \
                   IrTensor *const *out, IrDiag *d);
#include "ir/ops.def"
#undef OP

/* Input/output values of a node (NULL for an absent optional input). */
static inline IrValue *ir_in(const IrGraph *g, const IrNode *n, int i)
{
    return (i < n->nin && n->in[i] >= 0) ? g->values[n->in[i]] : NULL;
}
static inline IrValue *ir_out(const IrGraph *g, const IrNode *n, int i)
{
    return (i < n->nout && n->out[i] >= 0) ? g->values[n->out[i]] : NULL;
}
/* Set the type of output i (no-op for an unused optional output). */
void ir_set_out(IrGraph *g, IrNode *n, int i, IrDtype dtype, const IrShape *shape);
/* Set the compile-time content of output i (count == numel of its shape), copied. */
void ir_set_out_sym(IrGraph *g, IrNode *n, int i, int count, const IrDim *sym);

#endif
