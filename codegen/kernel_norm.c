/* BatchNormalization (inference and training statistics) and LayerNormalization kernels. */
#include <string.h>

#include "codegen/emit.h"

static bool is_fp(IrDtype t)
{
    return t == SRT_F32 || t == SRT_F64;
}

/* ---- BatchNormalization ------------------------------------------------------------------------------------
 * x [N, C, spatial...]. Inference: per channel a = scale/sqrt(var+eps), y = (x-mean)*a + B.
 * Training mode: mean and population variance over N and the spatial axes, and the running
 * statistics outputs momentum*running + (1-momentum)*batch, the batch variance unbiased
 * (x count/(count-1), count > 1) with unbiased=1. Parallel over channels. */

/* Map context: the row's (or channel's) mean, a scalar. */
typedef struct Shift {
    LLVMValueRef mu;
} Shift;

static LLVMValueRef map_square_dev(CgKernel *k, void *ctx, LLVMValueRef v)
{
    const Shift *s = ctx;
    LLVMValueRef d = LLVMBuildFSub(k->b, v, cg_splat(k, s->mu, (int)LLVMGetVectorSize(LLVMTypeOf(v))), "");
    return LLVMBuildFMul(k->b, d, d, "");
}

static int batchnorm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0);
    for (int i = 0; i < 5; i++)
        if (!is_fp(cg_kin(k, i)->dtype))
            return cg_unsupported(k, "BatchNormalization on %s", srt_dtype_name(cg_kin(k, i)->dtype));
    if (x->shape.rank < 2)
        return cg_unsupported(k, "BatchNormalization on rank %d", x->shape.rank);
    bool training = ir_attr_int(n, "training_mode") == 1;
    double eps = ir_attr_float(n, "epsilon"), mom = ir_attr_float(n, "momentum");
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    unsigned al = cg_align_of(x->dtype);
    int rank = x->shape.rank;
    LLVMValueRef C = cg_dim(k, x->shape.d[1]);
    LLVMValueRef work = cg_mul(k, cg_dim(k, x->shape.d[0]), cg_dims_prod(k, x->shape.d, 2, rank));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, C, grain, 0, NULL);
    LLVMValueRef batch = cg_dim(k, x->shape.d[0]);
    C = cg_dim(k, x->shape.d[1]);
    LLVMValueRef sp = cg_dims_prod(k, x->shape.d, 2, rank);
    CgLoop lc;
    LLVMValueRef c = cg_loop_begin(k, &lc, p.begin, p.end, 1);
    LLVMValueRef mu, var;
    if (training) {
        /* batch mean, then the population variance around it (two passes, like the reference) */
        LLVMValueRef cnt = LLVMBuildSIToFP(k->b, cg_mul(k, batch, sp), ety, "");
        CgLoop l1;
        LLVMValueRef nb = cg_loop_begin(k, &l1, cg_i64c(k, 0), batch, 1);
        LLVMValueRef s = cg_loop_carry(k, &l1, cg_fconst(ety, 0));
        LLVMValueRef base = cg_mul(k, cg_add(k, cg_mul(k, nb, C), c), sp);
        cg_loop_set(&l1, 0, LLVMBuildFAdd(k->b, s, cg_row_reduce(k, ety, k->in[0], base, sp, al, CG_RED_SUM, NULL,
                                                                  NULL, NULL, NULL), ""));
        cg_loop_end(k, &l1);
        mu = LLVMBuildFDiv(k->b, l1.phi[0], cnt, "");
        Shift sh = {mu};
        CgLoop l2;
        nb = cg_loop_begin(k, &l2, cg_i64c(k, 0), batch, 1);
        s = cg_loop_carry(k, &l2, cg_fconst(ety, 0));
        base = cg_mul(k, cg_add(k, cg_mul(k, nb, C), c), sp);
        cg_loop_set(&l2, 0, LLVMBuildFAdd(k->b, s, cg_row_reduce(k, ety, k->in[0], base, sp, al, CG_RED_SUM,
                                                                  map_square_dev, &sh, NULL, NULL), ""));
        cg_loop_end(k, &l2);
        var = LLVMBuildFDiv(k->b, l2.phi[0], cnt, "");
        const IrValue *rm = cg_kout(k, 1), *rv = cg_kout(k, 2);
        const IrValue *om[2] = {rm, rv};
        LLVMValueRef rvar = var;
        if (ir_attr_int(n, "unbiased")) {
            LLVMValueRef cm1 = LLVMBuildFSub(k->b, cnt, cg_fconst(ety, 1), "");
            LLVMValueRef more = LLVMBuildFCmp(k->b, LLVMRealOGT, cnt, cg_fconst(ety, 1), "");
            rvar = LLVMBuildSelect(k->b, more, LLVMBuildFDiv(k->b, l2.phi[0], cm1, ""), var, "");
        }
        LLVMValueRef ov[2] = {mu, rvar};
        for (int q = 0; q < 2; q++) {
            if (!om[q])
                continue;
            LLVMTypeRef oty = cg_t_elem(k, om[q]->dtype);
            LLVMValueRef old = cg_load_as(k, cg_kin(k, 3 + q)->dtype, k->in[3 + q], c, oty);
            LLVMValueRef bt = cg_fconv(k, ov[q], oty);
            LLVMValueRef v = LLVMBuildFAdd(k->b, LLVMBuildFMul(k->b, old, cg_fconst(oty, mom), ""),
                                           LLVMBuildFMul(k->b, bt, cg_fconst(oty, 1 - mom), ""), "");
            cg_out_store(k, 1 + q, c, v, NULL);
        }
    } else {
        mu = cg_load_as(k, cg_kin(k, 3)->dtype, k->in[3], c, ety);
        var = cg_load_as(k, cg_kin(k, 4)->dtype, k->in[4], c, ety);
    }
    LLVMValueRef inv = LLVMBuildFDiv(k->b, cg_fconst(ety, 1.0),
                                     cg_sqrt(k, LLVMBuildFAdd(k->b, var, cg_fconst(ety, eps), "")), "");
    LLVMValueRef a = LLVMBuildFMul(k->b, inv, cg_load_as(k, cg_kin(k, 1)->dtype, k->in[1], c, ety), "");
    LLVMValueRef b = cg_load_as(k, cg_kin(k, 2)->dtype, k->in[2], c, ety);
    CgLoop ln;
    LLVMValueRef nb = cg_loop_begin(k, &ln, cg_i64c(k, 0), batch, 1);
    LLVMValueRef base = cg_mul(k, cg_add(k, cg_mul(k, nb, C), c), sp);
    CgLoop ls;
    LLVMValueRef j = cg_loop_begin(k, &ls, cg_i64c(k, 0), sp, 1);
    LLVMValueRef idx = cg_add(k, base, j);
    LLVMValueRef v = LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], idx, al), mu, "");
    cg_out_store(k, 0, idx, cg_fma(k, v, a, b), NULL);
    cg_loop_end(k, &ls);
    cg_loop_end(k, &ln);
    cg_loop_end(k, &lc);
    cg_par_end(k, &p);
    return 0;
}

/* ---- LayerNormalization ----------------------------------------------------------------------------------
 * Rows of the normalized axes [axis, rank) are contiguous: per row the mean, the variance
 * around it (two passes), then y = (x-mean)*inv*scale + bias with scale/bias indexed within
 * the row (their shapes cover the normalized axes; a size-1 scale broadcasts). */

/* v (double) rounded to float type sty and back. */
static LLVMValueRef round_to(CgKernel *k, LLVMValueRef v, LLVMTypeRef sty)
{
    return cg_fconv(k, cg_fconv(k, v, sty), LLVMTypeOf(v));
}

/* Index step of a scale/bias tensor along the row: 1 if it has one element per row element,
 * 0 if it has one element; -1 otherwise (broadcast inside the row). */
static int row_step(const IrValue *v, IrDim inner)
{
    IrDim numel;
    if (!ir_shape_numel(&v->shape, &numel))
        return -1;
    if (numel.a == 0 && numel.b == 1)
        return 0;
    return ir_dim_eq(numel, inner) ? 1 : -1;
}

static int layernorm(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *sc = cg_kin(k, 1), *bi = cg_kin(k, 2);
    const IrValue *om = cg_kout(k, 1), *oi = cg_kout(k, 2);
    if (!is_fp(x->dtype))
        return cg_unsupported(k, "LayerNormalization on %s", srt_dtype_name(x->dtype));
    int rank = x->shape.rank, ax;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), rank, &ax))
        return cg_unsupported(k, "LayerNormalization with axis %lld", (long long)ir_attr_int(n, "axis"));
    IrDim innerd = ir_dim_const(1);
    for (int r = ax; r < rank; r++)
        if (!ir_dim_mul(innerd, x->shape.d[r], &innerd))
            return cg_unsupported(k, "LayerNormalization over axes whose size is not a*N+b");
    int ss = row_step(sc, innerd), bs = bi ? row_step(bi, innerd) : 0;
    if (ss < 0 || bs < 0)
        return cg_unsupported(k, "LayerNormalization with a Scale or B that broadcasts inside the normalized axes");
    /* stash_type 1 with float64 data: the statistics in float32 precision */
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    bool stash32 = ir_attr_int(n, "stash_type") == 1 && x->dtype == SRT_F64;
    LLVMTypeRef sty = stash32 ? cg_t_f32(k) : ety;
    double eps = ir_attr_float(n, "epsilon");
    unsigned al = cg_align_of(x->dtype);
    LLVMValueRef outer = cg_dims_prod(k, x->shape.d, 0, ax);
    LLVMValueRef inner = cg_dim(k, innerd);
    LLVMValueRef grain = cg_grain(k, inner, CG_PAR_WORK / 4);
    CgPar p;
    cg_par_begin(k, &p, outer, grain, 0, NULL);
    inner = cg_dim(k, innerd);
    LLVMValueRef cnt = LLVMBuildSIToFP(k->b, inner, ety, "");
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, p.begin, p.end, 1);
    LLVMValueRef base = cg_mul(k, r, inner);
    LLVMValueRef mean, var;
    if (stash32) {
        /* float64 data normalized in float32 precision: scalar passes with float rounding */
        CgLoop l1;
        LLVMValueRef j = cg_loop_begin(k, &l1, cg_i64c(k, 0), inner, 1);
        LLVMValueRef s = cg_loop_carry(k, &l1, cg_fconst(ety, 0));
        LLVMValueRef v = round_to(k, cg_load(k, ety, k->in[0], cg_add(k, base, j), al), sty);
        cg_loop_set(&l1, 0, LLVMBuildFAdd(k->b, s, v, ""));
        cg_loop_end(k, &l1);
        mean = LLVMBuildFDiv(k->b, l1.phi[0], cnt, "");
        CgLoop l2;
        j = cg_loop_begin(k, &l2, cg_i64c(k, 0), inner, 1);
        s = cg_loop_carry(k, &l2, cg_fconst(ety, 0));
        v = round_to(k, cg_load(k, ety, k->in[0], cg_add(k, base, j), al), sty);
        LLVMValueRef dv = LLVMBuildFSub(k->b, v, mean, "");
        cg_loop_set(&l2, 0, cg_fma(k, dv, dv, s));
        cg_loop_end(k, &l2);
        var = LLVMBuildFDiv(k->b, l2.phi[0], cnt, "");
    } else {
        mean = LLVMBuildFDiv(k->b, cg_row_reduce(k, ety, k->in[0], base, inner, al, CG_RED_SUM, NULL, NULL, NULL, NULL),
                             cnt, "");
        Shift sh = {mean};
        var = LLVMBuildFDiv(k->b, cg_row_reduce(k, ety, k->in[0], base, inner, al, CG_RED_SUM, map_square_dev, &sh,
                                                NULL, NULL),
                            cnt, "");
    }
    LLVMValueRef sd = cg_sqrt(k, LLVMBuildFAdd(k->b, var, cg_fconst(ety, eps), ""));
    LLVMValueRef inv = LLVMBuildFDiv(k->b, cg_fconst(ety, 1.0), sd, "");
    if (om)
        cg_out_store(k, 1, r, cg_fconv(k, mean, cg_t_elem(k, om->dtype)), NULL);
    if (oi)
        cg_out_store(k, 2, r, cg_fconv(k, inv, cg_t_elem(k, oi->dtype)), NULL);
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, cg_i64c(k, 0), inner, 1);
    LLVMValueRef idx = cg_add(k, base, j);
    LLVMValueRef xv = cg_load(k, ety, k->in[0], idx, al);
    if (stash32)
        xv = round_to(k, xv, sty);
    LLVMValueRef nv = LLVMBuildFMul(k->b, LLVMBuildFSub(k->b, xv, mean, ""), inv, "");
    if (stash32)
        nv = round_to(k, nv, sty);
    LLVMValueRef s = cg_load_as(k, sc->dtype, k->in[1], ss ? j : cg_i64c(k, 0), ety);
    LLVMValueRef v;
    if (bi)
        v = cg_fma(k, nv, s, cg_load_as(k, bi->dtype, k->in[2], bs ? j : cg_i64c(k, 0), ety));
    else
        v = LLVMBuildFMul(k->b, nv, s, "");
    cg_out_store(k, 0, idx, v, NULL);
    cg_loop_end(k, &lj);
    cg_loop_end(k, &lr);
    cg_par_end(k, &p);
    return 0;
}

int cg_k_norm(CgKernel *k)
{
    return k->node->op == IR_OP_BATCHNORM ? batchnorm(k) : layernorm(k);
}
