/* Pad: every output element from its source element (per-axis index maps of the four ONNX
 * modes) or the constant; rows of the last axis run in parallel. */
#include <string.h>

#include "codegen/emit.h"

/* Source index along one axis (ir_pad_source's rules as LLVM values); inside = 0 <= i < dim. */
static LLVMValueRef source(CgKernel *k, const char *mode, LLVMValueRef o, int64_t begin, LLVMValueRef dim,
                           LLVMValueRef *inside)
{
    LLVMValueRef i = cg_sub(k, o, cg_i64c(k, begin)), zero = cg_i64c(k, 0);
    LLVMValueRef neg = LLVMBuildICmp(k->b, LLVMIntSLT, i, zero, "");
    LLVMValueRef past = LLVMBuildICmp(k->b, LLVMIntSGE, i, dim, "");
    *inside = LLVMBuildNot(k->b, LLVMBuildOr(k->b, neg, past, ""), "");
    LLVMValueRef last = cg_sub(k, dim, cg_i64c(k, 1));
    switch (mode[0]) {
    case 'e':
        return cg_max64(k, cg_min64(k, i, last), zero);
    case 'r': {
        LLVMValueRef lo = LLVMBuildNeg(k->b, i, ""), hi = LLVMBuildSub(k->b, LLVMBuildAdd(k->b, last, last, ""), i, "");
        return LLVMBuildSelect(k->b, neg, lo, LLVMBuildSelect(k->b, past, hi, i, ""), "");
    }
    case 'w': {
        LLVMValueRef m = LLVMBuildSRem(k->b, i, dim, "");
        m = LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, m, zero, ""), LLVMBuildAdd(k->b, m, dim, ""), m, "");
        return m;
    }
    default:
        return cg_max64(k, cg_min64(k, i, last), zero); /* any in-range index; the constant wins */
    }
}

int cg_k_pad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0), *cv = cg_kin(k, 2), *ax = cg_kin(k, 3);
    int r = x->shape.rank;
    IrDim pads[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
    int count = cg_known_ints(cg_kin(k, 1), pads, 2 * IR_MAX_RANK);
    int naxes = ax ? cg_known_ints(ax, axes, IR_MAX_RANK) : r;
    if (count < 0 || naxes < 0 || count != 2 * naxes)
        return cg_unsupported(k, "Pad with pads or axes not known at compile time");
    int64_t pb[IR_MAX_RANK] = {0};
    for (int i = 0; i < naxes; i++) {
        int a = i;
        if (ax && (axes[i].a != 0 || !ir_norm_axis(axes[i].b, r, &a)))
            return cg_unsupported(k, "Pad with axes entry %d", i);
        if (pads[i].a != 0)
            return cg_unsupported(k, "Pad with pads that depend on N");
        pb[a] = pads[i].b;
    }
    const char *mode = ir_attr_str(n, "mode");
    bool constant = !strcmp(mode, "constant");
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    unsigned align = cg_align_of(x->dtype);
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&y->shape, &numel));
    if (r == 0) {
        cg_out_store(k, 0, cg_i64c(k, 0), cg_load(k, ety, k->in[0], cg_i64c(k, 0), align), NULL);
        return 0;
    }
    LLVMValueRef inner = cg_dim(k, y->shape.d[r - 1]);
    LLVMValueRef rows = LLVMBuildSDiv(k->b, cg_dim(k, numel), cg_max64(k, inner, cg_i64c(k, 1)), "");
    CgPar p;
    cg_par_begin(k, &p, rows, cg_grain(k, inner, CG_PAR_WORK), 0, NULL);
    LLVMValueRef fill = NULL;
    if (constant)
        fill = cv ? cg_load(k, ety, k->in[2], cg_i64c(k, 0), align)
                  : (ir_dtype_is_float(x->dtype) ? cg_fconst(ety, 0) : cg_iconst(ety, 0));
    inner = cg_dim(k, y->shape.d[r - 1]);
    CgLoop lr;
    LLVMValueRef row = cg_loop_begin(k, &lr, p.begin, p.end, 1);
    /* the row's outer indices: their part of the source offset and whether they are inside */
    LLVMValueRef base = cg_i64c(k, 0), ok = LLVMConstInt(cg_t_i1(k), 1, 0), rem = row;
    for (int a = r - 2; a >= 0; a--) {
        LLVMValueRef size = cg_dim(k, y->shape.d[a]);
        LLVMValueRef o = a > 0 ? LLVMBuildURem(k->b, rem, size, "") : rem;
        if (a > 0)
            rem = LLVMBuildUDiv(k->b, rem, size, "");
        LLVMValueRef in_a, s = source(k, mode, o, pb[a], cg_dim(k, x->shape.d[a]), &in_a);
        ok = LLVMBuildAnd(k->b, ok, in_a, "");
        base = cg_add(k, base, cg_mul(k, s, cg_dims_prod(k, x->shape.d, a + 1, r)));
    }
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, cg_i64c(k, 0), inner, 1);
    LLVMValueRef in_j, s = source(k, mode, j, pb[r - 1], cg_dim(k, x->shape.d[r - 1]), &in_j);
    LLVMValueRef dst = cg_add(k, cg_mul(k, row, inner), j);
    LLVMValueRef v;
    if (constant) {
        LLVMValueRef inside = LLVMBuildAnd(k->b, ok, in_j, "");
        CgIf c;
        cg_if_begin(k, &c, inside);
        cg_out_store(k, 0, dst, cg_load(k, ety, k->in[0], cg_add(k, base, s), align), NULL);
        cg_if_else(k, &c);
        cg_out_store(k, 0, dst, fill, NULL);
        cg_if_end(k, &c);
    } else {
        v = cg_load(k, ety, k->in[0], cg_add(k, base, s), align);
        cg_out_store(k, 0, dst, v, NULL);
    }
    cg_loop_end(k, &lj);
    cg_loop_end(k, &lr);
    cg_par_end(k, &p);
    return 0;
}
