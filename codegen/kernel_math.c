/* Float math for kernels in LLVM IR: intrinsics, and vectorizable float32 exp/tanh/erf/gelu polynomials. */
#include <string.h>

#include "codegen/emit.h"

/* Polynomial coefficients below were fitted for sinter (least squares on relative error in
 * double precision, see the comment at each table); the range reductions are textbook. */

static LLVMTypeRef scalar_type(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetElementType(t) : t;
}

static bool is_f32(LLVMValueRef v)
{
    return LLVMGetTypeKind(scalar_type(v)) == LLVMFloatTypeKind;
}

static LLVMValueRef intr1(const CgKernel *k, const char *name, LLVMValueRef x)
{
    LLVMTypeRef t = LLVMTypeOf(x);
    return cg_intrinsic(k, name, &t, 1, &x, 1);
}

static LLVMValueRef intr2(const CgKernel *k, const char *name, LLVMValueRef x, LLVMValueRef y)
{
    LLVMTypeRef t = LLVMTypeOf(x);
    LLVMValueRef a[2] = {x, y};
    return cg_intrinsic(k, name, &t, 1, a, 2);
}

static LLVMValueRef fc(LLVMValueRef like, double v)
{
    return cg_fconst(LLVMTypeOf(like), v);
}

static LLVMValueRef fadd(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(k->b, a, b, ""); }
static LLVMValueRef fsub(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(k->b, a, b, ""); }
static LLVMValueRef fmul(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(k->b, a, b, ""); }
static LLVMValueRef fdiv(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFDiv(k->b, a, b, ""); }

static LLVMValueRef fcmp(const CgKernel *k, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFCmp(k->b, p, a, b, "");
}

static LLVMValueRef sel(const CgKernel *k, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(k->b, c, a, b, "");
}

LLVMValueRef cg_fma(const CgKernel *k, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    /* fmuladd: fused where the target has FMA, multiply + add elsewhere (never a libcall) */
    LLVMTypeRef t = LLVMTypeOf(a);
    LLVMValueRef args[3] = {a, b, c};
    return cg_intrinsic(k, "llvm.fmuladd", &t, 1, args, 3);
}

LLVMValueRef cg_fmax(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return intr2(k, "llvm.maximum", a, b); }
LLVMValueRef cg_fmin(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return intr2(k, "llvm.minimum", a, b); }
LLVMValueRef cg_fmaxnum(const CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return intr2(k, "llvm.maxnum", a, b); }
LLVMValueRef cg_fabs(const CgKernel *k, LLVMValueRef x) { return intr1(k, "llvm.fabs", x); }
LLVMValueRef cg_sqrt(const CgKernel *k, LLVMValueRef x) { return intr1(k, "llvm.sqrt", x); }
LLVMValueRef cg_log(const CgKernel *k, LLVMValueRef x) { return intr1(k, "llvm.log", x); }
LLVMValueRef cg_pow(const CgKernel *k, LLVMValueRef x, LLVMValueRef y) { return intr2(k, "llvm.pow", x, y); }

/* Horner: c[0] + t*(c[1] + t*(... c[n-1])) */
static LLVMValueRef horner(const CgKernel *k, LLVMValueRef t, const double *c, int n)
{
    LLVMValueRef r = fc(t, c[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        r = cg_fma(k, r, t, fc(t, c[i]));
    return r;
}

/* 2^e for an integer-valued float e in [-126, 127]: built from the exponent bits. */
static LLVMValueRef pow2i(const CgKernel *k, LLVMValueRef e)
{
    LLVMTypeRef ft = LLVMTypeOf(e);
    LLVMTypeRef it = LLVMGetTypeKind(ft) == LLVMVectorTypeKind
                         ? cg_t_vec(cg_t_i32(k), (int)LLVMGetVectorSize(ft))
                         : cg_t_i32(k);
    LLVMValueRef i = LLVMBuildFPToSI(k->b, e, it, "");
    i = LLVMBuildAdd(k->b, i, cg_iconst(it, 127), "");
    i = LLVMBuildShl(k->b, i, cg_iconst(it, 23), "");
    return LLVMBuildBitCast(k->b, i, ft, "");
}

/* float32 exp: n = round(x/ln2), r = x - n*ln2 (two-part ln2), e^r by its degree-7 Taylor
 * polynomial (|r| <= 0.347: error < 1e-8), times 2^n applied in two halves so that results
 * down to the subnormal range and up to overflow come out right. */
static LLVMValueRef exp_f32(const CgKernel *k, LLVMValueRef x)
{
    static const double taylor[8] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040};
    LLVMValueRef xc = cg_fmaxnum(k, x, fc(x, -104.0));
    xc = intr2(k, "llvm.minnum", xc, fc(x, 89.0));
    LLVMValueRef n = intr1(k, "llvm.rint", fmul(k, xc, fc(x, 1.44269504088896341)));
    LLVMValueRef r = cg_fma(k, n, fc(x, -0.693359375), xc);
    r = cg_fma(k, n, fc(x, 2.12194440054690583e-4), r);
    LLVMValueRef p = horner(k, r, taylor, 8);
    /* n in [-150, 129]: split into halves within the normal exponent range */
    LLVMValueRef h = intr1(k, "llvm.floor", fmul(k, n, fc(x, 0.5)));
    LLVMValueRef res = fmul(k, fmul(k, p, pow2i(k, h)), pow2i(k, fsub(k, n, h)));
    /* NaN stays NaN (the clamps above dropped it) */
    return sel(k, fcmp(k, LLVMRealUNO, x, x), x, res);
}

LLVMValueRef cg_exp(const CgKernel *k, LLVMValueRef x)
{
    return is_f32(x) ? exp_f32(k, x) : intr1(k, "llvm.exp", x);
}

LLVMValueRef cg_sigmoid(const CgKernel *k, LLVMValueRef x)
{
    /* 1/(1+e^-x): relative error stays small for all x (no cancellation) */
    LLVMValueRef e = cg_exp(k, LLVMBuildFNeg(k->b, x, ""));
    return fdiv(k, fc(x, 1.0), fadd(k, fc(x, 1.0), e));
}

/* tanh(x)/x = P(x^2) on |x| < 0.625, degree 5 (fit max rel. error 1.2e-8). */
static const double tanh_small[6] = {0.9999999970948477,   -0.3333327566187574,  0.13331478031618366,
                                     -0.05374898047490072, 0.020680518235988377, -0.0057594565876875545};

LLVMValueRef cg_tanh(const CgKernel *k, LLVMValueRef x)
{
    if (!is_f32(x))
        return cg_libm1(k, "tanh", x);
    LLVMValueRef a = cg_fabs(k, x);
    LLVMValueRef small = fmul(k, x, horner(k, fmul(k, x, x), tanh_small, 6));
    /* |x| >= 0.625: 1 - 2/(e^{2|x|}+1), no cancellation there (result >= 0.55) */
    LLVMValueRef e = cg_exp(k, fmul(k, a, fc(x, 2.0)));
    LLVMValueRef big = fsub(k, fc(x, 1.0), fdiv(k, fc(x, 2.0), fadd(k, e, fc(x, 1.0))));
    big = intr2(k, "llvm.copysign", big, x);
    return sel(k, fcmp(k, LLVMRealOLT, a, fc(x, 0.625)), small, big);
}

/* erf(x)/x = P(x^2) on |x| < 1, degree 6 (fit max rel. error 4e-9). */
static const double erf_small[7] = {1.1283791660950433,    -0.3761262873323339,  0.11283622028436771,
                                    -0.02685550855844382,  0.0051918320859858785, -0.000804336401532893,
                                    7.971016751581739e-05};
/* erfc(z)*exp(z^2) = Q(t), t = 1/(1+z/2), on 1 <= z <= 6, degree 8 (fit max rel. error 4.6e-9). */
static const double erfc_tail[9] = {-2.562756520559684e-05, 0.2826434369930486,   0.2770601492334259,
                                    0.27246256407108843,    0.09878675228959727,  0.2183872887699686,
                                    -0.10719401213225091,   -0.09823363514837158, 0.05639923325902814};

/* erfc(z) for z >= 1 (float32). exp(-z^2) uses the exact residual of z*z when FMA exists. */
static LLVMValueRef erfc_big(const CgKernel *k, LLVMValueRef z)
{
    LLVMValueRef zc = intr2(k, "llvm.minnum", z, fc(z, 6.0));
    LLVMValueRef t = fdiv(k, fc(z, 1.0), cg_fma(k, zc, fc(z, 0.5), fc(z, 1.0)));
    LLVMValueRef q = horner(k, t, erfc_tail, 9);
    LLVMValueRef ze = intr2(k, "llvm.minnum", z, fc(z, 10.0));   /* erfc(10) ~ 2e-45: 0 in float */
    LLVMValueRef h = fmul(k, ze, ze);
    LLVMValueRef e = cg_exp(k, LLVMBuildFNeg(k->b, h, ""));
    if (k->target->fma) {
        LLVMTypeRef ty = LLVMTypeOf(z);
        LLVMValueRef args[3] = {ze, ze, LLVMBuildFNeg(k->b, h, "")};
        LLVMValueRef l = cg_intrinsic(k, "llvm.fma", &ty, 1, args, 3);   /* z*z - h exactly */
        e = cg_fma(k, LLVMBuildFNeg(k->b, e, ""), l, e);                 /* e*(1 - l) */
    }
    /* beyond 10 the result is exactly 0 (so that -inf * erfc gives NaN as in double) */
    return sel(k, fcmp(k, LLVMRealOGT, z, fc(z, 10.0)), fc(z, 0.0), fmul(k, e, q));
}

LLVMValueRef cg_erf(const CgKernel *k, LLVMValueRef x)
{
    if (!is_f32(x))
        return cg_libm1(k, "erf", x);
    LLVMValueRef a = cg_fabs(k, x);
    LLVMValueRef small = fmul(k, x, horner(k, fmul(k, x, x), erf_small, 7));
    LLVMValueRef e = erfc_big(k, intr2(k, "llvm.maxnum", a, fc(x, 1.0)));
    LLVMValueRef big = intr2(k, "llvm.copysign", fsub(k, fc(x, 1.0), e), x);
    return sel(k, fcmp(k, LLVMRealOLT, a, fc(x, 1.0)), small, sel(k, fcmp(k, LLVMRealUNO, x, x), x, big));
}

LLVMValueRef cg_gelu(const CgKernel *k, LLVMValueRef x)
{
    LLVMValueRef half_x = fmul(k, x, fc(x, 0.5));
    if (!is_f32(x)) {
        /* 0.5*x*erfc(-x/sqrt2) keeps precision for negative x */
        LLVMValueRef u = fmul(k, x, fc(x, -0.70710678118654752));
        return fmul(k, half_x, cg_libm1(k, "erfc", u));
    }
    LLVMValueRef u = fmul(k, x, fc(x, 0.70710678118654752));
    LLVMValueRef a = cg_fabs(k, u);
    LLVMValueRef small = fmul(k, half_x, fadd(k, fc(x, 1.0), fmul(k, u, horner(k, fmul(k, u, u), erf_small, 7))));
    LLVMValueRef e = erfc_big(k, intr2(k, "llvm.maxnum", a, fc(x, 1.0)));
    LLVMValueRef pos = fmul(k, half_x, fsub(k, fc(x, 2.0), e));
    LLVMValueRef neg = fmul(k, half_x, e);
    LLVMValueRef big = sel(k, fcmp(k, LLVMRealOGT, u, fc(x, 0.0)), pos, neg);
    return sel(k, fcmp(k, LLVMRealOLT, a, fc(x, 1.0)), small, sel(k, fcmp(k, LLVMRealUNO, x, x), x, big));
}

LLVMValueRef cg_gelu_tanh(const CgKernel *k, LLVMValueRef x)
{
    /* 0.5x(1+tanh(u)) = x*sigmoid(2u), u = sqrt(2/pi)*(x + 0.044715x^3) */
    LLVMValueRef x3 = fmul(k, fmul(k, x, x), x);
    LLVMValueRef u = fmul(k, cg_fma(k, x3, fc(x, 0.044715), x), fc(x, 2.0 * 0.79788456080286536));
    return fmul(k, x, cg_sigmoid(k, u));
}

LLVMValueRef cg_reduce_fadd(const CgKernel *k, LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    LLVMValueRef args[2] = {cg_fconst(LLVMGetElementType(t), -0.0), v};
    return cg_fast(cg_intrinsic(k, "llvm.vector.reduce.fadd", &t, 1, args, 2));
}

LLVMValueRef cg_reduce_fmax(const CgKernel *k, LLVMValueRef v)
{
    return intr1(k, "llvm.vector.reduce.fmaximum", v);
}
