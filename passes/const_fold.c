/* Pass const_fold: turns nodes computable at compile time into constants. */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* Outputs larger than this stay computed at run time: folding them would bloat the model. */
#define FOLD_MAX_ELEMS (1 << 20)

/* Element count of a value of constant shape, or -1 (untyped, has N, or too large). */
static int64_t const_numel(const IrValue *v)
{
    IrDim cnt;
    if (!v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0 || cnt.b > FOLD_MAX_ELEMS)
        return -1;
    return cnt.b;
}

/* Makes v a constant holding data (copied into the graph arena). */
static void make_const(IrGraph *g, IrValue *v, const void *data, int64_t numel)
{
    size_t bytes = (size_t)(numel ? numel : 1) * srt_dtype_size(v->dtype);
    v->data = ir_arena_alloc(g->arena, bytes);
    if (numel)
        memcpy(v->data, data, (size_t)numel * srt_dtype_size(v->dtype));
    v->role = IR_ROLE_CONST;
    v->producer = -1;
}

/* Every present output is an integer (or bool) tensor whose symbolic content is known and
 * free of N: the node computes shape arithmetic on static dims (Gather of a Shape, ...). */
static bool outputs_known_ints(const IrGraph *g, const IrNode *n)
{
    int present = 0;
    for (int k = 0; k < n->nout; k++) {
        if (n->out[k] < 0)
            continue;
        const IrValue *v = g->values[n->out[k]];
        int64_t numel = const_numel(v);
        if (numel < 0 || !v->sym || !(ir_dtype_is_int(v->dtype) || v->dtype == SRT_BOOL))
            return false;
        for (int64_t i = 0; i < numel; i++)
            if (v->sym[i].a != 0)
                return false;
        present++;
    }
    return present > 0;
}

static void fold_known_ints(IrGraph *g, const IrNode *n)
{
    for (int k = 0; k < n->nout; k++) {
        if (n->out[k] < 0)
            continue;
        IrValue *v = g->values[n->out[k]];
        int64_t numel = const_numel(v);
        IrTensor t;
        int64_t dims[1] = {numel};
        IR_ASSERT(ir_tensor_alloc(&t, v->dtype, 1, dims) == 0);
        for (int64_t i = 0; i < numel; i++)
            ir_tensor_seti(&t, i, v->sym[i].b);
        make_const(g, v, t.data, numel);
        ir_tensor_free(&t);
    }
}

/* Every present input is a constant with data (params are trainable state: never folded),
 * and every output has a constant shape of reasonable size. */
static bool inputs_all_const(const IrGraph *g, const IrNode *n)
{
    int present = 0;
    for (int k = 0; k < n->nin; k++) {
        if (n->in[k] < 0)
            continue;
        const IrValue *v = g->values[n->in[k]];
        if (v->role != IR_ROLE_CONST || !v->data || const_numel(v) < 0)
            return false;
        present++;
    }
    for (int k = 0; k < n->nout; k++)
        if (n->out[k] >= 0 && const_numel(g->values[n->out[k]]) < 0)
            return false;
    return present > 0;
}

/* Runs the op's reference kernel on the constant inputs; the outputs become constants. */
static int fold_by_kernel(IrGraph *g, const IrNode *n, IrDiag *d)
{
    int nin = n->nin, nout = n->nout;
    IrTensor *tin = srt_calloc((size_t)nin + 1, sizeof *tin), *tout = srt_calloc((size_t)nout + 1, sizeof *tout);
    IrTensor **pin = srt_calloc((size_t)nin + 1, sizeof *pin), **pout = srt_calloc((size_t)nout + 1, sizeof *pout);
    IR_ASSERT(tin && tout && pin && pout);
    int rc = 0;
    for (int k = 0; k < nin; k++) {
        if (n->in[k] < 0)
            continue;
        const IrValue *v = g->values[n->in[k]];
        int64_t dims[IR_MAX_RANK];
        IR_ASSERT(ir_shape_eval(&v->shape, 1, dims));
        /* wrap the constant's data without copying; kernels do not write their inputs */
        tin[k].dtype = v->dtype;
        tin[k].rank = v->shape.rank;
        memcpy(tin[k].dims, dims, sizeof dims);
        tin[k].numel = const_numel(v);
        tin[k].data = v->data;
        pin[k] = &tin[k];
    }
    for (int k = 0; k < nout && rc == 0; k++) {
        if (n->out[k] < 0)
            continue;
        const IrValue *v = g->values[n->out[k]];
        int64_t dims[IR_MAX_RANK];
        if (!ir_shape_eval(&v->shape, 1, dims) || ir_tensor_alloc(&tout[k], v->dtype, v->shape.rank, dims) != 0) {
            ir_node_error(d, n, "cannot allocate outputs[%d] to fold it", k);
            rc = -1;
        }
        pout[k] = &tout[k];
    }
    if (rc == 0)
        rc = ir_op_info(n->op)->ref(g, n, pin, pout, d);
    for (int k = 0; k < nout; k++) {
        if (rc == 0 && n->out[k] >= 0)
            make_const(g, g->values[n->out[k]], tout[k].data, tout[k].numel);
        ir_tensor_free(&tout[k]);
    }
    free(tin);
    free(tout);
    free(pin);
    free(pout);
    return rc;
}

/* Graph outputs may become constants; values the training section updates or reads as
 * gradients must stay activations (their producers run every step). */
static bool produces_pinned(const IrGraph *g, const IrNode *n)
{
    for (int k = 0; k < n->nout; k++)
        if (n->out[k] >= 0 && !g->values[n->out[k]]->is_output && pass_value_pinned(g, n->out[k]))
            return true;
    return false;
}

PassResult pass_const_fold(IrGraph *g, PassContext *ctx)
{
    bool *keep = srt_malloc(((size_t)g->nnodes + 1) * sizeof(bool));
    IR_ASSERT(keep);
    int folded = 0;
    PassResult result = PASS_UNCHANGED;
    for (int i = 0; i < g->nnodes; i++)
        keep[i] = true;
    /* In order: a folded output makes its consumers foldable in the same sweep. */
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        /* Dropout draws a fresh mask every training step: never a constant. */
        if (n->op == IR_OP_DROPOUT || produces_pinned(g, n))
            continue;
        if (outputs_known_ints(g, n)) {
            fold_known_ints(g, n);
        } else if (inputs_all_const(g, n)) {
            if (fold_by_kernel(g, n, ctx->diag) != 0) {
                result = PASS_ERROR;   /* keep what was folded so far: the graph stays valid */
                break;
            }
        } else
            continue;
        keep[i] = false;
        folded++;
    }
    if (folded)
        pass_compact(g, keep);
    free(keep);
    pass_stat_add(ctx, "nodes folded", folded);
    if (result == PASS_ERROR)
        return PASS_ERROR;
    return folded ? PASS_CHANGED : PASS_UNCHANGED;
}
