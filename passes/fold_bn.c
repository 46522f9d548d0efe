/* Pass fold_bn: an inference BatchNormalization becomes a per-channel multiply-add, which fusion
 * puts into the epilogue of the Conv or Gemm before it.
 *
 *   y = (x - mean) * scale / sqrt(var + eps) + B
 * becomes
 *   k = scale / sqrt(var + eps)          [C]
 *   s = B - mean * k                     [C]
 *   y = x * k' + s'                      k', s': k and s reshaped to [C, 1, ...] (rank of x - 1)
 *
 * The [C] nodes read the params, so a NAME_load of new statistics still takes effect (they are
 * a few hundred flops per call); with constant statistics const_fold could fold them. The Add
 * keeps the BatchNormalization's output value, so its name and users are unchanged. Numbers
 * change by rounding only (x*k + s instead of (x - mean)*k + B).
 *
 * Left alone: the training form (training_mode 1, or more than one output), a dtype other than
 * float32, and a statistics input not of shape [C] with C the constant channel count. */
#include <stdio.h>
#include <string.h>

#include "passes/passes.h"

static IrShape vec_shape(int64_t c)
{
    IrShape s = {.rank = 1, .d = {ir_dim_const(c)}};
    return s;
}

/* "bn1.std": the name of a value (and node) the fold of bn makes. */
static const char *fold_name(const IrNode *bn, const char *what, char *buf, size_t len)
{
    snprintf(buf, len, "%s.%s", bn->name && *bn->name ? bn->name : "batchnorm", what);
    return buf;
}

/* A fresh activation named after the node, of shape s. */
static int new_act(IrGraph *g, const IrNode *bn, const char *what, const IrShape *s)
{
    char name[256];
    int id = ir_value_new(g, ir_value_unique_name(g, fold_name(bn, what, name, sizeof name)), SRT_F32, s, IR_ROLE_ACT);
    IR_ASSERT(id >= 0);
    return id;
}

static int new_node(IrGraph *g, const IrNode *bn, IrOp op, const char *what, int a, int b, const IrShape *s)
{
    int out = new_act(g, bn, what, s);
    int in[2] = {a, b};
    char name[256];
    ir_node_new(g, op, fold_name(bn, what, name, sizeof name), b >= 0 ? 2 : 1, in, 1, &out);
    return out;
}

static int new_const(IrGraph *g, const IrNode *bn, const char *what, IrDtype dt, const IrShape *s, size_t bytes)
{
    char name[256];
    int id = ir_value_new(g, ir_value_unique_name(g, fold_name(bn, what, name, sizeof name)), dt, s, IR_ROLE_CONST);
    IR_ASSERT(id >= 0);
    g->values[id]->data = ir_arena_alloc(g->arena, bytes ? bytes : 1);
    return id;
}

/* The channel count of an inference BatchNormalization this pass folds, or -1. */
static int64_t foldable(const IrGraph *g, const IrNode *n)
{
    if (n->op != IR_OP_BATCHNORM || n->nin != 5 || n->nout != 1 || ir_attr_int(n, "training_mode"))
        return -1;
    const IrValue *x = g->values[n->in[0]], *y = g->values[n->out[0]];
    if (!x->typed || !y->typed || x->dtype != SRT_F32 || x->shape.rank < 2 || !ir_dim_is_const(x->shape.d[1]))
        return -1;
    int64_t c = x->shape.d[1].b;
    for (int k = 1; k < 5; k++) {
        const IrValue *p = g->values[n->in[k]];
        if (!p->typed || p->dtype != SRT_F32 || p->shape.rank != 1 || !ir_dim_is_const(p->shape.d[0]) ||
            p->shape.d[0].b != c)
            return -1;
    }
    return c;
}

static void fold(IrGraph *g, IrNode *bn, int64_t c)
{
    int x = bn->in[0], scale = bn->in[1], bias = bn->in[2], mean = bn->in[3], var = bn->in[4];
    int rank = g->values[x]->shape.rank;
    IrShape vs = vec_shape(c), ss = {.rank = 0};
    int eps = new_const(g, bn, "epsilon", SRT_F32, &ss, sizeof(float));
    *(float *)g->values[eps]->data = (float)ir_attr_float(bn, "epsilon");
    int ve = new_node(g, bn, IR_OP_ADD, "var_eps", var, eps, &vs);
    int sd = new_node(g, bn, IR_OP_SQRT, "std", ve, -1, &vs);
    int k = new_node(g, bn, IR_OP_DIV, "scale", scale, sd, &vs);
    int mk = new_node(g, bn, IR_OP_MUL, "mean_scaled", mean, k, &vs);
    int sh = new_node(g, bn, IR_OP_SUB, "shift", bias, mk, &vs);
    if (rank > 2) {
        /* [C] -> [C, 1, ...]: broadcasting then lines the channel up with axis 1 of x */
        IrShape cs = {.rank = 1, .d = {ir_dim_const(rank - 1)}}, bs = {.rank = rank - 1};
        int target = new_const(g, bn, "channel_shape", SRT_I64, &cs, (size_t)(rank - 1) * sizeof(int64_t));
        int64_t *t = g->values[target]->data;
        bs.d[0] = ir_dim_const(c);
        t[0] = c;
        for (int i = 1; i < rank - 1; i++) {
            bs.d[i] = ir_dim_const(1);
            t[i] = 1;
        }
        k = new_node(g, bn, IR_OP_RESHAPE, "scale_bcast", k, target, &bs);
        sh = new_node(g, bn, IR_OP_RESHAPE, "shift_bcast", sh, target, &bs);
    }
    const IrShape *xs = &g->values[x]->shape;
    int m = new_node(g, bn, IR_OP_MUL, "scaled", x, k, xs);
    /* nodes and values live in the arena: bn stays valid while the node array grows */
    int in[2] = {m, sh};
    bn->op = IR_OP_ADD;
    bn->nin = 2;
    bn->in = ir_arena_memdup(g->arena, in, sizeof in);
    ir_node_set_attrs(g, bn, 0, NULL);
    bn->group = -1;
}

PassResult pass_fold_bn(IrGraph *g, PassContext *ctx)
{
    int folded = 0;
    int nnodes = g->nnodes;   /* the new nodes are appended: not visited */
    for (int i = 0; i < nnodes; i++) {
        int64_t c = foldable(g, g->nodes[i]);
        if (c < 0)
            continue;
        fold(g, g->nodes[i], c);
        folded++;
    }
    if (!folded)
        return PASS_UNCHANGED;
    /* the new nodes sit at the end; the Add that replaced each BatchNormalization reads them */
    if (ir_graph_toposort(g, ctx->diag) != 0)
        return PASS_ERROR;
    pass_stat_add(ctx, "BatchNormalizations folded to a multiply-add", folded);
    return PASS_CHANGED;
}
