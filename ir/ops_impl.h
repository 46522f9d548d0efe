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

/* ---- index helpers shared by the reference kernels ------------------------------- */

/* Product of dims[from..to). */
static inline int64_t ir_dims_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* Row-major multi-index idx[0..rank) of flat index i over dims. */
static inline void ir_unravel(int64_t i, int rank, const int64_t *dims, int64_t *idx)
{
    for (int k = rank - 1; k >= 0; k--) {
        idx[k] = dims[k] ? i % dims[k] : 0;
        i = dims[k] ? i / dims[k] : 0;
    }
}

/* Flat offset into t of the element at idx (a full index of rank `rank`) when t broadcasts
 * to that shape (ONNX multidirectional broadcasting: right-aligned, dims of 1 repeat). */
static inline int64_t ir_bcast_offset(const IrTensor *t, int rank, const int64_t *idx)
{
    int64_t off = 0;
    for (int k = 0; k < t->rank; k++) {
        int64_t dim = t->dims[k];
        off = off * dim + (dim == 1 ? 0 : idx[rank - t->rank + k]);
    }
    return off;
}

#endif
