/* Reduction kernels (ReduceSum/Mean/Max), Softmax/LogSoftmax, and the vectorized row-reduction helper. */
#include <math.h>
#include <string.h>

#include "codegen/emit.h"

/* ---- row reduction ------------------------------------------------------------------------------------ */

static LLVMValueRef red_op(CgKernel *k, int op, LLVMValueRef a, LLVMValueRef b)
{
    return op == CG_RED_SUM ? LLVMBuildFAdd(k->b, a, b, "") : cg_fmax(k, a, b);
}

static LLVMValueRef red_identity(LLVMTypeRef ty, int op)
{
    return cg_fconst(ty, op == CG_RED_SUM ? 0.0 : -INFINITY);
}

LLVMValueRef cg_row_reduce(CgKernel *k, LLVMTypeRef ety, LLVMValueRef ptr, LLVMValueRef base, LLVMValueRef len,
                           unsigned align, int op, CgMapFn map, void *ctx, LLVMValueRef out, LLVMValueRef obase)
{
    enum { U = 2 };   /* independent accumulators: hides the add latency */
    int w = cg_lanes(k, ety);
    LLVMTypeRef vty = cg_t_vec(ety, w);
    LLVMValueRef ident = red_identity(vty, op);
    LLVMValueRef main_end = cg_sub(k, len, LLVMBuildSRem(k->b, len, cg_i64c(k, U * w), ""));
    CgLoop l;
    LLVMValueRef j = cg_loop_begin(k, &l, cg_i64c(k, 0), main_end, U * w);
    for (int u = 0; u < U; u++)
        cg_loop_carry(k, &l, ident);
    for (int u = 0; u < U; u++) {
        LLVMValueRef off = cg_add(k, j, cg_i64c(k, (int64_t)u * w));
        LLVMValueRef v = cg_load_vec(k, vty, ptr, cg_add(k, base, off), align);
        if (map)
            v = map(k, ctx, v);
        if (out)
            cg_store_vec(k, v, out, cg_add(k, obase, off), align);
        cg_loop_set(&l, u, red_op(k, op, l.phi[u], v));
    }
    cg_loop_end(k, &l);
    LLVMValueRef acc1 = l.phi[1];
    CgLoop t;
    LLVMValueRef jt = cg_loop_begin(k, &t, main_end, len, w);
    cg_loop_carry(k, &t, l.phi[0]);
    LLVMValueRef mask = cg_lane_mask(k, w, jt, len);
    LLVMValueRef v = cg_load_vec_masked(k, vty, ptr, cg_add(k, base, jt), align, mask);
    if (map)
        v = map(k, ctx, v);
    if (out)
        cg_store_vec_masked(k, v, out, cg_add(k, obase, jt), align, mask);
    v = LLVMBuildSelect(k->b, mask, v, ident, "");
    cg_loop_set(&t, 0, red_op(k, op, t.phi[0], v));
    cg_loop_end(k, &t);
    LLVMValueRef acc = red_op(k, op, t.phi[0], acc1);
    return op == CG_RED_SUM ? cg_reduce_fadd(k, acc) : cg_reduce_fmax(k, acc);
}

LLVMValueRef cg_load_as(CgKernel *k, IrDtype dt, LLVMValueRef ptr, LLVMValueRef idx, LLVMTypeRef fty)
{
    LLVMTypeRef ety = cg_t_elem(k, dt);
    LLVMValueRef v = cg_load(k, ety, ptr, idx, cg_align_of(dt));
    if (ety == fty)
        return v;
    if (dt == SRT_F32 || dt == SRT_F64)
        return cg_fconv(k, v, fty);
    if (dt == SRT_U8 || dt == SRT_BOOL)
        return LLVMBuildUIToFP(k->b, v, fty, "");
    return LLVMBuildSIToFP(k->b, v, fty, "");
}

/* ---- ReduceSum / ReduceMean / ReduceMax ------------------------------------------------------------- */

typedef struct Red {
    IrOp op;
    IrDtype dt;
    bool fp;
    LLVMTypeRef ety, aty;          /* element type; accumulator type (floats: ety; ints: i64) */
    int nred;                      /* reduced groups, outermost first */
    LLVMValueRef rsize[IR_MAX_RANK], rstride[IR_MAX_RANK];
    bool contig;                   /* the innermost reduced group is the input's last (stride 1) */
} Red;

static int64_t int_min_of(IrDtype t)
{
    switch (t) {
    case SRT_I32: return INT32_MIN;
    case SRT_I8: return INT8_MIN;
    case SRT_U8:
    case SRT_BOOL: return 0;
    default: return INT64_MIN;
    }
}

static LLVMValueRef acc_combine(CgKernel *k, const Red *r, LLVMValueRef acc, LLVMValueRef v)
{
    if (r->fp)
        return r->op == IR_OP_REDUCEMAX ? cg_fmax(k, acc, v) : LLVMBuildFAdd(k->b, acc, v, "");
    if (r->op == IR_OP_REDUCEMAX)
        return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSGT, v, acc, ""), v, acc, "");
    return LLVMBuildAdd(k->b, acc, v, "");
}

/* Element of x widened to the accumulator type. */
static LLVMValueRef load_acc(CgKernel *k, const Red *r, LLVMValueRef idx)
{
    LLVMValueRef v = cg_load(k, r->ety, k->in[0], idx, cg_align_of(r->dt));
    if (r->fp || r->ety == r->aty)
        return v;
    return cg_iext(k, v, r->aty, r->dt == SRT_U8 || r->dt == SRT_BOOL);
}

/* acc combined with every element of the reduced groups level.. at offset base. */
static LLVMValueRef reduce_level(CgKernel *k, const Red *r, int level, LLVMValueRef base, LLVMValueRef acc)
{
    if (level == r->nred)
        return acc_combine(k, r, acc, load_acc(k, r, base));
    if (level == r->nred - 1 && r->contig && r->fp) {
        LLVMValueRef s = cg_row_reduce(k, r->ety, k->in[0], base, r->rsize[level], cg_align_of(r->dt),
                                       r->op == IR_OP_REDUCEMAX ? CG_RED_MAX : CG_RED_SUM, NULL, NULL, NULL, NULL);
        return acc_combine(k, r, acc, s);
    }
    CgLoop l;
    LLVMValueRef i = cg_loop_begin(k, &l, cg_i64c(k, 0), r->rsize[level], 1);
    LLVMValueRef a = cg_loop_carry(k, &l, acc);
    cg_loop_set(&l, 0, reduce_level(k, r, level + 1, cg_add(k, base, cg_mul(k, i, r->rstride[level])), a));
    cg_loop_end(k, &l);
    return l.phi[0];
}

int cg_k_reduce(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0);
    int rank = x->shape.rank;
    IrDim axes[IR_MAX_RANK * 2];
    int naxes;
    if (cg_kin(k, 1)) {
        naxes = cg_known_ints(cg_kin(k, 1), axes, IR_MAX_RANK * 2);
        if (naxes < 0)
            return cg_unsupported(k, "%s with axes not known at compile time", ir_op_name(n->op));
    } else {
        const int64_t *av;
        naxes = ir_attr_ints(n, "axes", &av);
        if (naxes < 0)
            naxes = 0;
        if (naxes > IR_MAX_RANK * 2)
            return cg_unsupported(k, "%s with %d axes", ir_op_name(n->op), naxes);
        for (int i = 0; i < naxes; i++)
            axes[i] = ir_dim_const(av[i]);
    }
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&y->shape, &numel));
    if (naxes == 0 && ir_attr_int(n, "noop_with_empty_axes")) {
        cg_copy(k, cg_out_ptr(k, 0), cg_i64c(k, 0), k->in[0], cg_i64c(k, 0), cg_dim(k, numel), srt_dtype_size(y->dtype));
        return 0;
    }
    bool reduced[IR_MAX_RANK];
    for (int r = 0; r < rank; r++)
        reduced[r] = naxes == 0;
    for (int i = 0; i < naxes; i++) {
        int ax;
        if (axes[i].a != 0 || !ir_norm_axis(axes[i].b, rank, &ax))
            return cg_unsupported(k, "%s with axes entry %d out of range", ir_op_name(n->op), i);
        reduced[ax] = true;
    }
    /* merge dims into groups of equal flag; dims of size 1 drop out (a group's size is the
     * product of its dims, size-1 dims between them included) */
    int ng = 0;
    bool gred[IR_MAX_RANK];
    int gfirst[IR_MAX_RANK], glast[IR_MAX_RANK];
    for (int r = 0; r < rank; r++) {
        IrDim dd = x->shape.d[r];
        if (dd.a == 0 && dd.b == 1)
            continue;
        if (ng > 0 && gred[ng - 1] == reduced[r]) {
            glast[ng - 1] = r;
            continue;
        }
        gred[ng] = reduced[r];
        gfirst[ng] = glast[ng] = r;
        ng++;
    }
    Red rd;
    memset(&rd, 0, sizeof rd);
    rd.op = n->op;
    rd.dt = x->dtype;
    rd.fp = x->dtype == SRT_F32 || x->dtype == SRT_F64;
    rd.ety = cg_t_elem(k, x->dtype);
    rd.aty = rd.fp ? rd.ety : cg_t_i64(k);
    rd.contig = ng > 0 && gred[ng - 1];

    LLVMValueRef count = cg_i64c(k, 1), nouts = cg_i64c(k, 1);
    for (int g = 0; g < ng; g++) {
        LLVMValueRef s = cg_dims_prod(k, x->shape.d, gfirst[g], glast[g] + 1);
        if (gred[g])
            count = cg_mul(k, count, s);
        else
            nouts = cg_mul(k, nouts, s);
    }
    LLVMValueRef grain = cg_grain(k, count, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, nouts, grain, 0, NULL);
    /* group sizes and input strides, inside the body */
    LLVMValueRef gsize[IR_MAX_RANK], gstride[IR_MAX_RANK];
    LLVMValueRef s = cg_i64c(k, 1);
    for (int g = ng - 1; g >= 0; g--) {
        gsize[g] = cg_dims_prod(k, x->shape.d, gfirst[g], glast[g] + 1);
        gstride[g] = s;
        s = cg_mul(k, s, gsize[g]);
    }
    for (int g = 0; g < ng; g++)
        if (gred[g]) {
            rd.rsize[rd.nred] = gsize[g];
            rd.rstride[rd.nred] = gstride[g];
            rd.nred++;
        }
    LLVMValueRef cnt = cg_i64c(k, 1);
    for (int i = 0; i < rd.nred; i++)
        cnt = cg_mul(k, cnt, rd.rsize[i]);
    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, p.begin, p.end, 1);
    /* the output index o runs over the kept groups: their input offset */
    LLVMValueRef base = cg_i64c(k, 0), rem = o;
    int first_kept = ng;
    for (int g = ng - 1; g >= 0; g--)
        if (!gred[g])
            first_kept = g;
    for (int g = ng - 1; g >= 0; g--) {
        if (gred[g])
            continue;
        LLVMValueRef idx = g == first_kept ? rem : LLVMBuildURem(k->b, rem, gsize[g], "");
        if (g != first_kept)
            rem = LLVMBuildUDiv(k->b, rem, gsize[g], "");
        base = cg_add(k, base, cg_mul(k, idx, gstride[g]));
    }
    LLVMValueRef init = rd.fp ? cg_fconst(rd.ety, n->op == IR_OP_REDUCEMAX ? -INFINITY : 0.0)
                              : cg_iconst(rd.aty, n->op == IR_OP_REDUCEMAX ? int_min_of(rd.dt) : 0);
    LLVMValueRef acc = reduce_level(k, &rd, 0, base, init);
    if (n->op == IR_OP_REDUCEMEAN) {
        if (rd.fp) {
            acc = LLVMBuildFDiv(k->b, acc, LLVMBuildSIToFP(k->b, cnt, rd.ety, ""), "");
        } else {
            LLVMValueRef zero = LLVMBuildICmp(k->b, LLVMIntEQ, cnt, cg_i64c(k, 0), "");
            LLVMValueRef q = LLVMBuildSDiv(k->b, acc, LLVMBuildSelect(k->b, zero, cg_i64c(k, 1), cnt, ""), "");
            acc = LLVMBuildSelect(k->b, zero, cg_i64c(k, 0), q, "");
        }
    }
    if (!rd.fp && rd.aty != rd.ety)
        acc = LLVMBuildTrunc(k->b, acc, rd.ety, "");
    cg_out_store(k, 0, o, acc, NULL);
    cg_loop_end(k, &lo);
    cg_par_end(k, &p);
    return 0;
}

/* ---- Softmax / LogSoftmax ------------------------------------------------------------------------------- */

typedef struct ExpCtx {
    LLVMValueRef m;     /* scalar row maximum */
} ExpCtx;

/* exp(x - m) on a vector */
static LLVMValueRef map_exp_shift(CgKernel *k, void *ctx, LLVMValueRef x)
{
    const ExpCtx *c = ctx;
    LLVMValueRef ms = cg_splat(k, c->m, (int)LLVMGetVectorSize(LLVMTypeOf(x)));
    return cg_exp(k, LLVMBuildFSub(k->b, x, ms, ""));
}

int cg_k_softmax(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0);
    if (x->dtype != SRT_F32 && x->dtype != SRT_F64)
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(x->dtype));
    bool logf = n->op == IR_OP_LOGSOFTMAX;
    int rank = x->shape.rank, ax;
    if (rank == 0 || !ir_norm_axis(ir_attr_int(n, "axis"), rank, &ax))
        return cg_unsupported(k, "%s with axis %lld on rank %d", ir_op_name(n->op), (long long)ir_attr_int(n, "axis"),
                              rank);
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    unsigned al = cg_align_of(x->dtype);
    int64_t inner_c;
    bool rows = cg_dims_prod_const(x->shape.d, ax + 1, rank, &inner_c) && inner_c == 1;
    LLVMValueRef len = cg_dim(k, x->shape.d[ax]);
    LLVMValueRef outer = cg_dims_prod(k, x->shape.d, 0, ax);
    LLVMValueRef inner = cg_dims_prod(k, x->shape.d, ax + 1, rank);
    LLVMValueRef per = cg_mul(k, cg_max64(k, len, cg_i64c(k, 1)), cg_i64c(k, 16));   /* ~work per row */
    LLVMValueRef grain = cg_grain(k, per, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, cg_mul(k, outer, inner), grain, 0, NULL);
    len = cg_dim(k, x->shape.d[ax]);
    inner = cg_dims_prod(k, x->shape.d, ax + 1, rank);
    /* exp(x - max) goes to memory shaped like the output, then the final pass divides */
    LLVMValueRef acc = logf ? NULL : cg_out_acc(k, 0);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, p.begin, p.end, 1);
    if (rows) {
        /* contiguous rows: vector max, then exp(x-m) stored and summed, then a scaling pass */
        LLVMValueRef base = cg_mul(k, r, len);
        ExpCtx c = {NULL};
        c.m = cg_row_reduce(k, ety, k->in[0], base, len, al, CG_RED_MAX, NULL, NULL, NULL, NULL);
        LLVMValueRef s = cg_row_reduce(k, ety, k->in[0], base, len, al, CG_RED_SUM, map_exp_shift, &c,
                                       acc, base);
        LLVMValueRef ls = logf ? cg_log(k, s) : NULL;
        CgLoop lj;
        LLVMValueRef j = cg_loop_begin(k, &lj, cg_i64c(k, 0), len, 1);
        LLVMValueRef idx = cg_add(k, base, j);
        LLVMValueRef v;
        if (logf)
            v = LLVMBuildFSub(k->b, LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], idx, al), c.m, ""), ls, "");
        else
            v = LLVMBuildFDiv(k->b, cg_load(k, ety, acc, idx, al), s, "");
        cg_out_store(k, 0, idx, v, NULL);
        cg_loop_end(k, &lj);
    } else {
        /* strided along the axis: position r = (o, i), elements base + j*inner */
        LLVMValueRef o = LLVMBuildUDiv(k->b, r, inner, ""), i = LLVMBuildURem(k->b, r, inner, "");
        LLVMValueRef base = cg_add(k, cg_mul(k, cg_mul(k, o, len), inner), i);
        CgLoop l1;
        LLVMValueRef j = cg_loop_begin(k, &l1, cg_i64c(k, 0), len, 1);
        LLVMValueRef m = cg_loop_carry(k, &l1, cg_fconst(ety, -INFINITY));
        cg_loop_set(&l1, 0, cg_fmax(k, m, cg_load(k, ety, k->in[0], cg_add(k, base, cg_mul(k, j, inner)), al)));
        cg_loop_end(k, &l1);
        m = l1.phi[0];
        CgLoop l2;
        j = cg_loop_begin(k, &l2, cg_i64c(k, 0), len, 1);
        LLVMValueRef s = cg_loop_carry(k, &l2, cg_fconst(ety, 0));
        LLVMValueRef idx = cg_add(k, base, cg_mul(k, j, inner));
        LLVMValueRef e = cg_exp(k, LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], idx, al), m, ""));
        if (!logf)
            cg_store(k, e, acc, idx, al);
        cg_loop_set(&l2, 0, LLVMBuildFAdd(k->b, s, e, ""));
        cg_loop_end(k, &l2);
        s = l2.phi[0];
        LLVMValueRef ls = logf ? cg_log(k, s) : NULL;
        CgLoop l3;
        j = cg_loop_begin(k, &l3, cg_i64c(k, 0), len, 1);
        idx = cg_add(k, base, cg_mul(k, j, inner));
        LLVMValueRef v;
        if (logf)
            v = LLVMBuildFSub(k->b, LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], idx, al), m, ""), ls, "");
        else
            v = LLVMBuildFDiv(k->b, cg_load(k, ety, acc, idx, al), s, "");
        cg_out_store(k, 0, idx, v, NULL);
        cg_loop_end(k, &l3);
    }
    cg_loop_end(k, &lr);
    cg_par_end(k, &p);
    return 0;
}
