/* Placeholder shape functions and kernels for the nn ops until ops_nn.c replaces this file. */
#include "ir/ops_impl.h"

int shape_Gemm(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Gemm(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_MatMul(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_MatMul(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Conv(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Conv(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_ConvTranspose(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_ConvTranspose(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_MaxPool(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_MaxPool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_AveragePool(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_AveragePool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_GlobalAveragePool(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_GlobalAveragePool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_BatchNormalization(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_BatchNormalization(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_LayerNormalization(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_LayerNormalization(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Softmax(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Softmax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_LogSoftmax(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_LogSoftmax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Dropout(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Dropout(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_SoftmaxCrossEntropyLoss(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_SoftmaxCrossEntropyLoss(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_MSELoss(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_MSELoss(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

