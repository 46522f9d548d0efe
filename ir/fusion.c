/* The fusion contract between passes/fuse (which groups nodes) and codegen (which emits one kernel per group). */
#include <string.h>

#include "ir/ops_impl.h"

/* A kernel group (IrNode.group) is an anchor node plus element-wise members, or element-wise
 * members only. Every member but the anchor computes one output element from the elements at
 * the same position of its inputs, and has the group's shape (the anchor's output 0, or the
 * common output shape of an element-wise group); the kernel computes the members on the fly
 * and stores only the values that are needed outside the group. The rules below are the ones
 * both sides rely on; docs/codegen.md explains them with examples. */

bool ir_fusable_elementwise(const IrGraph *g, const IrNode *n)
{
    if (n->nout != 1 || n->out[0] < 0)
        return false;
    if (n->op == IR_OP_BATCHNORM)
        return ir_batchnorm_is_affine(g, n);
    /* Identity is a view (no kernel at all); losses and the training graph's internal ops
     * other than the element-wise gradients have their own kernels */
    unsigned f = ir_op_info(n->op)->flags;
    return (f & IR_OPF_ELEMENTWISE) && !(f & IR_OPF_LOSS) && n->op != IR_OP_IDENTITY;
}

bool ir_batchnorm_is_affine(const IrGraph *g, const IrNode *n)
{
    if (n->op != IR_OP_BATCHNORM || n->nin != 5 || ir_attr_int(n, "training_mode") != 0)
        return false;
    for (int k = 1; k < n->nout; k++)
        if (n->out[k] >= 0)
            return false;
    const IrValue *x = ir_in(g, n, 0);
    return x && x->typed && x->shape.rank >= 2;
}

int ir_operand_axis(const IrGraph *g, const IrNode *n, int i, int out_rank)
{
    const IrValue *v = ir_in(g, n, i);
    if (!v)
        return -1;
    /* BatchNormalization's per-channel inputs line up with axis 1 of x */
    if (n->op == IR_OP_BATCHNORM && i >= 1)
        return 1;
    return out_rank - v->shape.rank;
}

int ir_epilogue_split(const IrGraph *g, const IrNode *n)
{
    const IrValue *y = ir_out(g, n, 0);
    if (!y || !y->typed || !ir_dtype_is_float(y->dtype))
        return -1;
    int r = y->shape.rank;
    switch (n->op) {
    case IR_OP_GEMM:
    case IR_OP_DEQUANTGEMM:
    case IR_OP_INTGEMM:   /* float_out only (a float output) */
    case IR_OP_SPARSEGEMM:
        return 1;
    case IR_OP_MATMUL:
        return r > 0 ? r - 1 : 0;
    case IR_OP_CONV:
    case IR_OP_AVGPOOL:
    case IR_OP_GAP:
        return r >= 2 ? 2 : -1;
    case IR_OP_MAXPOOL:
        return r >= 2 && (n->nout < 2 || n->out[1] < 0) ? 2 : -1;
    case IR_OP_BATCHNORM:
        return ir_batchnorm_is_affine(g, n) ? 2 : -1;
    case IR_OP_SOFTMAX:
    case IR_OP_LOGSOFTMAX:
    case IR_OP_LAYERNORM: {
        int axis;
        if (!ir_norm_axis(ir_attr_int(n, "axis"), r, &axis) || axis != r - 1)
            return -1;
        if (n->op == IR_OP_LAYERNORM)
            for (int k = 1; k < n->nout; k++)
                if (n->out[k] >= 0)
                    return -1;
        return r - 1;
    }
    case IR_OP_REDUCEMEAN:
    case IR_OP_REDUCESUM:
    case IR_OP_REDUCEMAX:
        /* with noop_with_empty_axes the kernel may copy its input in bulk */
        return ir_attr_int(n, "noop_with_empty_axes") ? -1 : r;
    default:
        return -1;
    }
}

bool ir_operand_fits_split(const IrShape *out, const IrShape *opnd, int axis, int split)
{
    if (axis < 0 || axis + opnd->rank > out->rank)
        return false;
    int full = 0, bcast = 0;
    for (int d = 0; d < out->rank; d++) {
        int od = d - axis;
        bool one = od < 0 || od >= opnd->rank || (opnd->d[od].a == 0 && opnd->d[od].b == 1);
        if (!one && !ir_dim_eq(opnd->d[od], out->d[d]))
            return false;   /* does not broadcast */
        if (d >= split && !(out->d[d].a == 0 && out->d[d].b == 1)) {
            if (one)
                bcast++;
            else
                full++;
        }
    }
    return full == 0 || bcast == 0;
}
