/* Buffer plan: storage class of every value, the param block, and liveness-based best-fit scratch reuse. */
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

/* Sizes beyond this many bytes are refused at run time (n > max_n), so that kernels'
 * index arithmetic in int64 never overflows. */
#define CG_SIZE_LIMIT ((int64_t)1 << 60)

bool cg_value_bytes(const IrValue *v, IrDim *out, IrDiag *d)
{
    IrDim numel;
    if (!ir_shape_numel(&v->shape, &numel) ||
        !ir_dim_mul(numel, ir_dim_const((int64_t)srt_dtype_size(v->dtype)), out)) {
        char t[160];
        ir_type_format(v->dtype, &v->shape, t, sizeof t);
        ir_diag_error(d, v->name, "cannot plan a buffer for %s: its size is not of the form a*N+b", t);
        return false;
    }
    return true;
}

/* Round both coefficients up to a multiple of CG_ALIGN: the result is >= x for every N >= 0. */
static IrDim align_dim(IrDim x)
{
    IrDim r;
    r.a = (x.a + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN;
    r.b = x.b >= 0 ? (x.b + CG_ALIGN - 1) / CG_ALIGN * CG_ALIGN : -((-x.b) / CG_ALIGN * CG_ALIGN);
    return r;
}

static IrDim dim_add(IrDim x, IrDim y)
{
    IrDim r = {x.a + y.a, x.b + y.b};
    return r;
}

/* ---- the scratch arena: a sequence of blocks whose offsets are prefix sums --------------
 * Sizes are a*N+b with a >= 0 and a+b >= 0, so "x fits in y for every N >= 1" is
 * x.a <= y.a && x(1) <= y(1). Splitting and merging keep every allocated block's offset. */
typedef struct Block {
    IrDim size;
    bool free;
} Block;

typedef struct Arena {
    int n, cap;
    Block *b;
} Arena;

static bool fits(IrDim x, IrDim y)
{
    return x.a <= y.a && x.a + x.b <= y.a + y.b;
}

static void arena_insert(Arena *ar, int at, Block blk)
{
    if (ar->n == ar->cap) {
        ar->cap = ar->cap ? 2 * ar->cap : 16;
        ar->b = srt_realloc(ar->b, (size_t)ar->cap * sizeof *ar->b);
        IR_ASSERT(ar->b);
    }
    memmove(&ar->b[at + 1], &ar->b[at], (size_t)(ar->n - at) * sizeof *ar->b);
    ar->b[at] = blk;
    ar->n++;
}

static void arena_remove(Arena *ar, int at)
{
    memmove(&ar->b[at], &ar->b[at + 1], (size_t)(ar->n - at - 1) * sizeof *ar->b);
    ar->n--;
}

static IrDim arena_offset(const Arena *ar, int at)
{
    IrDim off = {0, 0};
    for (int i = 0; i < at; i++)
        off = dim_add(off, ar->b[i].size);
    return off;
}

/* Best fit: the free block that wastes least (slope first, then the constant); else grow a
 * free last block, else append. Returns the block index, which then holds exactly size. */
static int arena_alloc(Arena *ar, IrDim size)
{
    int best = -1;
    for (int i = 0; i < ar->n; i++) {
        if (!ar->b[i].free || !fits(size, ar->b[i].size))
            continue;
        if (best < 0)
            best = i;
        else {
            IrDim x = ar->b[i].size, y = ar->b[best].size;
            if (x.a < y.a || (x.a == y.a && x.b < y.b))
                best = i;
        }
    }
    if (best < 0 && ar->n > 0 && ar->b[ar->n - 1].free) {
        Block *last = &ar->b[ar->n - 1];
        IrDim grown;
        grown.a = last->size.a > size.a ? last->size.a : size.a;
        int64_t at1 = last->size.a + last->size.b > size.a + size.b ? last->size.a + last->size.b : size.a + size.b;
        grown.b = at1 - grown.a;
        last->size = grown;
        best = ar->n - 1;
    }
    if (best < 0) {
        Block blk = {size, true};
        arena_insert(ar, ar->n, blk);
        best = ar->n - 1;
    }
    IrDim rest = {ar->b[best].size.a - size.a, ar->b[best].size.b - size.b};
    ar->b[best].size = size;
    ar->b[best].free = false;
    if (rest.a != 0 || rest.b != 0) {
        Block blk = {rest, true};
        arena_insert(ar, best + 1, blk);
    }
    return best;
}

static void arena_free(Arena *ar, int at)
{
    ar->b[at].free = true;
    if (at + 1 < ar->n && ar->b[at + 1].free) {
        ar->b[at].size = dim_add(ar->b[at].size, ar->b[at + 1].size);
        arena_remove(ar, at + 1);
    }
    if (at > 0 && ar->b[at - 1].free) {
        ar->b[at - 1].size = dim_add(ar->b[at - 1].size, ar->b[at].size);
        arena_remove(ar, at);
    }
}

/* Index of the allocated block that starts at offset off (blocks move in the array as
 * neighbours split and merge, offsets do not). */
static int arena_find(const Arena *ar, IrDim off)
{
    IrDim o = {0, 0};
    for (int i = 0; i < ar->n; i++) {
        if (!ar->b[i].free && ir_dim_eq(o, off))
            return i;
        o = dim_add(o, ar->b[i].size);
    }
    return -1;
}

/* ---- storage classes ------------------------------------------------------------------ */

static int root_of(const CgProgram *p, int v)
{
    return p->buf[v].storage == CG_STORE_VIEW ? p->buf[v].view_of : v;
}

/* Largest n for which size (bytes) stays below CG_SIZE_LIMIT. */
static int64_t limit_n(IrDim size, int64_t cur)
{
    if (size.a <= 0)
        return cur;
    int64_t lim = (CG_SIZE_LIMIT - (size.b > 0 ? size.b : 0)) / size.a;
    return lim < cur ? lim : cur;
}

/* Is value v an argument of step s (an input it reads or a value it keeps)? */
static bool is_kernel_arg(const CgProgram *p, int s, int v)
{
    const CgStep *st = &p->steps[s];
    for (int a = 0; a < st->nargs; a++)
        if (st->args[a] == v)
            return true;
    return false;
}

int cg_plan(CgProgram *p, const CgNodeKind *kind, const CgPart *part, IrDiag *d)
{
    const IrGraph *g = p->g;
    p->buf = srt_calloc((size_t)g->nvalues + 1, sizeof *p->buf);
    int *step_of = srt_malloc(((size_t)g->nnodes + 1) * sizeof *step_of);
    bool *used = srt_calloc((size_t)g->nvalues + 1, sizeof *used);
    IR_ASSERT(p->buf && step_of && used);
    for (int id = 0; id < g->nvalues; id++) {
        CgBuffer *b = &p->buf[id];
        b->arg = b->view_of = b->def = b->last = -1;
    }
    for (int i = 0; i < g->nnodes; i++)
        step_of[i] = -1;
    for (int s = 0; s < p->nsteps; s++)
        if (p->steps[s].kind == CG_STEP_KERNEL)
            for (int k = 0; k < p->steps[s].nnodes; k++)
                step_of[p->steps[s].nodes[k]] = s;

    int rc = -1;
    /* Params: one block, declaration order, each 64-aligned. Every param has a slot (load and
     * save see them all), used or not. A training program gets the offsets of the library's
     * block (inference params, then the optimizer state). */
    int64_t poff = 0;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_PARAM)
            continue;
        CgBuffer *b = &p->buf[id];
        if (!cg_value_bytes(v, &b->size, d))
            goto out;
        if (b->size.a != 0) {
            ir_diag_error(d, v->name, "a param's shape cannot depend on N");
            goto out;
        }
        if (part->param_offset && part->param_offset[id] < 0)
            continue;   /* not in the block: the program must not read it */
        b->storage = CG_STORE_PARAM;
        b->offset = ir_dim_const(part->param_offset ? part->param_offset[id] : poff);
        if (b->offset.b + align_dim(b->size).b > poff)
            poff = b->offset.b + align_dim(b->size).b;
    }
    p->param_bytes = poff;

    for (int i = 0; i < part->nin; i++) {
        CgBuffer *b = &p->buf[part->in[i]];
        b->storage = CG_STORE_INPUT;
        b->arg = i;
    }
    for (int j = 0; j < part->nout; j++) {
        const IrValue *v = g->values[part->out[j]];
        CgBuffer *b = &p->buf[v->id];
        if (v->role != IR_ROLE_ACT || b->storage == CG_STORE_OUTPUT)
            continue;
        if (kind[v->producer] == CG_NODE_KERNEL || kind[v->producer] == CG_NODE_SYMBOLIC) {
            b->storage = CG_STORE_OUTPUT;
            b->arg = j;
        }
    }
    /* Training: gradients live in the flat gradient buffer (written by this program or read
     * from it); update sources planned in place take their destination's slot. */
    for (int id = 0; id < g->nvalues; id++) {
        CgBuffer *b = &p->buf[id];
        if (part->grad_offset && part->grad_offset[id] >= 0) {
            b->storage = CG_STORE_GRAD;
            b->offset = ir_dim_const(part->grad_offset[id]);
        } else if (part->inplace && part->inplace[id] >= 0) {
            const CgBuffer *dst = &p->buf[part->inplace[id]];
            IR_ASSERT(dst->storage == CG_STORE_PARAM);
            if (!cg_value_bytes(g->values[id], &b->size, d))
                goto out;
            IR_ASSERT(ir_dim_eq(b->size, dst->size));
            b->storage = CG_STORE_PARAM;
            b->offset = dst->offset;
        }
    }
    /* Activations in node order, so a view's source is classified before the view. */
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nout; k++) {
            if (n->out[k] < 0)
                continue;
            CgBuffer *b = &p->buf[n->out[k]];
            if (b->storage == CG_STORE_OUTPUT || b->storage == CG_STORE_GRAD || b->storage == CG_STORE_PARAM)
                continue;
            switch (kind[i]) {
            case CG_NODE_DEAD:
                b->storage = CG_STORE_NONE;
                break;
            case CG_NODE_KERNEL:
                /* a value only read inside its kernel group is never stored */
                b->storage = is_kernel_arg(p, step_of[i], n->out[k]) ? CG_STORE_SCRATCH : CG_STORE_NONE;
                break;
            case CG_NODE_SYMBOLIC:
                b->storage = CG_STORE_SYMBOLIC;
                break;
            case CG_NODE_VIEW:
                if (k != 0) {
                    ir_node_error(d, n, "internal error: a view node has a second output in use");
                    goto out;
                }
                b->storage = CG_STORE_VIEW;
                b->view_of = root_of(p, n->in[0]);
                break;
            }
        }
    }
    for (int id = 0; id < g->nvalues; id++)
        if (g->values[id]->role == IR_ROLE_CONST)
            p->buf[id].storage = CG_STORE_CONST;

    /* What the steps read (through views: the root). */
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind == CG_STEP_COPY || st->kind == CG_STEP_UPDATE) {
            used[root_of(p, st->src)] = true;
            continue;
        }
        for (int a = 0; a < st->nargs_in; a++)
            used[root_of(p, st->args[a])] = true;
    }
    for (int id = 0; id < g->nvalues; id++) {
        CgBuffer *b = &p->buf[id];
        const IrValue *v = g->values[id];
        if ((b->storage == CG_STORE_CONST || b->storage == CG_STORE_SYMBOLIC) && !used[id]) {
            b->storage = CG_STORE_NONE;
            continue;
        }
        if (used[id] && b->storage == CG_STORE_NONE) {
            if (!p->what || !strcmp(p->what, "inference"))
                ir_diag_error(d, v->name, "inference reads this value but it is not available at run time%s",
                              v->training_input ? " (it is a training input)" : "");
            else
                ir_diag_error(d, v->name, "internal error: the %s program reads this value but it is not available "
                              "at run time", p->what);
            goto out;
        }
        if (b->storage != CG_STORE_NONE && b->storage != CG_STORE_PARAM && b->storage != CG_STORE_VIEW &&
            !cg_value_bytes(v, &b->size, d))
            goto out;
        if (b->storage == CG_STORE_CONST && !v->data && b->size.b > 0) {
            ir_diag_error(d, v->name, "constant has no data");
            goto out;
        }
    }

    /* Lifetimes of scratch roots in steps; compile-time values live throughout. */
    for (int id = 0; id < g->nvalues; id++) {
        CgBuffer *b = &p->buf[id];
        if (b->storage == CG_STORE_SCRATCH)
            b->def = b->last = step_of[g->values[id]->producer];
        else if (b->storage == CG_STORE_SYMBOLIC) {
            b->def = 0;
            b->last = p->nsteps > 0 ? p->nsteps - 1 : 0;
        }
    }
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind == CG_STEP_COPY || st->kind == CG_STEP_UPDATE) {
            CgBuffer *r = &p->buf[root_of(p, st->src)];
            if (r->storage == CG_STORE_SCRATCH && r->last < s)
                r->last = s;
            continue;
        }
        for (int a = 0; a < st->nargs_in; a++) {
            CgBuffer *r = &p->buf[root_of(p, st->args[a])];
            if (r->storage == CG_STORE_SCRATCH && r->last < s)
                r->last = s;
        }
    }

    /* Best-fit placement: compile-time values first (live throughout), then at each step
     * the step's outputs before the buffers whose last use it is are released, so a
     * kernel's outputs never overlap its inputs. Zero-size buffers take no block. */
    Arena ar = {0, 0, NULL};
    for (int id = 0; id < g->nvalues; id++) {
        CgBuffer *b = &p->buf[id];
        if (b->storage == CG_STORE_SYMBOLIC)
            b->offset = arena_offset(&ar, arena_alloc(&ar, align_dim(b->size)));
    }
    for (int s = 0; s < p->nsteps; s++) {
        for (int id = 0; id < g->nvalues; id++) {
            CgBuffer *b = &p->buf[id];
            if (b->storage != CG_STORE_SCRATCH || b->def != s)
                continue;
            IrDim sz = align_dim(b->size);
            if (sz.a == 0 && sz.b == 0)
                b->offset = ir_dim_const(0);
            else
                b->offset = arena_offset(&ar, arena_alloc(&ar, sz));
        }
        for (int id = 0; id < g->nvalues; id++) {
            CgBuffer *b = &p->buf[id];
            if (b->storage != CG_STORE_SCRATCH || b->last != s)
                continue;
            IrDim sz = align_dim(b->size);
            if (sz.a == 0 && sz.b == 0)
                continue;
            int at = arena_find(&ar, b->offset);
            IR_ASSERT(at >= 0);
            arena_free(&ar, at);
        }
    }
    p->scratch_bytes = arena_offset(&ar, ar.n);
    free(ar.b);

    p->max_n = limit_n(p->scratch_bytes, INT64_MAX);
    for (int id = 0; id < g->nvalues; id++)
        if (p->buf[id].storage != CG_STORE_NONE && p->buf[id].storage != CG_STORE_VIEW)
            p->max_n = limit_n(p->buf[id].size, p->max_n);
    rc = 0;
out:
    free(step_of);
    free(used);
    return rc;
}
