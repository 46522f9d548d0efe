/* Graph construction, lookup, attributes, topological order, compaction and cloning. */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

static bool is_c_identifier(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

const char *ir_model_name_problem(const char *s)
{
    static const char *const c_keywords[] = {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern",
        "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed",
        "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
        "_Alignas", "_Alignof", "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
        "_Static_assert", "_Thread_local", "_Pragma", NULL};
    static const char *const cxx_keywords[] = {
        "alignas", "alignof", "and", "and_eq", "asm", "bitand", "bitor", "bool", "catch", "char8_t", "char16_t",
        "char32_t", "class", "compl", "concept", "consteval", "constexpr", "constinit", "const_cast", "co_await",
        "co_return", "co_yield", "decltype", "delete", "dynamic_cast", "explicit", "export", "false", "friend",
        "mutable", "namespace", "new", "noexcept", "not", "not_eq", "nullptr", "operator", "or", "or_eq", "private",
        "protected", "public", "reinterpret_cast", "requires", "static_assert", "static_cast", "template", "this",
        "thread_local", "throw", "true", "try", "typeid", "typename", "using", "virtual", "wchar_t", "xor", "xor_eq",
        NULL};
    /* what the header includes: <stddef.h>, <stdint.h> (types and macros of both) */
    static const char *const header_names[] = {
        "NULL", "offsetof", "size_t", "ptrdiff_t", "max_align_t", "int8_t", "int16_t", "int32_t", "int64_t",
        "uint8_t", "uint16_t", "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "intmax_t", "uintmax_t", NULL};
    if (!s || !is_c_identifier(s))
        return "is not a C identifier (it prefixes exported symbols: use letters, digits and '_', not starting "
               "with a digit)";
    if (strlen(s) > IR_MODEL_NAME_MAX)
        return "is too long: a model name has at most 100 characters (it prefixes exported symbols)";
    for (int i = 0; c_keywords[i]; i++)
        if (!strcmp(s, c_keywords[i]))
            return "is a C keyword and cannot prefix exported symbols";
    for (int i = 0; cxx_keywords[i]; i++)
        if (!strcmp(s, cxx_keywords[i]))
            return "is a C++ keyword (the generated header is usable from C++)";
    if (s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z')))
        return "is reserved to the C implementation (it starts with \"__\", or \"_\" and a capital letter)";
    for (int i = 0; header_names[i]; i++)
        if (!strcmp(s, header_names[i]))
            return "is a name of <stddef.h> or <stdint.h>, which the generated header includes";
    if (!strcmp(s, "srt") || !strncmp(s, "srt_", 4))
        return "is in the \"srt_\" namespace of the runtime linked into every library";
    return NULL;
}

IrGraph *ir_graph_new(const char *name)
{
    IrGraph *g = srt_calloc(1, sizeof *g);
    IR_ASSERT(g);
    g->arena = ir_arena_new();
    g->name = ir_arena_strdup(g->arena, name ? name : "model");
    g->opset = 17;
    return g;
}

void ir_graph_free(IrGraph *g)
{
    if (!g)
        return;
    free(g->values);
    free(g->nodes);
    free(g->name_index);
    ir_arena_free(g->arena);
    free(g);
}

/* ---- name index: open addressing over value ids ---------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void index_insert(IrGraph *g, int id)
{
    size_t mask = (size_t)g->name_index_cap - 1;
    size_t i = hash_str(g->values[id]->name) & mask;
    while (g->name_index[i] >= 0)
        i = (i + 1) & mask;
    g->name_index[i] = id;
}

static void index_rebuild(IrGraph *g)
{
    int cap = 64;
    while (cap < 2 * (g->nvalues + 1))
        cap *= 2;
    free(g->name_index);
    g->name_index = srt_malloc((size_t)cap * sizeof(int));
    IR_ASSERT(g->name_index);
    g->name_index_cap = cap;
    for (int i = 0; i < cap; i++)
        g->name_index[i] = -1;
    for (int id = 0; id < g->nvalues; id++)
        index_insert(g, id);
}

int ir_value_find(const IrGraph *g, const char *name)
{
    if (!g->name_index || !name)
        return -1;
    size_t mask = (size_t)g->name_index_cap - 1;
    for (size_t i = hash_str(name) & mask; g->name_index[i] >= 0; i = (i + 1) & mask)
        if (!strcmp(g->values[g->name_index[i]]->name, name))
            return g->name_index[i];
    return -1;
}

int ir_value_new(IrGraph *g, const char *name, IrDtype dtype, const IrShape *shape, IrRole role)
{
    if (!name || ir_value_find(g, name) >= 0)
        return -1;
    if (g->nvalues == g->cap_values) {
        g->cap_values = g->cap_values ? 2 * g->cap_values : 64;
        g->values = srt_realloc(g->values, (size_t)g->cap_values * sizeof *g->values);
        IR_ASSERT(g->values);
    }
    IrValue *v = ir_arena_alloc(g->arena, sizeof *v);
    v->id = g->nvalues;
    v->name = ir_arena_strdup(g->arena, name);
    v->dtype = dtype;
    v->role = role;
    v->producer = -1;
    v->trainable = role == IR_ROLE_PARAM;
    if (shape) {
        v->shape = *shape;
        v->typed = true;
    }
    g->values[g->nvalues++] = v;
    if (2 * (g->nvalues + 1) > g->name_index_cap)
        index_rebuild(g);
    else
        index_insert(g, v->id);
    return v->id;
}

int ir_value_rename(IrGraph *g, int id, const char *name)
{
    if (!name || ir_value_find(g, name) >= 0)
        return -1;
    g->values[id]->name = ir_arena_strdup(g->arena, name);
    index_rebuild(g);
    return 0;
}

const char *ir_value_unique_name(IrGraph *g, const char *prefix)
{
    if (ir_value_find(g, prefix) < 0)
        return ir_arena_strdup(g->arena, prefix);
    size_t len = strlen(prefix) + 24;
    char *buf = ir_arena_alloc(g->arena, len);
    for (long k = 1;; k++) {
        snprintf(buf, len, "%s.%ld", prefix, k);
        if (ir_value_find(g, buf) < 0)
            return buf;
    }
}

int ir_node_new(IrGraph *g, IrOp op, const char *name, int nin, const int *in, int nout, const int *out)
{
    if (g->nnodes == g->cap_nodes) {
        g->cap_nodes = g->cap_nodes ? 2 * g->cap_nodes : 64;
        g->nodes = srt_realloc(g->nodes, (size_t)g->cap_nodes * sizeof *g->nodes);
        IR_ASSERT(g->nodes);
    }
    IrNode *n = ir_arena_alloc(g->arena, sizeof *n);
    n->id = g->nnodes;
    n->op = op;
    n->name = ir_arena_strdup(g->arena, name ? name : "");
    n->where = "";
    n->group = -1;
    n->nin = nin;
    n->in = ir_arena_alloc(g->arena, (size_t)(nin ? nin : 1) * sizeof(int));
    if (nin)
        memcpy(n->in, in, (size_t)nin * sizeof(int));
    n->nout = nout;
    n->out = ir_arena_alloc(g->arena, (size_t)(nout ? nout : 1) * sizeof(int));
    if (nout)
        memcpy(n->out, out, (size_t)nout * sizeof(int));
    for (int i = 0; i < nout; i++)
        if (out[i] >= 0) {
            g->values[out[i]]->producer = n->id;
            g->values[out[i]]->role = IR_ROLE_ACT;
        }
    g->nodes[g->nnodes++] = n;
    return n->id;
}

/* ---- attributes ------------------------------------------------------------------ */

static void copy_attr(IrArena *a, IrAttr *dst, const IrAttr *src)
{
    *dst = *src;
    dst->name = ir_arena_strdup(a, src->name);
    dst->s = ir_arena_strdup(a, src->s);
    if (src->ints)
        dst->ints = ir_arena_memdup(a, src->ints, (size_t)(src->n ? src->n : 1) * sizeof(int64_t));
    if (src->floats)
        dst->floats = ir_arena_memdup(a, src->floats, (size_t)(src->n ? src->n : 1) * sizeof(double));
    if (src->tdata)
        dst->tdata = ir_arena_memdup(a, src->tdata, (size_t)(src->n ? src->n : 1) * srt_dtype_size(src->tdtype));
}

void ir_node_set_attrs(IrGraph *g, IrNode *n, int nattrs, const IrAttr *attrs)
{
    n->nattrs = nattrs;
    n->attrs = ir_arena_alloc(g->arena, (size_t)(nattrs ? nattrs : 1) * sizeof(IrAttr));
    for (int i = 0; i < nattrs; i++)
        copy_attr(g->arena, &n->attrs[i], &attrs[i]);
}

/* Replace or append one attribute. */
static void set_attr(IrGraph *g, IrNode *n, const IrAttr *a)
{
    for (int i = 0; i < n->nattrs; i++)
        if (!strcmp(n->attrs[i].name, a->name)) {
            copy_attr(g->arena, &n->attrs[i], a);
            return;
        }
    IrAttr *na = ir_arena_alloc(g->arena, (size_t)(n->nattrs + 1) * sizeof(IrAttr));
    if (n->nattrs)
        memcpy(na, n->attrs, (size_t)n->nattrs * sizeof(IrAttr));
    copy_attr(g->arena, &na[n->nattrs], a);
    n->attrs = na;
    n->nattrs++;
}

void ir_node_set_int(IrGraph *g, IrNode *n, const char *name, int64_t v)
{
    IrAttr a = {.name = name, .kind = IR_ATTR_INT, .i = v};
    set_attr(g, n, &a);
}

void ir_node_set_float(IrGraph *g, IrNode *n, const char *name, double v)
{
    IrAttr a = {.name = name, .kind = IR_ATTR_FLOAT, .f = v};
    set_attr(g, n, &a);
}

void ir_node_set_string(IrGraph *g, IrNode *n, const char *name, const char *v)
{
    IrAttr a = {.name = name, .kind = IR_ATTR_STRING, .s = v};
    set_attr(g, n, &a);
}

void ir_node_set_ints(IrGraph *g, IrNode *n, const char *name, int count, const int64_t *v)
{
    IrAttr a = {.name = name, .kind = IR_ATTR_INTS, .n = count, .ints = (int64_t *)v};
    set_attr(g, n, &a);
}

const IrAttr *ir_attr_get(const IrNode *n, const char *name)
{
    for (int i = 0; i < n->nattrs; i++)
        if (!strcmp(n->attrs[i].name, name))
            return &n->attrs[i];
    return NULL;
}

static const IrAttrSpec *spec_or_die(const IrNode *n, const char *name, IrAttrKind kind)
{
    const IrAttrSpec *s = ir_op_attr_spec(n->op, name);
    IR_ASSERT(s && "attribute not in ops.def for this op");
    IR_ASSERT(s->kind == kind);
    return s;
}

int64_t ir_attr_int(const IrNode *n, const char *name)
{
    const IrAttr *a = ir_attr_get(n, name);
    if (a && a->kind == IR_ATTR_INT)
        return a->i;
    const IrAttrSpec *s = spec_or_die(n, name, IR_ATTR_INT);
    IR_ASSERT(s->has_default);
    return s->def_i;
}

double ir_attr_float(const IrNode *n, const char *name)
{
    const IrAttr *a = ir_attr_get(n, name);
    if (a && a->kind == IR_ATTR_FLOAT)
        return a->f;
    if (a && a->kind == IR_ATTR_INT)
        return (double)a->i;
    const IrAttrSpec *s = spec_or_die(n, name, IR_ATTR_FLOAT);
    IR_ASSERT(s->has_default);
    return s->def_f;
}

const char *ir_attr_str(const IrNode *n, const char *name)
{
    const IrAttr *a = ir_attr_get(n, name);
    if (a && a->kind == IR_ATTR_STRING)
        return a->s;
    const IrAttrSpec *s = spec_or_die(n, name, IR_ATTR_STRING);
    return s->has_default ? s->def_s : NULL;
}

int ir_attr_ints(const IrNode *n, const char *name, const int64_t **out)
{
    const IrAttr *a = ir_attr_get(n, name);
    if (!a || a->kind != IR_ATTR_INTS)
        return -1;
    *out = a->ints;
    return a->n;
}

int ir_attr_floats(const IrNode *n, const char *name, const double **out)
{
    const IrAttr *a = ir_attr_get(n, name);
    if (!a || a->kind != IR_ATTR_FLOATS)
        return -1;
    *out = a->floats;
    return a->n;
}

/* ---- compile-time integer contents ------------------------------------------------ */

int ir_value_known_ints(IrGraph *g, int id, IrDim **out)
{
    if (id < 0)
        return -1;
    IrValue *v = g->values[id];
    IrDim cnt;
    if (!v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0 || cnt.b > (1 << 20))
        return -1;
    int count = (int)cnt.b;
    if (v->sym) {
        *out = v->sym;
        return count;
    }
    if (!v->data || !ir_dtype_is_int(v->dtype))
        return -1;
    if (v->role == IR_ROLE_PARAM)
        return -1;   /* params (and optimizer state such as the step counter) change at run time */
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(IrDim));
    IrTensor t = {.dtype = v->dtype, .numel = count, .data = v->data};
    for (int i = 0; i < count; i++)
        r[i] = ir_dim_const(ir_tensor_geti(&t, i));
    *out = r;
    return count;
}

int ir_value_const_ints(IrGraph *g, int id, int64_t **out)
{
    IrDim *dims;
    int count = ir_value_known_ints(g, id, &dims);
    if (count < 0)
        return -1;
    int64_t *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(int64_t));
    for (int i = 0; i < count; i++) {
        if (dims[i].a != 0)
            return -1;
        r[i] = dims[i].b;
    }
    *out = r;
    return count;
}

int ir_reduce_axes(IrGraph *g, const IrNode *n, bool *reduced)
{
    int rank = g->values[n->in[0]]->shape.rank;
    int64_t *cax;
    const int64_t *axes;
    int count;
    if (n->nin >= 2 && n->in[1] >= 0) {
        count = ir_value_const_ints(g, n->in[1], &cax);
        axes = cax;
    } else {
        count = ir_attr_ints(n, "axes", &axes);
        if (count < 0)
            count = 0;
    }
    if (count < 0)
        return -1;
    bool none = count == 0 && ir_attr_int(n, "noop_with_empty_axes");
    for (int a = 0; a < rank; a++)
        reduced[a] = count == 0 && !none;
    for (int i = 0; i < count; i++) {
        int a;
        if (!ir_norm_axis(axes[i], rank, &a))
            return -1;
        reduced[a] = true;
    }
    int total = 0;
    for (int a = 0; a < rank; a++)
        total += reduced[a];
    return total;
}

void ir_set_out(IrGraph *g, IrNode *n, int i, IrDtype dtype, const IrShape *shape)
{
    IrValue *v = ir_out(g, n, i);
    if (!v)
        return;
    v->dtype = dtype;
    v->shape = *shape;
    v->typed = true;
}

void ir_set_out_sym(IrGraph *g, IrNode *n, int i, int count, const IrDim *sym)
{
    IrValue *v = ir_out(g, n, i);
    if (!v)
        return;
    v->sym = ir_arena_memdup(g->arena, sym, (size_t)(count ? count : 1) * sizeof(IrDim));
}

/* ---- order, compaction, cloning ----------------------------------------------------- */

int ir_graph_toposort(IrGraph *g, IrDiag *d)
{
    int nn = g->nnodes;
    int *state = srt_calloc((size_t)nn + 1, sizeof(int)); /* 0 new, 1 on stack, 2 done */
    int *order = srt_malloc(((size_t)nn + 1) * sizeof(int));
    int *stack = srt_malloc(((size_t)nn + 1) * 2 * sizeof(int));
    IR_ASSERT(state && order && stack);
    int norder = 0, rc = 0;
    /* Iterative DFS from each node in declaration order: producers first. */
    for (int root = 0; root < nn && rc == 0; root++) {
        if (state[root])
            continue;
        int sp = 0;
        stack[sp++] = root;
        stack[sp++] = 0;
        state[root] = 1;
        while (sp && rc == 0) {
            int nid = stack[sp - 2], k = stack[sp - 1];
            IrNode *n = g->nodes[nid];
            if (k < n->nin) {
                stack[sp - 1] = k + 1;
                int vid = n->in[k];
                int p = vid >= 0 ? g->values[vid]->producer : -1;
                if (p < 0 || state[p] == 2)
                    continue;
                if (state[p] == 1) {
                    ir_node_error(d, g->nodes[p], "cycle: its output \"%s\" depends on itself through node \"%s\"",
                                  g->values[vid]->name, n->name);
                    rc = -1;
                    break;
                }
                state[p] = 1;
                stack[sp++] = p;
                stack[sp++] = 0;
            } else {
                state[nid] = 2;
                order[norder++] = nid;
                sp -= 2;
            }
        }
    }
    if (rc == 0)
        ir_graph_permute(g, order);
    free(state);
    free(order);
    free(stack);
    return rc;
}

void ir_graph_permute(IrGraph *g, const int *order)
{
    int nn = g->nnodes;
    IrNode **nodes = srt_malloc(((size_t)nn + 1) * sizeof *nodes);
    IR_ASSERT(nodes);
    for (int i = 0; i < nn; i++) {
        nodes[i] = g->nodes[order[i]];
        nodes[i]->id = i;
    }
    if (nn)
        memcpy(g->nodes, nodes, (size_t)nn * sizeof *nodes);
    free(nodes);
    for (int i = 0; i < nn; i++)
        for (int k = 0; k < g->nodes[i]->nout; k++)
            if (g->nodes[i]->out[k] >= 0)
                g->values[g->nodes[i]->out[k]]->producer = i;
}

void ir_graph_compact(IrGraph *g, const bool *keep_node)
{
    ir_graph_compact_keep(g, keep_node, NULL);
}

void ir_graph_compact_keep(IrGraph *g, const bool *keep_node, const bool *keep_value)
{
    bool *used = srt_calloc((size_t)g->nvalues + 1, sizeof(bool));
    int *vmap = srt_malloc(((size_t)g->nvalues + 1) * sizeof(int));
    IR_ASSERT(used && vmap);
    for (int i = 0; keep_value && i < g->nvalues; i++)
        used[i] = keep_value[i];
    int nn = 0;
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        if (keep_node && !keep_node[i]) {
            for (int k = 0; k < n->nout; k++)
                if (n->out[k] >= 0)
                    g->values[n->out[k]]->producer = -1;
            continue;
        }
        n->id = nn;
        g->nodes[nn++] = n;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0)
                used[n->in[k]] = true;
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0)
                used[n->out[k]] = true;
    }
    g->nnodes = nn;
    for (int i = 0; i < g->ninputs; i++)
        used[g->inputs[i]] = true;
    for (int i = 0; i < g->noutputs; i++)
        used[g->outputs[i]] = true;
    if (g->training) {
        for (int i = 0; i < g->training->ninputs; i++)
            used[g->training->inputs[i]] = true;
        IrNode *l = g->training->loss;
        for (int k = 0; l && k < l->nin; k++)
            if (l->in[k] >= 0)
                used[l->in[k]] = true;
        for (int k = 0; l && k < l->nout; k++)
            if (l->out[k] >= 0)
                used[l->out[k]] = true;
        for (int i = 0; i < g->training->nupdates; i++)
            used[g->training->update_dst[i]] = used[g->training->update_src[i]] = true;
        for (int i = 0; i < g->training->ngrads; i++)
            used[g->training->grad_param[i]] = used[g->training->grad_value[i]] = true;
    }
    int nv = 0;
    for (int i = 0; i < g->nvalues; i++) {
        vmap[i] = used[i] ? nv : -1;
        if (used[i]) {
            g->values[i]->id = nv;
            g->values[nv++] = g->values[i];
        }
    }
    g->nvalues = nv;
#define REMAP(x) ((x) >= 0 ? vmap[(x)] : -1)
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++)
            n->in[k] = REMAP(n->in[k]);
        for (int k = 0; k < n->nout; k++) {
            n->out[k] = REMAP(n->out[k]);
            if (n->out[k] >= 0)
                g->values[n->out[k]]->producer = i;
        }
    }
    for (int i = 0; i < g->ninputs; i++)
        g->inputs[i] = REMAP(g->inputs[i]);
    for (int i = 0; i < g->noutputs; i++)
        g->outputs[i] = REMAP(g->outputs[i]);
    if (g->training) {
        for (int i = 0; i < g->training->ninputs; i++)
            g->training->inputs[i] = REMAP(g->training->inputs[i]);
        IrNode *l = g->training->loss;
        for (int k = 0; l && k < l->nin; k++)
            l->in[k] = REMAP(l->in[k]);
        for (int k = 0; l && k < l->nout; k++)
            l->out[k] = REMAP(l->out[k]);
        for (int i = 0; i < g->training->nupdates; i++) {
            g->training->update_dst[i] = REMAP(g->training->update_dst[i]);
            g->training->update_src[i] = REMAP(g->training->update_src[i]);
        }
        for (int i = 0; i < g->training->ngrads; i++) {
            g->training->grad_param[i] = REMAP(g->training->grad_param[i]);
            g->training->grad_value[i] = REMAP(g->training->grad_value[i]);
        }
    }
#undef REMAP
    free(used);
    free(vmap);
    index_rebuild(g);
}

static IrNode *clone_node(IrGraph *dst, const IrNode *n)
{
    IrNode *c = ir_arena_alloc(dst->arena, sizeof *c);
    *c = *n;
    c->name = ir_arena_strdup(dst->arena, n->name);
    c->where = ir_arena_strdup(dst->arena, n->where);
    c->in = ir_arena_memdup(dst->arena, n->in, (size_t)(n->nin ? n->nin : 1) * sizeof(int));
    c->out = ir_arena_memdup(dst->arena, n->out, (size_t)(n->nout ? n->nout : 1) * sizeof(int));
    c->attrs = NULL;
    c->nattrs = 0;
    ir_node_set_attrs(dst, c, n->nattrs, n->attrs);
    return c;
}

IrGraph *ir_graph_clone(const IrGraph *g)
{
    IrGraph *c = ir_graph_new(g->name);
    IrArena *a = c->arena;
    c->seed = g->seed;
    c->opset = g->opset;
    c->weights = ir_arena_strdup(a, g->weights);
    c->model_dir = ir_arena_strdup(a, g->model_dir);
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        int id = ir_value_new(c, v->name, v->dtype, v->typed ? &v->shape : NULL, v->role);
        IR_ASSERT(id == i);
        IrValue *cv = c->values[id];
        IrValue keep = *cv;
        *cv = *v;
        cv->name = keep.name;
        cv->where = ir_arena_strdup(a, v->where);
        cv->init_json = ir_arena_strdup(a, v->init_json);
        IrDim cnt;
        if (v->data && ir_shape_numel(&v->shape, &cnt) && cnt.a == 0)
            cv->data = ir_arena_memdup(a, v->data, (size_t)(cnt.b ? cnt.b : 1) * srt_dtype_size(v->dtype));
        else
            cv->data = NULL;
        if (v->sym && ir_shape_numel(&v->shape, &cnt) && cnt.a == 0)
            cv->sym = ir_arena_memdup(a, v->sym, (size_t)(cnt.b ? cnt.b : 1) * sizeof(IrDim));
        else
            cv->sym = NULL;
        cv->quant = ir_quant_copy(a, v->quant);
        cv->sparse = ir_sparse_copy(a, v->sparse);
    }
    for (int i = 0; i < g->nnodes; i++) {
        if (c->nnodes == c->cap_nodes) {
            c->cap_nodes = c->cap_nodes ? 2 * c->cap_nodes : 64;
            c->nodes = srt_realloc(c->nodes, (size_t)c->cap_nodes * sizeof *c->nodes);
            IR_ASSERT(c->nodes);
        }
        c->nodes[c->nnodes++] = clone_node(c, g->nodes[i]);
    }
    c->ninputs = g->ninputs;
    c->inputs = ir_arena_memdup(a, g->inputs, (size_t)(g->ninputs ? g->ninputs : 1) * sizeof(int));
    c->noutputs = g->noutputs;
    c->outputs = ir_arena_memdup(a, g->outputs, (size_t)(g->noutputs ? g->noutputs : 1) * sizeof(int));
    if (g->training) {
        c->training = ir_arena_alloc(a, sizeof *c->training);
        *c->training = *g->training;
        c->training->inputs = ir_arena_memdup(a, g->training->inputs,
                                              (size_t)(g->training->ninputs ? g->training->ninputs : 1) * sizeof(int));
        c->training->loss = g->training->loss ? clone_node(c, g->training->loss) : NULL;
        size_t nu = (size_t)(g->training->nupdates ? g->training->nupdates : 1) * sizeof(int);
        size_t ng = (size_t)(g->training->ngrads ? g->training->ngrads : 1) * sizeof(int);
        c->training->update_dst = g->training->update_dst ? ir_arena_memdup(a, g->training->update_dst, nu) : NULL;
        c->training->update_src = g->training->update_src ? ir_arena_memdup(a, g->training->update_src, nu) : NULL;
        c->training->grad_param = g->training->grad_param ? ir_arena_memdup(a, g->training->grad_param, ng) : NULL;
        c->training->grad_value = g->training->grad_value ? ir_arena_memdup(a, g->training->grad_value, ng) : NULL;
    }
    return c;
}

void ir_graph_replace_uses(IrGraph *g, int old, int repl)
{
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] == old)
                n->in[k] = repl;
    }
    for (int i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == old)
            g->outputs[i] = repl;
    if (g->training && g->training->loss) {
        IrNode *l = g->training->loss;
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] == old)
                l->in[k] = repl;
    }
    for (int i = 0; g->training && i < g->training->nupdates; i++)
        if (g->training->update_src[i] == old)
            g->training->update_src[i] = repl;
    for (int i = 0; g->training && i < g->training->ngrads; i++)
        if (g->training->grad_value[i] == old)
            g->training->grad_value[i] = repl;
}

const char *ir_node_where(const IrNode *n, char *buf, size_t len)
{
    const char *where = n->where && *n->where ? n->where : "node";
    if (n->name && *n->name)
        snprintf(buf, len, "%s \"%s\" (%s)", where, n->name, ir_op_name(n->op));
    else
        snprintf(buf, len, "%s (%s)", where, ir_op_name(n->op));
    return buf;
}

void ir_node_error(IrDiag *d, const IrNode *n, const char *fmt, ...)
{
    char where[512];
    ir_node_where(n, where, sizeof where);
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(d, where, fmt, ap);
    va_end(ap);
}
