/* Data movement kernels: Transpose, Concat, Split, Slice, Gather, ConstantOfShape, Range, Shape. */
#include <string.h>

#include "codegen/emit.h"

/* Rows of `inner` elements per parallel chunk: enough bytes to pay for a thread. */
static LLVMValueRef row_grain(CgKernel *k, LLVMValueRef inner)
{
    return cg_grain(k, inner, CG_PAR_WORK);
}

/* ---- strided copies -------------------------------------------------------------------------------------
 * y (row-major over dims[0..rank)) = x[first + sum_i idx_i * stride_i]: Transpose and Slice.
 * Output dims of size 1 are dropped and output dims that are contiguous in x are merged. */
typedef struct Strided {
    int rank;
    IrDim dims[IR_MAX_RANK];          /* output dims */
    LLVMValueRef (*stride)(CgKernel *k, const void *ctx, int axis);   /* x stride along output axis */
    LLVMValueRef (*first)(CgKernel *k, const void *ctx);              /* x offset of y[0] */
    const void *ctx;
    size_t esize;
    LLVMTypeRef ety;
    unsigned align;
} Strided;

static void strided_copy(CgKernel *k, const Strided *sc)
{
    LLVMValueRef total = cg_i64c(k, 1);
    for (int i = 0; i < sc->rank; i++)
        total = cg_mul(k, total, cg_dim(k, sc->dims[i]));
    LLVMValueRef inner = sc->rank > 0 ? cg_dim(k, sc->dims[sc->rank - 1]) : cg_i64c(k, 1);
    LLVMValueRef rows = LLVMBuildSDiv(k->b, total, cg_max64(k, inner, cg_i64c(k, 1)), "");
    CgPar p;
    cg_par_begin(k, &p, rows, row_grain(k, inner), 0, NULL);
    LLVMValueRef size[IR_MAX_RANK], stride[IR_MAX_RANK];
    for (int i = 0; i < sc->rank; i++) {
        size[i] = cg_dim(k, sc->dims[i]);
        stride[i] = sc->stride(k, sc->ctx, i);
    }
    LLVMValueRef first = sc->first(k, sc->ctx);
    int last = sc->rank - 1;
    inner = last >= 0 ? size[last] : cg_i64c(k, 1);
    LLVMValueRef istride = last >= 0 ? stride[last] : cg_i64c(k, 0);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, p.begin, p.end, 1);
    LLVMValueRef src = first, rem = r;
    for (int i = last - 1; i >= 0; i--) {
        LLVMValueRef idx = i > 0 ? LLVMBuildURem(k->b, rem, size[i], "") : rem;
        if (i > 0)
            rem = LLVMBuildUDiv(k->b, rem, size[i], "");
        src = cg_add(k, src, cg_mul(k, idx, stride[i]));
    }
    LLVMValueRef dst = cg_mul(k, r, inner);
    if (LLVMIsAConstantInt(istride) && LLVMConstIntGetSExtValue(istride) == 1) {
        cg_copy(k, cg_out_ptr(k, 0), dst, k->in[0], src, inner, sc->esize);
    } else {
        CgLoop lj;
        LLVMValueRef j = cg_loop_begin(k, &lj, cg_i64c(k, 0), inner, 1);
        LLVMValueRef v = cg_load(k, sc->ety, k->in[0], cg_add(k, src, cg_mul(k, j, istride)), sc->align);
        cg_out_store(k, 0, cg_add(k, dst, j), v, NULL);
        cg_loop_end(k, &lj);
    }
    cg_loop_end(k, &lr);
    cg_par_end(k, &p);
}

/* ---- Transpose ------------------------------------------------------------------------------------------ */

typedef struct TransposeCtx {
    const IrValue *x;
    int rank;                          /* merged output rank */
    int x_axis[IR_MAX_RANK];       /* innermost x axis of each merged output axis */
} TransposeCtx;

static LLVMValueRef transpose_stride(CgKernel *k, const void *ctx, int axis)
{
    const TransposeCtx *t = ctx;
    int a = t->x_axis[axis];
    return cg_dims_prod(k, t->x->shape.d, a + 1, t->x->shape.rank);
}

static LLVMValueRef zero_first(CgKernel *k, const void *ctx)
{
    (void)ctx;
    return cg_i64c(k, 0);
}

static int transpose(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0);
    int r = x->shape.rank, perm[IR_MAX_RANK];
    const int64_t *pv;
    int np = ir_attr_ints(n, "perm", &pv);
    for (int i = 0; i < r; i++)
        perm[i] = np == r ? (int)pv[i] : r - 1 - i;
    TransposeCtx t;
    memset(&t, 0, sizeof t);
    t.x = x;
    Strided sc;
    memset(&sc, 0, sizeof sc);
    /* merge output axes i-1, i when perm[i] == perm[i-1] + 1; drop size-1 axes */
    for (int i = 0; i < r; i++) {
        IrDim d = y->shape.d[i];
        if (d.a == 0 && d.b == 1)
            continue;
        int q = sc.rank;
        if (q > 0 && perm[i] == t.x_axis[q - 1] + 1) {
            IrDim m;
            if (ir_dim_mul(sc.dims[q - 1], d, &m)) {
                sc.dims[q - 1] = m;
                t.x_axis[q - 1] = perm[i];
                continue;
            }
        }
        sc.dims[q] = d;
        t.x_axis[q] = perm[i];
        sc.rank++;
    }
    /* stride of a merged axis = stride of its last (innermost) x axis */
    t.rank = sc.rank;
    sc.stride = transpose_stride;
    sc.first = zero_first;
    sc.ctx = &t;
    sc.esize = srt_dtype_size(x->dtype);
    sc.ety = cg_t_elem(k, x->dtype);
    sc.align = cg_align_of(x->dtype);
    strided_copy(k, &sc);
    return 0;
}

/* ---- Slice --------------------------------------------------------------------------------------------- */

typedef struct SliceCtx {
    const IrValue *x;
    IrDim starts[IR_MAX_RANK], ends[IR_MAX_RANK];
    int64_t steps[IR_MAX_RANK];
    bool sliced[IR_MAX_RANK];
} SliceCtx;

/* ONNX start clamping at run time: negative counts from the back; positive steps clamp into
 * [0, dim], negative ones into [0, dim-1]. */
static LLVMValueRef slice_first(CgKernel *k, const SliceCtx *s, int axis)
{
    if (!s->sliced[axis])
        return cg_i64c(k, 0);
    LLVMValueRef dim = cg_dim(k, s->x->shape.d[axis]);
    LLVMValueRef st = cg_dim(k, s->starts[axis]);
    LLVMValueRef neg = LLVMBuildICmp(k->b, LLVMIntSLT, st, cg_i64c(k, 0), "");
    st = LLVMBuildSelect(k->b, neg, LLVMBuildAdd(k->b, st, dim, ""), st, "");
    LLVMValueRef hi = s->steps[axis] > 0 ? dim : cg_sub(k, dim, cg_i64c(k, 1));
    return cg_max64(k, cg_min64(k, st, hi), cg_i64c(k, 0));
}

static LLVMValueRef slice_stride(CgKernel *k, const void *ctx, int axis)
{
    const SliceCtx *s = ctx;
    LLVMValueRef st = cg_dims_prod(k, s->x->shape.d, axis + 1, s->x->shape.rank);
    return cg_mul(k, st, cg_i64c(k, s->sliced[axis] ? s->steps[axis] : 1));
}

static LLVMValueRef slice_offset(CgKernel *k, const void *ctx)
{
    const SliceCtx *s = ctx;
    LLVMValueRef off = cg_i64c(k, 0);
    for (int i = 0; i < s->x->shape.rank; i++)
        off = cg_add(k, off, cg_mul(k, slice_first(k, s, i), cg_dims_prod(k, s->x->shape.d, i + 1, s->x->shape.rank)));
    return off;
}

static int slice(CgKernel *k)
{
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0);
    int r = x->shape.rank;
    SliceCtx s;
    memset(&s, 0, sizeof s);
    s.x = x;
    IrDim st[IR_MAX_RANK], en[IR_MAX_RANK], ax[IR_MAX_RANK], sp[IR_MAX_RANK];
    int count = cg_known_ints(cg_kin(k, 1), st, IR_MAX_RANK);
    if (count < 0 || cg_known_ints(cg_kin(k, 2), en, IR_MAX_RANK) != count)
        return cg_unsupported(k, "Slice with starts/ends not known at compile time");
    if (cg_kin(k, 3) && cg_known_ints(cg_kin(k, 3), ax, IR_MAX_RANK) != count)
        return cg_unsupported(k, "Slice with axes not known at compile time");
    if (cg_kin(k, 4) && cg_known_ints(cg_kin(k, 4), sp, IR_MAX_RANK) != count)
        return cg_unsupported(k, "Slice with steps not known at compile time");
    for (int i = 0; i < count; i++) {
        int a = i;
        if (cg_kin(k, 3) && (ax[i].a != 0 || !ir_norm_axis(ax[i].b, r, &a)))
            return cg_unsupported(k, "Slice with axes entry %d", i);
        int64_t step = cg_kin(k, 4) ? sp[i].b : 1;
        if ((cg_kin(k, 4) && sp[i].a != 0) || step == 0)
            return cg_unsupported(k, "Slice with steps entry %d", i);
        s.sliced[a] = true;
        s.starts[a] = st[i];
        s.ends[a] = en[i];
        s.steps[a] = step;
    }
    Strided sc;
    memset(&sc, 0, sizeof sc);
    sc.rank = r;
    for (int i = 0; i < r; i++)
        sc.dims[i] = y->shape.d[i];
    sc.stride = slice_stride;
    sc.first = slice_offset;
    sc.ctx = &s;
    sc.esize = srt_dtype_size(x->dtype);
    sc.ety = cg_t_elem(k, x->dtype);
    sc.align = cg_align_of(x->dtype);
    strided_copy(k, &sc);
    return 0;
}

/* ---- Concat / Split ------------------------------------------------------------------------------------
 * With outer = prod(dims before axis) and inner = prod(dims after): each part is a block of
 * part_dim*inner elements per outer index, placed side by side in the whole. */

static int concat_split(CgKernel *k, bool split)
{
    const IrNode *n = k->node;
    const IrValue *whole = split ? cg_kin(k, 0) : cg_kout(k, 0);
    int r = whole->shape.rank, axis;
    if (!ir_norm_axis(split ? ir_attr_int(n, "axis") : ir_attr_get(n, "axis")->i, r, &axis))
        return cg_unsupported(k, "%s with this axis", ir_op_name(n->op));
    int nparts = split ? n->nout : n->nin;
    size_t esize = srt_dtype_size(whole->dtype);
    LLVMValueRef outer = cg_dims_prod(k, whole->shape.d, 0, axis);
    LLVMValueRef inner = cg_dims_prod(k, whole->shape.d, axis + 1, r);
    LLVMValueRef row = cg_mul(k, cg_dim(k, whole->shape.d[axis]), inner);
    CgPar p;
    cg_par_begin(k, &p, outer, row_grain(k, row), 0, NULL);
    inner = cg_dims_prod(k, whole->shape.d, axis + 1, r);
    row = cg_mul(k, cg_dim(k, whole->shape.d[axis]), inner);
    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, p.begin, p.end, 1);
    LLVMValueRef at = cg_mul(k, o, row);
    for (int i = 0; i < nparts; i++) {
        const IrValue *part = split ? cg_kout(k, i) : cg_kin(k, i);
        /* an unused Split output still takes its place: its size comes from the node's value */
        const IrValue *pv = part ? part : k->g->values[split ? n->out[i] : n->in[i]];
        LLVMValueRef chunk = cg_mul(k, cg_dim(k, pv->shape.d[axis]), inner);
        if (part) {
            LLVMValueRef poff = cg_mul(k, o, chunk);
            if (split)
                cg_copy(k, cg_out_ptr(k, i), poff, k->in[0], at, chunk, esize);
            else
                cg_copy(k, cg_out_ptr(k, 0), at, k->in[i], poff, chunk, esize);
        }
        at = cg_add(k, at, chunk);
    }
    cg_loop_end(k, &lo);
    cg_par_end(k, &p);
    return 0;
}

/* ---- Gather --------------------------------------------------------------------------------------------
 * y[o, j, :] = x[o, idx[j], :] with negative indices counted from the back. An index outside
 * [-s, s) gives zeros rather than reading outside x, and is a run-time fault (the call returns
 * SINTER_EDATA; the interpreter reports the same). */

static int gather(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *ind = cg_kin(k, 1);
    int r = x->shape.rank, axis;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), r, &axis))
        return cg_unsupported(k, "Gather with this axis");
    size_t esize = srt_dtype_size(x->dtype);
    IrDim qd;
    IR_ASSERT(ir_shape_numel(&ind->shape, &qd));
    LLVMValueRef outer = cg_dims_prod(k, x->shape.d, 0, axis);
    LLVMValueRef Q = cg_dim(k, qd);
    LLVMValueRef inner = cg_dims_prod(k, x->shape.d, axis + 1, r);
    CgPar p;
    cg_par_begin(k, &p, cg_mul(k, outer, Q), row_grain(k, inner), 0, NULL);
    Q = cg_dim(k, qd);
    inner = cg_dims_prod(k, x->shape.d, axis + 1, r);
    LLVMValueRef s = cg_dim(k, x->shape.d[axis]);
    CgLoop l;
    LLVMValueRef t = cg_loop_begin(k, &l, p.begin, p.end, 1);
    LLVMValueRef o = LLVMBuildUDiv(k->b, t, Q, ""), j = LLVMBuildURem(k->b, t, Q, "");
    LLVMValueRef iv = cg_load(k, cg_t_elem(k, ind->dtype), k->in[1], j, cg_align_of(ind->dtype));
    if (ind->dtype != SRT_I64)
        iv = LLVMBuildSExt(k->b, iv, cg_t_i64(k), "");
    iv = LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, iv, cg_i64c(k, 0), ""), cg_add(k, iv, s), iv, "");
    LLVMValueRef inside = LLVMBuildICmp(k->b, LLVMIntULT, iv, s, "");
    char sz[64];
    ir_dim_format(x->shape.d[axis], sz, sizeof sz);
    cg_fault_if(k, n, LLVMBuildNot(k->b, inside, ""), "an index is out of range for axis %d of inputs[0] (size %s)",
                axis, sz);
    LLVMValueRef dst = cg_mul(k, t, inner);
    CgIf c;
    cg_if_begin(k, &c, inside);
    cg_copy(k, cg_out_ptr(k, 0), dst, k->in[0], cg_mul(k, cg_add(k, cg_mul(k, o, s), iv), inner), inner, esize);
    cg_if_else(k, &c);
    LLVMBuildMemSet(k->b, cg_gep(k, cg_t_i8(k), cg_out_ptr(k, 0), cg_mul(k, dst, cg_i64c(k, (int64_t)esize))),
                    LLVMConstInt(cg_t_i8(k), 0, 0), cg_mul(k, inner, cg_i64c(k, (int64_t)esize)), 1);
    cg_if_end(k, &c);
    cg_loop_end(k, &l);
    cg_par_end(k, &p);
    return 0;
}

/* ---- ConstantOfShape, Range, Shape ------------------------------------------------------------------------ */

static int constant_of_shape(CgKernel *k)
{
    const IrValue *y = cg_kout(k, 0);
    const IrAttr *v = ir_attr_get(k->node, "value");
    LLVMTypeRef ety = cg_t_elem(k, y->dtype);
    LLVMValueRef c;
    if (!v) {
        c = cg_fconst(ety, 0);
    } else {
        IrTensor t = {.dtype = v->tdtype, .rank = 0, .numel = 1, .data = v->tdata};
        c = (y->dtype == SRT_F32 || y->dtype == SRT_F64) ? cg_fconst(ety, ir_tensor_getf(&t, 0))
                                                        : cg_iconst(ety, ir_tensor_geti(&t, 0));
    }
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&y->shape, &numel));
    CgLoop l;
    LLVMValueRef i = cg_loop_begin(k, &l, cg_i64c(k, 0), cg_dim(k, numel), 1);
    cg_out_store(k, 0, i, c, NULL);
    cg_loop_end(k, &l);
    return 0;
}

/* y[i] = start + i*delta (floats computed in double and rounded once, as the reference) */
static int range(CgKernel *k)
{
    const IrValue *y = cg_kout(k, 0);
    IrDtype dt = y->dtype;
    LLVMTypeRef ety = cg_t_elem(k, dt);
    bool fp = dt == SRT_F32 || dt == SRT_F64;
    LLVMValueRef start = cg_load(k, ety, k->in[0], cg_i64c(k, 0), cg_align_of(dt));
    LLVMValueRef delta = cg_load(k, ety, k->in[2], cg_i64c(k, 0), cg_align_of(dt));
    LLVMTypeRef f64 = cg_t_f64(k);
    if (fp && dt == SRT_F32) {
        start = LLVMBuildFPExt(k->b, start, f64, "");
        delta = LLVMBuildFPExt(k->b, delta, f64, "");
    }
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&y->shape, &numel));
    CgLoop l;
    LLVMValueRef i = cg_loop_begin(k, &l, cg_i64c(k, 0), cg_dim(k, numel), 1);
    LLVMValueRef v;
    if (fp) {
        v = LLVMBuildFAdd(k->b, start, LLVMBuildFMul(k->b, LLVMBuildSIToFP(k->b, i, f64, ""), delta, ""), "");
        if (dt == SRT_F32)
            v = LLVMBuildFPTrunc(k->b, v, ety, "");
    } else {
        LLVMValueRef ii = ety == cg_t_i64(k) ? i : LLVMBuildTrunc(k->b, i, ety, "");
        v = LLVMBuildAdd(k->b, start, LLVMBuildMul(k->b, ii, delta, ""), "");
    }
    cg_out_store(k, 0, i, v, NULL);
    cg_loop_end(k, &l);
    return 0;
}

/* Shape outputs are normally computed by the entry point (IrValue.sym); this covers the rest. */
static int shape(CgKernel *k)
{
    const IrValue *x = cg_kin(k, 0);
    int r = x->shape.rank;
    const IrAttr *e = ir_attr_get(k->node, "end");
    int64_t s = ir_attr_int(k->node, "start"), t = e ? e->i : r;
    s = s < 0 ? s + r : s;
    t = t < 0 ? t + r : t;
    s = s < 0 ? 0 : s > r ? r : s;
    t = t < 0 ? 0 : t > r ? r : t;
    for (int64_t i = s; i < t; i++)
        cg_out_store(k, 0, cg_i64c(k, i - s), cg_dim(k, x->shape.d[i]), NULL);
    return 0;
}

int cg_k_shape(CgKernel *k)
{
    switch (k->node->op) {
    case IR_OP_TRANSPOSE: return transpose(k);
    case IR_OP_CONCAT: return concat_split(k, false);
    case IR_OP_SPLIT: return concat_split(k, true);
    case IR_OP_SLICE: return slice(k);
    case IR_OP_GATHER: return gather(k);
    case IR_OP_CONSTOFSHAPE: return constant_of_shape(k);
    case IR_OP_RANGE: return range(k);
    case IR_OP_SHAPE: return shape(k);
    default: return cg_unsupported(k, "%s", ir_op_name(k->node->op));
    }
}
