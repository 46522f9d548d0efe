/* fuse: mark kernel groups (an anchor plus element-wise epilogue, or element-wise chains) and make each group contiguous. */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* What the pass decides (the contract with codegen is in ir/fusion.c):
 *   - an element-wise node joins the group of a node that produces one of its inputs when it
 *     has the group's shape and the group can read its other inputs: an anchor group (Gemm,
 *     MatMul, Conv, pooling, BatchNormalization, LayerNormalization and Softmax on the last
 *     axis, reductions: ir_epilogue_split) takes float nodes of the anchor's dtype whose other
 *     inputs fit the anchor's row/column split, chained from the anchor's output 0; an
 *     element-wise group takes any element-wise node of its shape;
 *   - of several producers it joins an anchor's group before an element-wise one, and the
 *     most recent producer's of those;
 *   - then an element-wise node whose only consumers are non-anchor members of one group joins
 *     that group too (computed in the kernel from its own inputs instead of being stored);
 *   - a join that would make the group depend on itself through an outside node (a path
 *     group -> outside node -> new member) is refused, so groups can run as one kernel;
 *   - in a training graph the optimizer step's nodes never share a group with the others
 *     (codegen runs them as a program of their own);
 *   - finally nodes are reordered (a stable topological order of the groups and the other
 *     nodes) so that each group is contiguous with its anchor first, and groups are numbered in
 *     that order.
 * The pass recomputes the groups from scratch: running it twice gives the same graph. */

typedef struct Group {
    int anchor;               /* node id, or -1 (element-wise group) */
    int first;                /* lowest member node index (before reordering) */
    int split;                /* anchor's ir_epilogue_split */
    IrShape shape;            /* the group's shape */
    IrDtype dtype;            /* anchor groups: the anchor's output dtype */
    int size;
} Group;

typedef struct Fuse {
    IrGraph *g;
    int *grp;                 /* per node: group index or -1 */
    Group *groups;
    int ngroups;
    bool *apply;              /* training graph: optimizer-step nodes; NULL otherwise */
    int *mark;                /* per node: DFS visit stamp */
    int stamp;
} Fuse;

static const IrValue *value(const IrGraph *g, int id)
{
    return id >= 0 ? g->values[id] : NULL;
}

static int producer_of(const IrGraph *g, int v)
{
    const IrValue *x = value(g, v);
    return x && x->role == IR_ROLE_ACT ? x->producer : -1;
}

/* Does node q (outside group gi) depend on a member of gi? Walks producers back, never below
 * the group's first member (nothing earlier can depend on it). */
static bool depends_on_group(Fuse *f, int q, int gi)
{
    const Group *gr = &f->groups[gi];
    int sp = 0;
    int *stack = srt_malloc(((size_t)f->g->nnodes + 1) * sizeof *stack);
    IR_ASSERT(stack);
    f->stamp++;
    stack[sp++] = q;
    f->mark[q] = f->stamp;
    bool found = false;
    while (sp && !found) {
        const IrNode *n = f->g->nodes[stack[--sp]];
        for (int k = 0; k < n->nin && !found; k++) {
            int p = producer_of(f->g, n->in[k]);
            if (p < 0 || p < gr->first || f->mark[p] == f->stamp)
                continue;
            if (f->grp[p] == gi) {
                found = true;
                break;
            }
            f->mark[p] = f->stamp;
            stack[sp++] = p;
        }
    }
    free(stack);
    return found;
}

/* The group p's node would start, or -1 if p cannot lead one (filled into *out). */
static bool seed_group(const Fuse *f, int p, Group *out)
{
    const IrGraph *g = f->g;
    const IrNode *n = g->nodes[p];
    const IrValue *y = value(g, n->out[0]);
    memset(out, 0, sizeof *out);
    out->first = p;
    out->size = 1;
    if (!y || !y->typed)
        return false;
    out->shape = y->shape;
    out->dtype = y->dtype;
    out->split = ir_epilogue_split(g, n);
    if (out->split >= 0) {
        out->anchor = p;
        return true;
    }
    out->anchor = -1;
    return ir_fusable_elementwise(g, n);
}

/* Can node e join the group gr (index gi, or -1 for a group p would seed), reading value v of
 * it? */
static bool can_join(Fuse *f, const Group *gr, int gi, int p, const IrNode *e, int v)
{
    const IrGraph *g = f->g;
    const IrValue *y = value(g, e->out[0]);
    if (!y->typed || !ir_shape_eq(&y->shape, &gr->shape))
        return false;
    if (f->apply && f->apply[p] != f->apply[e->id])
        return false;
    if (gr->anchor >= 0) {
        const IrNode *a = g->nodes[gr->anchor];
        /* chained from the anchor's output 0 (its other outputs are stored as they are) */
        if (producer_of(g, v) == gr->anchor && a->out[0] != v)
            return false;
        if (y->dtype != gr->dtype)
            return false;
    }
    for (int k = 0; k < e->nin; k++) {
        const IrValue *x = value(g, e->in[k]);
        if (!x)
            continue;
        int q = producer_of(g, x->id);
        bool inside = q >= 0 && (gi >= 0 ? f->grp[q] == gi : q == p);
        if (gr->anchor >= 0) {
            if (x->dtype != gr->dtype || !x->typed)
                return false;
            if (!inside &&
                !ir_operand_fits_split(&gr->shape, &x->shape, ir_operand_axis(g, e, k, gr->shape.rank), gr->split))
                return false;
        }
        if (!inside && q >= 0 && gi >= 0 && depends_on_group(f, q, gi))
            return false;
        /* a would-be group of one node: e's other inputs cannot depend on p except through
         * v itself, unless they come from p directly */
        if (!inside && q >= 0 && gi < 0) {
            int saved = f->grp[p];
            f->grp[p] = f->ngroups;   /* pretend, for the walk */
            f->groups[f->ngroups] = *gr;
            bool dep = depends_on_group(f, q, f->ngroups);
            f->grp[p] = saved;
            if (dep)
                return false;
        }
    }
    return true;
}

static void join(Fuse *f, int gi_or_new, const Group *seed, int p, int e)
{
    int gi = gi_or_new;
    if (gi < 0) {
        gi = f->ngroups++;
        f->groups[gi] = *seed;
        f->grp[p] = gi;
    }
    f->grp[e] = gi;
    f->groups[gi].size++;
}

/* Node i (element-wise, in no group) joins the group that all its consumers are in, when they
 * are not the anchor (that would be a prologue) and the group can read i's inputs: it is then
 * computed inside that kernel instead of being stored. */
static void pull_producer(Fuse *f, int i)
{
    IrGraph *g = f->g;
    const IrNode *e = g->nodes[i];
    if (f->grp[i] >= 0 || !ir_fusable_elementwise(g, e) || !value(g, e->out[0])->typed ||
        pass_value_pinned(g, e->out[0]))
        return;
    int v = e->out[0], gi = -1;
    if (g->training && g->training->loss)
        for (int k = 0; k < g->training->loss->nin; k++)
            if (g->training->loss->in[k] == v)
                return;
    for (int j = i + 1; j < g->nnodes; j++) {
        const IrNode *c = g->nodes[j];
        for (int k = 0; k < c->nin; k++) {
            if (c->in[k] != v)
                continue;
            if (f->grp[j] < 0 || (gi >= 0 && f->grp[j] != gi) || f->groups[f->grp[j]].anchor == j)
                return;
            gi = f->grp[j];
        }
    }
    if (gi < 0)
        return;
    Group *gr = &f->groups[gi];
    const IrValue *y = value(g, v);
    if (!ir_shape_eq(&y->shape, &gr->shape) || (f->apply && f->apply[i] != f->apply[gr->first]))
        return;
    if (gr->anchor >= 0 && y->dtype != gr->dtype)
        return;
    for (int k = 0; k < e->nin; k++) {
        const IrValue *x = value(g, e->in[k]);
        if (!x)
            continue;
        int q = producer_of(g, x->id);
        if (q >= 0 && (f->grp[q] == gi || depends_on_group(f, q, gi)))
            return;
        if (gr->anchor >= 0 &&
            (x->dtype != gr->dtype ||
             !ir_operand_fits_split(&gr->shape, &x->shape, ir_operand_axis(g, e, k, gr->shape.rank), gr->split)))
            return;
    }
    f->grp[i] = gi;
    gr->size++;
    if (i < gr->first)
        gr->first = i;
}

/* Stable topological order of the units (groups and lone nodes): of the units whose inputs are
 * ready, the one whose first node came first. order[] receives node ids. */
static void contiguous_order(Fuse *f, int *order)
{
    IrGraph *g = f->g;
    int nn = g->nnodes, nu = nn + f->ngroups;
    int *unit = srt_malloc(((size_t)nn + 1) * sizeof *unit);
    int *indeg = srt_calloc((size_t)nu + 1, sizeof *indeg);
    int *key = srt_malloc(((size_t)nu + 1) * sizeof *key);
    bool *done = srt_calloc((size_t)nu + 1, sizeof *done);
    bool *exists = srt_calloc((size_t)nu + 1, sizeof *exists);
    IR_ASSERT(unit && indeg && key && done && exists);
    for (int u = 0; u < nu; u++)
        key[u] = nn;
    for (int i = 0; i < nn; i++) {
        unit[i] = f->grp[i] >= 0 ? nn + f->grp[i] : i;
        exists[unit[i]] = true;
        if (i < key[unit[i]])
            key[unit[i]] = i;
    }
    /* edges counted per (consumer node, input): duplicates are harmless for Kahn's algorithm
     * as long as they are released the same number of times */
    for (int i = 0; i < nn; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            int p = producer_of(g, n->in[k]);
            if (p >= 0 && unit[p] != unit[i])
                indeg[unit[i]]++;
        }
    }
    int norder = 0;
    for (;;) {
        int best = -1;
        for (int u = 0; u < nu; u++)
            if (exists[u] && !done[u] && indeg[u] == 0 && (best < 0 || key[u] < key[best]))
                best = u;
        if (best < 0)
            break;
        done[best] = true;
        /* a group's anchor first (codegen reads it so), then its other nodes in order */
        int anchor = best >= nn ? f->groups[best - nn].anchor : -1;
        if (anchor >= 0)
            order[norder++] = anchor;
        for (int i = 0; i < nn; i++)
            if (unit[i] == best && i != anchor)
                order[norder++] = i;
        for (int i = 0; i < nn; i++) {
            if (unit[i] == best)
                continue;
            const IrNode *n = g->nodes[i];
            for (int k = 0; k < n->nin; k++) {
                int p = producer_of(g, n->in[k]);
                if (p >= 0 && unit[p] == best)
                    indeg[unit[i]]--;
            }
        }
    }
    IR_ASSERT(norder == nn);   /* convex groups: the quotient graph has no cycle */
    free(unit);
    free(indeg);
    free(key);
    free(done);
    free(exists);
}

/* Values that no longer need memory: made by a group member and read only inside the group. */
static int64_t internal_bytes(const Fuse *f)
{
    const IrGraph *g = f->g;
    bool *outside = srt_calloc((size_t)g->nvalues + 1, sizeof *outside);
    IR_ASSERT(outside);
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            int p = producer_of(g, n->in[k]);
            if (p >= 0 && (f->grp[p] < 0 || f->grp[p] != f->grp[i]))
                outside[n->in[k]] = true;
        }
    }
    if (g->training && g->training->loss)
        for (int k = 0; k < g->training->loss->nin; k++)
            if (g->training->loss->in[k] >= 0)
                outside[g->training->loss->in[k]] = true;
    int64_t bytes = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        if (f->grp[i] < 0)
            continue;
        for (int k = 0; k < n->nout; k++) {
            const IrValue *v = value(g, n->out[k]);
            IrDim numel;
            if (!v || outside[v->id] || pass_value_pinned(g, v->id) || !ir_shape_numel(&v->shape, &numel))
                continue;
            bytes += (numel.a + numel.b) * (int64_t)srt_dtype_size(v->dtype);
        }
    }
    free(outside);
    return bytes;
}

PassResult pass_fuse(IrGraph *g, PassContext *ctx)
{
    int nn = g->nnodes;
    Fuse f;
    memset(&f, 0, sizeof f);
    f.g = g;
    f.grp = srt_malloc(((size_t)nn + 1) * sizeof *f.grp);
    f.groups = srt_calloc((size_t)nn + 2, sizeof *f.groups);
    f.mark = srt_calloc((size_t)nn + 1, sizeof *f.mark);
    IR_ASSERT(f.grp && f.groups && f.mark);
    bool had_groups = false;
    for (int i = 0; i < nn; i++) {
        had_groups |= g->nodes[i]->group >= 0;
        f.grp[i] = -1;
    }
    if (g->training && g->training->has_backward) {
        f.apply = srt_calloc((size_t)nn + 1, sizeof *f.apply);
        IR_ASSERT(f.apply);
        ir_training_apply_nodes(g, f.apply);
    }

    for (int i = 0; i < nn; i++) {
        const IrNode *e = g->nodes[i];
        if (!ir_fusable_elementwise(g, e) || !value(g, e->out[0])->typed)
            continue;
        int best_p = -1, best_g = -1;
        bool best_anchor = false;
        Group best_seed;
        for (int k = 0; k < e->nin; k++) {
            int p = producer_of(g, e->in[k]);
            if (p < 0 || p == best_p)
                continue;
            Group seed;
            const Group *gr;
            if (f.grp[p] >= 0) {
                gr = &f.groups[f.grp[p]];
            } else {
                if (!seed_group(&f, p, &seed))
                    continue;
                gr = &seed;
            }
            /* an anchor's group first (its output then stays in registers), else the most
             * recent producer's */
            bool anchor = gr->anchor >= 0;
            if ((best_p >= 0 && best_anchor && !anchor) || (best_p >= 0 && anchor == best_anchor && p < best_p))
                continue;
            if (!can_join(&f, gr, f.grp[p], p, e, e->in[k]))
                continue;
            best_anchor = anchor;
            best_p = p;
            best_g = f.grp[p];
            best_seed = *gr;
        }
        if (best_p >= 0)
            join(&f, best_g, &best_seed, best_p, i);
    }

    /* element-wise producers whose only consumers are (non-anchor) members of one group */
    for (int i = nn - 1; i >= 0; i--)
        pull_producer(&f, i);

    int fused = 0;
    for (int gi = 0; gi < f.ngroups; gi++)
        fused += f.groups[gi].size - 1;
    int64_t saved = internal_bytes(&f);

    /* contiguous groups, numbered in order */
    int *order = srt_malloc(((size_t)nn + 1) * sizeof *order);
    int *renum = srt_malloc(((size_t)f.ngroups + 1) * sizeof *renum);
    IR_ASSERT(order && renum);
    contiguous_order(&f, order);
    for (int gi = 0; gi < f.ngroups; gi++)
        renum[gi] = -1;
    int next = 0;
    bool moved = false;
    for (int i = 0; i < nn; i++) {
        int gi = f.grp[order[i]];
        if (gi >= 0 && renum[gi] < 0)
            renum[gi] = next++;
        moved |= order[i] != i;
    }
    bool changed = moved || had_groups != (f.ngroups > 0);
    for (int i = 0; i < nn; i++) {
        IrNode *n = g->nodes[i];
        int gi = f.grp[i] >= 0 ? renum[f.grp[i]] : -1;
        changed |= n->group != gi;
        n->group = gi;
    }
    ir_graph_permute(g, order);

    if (f.ngroups) {
        pass_stat_add(ctx, "groups formed", f.ngroups);
        pass_stat_add(ctx, "nodes fused", fused);
        pass_stat_add(ctx, "bytes of intermediates saved at N=1", saved);
    }
    free(order);
    free(renum);
    free(f.grp);
    free(f.groups);
    free(f.mark);
    free(f.apply);
    return changed ? PASS_CHANGED : PASS_UNCHANGED;
}
