/* LLVM IR building helpers for kernels: types, constants, memory, loops, branches, parallel-for outlining. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/emit.h"

/* ---- types and constants ---------------------------------------------------------------------- */

LLVMTypeRef cg_t_i1(const CgKernel *k) { return LLVMInt1TypeInContext(k->ctx); }
LLVMTypeRef cg_t_i8(const CgKernel *k) { return LLVMInt8TypeInContext(k->ctx); }
LLVMTypeRef cg_t_i32(const CgKernel *k) { return LLVMInt32TypeInContext(k->ctx); }
LLVMTypeRef cg_t_i64(const CgKernel *k) { return LLVMInt64TypeInContext(k->ctx); }
LLVMTypeRef cg_t_f32(const CgKernel *k) { return LLVMFloatTypeInContext(k->ctx); }
LLVMTypeRef cg_t_f64(const CgKernel *k) { return LLVMDoubleTypeInContext(k->ctx); }
LLVMTypeRef cg_t_ptr(const CgKernel *k) { return LLVMPointerTypeInContext(k->ctx, 0); }

LLVMTypeRef cg_t_elem(const CgKernel *k, IrDtype t)
{
    switch (t) {
    case SRT_F32: return cg_t_f32(k);
    case SRT_F64: return cg_t_f64(k);
    case SRT_I64: return cg_t_i64(k);
    case SRT_I32: return cg_t_i32(k);
    case SRT_I8:
    case SRT_U8:
    case SRT_BOOL: return cg_t_i8(k);
    default: return NULL;
    }
}

LLVMTypeRef cg_t_vec(LLVMTypeRef elem, int w)
{
    return LLVMVectorType(elem, (unsigned)w);
}

LLVMValueRef cg_i64c(const CgKernel *k, int64_t v)
{
    return LLVMConstInt(cg_t_i64(k), (unsigned long long)v, 1);
}

LLVMValueRef cg_i32c(const CgKernel *k, int32_t v)
{
    return LLVMConstInt(cg_t_i32(k), (unsigned long long)(int64_t)v, 1);
}

/* Splat constant c into vector type ty, or c itself for a scalar ty. */
static LLVMValueRef splat_const(LLVMTypeRef ty, LLVMValueRef c)
{
    if (LLVMGetTypeKind(ty) != LLVMVectorTypeKind)
        return c;
    unsigned w = LLVMGetVectorSize(ty);
    LLVMValueRef lanes[64];
    IR_ASSERT(w <= 64);
    for (unsigned i = 0; i < w; i++)
        lanes[i] = c;
    return LLVMConstVector(lanes, w);
}

static LLVMTypeRef scalar_of(LLVMTypeRef ty)
{
    return LLVMGetTypeKind(ty) == LLVMVectorTypeKind ? LLVMGetElementType(ty) : ty;
}

LLVMValueRef cg_fconst(LLVMTypeRef ty, double fv)
{
    return splat_const(ty, LLVMConstReal(scalar_of(ty), fv));
}

LLVMValueRef cg_iconst(LLVMTypeRef ty, int64_t iv)
{
    return splat_const(ty, LLVMConstInt(scalar_of(ty), (unsigned long long)iv, 1));
}

LLVMValueRef cg_splat(const CgKernel *k, LLVMValueRef scalar, int w)
{
    LLVMTypeRef vty = cg_t_vec(LLVMTypeOf(scalar), w);
    LLVMValueRef v = LLVMBuildInsertElement(k->b, LLVMGetPoison(vty), scalar, cg_i32c(k, 0), "");
    LLVMValueRef zeros = LLVMConstNull(cg_t_vec(cg_t_i32(k), w));
    return LLVMBuildShuffleVector(k->b, v, LLVMGetPoison(vty), zeros, "splat");
}

LLVMValueRef cg_dim(const CgKernel *k, IrDim d)
{
    if (d.a == 0)
        return cg_i64c(k, d.b);
    LLVMValueRef v = d.a == 1 ? k->n : LLVMBuildNSWMul(k->b, k->n, cg_i64c(k, d.a), "");
    return d.b ? LLVMBuildNSWAdd(k->b, v, cg_i64c(k, d.b), "") : v;
}

LLVMValueRef cg_dims_prod(const CgKernel *k, const IrDim *dims, int from, int to)
{
    LLVMValueRef p = cg_i64c(k, 1);
    for (int i = from; i < to; i++)
        p = cg_mul(k, p, cg_dim(k, dims[i]));
    return p;
}

bool cg_dims_prod_const(const IrDim *dims, int from, int to, int64_t *out)
{
    int64_t p = 1;
    for (int i = from; i < to; i++) {
        if (dims[i].a != 0 || __builtin_mul_overflow(p, dims[i].b, &p))
            return false;
    }
    *out = p;
    return true;
}

static bool is_const_int(LLVMValueRef v, int64_t *out)
{
    if (!LLVMIsAConstantInt(v))
        return false;
    *out = LLVMConstIntGetSExtValue(v);
    return true;
}

LLVMValueRef cg_add(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    int64_t c;
    if (is_const_int(a, &c) && c == 0)
        return b;
    if (is_const_int(b, &c) && c == 0)
        return a;
    return LLVMBuildNSWAdd(k->b, a, b, "");
}

LLVMValueRef cg_sub(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    int64_t c;
    if (is_const_int(b, &c) && c == 0)
        return a;
    return LLVMBuildNSWSub(k->b, a, b, "");
}

LLVMValueRef cg_mul(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    int64_t c;
    if (is_const_int(a, &c) && c == 1)
        return b;
    if (is_const_int(b, &c) && c == 1)
        return a;
    if ((is_const_int(a, &c) && c == 0) || (is_const_int(b, &c) && c == 0))
        return cg_i64c(k, 0);
    return LLVMBuildNSWMul(k->b, a, b, "");
}

LLVMValueRef cg_min64(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSLT, a, b, ""), a, b, "");
}

LLVMValueRef cg_max64(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(k->b, LLVMBuildICmp(k->b, LLVMIntSGT, a, b, ""), a, b, "");
}

LLVMValueRef cg_ceil_div(const CgKernel *k, LLVMValueRef a, LLVMValueRef b)
{
    int64_t c;
    if (is_const_int(b, &c) && c == 1)
        return a;
    LLVMValueRef t = cg_add(k, a, cg_sub(k, b, cg_i64c(k, 1)));
    return LLVMBuildSDiv(k->b, t, b, "");
}

LLVMValueRef cg_fconv(const CgKernel *k, LLVMValueRef v, LLVMTypeRef to)
{
    LLVMTypeRef from = LLVMTypeOf(v);
    if (from == to)
        return v;
    bool wider = LLVMGetTypeKind(to) == LLVMDoubleTypeKind;
    return wider ? LLVMBuildFPExt(k->b, v, to, "") : LLVMBuildFPTrunc(k->b, v, to, "");
}

LLVMValueRef cg_iext(const CgKernel *k, LLVMValueRef v, LLVMTypeRef to, bool is_unsigned)
{
    if (LLVMTypeOf(v) == to)
        return v;
    return is_unsigned ? LLVMBuildZExt(k->b, v, to, "") : LLVMBuildSExt(k->b, v, to, "");
}

/* ---- memory ------------------------------------------------------------------------------------- */

LLVMValueRef cg_gep(const CgKernel *k, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef idx)
{
    int64_t c;
    if (is_const_int(idx, &c) && c == 0)
        return base;
    return LLVMBuildInBoundsGEP2(k->b, ty, base, &idx, 1, "");
}

LLVMValueRef cg_load(const CgKernel *k, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef idx, unsigned align)
{
    LLVMValueRef l = LLVMBuildLoad2(k->b, ty, cg_gep(k, ty, base, idx), "");
    LLVMSetAlignment(l, align);
    return l;
}

void cg_store(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align)
{
    LLVMValueRef s = LLVMBuildStore(k->b, v, cg_gep(k, LLVMTypeOf(v), base, idx));
    LLVMSetAlignment(s, align);
}

LLVMValueRef cg_load_vec(const CgKernel *k, LLVMTypeRef vty, LLVMValueRef base, LLVMValueRef idx, unsigned align)
{
    LLVMValueRef p = cg_gep(k, LLVMGetElementType(vty), base, idx);
    LLVMValueRef l = LLVMBuildLoad2(k->b, vty, p, "");
    LLVMSetAlignment(l, align);
    return l;
}

void cg_store_vec(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align)
{
    LLVMValueRef p = cg_gep(k, LLVMGetElementType(LLVMTypeOf(v)), base, idx);
    LLVMValueRef s = LLVMBuildStore(k->b, v, p);
    LLVMSetAlignment(s, align);
}

/* Masked accesses may point outside the buffer for lanes that are off: plain (not inbounds) GEP. */
static LLVMValueRef gep_any(const CgKernel *k, LLVMTypeRef ty, LLVMValueRef base, LLVMValueRef idx)
{
    return LLVMBuildGEP2(k->b, ty, base, &idx, 1, "");
}

LLVMValueRef cg_load_vec_masked(const CgKernel *k, LLVMTypeRef vty, LLVMValueRef base, LLVMValueRef idx,
                                unsigned align, LLVMValueRef mask)
{
    LLVMValueRef p = gep_any(k, LLVMGetElementType(vty), base, idx);
    LLVMTypeRef tys[2] = {vty, cg_t_ptr(k)};
    LLVMValueRef args[4] = {p, cg_i32c(k, (int32_t)align), mask, LLVMConstNull(vty)};
    return cg_intrinsic(k, "llvm.masked.load", tys, 2, args, 4);
}

void cg_store_vec_masked(const CgKernel *k, LLVMValueRef v, LLVMValueRef base, LLVMValueRef idx, unsigned align,
                         LLVMValueRef mask)
{
    LLVMTypeRef vty = LLVMTypeOf(v);
    LLVMValueRef p = gep_any(k, LLVMGetElementType(vty), base, idx);
    LLVMTypeRef tys[2] = {vty, cg_t_ptr(k)};
    LLVMValueRef args[4] = {v, p, cg_i32c(k, (int32_t)align), mask};
    cg_intrinsic(k, "llvm.masked.store", tys, 2, args, 4);
}

LLVMValueRef cg_lane_mask(const CgKernel *k, int w, LLVMValueRef first, LLVMValueRef limit)
{
    LLVMValueRef lanes[64];
    IR_ASSERT(w <= 64);
    for (int i = 0; i < w; i++)
        lanes[i] = cg_i64c(k, i);
    LLVMValueRef idx = LLVMBuildAdd(k->b, cg_splat(k, first, w), LLVMConstVector(lanes, (unsigned)w), "");
    return LLVMBuildICmp(k->b, LLVMIntSLT, idx, cg_splat(k, limit, w), "mask");
}

LLVMBuilderRef cg_entry_builder(LLVMContextRef ctx, LLVMValueRef fn)
{
    LLVMBasicBlockRef entry = LLVMGetEntryBasicBlock(fn);
    LLVMBuilderRef tb = LLVMCreateBuilderInContext(ctx);
    LLVMValueRef first = LLVMGetFirstInstruction(entry);
    if (first)
        LLVMPositionBuilderBefore(tb, first);
    else
        LLVMPositionBuilderAtEnd(tb, entry);
    return tb;
}

LLVMValueRef cg_alloca(const CgKernel *k, LLVMTypeRef ty, int64_t count)
{
    LLVMBuilderRef tb = cg_entry_builder(k->ctx, k->fn);
    LLVMValueRef a = LLVMBuildArrayAlloca(tb, ty, cg_i64c(k, count), "stack");
    LLVMSetAlignment(a, 64);
    LLVMDisposeBuilder(tb);
    return a;
}

void cg_copy(const CgKernel *k, LLVMValueRef dst, LLVMValueRef doff, LLVMValueRef src, LLVMValueRef soff,
             LLVMValueRef count, size_t esize)
{
    LLVMTypeRef i8 = cg_t_i8(k);
    LLVMValueRef es = cg_i64c(k, (int64_t)esize);
    LLVMValueRef d = cg_gep(k, i8, dst, cg_mul(k, doff, es));
    LLVMValueRef s = cg_gep(k, i8, src, cg_mul(k, soff, es));
    LLVMBuildMemCpy(k->b, d, 1, s, 1, cg_mul(k, count, es));
}

void cg_tiles(CgKernel *k, LLVMValueRef i0, LLVMValueRef i1, int mr, CgTileFn fn, void *ctx)
{
    CgLoop l;
    LLVMValueRef last = cg_sub(k, i1, cg_i64c(k, mr - 1));
    LLVMValueRef i = cg_loop_begin(k, &l, i0, last, mr);
    fn(k, ctx, i, mr);
    cg_loop_end(k, &l);
    if (mr == 1)
        return;
    /* l.i is the first index not covered (i0 when no full tile ran) */
    LLVMValueRef rest = cg_max64(k, l.i, i0);
    LLVMValueRef rem = cg_sub(k, i1, rest);
    int64_t known;
    if (is_const_int(rem, &known) && known >= 0 && known < mr) {
        if (known > 0)
            fn(k, ctx, rest, (int)known);
        return;
    }
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "tiles.done");
    LLVMValueRef sw = LLVMBuildSwitch(k->b, rem, done, (unsigned)mr - 1);
    for (int r = 1; r < mr; r++) {
        LLVMBasicBlockRef bb = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "tile");
        LLVMAddCase(sw, cg_i64c(k, r), bb);
        LLVMPositionBuilderAtEnd(k->b, bb);
        fn(k, ctx, rest, r);
        LLVMBuildBr(k->b, done);
    }
    LLVMPositionBuilderAtEnd(k->b, done);
}

/* ---- control flow ------------------------------------------------------------------------------ */

LLVMValueRef cg_loop_begin(CgKernel *k, CgLoop *l, LLVMValueRef begin, LLVMValueRef end, int64_t step)
{
    memset(l, 0, sizeof *l);
    l->end = end;
    l->step = step;
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(k->b);
    l->header = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "loop");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "body");
    l->exit = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "done");
    LLVMBuildBr(k->b, l->header);
    LLVMPositionBuilderAtEnd(k->b, l->header);
    l->i = LLVMBuildPhi(k->b, cg_t_i64(k), "i");
    LLVMAddIncoming(l->i, &begin, &pre, 1);
    LLVMValueRef cond = LLVMBuildICmp(k->b, LLVMIntSLT, l->i, end, "");
    LLVMBuildCondBr(k->b, cond, body, l->exit);
    LLVMPositionBuilderAtEnd(k->b, body);
    return l->i;
}

LLVMValueRef cg_loop_carry(CgKernel *k, CgLoop *l, LLVMValueRef init)
{
    IR_ASSERT(l->ncarry < CG_MAX_CARRY);
    LLVMBuilderRef tb = LLVMCreateBuilderInContext(k->ctx);
    LLVMPositionBuilderBefore(tb, l->i);
    LLVMValueRef phi = LLVMBuildPhi(tb, LLVMTypeOf(init), "acc");
    LLVMDisposeBuilder(tb);
    /* the predecessor outside the loop is the header's incoming block of i */
    LLVMBasicBlockRef pre = LLVMGetIncomingBlock(l->i, 0);
    LLVMAddIncoming(phi, &init, &pre, 1);
    l->phi[l->ncarry] = phi;
    l->next[l->ncarry] = phi;
    l->ncarry++;
    return phi;
}

void cg_loop_set(CgLoop *l, int idx, LLVMValueRef next)
{
    IR_ASSERT(idx >= 0 && idx < l->ncarry);
    l->next[idx] = next;
}

void cg_loop_end(CgKernel *k, CgLoop *l)
{
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(k->b);
    LLVMValueRef inc = LLVMBuildNSWAdd(k->b, l->i, cg_i64c(k, l->step), "");
    LLVMBuildBr(k->b, l->header);
    LLVMAddIncoming(l->i, &inc, &cur, 1);
    for (int c = 0; c < l->ncarry; c++)
        LLVMAddIncoming(l->phi[c], &l->next[c], &cur, 1);
    LLVMPositionBuilderAtEnd(k->b, l->exit);
}

void cg_if_begin(CgKernel *k, CgIf *c, LLVMValueRef cond)
{
    c->then_bb = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "then");
    c->else_bb = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "else");
    c->merge_bb = LLVMAppendBasicBlockInContext(k->ctx, k->fn, "endif");
    c->in_else = false;
    LLVMBuildCondBr(k->b, cond, c->then_bb, c->else_bb);
    LLVMPositionBuilderAtEnd(k->b, c->then_bb);
}

void cg_if_else(CgKernel *k, CgIf *c)
{
    LLVMBuildBr(k->b, c->merge_bb);
    LLVMPositionBuilderAtEnd(k->b, c->else_bb);
    c->in_else = true;
}

void cg_if_end(CgKernel *k, CgIf *c)
{
    LLVMBuildBr(k->b, c->merge_bb);
    if (!c->in_else) {
        LLVMPositionBuilderAtEnd(k->b, c->else_bb);
        LLVMBuildBr(k->b, c->merge_bb);
    }
    LLVMPositionBuilderAtEnd(k->b, c->merge_bb);
}

/* ---- parallel loops ---------------------------------------------------------------------------- */

static void add_attr(const CgKernel *k, LLVMValueRef fn, LLVMAttributeIndex idx, const char *name, uint64_t val)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(k->ctx, kind, val));
}

/* Parameter index (0-based) of v in fn, or -1. */
static int param_index(LLVMValueRef fn, LLVMValueRef v)
{
    if (!LLVMIsAArgument(v))
        return -1;
    unsigned np = LLVMCountParams(fn);
    for (unsigned i = 0; i < np; i++)
        if (LLVMGetParam(fn, i) == v)
            return (int)i;
    return -1;
}

/* Copy the enum attribute `name` of fn's parameter pi onto body's parameter bi. */
static void copy_param_attr(const CgKernel *k, LLVMValueRef fn, int pi, LLVMValueRef body, int bi, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAttributeRef a = LLVMGetEnumAttributeAtIndex(fn, (LLVMAttributeIndex)(pi + 1), kind);
    if (a)
        add_attr(k, body, (LLVMAttributeIndex)(bi + 1), name, LLVMGetEnumAttributeValue(a));
}

/* Where a node pointer (k->in[i] / k->out[i]) comes from in the body: the index of the same
 * value among the captures (the arguments first), or -1 for NULL. */
static int capture_of(LLVMValueRef v, LLVMValueRef *outer, int *nc)
{
    if (!v)
        return -1;
    for (int i = 0; i < *nc; i++)
        if (outer[i] == v)
            return i;
    outer[(*nc)++] = v;
    return *nc - 1;
}

void cg_par_begin(CgKernel *k, CgPar *p, LLVMValueRef total, LLVMValueRef grain, int nvals, const LLVMValueRef *vals)
{
    IR_ASSERT(nvals <= CG_MAX_CAPTURE);
    const IrNode *nd = k->node;
    int nargs = k->grp ? k->grp->nargs : 0;
    memset(p, 0, sizeof *p);
    p->total = total;
    p->grain = grain;
    p->nvals = nvals;
    /* captures: n, the kernel's arguments, node pointers that are not arguments, vals, err */
    int cap = 1 + nargs + nd->nin + nd->nout + nvals + 1;
    p->outer = srt_calloc((size_t)cap, sizeof *p->outer);
    p->body_in = srt_calloc((size_t)nd->nin + 1, sizeof *p->body_in);
    p->body_out = srt_calloc((size_t)nd->nout + 1, sizeof *p->body_out);
    p->body_arg = srt_calloc((size_t)nargs + 1, sizeof *p->body_arg);
    int *in_at = srt_calloc((size_t)nd->nin + 1, sizeof *in_at), *out_at = srt_calloc((size_t)nd->nout + 1, sizeof *out_at);
    LLVMTypeRef *ps = srt_calloc((size_t)cap + 2, sizeof *ps);
    IR_ASSERT(p->outer && p->body_in && p->body_out && p->body_arg && in_at && out_at && ps);
    int nc = 0;
    p->outer[nc++] = k->n;
    for (int i = 0; i < nargs; i++)
        p->outer[nc++] = k->arg[i];
    for (int i = 0; i < nd->nin; i++)
        in_at[i] = capture_of(k->in[i], p->outer, &nc);
    for (int i = 0; i < nd->nout; i++)
        out_at[i] = capture_of(k->out[i], p->outer, &nc);
    int vals_at = nc;
    for (int i = 0; i < nvals; i++)
        p->outer[nc++] = vals[i];
    int err_at = k->err ? nc : -1;
    if (k->err)
        p->outer[nc++] = k->err;
    p->ncap = nc;
    ps[0] = ps[1] = cg_t_i64(k);
    for (int i = 0; i < nc; i++)
        ps[i + 2] = LLVMTypeOf(p->outer[i]);

    size_t len;
    const char *kname = LLVMGetValueName2(k->fn, &len);
    char name[320];
    snprintf(name, sizeof name, "%.*s_body", (int)(len < 280 ? len : 280), kname);
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(k->ctx), ps, (unsigned)nc + 2, 0);
    free(ps);
    p->body = LLVMAddFunction(k->mod, name, fty);
    LLVMSetLinkage(p->body, LLVMInternalLinkage);
    add_attr(k, p->body, LLVMAttributeFunctionIndex, "nounwind", 0);
    for (int i = 0; i < nc; i++) {
        int pi = param_index(k->fn, p->outer[i]);
        if (pi < 0)
            continue;
        copy_param_attr(k, k->fn, pi, p->body, i + 2, "noalias");
        copy_param_attr(k, k->fn, pi, p->body, i + 2, "align");
    }
    p->saved_fn = k->fn;
    p->saved_n = k->n;
    p->saved_in = k->in;
    p->saved_out = k->out;
    p->saved_arg = k->arg;
    p->saved_err = k->err;
    p->saved_bb = LLVMGetInsertBlock(k->b);
    k->fn = p->body;
    LLVMPositionBuilderAtEnd(k->b, LLVMAppendBasicBlockInContext(k->ctx, p->body, "entry"));
    p->begin = LLVMGetParam(p->body, 0);
    p->end = LLVMGetParam(p->body, 1);
    k->n = LLVMGetParam(p->body, 2);
    for (int i = 0; i < nargs; i++)
        p->body_arg[i] = LLVMGetParam(p->body, (unsigned)(3 + i));
    for (int i = 0; i < nd->nin; i++)
        p->body_in[i] = in_at[i] >= 0 ? LLVMGetParam(p->body, (unsigned)(2 + in_at[i])) : NULL;
    for (int i = 0; i < nd->nout; i++)
        p->body_out[i] = out_at[i] >= 0 ? LLVMGetParam(p->body, (unsigned)(2 + out_at[i])) : NULL;
    for (int i = 0; i < nvals; i++)
        p->vals[i] = LLVMGetParam(p->body, (unsigned)(2 + vals_at + i));
    if (err_at >= 0)
        k->err = LLVMGetParam(p->body, (unsigned)(2 + err_at));
    free(in_at);
    free(out_at);
    k->in = p->body_in;
    k->out = p->body_out;
    k->arg = p->body_arg;
}

/* void srt_parallel_for(ptr body, ptr closure, i64 total, i64 grain) */
static LLVMValueRef parallel_for_decl(const CgKernel *k, LLVMTypeRef *fty)
{
    LLVMTypeRef ps[4] = {cg_t_ptr(k), cg_t_ptr(k), cg_t_i64(k), cg_t_i64(k)};
    *fty = LLVMFunctionType(LLVMVoidTypeInContext(k->ctx), ps, 4, 0);
    LLVMValueRef f = LLVMGetNamedFunction(k->mod, "srt_parallel_for");
    if (!f) {
        f = LLVMAddFunction(k->mod, "srt_parallel_for", *fty);
        add_attr(k, f, LLVMAttributeFunctionIndex, "nounwind", 0);
    }
    return f;
}

void cg_par_end(CgKernel *k, CgPar *p)
{
    cg_fault_flush(k);
    LLVMBuildRetVoid(k->b);
    LLVMTypeRef body_ty = LLVMGlobalGetValueType(p->body);
    k->fn = p->saved_fn;
    k->n = p->saved_n;
    k->in = p->saved_in;
    k->out = p->saved_out;
    k->arg = p->saved_arg;
    k->err = p->saved_err;
    free(p->body_in);
    free(p->body_out);
    free(p->body_arg);
    LLVMPositionBuilderAtEnd(k->b, p->saved_bb);
    int nc = p->ncap;
    LLVMValueRef *args = srt_calloc((size_t)nc + 2, sizeof *args);
    LLVMTypeRef *ftys = srt_calloc((size_t)nc + 1, sizeof *ftys);
    IR_ASSERT(args && ftys);

    /* Small constant trip counts run inline: no runtime call at all. */
    int64_t tc, gc;
    if (is_const_int(p->total, &tc) && is_const_int(p->grain, &gc) && tc <= gc) {
        args[0] = cg_i64c(k, 0);
        args[1] = p->total;
        for (int i = 0; i < nc; i++)
            args[i + 2] = p->outer[i];
        if (tc > 0)
            LLVMBuildCall2(k->b, body_ty, p->body, args, (unsigned)nc + 2, "");
        goto done;
    }

    /* Closure struct of the captured values and a thunk that unpacks it. */
    for (int i = 0; i < nc; i++)
        ftys[i] = LLVMTypeOf(p->outer[i]);
    LLVMTypeRef sty = LLVMStructTypeInContext(k->ctx, ftys, (unsigned)nc, 0);
    LLVMTypeRef tps[3] = {cg_t_ptr(k), cg_t_i64(k), cg_t_i64(k)};
    size_t len;
    const char *bname = LLVMGetValueName2(p->body, &len);
    char name[340];
    snprintf(name, sizeof name, "%.*s_thunk", (int)(len < 300 ? len : 300), bname);
    LLVMValueRef thunk = LLVMAddFunction(k->mod, name, LLVMFunctionType(LLVMVoidTypeInContext(k->ctx), tps, 3, 0));
    LLVMSetLinkage(thunk, LLVMInternalLinkage);
    add_attr(k, thunk, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMBuilderRef tb = LLVMCreateBuilderInContext(k->ctx);
    LLVMPositionBuilderAtEnd(tb, LLVMAppendBasicBlockInContext(k->ctx, thunk, "entry"));
    args[0] = LLVMGetParam(thunk, 1);
    args[1] = LLVMGetParam(thunk, 2);
    for (int i = 0; i < nc; i++) {
        LLVMValueRef fp = LLVMBuildStructGEP2(tb, sty, LLVMGetParam(thunk, 0), (unsigned)i, "");
        args[i + 2] = LLVMBuildLoad2(tb, ftys[i], fp, "");
    }
    LLVMBuildCall2(tb, body_ty, p->body, args, (unsigned)nc + 2, "");
    LLVMBuildRetVoid(tb);
    LLVMDisposeBuilder(tb);

    LLVMBuilderRef ab = cg_entry_builder(k->ctx, k->fn);
    LLVMValueRef cl = LLVMBuildAlloca(ab, sty, "closure");
    LLVMDisposeBuilder(ab);
    for (int i = 0; i < nc; i++)
        LLVMBuildStore(k->b, p->outer[i], LLVMBuildStructGEP2(k->b, sty, cl, (unsigned)i, ""));
    LLVMTypeRef pfty;
    LLVMValueRef pf = parallel_for_decl(k, &pfty);
    LLVMValueRef cargs[4] = {thunk, cl, p->total, p->grain};
    LLVMBuildCall2(k->b, pfty, pf, cargs, 4, "");
done:
    free(args);
    free(ftys);
    free(p->outer);
}

/* ---- intrinsics ----------------------------------------------------------------------------------- */

LLVMValueRef cg_intrinsic(const CgKernel *k, const char *name, LLVMTypeRef *types, int ntypes, LLVMValueRef *args,
                          int nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    IR_ASSERT(id != 0);
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(k->mod, id, types, (size_t)ntypes);
    LLVMTypeRef fty = LLVMIntrinsicGetType(k->ctx, id, types, (size_t)ntypes);
    return LLVMBuildCall2(k->b, fty, f, args, (unsigned)nargs, "");
}

static LLVMValueRef libm_decl(const CgKernel *k, const char *name, LLVMTypeRef ty, int arity, LLVMTypeRef *fty)
{
    LLVMTypeRef ps[2] = {ty, ty};
    *fty = LLVMFunctionType(ty, ps, (unsigned)arity, 0);
    LLVMValueRef f = LLVMGetNamedFunction(k->mod, name);
    if (!f) {
        f = LLVMAddFunction(k->mod, name, *fty);
        add_attr(k, f, LLVMAttributeFunctionIndex, "nounwind", 0);
    }
    return f;
}

LLVMValueRef cg_libm1(const CgKernel *k, const char *name, LLVMValueRef x)
{
    LLVMTypeRef fty;
    LLVMValueRef f = libm_decl(k, name, LLVMTypeOf(x), 1, &fty);
    return LLVMBuildCall2(k->b, fty, f, &x, 1, "");
}

LLVMValueRef cg_libm2(const CgKernel *k, const char *name, LLVMValueRef x, LLVMValueRef y)
{
    LLVMTypeRef fty;
    LLVMValueRef f = libm_decl(k, name, LLVMTypeOf(x), 2, &fty);
    LLVMValueRef a[2] = {x, y};
    return LLVMBuildCall2(k->b, fty, f, a, 2, "");
}

LLVMValueRef cg_fast(LLVMValueRef v)
{
    if (LLVMCanValueUseFastMathFlags(v))
        LLVMSetFastMathFlags(v, LLVMFastMathAllowReassoc | LLVMFastMathAllowContract);
    return v;
}

/* ---- helpers shared by the emitters ------------------------------------------------------------- */

const IrValue *cg_kin(const CgKernel *k, int i)
{
    return (i < k->node->nin && k->node->in[i] >= 0) ? k->g->values[k->node->in[i]] : NULL;
}

const IrValue *cg_kout(const CgKernel *k, int i)
{
    return (i < k->node->nout && k->node->out[i] >= 0) ? k->g->values[k->node->out[i]] : NULL;
}

unsigned cg_align_of(IrDtype t)
{
    size_t s = srt_dtype_size(t);
    return s ? (unsigned)s : 1;
}

int cg_unsupported(CgKernel *k, const char *fmt, ...)
{
    char buf[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ir_node_error(k->d, k->node, "codegen does not support %s yet", buf);
    return -1;
}

int cg_known_ints(const IrValue *v, IrDim *out, int max)
{
    IrDim numel;
    if (!v || !ir_shape_numel(&v->shape, &numel) || numel.a != 0 || numel.b > max)
        return -1;
    int count = (int)numel.b;
    if (v->sym) {
        memcpy(out, v->sym, (size_t)count * sizeof *out);
        return count;
    }
    if (!v->data)
        return -1;
    for (int i = 0; i < count; i++) {
        int64_t x;
        switch (v->dtype) {
        case SRT_I64: x = ((const int64_t *)v->data)[i]; break;
        case SRT_I32: x = ((const int32_t *)v->data)[i]; break;
        case SRT_I8: x = ((const int8_t *)v->data)[i]; break;
        case SRT_U8:
        case SRT_BOOL: x = ((const uint8_t *)v->data)[i]; break;
        default: return -1;
        }
        out[i] = ir_dim_const(x);
    }
    return count;
}

LLVMValueRef cg_grain(const CgKernel *k, LLVMValueRef per_item, int64_t work)
{
    LLVMValueRef q = LLVMBuildSDiv(k->b, cg_i64c(k, work), cg_max64(k, per_item, cg_i64c(k, 1)), "");
    return cg_add(k, q, cg_i64c(k, 1));
}

int cg_lanes(const CgKernel *k, LLVMTypeRef elem)
{
    int bits = LLVMGetTypeKind(elem) == LLVMDoubleTypeKind || LLVMGetTypeKind(elem) == LLVMIntegerTypeKind
                   ? (int)(LLVMGetTypeKind(elem) == LLVMDoubleTypeKind ? 64 : LLVMGetIntTypeWidth(elem))
                   : 32;
    int w = k->target->vector_bits / bits;
    return w < 2 ? 2 : w;
}
