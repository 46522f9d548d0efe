/* Pass canonicalize: rewrites the decomposed forms that exporters emit into the single ops
 * whose kernels (and gradients) are one loop, before fusion groups the rest.
 *
 *   LayerNormalization, as torch exports it below opset 17:
 *     mean = ReduceMean(x, axes A, keepdims 1)     d = Sub(x, mean)
 *     var  = ReduceMean(Pow(d, 2) | Mul(d, d), A)  s = Sqrt(Add(var, eps))
 *     y    = Div(d, s) [* gamma [+ beta]]
 *   with A the trailing axes of x, eps a scalar constant, gamma and beta (params or constants)
 *   of exactly the normalized shape. Without the Mul the form stays as it is (the op needs a
 *   scale); the Add is optional.
 *
 *   Gelu (exact, erf form): 0.5 * x * (1 + Erf(x / sqrt(2))), the three products in either
 *   association and order, x / sqrt(2) also as x * (1 / sqrt(2)).
 *
 * Every intermediate of a match has exactly the uses the pattern gives it and is no graph
 * output or training value, so nothing else sees the rewrite. The last node of a match becomes
 * the new op in place (its output keeps its name and users; its inputs all precede it), and the
 * other nodes go. The numbers change only by rounding: the fused ops compute in one pass what
 * the decomposition rounds op by op. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

typedef struct Ctx {
    IrGraph *g;
    int *uses;                /* per value: node inputs and loss inputs reading it */
    int *user;                /* per value: the last node reading it, or -1 */
    bool *dead;               /* per node: removed by a rewrite */
} Ctx;

static void count_uses(Ctx *c)
{
    IrGraph *g = c->g;
    memset(c->uses, 0, (size_t)g->nvalues * sizeof *c->uses);
    for (int v = 0; v < g->nvalues; v++)
        c->user[v] = -1;
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] >= 0) {
                c->uses[n->in[k]]++;
                c->user[n->in[k]] = i;
            }
    }
    if (g->training && g->training->loss) {
        const IrNode *l = g->training->loss;
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                c->uses[l->in[k]]++;
    }
}

/* The live node producing v with op `op`, or NULL. */
static IrNode *producer(const Ctx *c, int v, IrOp op)
{
    if (v < 0)
        return NULL;
    const IrValue *x = c->g->values[v];
    if (x->role != IR_ROLE_ACT || x->producer < 0 || c->dead[x->producer])
        return NULL;
    IrNode *n = c->g->nodes[x->producer];
    return n->op == op ? n : NULL;
}

/* v is an intermediate read by exactly `uses` nodes and by nothing outside the nodes. */
static bool internal(const Ctx *c, int v, int uses)
{
    return v >= 0 && c->uses[v] == uses && !pass_value_pinned(c->g, v);
}

/* A float scalar constant (any rank with one element). */
static bool scalar_const(const IrGraph *g, int v, double *out)
{
    if (v < 0)
        return false;
    const IrValue *x = g->values[v];
    IrDim numel;
    if (x->role != IR_ROLE_CONST || !x->data || !ir_dtype_is_float(x->dtype) || !ir_shape_numel(&x->shape, &numel) ||
        !ir_dim_eq(numel, ir_dim_const(1)))
        return false;
    *out = x->dtype == SRT_F32 ? (double)*(const float *)x->data : *(const double *)x->data;
    return true;
}

static bool scalar_is(const IrGraph *g, int v, double want, double tol)
{
    double x;
    return scalar_const(g, v, &x) && fabs(x - want) <= tol;
}

/* The input of a binary node other than `v`, or -1 if v is not one of its inputs. */
static int other_input(const IrNode *n, int v)
{
    if (n->nin != 2)
        return -1;
    return n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : -1;
}

/* The node reading v (v has one use), unless a rewrite removed it. */
static IrNode *single_user(const Ctx *c, int v)
{
    int u = c->user[v];
    return u >= 0 && !c->dead[u] ? c->g->nodes[u] : NULL;
}

/* First reduced axis of a ReduceMean with keepdims over the trailing axes of its input, or -1. */
static int trailing_mean_axis(IrGraph *g, const IrNode *r)
{
    bool reduced[IR_MAX_RANK];
    int count = ir_reduce_axes(g, r, reduced);
    int rank = g->values[r->in[0]]->shape.rank;
    if (ir_attr_int(r, "keepdims") != 1 || count <= 0)
        return -1;
    for (int a = rank - count; a < rank; a++)
        if (!reduced[a])
            return -1;
    return rank - count;
}

static bool same_axes(IrGraph *g, const IrNode *a, const IrNode *b)
{
    int x = trailing_mean_axis(g, a), y = trailing_mean_axis(g, b);
    return x >= 0 && x == y && g->values[a->in[0]]->shape.rank == g->values[b->in[0]]->shape.rank;
}

/* A param or constant of exactly the trailing shape of x from `axis` on. */
static bool normalized_shaped(const IrGraph *g, int v, int x, int axis)
{
    if (v < 0)
        return false;
    const IrValue *p = g->values[v], *xv = g->values[x];
    if (p->role != IR_ROLE_PARAM && p->role != IR_ROLE_CONST)
        return false;
    if (p->dtype != xv->dtype || p->shape.rank != xv->shape.rank - axis)
        return false;
    for (int i = 0; i < p->shape.rank; i++)
        if (!ir_dim_eq(p->shape.d[i], xv->shape.d[axis + i]))
            return false;
    return true;
}

/* Turn node n into op with the given inputs (its output 0 kept) and no attributes yet. */
static void become(IrGraph *g, IrNode *n, IrOp op, int nin, const int *in)
{
    n->op = op;
    n->nin = nin;
    n->in = ir_arena_memdup(g->arena, in, (size_t)nin * sizeof *in);
    n->nout = 1;
    ir_node_set_attrs(g, n, 0, NULL);
    n->group = -1;
}

static void kill(Ctx *c, const IrNode *n)
{
    c->dead[n->id] = true;
}

/* Div(d, s) at the heart of a decomposed LayerNormalization. */
static bool match_layernorm(Ctx *c, IrNode *div)
{
    IrGraph *g = c->g;
    if (div->op != IR_OP_DIV || !ir_dtype_is_float(g->values[div->out[0]]->dtype))
        return false;
    int d = div->in[0], s = div->in[1];
    IrNode *sq = producer(c, s, IR_OP_SQRT);
    IrNode *sub = producer(c, d, IR_OP_SUB);
    if (!sq || !sub || !internal(c, s, 1))
        return false;
    IrNode *add = producer(c, sq->in[0], IR_OP_ADD);
    if (!add || !internal(c, sq->in[0], 1))
        return false;
    double eps;
    int var;
    if (scalar_const(g, add->in[1], &eps))
        var = add->in[0];
    else if (scalar_const(g, add->in[0], &eps))
        var = add->in[1];
    else
        return false;
    IrNode *rvar = producer(c, var, IR_OP_REDUCEMEAN);
    if (!rvar || !internal(c, var, 1))
        return false;
    int p = rvar->in[0];
    IrNode *pw = producer(c, p, IR_OP_POW), *sqr = producer(c, p, IR_OP_MUL);
    if (!internal(c, p, 1))
        return false;
    if (pw ? !(pw->in[0] == d && scalar_is(g, pw->in[1], 2.0, 0)) : !(sqr && sqr->in[0] == d && sqr->in[1] == d))
        return false;
    if (!internal(c, d, pw ? 2 : 3))   /* the square and the Div */
        return false;
    int x = sub->in[0], mean = sub->in[1];
    IrNode *rmean = producer(c, mean, IR_OP_REDUCEMEAN);
    if (!rmean || rmean->in[0] != x || !internal(c, mean, 1) || !same_axes(g, rmean, rvar))
        return false;
    int axis = trailing_mean_axis(g, rmean);
    /* the affine part: Mul by gamma, then optionally Add beta */
    int y = div->out[0];
    if (!internal(c, y, 1))
        return false;
    IrNode *mul = single_user(c, y);
    int gamma = mul && mul->op == IR_OP_MUL ? other_input(mul, y) : -1;
    if (!normalized_shaped(g, gamma, x, axis))
        return false;
    IrNode *last = mul, *badd = NULL;
    int beta = -1;
    if (internal(c, mul->out[0], 1)) {
        badd = single_user(c, mul->out[0]);
        beta = badd && badd->op == IR_OP_ADD ? other_input(badd, mul->out[0]) : -1;
        if (normalized_shaped(g, beta, x, axis))
            last = badd;
        else
            beta = -1;
    }
    IrNode *drop[] = {rmean, sub, pw ? pw : sqr, rvar, add, sq, div, mul};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (drop[i] != last)
            kill(c, drop[i]);
    int in[3] = {x, gamma, beta};
    become(g, last, IR_OP_LAYERNORM, beta >= 0 ? 3 : 2, in);
    ir_node_set_int(g, last, "axis", axis);
    ir_node_set_float(g, last, "epsilon", eps);
    return true;
}

/* Erf(u) of a Gelu in erf form: u = x / sqrt(2) or x * (1/sqrt(2)). */
static bool match_gelu(Ctx *c, IrNode *erf)
{
    IrGraph *g = c->g;
    if (erf->op != IR_OP_ERF || !ir_dtype_is_float(g->values[erf->out[0]]->dtype))
        return false;
    int u = erf->in[0], x = -1;
    IrNode *scale = producer(c, u, IR_OP_DIV);
    if (scale && scalar_is(g, scale->in[1], sqrt(2.0), 1e-6))
        x = scale->in[0];
    if (!scale) {
        scale = producer(c, u, IR_OP_MUL);
        if (scale && scalar_is(g, scale->in[1], sqrt(0.5), 1e-6))
            x = scale->in[0];
        else if (scale && scalar_is(g, scale->in[0], sqrt(0.5), 1e-6))
            x = scale->in[1];
    }
    if (x < 0 || !internal(c, u, 1) || !internal(c, erf->out[0], 1))
        return false;
    IrNode *one = single_user(c, erf->out[0]);
    int h = one && one->op == IR_OP_ADD && scalar_is(g, other_input(one, erf->out[0]), 1.0, 0) ? one->out[0] : -1;
    if (h < 0 || !internal(c, h, 1))
        return false;
    /* the products of x, 0.5 and h: m1 reads h */
    IrNode *m1 = single_user(c, h);
    if (!m1 || m1->op != IR_OP_MUL)
        return false;
    int o1 = other_input(m1, h);
    IrNode *last = NULL, *half = NULL;
    if (o1 == x || scalar_is(g, o1, 0.5, 0)) {
        /* (x * h) * 0.5 or (0.5 * h) * x */
        if (!internal(c, m1->out[0], 1))
            return false;
        IrNode *m2 = single_user(c, m1->out[0]);
        int o2 = m2 && m2->op == IR_OP_MUL ? other_input(m2, m1->out[0]) : -1;
        if (o1 == x ? !scalar_is(g, o2, 0.5, 0) : o2 != x)
            return false;
        last = m2;
    } else {
        /* (x * 0.5) * h */
        half = producer(c, o1, IR_OP_MUL);
        int o = half ? other_input(half, x) : -1;
        if (!half || !internal(c, o1, 1) || !scalar_is(g, o, 0.5, 0))
            return false;
        last = m1;
    }
    if (g->values[last->out[0]]->dtype != g->values[x]->dtype ||
        !ir_shape_eq(&g->values[last->out[0]]->shape, &g->values[x]->shape))
        return false;
    IrNode *drop[] = {scale, erf, one, m1, half};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (drop[i] && drop[i] != last)
            kill(c, drop[i]);
    become(g, last, IR_OP_GELU, 1, &x);
    return true;
}

PassResult pass_canonicalize(IrGraph *g, PassContext *ctx)
{
    Ctx c = {g, srt_calloc((size_t)g->nvalues + 1, sizeof(int)), srt_malloc(((size_t)g->nvalues + 1) * sizeof(int)),
             srt_calloc((size_t)g->nnodes + 1, sizeof(bool))};
    IR_ASSERT(c.uses && c.user && c.dead);
    count_uses(&c);
    int ln = 0, gelu = 0;
    /* a rewrite changes only the uses of removed intermediates and of the node it rewrites,
     * which no other match can involve; the counts stay right for the rest */
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        if (c.dead[i])
            continue;
        if (match_layernorm(&c, n))
            ln++;
        else if (match_gelu(&c, n))
            gelu++;
    }
    if (ln + gelu) {
        bool *keep = srt_malloc((size_t)g->nnodes * sizeof *keep);
        IR_ASSERT(keep);
        for (int i = 0; i < g->nnodes; i++)
            keep[i] = !c.dead[i];
        pass_compact(g, keep);
        free(keep);
    }
    free(c.uses);
    free(c.user);
    free(c.dead);
    if (ln)
        pass_stat_add(ctx, "patterns rewritten to LayerNormalization", ln);
    if (gelu)
        pass_stat_add(ctx, "patterns rewritten to Gelu", gelu);
    return ln + gelu ? PASS_CHANGED : PASS_UNCHANGED;
}
