/* Kernels of the training graph: gradient ops, dropout masks, optimizer updates and the two losses (ReluGrad and GeluGrad are element-wise: kernel_elementwise.c). */
#include <math.h>
#include <string.h>

#include "codegen/emit.h"

/* Every kernel follows the reference kernel of ir/interp_grad.c (or ir/interp_nn.c for the
 * losses) in what it computes; it computes in the tensors' float type (the optimizer updates in
 * double, like the reference, then rounds once per stored value). Loops over contiguous data
 * use explicit vectors of cg_lanes() elements with one masked tail; work splits across threads
 * (srt_parallel_for) only along independent outputs, never inside a sum, so results do not
 * depend on the thread count. Memory is accessed with element alignment throughout (inputs and
 * the gradient buffer may be only element-aligned). */

/* ---- small helpers --------------------------------------------------------------------------- */

static unsigned esize(LLVMTypeRef t)
{
    if (LLVMGetTypeKind(t) == LLVMVectorTypeKind)
        t = LLVMGetElementType(t);
    if (LLVMGetTypeKind(t) == LLVMDoubleTypeKind)
        return 8;
    if (LLVMGetTypeKind(t) == LLVMFloatTypeKind)
        return 4;
    return LLVMGetIntTypeWidth(t) / 8;
}

/* Vector load/store at ptr[idx..idx+w) with element alignment; mask NULL: all lanes. */
static LLVMValueRef vld(CgKernel *k, LLVMTypeRef vty, LLVMValueRef ptr, LLVMValueRef idx, LLVMValueRef mask)
{
    unsigned al = esize(vty);
    return mask ? cg_load_vec_masked(k, vty, ptr, idx, al, mask) : cg_load_vec(k, vty, ptr, idx, al);
}

static void vst(CgKernel *k, LLVMValueRef v, LLVMValueRef ptr, LLVMValueRef idx, LLVMValueRef mask)
{
    unsigned al = esize(LLVMTypeOf(v));
    if (mask)
        cg_store_vec_masked(k, v, ptr, idx, al, mask);
    else
        cg_store_vec(k, v, ptr, idx, al);
}

static LLVMValueRef ld(CgKernel *k, LLVMTypeRef ty, LLVMValueRef ptr, LLVMValueRef idx)
{
    return cg_load(k, ty, ptr, idx, esize(ty));
}

static void st(CgKernel *k, LLVMValueRef v, LLVMValueRef ptr, LLVMValueRef idx)
{
    cg_store(k, v, ptr, idx, esize(LLVMTypeOf(v)));
}

/* v where the mask is on, 0 elsewhere (v itself without a mask). */
static LLVMValueRef on(CgKernel *k, LLVMValueRef mask, LLVMValueRef v)
{
    return mask ? LLVMBuildSelect(k->b, mask, v, LLVMConstNull(LLVMTypeOf(v)), "") : v;
}

static LLVMValueRef f_add(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(k->b, a, b, ""); }
static LLVMValueRef f_sub(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(k->b, a, b, ""); }
static LLVMValueRef f_mul(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(k->b, a, b, ""); }
static LLVMValueRef f_div(CgKernel *k, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFDiv(k->b, a, b, ""); }
static LLVMValueRef fc(LLVMValueRef like, double v) { return cg_fconst(LLVMTypeOf(like), v); }

/* Scalar s as a vector like v (splat), or s itself for a scalar v. */
static LLVMValueRef like(CgKernel *k, LLVMValueRef v, LLVMValueRef s)
{
    if (LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMVectorTypeKind)
        return s;
    return cg_splat(k, s, (int)LLVMGetVectorSize(LLVMTypeOf(v)));
}

/* Convert between float types, scalars or vectors of the same width (cg_fconv: scalars). */
static LLVMValueRef fconv(CgKernel *k, LLVMValueRef v, LLVMTypeRef to)
{
    LLVMTypeRef from = LLVMTypeOf(v);
    if (from == to)
        return v;
    return esize(to) > esize(from) ? LLVMBuildFPExt(k->b, v, to, "") : LLVMBuildFPTrunc(k->b, v, to, "");
}

/* An integer input element (int32/int64 indices or labels) as i64. */
static LLVMValueRef ld_index(CgKernel *k, IrDtype dt, LLVMValueRef ptr, LLVMValueRef idx)
{
    return cg_iext(k, ld(k, cg_t_elem(k, dt), ptr, idx), cg_t_i64(k), false);
}

static LLVMValueRef icmp(CgKernel *k, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildICmp(k->b, p, a, b, "");
}

static LLVMValueRef sel(CgKernel *k, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(k->b, c, a, b, "");
}

static bool const_one(IrDim d)
{
    return d.a == 0 && d.b == 1;
}

/* memset(ptr, 0, count elements of ty) */
static void zero_fill(CgKernel *k, LLVMValueRef ptr, LLVMValueRef count, LLVMTypeRef ty)
{
    LLVMBuildMemSet(k->b, ptr, LLVMConstInt(cg_t_i8(k), 0, 0), cg_mul(k, count, cg_i64c(k, esize(ty))), esize(ty));
}

static bool is_fp(IrDtype t)
{
    return t == SRT_F32 || t == SRT_F64;
}

/* ---- vector loops ---------------------------------------------------------------------------
 * vloop runs body over [begin, end) in steps of w elements: full vectors (mask NULL), then one
 * masked tail (skipped when the length is a known multiple of w). acc[] are loop-carried values
 * the body updates in place (it must keep masked-off lanes out of them, see `on`). */
#define MAX_ACC 8
typedef void (*VBody)(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc);

static void vloop(CgKernel *k, LLVMValueRef begin, LLVMValueRef end, int w, int nacc, LLVMValueRef *acc, VBody body,
                  void *ctx)
{
    IR_ASSERT(nacc <= MAX_ACC);
    LLVMValueRef len = cg_sub(k, end, begin);
    LLVMValueRef rem = LLVMBuildSRem(k->b, len, cg_i64c(k, w), "");
    LLVMValueRef main_end = cg_sub(k, end, rem);
    CgLoop l;
    LLVMValueRef i = cg_loop_begin(k, &l, begin, main_end, w);
    LLVMValueRef cur[MAX_ACC];
    for (int a = 0; a < nacc; a++)
        cur[a] = cg_loop_carry(k, &l, acc[a]);
    body(k, ctx, i, NULL, cur);
    for (int a = 0; a < nacc; a++)
        cg_loop_set(&l, a, cur[a]);
    cg_loop_end(k, &l);
    for (int a = 0; a < nacc; a++)
        acc[a] = l.phi[a];
    if (LLVMIsAConstantInt(rem) && LLVMConstIntGetSExtValue(rem) == 0)
        return;
    body(k, ctx, main_end, cg_lane_mask(k, w, main_end, end), acc);
}

/* Flat loops (dropout masks, optimizer updates): body over [0, numel) split across threads. Scalars computed before
 * the loop go in v[] (captured into the parallel body: inside, v[] holds the body's copies). */
typedef struct Flat {
    LLVMTypeRef ety, vty;     /* element type of the loop and its vector */
    int w;
    int nv;
    LLVMValueRef v[CG_MAX_CAPTURE];
    double c[8];              /* per-op constants */
    int flags;
} Flat;

static void flat_loop(CgKernel *k, Flat *ew, LLVMValueRef numel, VBody body)
{
    CgPar p;
    cg_par_begin(k, &p, numel, cg_i64c(k, CG_PAR_WORK), ew->nv, ew->v);
    LLVMValueRef outer[CG_MAX_CAPTURE];
    for (int i = 0; i < ew->nv; i++) {
        outer[i] = ew->v[i];
        ew->v[i] = p.vals[i];
    }
    vloop(k, p.begin, p.end, ew->w, 0, NULL, body, ew);
    cg_par_end(k, &p);
    for (int i = 0; i < ew->nv; i++)
        ew->v[i] = outer[i];
}

static void flat_init(CgKernel *k, Flat *ew, IrDtype dt)
{
    memset(ew, 0, sizeof *ew);
    ew->ety = cg_t_elem(k, dt);
    ew->w = cg_lanes(k, ew->ety);
    ew->vty = cg_t_vec(ew->ety, ew->w);
}

static LLVMValueRef numel_of(CgKernel *k, const IrValue *v)
{
    return cg_dims_prod(k, v->shape.d, 0, v->shape.rank);
}

/* ---- DropoutMask ----------------------------------------------------------------------------------
 * mask[i] = (mix64(s + i*0x9e3779b97f4a7c15) >> 11) * 2^-53 >= ratio ? 1/(1-ratio) : 0 with
 * s = mix64(seed ^ mix64(step)) (docs/training.md). The comparison is done on the 53-bit
 * integer against ceil(ratio * 2^53), which is exact. */

static LLVMValueRef mix64(CgKernel *k, LLVMValueRef z)
{
    LLVMValueRef c30 = like(k, z, cg_i64c(k, 30)), c27 = like(k, z, cg_i64c(k, 27)), c31 = like(k, z, cg_i64c(k, 31));
    z = LLVMBuildMul(k->b, LLVMBuildXor(k->b, z, LLVMBuildLShr(k->b, z, c30, ""), ""),
                     like(k, z, LLVMConstInt(cg_t_i64(k), 0xbf58476d1ce4e5b9ull, 0)), "");
    z = LLVMBuildMul(k->b, LLVMBuildXor(k->b, z, LLVMBuildLShr(k->b, z, c27, ""), ""),
                     like(k, z, LLVMConstInt(cg_t_i64(k), 0x94d049bb133111ebull, 0)), "");
    return LLVMBuildXor(k->b, z, LLVMBuildLShr(k->b, z, c31, ""), "");
}

static void dropout_body(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc)
{
    Flat *ew = ctx;
    LLVMValueRef lanes[64];
    for (int l = 0; l < ew->w; l++)
        lanes[l] = cg_i64c(k, l);
    LLVMValueRef idx = LLVMBuildAdd(k->b, cg_splat(k, i, ew->w), LLVMConstVector(lanes, (unsigned)ew->w), "");
    LLVMValueRef golden = cg_splat(k, LLVMConstInt(cg_t_i64(k), 0x9e3779b97f4a7c15ull, 0), ew->w);
    LLVMValueRef r = mix64(k, LLVMBuildAdd(k->b, cg_splat(k, ew->v[0], ew->w), LLVMBuildMul(k->b, idx, golden, ""), ""));
    LLVMValueRef u = LLVMBuildLShr(k->b, r, cg_splat(k, cg_i64c(k, 11), ew->w), "");
    LLVMValueRef keep = icmp(k, LLVMIntUGE, u, cg_splat(k, LLVMConstInt(cg_t_i64(k), (uint64_t)ew->c[0], 0), ew->w));
    vst(k, sel(k, keep, cg_fconst(ew->vty, ew->c[1]), cg_fconst(ew->vty, 0.0)), cg_out_ptr(k, 0), i, mask);
}

int cg_k_dropout_mask(CgKernel *k)
{
    const IrValue *y = cg_kout(k, 0);
    double ratio = ir_attr_float(k->node, "ratio");
    uint64_t seed = (uint64_t)ir_attr_int(k->node, "seed");
    Flat ew;
    flat_init(k, &ew, y->dtype);
    ew.c[0] = ceil(ratio * 0x1p53);
    ew.c[1] = y->dtype == SRT_F32 ? (double)(float)(1.0 / (1.0 - ratio)) : 1.0 / (1.0 - ratio);
    LLVMValueRef step = ld(k, cg_t_i64(k), k->in[1], cg_i64c(k, 0));
    ew.v[0] = mix64(k, LLVMBuildXor(k->b, LLVMConstInt(cg_t_i64(k), seed, 0), mix64(k, step), ""));
    ew.nv = 1;
    flat_loop(k, &ew, numel_of(k, y), dropout_body);
    return 0;
}

/* ---- optimizer updates (double arithmetic as in ir/interp_grad.c) ---------------------------------- */

enum { SGD_WD = 1, SGD_BUF = 2, SGD_NESTEROV = 4, ADAM_DECOUPLED = 8 };

/* Loads a vector of the tensor's type as double. */
static LLVMValueRef vld_d(CgKernel *k, Flat *ew, LLVMValueRef ptr, LLVMValueRef i, LLVMValueRef mask)
{
    return fconv(k, vld(k, ew->vty, ptr, i, mask), cg_t_vec(cg_t_f64(k), ew->w));
}

/* Stores a double vector rounded to the tensor's type; returns the stored value as double. */
static LLVMValueRef vst_d(CgKernel *k, Flat *ew, LLVMValueRef v, LLVMValueRef ptr, LLVMValueRef i, LLVMValueRef mask)
{
    LLVMValueRef r = fconv(k, v, ew->vty);
    vst(k, r, ptr, i, mask);
    return fconv(k, r, LLVMTypeOf(v));
}

/* v[0] = lr (double), v[1] = first step (i1); c[0] momentum, c[1] dampening, c[2] weight decay */
static void sgd_body(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc)
{
    Flat *ew = ctx;
    LLVMValueRef p = vld_d(k, ew, k->in[0], i, mask), dv = vld_d(k, ew, k->in[1], i, mask);
    if (ew->flags & SGD_WD)
        dv = f_add(k, dv, f_mul(k, fc(p, ew->c[2]), p));
    if (ew->flags & SGD_BUF) {
        LLVMValueRef buf = vld_d(k, ew, k->in[4], i, mask);
        LLVMValueRef b = f_add(k, f_mul(k, fc(p, ew->c[0]), buf), f_mul(k, fc(p, 1 - ew->c[1]), dv));
        b = sel(k, ew->v[1], dv, b);
        b = vst_d(k, ew, b, cg_out_ptr(k, 1), i, mask);
        dv = (ew->flags & SGD_NESTEROV) ? f_add(k, dv, f_mul(k, fc(p, ew->c[0]), b)) : b;
    }
    vst_d(k, ew, f_sub(k, p, f_mul(k, like(k, p, ew->v[0]), dv)), cg_out_ptr(k, 0), i, mask);
}

/* v[0] = lr, v[1] = step size, v[2] = sqrt(1 - beta2^t), v[3] = 1 - lr*wd (doubles);
 * c[0] beta1, c[1] beta2, c[2] eps, c[3] weight decay */
static void adam_body(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc)
{
    Flat *ew = ctx;
    LLVMValueRef p = vld_d(k, ew, k->in[0], i, mask), g = vld_d(k, ew, k->in[1], i, mask);
    LLVMValueRef m = vld_d(k, ew, k->in[4], i, mask), v = vld_d(k, ew, k->in[5], i, mask);
    if (ew->flags & ADAM_DECOUPLED)
        p = f_mul(k, p, like(k, p, ew->v[3]));
    else if (ew->c[3] != 0)
        g = f_add(k, g, f_mul(k, fc(p, ew->c[3]), p));
    LLVMValueRef m2 = f_add(k, f_mul(k, fc(p, ew->c[0]), m), f_mul(k, fc(p, 1 - ew->c[0]), g));
    LLVMValueRef v2 = f_add(k, f_mul(k, fc(p, ew->c[1]), v), f_mul(k, f_mul(k, fc(p, 1 - ew->c[1]), g), g));
    m2 = vst_d(k, ew, m2, cg_out_ptr(k, 1), i, mask);
    v2 = vst_d(k, ew, v2, cg_out_ptr(k, 2), i, mask);
    LLVMValueRef den = f_add(k, f_div(k, cg_sqrt(k, v2), like(k, p, ew->v[2])), fc(p, ew->c[2]));
    vst_d(k, ew, f_sub(k, p, f_div(k, f_mul(k, like(k, p, ew->v[1]), m2), den)), cg_out_ptr(k, 0), i, mask);
}

int cg_k_update(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *p = cg_kin(k, 0);
    LLVMTypeRef f64 = cg_t_f64(k);
    Flat ew;
    flat_init(k, &ew, p->dtype);
    LLVMValueRef lr = cg_load_as(k, cg_kin(k, 2)->dtype, k->in[2], cg_i64c(k, 0), f64);
    LLVMValueRef step = ld(k, cg_t_i64(k), k->in[3], cg_i64c(k, 0));
    ew.v[ew.nv++] = lr;
    if (n->op == IR_OP_SGDUPDATE) {
        ew.c[0] = ir_attr_float(n, "momentum");
        ew.c[1] = ir_attr_float(n, "dampening");
        ew.c[2] = ir_attr_float(n, "weight_decay");
        ew.flags = (ew.c[2] != 0 ? SGD_WD : 0) | (n->nin > 4 && k->in[4] ? SGD_BUF : 0) |
                   (ir_attr_int(n, "nesterov") ? SGD_NESTEROV : 0);
        ew.v[ew.nv++] = cg_splat(k, icmp(k, LLVMIntEQ, step, cg_i64c(k, 0)), ew.w);
        flat_loop(k, &ew, numel_of(k, p), sgd_body);
        return 0;
    }
    ew.c[0] = ir_attr_float(n, "beta1");
    ew.c[1] = ir_attr_float(n, "beta2");
    ew.c[2] = ir_attr_float(n, "eps");
    ew.c[3] = ir_attr_float(n, "weight_decay");
    ew.flags = ir_attr_int(n, "decoupled") ? ADAM_DECOUPLED : 0;
    LLVMValueRef t = LLVMBuildSIToFP(k->b, cg_add(k, step, cg_i64c(k, 1)), f64, "t");
    LLVMValueRef one = cg_fconst(f64, 1.0);
    LLVMValueRef step_size = f_div(k, lr, f_sub(k, one, cg_libm2(k, "pow", cg_fconst(f64, ew.c[0]), t)));
    LLVMValueRef bc2 = cg_sqrt(k, f_sub(k, one, cg_libm2(k, "pow", cg_fconst(f64, ew.c[1]), t)));
    ew.v[ew.nv++] = step_size;
    ew.v[ew.nv++] = bc2;
    ew.v[ew.nv++] = f_sub(k, one, f_mul(k, lr, cg_fconst(f64, ew.c[3])));
    flat_loop(k, &ew, numel_of(k, p), adam_body);
    return 0;
}

/* ---- ConvGradWeight -------------------------------------------------------------------------------
 * dw[m, c, t] = sum over batch b and output positions o of
 *   x[b, group(m)*C/group + c, o*stride + t*dilation - pad] * dy[b, m, o].
 * A Gemm per (batch, panel of PW output positions): dw[m, kk] += sum_o dy[b, m, o] *
 * col[kk][o], where col is the im2col panel of x (rows kk = (c, t)) packed on the stack (zeros
 * in the padding); both operands run along o, so the Gemm uses its dot-product tiles. Small
 * output planes pack several batches (and their dy rows) into one panel for longer dots.
 * Parallel over (group, block of KCB columns kk): each task packs only its own columns and
 * owns dw[group's m, its kk]. */

/* floor(a / s) for s > 0 constant. */
static LLVMValueRef floor_divc(CgKernel *k, LLVMValueRef a, int64_t s)
{
    if (s == 1)
        return a;
    LLVMValueRef neg = icmp(k, LLVMIntSLT, a, cg_i64c(k, 0));
    LLVMValueRef adj = sel(k, neg, cg_sub(k, a, cg_i64c(k, s - 1)), a);
    return LLVMBuildSDiv(k->b, adj, cg_i64c(k, s), "");
}

/* Output positions o (along one axis of out positions) whose input o*s + off lies in [0, in):
 * [lo, hi) clamped to [0, out). */
static void valid_range(CgKernel *k, LLVMValueRef off, int64_t s, LLVMValueRef in, LLVMValueRef out, LLVMValueRef *lo,
                        LLVMValueRef *hi)
{
    /* lo = ceil(-off / s) = -floor(off / s); hi = floor((in - 1 - off) / s) + 1 */
    LLVMValueRef l = LLVMBuildNeg(k->b, floor_divc(k, off, s), "");
    LLVMValueRef h = cg_add(k, floor_divc(k, cg_sub(k, cg_sub(k, in, cg_i64c(k, 1)), off), s), cg_i64c(k, 1));
    *lo = cg_max64(k, l, cg_i64c(k, 0));
    *hi = cg_min64(k, h, out);
    *hi = cg_max64(k, *hi, *lo);
}

/* Coordinates of flat index pos over dims[0..n) (row-major), dims constants or values. */
static void unravel_c(CgKernel *k, LLVMValueRef pos, int n, const LLVMValueRef *dims, LLVMValueRef *coord)
{
    for (int i = n - 1; i >= 0; i--) {
        coord[i] = i > 0 ? LLVMBuildURem(k->b, pos, dims[i], "") : pos;
        if (i > 0)
            pos = LLVMBuildUDiv(k->b, pos, dims[i], "");
    }
}

/* panel[dbase + p - p0] = x[xc + in(p, tc)] (0 in the padding) for output positions p in
 * [p0, p0 + count): runs along the last output axis (a contiguous copy for stride 1). */
static void cgw_pack(CgKernel *k, const CgGeom *g, LLVMTypeRef ety, LLVMValueRef xc, const LLVMValueRef *tc,
                     LLVMValueRef p0, LLVMValueRef count, LLVMValueRef panel, LLVMValueRef dbase)
{
    int last = g->nsp - 1;
    LLVMValueRef W = g->out[last];
    LLVMValueRef p1 = cg_add(k, p0, count);
    LLVMValueRef r0 = LLVMBuildUDiv(k->b, p0, W, "");
    LLVMValueRef r1 = cg_ceil_div(k, p1, W);
    int64_t s = g->s[last];
    LLVMValueRef offw = cg_sub(k, cg_mul(k, tc[last], cg_i64c(k, g->d[last])), g->pb[last]);
    LLVMValueRef lo, hi;
    valid_range(k, offw, s, g->in[last], W, &lo, &hi);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, r0, r1, 1);
    LLVMValueRef seg0 = cg_max64(k, p0, cg_mul(k, r, W));
    LLVMValueRef seg1 = cg_min64(k, p1, cg_mul(k, cg_add(k, r, cg_i64c(k, 1)), W));
    LLVMValueRef len = cg_sub(k, seg1, seg0);
    LLVMValueRef ow0 = cg_sub(k, seg0, cg_mul(k, r, W));
    LLVMValueRef out0 = cg_add(k, dbase, cg_sub(k, seg0, p0));
    LLVMValueRef ok = LLVMConstInt(cg_t_i1(k), 1, 0), rowoff = cg_i64c(k, 0), rem = r;
    LLVMValueRef oc[IR_MAX_RANK];
    for (int i = last - 1; i >= 0; i--) {
        oc[i] = i > 0 ? LLVMBuildURem(k->b, rem, g->out[i], "") : rem;
        if (i > 0)
            rem = LLVMBuildUDiv(k->b, rem, g->out[i], "");
    }
    for (int i = 0; i < last; i++) {
        LLVMValueRef ic = cg_add(k, cg_sub(k, cg_mul(k, oc[i], cg_i64c(k, g->s[i])), g->pb[i]),
                                 cg_mul(k, tc[i], cg_i64c(k, g->d[i])));
        ok = LLVMBuildAnd(k->b, ok, icmp(k, LLVMIntULT, ic, g->in[i]), "");
        rowoff = cg_add(k, cg_mul(k, rowoff, g->in[i]), ic);
    }
    rowoff = cg_mul(k, rowoff, g->in[last]);
    /* valid j in [jlo, jhi): ow0 + j in [lo, hi) */
    LLVMValueRef jlo = cg_min64(k, cg_max64(k, cg_sub(k, lo, ow0), cg_i64c(k, 0)), len);
    LLVMValueRef jhi = cg_min64(k, cg_max64(k, cg_sub(k, hi, ow0), jlo), len);
    jhi = sel(k, ok, jhi, jlo);
    LLVMValueRef zero = cg_fconst(ety, 0);
    CgLoop lz;
    LLVMValueRef j = cg_loop_begin(k, &lz, cg_i64c(k, 0), jlo, 1);
    st(k, zero, panel, cg_add(k, out0, j));
    cg_loop_end(k, &lz);
    LLVMValueRef src = cg_add(k, cg_add(k, xc, rowoff), cg_add(k, cg_mul(k, ow0, cg_i64c(k, s)), offw));
    CgLoop lc;
    j = cg_loop_begin(k, &lc, jlo, jhi, 1);
    LLVMValueRef v = ld(k, ety, k->in[0], cg_add(k, src, cg_mul(k, j, cg_i64c(k, s))));
    st(k, v, panel, cg_add(k, out0, j));
    cg_loop_end(k, &lc);
    CgLoop lz2;
    j = cg_loop_begin(k, &lz2, jhi, len, 1);
    st(k, zero, panel, cg_add(k, out0, j));
    cg_loop_end(k, &lz2);
    cg_loop_end(k, &lr);
}

int cg_k_conv_grad_weight(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 0), *dy = cg_kin(k, 1), *w = cg_kin(k, 2);
    if (!is_fp(x->dtype) || x->dtype != dy->dtype)
        return cg_unsupported(k, "ConvGradWeight on %s", srt_dtype_name(x->dtype));
    int64_t group = ir_attr_int(n, "group"), mch = w->shape.d[0].b, cg = w->shape.d[1].b;
    int64_t mg = mch / group;
    CgGeom geo;
    if (!cg_geom_forward(k, x, dy, &w->shape, true, &geo))
        return cg_unsupported(k, "ConvGradWeight with these dims");
    int64_t taps = geo.taps, kc = cg * taps;
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    size_t es = esize(ety);
    /* x panel [KCB columns][PW positions] on the stack, ~128 KB; long rows keep the dot
     * products long (their horizontal sums and the C updates are per Gemm call) */
    int64_t kcb = kc < 64 ? kc : 64;
    if (kcb < 1)
        kcb = 1;
    int64_t pw = (int64_t)(131072 / es) / kcb, lanes = cg_lanes(k, ety);
    /* small planes: nb whole batches per panel, dy packed beside it ([mg][nb*P], <= 64 KB) */
    int64_t nb = 1, P_const = 0;
    if (LLVMIsAConstantInt(geo.osz))
        P_const = LLVMConstIntGetSExtValue(geo.osz);
    if (P_const > 0 && 2 * P_const <= pw) {
        nb = pw / P_const;
        int64_t nd = (int64_t)(65536 / es) / (mg * P_const);
        if (nd < nb)
            nb = nd;
        if (nb < 2)
            nb = 1;
    }
    if (nb > 1) {
        pw = nb * P_const;
    } else if (P_const > 0) {   /* equal panels over the plane, whole vectors */
        int64_t np = (P_const + pw - 1) / pw;
        int64_t eq = ((P_const + np - 1) / np + lanes - 1) / lanes * lanes;
        if (eq < pw)
            pw = eq;
    }
    if (pw < 8)
        pw = 8;
    int64_t ncb = (kc + kcb - 1) / kcb;
    LLVMValueRef tasks = cg_i64c(k, group * ncb);
    LLVMValueRef work = cg_mul(k, cg_i64c(k, 2 * mg * kcb), cg_mul(k, cg_dim(k, x->shape.d[0]), geo.osz));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, tasks, grain, 0, NULL);
    cg_geom_forward(k, x, dy, &w->shape, true, &geo);   /* again, inside the body */
    int nsp = geo.nsp;
    LLVMValueRef batch = cg_dim(k, x->shape.d[0]), C = cg_dim(k, x->shape.d[1]);
    LLVMValueRef P = geo.osz;
    LLVMValueRef kdims[IR_MAX_RANK];
    for (int i = 0; i < nsp; i++)
        kdims[i] = cg_i64c(k, geo.k[i]);
    LLVMValueRef panel = cg_alloca(k, ety, pw * kcb);
    LLVMValueRef dpanel = nb > 1 ? cg_alloca(k, ety, mg * pw) : NULL;

    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, p.begin, p.end, 1);
    LLVMValueRef gi = LLVMBuildUDiv(k->b, t, cg_i64c(k, ncb), "");
    LLVMValueRef k0 = cg_mul(k, LLVMBuildURem(k->b, t, cg_i64c(k, ncb), ""), cg_i64c(k, kcb));
    LLVMValueRef kn = cg_min64(k, cg_i64c(k, kcb), cg_sub(k, cg_i64c(k, kc), k0));
    LLVMValueRef dwbase = cg_add(k, cg_mul(k, gi, cg_i64c(k, mg * kc)), k0);
    CgLoop lz;
    LLVMValueRef mz = cg_loop_begin(k, &lz, cg_i64c(k, 0), cg_i64c(k, mg), 1);
    zero_fill(k, cg_gep(k, ety, cg_out_ptr(k, 0), cg_add(k, dwbase, cg_mul(k, mz, cg_i64c(k, kc)))), kn, ety);
    cg_loop_end(k, &lz);
    /* batch blocks [b0, b0 + bn) (nb == 1: one batch, panels of positions [p0, p0 + pcount)) */
    CgLoop lb;
    LLVMValueRef b0 = cg_loop_begin(k, &lb, cg_i64c(k, 0), batch, nb);
    LLVMValueRef bn = cg_min64(k, cg_i64c(k, nb), cg_sub(k, batch, b0));
    CgLoop lp;
    LLVMValueRef p0 = cg_loop_begin(k, &lp, cg_i64c(k, 0), nb > 1 ? cg_i64c(k, 1) : P, nb > 1 ? 1 : pw);
    LLVMValueRef pcount = nb > 1 ? P : cg_min64(k, cg_i64c(k, pw), cg_sub(k, P, p0));
    CgLoop lk;
    LLVMValueRef kk = cg_loop_begin(k, &lk, cg_i64c(k, 0), kn, 1);
    LLVMValueRef col = cg_add(k, k0, kk);
    LLVMValueRef c = LLVMBuildUDiv(k->b, col, cg_i64c(k, taps), "");
    LLVMValueRef tc[IR_MAX_RANK];
    unravel_c(k, LLVMBuildURem(k->b, col, cg_i64c(k, taps), ""), nsp, kdims, tc);
    CgLoop lbb;
    LLVMValueRef bb = cg_loop_begin(k, &lbb, cg_i64c(k, 0), bn, 1);
    LLVMValueRef xb = cg_mul(k, cg_add(k, cg_mul(k, cg_add(k, b0, bb), C), cg_add(k, cg_mul(k, gi, cg_i64c(k, cg)), c)),
                             geo.isz);
    cgw_pack(k, &geo, ety, xb, tc, nb > 1 ? cg_i64c(k, 0) : p0, pcount, panel,
             cg_add(k, cg_mul(k, kk, cg_i64c(k, pw)), cg_mul(k, bb, P)));
    cg_loop_end(k, &lbb);
    cg_loop_end(k, &lk);
    /* dy rows of the group: dy[b, gi*mg + m, p0 ..] (direct), or packed [m][(b - b0)*P + o] */
    LLVMValueRef dyb = cg_mul(k, cg_add(k, cg_mul(k, b0, cg_i64c(k, mch)), cg_mul(k, gi, cg_i64c(k, mg))), P);
    CgGemmArgs ga;
    memset(&ga, 0, sizeof ga);
    ga.ety = ety;
    if (nb > 1) {
        CgLoop lm;
        LLVMValueRef m = cg_loop_begin(k, &lm, cg_i64c(k, 0), cg_i64c(k, mg), 1);
        CgLoop lbd;
        LLVMValueRef bd = cg_loop_begin(k, &lbd, cg_i64c(k, 0), bn, 1);
        LLVMValueRef src = cg_add(k, dyb, cg_mul(k, cg_add(k, cg_mul(k, bd, cg_i64c(k, mch)), m), P));
        cg_copy(k, dpanel, cg_add(k, cg_mul(k, m, cg_i64c(k, pw)), cg_mul(k, bd, P)), k->in[1], src, P, es);
        cg_loop_end(k, &lbd);
        cg_loop_end(k, &lm);
        ga.a = dpanel;
        ga.sam = cg_i64c(k, pw);
        ga.kdim = cg_mul(k, bn, P);
    } else {
        ga.a = cg_gep(k, ety, k->in[1], cg_add(k, dyb, p0));
        ga.sam = P;
        ga.kdim = pcount;
    }
    ga.sak = cg_i64c(k, 1);
    ga.a_unit_k = true;
    ga.b = panel;
    ga.sbk = cg_i64c(k, 1);
    ga.sbj = cg_i64c(k, pw);
    ga.b_unit_k = true;
    ga.c = cg_gep(k, ety, cg_out_ptr(k, 0), dwbase);
    ga.sci = cg_i64c(k, kc);
    ga.scj = cg_i64c(k, 1);
    ga.c_unit_j = true;
    ga.i0 = cg_i64c(k, 0);
    ga.i1 = cg_i64c(k, mg);
    ga.j0 = cg_i64c(k, 0);
    ga.j1 = kn;
    ga.accumulate = true;
    ga.alpha = 1;
    ga.align_a = (unsigned)es;
    ga.align_b = (unsigned)es;
    ga.align_c = (unsigned)es;
    cg_gemm_block(k, &ga);
    cg_loop_end(k, &lp);
    cg_loop_end(k, &lb);
    cg_loop_end(k, &lt);
    cg_par_end(k, &p);
    return 0;
}

/* ---- MaxPoolGrad, AveragePoolGrad ------------------------------------------------------------------
 * Parallel over the planes (batch x channel): each plane's dx is zeroed, then every window adds
 * its dy to the element MaxPool picked (the first maximum in tap order, NaN winning), or dy /
 * divisor to each of its elements inside x (AveragePool; the divisor counts the explicit
 * padding with count_include_pad, never the ceil_mode overhang). */

int cg_k_pool_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *dy = cg_kin(k, 0), *x = cg_kin(k, 1);
    bool maxp = n->op == IR_OP_MAXPOOLGRAD;
    if (!is_fp(x->dtype))
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(x->dtype));
    CgGeom geo;
    if (!cg_geom_forward(k, x, dy, NULL, maxp, &geo))
        return cg_unsupported(k, "%s with these dims", ir_op_name(n->op));
    bool include_pad = !maxp && ir_attr_int(n, "count_include_pad") == 1;
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    LLVMValueRef planes = cg_mul(k, cg_dim(k, x->shape.d[0]), cg_dim(k, x->shape.d[1]));
    LLVMValueRef work = cg_mul(k, geo.osz, cg_i64c(k, geo.taps));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, planes, grain, 0, NULL);
    cg_geom_forward(k, x, dy, NULL, maxp, &geo);
    int nsp = geo.nsp;
    LLVMValueRef kdims[IR_MAX_RANK], instride[IR_MAX_RANK];
    for (int i = 0; i < nsp; i++)
        kdims[i] = cg_i64c(k, geo.k[i]);
    instride[nsp - 1] = cg_i64c(k, 1);
    for (int i = nsp - 2; i >= 0; i--)
        instride[i] = cg_mul(k, instride[i + 1], geo.in[i + 1]);
    LLVMValueRef base_x = cg_mul(k, p.begin, geo.isz);
    zero_fill(k, cg_gep(k, ety, cg_out_ptr(k, 0), base_x), cg_mul(k, cg_sub(k, p.end, p.begin), geo.isz), ety);

    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, cg_i64c(k, 0), geo.osz, 1);
    LLVMValueRef oc[IR_MAX_RANK];
    unravel_c(k, o, nsp, geo.out, oc);
    LLVMValueRef count = NULL;
    if (!maxp) {
        /* the divisor of this window */
        CgLoop lt;
        LLVMValueRef t = cg_loop_begin(k, &lt, cg_i64c(k, 0), cg_i64c(k, geo.taps), 1);
        LLVMValueRef cnt = cg_loop_carry(k, &lt, cg_i64c(k, 0));
        LLVMValueRef tc[IR_MAX_RANK];
        unravel_c(k, t, nsp, kdims, tc);
        LLVMValueRef inside = LLVMConstInt(cg_t_i1(k), 1, 0);
        for (int i = 0; i < nsp; i++) {
            LLVMValueRef pos = cg_sub(k, cg_add(k, cg_mul(k, oc[i], cg_i64c(k, geo.s[i])), tc[i]), geo.pb[i]);
            LLVMValueRef lo_b = include_pad ? LLVMBuildNeg(k->b, geo.pb[i], "") : cg_i64c(k, 0);
            LLVMValueRef hi_b = include_pad ? cg_add(k, geo.in[i], geo.pe[i]) : geo.in[i];
            inside = LLVMBuildAnd(k->b, inside, icmp(k, LLVMIntSGE, pos, lo_b), "");
            inside = LLVMBuildAnd(k->b, inside, icmp(k, LLVMIntSLT, pos, hi_b), "");
        }
        cg_loop_set(&lt, 0, cg_add(k, cnt, LLVMBuildZExt(k->b, inside, cg_t_i64(k), "")));
        cg_loop_end(k, &lt);
        count = LLVMBuildSIToFP(k->b, lt.phi[0], ety, "");
    }
    CgLoop lp;
    LLVMValueRef pl = cg_loop_begin(k, &lp, p.begin, p.end, 1);
    LLVMValueRef xb = cg_mul(k, pl, geo.isz);
    LLVMValueRef g = ld(k, ety, k->in[0], cg_add(k, cg_mul(k, pl, geo.osz), o));
    if (!maxp)
        g = f_div(k, g, count);
    CgLoop lt;
    LLVMValueRef t = cg_loop_begin(k, &lt, cg_i64c(k, 0), cg_i64c(k, geo.taps), 1);
    LLVMValueRef best = NULL, arg = NULL;
    if (maxp) {
        best = cg_loop_carry(k, &lt, cg_fconst(ety, 0.0));
        arg = cg_loop_carry(k, &lt, cg_i64c(k, -1));
    }
    LLVMValueRef tc[IR_MAX_RANK];
    unravel_c(k, t, nsp, kdims, tc);
    LLVMValueRef inside = LLVMConstInt(cg_t_i1(k), 1, 0), off = cg_i64c(k, 0);
    for (int i = 0; i < nsp; i++) {
        LLVMValueRef pos = cg_sub(k, cg_add(k, cg_mul(k, oc[i], cg_i64c(k, geo.s[i])),
                                          cg_mul(k, tc[i], cg_i64c(k, geo.d[i]))), geo.pb[i]);
        inside = LLVMBuildAnd(k->b, inside, icmp(k, LLVMIntSGE, pos, cg_i64c(k, 0)), "");
        inside = LLVMBuildAnd(k->b, inside, icmp(k, LLVMIntSLT, pos, geo.in[i]), "");
        off = cg_add(k, off, cg_mul(k, pos, instride[i]));
    }
    CgIf ci;
    if (maxp) {
        /* off is only dereferenced inside */
        LLVMValueRef safe = sel(k, inside, off, cg_i64c(k, 0));
        LLVMValueRef v = ld(k, ety, k->in[1], cg_add(k, xb, safe));
        LLVMValueRef first = icmp(k, LLVMIntSLT, arg, cg_i64c(k, 0));
        LLVMValueRef gt = LLVMBuildFCmp(k->b, LLVMRealOGT, v, best, "");
        LLVMValueRef nan = LLVMBuildAnd(k->b, LLVMBuildFCmp(k->b, LLVMRealUNO, v, v, ""),
                                        LLVMBuildFCmp(k->b, LLVMRealORD, best, best, ""), "");
        LLVMValueRef take = LLVMBuildAnd(k->b, inside, LLVMBuildOr(k->b, first, LLVMBuildOr(k->b, gt, nan, ""), ""), "");
        cg_loop_set(&lt, 0, sel(k, take, v, best));
        cg_loop_set(&lt, 1, sel(k, take, safe, arg));
        cg_loop_end(k, &lt);
        cg_if_begin(k, &ci, icmp(k, LLVMIntSGE, lt.phi[1], cg_i64c(k, 0)));
        LLVMValueRef at = cg_add(k, xb, lt.phi[1]);
        st(k, f_add(k, ld(k, ety, cg_out_ptr(k, 0), at), g), cg_out_ptr(k, 0), at);
        cg_if_end(k, &ci);
    } else {
        cg_if_begin(k, &ci, inside);
        LLVMValueRef at = cg_add(k, xb, off);
        st(k, f_add(k, ld(k, ety, cg_out_ptr(k, 0), at), g), cg_out_ptr(k, 0), at);
        cg_if_end(k, &ci);
        cg_loop_end(k, &lt);
    }
    cg_loop_end(k, &lp);
    cg_loop_end(k, &lo);
    cg_par_end(k, &p);
    return 0;
}

/* ---- BatchNormGrad ------------------------------------------------------------------------------
 * Per channel (parallel), over the M = batch x spatial elements, with batch statistics:
 *   dbias = sum dy, dscale = sum dy*xhat, dx = scale*inv/M * (M*dy - dbias - xhat*dscale). */

typedef struct Bn {
    LLVMTypeRef vty;
    LLVMValueRef base, mean, inv, k1, gsum, gx, m;   /* scalars */
    int phase;
} Bn;

static void bn_body(CgKernel *k, void *ctx, LLVMValueRef j, LLVMValueRef mask, LLVMValueRef *acc)
{
    Bn *b = ctx;
    LLVMValueRef idx = cg_add(k, b->base, j);
    LLVMValueRef x = vld(k, b->vty, k->in[1], idx, mask);
    int w = (int)LLVMGetVectorSize(b->vty);
    switch (b->phase) {
    case 0:   /* sum x */
        acc[0] = f_add(k, acc[0], x);
        break;
    case 1: { /* sum (x - mean)^2 */
        LLVMValueRef d = on(k, mask, f_sub(k, x, cg_splat(k, b->mean, w)));
        acc[0] = cg_fma(k, d, d, acc[0]);
        break;
    }
    case 2: { /* sum dy, sum dy*(x-mean) */
        LLVMValueRef dy = vld(k, b->vty, k->in[0], idx, mask);
        acc[0] = f_add(k, acc[0], dy);
        acc[1] = cg_fma(k, dy, on(k, mask, f_sub(k, x, cg_splat(k, b->mean, w))), acc[1]);
        break;
    }
    default: { /* dx */
        LLVMValueRef dy = vld(k, b->vty, k->in[0], idx, mask);
        LLVMValueRef xhat = f_mul(k, f_sub(k, x, cg_splat(k, b->mean, w)), cg_splat(k, b->inv, w));
        LLVMValueRef v = f_sub(k, f_sub(k, f_mul(k, dy, cg_splat(k, b->m, w)), cg_splat(k, b->gsum, w)),
                              f_mul(k, xhat, cg_splat(k, b->gx, w)));
        vst(k, f_mul(k, v, cg_splat(k, b->k1, w)), cg_out_ptr(k, 0), idx, mask);
        break;
    }
    }
}

/* Runs phase over every (batch, channel c) row; returns the reduced accumulators. */
static void bn_pass(CgKernel *k, Bn *b, LLVMValueRef batch, LLVMValueRef C, LLVMValueRef c, LLVMValueRef sp, int nacc,
                    LLVMValueRef *out)
{
    CgLoop l;
    LLVMValueRef nb = cg_loop_begin(k, &l, cg_i64c(k, 0), batch, 1);
    LLVMValueRef acc[2];
    for (int a = 0; a < nacc; a++)
        acc[a] = cg_loop_carry(k, &l, cg_fconst(b->vty, 0.0));
    for (int a = 0; a < nacc; a++)
        acc[a] = l.phi[a];
    b->base = cg_mul(k, cg_add(k, cg_mul(k, nb, C), c), sp);
    vloop(k, cg_i64c(k, 0), sp, (int)LLVMGetVectorSize(b->vty), nacc, acc, bn_body, b);
    for (int a = 0; a < nacc; a++)
        cg_loop_set(&l, a, acc[a]);
    cg_loop_end(k, &l);
    for (int a = 0; a < nacc; a++)
        out[a] = nacc ? cg_reduce_fadd(k, l.phi[a]) : NULL;
}

int cg_k_batchnorm_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 1), *scale = cg_kin(k, 2);
    if (!is_fp(x->dtype))
        return cg_unsupported(k, "BatchNormGrad on %s", srt_dtype_name(x->dtype));
    double eps = ir_attr_float(n, "epsilon");
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    int rank = x->shape.rank;
    LLVMValueRef work = cg_mul(k, cg_dim(k, x->shape.d[0]), cg_dims_prod(k, x->shape.d, 2, rank));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, cg_dim(k, x->shape.d[1]), grain, 0, NULL);
    LLVMValueRef batch = cg_dim(k, x->shape.d[0]), C = cg_dim(k, x->shape.d[1]);
    LLVMValueRef sp = cg_dims_prod(k, x->shape.d, 2, rank);
    Bn b;
    memset(&b, 0, sizeof b);
    b.vty = cg_t_vec(ety, cg_lanes(k, ety));
    CgLoop lc;
    LLVMValueRef c = cg_loop_begin(k, &lc, p.begin, p.end, 1);
    LLVMValueRef cnt = LLVMBuildSIToFP(k->b, cg_mul(k, batch, sp), ety, "");
    LLVMValueRef r[2];
    b.phase = 0;
    bn_pass(k, &b, batch, C, c, sp, 1, r);
    b.mean = f_div(k, r[0], cnt);
    b.phase = 1;
    bn_pass(k, &b, batch, C, c, sp, 1, r);
    b.inv = f_div(k, cg_fconst(ety, 1.0), cg_sqrt(k, f_add(k, f_div(k, r[0], cnt), cg_fconst(ety, eps))));
    b.phase = 2;
    bn_pass(k, &b, batch, C, c, sp, 2, r);
    b.gsum = r[0];
    b.gx = f_mul(k, r[1], b.inv);
    b.m = cnt;
    b.k1 = f_div(k, f_mul(k, cg_load_as(k, scale->dtype, k->in[2], c, ety), b.inv), cnt);
    b.phase = 3;
    bn_pass(k, &b, batch, C, c, sp, 0, r);
    if (cg_out_ptr(k, 1))
        st(k, fconv(k, b.gx, cg_t_elem(k, cg_kout(k, 1)->dtype)), cg_out_ptr(k, 1), c);
    if (cg_out_ptr(k, 2))
        st(k, fconv(k, b.gsum, cg_t_elem(k, cg_kout(k, 2)->dtype)), cg_out_ptr(k, 2), c);
    cg_loop_end(k, &lc);
    cg_par_end(k, &p);
    return 0;
}

/* ---- LayerNormGrad --------------------------------------------------------------------------------
 * Per row of the normalized axes (L elements), xhat = (x - mean) * inv, gh = dy * scale:
 *   dx = inv * (gh - mean(gh) - xhat * mean(gh * xhat)); dscale += dy * xhat; dbias += dy.
 * Rows run in order (dscale/dbias sum over them); scale and bias have one element per row
 * element, or one element. */

typedef struct Ln {
    LLVMTypeRef vty;
    LLVMValueRef base, mean, inv, mg, mgx;   /* scalars */
    int sstep, bstep;                        /* element step of scale, dscale/dbias along the row (1 or 0) */
    int phase;
} Ln;

static void ln_body(CgKernel *k, void *ctx, LLVMValueRef j, LLVMValueRef mask, LLVMValueRef *acc)
{
    Ln *l = ctx;
    int w = (int)LLVMGetVectorSize(l->vty);
    LLVMValueRef idx = cg_add(k, l->base, j);
    LLVMValueRef x = vld(k, l->vty, k->in[1], idx, mask);
    if (l->phase == 0) {
        acc[0] = f_add(k, acc[0], x);
        return;
    }
    LLVMValueRef xc = on(k, mask, f_sub(k, x, cg_splat(k, l->mean, w)));
    if (l->phase == 1) {
        acc[0] = cg_fma(k, xc, xc, acc[0]);
        return;
    }
    LLVMValueRef dy = vld(k, l->vty, k->in[0], idx, mask);
    LLVMValueRef s = l->sstep ? vld(k, l->vty, k->in[2], j, mask)
                              : cg_splat(k, ld(k, LLVMGetElementType(l->vty), k->in[2], cg_i64c(k, 0)), w);
    LLVMValueRef xhat = f_mul(k, xc, cg_splat(k, l->inv, w));
    LLVMValueRef gh = f_mul(k, dy, s);
    if (l->phase == 2) {
        acc[0] = f_add(k, acc[0], gh);
        acc[1] = cg_fma(k, gh, xhat, acc[1]);
        return;
    }
    /* phase 3: dx, and the scale/bias gradients */
    LLVMValueRef v = f_sub(k, f_sub(k, gh, cg_splat(k, l->mg, w)), f_mul(k, xhat, cg_splat(k, l->mgx, w)));
    vst(k, f_mul(k, v, cg_splat(k, l->inv, w)), cg_out_ptr(k, 0), idx, mask);
    LLVMValueRef gs = f_mul(k, dy, xhat);
    if (l->bstep) {
        if (cg_out_ptr(k, 1))
            vst(k, f_add(k, vld(k, l->vty, cg_out_ptr(k, 1), j, mask), gs), cg_out_ptr(k, 1), j, mask);
        if (k->node->nout > 2 && cg_out_ptr(k, 2))
            vst(k, f_add(k, vld(k, l->vty, cg_out_ptr(k, 2), j, mask), dy), cg_out_ptr(k, 2), j, mask);
    } else {
        acc[0] = f_add(k, acc[0], on(k, mask, gs));
        acc[1] = f_add(k, acc[1], on(k, mask, dy));
    }
}

/* 1 if v has one element per row element (its shape covers the normalized axes), 0 if it has
 * one element, -1 otherwise. */
static int row_step(const IrValue *v, IrDim len)
{
    IrDim numel;
    if (!v || !ir_shape_numel(&v->shape, &numel))
        return -1;
    if (ir_dim_eq(numel, ir_dim_const(1)))
        return 0;
    return ir_dim_eq(numel, len) ? 1 : -1;
}

int cg_k_layernorm_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *x = cg_kin(k, 1), *scale = cg_kin(k, 2);
    if (!is_fp(x->dtype))
        return cg_unsupported(k, "LayerNormGrad on %s", srt_dtype_name(x->dtype));
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), x->shape.rank, &ax);
    IrShape rs = {.rank = x->shape.rank - ax};
    memcpy(rs.d, x->shape.d + ax, (size_t)rs.rank * sizeof *rs.d);
    IrDim lend;
    if (!ir_shape_numel(&rs, &lend))
        return cg_unsupported(k, "LayerNormGrad with these dims");
    Ln l;
    memset(&l, 0, sizeof l);
    l.sstep = row_step(scale, lend);
    const IrValue *ds = cg_kout(k, 1), *db = cg_kout(k, 2);
    int dstep = ds ? row_step(ds, lend) : db ? row_step(db, lend) : 0;
    if (l.sstep < 0 || dstep < 0 || (ds && db && row_step(db, lend) != dstep))
        return cg_unsupported(k, "LayerNormGrad with a scale or bias that broadcasts inside the row");
    l.bstep = dstep;
    double eps = ir_attr_float(n, "epsilon");
    LLVMTypeRef ety = cg_t_elem(k, x->dtype);
    int w = cg_lanes(k, ety);
    l.vty = cg_t_vec(ety, w);
    LLVMValueRef rows = cg_dims_prod(k, x->shape.d, 0, ax), len = cg_dim(k, lend);
    LLVMValueRef flen = LLVMBuildSIToFP(k->b, len, ety, "");
    if (ds)
        zero_fill(k, cg_out_ptr(k, 1), numel_of(k, ds), ety);
    if (db)
        zero_fill(k, cg_out_ptr(k, 2), numel_of(k, db), ety);
    CgLoop lr;
    LLVMValueRef r = cg_loop_begin(k, &lr, cg_i64c(k, 0), rows, 1);
    LLVMValueRef sacc = cg_loop_carry(k, &lr, cg_fconst(l.vty, 0.0)), bacc = cg_loop_carry(k, &lr, cg_fconst(l.vty, 0.0));
    l.base = cg_mul(k, r, len);
    LLVMValueRef acc[2] = {cg_fconst(l.vty, 0.0), cg_fconst(l.vty, 0.0)};
    l.phase = 0;
    vloop(k, cg_i64c(k, 0), len, w, 1, acc, ln_body, &l);
    l.mean = f_div(k, cg_reduce_fadd(k, acc[0]), flen);
    acc[0] = cg_fconst(l.vty, 0.0);
    l.phase = 1;
    vloop(k, cg_i64c(k, 0), len, w, 1, acc, ln_body, &l);
    l.inv = f_div(k, cg_fconst(ety, 1.0), cg_sqrt(k, f_add(k, f_div(k, cg_reduce_fadd(k, acc[0]), flen), cg_fconst(ety, eps))));
    acc[0] = acc[1] = cg_fconst(l.vty, 0.0);
    l.phase = 2;
    vloop(k, cg_i64c(k, 0), len, w, 2, acc, ln_body, &l);
    l.mg = f_div(k, cg_reduce_fadd(k, acc[0]), flen);
    l.mgx = f_div(k, cg_reduce_fadd(k, acc[1]), flen);
    acc[0] = sacc;
    acc[1] = bacc;
    l.phase = 3;
    vloop(k, cg_i64c(k, 0), len, w, 2, acc, ln_body, &l);
    cg_loop_set(&lr, 0, acc[0]);
    cg_loop_set(&lr, 1, acc[1]);
    cg_loop_end(k, &lr);
    if (!l.bstep) {
        if (ds)
            st(k, cg_reduce_fadd(k, lr.phi[0]), cg_out_ptr(k, 1), cg_i64c(k, 0));
        if (db)
            st(k, cg_reduce_fadd(k, lr.phi[1]), cg_out_ptr(k, 2), cg_i64c(k, 0));
    }
    return 0;
}

/* ---- SoftmaxGrad, LogSoftmaxGrad ------------------------------------------------------------------
 * Along the axis: softmax dx = y * (dy - sum(dy * y)); log-softmax dx = dy - exp(y) * sum(dy).
 * Parallel over the rows (outer x inner positions); contiguous rows are vectorized. */

typedef struct Sm {
    LLVMTypeRef vty;
    LLVMValueRef base, s;
    bool logf;
    int phase;
} Sm;

static void sm_body(CgKernel *k, void *ctx, LLVMValueRef j, LLVMValueRef mask, LLVMValueRef *acc)
{
    Sm *s = ctx;
    int w = (int)LLVMGetVectorSize(s->vty);
    LLVMValueRef idx = cg_add(k, s->base, j);
    LLVMValueRef dy = vld(k, s->vty, k->in[0], idx, mask), y = vld(k, s->vty, k->in[1], idx, mask);
    if (s->phase == 0) {
        acc[0] = s->logf ? f_add(k, acc[0], dy) : cg_fma(k, dy, y, acc[0]);
        return;
    }
    LLVMValueRef sv = cg_splat(k, s->s, w);
    LLVMValueRef dx = s->logf ? f_sub(k, dy, f_mul(k, cg_exp(k, y), sv)) : f_mul(k, y, f_sub(k, dy, sv));
    vst(k, dx, cg_out_ptr(k, 0), idx, mask);
}

int cg_k_softmax_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *y = cg_kin(k, 1);
    if (!is_fp(y->dtype))
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(y->dtype));
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), y->shape.rank, &ax);
    bool logf = n->op == IR_OP_LOGSOFTMAXGRAD;
    LLVMTypeRef ety = cg_t_elem(k, y->dtype);
    int r = y->shape.rank;
    bool contiguous = true;
    for (int i = ax + 1; i < r; i++)
        contiguous &= const_one(y->shape.d[i]);
    LLVMValueRef rows = cg_mul(k, cg_dims_prod(k, y->shape.d, 0, ax), cg_dims_prod(k, y->shape.d, ax + 1, r));
    LLVMValueRef len = cg_dim(k, y->shape.d[ax]);
    LLVMValueRef grain = cg_grain(k, len, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, rows, grain, 0, NULL);
    len = cg_dim(k, y->shape.d[ax]);
    LLVMValueRef inner = cg_dims_prod(k, y->shape.d, ax + 1, r);
    CgLoop lr;
    LLVMValueRef row = cg_loop_begin(k, &lr, p.begin, p.end, 1);
    if (contiguous) {
        Sm s = {cg_t_vec(ety, cg_lanes(k, ety)), cg_mul(k, row, len), NULL, logf, 0};
        LLVMValueRef acc = cg_fconst(s.vty, 0.0);
        vloop(k, cg_i64c(k, 0), len, (int)LLVMGetVectorSize(s.vty), 1, &acc, sm_body, &s);
        s.s = cg_reduce_fadd(k, acc);
        s.phase = 1;
        vloop(k, cg_i64c(k, 0), len, (int)LLVMGetVectorSize(s.vty), 0, NULL, sm_body, &s);
    } else {
        LLVMValueRef o = LLVMBuildUDiv(k->b, row, inner, ""), i = LLVMBuildURem(k->b, row, inner, "");
        LLVMValueRef base = cg_add(k, cg_mul(k, cg_mul(k, o, len), inner), i);
        CgLoop l1;
        LLVMValueRef j = cg_loop_begin(k, &l1, cg_i64c(k, 0), len, 1);
        LLVMValueRef a = cg_loop_carry(k, &l1, cg_fconst(ety, 0.0));
        LLVMValueRef e = cg_add(k, base, cg_mul(k, j, inner));
        LLVMValueRef dy = ld(k, ety, k->in[0], e), yv = ld(k, ety, k->in[1], e);
        cg_loop_set(&l1, 0, logf ? f_add(k, a, dy) : cg_fma(k, dy, yv, a));
        cg_loop_end(k, &l1);
        LLVMValueRef s = l1.phi[0];
        CgLoop l2;
        j = cg_loop_begin(k, &l2, cg_i64c(k, 0), len, 1);
        e = cg_add(k, base, cg_mul(k, j, inner));
        dy = ld(k, ety, k->in[0], e);
        yv = ld(k, ety, k->in[1], e);
        st(k, logf ? f_sub(k, dy, f_mul(k, cg_exp(k, yv), s)) : f_mul(k, yv, f_sub(k, dy, s)), cg_out_ptr(k, 0), e);
        cg_loop_end(k, &l2);
    }
    cg_loop_end(k, &lr);
    cg_par_end(k, &p);
    return 0;
}

/* ---- SoftmaxCrossEntropyLoss, SCELossGrad ------------------------------------------------------------
 * x [N, C, spatial...], labels [N, spatial...]. Position (b, s) reads the class column
 * x[b, :, s] (stride = spatial size). A label equal to ignore_index weighs 0; one outside
 * [0, C) too, and is a run-time fault (the entry also checks the caller's labels first, to name
 * the element). */

typedef struct Sce {
    const IrValue *x, *lab, *wt;
    LLVMTypeRef ety;
    bool has_ig;
    int64_t ig;
} Sce;

static void sce_init(CgKernel *k, Sce *s)
{
    const IrNode *n = k->node;
    s->x = cg_kin(k, 0);
    s->lab = cg_kin(k, 1);
    s->wt = cg_kin(k, 2);
    s->ety = cg_t_elem(k, s->x->dtype);
    const IrAttr *ig = ir_attr_get(n, "ignore_index");
    s->has_ig = ig && ig->kind == IR_ATTR_INT;
    s->ig = s->has_ig ? ig->i : 0;
}

/* Label at position pos as i64, whether it counts, and its weight (type ety, 0 if not). */
static LLVMValueRef sce_label(CgKernel *k, const Sce *s, LLVMValueRef pos, LLVMValueRef C, LLVMValueRef *valid,
                              LLVMValueRef *weight)
{
    LLVMValueRef label = ld_index(k, s->lab->dtype, k->in[1], pos);
    LLVMValueRef ok = LLVMBuildAnd(k->b, icmp(k, LLVMIntSGE, label, cg_i64c(k, 0)), icmp(k, LLVMIntSLT, label, C), "");
    if (s->has_ig) {
        LLVMValueRef ign = icmp(k, LLVMIntEQ, label, cg_i64c(k, s->ig));
        cg_fault_if(k, k->node, LLVMBuildAnd(k->b, LLVMBuildNot(k->b, ok, ""), LLVMBuildNot(k->b, ign, ""), ""),
                    "a label is outside [0, classes) and not ignore_index");
        ok = LLVMBuildAnd(k->b, ok, LLVMBuildNot(k->b, ign, ""), "");
    } else {
        cg_fault_if(k, k->node, LLVMBuildNot(k->b, ok, ""), "a label is outside [0, classes)");
    }
    LLVMValueRef safe = sel(k, ok, label, cg_i64c(k, 0));
    LLVMValueRef w = s->wt ? cg_load_as(k, s->wt->dtype, k->in[2], safe, s->ety) : cg_fconst(s->ety, 1.0);
    *valid = ok;
    *weight = sel(k, ok, w, cg_fconst(s->ety, 0.0));
    return safe;
}

/* Max and sum of exp(x - max) of the class column at base with stride sp. */
static void sce_lse(CgKernel *k, const Sce *s, LLVMValueRef base, LLVMValueRef sp, LLVMValueRef C, bool contiguous,
                    LLVMValueRef *mx, LLVMValueRef *sum)
{
    if (contiguous) {
        *mx = cg_row_reduce(k, s->ety, k->in[0], base, C, cg_align_of(s->x->dtype), CG_RED_MAX, NULL, NULL, NULL, NULL);
    } else {
        CgLoop l;
        LLVMValueRef c = cg_loop_begin(k, &l, cg_i64c(k, 0), C, 1);
        LLVMValueRef m = cg_loop_carry(k, &l, cg_fconst(s->ety, -INFINITY));
        cg_loop_set(&l, 0, cg_fmax(k, m, ld(k, s->ety, k->in[0], cg_add(k, base, cg_mul(k, c, sp)))));
        cg_loop_end(k, &l);
        *mx = l.phi[0];
    }
    /* sum exp(x - mx): a scalar loop over the classes */
    CgLoop l;
    LLVMValueRef c = cg_loop_begin(k, &l, cg_i64c(k, 0), C, 1);
    LLVMValueRef a = cg_loop_carry(k, &l, cg_fconst(s->ety, 0.0));
    LLVMValueRef v = ld(k, s->ety, k->in[0], cg_add(k, base, cg_mul(k, c, sp)));
    cg_loop_set(&l, 0, f_add(k, a, cg_exp(k, f_sub(k, v, *mx))));
    cg_loop_end(k, &l);
    *sum = l.phi[0];
}

int cg_k_sce_loss(CgKernel *k)
{
    const IrNode *n = k->node;
    Sce s;
    sce_init(k, &s);
    if (!is_fp(s.x->dtype))
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(s.x->dtype));
    const char *red = ir_attr_str(n, "reduction");
    bool none = !strcmp(red, "none"), mean = !strcmp(red, "mean");
    LLVMTypeRef f64 = cg_t_f64(k);
    int r = s.x->shape.rank;
    bool contiguous = true;
    for (int i = 2; i < r; i++)
        contiguous &= const_one(s.x->shape.d[i]);
    LLVMValueRef batch = cg_dim(k, s.x->shape.d[0]), C = cg_dim(k, s.x->shape.d[1]);
    LLVMValueRef sp = cg_dims_prod(k, s.x->shape.d, 2, r);
    const IrValue *y = cg_kout(k, 0), *lp = cg_kout(k, 1);
    LLVMTypeRef yty = cg_t_elem(k, y->dtype);
    CgLoop l;
    LLVMValueRef pos = cg_loop_begin(k, &l, cg_i64c(k, 0), cg_mul(k, batch, sp), 1);
    LLVMValueRef total = cg_loop_carry(k, &l, cg_fconst(f64, 0.0)), wsum = cg_loop_carry(k, &l, cg_fconst(f64, 0.0));
    LLVMValueRef b = LLVMBuildUDiv(k->b, pos, sp, ""), si = LLVMBuildURem(k->b, pos, sp, "");
    LLVMValueRef base = cg_add(k, cg_mul(k, cg_mul(k, b, C), sp), si);
    LLVMValueRef mx, sum, valid, wt;
    sce_lse(k, &s, base, sp, C, contiguous, &mx, &sum);
    LLVMValueRef lse = f_add(k, mx, cg_log(k, sum));
    LLVMValueRef label = sce_label(k, &s, pos, C, &valid, &wt);
    LLVMValueRef xl = ld(k, s.ety, k->in[0], cg_add(k, base, cg_mul(k, label, sp)));
    LLVMValueRef loss = sel(k, valid, f_mul(k, LLVMBuildFNeg(k->b, wt, ""), f_sub(k, xl, lse)), cg_fconst(s.ety, 0.0));
    if (none)
        st(k, fconv(k, loss, yty), cg_out_ptr(k, 0), pos);
    if (lp) {
        CgLoop lc;
        LLVMValueRef c = cg_loop_begin(k, &lc, cg_i64c(k, 0), C, 1);
        LLVMValueRef e = cg_add(k, base, cg_mul(k, c, sp));
        st(k, fconv(k, f_sub(k, ld(k, s.ety, k->in[0], e), lse), cg_t_elem(k, lp->dtype)), cg_out_ptr(k, 1), e);
        cg_loop_end(k, &lc);
    }
    cg_loop_set(&l, 0, f_add(k, total, fconv(k, loss, f64)));
    cg_loop_set(&l, 1, f_add(k, wsum, fconv(k, wt, f64)));
    cg_loop_end(k, &l);
    if (!none) {
        LLVMValueRef res = mean ? f_div(k, l.phi[0], l.phi[1]) : l.phi[0];
        st(k, fconv(k, res, yty), cg_out_ptr(k, 0), cg_i64c(k, 0));
    }
    return 0;
}

int cg_k_sce_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    Sce s;
    sce_init(k, &s);
    if (!is_fp(s.x->dtype))
        return cg_unsupported(k, "%s on %s", ir_op_name(n->op), srt_dtype_name(s.x->dtype));
    bool mean = !strcmp(ir_attr_str(n, "reduction"), "mean");
    int r = s.x->shape.rank;
    bool contiguous = true;
    for (int i = 2; i < r; i++)
        contiguous &= const_one(s.x->shape.d[i]);
    LLVMValueRef batch = cg_dim(k, s.x->shape.d[0]), C = cg_dim(k, s.x->shape.d[1]);
    LLVMValueRef sp = cg_dims_prod(k, s.x->shape.d, 2, r);
    LLVMValueRef positions = cg_mul(k, batch, sp);
    /* the weight sum of "mean" (double, in order) */
    LLVMValueRef scale = cg_fconst(s.ety, 1.0);
    if (mean) {
        LLVMTypeRef f64 = cg_t_f64(k);
        CgLoop l;
        LLVMValueRef pos = cg_loop_begin(k, &l, cg_i64c(k, 0), positions, 1);
        LLVMValueRef ws = cg_loop_carry(k, &l, cg_fconst(f64, 0.0));
        LLVMValueRef valid, wt;
        sce_label(k, &s, pos, C, &valid, &wt);
        cg_loop_set(&l, 0, f_add(k, ws, fconv(k, wt, f64)));
        cg_loop_end(k, &l);
        scale = fconv(k, f_div(k, cg_fconst(f64, 1.0), l.phi[0]), s.ety);
    }
    LLVMValueRef grain = cg_grain(k, C, CG_PAR_WORK / 8);
    CgPar p;
    cg_par_begin(k, &p, positions, grain, 1, &scale);
    scale = p.vals[0];
    C = cg_dim(k, s.x->shape.d[1]);
    sp = cg_dims_prod(k, s.x->shape.d, 2, r);
    CgLoop l;
    LLVMValueRef pos = cg_loop_begin(k, &l, p.begin, p.end, 1);
    LLVMValueRef b = LLVMBuildUDiv(k->b, pos, sp, ""), si = LLVMBuildURem(k->b, pos, sp, "");
    LLVMValueRef base = cg_add(k, cg_mul(k, cg_mul(k, b, C), sp), si);
    LLVMValueRef mx, sum, valid, wt;
    sce_lse(k, &s, base, sp, C, contiguous, &mx, &sum);
    LLVMValueRef label = sce_label(k, &s, pos, C, &valid, &wt);
    LLVMValueRef wsc = f_mul(k, wt, scale);
    LLVMValueRef inv = f_div(k, cg_fconst(s.ety, 1.0), sum);
    CgLoop lc;
    LLVMValueRef c = cg_loop_begin(k, &lc, cg_i64c(k, 0), C, 1);
    LLVMValueRef e = cg_add(k, base, cg_mul(k, c, sp));
    LLVMValueRef pr = f_mul(k, cg_exp(k, f_sub(k, ld(k, s.ety, k->in[0], e), mx)), inv);
    LLVMValueRef hot = LLVMBuildUIToFP(k->b, icmp(k, LLVMIntEQ, c, label), s.ety, "");
    LLVMValueRef g = sel(k, valid, f_mul(k, wsc, f_sub(k, pr, hot)), cg_fconst(s.ety, 0.0));
    st(k, g, cg_out_ptr(k, 0), e);
    cg_loop_end(k, &lc);
    cg_loop_end(k, &l);
    cg_par_end(k, &p);
    return 0;
}

/* ---- MSELoss ----------------------------------------------------------------------------------- */

typedef struct Mse {
    LLVMTypeRef vty;
    bool none;
} Mse;

static void mse_body(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc)
{
    const Mse *m = ctx;
    LLVMValueRef d = f_sub(k, vld(k, m->vty, k->in[0], i, mask), vld(k, m->vty, k->in[1], i, mask));
    if (m->none)
        vst(k, f_mul(k, d, d), cg_out_ptr(k, 0), i, mask);
    else
        acc[0] = cg_fma(k, d, d, acc[0]);   /* masked-off lanes are 0 - 0 */
}

int cg_k_mse_loss(CgKernel *k)
{
    const IrValue *a = cg_kin(k, 0), *y = cg_kout(k, 0);
    if (!is_fp(a->dtype))
        return cg_unsupported(k, "MSELoss on %s", srt_dtype_name(a->dtype));
    const char *red = ir_attr_str(k->node, "reduction");
    LLVMTypeRef ety = cg_t_elem(k, a->dtype);
    Mse m = {cg_t_vec(ety, cg_lanes(k, ety)), !strcmp(red, "none")};
    LLVMValueRef numel = numel_of(k, a);
    LLVMValueRef acc = cg_fconst(m.vty, 0.0);
    vloop(k, cg_i64c(k, 0), numel, (int)LLVMGetVectorSize(m.vty), m.none ? 0 : 1, &acc, mse_body, &m);
    if (m.none)
        return 0;
    LLVMTypeRef f64 = cg_t_f64(k);
    LLVMValueRef total = fconv(k, cg_reduce_fadd(k, acc), f64);
    if (!strcmp(red, "mean"))
        total = f_div(k, total, LLVMBuildSIToFP(k->b, numel, f64, ""));
    st(k, fconv(k, total, cg_t_elem(k, y->dtype)), cg_out_ptr(k, 0), cg_i64c(k, 0));
    return 0;
}

/* ---- GatherGrad ------------------------------------------------------------------------------------
 * dx = zeros; dx[o, indices[j], e] += dy[o, j, e] in index order (repeated indices add up);
 * parallel over the outer positions o. Indices out of range are skipped (a run-time fault). */

typedef struct Gg {
    LLVMTypeRef vty;
    LLVMValueRef dst, src;
} Gg;

static void gg_body(CgKernel *k, void *ctx, LLVMValueRef i, LLVMValueRef mask, LLVMValueRef *acc)
{
    const Gg *g = ctx;
    LLVMValueRef d = cg_add(k, g->dst, i);
    vst(k, f_add(k, vld(k, g->vty, cg_out_ptr(k, 0), d, mask), vld(k, g->vty, k->in[0], cg_add(k, g->src, i), mask)),
        cg_out_ptr(k, 0), d, mask);
}

int cg_k_gather_grad(CgKernel *k)
{
    const IrValue *dx = cg_kout(k, 0), *ind = cg_kin(k, 1);
    if (!is_fp(dx->dtype))
        return cg_unsupported(k, "GatherGrad on %s", srt_dtype_name(dx->dtype));
    int ax;
    ir_norm_axis(ir_attr_int(k->node, "axis"), dx->shape.rank, &ax);
    LLVMTypeRef ety = cg_t_elem(k, dx->dtype);
    int r = dx->shape.rank;
    LLVMValueRef outer = cg_dims_prod(k, dx->shape.d, 0, ax);
    LLVMValueRef work = cg_mul(k, numel_of(k, ind), cg_dims_prod(k, dx->shape.d, ax + 1, r));
    LLVMValueRef grain = cg_grain(k, work, CG_PAR_WORK);
    CgPar p;
    cg_par_begin(k, &p, outer, grain, 0, NULL);
    LLVMValueRef s = cg_dim(k, dx->shape.d[ax]), inner = cg_dims_prod(k, dx->shape.d, ax + 1, r);
    LLVMValueRef nidx = numel_of(k, ind);
    zero_fill(k, cg_gep(k, ety, cg_out_ptr(k, 0), cg_mul(k, cg_mul(k, p.begin, s), inner)),
              cg_mul(k, cg_mul(k, cg_sub(k, p.end, p.begin), s), inner), ety);
    Gg g = {cg_t_vec(ety, cg_lanes(k, ety)), NULL, NULL};
    CgLoop lo;
    LLVMValueRef o = cg_loop_begin(k, &lo, p.begin, p.end, 1);
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, cg_i64c(k, 0), nidx, 1);
    LLVMValueRef v = ld_index(k, ind->dtype, k->in[1], j);
    v = sel(k, icmp(k, LLVMIntSLT, v, cg_i64c(k, 0)), cg_add(k, v, s), v);
    LLVMValueRef ok = LLVMBuildAnd(k->b, icmp(k, LLVMIntSGE, v, cg_i64c(k, 0)), icmp(k, LLVMIntSLT, v, s), "");
    char sz[64];
    ir_dim_format(dx->shape.d[ax], sz, sizeof sz);
    cg_fault_if(k, k->node, LLVMBuildNot(k->b, ok, ""), "an index is out of range for axis %d (size %s)", ax, sz);
    CgIf ci;
    cg_if_begin(k, &ci, ok);
    g.dst = cg_mul(k, cg_add(k, cg_mul(k, o, s), v), inner);
    g.src = cg_mul(k, cg_add(k, cg_mul(k, o, nidx), j), inner);
    vloop(k, cg_i64c(k, 0), inner, (int)LLVMGetVectorSize(g.vty), 0, NULL, gg_body, &g);
    cg_if_end(k, &ci);
    cg_loop_end(k, &lj);
    cg_loop_end(k, &lo);
    cg_par_end(k, &p);
    return 0;
}

/* ---- SliceGrad -------------------------------------------------------------------------------------
 * dx = zeros with dy written where Slice(starts, ends, axes, steps) took its elements. The
 * first index and step of every axis are computed at run time from the inputs (ONNX clamping);
 * dy's shape gives the counts. */

int cg_k_slice_grad(CgKernel *k)
{
    const IrNode *n = k->node;
    const IrValue *dy = cg_kin(k, 0), *dx = cg_kout(k, 0), *starts = cg_kin(k, 2), *ends = cg_kin(k, 3);
    const IrValue *axes = cg_kin(k, 4), *steps = cg_kin(k, 5);
    (void)ends;
    if (!is_fp(dx->dtype))
        return cg_unsupported(k, "SliceGrad on %s", srt_dtype_name(dx->dtype));
    IrDim cnt;
    if (!ir_shape_numel(&starts->shape, &cnt) || cnt.a != 0)
        return cg_unsupported(k, "SliceGrad with these inputs");
    (void)n;
    int r = dx->shape.rank;
    LLVMTypeRef ety = cg_t_elem(k, dx->dtype);
    LLVMValueRef dims[IR_MAX_RANK], first[IR_MAX_RANK], step[IR_MAX_RANK], xst[IR_MAX_RANK], ydims[IR_MAX_RANK];
    for (int a = 0; a < r; a++) {
        dims[a] = cg_dim(k, dx->shape.d[a]);
        ydims[a] = cg_dim(k, dy->shape.d[a]);
        first[a] = cg_i64c(k, 0);
        step[a] = cg_i64c(k, 1);
    }
    LLVMValueRef zero = cg_i64c(k, 0), one = cg_i64c(k, 1);
    for (int64_t i = 0; i < cnt.b; i++) {
        LLVMValueRef ii = cg_i64c(k, i);
        LLVMValueRef ax = axes ? ld_index(k, axes->dtype, k->in[4], ii) : ii;
        ax = sel(k, icmp(k, LLVMIntSLT, ax, zero), cg_add(k, ax, cg_i64c(k, r)), ax);
        LLVMValueRef sv = steps ? ld_index(k, steps->dtype, k->in[5], ii) : one;
        LLVMValueRef start = ld_index(k, starts->dtype, k->in[2], ii);
        LLVMValueRef dim = zero;
        for (int a = 0; a < r; a++)
            dim = sel(k, icmp(k, LLVMIntEQ, ax, cg_i64c(k, a)), dims[a], dim);
        /* start += dim if negative; clamp to [0, dim] (step > 0) or [0, dim - 1] (step < 0) */
        start = sel(k, icmp(k, LLVMIntSLT, start, zero), cg_add(k, start, dim), start);
        LLVMValueRef hi = sel(k, icmp(k, LLVMIntSGT, sv, zero), dim, cg_sub(k, dim, one));
        start = cg_max64(k, cg_min64(k, start, hi), zero);
        for (int a = 0; a < r; a++) {
            LLVMValueRef hit = icmp(k, LLVMIntEQ, ax, cg_i64c(k, a));
            first[a] = sel(k, hit, start, first[a]);
            step[a] = sel(k, hit, sv, step[a]);
        }
    }
    xst[r - 1] = one;
    for (int a = r - 2; a >= 0; a--)
        xst[a] = cg_mul(k, xst[a + 1], dims[a + 1]);
    zero_fill(k, cg_out_ptr(k, 0), numel_of(k, dx), ety);
    /* dy row by row along its last axis */
    LLVMValueRef rows = cg_dims_prod(k, dy->shape.d, 0, r - 1), len = ydims[r - 1];
    CgLoop lr;
    LLVMValueRef row = cg_loop_begin(k, &lr, zero, rows, 1);
    LLVMValueRef coord[IR_MAX_RANK];
    unravel_c(k, row, r - 1, ydims, coord);
    LLVMValueRef dst = cg_mul(k, first[r - 1], xst[r - 1]);
    for (int a = 0; a < r - 1; a++)
        dst = cg_add(k, dst, cg_mul(k, cg_add(k, first[a], cg_mul(k, coord[a], step[a])), xst[a]));
    LLVMValueRef dstep = cg_mul(k, step[r - 1], xst[r - 1]);
    CgLoop lj;
    LLVMValueRef j = cg_loop_begin(k, &lj, zero, len, 1);
    st(k, ld(k, ety, k->in[0], cg_add(k, cg_mul(k, row, len), j)), cg_out_ptr(k, 0), cg_add(k, dst, cg_mul(k, j, dstep)));
    cg_loop_end(k, &lj);
    cg_loop_end(k, &lr);
    return 0;
}
