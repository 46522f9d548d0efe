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

/* Pad's source index along an axis for output index o (-1: the constant; ir/ops_shape.c). */
int64_t ir_pad_source(const char *mode, int64_t o, int64_t begin, int64_t dim);

/* ---- sliding windows (ir/interp_window.c) ------------------------------------------ */

/* The attribute `name` if it has exactly count entries, else count copies of def. */
void ir_ints_or(const IrNode *n, const char *name, int count, int64_t def, int64_t *out);

/* Window geometry of a conv or pool node at concrete sizes. The shape function validated the
 * attributes; this only resolves defaults and auto_pad. */
typedef struct IrWin {
    int nsp;                        /* spatial axes */
    int64_t k[IR_MAX_RANK];         /* kernel */
    int64_t s[IR_MAX_RANK];         /* strides */
    int64_t dil[IR_MAX_RANK];       /* dilations (1 when the op has none) */
    int64_t pb[IR_MAX_RANK];        /* padding at the beginning of each axis */
    int64_t pe[IR_MAX_RANK];        /* padding at the end */
    int64_t ktotal;                 /* kernel taps: product of k */
    int64_t *taps;                  /* ktotal * nsp kernel coordinates, row-major; malloc'ed (free it) */
} IrWin;

/* Kernel (NULL: the kernel_shape attribute), strides, dilations and the tap table; no pads. */
int ir_win_init(const IrNode *n, int nsp, const int64_t *kernel, bool use_dil, IrWin *w);
/* (k-1)*dilation+1 along axis i. */
int64_t ir_win_extent(const IrWin *w, int i);
/* Pads of Conv and the pools for spatial input dims in_dims: explicit, VALID (none) or SAME
 * (total padding so the output is ceil(in / stride); the odd unit at the end for SAME_UPPER). */
void ir_win_forward_pads(const IrNode *n, const int64_t *in_dims, IrWin *w);
/* ir_win_init (dilations if the op has them) then ir_win_forward_pads. */
int ir_win_init_pads(const IrNode *n, int nsp, const int64_t *kernel, const int64_t *in_dims, IrWin *w);
/* For output position oidx: the row-major offset in one spatial plane of the input that each
 * tap reads, or -1 when it falls in padding. */
void ir_win_offsets(const IrWin *w, const int64_t *in_dims, const int64_t *oidx, int64_t *offs);

#endif
