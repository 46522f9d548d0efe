/* Pass cse: common subexpression elimination over nodes and constants. */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* Uses of a duplicate are rewired to the first occurrence (ir_graph_replace_uses); the
 * duplicate itself stays, dead, for the dce that follows. A duplicate that is a graph output
 * is kept as it is: replacing it would rename the output, and output names are the ABI. So is
 * one the training section names (an update source, a gradient): pass_value_pinned. */

static uint64_t mix(uint64_t h, uint64_t x)
{
    return (h ^ x) * 1099511628211ull;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < len; i++)
        h = mix(h, b[i]);
    return h;
}

/* A table of ids keyed by a hash, with open addressing; equality is decided by the caller. */
typedef struct IdTable {
    size_t cap;               /* power of two */
    int *ids;                 /* -1: empty */
    uint64_t *hashes;
} IdTable;

static void table_init(IdTable *t, int count)
{
    t->cap = 16;
    while (t->cap < 2 * (size_t)count + 2)
        t->cap *= 2;
    t->ids = srt_malloc(t->cap * sizeof *t->ids);
    t->hashes = srt_malloc(t->cap * sizeof *t->hashes);
    IR_ASSERT(t->ids && t->hashes);
    for (size_t i = 0; i < t->cap; i++)
        t->ids[i] = -1;
}

static void table_free(IdTable *t)
{
    free(t->ids);
    free(t->hashes);
}

/* ---- constants ---------------------------------------------------------------------- */

static size_t const_bytes(const IrValue *v)
{
    IrDim cnt;
    if (!v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0)
        return 0;
    return (size_t)cnt.b * srt_dtype_size(v->dtype);
}

static bool mergeable_const(const IrValue *v)
{
    /* (records make equal data different values: a quantized constant is stored apart) */
    return v->role == IR_ROLE_CONST && v->data && v->typed && ir_shape_is_const(&v->shape) && !v->quant &&
           !v->sparse;
}

static uint64_t hash_const(const IrValue *v)
{
    uint64_t h = mix(1469598103934665603ull, (uint64_t)v->dtype);
    h = hash_bytes(h, &v->shape.rank, sizeof v->shape.rank);
    for (int i = 0; i < v->shape.rank; i++)
        h = mix(h, (uint64_t)v->shape.d[i].b);
    return hash_bytes(h, v->data, const_bytes(v));
}

static bool same_const(const IrValue *x, const IrValue *y)
{
    return x->dtype == y->dtype && ir_shape_eq(&x->shape, &y->shape) &&
           memcmp(x->data, y->data, const_bytes(x)) == 0;
}

static int merge_consts(IrGraph *g)
{
    IdTable t;
    table_init(&t, g->nvalues);
    int merged = 0;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (!mergeable_const(v))
            continue;
        uint64_t h = hash_const(v);
        size_t i = h & (t.cap - 1);
        for (; t.ids[i] >= 0; i = (i + 1) & (t.cap - 1))
            if (t.hashes[i] == h && same_const(g->values[t.ids[i]], v))
                break;
        if (t.ids[i] < 0) {
            t.ids[i] = id;
            t.hashes[i] = h;
        } else if (!pass_value_pinned(g, id)) {
            ir_graph_replace_uses(g, id, t.ids[i]);
            merged++;
        }
    }
    table_free(&t);
    return merged;
}

/* ---- nodes -------------------------------------------------------------------------- */

/* The value an attribute has on a node: as written, else the op's default. */
typedef struct AttrValue {
    bool present;
    IrAttr a;
} AttrValue;

static AttrValue effective_attr(const IrNode *n, const IrAttrSpec *spec)
{
    AttrValue r = {0};
    const IrAttr *a = ir_attr_get(n, spec->name);
    if (a) {
        r.present = true;
        r.a = *a;
    } else if (spec->has_default) {
        r.present = true;
        r.a.kind = spec->kind;
        r.a.i = spec->def_i;
        r.a.f = spec->def_f;
        r.a.s = spec->def_s;
    }
    /* a float attribute written as an int compares by value */
    if (r.present && spec->kind == IR_ATTR_FLOAT && r.a.kind == IR_ATTR_INT) {
        r.a.kind = IR_ATTR_FLOAT;
        r.a.f = (double)r.a.i;
    }
    return r;
}

static bool same_attr_value(const IrAttr *x, const IrAttr *y)
{
    if (x->kind != y->kind)
        return false;
    switch (x->kind) {
    case IR_ATTR_INT: return x->i == y->i;
    case IR_ATTR_FLOAT: return memcmp(&x->f, &y->f, sizeof x->f) == 0;
    case IR_ATTR_STRING: return !strcmp(x->s ? x->s : "", y->s ? y->s : "");
    case IR_ATTR_INTS: return x->n == y->n && (!x->n || !memcmp(x->ints, y->ints, (size_t)x->n * sizeof *x->ints));
    case IR_ATTR_FLOATS:
        return x->n == y->n && (!x->n || !memcmp(x->floats, y->floats, (size_t)x->n * sizeof *x->floats));
    case IR_ATTR_TENSOR:
        return x->n == y->n && x->tdtype == y->tdtype && ir_shape_eq(&x->tshape, &y->tshape) &&
               (!x->n || !memcmp(x->tdata, y->tdata, (size_t)x->n * srt_dtype_size(x->tdtype)));
    }
    return false;
}

/* Same op, same inputs, same present outputs, same attributes (defaults included). */
static bool same_node(const IrNode *x, const IrNode *y)
{
    if (x->op != y->op || x->nin != y->nin || x->nout != y->nout)
        return false;
    if (memcmp(x->in, y->in, (size_t)x->nin * sizeof(int)) != 0)
        return false;
    for (int k = 0; k < x->nout; k++)
        if ((x->out[k] < 0) != (y->out[k] < 0))
            return false;
    const IrOpInfo *info = ir_op_info(x->op);
    for (int s = 0; s < info->nattrs; s++) {
        AttrValue ax = effective_attr(x, &info->attrs[s]), ay = effective_attr(y, &info->attrs[s]);
        if (ax.present != ay.present || (ax.present && !same_attr_value(&ax.a, &ay.a)))
            return false;
    }
    return true;
}

static bool mergeable_node(const IrGraph *g, const IrNode *n)
{
    /* Dropout draws a fresh mask per node and step: two of them are not the same. */
    if (n->op == IR_OP_DROPOUT)
        return false;
    /* attributes the op does not know (invalid graphs) would be ignored by same_node */
    for (int i = 0; i < n->nattrs; i++)
        if (!ir_op_attr_spec(n->op, n->attrs[i].name))
            return false;
    return true;
}

static uint64_t hash_node(const IrNode *n)
{
    uint64_t h = mix(1469598103934665603ull, (uint64_t)n->op);
    h = mix(h, (uint64_t)n->nout);
    for (int k = 0; k < n->nin; k++)
        h = mix(h, (uint64_t)(uint32_t)n->in[k]);
    return h;
}

static bool has_pinned_output(const IrGraph *g, const IrNode *n)
{
    for (int k = 0; k < n->nout; k++)
        if (pass_value_pinned(g, n->out[k]))
            return true;
    return false;
}

static int merge_nodes(IrGraph *g)
{
    IdTable t;
    table_init(&t, g->nnodes);
    int merged = 0;
    /* In order, so rewired inputs make the consumers of merged nodes mergeable in turn. */
    for (int id = 0; id < g->nnodes; id++) {
        const IrNode *n = g->nodes[id];
        if (!mergeable_node(g, n))
            continue;
        uint64_t h = hash_node(n);
        size_t i = h & (t.cap - 1);
        for (; t.ids[i] >= 0; i = (i + 1) & (t.cap - 1))
            if (t.hashes[i] == h && same_node(g->nodes[t.ids[i]], n))
                break;
        if (t.ids[i] < 0) {
            t.ids[i] = id;
            t.hashes[i] = h;
            continue;
        }
        if (has_pinned_output(g, n))
            continue;
        const IrNode *first = g->nodes[t.ids[i]];
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0)
                ir_graph_replace_uses(g, n->out[k], first->out[k]);
        merged++;
    }
    table_free(&t);
    return merged;
}

PassResult pass_cse(IrGraph *g, PassContext *ctx)
{
    /* constants first: nodes reading equal constants then have equal inputs */
    int consts = merge_consts(g);
    int nodes = merge_nodes(g);
    pass_stat_add(ctx, "constants merged", consts);
    pass_stat_add(ctx, "nodes merged", nodes);
    return consts || nodes ? PASS_CHANGED : PASS_UNCHANGED;
}
