/* Element-wise ops: the one expression builder (cg_ew_apply), element-wise group kernels with ONNX broadcasting, copies. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/emit.h"

/* ---- scalar semantics -------------------------------------------------------------------------
 * cg_ew_apply computes one element-wise node on LLVM values: scalars of the operands' element
 * types, or (float ops of one dtype, as in epilogues) vectors of them. It follows the reference
 * kernels of ir/interp_elementwise.c and ir/interp_grad.c. */

static bool is_fp(IrDtype t)
{
    return t == SRT_F32 || t == SRT_F64;
}

static bool is_unsigned(IrDtype t)
{
    return t == SRT_U8 || t == SRT_BOOL;
}

/* Scalar type t, or a vector of it as wide as v. */
static LLVMTypeRef shaped_like(LLVMTypeRef t, LLVMValueRef v)
{
    LLVMTypeRef vt = LLVMTypeOf(v);
    return LLVMGetTypeKind(vt) == LLVMVectorTypeKind ? LLVMVectorType(t, LLVMGetVectorSize(vt)) : t;
}

static const IrValue *in_value(const CgKernel *k, const IrNode *n, int i)
{
    return i < n->nin && n->in[i] >= 0 ? k->g->values[n->in[i]] : NULL;
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

static LLVMValueRef f_mul(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(k->b, a, b, ""); }
static LLVMValueRef f_add(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(k->b, a, b, ""); }
static LLVMValueRef f_sub(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(k->b, a, b, ""); }
static LLVMValueRef fc(LLVMValueRef like, double v) { return cg_fconst(LLVMTypeOf(like), v); }

static LLVMValueRef f_unary(CgKernel *k, const IrNode *n, IrDtype dt, LLVMValueRef *x)
{
    LLVMValueRef v = x[0];
    LLVMTypeRef ty = LLVMTypeOf(v);
    bool fp = is_fp(dt);
    switch (n->op) {
    case IR_OP_RELU:
        if (fp)
            return LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOLT, v, cg_fconst(ty, 0), ""), cg_fconst(ty, 0),
                                   v, "");
        if (is_unsigned(dt))
            return v;
        return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSGT, v, cg_iconst(ty, 0), ""), v, cg_iconst(ty, 0),
                               "");
    case IR_OP_LEAKYRELU:
        return LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOGE, v, cg_fconst(ty, 0), ""), v,
                               LLVMBuildFMul(k->b, v, cg_fconst(ty, ir_attr_float(n, "alpha")), ""), "");
    case IR_OP_SIGMOID: return cg_sigmoid(k, v);
    case IR_OP_TANH: return cg_tanh(k, v);
    case IR_OP_GELU: return !strcmp(ir_attr_str(n, "approximate"), "tanh") ? cg_gelu_tanh(k, v) : cg_gelu(k, v);
    case IR_OP_ERF: return cg_erf(k, v);
    case IR_OP_EXP: return cg_exp(k, v);
    case IR_OP_LOG: return cg_log(k, v);
    case IR_OP_SQRT: return cg_sqrt(k, v);
    case IR_OP_NEG: return fp ? LLVMBuildFNeg(k->b, v, "") : LLVMBuildSub(k->b, cg_iconst(ty, 0), v, "");
    case IR_OP_ABS:
        if (fp)
            return cg_fabs(k, v);
        if (is_unsigned(dt))
            return v;
        return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, v, cg_iconst(ty, 0), ""),
                               LLVMBuildSub(k->b, cg_iconst(ty, 0), v, ""), v, "");
    case IR_OP_CLIP:
        if (x[1])
            v = fp ? cg_fmax(k, v, x[1]) : imax(k, dt, v, x[1]);
        if (n->nin > 2 && x[2])
            v = fp ? cg_fmin(k, v, x[2]) : imin(k, dt, v, x[2]);
        return v;
    default:   /* Identity, Expand: copies */
        return v;
    }
}

/* Cast: float to float rounds; float to int truncates toward zero, saturating at the int64
 * limits (NaN gives 0), then wraps to the target width; anything to bool is x != 0 (NaN true);
 * integers sign- (uint8/bool: zero-) extend or wrap. */
static LLVMValueRef f_cast(CgKernel *k, IrDtype from, IrDtype to, LLVMValueRef v)
{
    LLVMTypeRef tty = shaped_like(cg_t_elem(k, to), v), fty = LLVMTypeOf(v);
    if (to == SRT_BOOL) {
        LLVMValueRef nz = is_fp(from) ? LLVMBuildFCmp(k->b, LLVMRealUNE, v, cg_fconst(fty, 0), "")
                                      : LLVMBuildICmp(k->b, LLVMIntNE, v, cg_iconst(fty, 0), "");
        return LLVMBuildZExt(k->b, nz, tty, "");
    }
    if (is_fp(from) && is_fp(to))
        return from == to ? v : (to == SRT_F32 ? LLVMBuildFPTrunc(k->b, v, tty, "") : LLVMBuildFPExt(k->b, v, tty, ""));
    if (is_fp(from)) {
        LLVMTypeRef tys[2] = {shaped_like(cg_t_i64(k), v), fty};
        LLVMValueRef i = cg_intrinsic(k, "llvm.fptosi.sat", tys, 2, &v, 1);
        return to == SRT_I64 ? i : LLVMBuildTrunc(k->b, i, tty, "");
    }
    if (is_fp(to))
        return is_unsigned(from) ? LLVMBuildUIToFP(k->b, v, tty, "") : LLVMBuildSIToFP(k->b, v, tty, "");
    LLVMTypeRef fs = LLVMGetTypeKind(fty) == LLVMVectorTypeKind ? LLVMGetElementType(fty) : fty;
    unsigned fw = LLVMGetIntTypeWidth(fs), tw = LLVMGetIntTypeWidth(cg_t_elem(k, to));
    if (fw == tw)
        return v;
    if (fw > tw)
        return LLVMBuildTrunc(k->b, v, tty, "");
    return is_unsigned(from) ? LLVMBuildZExt(k->b, v, tty, "") : LLVMBuildSExt(k->b, v, tty, "");
}

/* Quantize (ir/quant.c ir_requant): float32 x * (1/scale), rounded half to even, clamped (NaN:
 * the low end) and offset by the zero point, as uint8. */
static LLVMValueRef f_quantize(CgKernel *k, const IrNode *n, LLVMValueRef x)
{
    float inv = 1.0f / (float)ir_attr_float(n, "scale");
    int64_t zp = ir_attr_int(n, "zero_point"), qmax = ir_attr_int(n, "qmax");
    LLVMTypeRef fty = LLVMTypeOf(x);
    LLVMValueRef t = LLVMBuildFMul(k->b, x, cg_fconst(fty, inv), "");
    t = cg_intrinsic(k, "llvm.roundeven", &fty, 1, &t, 1);
    t = cg_fmaxnum(k, t, cg_fconst(fty, (double)-zp));
    LLVMValueRef args[2] = {t, cg_fconst(fty, (double)(qmax - zp))};
    t = cg_intrinsic(k, "llvm.minnum", &fty, 1, args, 2);
    LLVMValueRef i = LLVMBuildFPToSI(k->b, t, shaped_like(cg_t_i32(k), x), "");
    i = LLVMBuildAdd(k->b, i, cg_iconst(LLVMTypeOf(i), zp), "");
    return LLVMBuildTrunc(k->b, i, shaped_like(cg_t_i8(k), x), "");
}

/* Pow with an integer base (scalars). Integer exponent: exact wrapping power in int64 (a
 * negative exponent gives 1/base^-e truncated: 0 unless |base| == 1; 0^negative gives 0 and is
 * a run-time fault, as in the interpreter), then wrapped to the base's width. Float exponent:
 * pow in double, converted with saturation to the base's type. */
static LLVMValueRef int_pow(CgKernel *k, const IrNode *n, IrDtype bt, IrDtype et, LLVMValueRef a, LLVMValueRef b)
{
    LLVMTypeRef i64 = cg_t_i64(k), rty = LLVMTypeOf(a);
    if (is_fp(et)) {
        LLVMTypeRef f64 = cg_t_f64(k);
        LLVMValueRef af = is_unsigned(bt) ? LLVMBuildUIToFP(k->b, a, f64, "") : LLVMBuildSIToFP(k->b, a, f64, "");
        LLVMValueRef bf = et == SRT_F64 ? b : LLVMBuildFPExt(k->b, b, f64, "");
        LLVMValueRef r = cg_pow(k, af, bf);
        LLVMTypeRef tys[2] = {rty, f64};
        return cg_intrinsic(k, is_unsigned(bt) ? "llvm.fptoui.sat" : "llvm.fptosi.sat", tys, 2, &r, 1);
    }
    LLVMValueRef base = cg_iext(k, a, i64, is_unsigned(bt));
    LLVMValueRef ex = cg_iext(k, b, i64, is_unsigned(et));
    cg_fault_if(k, n, LLVMBuildAnd(k->b, LLVMBuildICmp(k->b, LLVMIntEQ, base, cg_i64c(k, 0), ""),
                                   LLVMBuildICmp(k->b, LLVMIntSLT, ex, cg_i64c(k, 0), ""), ""),
                "integer 0 raised to a negative power");
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

static LLVMValueRef f_pow(CgKernel *k, const IrNode *n, IrDtype dt, LLVMValueRef a, LLVMValueRef b)
{
    const IrValue *ev = in_value(k, n, 1);
    IrDtype et = ev->dtype;
    if (!is_fp(dt))
        return int_pow(k, n, dt, et, a, b);
    LLVMTypeRef ty = LLVMTypeOf(a);
    switch (pow_special(ev)) {
    case 1: return a;
    case 2: return LLVMBuildFMul(k->b, a, a, "");
    case 3: return LLVMBuildFMul(k->b, LLVMBuildFMul(k->b, a, a, ""), a, "");
    case -1: return cg_sqrt(k, a);
    default: break;
    }
    if (et != dt) {   /* exponent converted to the base's float type */
        if (is_fp(et))
            b = dt == SRT_F32 ? LLVMBuildFPTrunc(k->b, b, ty, "") : LLVMBuildFPExt(k->b, b, ty, "");
        else
            b = is_unsigned(et) ? LLVMBuildUIToFP(k->b, b, ty, "") : LLVMBuildSIToFP(k->b, b, ty, "");
    }
    return cg_pow(k, a, b);
}

static LLVMValueRef f_binary(CgKernel *k, const IrNode *n, IrDtype dt, LLVMValueRef *x)
{
    LLVMValueRef a = x[0], b = x[1];
    LLVMTypeRef ty = LLVMTypeOf(a);
    bool fp = is_fp(dt), u = is_unsigned(dt);
    switch (n->op) {
    case IR_OP_ADD: return fp ? LLVMBuildFAdd(k->b, a, b, "") : LLVMBuildAdd(k->b, a, b, "");
    case IR_OP_SUB: return fp ? LLVMBuildFSub(k->b, a, b, "") : LLVMBuildSub(k->b, a, b, "");
    case IR_OP_MUL: return fp ? LLVMBuildFMul(k->b, a, b, "") : LLVMBuildMul(k->b, a, b, "");
    case IR_OP_DIV: {
        if (fp)
            return LLVMBuildFDiv(k->b, a, b, "");
        /* No traps in compiled code: x/0 gives 0 and is a run-time fault (the interpreter
         * reports it too), and x/-1 is computed as -x so that the minimum wraps instead of
         * trapping. */
        LLVMValueRef zero = cg_iconst(ty, 0), one = cg_iconst(ty, 1);
        LLVMValueRef bz = LLVMBuildICmp(k->b, LLVMIntEQ, b, zero, "");
        cg_fault_if(k, n, bz, "integer division by zero");
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
    case IR_OP_POW:
        return f_pow(k, n, dt, a, b);
    case IR_OP_MAX:
    case IR_OP_MIN: {
        LLVMValueRef acc = a;
        for (int i = 1; i < n->nin; i++) {
            if (fp)
                acc = n->op == IR_OP_MAX ? cg_fmax(k, acc, x[i]) : cg_fmin(k, acc, x[i]);
            else
                acc = n->op == IR_OP_MAX ? imax(k, dt, acc, x[i]) : imin(k, dt, acc, x[i]);
        }
        return acc;
    }
    case IR_OP_EQUAL:
    case IR_OP_LESS:
    case IR_OP_GREATER: {
        LLVMRealPredicate fpred = n->op == IR_OP_EQUAL ? LLVMRealOEQ : n->op == IR_OP_LESS ? LLVMRealOLT : LLVMRealOGT;
        LLVMIntPredicate ipred = n->op == IR_OP_EQUAL  ? LLVMIntEQ
                                 : n->op == IR_OP_LESS ? (u ? LLVMIntULT : LLVMIntSLT)
                                                       : (u ? LLVMIntUGT : LLVMIntSGT);
        LLVMValueRef c = fp ? LLVMBuildFCmp(k->b, fpred, a, b, "") : LLVMBuildICmp(k->b, ipred, a, b, "");
        return LLVMBuildZExt(k->b, c, shaped_like(cg_t_i8(k), a), "");
    }
    case IR_OP_WHERE: {
        LLVMValueRef c = LLVMBuildICmp(k->b, LLVMIntNE, a, cg_iconst(LLVMTypeOf(a), 0), "");
        return LLVMBuildSelect(k->b, c, x[1], x[2], "");
    }
    default:
        IR_ASSERT(!"not a binary op");
        return NULL;
    }
}

/* GeluGrad: dy * gelu'(x), the erf or the tanh form (ir/interp_grad.c). */
static LLVMValueRef f_gelu_grad(CgKernel *k, const IrNode *n, LLVMValueRef dy, LLVMValueRef x)
{
    const double pi = 3.14159265358979323846;
    LLVMValueRef d;
    if (!strcmp(ir_attr_str(n, "approximate"), "tanh")) {
        /* 0.5(1+t) + 0.5 x (1-t^2) c (1 + 3*0.044715 x^2), t = tanh(c (x + 0.044715 x^3)) */
        double c = sqrt(2.0 / pi);
        LLVMValueRef x2 = f_mul(k, x, x);
        LLVMValueRef u = f_mul(k, fc(x, c), f_add(k, x, f_mul(k, fc(x, 0.044715), f_mul(k, x2, x))));
        LLVMValueRef t = cg_tanh(k, u);
        LLVMValueRef a = f_mul(k, fc(x, 0.5), f_add(k, fc(x, 1.0), t));
        LLVMValueRef b = f_mul(k, f_mul(k, f_mul(k, fc(x, 0.5), x), f_sub(k, fc(x, 1.0), f_mul(k, t, t))),
                              f_mul(k, fc(x, c), f_add(k, fc(x, 1.0), f_mul(k, fc(x, 3.0 * 0.044715), x2))));
        d = f_add(k, a, b);
    } else {
        /* 0.5 (1 + erf(x/sqrt 2)) + x exp(-x^2/2) / sqrt(2 pi) */
        LLVMValueRef a = f_mul(k, fc(x, 0.5), f_add(k, fc(x, 1.0), cg_erf(k, f_mul(k, x, fc(x, 1.0 / sqrt(2.0))))));
        LLVMValueRef e = cg_exp(k, f_mul(k, f_mul(k, x, x), fc(x, -0.5)));
        d = f_add(k, a, f_mul(k, f_mul(k, x, e), fc(x, 1.0 / sqrt(2.0 * pi))));
    }
    return f_mul(k, dy, d);
}

/* BatchNormalization (inference): (x - mean) * (scale / sqrt(var + eps)) + B, per channel. */
static LLVMValueRef f_batchnorm(CgKernel *k, const IrNode *n, LLVMValueRef *x)
{
    LLVMValueRef v = x[0];
    LLVMValueRef inv = LLVMBuildFDiv(k->b, fc(v, 1.0), cg_sqrt(k, f_add(k, x[4], fc(v, ir_attr_float(n, "epsilon")))),
                                     "");
    return cg_fma(k, f_sub(k, v, x[3]), f_mul(k, inv, x[1]), x[2]);
}

LLVMValueRef cg_ew_apply(CgKernel *k, const IrNode *n, LLVMValueRef *x)
{
    const IrValue *x0 = in_value(k, n, 0);
    IrDtype dt = x0 ? x0->dtype : SRT_F32;
    switch (n->op) {
    case IR_OP_CAST:
        return f_cast(k, dt, k->g->values[n->out[0]]->dtype, x[0]);
    case IR_OP_ADD:
    case IR_OP_SUB:
    case IR_OP_MUL:
    case IR_OP_DIV:
    case IR_OP_POW:
    case IR_OP_MAX:
    case IR_OP_MIN:
    case IR_OP_EQUAL:
    case IR_OP_LESS:
    case IR_OP_GREATER:
        return f_binary(k, n, dt, x);
    case IR_OP_WHERE:
        return f_binary(k, n, in_value(k, n, 1)->dtype, x);
    case IR_OP_RELUGRAD:
        return LLVMBuildSelect(k->b, LLVMBuildFCmp(k->b, LLVMRealOGT, x[1], fc(x[1], 0.0), ""), x[0], fc(x[0], 0.0),
                               "");
    case IR_OP_GELUGRAD:
        return f_gelu_grad(k, n, x[0], x[1]);
    case IR_OP_BATCHNORM:
        return f_batchnorm(k, n, x);
    case IR_OP_QUANTIZE:
        return f_quantize(k, n, x[0]);
    default:
        return f_unary(k, n, dt, x);
    }
}

/* ---- element-wise group kernels -------------------------------------------------------------------
 * The group's nodes share one output shape. Every operand (a value one of them reads from
 * outside the group) is lined up with that shape (ir_operand_axis) and broadcast. The output's
 * dims are merged into runs in which every operand either follows the output or is broadcast;
 * dims of size 1 drop out. The last run is the inner, contiguous loop (each operand's inner
 * stride is 1 or 0), which LLVM vectorizes; the runs before it are rows, split across threads.
 * The body evaluates the nodes in order (cg_ew_apply) and stores the values kept outside. */

#define EW_MAX_OPND 64

typedef struct EwOperand {
    const IrValue *v;
    int axis;                             /* output axis of the operand's dim 0 */
    int arg;                              /* index into k->arg */
} EwOperand;

typedef struct Ew {
    const IrShape *shape;                 /* the group's shape */
    int nop;
    EwOperand op[EW_MAX_OPND];
    int nruns;
    IrDim dims[IR_MAX_RANK][IR_MAX_RANK]; /* dims of run r (ndims[r] of them) */
    int ndims[IR_MAX_RANK];
    bool bc[EW_MAX_OPND][IR_MAX_RANK];    /* operand i broadcast along run r */
} Ew;

/* Is input i of n an element-wise operand (Expand's shape input is not)? */
static bool is_operand(const IrNode *n, int i)
{
    return i < n->nin && n->in[i] >= 0 && !(n->op == IR_OP_EXPAND && i == 1);
}

static int arg_of(const CgKernel *k, int v)
{
    for (int a = 0; a < k->grp->nargs; a++)
        if (k->grp->args[a] == v)
            return a;
    return -1;
}

static bool in_group(const CgKernel *k, int v)
{
    const IrValue *x = k->g->values[v];
    if (x->role != IR_ROLE_ACT)
        return false;
    for (int i = 0; i < k->grp->nnodes; i++)
        if (k->grp->nodes[i] == x->producer)
            return true;
    return false;
}

/* Operand index of (v, axis), added on first use; -1 when there are too many. */
static int add_operand(CgKernel *k, Ew *e, int v, int axis)
{
    for (int i = 0; i < e->nop; i++)
        if (e->op[i].v->id == v && e->op[i].axis == axis)
            return i;
    if (e->nop == EW_MAX_OPND)
        return -1;
    EwOperand *o = &e->op[e->nop];
    o->v = k->g->values[v];
    o->axis = axis;
    o->arg = arg_of(k, v);
    IR_ASSERT(o->arg >= 0);
    return e->nop++;
}

static bool dim_is_one(IrDim d)
{
    return d.a == 0 && d.b == 1;
}

static void make_runs(Ew *e)
{
    const IrShape *os = e->shape;
    e->nruns = 0;
    for (int r = 0; r < os->rank; r++) {
        IrDim od = os->d[r];
        if (dim_is_one(od))
            continue;
        bool f[EW_MAX_OPND];
        for (int i = 0; i < e->nop; i++) {
            const IrShape *s = &e->op[i].v->shape;
            int ir = r - e->op[i].axis;
            f[i] = ir < 0 || ir >= s->rank || dim_is_one(s->d[ir]);
        }
        bool same = e->nruns > 0;
        for (int i = 0; same && i < e->nop; i++)
            same = e->bc[i][e->nruns - 1] == f[i];
        if (!same) {
            for (int i = 0; i < e->nop; i++)
                e->bc[i][e->nruns] = f[i];
            e->ndims[e->nruns] = 0;
            e->nruns++;
        }
        int g = e->nruns - 1;
        e->dims[g][e->ndims[g]++] = od;
    }
    if (e->nruns == 0) {   /* a single element */
        e->nruns = 1;
        e->ndims[0] = 1;
        e->dims[0][0] = ir_dim_const(1);
        for (int i = 0; i < e->nop; i++)
            e->bc[i][0] = true;
    }
}

static LLVMValueRef run_size(CgKernel *k, const Ew *e, int r)
{
    return cg_dims_prod(k, e->dims[r], 0, e->ndims[r]);
}

/* The element at flat position obase + j: evaluate the nodes, store what the group keeps. */
static void ew_body(CgKernel *k, const Ew *e, const int *opnd, LLVMValueRef *ibase, LLVMValueRef obase, LLVMValueRef j,
                    LLVMValueRef *hoisted)
{
    const CgGroup *gr = k->grp;
    int last = e->nruns - 1;
    LLVMValueRef val[EW_MAX_OPND];
    for (int i = 0; i < e->nop; i++) {
        const EwOperand *o = &e->op[i];
        val[i] = e->bc[i][last] ? hoisted[i]
                                : cg_load(k, cg_t_elem(k, o->v->dtype), k->arg[o->arg], cg_add(k, ibase[i], j),
                                          cg_align_of(o->v->dtype));
    }
    /* member outputs by position in the group */
    LLVMValueRef *res = srt_calloc((size_t)gr->nnodes + 1, sizeof *res);
    IR_ASSERT(res);
    int slot = 0;
    for (int m = 0; m < gr->nnodes; m++) {
        const IrNode *n = k->g->nodes[gr->nodes[m]];
        LLVMValueRef x[64] = {0};
        IR_ASSERT(n->nin <= 64);
        for (int i = 0; i < n->nin; i++) {
            int v = n->in[i];
            if (!is_operand(n, i))
                continue;
            if (in_group(k, v)) {
                int p = k->g->values[v]->producer;
                for (int q = 0; q < m; q++)
                    if (gr->nodes[q] == p)
                        x[i] = res[q];
                IR_ASSERT(x[i]);
            } else {
                x[i] = val[opnd[slot]];
            }
            slot++;
        }
        res[m] = cg_ew_apply(k, n, x);
        int a = arg_of(k, n->out[0]);
        if (a >= gr->nin) {
            const IrValue *y = k->g->values[n->out[0]];
            cg_store(k, res[m], k->arg[a], cg_add(k, obase, j), cg_align_of(y->dtype));
        }
    }
    free(res);
}

int cg_k_elementwise(CgKernel *k)
{
    const CgGroup *gr = k->grp;
    const IrGraph *g = k->g;
    Ew e;
    memset(&e, 0, sizeof e);
    e.shape = &g->values[g->nodes[gr->nodes[gr->nnodes - 1]]->out[0]]->shape;
    /* operand slots in (node, input) order */
    int nslots = 0;
    for (int m = 0; m < gr->nnodes; m++)
        nslots += g->nodes[gr->nodes[m]]->nin;
    int *opnd = srt_calloc((size_t)nslots + 1, sizeof *opnd);
    IR_ASSERT(opnd);
    int slot = 0;
    for (int m = 0; m < gr->nnodes; m++) {
        const IrNode *n = g->nodes[gr->nodes[m]];
        const IrValue *y = g->values[n->out[0]];
        IR_ASSERT(ir_shape_eq(&y->shape, e.shape));
        for (int i = 0; i < n->nin; i++) {
            const IrValue *x = in_value(k, n, i);
            if (!cg_t_elem(k, y->dtype) || (x && !cg_t_elem(k, x->dtype))) {
                free(opnd);
                k->node = n;
                return cg_unsupported(k, "dtype %s", srt_dtype_name(x && !cg_t_elem(k, x->dtype) ? x->dtype : y->dtype));
            }
            if (!is_operand(n, i))
                continue;
            if (!in_group(k, x->id)) {
                opnd[slot] = add_operand(k, &e, x->id, ir_operand_axis(g, n, i, e.shape->rank));
                if (opnd[slot] < 0) {
                    free(opnd);
                    k->node = n;
                    return cg_unsupported(k, "an element-wise group with more than %d operands", EW_MAX_OPND);
                }
            }
            slot++;
        }
        switch (n->op) {
        case IR_OP_LEAKYRELU:
        case IR_OP_SIGMOID:
        case IR_OP_TANH:
        case IR_OP_GELU:
        case IR_OP_ERF:
        case IR_OP_EXP:
        case IR_OP_LOG:
        case IR_OP_SQRT:
        case IR_OP_RELUGRAD:
        case IR_OP_GELUGRAD:
        case IR_OP_BATCHNORM:
            if (!is_fp(y->dtype)) {
                free(opnd);
                k->node = n;
                return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(y->dtype));
            }
            break;
        default:
            break;
        }
    }
    make_runs(&e);
    int last = e.nruns - 1;
    LLVMValueRef rows = cg_i64c(k, 1);
    for (int r = 0; r < last; r++)
        rows = cg_mul(k, rows, run_size(k, &e, r));
    LLVMValueRef inner = run_size(k, &e, last);
    CgPar p;
    if (e.nruns == 1)
        cg_par_begin(k, &p, inner, cg_i64c(k, CG_PAR_WORK), 0, NULL);
    else
        cg_par_begin(k, &p, rows, cg_grain(k, inner, CG_PAR_WORK), 0, NULL);
    /* sizes and strides, computed inside the body */
    LLVMValueRef size[IR_MAX_RANK], stride[EW_MAX_OPND][IR_MAX_RANK];
    for (int r = 0; r < e.nruns; r++)
        size[r] = run_size(k, &e, r);
    for (int i = 0; i < e.nop; i++) {
        LLVMValueRef s = cg_i64c(k, 1);
        for (int r = e.nruns - 1; r >= 0; r--) {
            stride[i][r] = e.bc[i][r] ? cg_i64c(k, 0) : s;
            if (!e.bc[i][r])
                s = cg_mul(k, s, size[r]);
        }
    }
    LLVMValueRef ib[EW_MAX_OPND], hoisted[EW_MAX_OPND], obase, j0, j1;
    CgLoop rl;
    bool rowloop = e.nruns > 1;
    for (int i = 0; i < e.nop; i++)
        ib[i] = cg_i64c(k, 0);
    if (rowloop) {
        LLVMValueRef r = cg_loop_begin(k, &rl, p.begin, p.end, 1);
        LLVMValueRef rem = r;
        for (int q = last - 1; q >= 0; q--) {
            LLVMValueRef idx = q > 0 ? LLVMBuildURem(k->b, rem, size[q], "") : rem;
            if (q > 0)
                rem = LLVMBuildUDiv(k->b, rem, size[q], "");
            for (int i = 0; i < e.nop; i++)
                if (!e.bc[i][q])
                    ib[i] = cg_add(k, ib[i], cg_mul(k, idx, stride[i][q]));
        }
        obase = cg_mul(k, r, size[last]);
        j0 = cg_i64c(k, 0);
        j1 = size[last];
    } else {
        obase = cg_i64c(k, 0);
        j0 = p.begin;
        j1 = p.end;
    }
    /* loop-invariant operands (broadcast along the inner run): loaded once per row */
    for (int i = 0; i < e.nop; i++)
        hoisted[i] = e.bc[i][last] ? cg_load(k, cg_t_elem(k, e.op[i].v->dtype), k->arg[e.op[i].arg], ib[i],
                                             cg_align_of(e.op[i].v->dtype))
                                   : NULL;
    CgLoop l;
    LLVMValueRef j = cg_loop_begin(k, &l, j0, j1, 1);
    ew_body(k, &e, opnd, ib, obase, j, hoisted);
    cg_loop_end(k, &l);
    if (rowloop)
        cg_loop_end(k, &rl);
    cg_par_end(k, &p);
    free(opnd);
    return 0;
}

/* ---- copies -------------------------------------------------------------------------------------- */

/* A view op that has to copy (its output has a home of its own), and inference Dropout (a copy
 * and, when asked for, an all-true mask). */
int cg_k_copy(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *y = cg_kout(k, 0);
    if (y && k->out[0]) {
        IrDim numel;
        IR_ASSERT(ir_shape_numel(&y->shape, &numel));
        cg_copy(k, cg_out_ptr(k, 0), cg_i64c(k, 0), k->in[0], cg_i64c(k, 0), cg_dim(k, numel),
                srt_dtype_size(y->dtype));
    }
    const IrValue *mask = n->op == IR_OP_DROPOUT ? cg_kout(k, 1) : NULL;
    if (mask && k->out[1]) {
        IrDim numel;
        IR_ASSERT(ir_shape_numel(&mask->shape, &numel));
        LLVMBuildMemSet(k->b, cg_out_ptr(k, 1), LLVMConstInt(cg_t_i8(k), 1, 0),
                        cg_mul(k, cg_dim(k, numel), cg_i64c(k, (int64_t)srt_dtype_size(mask->dtype))), 1);
    }
    return 0;
}
