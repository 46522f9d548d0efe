/* Kernel dispatch: one table indexed by op with each op's emitter and work estimate, and which ops are views. */
#include "codegen/emit.h"

bool cg_is_view(const IrGraph *g, const IrNode *n)
{
    switch (n->op) {
    case IR_OP_RESHAPE:
    case IR_OP_FLATTEN:
    case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE:
    case IR_OP_IDENTITY:
        return true;
    case IR_OP_DROPOUT:
        /* inference Dropout is the identity; the mask output (all true) needs a kernel */
        return n->nout < 2 || n->out[1] < 0;
    default:
        return false;
    }
}

/* How an op's work is estimated (cg_node_cost). */
typedef enum CgWork {
    WORK_FLOPS,               /* ir_node_flops: the arithmetic dominates */
    WORK_MOVE                 /* data movement: the elements written */
} CgWork;

typedef struct CgOpImpl {
    int (*emit)(CgKernel *k); /* builds the kernel of a step whose anchor (or only node) has this op;
                                 element-wise ops: cg_k_elementwise, which builds any element-wise group */
    CgWork work;
} CgOpImpl;

#define EW {cg_k_elementwise, WORK_FLOPS}

/* ORDER: indexed by IrOp. Every op of ops.def has an emitter (tests check it). */
static const CgOpImpl impls[IR_OP_COUNT] = {
    [IR_OP_GEMM] = {cg_k_gemm, WORK_FLOPS},
    [IR_OP_MATMUL] = {cg_k_matmul, WORK_FLOPS},
    [IR_OP_CONV] = {cg_k_conv, WORK_FLOPS},
    [IR_OP_CONVT] = {cg_k_convt, WORK_FLOPS},
    [IR_OP_MAXPOOL] = {cg_k_pool, WORK_FLOPS},
    [IR_OP_AVGPOOL] = {cg_k_pool, WORK_FLOPS},
    [IR_OP_GAP] = {cg_k_pool, WORK_FLOPS},
    [IR_OP_BATCHNORM] = {cg_k_norm, WORK_FLOPS},
    [IR_OP_LAYERNORM] = {cg_k_norm, WORK_FLOPS},
    [IR_OP_SOFTMAX] = {cg_k_softmax, WORK_FLOPS},
    [IR_OP_LOGSOFTMAX] = {cg_k_softmax, WORK_FLOPS},
    [IR_OP_DROPOUT] = {cg_k_copy, WORK_MOVE},
    [IR_OP_RELU] = EW,
    [IR_OP_LEAKYRELU] = EW,
    [IR_OP_SIGMOID] = EW,
    [IR_OP_TANH] = EW,
    [IR_OP_GELU] = EW,
    [IR_OP_ERF] = EW,
    [IR_OP_EXP] = EW,
    [IR_OP_LOG] = EW,
    [IR_OP_SQRT] = EW,
    [IR_OP_NEG] = EW,
    [IR_OP_ABS] = EW,
    [IR_OP_CLIP] = EW,
    [IR_OP_CAST] = EW,
    [IR_OP_IDENTITY] = {cg_k_copy, WORK_MOVE},
    [IR_OP_ADD] = EW,
    [IR_OP_SUB] = EW,
    [IR_OP_MUL] = EW,
    [IR_OP_DIV] = EW,
    [IR_OP_POW] = EW,
    [IR_OP_MAX] = EW,
    [IR_OP_MIN] = EW,
    [IR_OP_WHERE] = EW,
    [IR_OP_EQUAL] = EW,
    [IR_OP_LESS] = EW,
    [IR_OP_GREATER] = EW,
    [IR_OP_REDUCEMEAN] = {cg_k_reduce, WORK_FLOPS},
    [IR_OP_REDUCESUM] = {cg_k_reduce, WORK_FLOPS},
    [IR_OP_REDUCEMAX] = {cg_k_reduce, WORK_FLOPS},
    [IR_OP_RESHAPE] = {cg_k_copy, WORK_MOVE},
    [IR_OP_FLATTEN] = {cg_k_copy, WORK_MOVE},
    [IR_OP_TRANSPOSE] = {cg_k_shape, WORK_MOVE},
    [IR_OP_SQUEEZE] = {cg_k_copy, WORK_MOVE},
    [IR_OP_UNSQUEEZE] = {cg_k_copy, WORK_MOVE},
    [IR_OP_CONCAT] = {cg_k_shape, WORK_MOVE},
    [IR_OP_SPLIT] = {cg_k_shape, WORK_MOVE},
    [IR_OP_SLICE] = {cg_k_shape, WORK_MOVE},
    [IR_OP_GATHER] = {cg_k_shape, WORK_MOVE},
    [IR_OP_EXPAND] = {cg_k_elementwise, WORK_MOVE},
    [IR_OP_SHAPE] = {cg_k_shape, WORK_MOVE},
    [IR_OP_CONSTOFSHAPE] = {cg_k_shape, WORK_MOVE},
    [IR_OP_RANGE] = {cg_k_shape, WORK_MOVE},
    [IR_OP_PAD] = {cg_k_pad, WORK_MOVE},
    [IR_OP_SCELOSS] = {cg_k_sce_loss, WORK_FLOPS},
    [IR_OP_MSELOSS] = {cg_k_mse_loss, WORK_FLOPS},
    [IR_OP_RELUGRAD] = EW,
    [IR_OP_GELUGRAD] = EW,
    [IR_OP_CONVGRADW] = {cg_k_conv_grad_weight, WORK_FLOPS},
    [IR_OP_MAXPOOLGRAD] = {cg_k_pool_grad, WORK_FLOPS},
    [IR_OP_AVGPOOLGRAD] = {cg_k_pool_grad, WORK_FLOPS},
    [IR_OP_BNGRAD] = {cg_k_batchnorm_grad, WORK_FLOPS},
    [IR_OP_LNGRAD] = {cg_k_layernorm_grad, WORK_FLOPS},
    [IR_OP_SOFTMAXGRAD] = {cg_k_softmax_grad, WORK_FLOPS},
    [IR_OP_LOGSOFTMAXGRAD] = {cg_k_softmax_grad, WORK_FLOPS},
    [IR_OP_SCELOSSGRAD] = {cg_k_sce_grad, WORK_FLOPS},
    [IR_OP_GATHERGRAD] = {cg_k_gather_grad, WORK_MOVE},
    [IR_OP_SLICEGRAD] = {cg_k_slice_grad, WORK_MOVE},
    [IR_OP_DROPOUTMASK] = {cg_k_dropout_mask, WORK_MOVE},
    [IR_OP_SGDUPDATE] = {cg_k_update, WORK_FLOPS},
    [IR_OP_ADAMUPDATE] = {cg_k_update, WORK_FLOPS},
    [IR_OP_DEQUANTGEMM] = {cg_k_dequant_gemm, WORK_FLOPS},
    [IR_OP_INTGEMM] = {cg_k_int_gemm, WORK_FLOPS},
    [IR_OP_SPARSEGEMM] = {cg_k_sparse_gemm, WORK_FLOPS},
    [IR_OP_QUANTIZE] = EW,
};

bool cg_op_has_kernel(IrOp op)
{
    return (unsigned)op < IR_OP_COUNT && impls[op].emit != NULL;
}

bool cg_node_cost(const IrGraph *g, const IrNode *n, IrDim *cost)
{
    IR_ASSERT((unsigned)n->op < IR_OP_COUNT);
    if (impls[n->op].work == WORK_FLOPS)
        return ir_node_flops(g, n, cost);
    *cost = ir_dim_const(0);
    for (int k = 0; k < n->nout; k++) {
        IrDim numel;
        if (n->out[k] < 0)
            continue;
        if (!ir_shape_numel(&g->values[n->out[k]]->shape, &numel) || !ir_dim_add(*cost, numel, cost))
            return false;
    }
    return true;
}

int cg_emit_kernel(CgKernel *k)
{
    const IrNode *n = k->node;
    if (k->grp->anchor >= 0) {
        for (int i = 0; i < n->nin + n->nout; i++) {
            const IrValue *v = i < n->nin ? cg_kin(k, i) : cg_kout(k, i - n->nin);
            if (v && !cg_t_elem(k, v->dtype))
                return cg_unsupported(k, "dtype %s", srt_dtype_name(v->dtype));
        }
    }
    int (*emit)(CgKernel *) = k->grp->anchor >= 0 ? impls[n->op].emit : cg_k_elementwise;
    if (!emit)
        return cg_unsupported(k, "%s", ir_op_name(n->op));
    int rc = emit(k);
    if (rc == 0) {
        cg_fault_flush(k);
        LLVMBuildRetVoid(k->b);
    }
    return rc;
}
