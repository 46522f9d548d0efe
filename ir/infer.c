/* Shape inference driver: types every activation by running each op's shape function. */
#include "ir/ops_impl.h"

static int infer_node(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrOpInfo *info = ir_op_info(n->op);
    for (int k = 0; k < n->nin; k++) {
        IrValue *v = ir_in(g, n, k);
        if (v && !v->typed) {
            ir_node_error(d, n, "inputs[%d] \"%s\" has no type yet (is it produced later?)", k, v->name);
            return -1;
        }
    }
    for (int k = 0; k < n->nout; k++) {
        IrValue *v = ir_out(g, n, k);
        if (v) {
            v->typed = false;
            v->sym = NULL;
        }
    }
    if (info->shape(g, n, d) != 0)
        return -1;
    for (int k = 0; k < n->nout; k++) {
        IrValue *v = ir_out(g, n, k);
        IR_ASSERT(!v || v->typed);
    }
    return 0;
}

int ir_infer_shapes(IrGraph *g, IrDiag *d)
{
    for (int i = 0; i < g->nnodes; i++)
        if (infer_node(g, g->nodes[i], d) != 0)
            return -1;
    if (g->training && g->training->loss)
        if (infer_node(g, g->training->loss, d) != 0)
            return -1;
    return 0;
}
