/* Verifier: checks the structural invariants every pass must preserve. */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

static const char *role_name(IrRole r)
{
    switch (r) {
    case IR_ROLE_INPUT: return "an input";
    case IR_ROLE_PARAM: return "a param";
    case IR_ROLE_CONST: return "a constant";
    case IR_ROLE_ACT: return "an activation";
    case IR_ROLE_COUNT: break;
    }
    return "of an unknown role";
}

static const char *kind_name(IrAttrKind k)
{
    switch (k) {
    case IR_ATTR_INT: return "an int";
    case IR_ATTR_FLOAT: return "a float";
    case IR_ATTR_STRING: return "a string";
    case IR_ATTR_INTS: return "a list of ints";
    case IR_ATTR_FLOATS: return "a list of floats";
    case IR_ATTR_TENSOR: return "a tensor";
    }
    return "of an unknown kind";
}

/* "value \"h1\"" (or "params[2] \"fc2.weight\"" when the declaration's JSON path is known). */
static void value_error(IrDiag *d, const IrValue *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void value_error(IrDiag *d, const IrValue *v, const char *fmt, ...)
{
    char where[512];
    if (v->where && *v->where)
        snprintf(where, sizeof where, "%s \"%s\"", v->where, v->name ? v->name : "");
    else
        snprintf(where, sizeof where, "value \"%s\"", v->name ? v->name : "");
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(d, where, fmt, ap);
    va_end(ap);
}

/* Per-value facts gathered from the nodes. */
typedef struct VerifyState {
    const IrGraph *g;
    IrDiag *d;
    int errors;
    int *produced_by;         /* node id producing each value, -1 if none, -2 the loss */
} VerifyState;

static bool check_value_ref(VerifyState *s, const IrNode *n, const char *list, int k, int id)
{
    if (id >= -1 && id < s->g->nvalues)
        return true;
    ir_node_error(s->d, n, "%s[%d] refers to value id %d, which does not exist (the graph has %d values)", list,
                  k, id, s->g->nvalues);
    s->errors++;
    return false;
}

static void check_attrs(VerifyState *s, const IrNode *n)
{
    const IrOpInfo *info = ir_op_info(n->op);
    for (int i = 0; i < n->nattrs; i++) {
        const IrAttr *a = &n->attrs[i];
        const IrAttrSpec *spec = a->name ? ir_op_attr_spec(n->op, a->name) : NULL;
        if (!spec) {
            ir_node_error(s->d, n, "attribute \"%s\" is not an attribute of %s", a->name ? a->name : "",
                          info->name);
            s->errors++;
            continue;
        }
        for (int j = 0; j < i; j++)
            if (n->attrs[j].name && !strcmp(n->attrs[j].name, a->name)) {
                ir_node_error(s->d, n, "attribute \"%s\" is set twice", a->name);
                s->errors++;
            }
        /* an int is accepted where a float is expected (ir_attr_float reads it) */
        bool ok = a->kind == spec->kind || (spec->kind == IR_ATTR_FLOAT && a->kind == IR_ATTR_INT);
        if (!ok) {
            ir_node_error(s->d, n, "attribute \"%s\" is %s; %s expects %s", a->name, kind_name(a->kind),
                          info->name, kind_name(spec->kind));
            s->errors++;
        } else if (a->kind == IR_ATTR_STRING && !a->s) {
            ir_node_error(s->d, n, "attribute \"%s\" has no string", a->name);
            s->errors++;
        } else if ((a->kind == IR_ATTR_INTS && a->n > 0 && !a->ints) ||
                   (a->kind == IR_ATTR_FLOATS && a->n > 0 && !a->floats) ||
                   (a->kind == IR_ATTR_TENSOR && a->n > 0 && !a->tdata) || a->n < 0) {
            ir_node_error(s->d, n, "attribute \"%s\" has no data for its %d elements", a->name, a->n);
            s->errors++;
        }
    }
    for (int j = 0; j < info->nattrs; j++)
        if (info->attrs[j].required && !ir_attr_get(n, info->attrs[j].name)) {
            ir_node_error(s->d, n, "required attribute \"%s\" is missing", info->attrs[j].name);
            s->errors++;
        }
}

/* Arity, value references, producers and order of one node. nid is -1 for the loss. */
static void check_node(VerifyState *s, const IrNode *n, int nid)
{
    const IrGraph *g = s->g;
    if ((unsigned)n->op >= IR_OP_COUNT) {
        ir_diag_error(s->d, nid >= 0 ? "node" : "training.loss", "op code %d is not in the op table", (int)n->op);
        s->errors++;
        return;
    }
    const IrOpInfo *info = ir_op_info(n->op);
    if (n->nin < info->min_in || (info->max_in >= 0 && n->nin > info->max_in)) {
        if (info->max_in < 0)
            ir_node_error(s->d, n, "has %d inputs; %s takes at least %d", n->nin, info->name, info->min_in);
        else if (info->min_in == info->max_in)
            ir_node_error(s->d, n, "has %d inputs; %s takes %d", n->nin, info->name, info->min_in);
        else
            ir_node_error(s->d, n, "has %d inputs; %s takes %d to %d", n->nin, info->name, info->min_in,
                          info->max_in);
        s->errors++;
    }
    if (n->nout < info->min_out || (info->max_out >= 0 && n->nout > info->max_out)) {
        if (info->max_out < 0)
            ir_node_error(s->d, n, "has %d outputs; %s produces at least %d", n->nout, info->name, info->min_out);
        else if (info->min_out == info->max_out)
            ir_node_error(s->d, n, "has %d outputs; %s produces %d", n->nout, info->name, info->min_out);
        else
            ir_node_error(s->d, n, "has %d outputs; %s produces %d to %d", n->nout, info->name, info->min_out,
                          info->max_out);
        s->errors++;
    }
    for (int k = 0; k < n->nin; k++) {
        int id = n->in[k];
        if (!check_value_ref(s, n, "inputs", k, id))
            continue;
        if (id < 0) {
            if (k < info->min_in) {
                ir_node_error(s->d, n, "inputs[%d] is absent but %s requires it", k, info->name);
                s->errors++;
            }
            continue;
        }
        const IrValue *v = g->values[id];
        int p = s->produced_by[id];
        bool own = false;
        for (int o = 0; o < n->nout; o++)
            own |= n->out[o] == id;
        if (own) {
            ir_node_error(s->d, n, "inputs[%d] \"%s\" is also its own output (a cycle)", k, v->name);
            s->errors++;
        } else if (v->role == IR_ROLE_ACT && p == -1) {
            /* produced by a later node (not yet seen) or by nobody */
            bool later = false;
            for (int j = nid + 1; nid >= 0 && j < g->nnodes && !later; j++)
                for (int o = 0; o < g->nodes[j]->nout; o++)
                    later |= g->nodes[j]->out[o] == id;
            if (later)
                ir_node_error(s->d, n, "inputs[%d] \"%s\" is used before it is produced (nodes are not in "
                              "topological order)", k, v->name);
            else
                ir_node_error(s->d, n, "inputs[%d] \"%s\" is an activation that no node produces", k, v->name);
            s->errors++;
        }
    }
    for (int k = 0; k < n->nout; k++) {
        int id = n->out[k];
        if (!check_value_ref(s, n, "outputs", k, id))
            continue;
        if (id < 0) {
            if (k < info->min_out) {
                ir_node_error(s->d, n, "outputs[%d] is absent but %s always produces it", k, info->name);
                s->errors++;
            }
            continue;
        }
        const IrValue *v = g->values[id];
        if (s->produced_by[id] != -1) {
            ir_node_error(s->d, n, "outputs[%d] \"%s\" is also produced by another node", k, v->name);
            s->errors++;
            continue;
        }
        s->produced_by[id] = nid >= 0 ? nid : -2;
        if (v->role != IR_ROLE_ACT) {
            ir_node_error(s->d, n, "outputs[%d] \"%s\" is %s, not an activation", k, v->name, role_name(v->role));
            s->errors++;
        } else if (nid >= 0 && v->producer != nid) {
            ir_node_error(s->d, n, "outputs[%d] \"%s\" names node %d as its producer", k, v->name, v->producer);
            s->errors++;
        }
    }
    check_attrs(s, n);
}

static void check_values(VerifyState *s)
{
    const IrGraph *g = s->g;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (!v) {
            ir_diag_error(s->d, "graph", "values[%d] is missing", id);
            s->errors++;
            continue;
        }
        if (v->id != id) {
            value_error(s->d, v, "has id %d but sits at index %d", v->id, id);
            s->errors++;
        }
        if (!v->name || !*v->name) {
            value_error(s->d, v, "has no name");
            s->errors++;
        } else if (ir_value_find(g, v->name) != id) {
            value_error(s->d, v, "name lookup finds value %d instead of %d (duplicate name or stale index)",
                        ir_value_find(g, v->name), id);
            s->errors++;
        }
        if ((unsigned)v->role >= IR_ROLE_COUNT) {
            value_error(s->d, v, "has an unknown role %d", (int)v->role);
            s->errors++;
            continue;
        }
        if (!v->typed) {
            value_error(s->d, v, "has no type (run shape inference first)");
            s->errors++;
            continue;
        }
        if ((unsigned)v->dtype >= SRT_BF16 || v->shape.rank < 0 || v->shape.rank > IR_MAX_RANK) {
            value_error(s->d, v, "has an invalid type (dtype %d, rank %d)", (int)v->dtype, v->shape.rank);
            s->errors++;
            continue;
        }
        if (v->role != IR_ROLE_ACT && v->producer != -1) {
            value_error(s->d, v, "is %s but names node %d as its producer", role_name(v->role), v->producer);
            s->errors++;
        }
        if (v->role == IR_ROLE_ACT && s->produced_by[id] == -1 && v->producer >= 0) {
            value_error(s->d, v, "names node %d as its producer, which does not produce it", v->producer);
            s->errors++;
        }
        if (v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST) {
            const char *what = v->role == IR_ROLE_PARAM ? "param" : "constant";
            if (!ir_shape_is_const(&v->shape)) {
                char t[256];
                ir_type_format(v->dtype, &v->shape, t, sizeof t);
                value_error(s->d, v, "%s has type %s; params and constants need a constant shape", what, t);
                s->errors++;
            } else if (!v->data) {
                value_error(s->d, v, "%s has no data", what);
                s->errors++;
            }
        }
        if (v->sym) {
            IrDim cnt;
            if (!(ir_dtype_is_int(v->dtype) || v->dtype == SRT_BOOL) || !ir_shape_numel(&v->shape, &cnt) ||
                cnt.a != 0) {
                char t[256];
                ir_type_format(v->dtype, &v->shape, t, sizeof t);
                value_error(s->d, v, "has symbolic content but type %s (needs an integer type of constant shape)",
                            t);
                s->errors++;
            }
        }
        if (v->quant || v->sparse)
            s->errors += ir_value_check_records(v, s->d);
    }
}

/* One entry of the training section's update/gradient lists: a valid id of the given role. */
static const IrValue *training_ref(VerifyState *s, const char *list, int i, int id, IrRole role)
{
    const IrGraph *g = s->g;
    if (id < 0 || id >= g->nvalues) {
        ir_diag_error(s->d, "training", "%s[%d] refers to value id %d, which does not exist", list, i, id);
        s->errors++;
        return NULL;
    }
    const IrValue *v = g->values[id];
    if (v->role != role) {
        value_error(s->d, v, "is training %s[%d] but is %s, not %s", list, i, role_name(v->role), role_name(role));
        s->errors++;
        return NULL;
    }
    return v;
}

/* Two values that must have the same type (an update and its destination, a gradient). */
static void check_same_type(VerifyState *s, const IrValue *x, const IrValue *y, const char *relation)
{
    if (!x || !y || !x->typed || !y->typed)
        return;
    if (x->dtype == y->dtype && ir_shape_eq(&x->shape, &y->shape))
        return;
    char tx[256], ty[256];
    ir_type_format(x->dtype, &x->shape, tx, sizeof tx);
    ir_type_format(y->dtype, &y->shape, ty, sizeof ty);
    value_error(s->d, x, "has type %s but %s \"%s\" has type %s", tx, relation, y->name, ty);
    s->errors++;
}

/* The lists autodiff fills: updates (param <- activation) and gradients (param -> activation). */
static void check_training_lists(VerifyState *s, const IrTraining *t)
{
    if (t->nupdates < 0 || t->ngrads < 0 || (t->nupdates > 0 && (!t->update_dst || !t->update_src)) ||
        (t->ngrads > 0 && (!t->grad_param || !t->grad_value))) {
        ir_diag_error(s->d, "training", "has %d updates and %d gradients but not their lists", t->nupdates,
                      t->ngrads);
        s->errors++;
        return;
    }
    for (int i = 0; i < t->nupdates; i++) {
        const IrValue *dst = training_ref(s, "update_dst", i, t->update_dst[i], IR_ROLE_PARAM);
        const IrValue *src = training_ref(s, "update_src", i, t->update_src[i], IR_ROLE_ACT);
        check_same_type(s, dst, src, "its update");
    }
    for (int i = 0; i < t->ngrads; i++) {
        const IrValue *p = training_ref(s, "grad_param", i, t->grad_param[i], IR_ROLE_PARAM);
        const IrValue *gv = training_ref(s, "grad_value", i, t->grad_value[i], IR_ROLE_ACT);
        if (p && !p->trainable) {
            value_error(s->d, p, "has a gradient but is not trainable");
            s->errors++;
        }
        check_same_type(s, p, gv, "its gradient");
    }
}

static void check_io(VerifyState *s)
{
    const IrGraph *g = s->g;
    bool *listed = srt_calloc((size_t)g->nvalues + 1, sizeof(bool));
    IR_ASSERT(listed);
    if (g->noutputs == 0) {
        ir_diag_error(s->d, "graph", "has no outputs");
        s->errors++;
    }
    for (int i = 0; i < g->ninputs; i++) {
        int id = g->inputs[i];
        if (id < 0 || id >= g->nvalues) {
            ir_diag_error(s->d, "graph", "inputs[%d] refers to value id %d, which does not exist", i, id);
            s->errors++;
        } else if (g->values[id]->role != IR_ROLE_INPUT || g->values[id]->training_input) {
            value_error(s->d, g->values[id], "is listed as graph inputs[%d] but is %s%s", i,
                        role_name(g->values[id]->role), g->values[id]->training_input ? " of training" : "");
            s->errors++;
        }
    }
    for (int i = 0; i < g->noutputs; i++) {
        int id = g->outputs[i];
        if (id < 0 || id >= g->nvalues) {
            ir_diag_error(s->d, "graph", "outputs[%d] refers to value id %d, which does not exist", i, id);
            s->errors++;
            continue;
        }
        listed[id] = true;
        if (!g->values[id]->is_output) {
            value_error(s->d, g->values[id], "is graph outputs[%d] but is not marked as an output", i);
            s->errors++;
        }
    }
    for (int id = 0; id < g->nvalues; id++)
        if (g->values[id] && g->values[id]->is_output && !listed[id]) {
            value_error(s->d, g->values[id], "is marked as an output but is not in the graph outputs");
            s->errors++;
        }
    free(listed);
    if (!g->training)
        return;
    const IrTraining *t = g->training;
    for (int i = 0; i < t->ninputs; i++) {
        int id = t->inputs[i];
        if (id < 0 || id >= g->nvalues) {
            ir_diag_error(s->d, "training", "inputs[%d] refers to value id %d, which does not exist", i, id);
            s->errors++;
        } else if (g->values[id]->role != IR_ROLE_INPUT || !g->values[id]->training_input) {
            value_error(s->d, g->values[id], "is listed as training inputs[%d] but is %s%s", i,
                        role_name(g->values[id]->role),
                        g->values[id]->training_input ? "" : " not marked as a training input");
            s->errors++;
        }
    }
    check_training_lists(s, t);
    const IrNode *l = t->loss;
    if (!l) {
        ir_diag_error(s->d, "training", "has no loss");
        s->errors++;
        return;
    }
    if ((unsigned)l->op < IR_OP_COUNT && !(ir_op_info(l->op)->flags & IR_OPF_LOSS)) {
        ir_node_error(s->d, l, "%s is not a loss op", ir_op_name(l->op));
        s->errors++;
    }
    for (int i = 0; i < g->nnodes; i++)
        if (g->nodes[i] == l) {
            ir_node_error(s->d, l, "the loss is also in the node list");
            s->errors++;
        }
}

/* Kernel groups (IrNode.group, ir/fusion.c): contiguous; the first node is an anchor or
 * element-wise, the others element-wise; all of the group's shape. Checked only when the rest
 * of the graph is sound (the shapes must be typed). */
static void check_groups(VerifyState *s)
{
    const IrGraph *g = s->g;
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        if (n->group < -1) {
            ir_node_error(s->d, n, "has group %d (groups are numbered from 0; -1 is none)", n->group);
            s->errors++;
            continue;
        }
        if (n->group < 0 || (i > 0 && g->nodes[i - 1]->group == n->group))
            continue;
        /* n starts its group */
        for (int j = 0; j < i; j++)
            if (g->nodes[j]->group == n->group) {
                ir_node_error(s->d, n, "is in group %d, which an earlier node also is in but the nodes between are "
                              "not (a group's nodes must be contiguous)", n->group);
                s->errors++;
                return;
            }
        const IrValue *y = n->nout > 0 && n->out[0] >= 0 ? g->values[n->out[0]] : NULL;
        bool ew_first = (ir_op_info(n->op)->flags & IR_OPF_ELEMENTWISE) != 0;
        if (!y || !y->typed || (ew_first ? !ir_fusable_elementwise(g, n) : ir_epilogue_split(g, n) < 0)) {
            ir_node_error(s->d, n, "starts group %d but can neither anchor an epilogue nor be element-wise",
                          n->group);
            s->errors++;
            continue;
        }
        for (int j = i + 1; j < g->nnodes && g->nodes[j]->group == n->group; j++) {
            const IrNode *m = g->nodes[j];
            const IrValue *z = m->nout > 0 && m->out[0] >= 0 ? g->values[m->out[0]] : NULL;
            if (!ir_fusable_elementwise(g, m) || !z || !z->typed || !ir_shape_eq(&z->shape, &y->shape)) {
                ir_node_error(s->d, m, "is in group %d but is not an element-wise node of the group's shape", m->group);
                s->errors++;
            }
        }
    }
}

int ir_verify(const IrGraph *g, IrDiag *d)
{
    VerifyState s = {.g = g, .d = d};
    s.produced_by = srt_malloc(((size_t)g->nvalues + 1) * sizeof(int));
    IR_ASSERT(s.produced_by);
    for (int i = 0; i < g->nvalues; i++)
        s.produced_by[i] = -1;
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        if (!n) {
            ir_diag_error(d, "graph", "nodes[%d] is missing", i);
            s.errors++;
            continue;
        }
        if (n->id != i) {
            ir_node_error(d, n, "has id %d but sits at index %d", n->id, i);
            s.errors++;
        }
        check_node(&s, n, i);
    }
    if (g->training && g->training->loss)
        check_node(&s, g->training->loss, -1);
    check_values(&s);
    check_io(&s);
    if (s.errors == 0)
        check_groups(&s);
    free(s.produced_by);
    return s.errors ? -1 : 0;
}
