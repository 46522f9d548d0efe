/* Kernel dispatch: which emitter builds each op's kernel body, and which ops are views. */
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

int cg_emit_kernel(CgKernel *k)
{
    const IrNode *n = k->node;
    if (ir_op_info(n->op)->flags & (IR_OPF_INTERNAL | IR_OPF_LOSS))
        return cg_emit_grad_kernel(k);   /* training ops: codegen/kernel_grad.c */
    for (int i = 0; i < n->nin + n->nout; i++) {
        const IrValue *v = i < n->nin ? cg_kin(k, i) : cg_kout(k, i - n->nin);
        if (v && !cg_t_elem(k, v->dtype))
            return cg_unsupported(k, "dtype %s", srt_dtype_name(v->dtype));
    }
    int rc;
    switch (n->op) {
    case IR_OP_RELU:
    case IR_OP_LEAKYRELU:
    case IR_OP_SIGMOID:
    case IR_OP_TANH:
    case IR_OP_GELU:
    case IR_OP_ERF:
    case IR_OP_EXP:
    case IR_OP_LOG:
    case IR_OP_SQRT:
    case IR_OP_NEG:
    case IR_OP_ABS:
    case IR_OP_CLIP:
    case IR_OP_CAST:
    case IR_OP_IDENTITY:
    case IR_OP_DROPOUT:
    case IR_OP_RESHAPE:
    case IR_OP_FLATTEN:
    case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE:
        rc = cg_k_unary(k);
        break;
    case IR_OP_ADD:
    case IR_OP_SUB:
    case IR_OP_MUL:
    case IR_OP_DIV:
    case IR_OP_POW:
    case IR_OP_MAX:
    case IR_OP_MIN:
    case IR_OP_WHERE:
    case IR_OP_EQUAL:
    case IR_OP_LESS:
    case IR_OP_GREATER:
    case IR_OP_EXPAND:
        rc = cg_k_binary(k);
        break;
    case IR_OP_REDUCEMEAN:
    case IR_OP_REDUCESUM:
    case IR_OP_REDUCEMAX:
        rc = cg_k_reduce(k);
        break;
    case IR_OP_SOFTMAX:
    case IR_OP_LOGSOFTMAX:
        rc = cg_k_softmax(k);
        break;
    case IR_OP_BATCHNORM:
    case IR_OP_LAYERNORM:
        rc = cg_k_norm(k);
        break;
    case IR_OP_GEMM:
        rc = cg_k_gemm(k);
        break;
    case IR_OP_MATMUL:
        rc = cg_k_matmul(k);
        break;
    case IR_OP_CONV:
        rc = cg_k_conv(k);
        break;
    case IR_OP_CONVT:
        rc = cg_k_convt(k);
        break;
    case IR_OP_MAXPOOL:
    case IR_OP_AVGPOOL:
    case IR_OP_GAP:
        rc = cg_k_pool(k);
        break;
    case IR_OP_TRANSPOSE:
    case IR_OP_CONCAT:
    case IR_OP_SPLIT:
    case IR_OP_SLICE:
    case IR_OP_GATHER:
    case IR_OP_SHAPE:
    case IR_OP_CONSTOFSHAPE:
    case IR_OP_RANGE:
        rc = cg_k_shape(k);
        break;
    default:
        return cg_unsupported(k, "%s", ir_op_name(n->op));
    }
    if (rc == 0)
        LLVMBuildRetVoid(k->b);
    return rc;
}
