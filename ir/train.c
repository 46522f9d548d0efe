/* Interpreter training step: runs a training graph (passes/autodiff) and applies its update pairs. */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* A training graph keeps params and optimizer state as values with data (IrValue.data); a
 * step evaluates every node with ir_interp_eval and then copies each update source into its
 * destination's data. The split into grads + apply mirrors NAME_grad / NAME_apply. */

static const IrTraining *training_of(const IrGraph *tg, IrDiag *d)
{
    if (!tg->training || !tg->training->has_backward || !tg->training->loss) {
        ir_diag_error(d, tg->name, "the graph has no training step; run the autodiff pass on a model with a "
                      "training section first");
        return NULL;
    }
    return tg->training;
}

static void free_vals(IrTensor *vals, int count)
{
    for (int i = 0; vals && i < count; i++)
        ir_tensor_free(&vals[i]);
    free(vals);
}

int ir_training_find_update(const IrGraph *tg, int dst)
{
    for (int i = 0; tg->training && i < tg->training->nupdates; i++)
        if (tg->training->update_dst[i] == dst)
            return i;
    return -1;
}

/* Marks in node_set the nodes some marked value depends on (value marks spread to inputs). */
static void ancestors(const IrGraph *g, bool *val, bool *node_set)
{
    for (int i = g->nnodes - 1; i >= 0; i--) {
        const IrNode *n = g->nodes[i];
        bool hit = false;
        for (int k = 0; k < n->nout && !hit; k++)
            hit = n->out[k] >= 0 && val[n->out[k]];
        node_set[i] = hit;
        for (int k = 0; hit && k < n->nin; k++)
            if (n->in[k] >= 0)
                val[n->in[k]] = true;
    }
}

void ir_training_apply_nodes(const IrGraph *tg, bool *apply_node)
{
    const IrTraining *t = tg->training;
    bool *fv = srt_calloc((size_t)tg->nvalues + 1, sizeof(bool)), *uv = srt_calloc((size_t)tg->nvalues + 1, sizeof(bool));
    bool *fwd = srt_calloc((size_t)tg->nnodes + 1, sizeof(bool));
    IR_ASSERT(fv && uv && fwd);
    for (int i = 0; i < tg->noutputs; i++)
        fv[tg->outputs[i]] = true;
    for (int i = 0; t && i < t->ngrads; i++)
        fv[t->grad_value[i]] = true;
    for (int k = 0; t && t->loss && k < t->loss->nin; k++)
        if (t->loss->in[k] >= 0)
            fv[t->loss->in[k]] = true;
    for (int i = 0; t && i < t->nupdates; i++)
        uv[t->update_src[i]] = true;
    ancestors(tg, fv, fwd);
    ancestors(tg, uv, apply_node);
    for (int i = 0; i < tg->nnodes; i++)
        apply_node[i] = apply_node[i] && !fwd[i];
    free(fv);
    free(uv);
    free(fwd);
}

/* Which updates belong to the optimizer step (their source comes from an apply node). */
static bool *optimizer_updates(const IrGraph *tg, const bool *apply_node)
{
    const IrTraining *t = tg->training;
    bool *opt = srt_calloc((size_t)t->nupdates + 1, sizeof(bool));
    IR_ASSERT(opt);
    for (int i = 0; i < t->nupdates; i++) {
        int p = tg->values[t->update_src[i]]->producer;
        opt[i] = p >= 0 && apply_node[p];
    }
    return opt;
}

/* dst.data <- vals[src] for the updates with select[i] == want (select NULL: all). */
static void apply_updates(IrGraph *tg, const IrTensor *vals, const bool *select, bool want)
{
    const IrTraining *t = tg->training;
    for (int i = 0; i < t->nupdates; i++) {
        if (select && select[i] != want)
            continue;
        IrValue *dst = tg->values[t->update_dst[i]];
        const IrTensor *src = &vals[t->update_src[i]];
        IrDim cnt;
        bool ok = ir_shape_numel(&dst->shape, &cnt) && cnt.a == 0 && cnt.b == src->numel &&
                  src->dtype == dst->dtype && dst->data;
        IR_ASSERT(ok);   /* autodiff makes sources of their destination's type */
        if (src->numel)
            memcpy(dst->data, src->data, (size_t)src->numel * srt_dtype_size(src->dtype));
    }
}

int ir_interp_train_step(IrGraph *tg, int64_t n, const IrTensor *inputs, double *loss, IrDiag *d)
{
    const IrTraining *t = training_of(tg, d);
    if (!t)
        return -1;
    IrTensor *vals = srt_calloc((size_t)tg->nvalues + 1, sizeof *vals);
    IR_ASSERT(vals);
    if (ir_interp_eval(tg, n, inputs, true, vals, d) != 0) {
        free_vals(vals, tg->nvalues);
        return -1;
    }
    if (loss)
        *loss = ir_tensor_getf(&vals[t->loss->out[0]], 0);
    apply_updates(tg, vals, NULL, false);
    free_vals(vals, tg->nvalues);
    return 0;
}

int ir_interp_train_grads(IrGraph *tg, int64_t n, const IrTensor *inputs, double *loss, IrTensor *grads, IrDiag *d)
{
    const IrTraining *t = training_of(tg, d);
    if (!t)
        return -1;
    IrTensor *vals = srt_calloc((size_t)tg->nvalues + 1, sizeof *vals);
    bool *apply = srt_calloc((size_t)tg->nnodes + 1, sizeof(bool));
    IR_ASSERT(vals && apply);
    if (ir_interp_eval(tg, n, inputs, true, vals, d) != 0) {
        free_vals(vals, tg->nvalues);
        free(apply);
        return -1;
    }
    if (loss)
        *loss = ir_tensor_getf(&vals[t->loss->out[0]], 0);
    for (int i = 0; i < t->ngrads; i++) {
        ir_tensor_free(&grads[i]);
        grads[i] = vals[t->grad_value[i]];
        memset(&vals[t->grad_value[i]], 0, sizeof vals[0]);
    }
    ir_training_apply_nodes(tg, apply);
    bool *opt = optimizer_updates(tg, apply);
    apply_updates(tg, vals, opt, false);
    free(opt);
    free(apply);
    free_vals(vals, tg->nvalues);
    return 0;
}

/* Allocates vals[id] with v's (constant) shape; copies data when given. */
static int load_value(const IrValue *v, IrTensor *t, const void *data, IrDiag *d)
{
    int64_t dims[IR_MAX_RANK];
    if (!ir_shape_eval(&v->shape, 1, dims) || ir_tensor_alloc(t, v->dtype, v->shape.rank, dims) != 0) {
        ir_diag_error(d, v->name, "cannot allocate the tensor");
        return -1;
    }
    if (data && t->numel)
        memcpy(t->data, data, (size_t)t->numel * srt_dtype_size(v->dtype));
    return 0;
}

int ir_interp_train_apply(IrGraph *tg, const IrTensor *grads, IrDiag *d)
{
    const IrTraining *t = training_of(tg, d);
    if (!t)
        return -1;
    int nv = tg->nvalues, rc = 0;
    IrTensor *vals = srt_calloc((size_t)nv + 1, sizeof *vals);
    bool *have = srt_calloc((size_t)nv + 1, sizeof(bool)), *apply = srt_calloc((size_t)tg->nnodes + 1, sizeof(bool));
    IR_ASSERT(vals && have && apply);
    ir_training_apply_nodes(tg, apply);
    for (int i = 0; i < t->ngrads && rc == 0; i++) {
        const IrValue *gv = tg->values[t->grad_value[i]];
        const IrTensor *src = &grads[i];
        bool same = src->dtype == gv->dtype && src->rank == gv->shape.rank;
        for (int r = 0; same && r < src->rank; r++)
            same = ir_dim_is_const(gv->shape.d[r]) && src->dims[r] == gv->shape.d[r].b;
        if (!same) {
            char want[128];
            ir_type_format(gv->dtype, &gv->shape, want, sizeof want);
            ir_diag_error(d, gv->name, "gradient %d does not have the type %s", i, want);
            rc = -1;
        } else {
            rc = load_value(gv, &vals[gv->id], src->data, d);
            have[gv->id] = rc == 0;
        }
    }
    for (int i = 0; i < tg->nnodes && rc == 0; i++) {
        const IrNode *nd = tg->nodes[i];
        if (!apply[i])
            continue;
        IrTensor *in[64], *out[64];
        IR_ASSERT(nd->nin <= 64 && nd->nout <= 64);
        for (int k = 0; k < nd->nin && rc == 0; k++) {
            int id = nd->in[k];
            in[k] = id >= 0 ? &vals[id] : NULL;
            if (id < 0 || have[id])
                continue;
            const IrValue *v = tg->values[id];
            if ((v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST) && v->data) {
                rc = load_value(v, &vals[id], v->data, d);
                have[id] = rc == 0;
            } else {
                ir_node_error(d, nd, "inputs[%d] \"%s\" is not available to the optimizer step", k, v->name);
                rc = -1;
            }
        }
        for (int k = 0; k < nd->nout && rc == 0; k++) {
            out[k] = NULL;
            if (nd->out[k] < 0)
                continue;
            out[k] = &vals[nd->out[k]];
            ir_tensor_free(out[k]);
            rc = load_value(tg->values[nd->out[k]], out[k], NULL, d);
            have[nd->out[k]] = rc == 0;
        }
        if (rc == 0)
            rc = ir_op_info(nd->op)->ref(tg, nd, in, out, d);
    }
    if (rc == 0) {
        bool *opt = optimizer_updates(tg, apply);
        apply_updates(tg, vals, opt, true);
        free(opt);
    }
    free_vals(vals, nv);
    free(have);
    free(apply);
    return rc;
}
