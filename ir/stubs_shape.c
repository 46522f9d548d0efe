/* Placeholder shape functions and kernels for the shape ops until ops_shape.c replaces this file. */
#include "ir/ops_impl.h"

int shape_Reshape(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Reshape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Flatten(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Flatten(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Transpose(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Transpose(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Squeeze(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Squeeze(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Unsqueeze(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Unsqueeze(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Concat(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Concat(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Split(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Split(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Slice(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Slice(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Gather(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Gather(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Expand(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Expand(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Shape(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Shape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_ConstantOfShape(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_ConstantOfShape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int shape_Range(IrGraph *g, IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

int ref_Range(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    ir_node_error(d, n, "op not available yet");
    return -1;
}

