/* Pooling kernels: MaxPool (with Indices), AveragePool, GlobalAveragePool. */
#include <math.h>
#include <string.h>

#include "codegen/emit.h"

/* Window taps up to this many are unrolled in the IR (the loop over output positions can then
 * vectorize); larger windows loop. */
#define POOL_UNROLL 64

typedef struct Pool {
    IrOp op;
    IrDtype dt;
    bool fp, include_pad, col_major;
    LLVMTypeRef ety;
    CgGeom g;
} Pool;

/* State carried over the taps of one window. */
typedef struct Win {
    LLVMValueRef best, arg, argc;     /* MaxPool: value, row-major and column-major offsets (-1: none) */
    LLVMValueRef sum, count;          /* AveragePool: sum and divisor (i64) */
} Win;

/* Fold tap (coordinates tc) into the window state of the output position oc of plane base. */
static void pool_tap(CgKernel *k, const Pool *p, LLVMValueRef base, const LLVMValueRef *oc, const LLVMValueRef *tc,
                     Win *w)
{
    const CgGeom *g = &p->g;
    LLVMValueRef ok = LLVMConstInt(cg_t_i1(k), 1, 0), padded = ok;
    LLVMValueRef off = cg_i64c(k, 0), offc = cg_i64c(k, 0);
    for (int i = 0; i < g->nsp; i++) {
        LLVMValueRef ic = cg_add(k, cg_sub(k, cg_mul(k, oc[i], cg_i64c(k, g->s[i])), g->pb[i]),
                                 cg_mul(k, tc[i], cg_i64c(k, g->d[i])));
        ok = LLVMBuildAnd(k->b, ok, LLVMBuildICmp(k->b, LLVMIntULT, ic, g->in[i], ""), "");
        off = cg_add(k, cg_mul(k, off, g->in[i]), ic);
        if (p->include_pad) {
            /* inside the padded input [-pb, in + pe) */
            LLVMValueRef lo = LLVMBuildICmp(k->b, LLVMIntSGE, ic, LLVMBuildNeg(k->b, g->pb[i], ""), "");
            LLVMValueRef hi = LLVMBuildICmp(k->b, LLVMIntSLT, ic, cg_add(k, g->in[i], g->pe[i]), "");
            padded = LLVMBuildAnd(k->b, padded, LLVMBuildAnd(k->b, lo, hi, ""), "");
        }
    }
    if (p->col_major)
        for (int i = g->nsp - 1; i >= 0; i--) {
            LLVMValueRef ic = cg_add(k, cg_sub(k, cg_mul(k, oc[i], cg_i64c(k, g->s[i])), g->pb[i]),
                                     cg_mul(k, tc[i], cg_i64c(k, g->d[i])));
            offc = cg_add(k, cg_mul(k, offc, g->in[i]), ic);
        }
    LLVMValueRef v = cg_load(k, p->ety, k->in[0], LLVMBuildSelect(k->b, ok, cg_add(k, base, off), base, ""),
                             cg_align_of(p->dt));
    if (p->op == IR_OP_MAXPOOL) {
        /* first maximum in tap order; a NaN wins over numbers (the first NaN) */
        LLVMValueRef better;
        if (p->fp) {
            LLVMValueRef gt = LLVMBuildFCmp(k->b, LLVMRealOGT, v, w->best, "");
            LLVMValueRef vnan = LLVMBuildFCmp(k->b, LLVMRealUNO, v, v, "");
            LLVMValueRef bnan = LLVMBuildFCmp(k->b, LLVMRealUNO, w->best, w->best, "");
            better = LLVMBuildOr(k->b, gt, LLVMBuildAnd(k->b, vnan, LLVMBuildNot(k->b, bnan, ""), ""), "");
        } else {
            bool u = p->dt == SRT_U8 || p->dt == SRT_BOOL;
            better = LLVMBuildICmp(k->b, u ? LLVMIntUGT : LLVMIntSGT, v, w->best, "");
        }
        LLVMValueRef none = LLVMBuildICmp(k->b, LLVMIntSLT, w->arg, cg_i64c(k, 0), "");
        LLVMValueRef upd = LLVMBuildAnd(k->b, ok, LLVMBuildOr(k->b, none, better, ""), "");
        w->best = LLVMBuildSelect(k->b, upd, v, w->best, "");
        w->arg = LLVMBuildSelect(k->b, upd, off, w->arg, "");
        if (p->col_major)
            w->argc = LLVMBuildSelect(k->b, upd, offc, w->argc, "");
    } else {
        w->sum = LLVMBuildFAdd(k->b, w->sum, LLVMBuildSelect(k->b, ok, v, cg_fconst(p->ety, 0), ""), "");
        LLVMValueRef counted = p->include_pad ? padded : ok;
        w->count = cg_add(k, w->count, LLVMBuildZExt(k->b, counted, cg_t_i64(k), ""));
    }
}

static int pool(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0), *ind = cg_kout(k, 1);
    Pool p;
    memset(&p, 0, sizeof p);
    p.op = n->op;
    p.dt = x->dtype;
    p.fp = x->dtype == SRT_F32 || x->dtype == SRT_F64;
    p.ety = cg_t_elem(k, x->dtype);
    if (!p.fp && n->op == IR_OP_AVGPOOL)
        return cg_unsupported(k, "AveragePool on %s", srt_dtype_name(x->dtype));
    p.include_pad = n->op == IR_OP_AVGPOOL && ir_attr_int(n, "count_include_pad") == 1;
    p.col_major = ind && ir_attr_int(n, "storage_order") == 1;
    if (!cg_geom_forward(k, x, y, NULL, n->op == IR_OP_MAXPOOL, &p.g))
        return cg_unsupported(k, "%s with this kernel", ir_op_name(n->op));
    LLVMValueRef planes = cg_dims_prod(k, x->shape.d, 0, 2);
    LLVMValueRef work = cg_mul(k, p.g.osz, cg_i64c(k, p.g.taps * 2 + 1));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar par;
    cg_par_begin(k, &par, planes, grain, 0, NULL);
    cg_geom_forward(k, x, y, NULL, n->op == IR_OP_MAXPOOL, &p.g);
    const CgGeom *g = &p.g;
    CgLoop lp;
    LLVMValueRef pl = cg_loop_begin(k, &lp, par.begin, par.end, 1);
    LLVMValueRef base = cg_mul(k, pl, g->isz);
    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, cg_i64c(k, 0), g->osz, 1);
    LLVMValueRef oc[IR_MAX_RANK], rem = o;
    for (int i = g->nsp - 1; i >= 0; i--) {
        oc[i] = i > 0 ? LLVMBuildURem(k->b, rem, g->out[i], "") : rem;
        if (i > 0)
            rem = LLVMBuildUDiv(k->b, rem, g->out[i], "");
    }
    Win w;
    w.best = p.fp ? cg_fconst(p.ety, 0) : cg_iconst(p.ety, 0);
    w.arg = w.argc = cg_i64c(k, -1);
    w.sum = p.fp ? cg_fconst(p.ety, 0) : NULL;
    w.count = cg_i64c(k, 0);
    LLVMValueRef tc[IR_MAX_RANK];
    if (g->taps <= POOL_UNROLL) {
        for (int64_t t = 0; t < g->taps; t++) {
            int64_t r = t;
            for (int i = g->nsp - 1; i >= 0; i--) {
                tc[i] = cg_i64c(k, r % g->k[i]);
                r /= g->k[i];
            }
            pool_tap(k, &p, base, oc, tc, &w);
        }
    } else {
        CgLoop lt;
        LLVMValueRef t = cg_loop_begin(k, &lt, cg_i64c(k, 0), cg_i64c(k, g->taps), 1);
        /* the window state is carried through the loop */
        LLVMValueRef *f[5] = {&w.best, &w.arg, &w.argc, &w.sum, &w.count};
        int idx[5], nc = 0;
        for (int s = 0; s < 5; s++) {
            idx[s] = *f[s] ? nc++ : -1;
            if (*f[s])
                *f[s] = cg_loop_carry(k, &lt, *f[s]);
        }
        LLVMValueRef r = t;
        for (int i = g->nsp - 1; i >= 0; i--) {
            tc[i] = i > 0 ? LLVMBuildURem(k->b, r, cg_i64c(k, g->k[i]), "") : r;
            if (i > 0)
                r = LLVMBuildUDiv(k->b, r, cg_i64c(k, g->k[i]), "");
        }
        pool_tap(k, &p, base, oc, tc, &w);
        for (int s = 0; s < 5; s++)
            if (idx[s] >= 0)
                cg_loop_set(&lt, idx[s], *f[s]);
        cg_loop_end(k, &lt);
        for (int s = 0; s < 5; s++)
            if (idx[s] >= 0)
                *f[s] = lt.phi[idx[s]];
    }
    LLVMValueRef yi = cg_add(k, cg_mul(k, pl, g->osz), o);
    LLVMValueRef v;
    if (p.op == IR_OP_MAXPOOL) {
        /* a window over padding only: NaN (0 for integers), index -1 */
        LLVMValueRef none = LLVMBuildICmp(k->b, LLVMIntSLT, w.arg, cg_i64c(k, 0), "");
        v = LLVMBuildSelect(k->b, none, p.fp ? cg_fconst(p.ety, NAN) : cg_iconst(p.ety, 0), w.best, "");
        if (ind) {
            LLVMValueRef a = p.col_major ? w.argc : w.arg;
            LLVMValueRef iv = LLVMBuildSelect(k->b, none, cg_i64c(k, -1), cg_add(k, base, a), "");
            if (ind->dtype != SRT_I64)
                iv = LLVMBuildTrunc(k->b, iv, cg_t_elem(k, ind->dtype), "");
            cg_out_store(k, 1, yi, iv, NULL);
        }
    } else {
        v = LLVMBuildFDiv(k->b, w.sum, LLVMBuildSIToFP(k->b, w.count, p.ety, ""), "");
    }
    if (y)
        cg_out_store(k, 0, yi, v, NULL);
    cg_loop_end(k, &lo);
    cg_loop_end(k, &lp);
    cg_par_end(k, &par);
    return 0;
}

/* GlobalAveragePool: a vector row sum per (batch, channel) plane. */
static int global_avg(CgKernel *k)
{
    const IrValue *x = cg_kin(k, 0);
    if (x->dtype != SRT_F32 && x->dtype != SRT_F64)
        return cg_unsupported(k, "GlobalAveragePool on %s", srt_dtype_name(x->dtype));
    int rank = x->shape.rank;
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    LLVMValueRef planes = cg_dims_prod(k, x->shape.d, 0, 2);
    LLVMValueRef isz = cg_dims_prod(k, x->shape.d, 2, rank);
    LLVMValueRef grain = cg_grain(k, isz, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, planes, grain, 0, NULL);
    isz = cg_dims_prod(k, x->shape.d, 2, rank);
    CgLoop l;
    LLVMValueRef pl = cg_loop_begin(k, &l, p.begin, p.end, 1);
    LLVMValueRef s = cg_row_reduce(k, ety, k->in[0], cg_mul(k, pl, isz), isz, cg_align_of(x->dtype), CG_RED_SUM, NULL,
                                   NULL, NULL, NULL);
    cg_out_store(k, 0, pl, LLVMBuildFDiv(k->b, s, LLVMBuildSIToFP(k->b, isz, ety, ""), ""), NULL);
    cg_loop_end(k, &l);
    cg_par_end(k, &p);
    return 0;
}

int cg_k_pool(CgKernel *k)
{
    if (k->node->op == IR_OP_GAP)
        return global_avg(k);
    if (k->node->op == IR_OP_AVGPOOL && cg_kin(k, 0)->dtype != SRT_F32 && cg_kin(k, 0)->dtype != SRT_F64)
        return cg_unsupported(k, "AveragePool on %s", srt_dtype_name(cg_kin(k, 0)->dtype));
    return pool(k);
}
