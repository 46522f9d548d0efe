/* Training programs: the training graph of a model, its split into gradient and optimizer programs, and their buffers. */
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

/* How a library trains (docs/codegen.md "Training"):
 *   - the training graph comes from the driver (the "training" pipeline of passes/pipeline.c
 *     on a copy of the model); codegen copies it and appends the loss node, which autodiff
 *     leaves in training->loss, as a node so it runs as a kernel like any other;
 *   - the "gradient" program runs every node but the optimizer's (ir_training_apply_nodes):
 *     it writes the loss to the caller, each param's gradient into the flat gradient buffer
 *     and copies the BatchNorm running statistics into their params at the end;
 *   - the "optimizer" program runs the update nodes on the params, the optimizer state and the
 *     gradients in the flat buffer; an update node writes the new param (and moments) in place
 *     when nothing else reads the old values, else its outputs are copied at the end;
 *   - the param block is the inference params (same offsets) followed by the optimizer state
 *     (opt_state params: moments, momentum buffers, optim.step, optim.lr), 64-aligned each. */

void cg_train_plan_free(CgTrainPlan *t)
{
    if (!t)
        return;
    cg_program_free(t->grad);
    cg_program_free(t->apply);
    free(t->state);
    free(t->offset);
    free(t->grad_offset);
    if (t->tg)
        ir_graph_free(t->tg);
    free(t);
}

static int64_t align64(int64_t x)
{
    return (x + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN;
}

/* Element count of a value with a constant shape. */
static int64_t const_numel(const IrValue *v)
{
    IrDim c;
    bool ok = ir_shape_numel(&v->shape, &c) && c.a == 0;
    IR_ASSERT(ok);
    return c.b;
}

/* The loss as a node of tg (appended: its inputs are forward values). */
static int append_loss(IrGraph *tg, IrDiag *d)
{
    const IrNode *l = tg->training->loss;
    const IrValue *lv = l->nout > 0 && l->out[0] >= 0 ? tg->values[l->out[0]] : NULL;
    if (!lv || !lv->typed || lv->shape.rank != 0) {
        ir_diag_error(d, "training.loss", "the loss must be a typed scalar");
        return -1;
    }
    if (lv->dtype != SRT_F32) {
        ir_diag_error(d, "training.loss", "the compiled training step computes in float32, but the loss is %s "
                      "(use float32 tensors, or remove the training section to compile inference only)",
                      srt_dtype_name(lv->dtype));
        return -1;
    }
    int id = ir_node_new(tg, l->op, l->name && *l->name ? l->name : "loss", l->nin, l->in, l->nout, l->out);
    IrNode *n = tg->nodes[id];
    ir_node_set_attrs(tg, n, l->nattrs, l->attrs);
    n->where = l->where ? l->where : "training.loss";
    return lv->id;
}

/* Output index of value v in node n, -1 if none. */
static int out_index(const IrNode *n, int v)
{
    for (int k = 0; k < n->nout; k++)
        if (n->out[k] == v)
            return k;
    return -1;
}

/* The input of an update node that output k replaces (same index, same element order). */
static int update_slot(const IrNode *n, int k)
{
    if (n->op == IR_OP_ADAMUPDATE)
        return k == 0 ? 0 : k == 1 ? 4 : k == 2 ? 5 : -1;
    if (n->op == IR_OP_SGDUPDATE)
        return k == 0 ? 0 : k == 1 ? 4 : -1;
    return -1;
}

/* May update source src (made by an apply node) be written straight into dst's slot? Only
 * when the node reads dst element for element at the matching input and no other apply node,
 * and no other input of the node, reads dst. */
static bool in_place_ok(const IrGraph *tg, const bool *apply, int dst, int src)
{
    const IrValue *sv = tg->values[src];
    if (sv->role != IR_ROLE_ACT || sv->producer < 0)
        return false;
    const IrNode *n = tg->nodes[sv->producer];
    int slot = update_slot(n, out_index(n, src));
    if (slot < 0 || slot >= n->nin || n->in[slot] != dst)
        return false;
    for (int i = 0; i < tg->nnodes; i++) {
        const IrNode *o = tg->nodes[i];
        if (!apply[i])
            continue;
        for (int k = 0; k < o->nin; k++)
            if (o->in[k] == dst && !(o == n && k == slot))
                return false;
    }
    return true;
}

int cg_train_plan(const IrGraph *g, const IrGraph *train, const CgProgram *infer, CgTrainPlan **out, IrDiag *d)
{
    *out = NULL;
    if (!g->training || !train->training || !train->training->has_backward) {
        ir_diag_error(d, g->name, "internal error: the training graph given to codegen is not one (run the "
                      "training pipeline: pass_training_graph)");
        return -1;
    }
    CgTrainPlan *t = srt_calloc(1, sizeof *t);
    IR_ASSERT(t);
    t->step = t->lr = -1;
    t->tg = ir_graph_clone(train);
    IrGraph *tg = t->tg;
    const IrTraining *tr = tg->training;
    int rc = -1, nv;
    bool *apply = NULL, *allowed = NULL, *opt = NULL;
    int *in = NULL, *inplace = NULL, *ud = NULL, *us = NULL, *roots = NULL;
    t->loss = append_loss(tg, d);
    if (t->loss < 0)
        goto out;
    nv = tg->nvalues;

    /* The param block: inference params at their offsets, then the optimizer state. */
    t->offset = srt_malloc(((size_t)nv + 1) * sizeof *t->offset);
    t->state = srt_malloc(((size_t)nv + 1) * sizeof *t->state);
    t->grad_offset = srt_malloc(((size_t)nv + 1) * sizeof *t->grad_offset);
    IR_ASSERT(t->offset && t->state && t->grad_offset);
    int64_t soff = infer->param_bytes;
    for (int id = 0; id < nv; id++) {
        const IrValue *v = tg->values[id];
        t->offset[id] = t->grad_offset[id] = -1;
        if (v->role != IR_ROLE_PARAM)
            continue;
        if (v->opt_state) {
            t->offset[id] = soff;
            soff += align64(const_numel(v) * (int64_t)srt_dtype_size(v->dtype));
            t->state[t->nstate++] = id;
            if (!strcmp(v->name, "optim.step") && v->dtype == SRT_I64 && const_numel(v) == 1)
                t->step = id;
            if (!strcmp(v->name, "optim.lr") && ir_dtype_is_float(v->dtype) && const_numel(v) == 1)
                t->lr = id;
            continue;
        }
        int gid = ir_value_find(g, v->name);
        if (gid < 0 || g->values[gid]->role != IR_ROLE_PARAM || infer->buf[gid].storage != CG_STORE_PARAM) {
            ir_diag_error(d, v->name, "internal error: a param of the training graph is not a param of the model");
            goto out;
        }
        t->offset[id] = infer->buf[gid].offset.b;
    }
    t->state_bytes = soff - infer->param_bytes;

    /* The flat gradient buffer: one float32 gradient per trained param, packed. */
    t->ngrads = tr->ngrads;
    for (int i = 0; i < tr->ngrads; i++) {
        const IrValue *gv = tg->values[tr->grad_value[i]];
        if (gv->dtype != SRT_F32) {
            ir_diag_error(d, tg->values[tr->grad_param[i]]->name, "the compiled training step computes in float32, "
                          "but this trained param is %s (make it float32 or frozen, or remove the training section "
                          "to compile inference only)", srt_dtype_name(gv->dtype));
            goto out;
        }
        t->grad_offset[gv->id] = t->grad_count * (int64_t)sizeof(float);
        t->grad_count += const_numel(gv);
    }

    /* Split: the optimizer's nodes and updates, the rest. */
    apply = srt_calloc((size_t)tg->nnodes + 1, sizeof *apply);
    allowed = srt_calloc((size_t)tg->nnodes + 1, sizeof *allowed);
    opt = srt_calloc((size_t)tr->nupdates + 1, sizeof *opt);
    inplace = srt_malloc(((size_t)nv + 1) * sizeof *inplace);
    ud = srt_malloc(((size_t)tr->nupdates + 1) * sizeof *ud);
    us = srt_malloc(((size_t)tr->nupdates + 1) * sizeof *us);
    in = srt_malloc(((size_t)tg->ninputs + (size_t)tr->ninputs + 1) * sizeof *in);
    roots = srt_malloc(((size_t)tr->ngrads + (size_t)tr->nupdates + 1) * sizeof *roots);
    IR_ASSERT(apply && allowed && opt && inplace && ud && us && in && roots);
    ir_training_apply_nodes(tg, apply);
    for (int i = 0; i < tg->nnodes; i++)
        allowed[i] = !apply[i];
    for (int i = 0; i < tr->nupdates; i++) {
        int p = tg->values[tr->update_src[i]]->producer;
        opt[i] = p >= 0 && apply[p];
    }
    for (int id = 0; id < nv; id++)
        inplace[id] = -1;

    /* gradient program: graph inputs then training inputs; the loss; the gradients */
    int nin = 0, nu = 0;
    for (int i = 0; i < tg->ninputs; i++)
        in[nin++] = tg->inputs[i];
    for (int i = 0; i < tr->ninputs; i++)
        in[nin++] = tr->inputs[i];
    for (int i = 0; i < tr->ngrads; i++)
        roots[i] = tr->grad_value[i];
    for (int i = 0; i < tr->nupdates; i++)
        if (!opt[i]) {
            ud[nu] = tr->update_dst[i];
            us[nu++] = tr->update_src[i];
        }
    CgPart gp;
    memset(&gp, 0, sizeof gp);
    gp.what = "gradient";
    gp.allowed = allowed;
    gp.nin = nin;
    gp.in = in;
    gp.nout = 1;
    gp.out = &t->loss;
    gp.nroots = tr->ngrads;
    gp.roots = roots;
    gp.param_offset = t->offset;
    gp.grad_offset = t->grad_offset;
    gp.nupdates = nu;
    gp.update_dst = ud;
    gp.update_src = us;
    if (cg_lower_part(tg, &gp, &t->grad, d) != 0)
        goto out;

    /* optimizer program: the update nodes; sources in place where safe (then roots) */
    nu = 0;
    int nroots = 0;
    for (int i = 0; i < tr->nupdates; i++) {
        if (!opt[i])
            continue;
        if (in_place_ok(tg, apply, tr->update_dst[i], tr->update_src[i])) {
            inplace[tr->update_src[i]] = tr->update_dst[i];
            roots[nroots++] = tr->update_src[i];
            continue;
        }
        ud[nu] = tr->update_dst[i];
        us[nu++] = tr->update_src[i];
    }
    CgPart ap;
    memset(&ap, 0, sizeof ap);
    ap.what = "optimizer";
    ap.allowed = apply;
    ap.param_offset = t->offset;
    ap.grad_offset = t->grad_offset;
    ap.inplace = inplace;
    ap.nroots = nroots;
    ap.roots = roots;
    ap.nupdates = nu;
    ap.update_dst = ud;
    ap.update_src = us;
    if (cg_lower_part(tg, &ap, &t->apply, d) != 0)
        goto out;
    if (t->apply->scratch_bytes.a != 0) {
        ir_diag_error(d, tg->name, "internal error: the optimizer step's scratch depends on N");
        goto out;
    }
    rc = 0;
out:
    free(apply);
    free(allowed);
    free(opt);
    free(inplace);
    free(ud);
    free(us);
    free(in);
    free(roots);
    if (rc != 0) {
        cg_train_plan_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int cg_print_training_programs(const IrGraph *g, const IrGraph *tg, FILE *f, IrDiag *d)
{
    if (!tg)
        return 0;
    CgProgram *p;
    if (cg_lower(g, &p, d) != 0)
        return -1;
    CgTrainPlan *t;
    int rc = cg_train_plan(g, tg, p, &t, d);
    cg_program_free(p);
    if (rc != 0)
        return -1;
    cg_print_program(t->grad, f);
    cg_print_program(t->apply, f);
    cg_train_plan_free(t);
    return 0;
}
