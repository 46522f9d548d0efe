/* Element-wise kernels: unary/binary/variadic ops, Where, Cast, Clip, Expand, with ONNX broadcasting. */
#include <string.h>

#include "codegen/emit.h"

/* ---- the broadcasting loop nest -------------------------------------------------------------------
 * The output's dims are merged into groups in which every input either follows the output
 * (stride > 0) or is broadcast (stride 0); dims of size 1 drop out. The last group is the inner,
 * contiguous loop (each input's inner stride is 1 or 0), which LLVM vectorizes; the groups before
 * it are rows, split across threads. */

#define ELT_MAX_IN 8

typedef struct Elt Elt;
/* Computes the output element from the loaded input elements x[0..nin). */
typedef LLVMValueRef (*EltFn)(CgKernel *k, const Elt *e, LLVMValueRef *x);

struct Elt {
    int nin;
    int which[ELT_MAX_IN];            /* index into k->in of each operand */
    const IrValue *iv[ELT_MAX_IN];
    const IrValue *ov;
    EltFn fn;
    /* op parameters */
    IrOp op;
    IrDtype dt;                       /* operands' dtype (inputs of binary ops share it) */
    double alpha;
    bool has_lo, has_hi;              /* Clip bounds present */
    int pow_const;                    /* Pow: 0 none, else exponent 1, 2, 3 or -1 for 0.5 */
    bool gelu_tanh;
};

typedef struct Groups {
    int ng;
    IrDim dims[IR_MAX_RANK][IR_MAX_RANK];  /* dims of group g (ndims[g] of them) */
    int ndims[IR_MAX_RANK];
    bool bc[ELT_MAX_IN][IR_MAX_RANK];      /* input i broadcast along group g */
} Groups;

static void make_groups(const Elt *e, Groups *gr)
{
    memset(gr, 0, sizeof *gr);
    const IrShape *os = &e->ov->shape;
    for (int r = 0; r < os->rank; r++) {
        IrDim od = os->d[r];
        if (od.a == 0 && od.b == 1)
            continue;
        bool f[ELT_MAX_IN];
        for (int i = 0; i < e->nin; i++) {
            const IrShape *s = &e->iv[i]->shape;
            int ir = r - (os->rank - s->rank);
            f[i] = ir < 0 || (s->d[ir].a == 0 && s->d[ir].b == 1);
        }
        bool same = gr->ng > 0;
        for (int i = 0; same && i < e->nin; i++)
            same = gr->bc[i][gr->ng - 1] == f[i];
        if (!same) {
            for (int i = 0; i < e->nin; i++)
                gr->bc[i][gr->ng] = f[i];
            gr->ng++;
        }
        int g = gr->ng - 1;
        gr->dims[g][gr->ndims[g]++] = od;
    }
    if (gr->ng == 0) {   /* a single element */
        gr->ng = 1;
        gr->ndims[0] = 1;
        gr->dims[0][0] = ir_dim_const(1);
        for (int i = 0; i < e->nin; i++)
            gr->bc[i][0] = true;
    }
}

static LLVMValueRef group_size(CgKernel *k, const Groups *gr, int g)
{
    return cg_dims_prod(k, gr->dims[g], 0, gr->ndims[g]);
}

/* Inner loop over j in [j0, j1): out[obase + j] = fn(in_i[ibase_i + j*unit_i]). */
static void inner_loop(CgKernel *k, const Elt *e, const Groups *gr, LLVMValueRef *ibase, LLVMValueRef obase,
                       LLVMValueRef j0, LLVMValueRef j1)
{
    LLVMValueRef x[ELT_MAX_IN];
    LLVMTypeRef ity[ELT_MAX_IN];
    int last = gr->ng - 1;
    for (int i = 0; i < e->nin; i++) {
        ity[i] = cg_t_elem(k, e->iv[i]->dtype);
        if (gr->bc[i][last])   /* loop-invariant: load once */
            x[i] = cg_load(k, ity[i], k->in[e->which[i]], ibase[i], cg_align_of(e->iv[i]->dtype));
    }
    CgLoop l;
    LLVMValueRef j = cg_loop_begin(k, &l, j0, j1, 1);
    for (int i = 0; i < e->nin; i++)
        if (!gr->bc[i][last])
            x[i] = cg_load(k, ity[i], k->in[e->which[i]], cg_add(k, ibase[i], j), cg_align_of(e->iv[i]->dtype));
    LLVMValueRef y = e->fn(k, e, x);
    cg_store(k, y, k->out[0], cg_add(k, obase, j), cg_align_of(e->ov->dtype));
    cg_loop_end(k, &l);
}

static void emit_elt(CgKernel *k, const Elt *e)
{
    Groups gr;
    make_groups(e, &gr);
    int last = gr.ng - 1;
    CgPar p;
    if (gr.ng == 1) {
        LLVMValueRef total = group_size(k, &gr, 0);
        cg_par_begin(k, &p, total, cg_i64c(k, CG_PAR_WORK), 0, NULL);
        LLVMValueRef ib[ELT_MAX_IN];
        for (int i = 0; i < e->nin; i++)
            ib[i] = cg_i64c(k, 0);
        inner_loop(k, e, &gr, ib, cg_i64c(k, 0), p.begin, p.end);
        cg_par_end(k, &p);
        return;
    }
    LLVMValueRef rows = cg_i64c(k, 1);
    for (int g = 0; g < last; g++)
        rows = cg_mul(k, rows, group_size(k, &gr, g));
    LLVMValueRef inner = group_size(k, &gr, last);
    LLVMValueRef grain = cg_grain(k, inner, CG_PAR_WORK);
    cg_par_begin(k, &p, rows, grain, 0, NULL);
    /* sizes and strides, recomputed inside the body */
    LLVMValueRef size[IR_MAX_RANK], stride[ELT_MAX_IN][IR_MAX_RANK];
    for (int g = 0; g < gr.ng; g++)
        size[g] = group_size(k, &gr, g);
    for (int i = 0; i < e->nin; i++) {
        LLVMValueRef s = cg_i64c(k, 1);
        for (int g = gr.ng - 1; g >= 0; g--) {
            stride[i][g] = gr.bc[i][g] ? cg_i64c(k, 0) : s;
            if (!gr.bc[i][g])
                s = cg_mul(k, s, size[g]);
        }
    }
    CgLoop rl;
    LLVMValueRef r = cg_loop_begin(k, &rl, p.begin, p.end, 1);
    LLVMValueRef ib[ELT_MAX_IN];
    for (int i = 0; i < e->nin; i++)
        ib[i] = cg_i64c(k, 0);
    LLVMValueRef rem = r;
    for (int g = last - 1; g >= 0; g--) {
        LLVMValueRef idx = g > 0 ? LLVMBuildURem(k->b, rem, size[g], "") : rem;
        if (g > 0)
            rem = LLVMBuildUDiv(k->b, rem, size[g], "");
        for (int i = 0; i < e->nin; i++)
            if (!gr.bc[i][g])
                ib[i] = cg_add(k, ib[i], cg_mul(k, idx, stride[i][g]));
    }
    inner_loop(k, e, &gr, ib, cg_mul(k, r, size[last]), cg_i64c(k, 0), size[last]);
    cg_loop_end(k, &rl);
    cg_par_end(k, &p);
}

/* ---- scalar semantics -------------------------------------------------------------------------- */

static bool is_fp(IrDtype t)
{
    return t == SRT_F32 || t == SRT_F64;
}

static bool is_unsigned(IrDtype t)
{
    return t == SRT_U8 || t == SRT_BOOL;
}

static LLVMValueRef imax(CgKernel *k, IrDtype t, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef c = LLVMBuildICmp(k->b, is_unsigned(t) ? LLVMIntUGT : LLVMIntSGT, a, b, "");
    return LLVMBuildSelect(k->b, c, a, b, "");
}

static LLVMValueRef imin(CgKernel *k, IrDtype t, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef c = LLVMBuildICmp(k->b, is_unsigned(t) ? LLVMIntULT : LLVMIntSLT, a, b, "");
    return LLVMBuildSelect(k->b, c, a, b, "");
}

static LLVMValueRef f_unary(CgKernel *k, const Elt *e, LLVMValueRef *x)
{
    LLVMValueRef v = x[0];
    LLVMTypeRef ty = LLVMTypeOf(v);
    bool fp = is_fp(e->dt);
    switch (e->op) {
    case IR_OP_RELU:
        if (fp)
            return LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOLT, v, cg_fconst(ty, 0), ""), cg_fconst(ty, 0),
                                   v, "");
        if (is_unsigned(e->dt))
            return v;
        return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSGT, v, cg_iconst(ty, 0), ""), v, cg_iconst(ty, 0),
                               "");
    case IR_OP_LEAKYRELU:
        return LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOGE, v, cg_fconst(ty, 0), ""), v,
                               LLVMBuildFMul(k->b, v, cg_fconst(ty, e->alpha), ""), "");
    case IR_OP_SIGMOID: return cg_sigmoid(k, v);
    case IR_OP_TANH: return cg_tanh(k, v);
    case IR_OP_GELU: return e->gelu_tanh ? cg_gelu_tanh(k, v) : cg_gelu(k, v);
    case IR_OP_ERF: return cg_erf(k, v);
    case IR_OP_EXP: return cg_exp(k, v);
    case IR_OP_LOG: return cg_log(k, v);
    case IR_OP_SQRT: return cg_sqrt(k, v);
    case IR_OP_NEG: return fp ? LLVMBuildFNeg(k->b, v, "") : LLVMBuildSub(k->b, cg_iconst(ty, 0), v, "");
    case IR_OP_ABS:
        if (fp)
            return cg_fabs(k, v);
        if (is_unsigned(e->dt))
            return v;
        return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, v, cg_iconst(ty, 0), ""),
                               LLVMBuildSub(k->b, cg_iconst(ty, 0), v, ""), v, "");
    case IR_OP_CLIP: {
        int i = 1;
        if (e->has_lo) {
            LLVMValueRef lo = x[i++];
            v = fp ? cg_fmax(k, v, lo) : imax(k, e->dt, v, lo);
        }
        if (e->has_hi) {
            LLVMValueRef hi = x[i++];
            v = fp ? cg_fmin(k, v, hi) : imin(k, e->dt, v, hi);
        }
        return v;
    }
    default:   /* Identity and the other copies */
        return v;
    }
}

/* Cast: float to float rounds; float to int truncates toward zero, saturating at the int64
 * limits (NaN gives 0), then wraps to the target width; anything to bool is x != 0 (NaN true);
 * integers sign- (uint8/bool: zero-) extend or wrap. */
static LLVMValueRef f_cast(CgKernel *k, const Elt *e, LLVMValueRef *x)
{
    LLVMValueRef v = x[0];
    IrDtype from = e->dt, to = e->ov->dtype;
    LLVMTypeRef tty = cg_t_elem(k, to), fty = LLVMTypeOf(v);
    if (to == SRT_BOOL) {
        LLVMValueRef nz = is_fp(from) ? LLVMBuildFCmp(k->b, LLVMRealUNE, v, cg_fconst(fty, 0), "")
                                      : LLVMBuildICmp(k->b, LLVMIntNE, v, cg_iconst(fty, 0), "");
        return LLVMBuildZExt(k->b, nz, tty, "");
    }
    if (is_fp(from) && is_fp(to))
        return from == to ? v : (to == SRT_F32 ? LLVMBuildFPTrunc(k->b, v, tty, "") : LLVMBuildFPExt(k->b, v, tty, ""));
    if (is_fp(from)) {
        LLVMTypeRef tys[2] = {cg_t_i64(k), fty};
        LLVMValueRef i = cg_intrinsic(k, "llvm.fptosi.sat", tys, 2, &v, 1);
        return to == SRT_I64 ? i : LLVMBuildTrunc(k->b, i, tty, "");
    }
    if (is_fp(to))
        return is_unsigned(from) ? LLVMBuildUIToFP(k->b, v, tty, "") : LLVMBuildSIToFP(k->b, v, tty, "");
    unsigned fw = LLVMGetIntTypeWidth(fty), tw = LLVMGetIntTypeWidth(tty);
    if (fw == tw)
        return v;
    if (fw > tw)
        return LLVMBuildTrunc(k->b, v, tty, "");
    return is_unsigned(from) ? LLVMBuildZExt(k->b, v, tty, "") : LLVMBuildSExt(k->b, v, tty, "");
}

/* Pow with an integer base. Integer exponent: exact wrapping power in int64 (a negative
 * exponent gives 1/base^-e truncated: 0 unless |base| == 1; 0^negative, an error in the
 * interpreter, gives 0), then wrapped to the base's width. Float exponent: pow in double,
 * converted with saturation to the base's type. */
static LLVMValueRef int_pow(CgKernel *k, const Elt *e, LLVMValueRef a, LLVMValueRef b)
{
    IrDtype bt = e->dt, et = e->iv[1]->dtype;
    LLVMTypeRef i64 = cg_t_i64(k), rty = LLVMTypeOf(a);
    if (is_fp(et)) {
        LLVMTypeRef f64 = cg_t_f64(k);
        LLVMValueRef af = is_unsigned(bt) ? LLVMBuildUIToFP(k->b, a, f64, "") : LLVMBuildSIToFP(k->b, a, f64, "");
        LLVMValueRef bf = et == SRT_F64 ? b : LLVMBuildFPExt(k->b, b, f64, "");
        LLVMValueRef r = cg_pow(k, af, bf);
        if (is_unsigned(bt)) {
            LLVMTypeRef tys[2] = {rty, f64};
            return cg_intrinsic(k, "llvm.fptoui.sat", tys, 2, &r, 1);
        }
        LLVMTypeRef tys[2] = {rty, f64};
        return cg_intrinsic(k, "llvm.fptosi.sat", tys, 2, &r, 1);
    }
    LLVMValueRef base = cg_iext(k, a, i64, is_unsigned(bt));
    LLVMValueRef ex = cg_iext(k, b, i64, is_unsigned(et));
    /* square-and-multiply over the 63 magnitude bits (no branches) */
    CgLoop l;
    LLVMValueRef bit = cg_loop_begin(k, &l, cg_i64c(k, 0), cg_i64c(k, 63), 1);
    LLVMValueRef r = cg_loop_carry(k, &l, cg_i64c(k, 1));
    LLVMValueRef bp = cg_loop_carry(k, &l, base);
    LLVMValueRef set = LLVMBuildTrunc(k->b, LLVMBuildLShr(k->b, ex, bit, ""), cg_t_i1(k), "");
    cg_loop_set(&l, 0, LLVMBuildSelect(k->b, set, LLVMBuildMul(k->b, r, bp, ""), r, ""));
    cg_loop_set(&l, 1, LLVMBuildMul(k->b, bp, bp, ""));
    cg_loop_end(k, &l);
    LLVMValueRef pos = l.phi[0];
    /* negative exponent: 1 for base 1, +-1 for base -1, else 0 */
    LLVMValueRef odd = LLVMBuildTrunc(k->b, ex, cg_t_i1(k), "");
    LLVMValueRef m1 = LLVMBuildSelect(k->b, odd, cg_i64c(k, -1), cg_i64c(k, 1), "");
    LLVMValueRef neg = LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntEQ, base, cg_i64c(k, 1), ""), cg_i64c(k, 1),
                                       LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntEQ, base, cg_i64c(k, -1), ""),
                                                       m1, cg_i64c(k, 0), ""), "");
    LLVMValueRef res = LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, ex, cg_i64c(k, 0), ""), neg, pos, "");
    return rty == i64 ? res : LLVMBuildTrunc(k->b, res, rty, "");
}

static LLVMValueRef f_binary(CgKernel *k, const Elt *e, LLVMValueRef *x)
{
    LLVMValueRef a = x[0], b = x[1];
    LLVMTypeRef ty = LLVMTypeOf(a);
    bool fp = is_fp(e->dt), u = is_unsigned(e->dt);
    LLVMTypeRef bty = cg_t_i8(k);
    switch (e->op) {
    case IR_OP_ADD: return fp ? LLVMBuildFAdd(k->b, a, b, "") : LLVMBuildAdd(k->b, a, b, "");
    case IR_OP_SUB: return fp ? LLVMBuildFSub(k->b, a, b, "") : LLVMBuildSub(k->b, a, b, "");
    case IR_OP_MUL: return fp ? LLVMBuildFMul(k->b, a, b, "") : LLVMBuildMul(k->b, a, b, "");
    case IR_OP_DIV: {
        if (fp)
            return LLVMBuildFDiv(k->b, a, b, "");
        /* No traps in compiled code: x/0 gives 0 (the interpreter reports an error), and x/-1
         * is computed as -x so that the minimum wraps instead of trapping. */
        LLVMValueRef zero = cg_iconst(ty, 0), one = cg_iconst(ty, 1);
        LLVMValueRef bz = LLVMBuildICmp(k->b, LLVMIntEQ, b, zero, "");
        if (u) {
            LLVMValueRef q = LLVMBuildUDiv(k->b, a, LLVMBuildSelect(k->b, bz, one, b, ""), "");
            return LLVMBuildSelect(k->b, bz, zero, q, "");
        }
        LLVMValueRef bm1 = LLVMBuildICmp(k->b, LLVMIntEQ, b, cg_iconst(ty, -1), "");
        LLVMValueRef safe = LLVMBuildSelect(k->b, LLVMBuildOr(k->b, bz, bm1, ""), one, b, "");
        LLVMValueRef q = LLVMBuildSDiv(k->b, a, safe, "");
        q = LLVMBuildSelect(k->b, bm1, LLVMBuildSub(k->b, zero, a, ""), q, "");
        return LLVMBuildSelect(k->b, bz, zero, q, "");
    }
    case IR_OP_POW: {
        IrDtype et = e->iv[1]->dtype;
        if (!fp)
            return int_pow(k, e, a, b);
        if (et != e->dt) {   /* exponent converted to the base's float type */
            if (is_fp(et))
                b = e->dt == SRT_F32 ? LLVMBuildFPTrunc(k->b, b, ty, "") : LLVMBuildFPExt(k->b, b, ty, "");
            else
                b = is_unsigned(et) ? LLVMBuildUIToFP(k->b, b, ty, "") : LLVMBuildSIToFP(k->b, b, ty, "");
        }
        switch (e->pow_const) {
        case 1: return a;
        case 2: return LLVMBuildFMul(k->b, a, a, "");
        case 3: return LLVMBuildFMul(k->b, LLVMBuildFMul(k->b, a, a, ""), a, "");
        case -1: return cg_sqrt(k, a);
        default: return cg_pow(k, a, b);
        }
    }
    case IR_OP_MAX:
    case IR_OP_MIN: {
        LLVMValueRef acc = a;
        for (int i = 1; i < e->nin; i++) {
            if (fp)
                acc = e->op == IR_OP_MAX ? cg_fmax(k, acc, x[i]) : cg_fmin(k, acc, x[i]);
            else
                acc = e->op == IR_OP_MAX ? imax(k, e->dt, acc, x[i]) : imin(k, e->dt, acc, x[i]);
        }
        return acc;
    }
    case IR_OP_EQUAL:
    case IR_OP_LESS:
    case IR_OP_GREATER: {
        LLVMRealPredicate fpred = e->op == IR_OP_EQUAL ? LLVMRealOEQ : e->op == IR_OP_LESS ? LLVMRealOLT : LLVMRealOGT;
        LLVMIntPredicate ipred = e->op == IR_OP_EQUAL  ? LLVMIntEQ
                                 : e->op == IR_OP_LESS ? (u ? LLVMIntULT : LLVMIntSLT)
                                                       : (u ? LLVMIntUGT : LLVMIntSGT);
        LLVMValueRef c = fp ? LLVMBuildFCmp(k->b, fpred, a, b, "") : LLVMBuildICmp(k->b, ipred, a, b, "");
        return LLVMBuildZExt(k->b, c, bty, "");
    }
    case IR_OP_WHERE: {
        LLVMValueRef c = LLVMBuildICmp(k->b, LLVMIntNE, a, cg_iconst(LLVMTypeOf(a), 0), "");
        return LLVMBuildSelect(k->b, c, x[1], x[2], "");
    }
    default:   /* Expand */
        return a;
    }
}

/* ---- op entry points ----------------------------------------------------------------------------- */

static void add_operand(CgKernel *k, Elt *e, int idx)
{
    IR_ASSERT(e->nin < ELT_MAX_IN);
    e->which[e->nin] = idx;
    e->iv[e->nin] = cg_kin(k, idx);
    e->nin++;
}

/* Flat copy of numel elements from input 0 to output 0 (a view op that must copy). */
static void flat_copy(CgKernel *k)
{
    const IrValue *o = cg_kout(k, 0);
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&o->shape, &numel));
    cg_copy(k, k->out[0], cg_i64c(k, 0), k->in[0], cg_i64c(k, 0), cg_dim(k, numel), srt_dtype_size(o->dtype));
}

static bool float_only(IrOp op)
{
    switch (op) {
    case IR_OP_LEAKYRELU:
    case IR_OP_SIGMOID:
    case IR_OP_TANH:
    case IR_OP_GELU:
    case IR_OP_ERF:
    case IR_OP_EXP:
    case IR_OP_LOG:
    case IR_OP_SQRT:
        return true;
    default:
        return false;
    }
}

int cg_k_unary(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *y = cg_kout(k, 0);
    switch (n->op) {
    case IR_OP_RESHAPE:
    case IR_OP_FLATTEN:
    case IR_OP_SQUEEZE:
    case IR_OP_UNSQUEEZE:
        flat_copy(k);
        return 0;
    default:
        break;
    }
    if (float_only(n->op) && !is_fp(x->dtype))
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(x->dtype));
    if (n->op == IR_OP_DROPOUT) {
        if (y)
            flat_copy(k);
        const IrValue *mask = cg_kout(k, 1);
        if (mask) {
            IrDim numel;
            IR_ASSERT(ir_shape_numel(&mask->shape, &numel));
            LLVMBuildMemSet(k->b, k->out[1], LLVMConstInt(cg_t_i8(k), 1, 0),
                            cg_mul(k, cg_dim(k, numel), cg_i64c(k, (int64_t)srt_dtype_size(mask->dtype))), 1);
        }
        return 0;
    }
    Elt e;
    memset(&e, 0, sizeof e);
    e.op = n->op;
    e.dt = x->dtype;
    e.ov = y;
    e.fn = n->op == IR_OP_CAST ? f_cast : f_unary;
    add_operand(k, &e, 0);
    if (n->op == IR_OP_LEAKYRELU)
        e.alpha = ir_attr_float(n, "alpha");
    if (n->op == IR_OP_GELU) {
        const char *ap = ir_attr_str(n, "approximate");
        e.gelu_tanh = ap && !strcmp(ap, "tanh");
    }
    if (n->op == IR_OP_CLIP) {
        if (cg_kin(k, 1)) {
            e.has_lo = true;
            add_operand(k, &e, 1);
        }
        if (cg_kin(k, 2)) {
            e.has_hi = true;
            add_operand(k, &e, 2);
        }
    }
    emit_elt(k, &e);
    return 0;
}

/* Pow with a constant exponent whose elements are all 1, 2, 3 or 0.5: code for that power. */
static int pow_special(const IrValue *ev)
{
    IrDim numel;
    if (!ev || !ev->data || !ir_shape_numel(&ev->shape, &numel) || numel.a != 0 || numel.b < 1)
        return 0;
    double first = 0;
    for (int64_t i = 0; i < numel.b; i++) {
        double v;
        switch (ev->dtype) {
        case SRT_F32: v = ((const float *)ev->data)[i]; break;
        case SRT_F64: v = ((const double *)ev->data)[i]; break;
        case SRT_I64: v = (double)((const int64_t *)ev->data)[i]; break;
        case SRT_I32: v = ((const int32_t *)ev->data)[i]; break;
        default: return 0;
        }
        if (i == 0)
            first = v;
        else if (v != first)
            return 0;
    }
    return first == 1 ? 1 : first == 2 ? 2 : first == 3 ? 3 : first == 0.5 ? -1 : 0;
}

int cg_k_binary(CgKernel *k)
{
    const IrNode *n = k->node;
    Elt e;
    memset(&e, 0, sizeof e);
    e.op = n->op;
    e.ov = cg_kout(k, 0);
    e.fn = f_binary;
    if (n->op == IR_OP_EXPAND) {
        add_operand(k, &e, 0);
    } else {
        if (n->nin > ELT_MAX_IN)
            return cg_unsupported(k, "%s with more than %d inputs", ir_op_name(n->op), ELT_MAX_IN);
        for (int i = 0; i < n->nin; i++)
            add_operand(k, &e, i);
    }
    e.dt = e.iv[n->op == IR_OP_WHERE ? 1 : 0]->dtype;
    if (n->op == IR_OP_POW && is_fp(e.dt))
        e.pow_const = pow_special(e.iv[1]);
    emit_elt(k, &e);
    return 0;
}
