/* Training-loss kernels (forward): SoftmaxCrossEntropyLoss and MSELoss, with none/sum/mean reductions. */
#include <math.h>
#include <string.h>

#include "codegen/emit.h"

/* ---- SoftmaxCrossEntropyLoss ---------------------------------------------------------------------------
 * x [N, C, d...], labels [N, d...]: per position the log-softmax over C (strided by the
 * spatial size), loss = -w[label] * log_prob[label]. A label equal to ignore_index counts
 * nothing (weight 0); a label outside [0, C) (an error in the interpreter) counts nothing
 * either. sum/mean accumulate in double; mean divides by the summed weights. */

static int sce_loss(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *lab = cg_kin(k, 1), *wt = cg_kin(k, 2), *y = cg_kout(k, 0), *lp = cg_kout(k, 1);
    const char *red = ir_attr_str(n, "reduction");
    bool none = !strcmp(red, "none"), mean = !strcmp(red, "mean");
    const IrAttr *ig = ir_attr_get(n, "ignore_index");
    LLVMTypeRef ety = cg_t_elem(k, x->dtype), f64 = cg_t_f64(k);
    unsigned al = cg_align_of(x->dtype);
    int rank = x->shape.rank;
    LLVMValueRef C = cg_dim(k, x->shape.d[1]);
    LLVMValueRef sp = cg_dims_prod(k, x->shape.d, 2, rank);
    LLVMValueRef positions = cg_mul(k, cg_dim(k, x->shape.d[0]), sp);
    CgLoop lp_;
    LLVMValueRef pos = cg_loop_begin(k, &lp_, cg_i64c(k, 0), positions, 1);
    LLVMValueRef total = cg_loop_carry(k, &lp_, cg_fconst(f64, 0));
    LLVMValueRef wsum = cg_loop_carry(k, &lp_, cg_fconst(f64, 0));
    LLVMValueRef nb = LLVMBuildUDiv(k->b, pos, sp, ""), s = LLVMBuildURem(k->b, pos, sp, "");
    LLVMValueRef base = cg_add(k, cg_mul(k, cg_mul(k, nb, C), sp), s);   /* x[nb, 0, s] */
    /* log-sum-exp over the classes */
    CgLoop l1;
    LLVMValueRef c = cg_loop_begin(k, &l1, cg_i64c(k, 0), C, 1);
    LLVMValueRef mx = cg_loop_carry(k, &l1, cg_fconst(ety, -INFINITY));
    LLVMValueRef v = cg_load(k, ety, k->in[0], cg_add(k, base, cg_mul(k, c, sp)), al);
    cg_loop_set(&l1, 0, LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOGT, v, mx, ""), v, mx, ""));
    cg_loop_end(k, &l1);
    mx = l1.phi[0];
    CgLoop l2;
    c = cg_loop_begin(k, &l2, cg_i64c(k, 0), C, 1);
    LLVMValueRef sum = cg_loop_carry(k, &l2, cg_fconst(ety, 0));
    v = cg_load(k, ety, k->in[0], cg_add(k, base, cg_mul(k, c, sp)), al);
    cg_loop_set(&l2, 0, LLVMBuildFAdd(k->b, sum, cg_exp(k, LLVMBuildFSub(k->b, v, mx, "")), ""));
    cg_loop_end(k, &l2);
    LLVMValueRef lse = LLVMBuildFAdd(k->b, mx, cg_log(k, l2.phi[0]), "");
    if (lp) {
        CgLoop l3;
        c = cg_loop_begin(k, &l3, cg_i64c(k, 0), C, 1);
        LLVMValueRef idx = cg_add(k, base, cg_mul(k, c, sp));
        cg_store(k, LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], idx, al), lse, ""), k->out[1], idx,
                 cg_align_of(lp->dtype));
        cg_loop_end(k, &l3);
    }
    LLVMValueRef label = cg_load(k, cg_t_elem(k, lab->dtype), k->in[1], pos, cg_align_of(lab->dtype));
    if (lab->dtype != SRT_I64)
        label = LLVMBuildSExt(k->b, label, cg_t_i64(k), "");
    LLVMValueRef counts = LLVMBuildICmp(k->b, LLVMIntULT, label, C, "");
    if (ig && ig->kind == IR_ATTR_INT)
        counts = LLVMBuildAnd(k->b, counts, LLVMBuildICmp(k->b, LLVMIntNE, label, cg_i64c(k, ig->i), ""), "");
    LLVMValueRef safe = LLVMBuildSelect(k->b, counts, label, cg_i64c(k, 0), "");
    LLVMValueRef w = wt ? cg_load_as(k, wt->dtype, k->in[2], safe, ety) : cg_fconst(ety, 1);
    w = LLVMBuildSelect(k->b, counts, w, cg_fconst(ety, 0), "");
    LLVMValueRef xl = cg_load(k, ety, k->in[0], cg_add(k, base, cg_mul(k, safe, sp)), al);
    LLVMValueRef loss = LLVMBuildFNeg(k->b, LLVMBuildFMul(k->b, w, LLVMBuildFSub(k->b, xl, lse, ""), ""), "");
    loss = LLVMBuildSelect(k->b, counts, loss, cg_fconst(ety, 0), "");
    if (none && y)
        cg_store(k, loss, k->out[0], pos, cg_align_of(y->dtype));
    LLVMValueRef loss64 = ety == f64 ? loss : LLVMBuildFPExt(k->b, loss, f64, "");
    LLVMValueRef w64 = ety == f64 ? w : LLVMBuildFPExt(k->b, w, f64, "");
    cg_loop_set(&lp_, 0, LLVMBuildFAdd(k->b, total, loss64, ""));
    cg_loop_set(&lp_, 1, LLVMBuildFAdd(k->b, wsum, w64, ""));
    cg_loop_end(k, &lp_);
    if (!none && y) {
        LLVMValueRef r = mean ? LLVMBuildFDiv(k->b, lp_.phi[0], lp_.phi[1], "") : lp_.phi[0];
        if (ety != f64)
            r = LLVMBuildFPTrunc(k->b, r, ety, "");
        cg_store(k, r, k->out[0], cg_i64c(k, 0), cg_align_of(y->dtype));
    }
    return 0;
}

/* ---- MSELoss: (a-b)^2 per element, or its sum / mean (accumulated in double) ------------------------ */

static int mse_loss(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *a = cg_kin(k, 0), *y = cg_kout(k, 0);
    const char *red = ir_attr_str(n, "reduction");
    bool none = !strcmp(red, "none");
    LLVMTypeRef ety = cg_t_elem(k, a->dtype), f64 = cg_t_f64(k);
    unsigned al = cg_align_of(a->dtype);
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&a->shape, &numel));
    LLVMValueRef cnt = cg_dim(k, numel);
    CgLoop l;
    LLVMValueRef i = cg_loop_begin(k, &l, cg_i64c(k, 0), cnt, 1);
    LLVMValueRef acc = cg_loop_carry(k, &l, cg_fconst(f64, 0));
    LLVMValueRef dv = LLVMBuildFSub(k->b, cg_load(k, ety, k->in[0], i, al), cg_load(k, ety, k->in[1], i, al), "");
    if (none) {
        cg_store(k, LLVMBuildFMul(k->b, dv, dv, ""), k->out[0], i, cg_align_of(y->dtype));
    } else {
        LLVMValueRef d64 = ety == f64 ? dv : LLVMBuildFPExt(k->b, dv, f64, "");
        cg_loop_set(&l, 0, cg_fma(k, d64, d64, acc));
    }
    cg_loop_end(k, &l);
    if (!none) {
        LLVMValueRef r = l.phi[0];
        if (!strcmp(red, "mean"))
            r = LLVMBuildFDiv(k->b, r, LLVMBuildSIToFP(k->b, cnt, f64, ""), "");
        if (ety != f64)
            r = LLVMBuildFPTrunc(k->b, r, ety, "");
        cg_store(k, r, k->out[0], cg_i64c(k, 0), cg_align_of(y->dtype));
    }
    return 0;
}

int cg_k_loss(CgKernel *k)
{
    const IrValue *x = cg_kin(k, 0);
    if (x->dtype != SRT_F32 && x->dtype != SRT_F64)
        return cg_unsupported(k, "%s on %s", ir_op_name(k->node->op), srt_dtype_name(x->dtype));
    return k->node->op == IR_OP_SCELOSS ? sce_loss(k) : mse_loss(k);
}
