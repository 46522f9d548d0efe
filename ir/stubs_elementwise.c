/* Placeholder shape functions and kernels for the elementwise ops until ops_elementwise.c replaces this file. */
#include "ir/ops_impl.h"

int shape_Relu(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Relu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_LeakyRelu(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_LeakyRelu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Sigmoid(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Sigmoid(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Tanh(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Tanh(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Gelu(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Gelu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Erf(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Erf(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Exp(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Exp(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Log(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Log(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Sqrt(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Sqrt(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Neg(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Neg(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Abs(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Abs(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Clip(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Clip(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Cast(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Cast(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Identity(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Identity(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Add(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Add(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Sub(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Sub(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Mul(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Mul(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Div(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Div(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Pow(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Pow(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Max(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Max(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Min(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Min(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Where(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Where(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Equal(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Equal(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Less(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Less(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Greater(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Greater(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_ReduceMean(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_ReduceMean(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_ReduceSum(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_ReduceSum(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_ReduceMax(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_ReduceMax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

