/* Batch chunks: whether the inference program may run a large batch as consecutive chunks of
 * a few samples, and how many per chunk.
 *
 * Each kernel sweeps the whole batch, so at batch 64 a convolution's output (4 MB) leaves L2
 * before the next kernel reads it back. When every sample is computed on its own, the entry
 * instead runs the whole program on chunks of B samples in turn, with the intermediates of one
 * chunk (scratch a*B + b bytes) sized to stay in cache. That needs, conservatively:
 *  - every activation of shape [N, constant dims...] (the batch only as the leading axis), and
 *    every graph output too; inputs without N are shared by every chunk;
 *  - every node computing sample i from sample i of its activation inputs: element-wise ops with
 *    activation operands of the output's rank (their axis 0 aligned), the anchors on their first
 *    input with params or constants for the rest, and axis-0-free forms of Softmax,
 *    reductions, Transpose, Concat, Split, Slice and Gather;
 *  - params small enough to stay in cache across chunks (each chunk reads all of them again). */
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

/* Scratch of one chunk, and the largest param block worth re-reading per chunk (L2-sized:
 * 2 MB on the Xeons this was measured on, 512 KB on Zen 3, where L3 is close). */
#define CHUNK_SCRATCH_BYTES (1 << 20)
#define CHUNK_MAX_PARAM_BYTES (1 << 20)

static bool leading_n(const IrShape *s)
{
    if (s->rank < 1 || s->d[0].a != 1 || s->d[0].b != 0)
        return false;
    for (int i = 1; i < s->rank; i++)
        if (!ir_dim_is_const(s->d[i]))
            return false;
    return true;
}

static bool is_input_like(const IrGraph *g, int v)
{
    return v >= 0 && (g->values[v]->role == IR_ROLE_ACT || g->values[v]->role == IR_ROLE_INPUT);
}

/* Inputs after the first are params or constants (or absent). */
static bool rest_fixed(const IrGraph *g, const IrNode *n)
{
    for (int k = 1; k < n->nin; k++)
        if (is_input_like(g, n->in[k]))
            return false;
    return true;
}

/* The attribute axis (written or default), normalized, is not 0. */
static bool axis_not0(const IrNode *n, const char *attr, int rank)
{
    int a;
    return ir_norm_axis(ir_attr_int(n, attr), rank, &a) && a != 0;
}

/* Slice's axes input is a constant list without axis 0 (absent: the leading axes, 0 among them). */
static bool slice_axes_not0(IrGraph *g, const IrNode *n, int rank)
{
    int64_t *axes;
    int count = n->nin >= 4 && n->in[3] >= 0 ? ir_value_const_ints(g, n->in[3], &axes) : -1;
    if (count <= 0)
        return false;
    for (int i = 0; i < count; i++) {
        int a;
        if (!ir_norm_axis(axes[i], rank, &a) || a == 0)
            return false;
    }
    return true;
}

static bool node_separable(IrGraph *g, const IrNode *n)
{
    if (n->nin < 1 || n->nout < 1)
        return false;
    int x = n->in[0];
    int rank = n->in[0] >= 0 ? g->values[x]->shape.rank : 0;
    int orank = g->values[n->out[0]]->shape.rank;
    const IrOpInfo *info = ir_op_info(n->op);
    if (info->flags & (IR_OPF_INTERNAL | IR_OPF_LOSS | IR_OPF_SHAPE_ONLY))
        return false;
    if (info->flags & IR_OPF_ELEMENTWISE) {
        for (int k = 0; k < n->nin; k++)
            if (is_input_like(g, n->in[k]) && g->values[n->in[k]]->shape.rank != orank)
                return false;
        return true;
    }
    switch (n->op) {
    case IR_OP_IDENTITY:
    case IR_OP_DROPOUT:
    case IR_OP_RESHAPE:
    case IR_OP_FLATTEN:
    case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE:
        /* the leading N kept on both sides: each sample's elements stay one block */
        return true;
    case IR_OP_GEMM:
        return ir_attr_int(n, "transA") == 0 && rest_fixed(g, n);
    case IR_OP_MATMUL:
        if (!is_input_like(g, x))
            return false;
        if (!is_input_like(g, n->in[1]))
            return true;
        return rank >= 3 && g->values[n->in[1]]->shape.rank == rank;
    case IR_OP_CONV:
    case IR_OP_CONVT:
    case IR_OP_MAXPOOL:
    case IR_OP_AVGPOOL:
    case IR_OP_GAP:
    case IR_OP_BATCHNORM:
        return rest_fixed(g, n);
    case IR_OP_LAYERNORM:
        return rest_fixed(g, n) && axis_not0(n, "axis", rank);
    case IR_OP_SOFTMAX:
    case IR_OP_LOGSOFTMAX:
        return axis_not0(n, "axis", rank);
    case IR_OP_REDUCEMEAN:
    case IR_OP_REDUCESUM:
    case IR_OP_REDUCEMAX: {
        bool reduced[IR_MAX_RANK];
        return ir_reduce_axes(g, n, reduced) >= 0 && !reduced[0];
    }
    case IR_OP_TRANSPOSE: {
        const int64_t *perm;
        int count = ir_attr_ints(n, "perm", &perm);
        return count == rank && perm[0] == 0;
    }
    case IR_OP_CONCAT:
    case IR_OP_SPLIT:
        return axis_not0(n, "axis", n->op == IR_OP_CONCAT ? orank : rank);
    case IR_OP_SLICE:
        return slice_axes_not0(g, n, rank);
    case IR_OP_GATHER:
        /* rows of a table by each sample's indices, or within each sample by fixed indices */
        if (!is_input_like(g, x))
            return true;
        return axis_not0(n, "axis", rank) && !is_input_like(g, n->in[1]);
    default:
        return false;
    }
}

int64_t cg_batch_chunk(const CgProgram *p)
{
    IrGraph *g = (IrGraph *)p->g;
    if (p->scratch_bytes.a <= 0 || p->scratch_bytes.b != 0 || p->scratch_bytes.a % CG_ALIGN ||
        p->param_bytes > CHUNK_MAX_PARAM_BYTES)
        return 0;
    int64_t chunk = CHUNK_SCRATCH_BYTES / p->scratch_bytes.a;
    if (chunk < 1)
        chunk = 1;
    for (int i = 0; i < p->nout; i++)
        if (!leading_n(&g->values[p->out[i]]->shape))
            return 0;
    for (int i = 0; i < p->nin; i++) {
        const IrShape *s = &g->values[p->in[i]]->shape;
        bool has_n = false;
        for (int d = 0; d < s->rank; d++)
            has_n |= !ir_dim_is_const(s->d[d]);
        if (has_n && !leading_n(s))
            return 0;
    }
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && !leading_n(&g->values[n->out[k]]->shape))
                return 0;
        if (!node_separable(g, n))
            return 0;
    }
    return chunk < p->max_n ? chunk : 0;   /* else no batch has two chunks */
}
