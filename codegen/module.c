/* LLVM module of a program: kernel functions, the inference entry, the ABI wrappers, the descriptor and the weights. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "codegen/cg_infra.h"
#include "runtime/sinter_model.h"

/* The generated library's ABI, emitted below (DESIGN.md "Generated library ABI"):
 *
 *   NAME_create/destroy/load/save/set_num_threads/error: exported aliases of internal wrappers
 *       that call srt_model_*(&descriptor, ...) in runtime/model.c.
 *   NAME_infer(m, n, in..., out...): stores its pointers into an array and calls
 *   NAME__infer_v(m, n, args):
 *       srt_model_begin(&descriptor, m, n, args, bufs)   -- checks arguments, scratch, threads
 *       stores compile-time (symbolic) values computed from n
 *       calls every kernel  void NAME__k<id>_<Op>(i64 n, ptr in..., ptr out...)  in order,
 *       with params at bufs[0] + offset, scratch at bufs[1] + (a*n+b), constants as globals
 *       copies into graph outputs that no kernel writes
 *       returns 0
 *   sinter_model_info: exported alias of the descriptor (SinterModelInfo, runtime/sinter_model.h).
 * Internal definitions plus exported aliases keep the library's own references from being
 * interposed by another library that exports the same names. */

typedef struct Emit {
    const CgProgram *p;
    const CgMachine *mach;
    const CgOptions *opt;
    IrDiag *d;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMTypeRef i8, i32, i64, ptr, vd;
    LLVMTypeRef tinfo_ty;           /* SinterTensorInfo */
    LLVMTypeRef info_ty;            /* SinterModelInfo */
    LLVMValueRef info;              /* the descriptor (internal) */
    LLVMValueRef *consts;           /* by value id: global of a CONST buffer */
    LLVMValueRef infer_v;
    LLVMTypeRef infer_v_ty;
} Emit;

static LLVMValueRef c64(Emit *e, int64_t v)
{
    return LLVMConstInt(e->i64, (unsigned long long)v, 1);
}

static void add_enum_attr(Emit *e, LLVMValueRef fn, LLVMAttributeIndex idx, const char *name, uint64_t val)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    IR_ASSERT(kind != 0);
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(e->ctx, kind, val));
}

static void add_string_attr(Emit *e, LLVMValueRef fn, const char *k, const char *v)
{
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(e->ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

/* A private constant global holding len bytes (NUL-terminated when nul). */
static LLVMValueRef bytes_global(Emit *e, const char *name, const void *data, size_t len, bool nul, unsigned align)
{
    LLVMValueRef init = LLVMConstStringInContext2(e->ctx, data, len, !nul);
    LLVMValueRef gv = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(gv, align);
    return gv;
}

static LLVMValueRef cstring(Emit *e, const char *s)
{
    return bytes_global(e, ".str", s, strlen(s), true, 1);
}

static LLVMValueRef declare(Emit *e, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, unsigned n,
                            LLVMTypeRef *fty)
{
    *fty = LLVMFunctionType(ret, params, n, 0);
    LLVMValueRef fn = LLVMGetNamedFunction(e->mod, name);
    if (!fn) {
        fn = LLVMAddFunction(e->mod, name, *fty);
        LLVMSetVisibility(fn, LLVMHiddenVisibility);
        add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    }
    return fn;
}

/* An internal function with an entry block; the builder is positioned there. */
static LLVMValueRef define(Emit *e, LLVMBuilderRef b, const char *name, LLVMTypeRef fty)
{
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    return fn;
}

/* ---- types of the descriptor (runtime/sinter_model.h: 8-byte fields only) ------------- */

static void make_types(Emit *e)
{
    e->i8 = LLVMInt8TypeInContext(e->ctx);
    e->i32 = LLVMInt32TypeInContext(e->ctx);
    e->i64 = LLVMInt64TypeInContext(e->ctx);
    e->ptr = LLVMPointerTypeInContext(e->ctx, 0);
    e->vd = LLVMVoidTypeInContext(e->ctx);
    /* name, dtype, rank, dims[8] as 16 i64, bytes.a, bytes.b, offset */
    LLVMTypeRef tf[] = {e->ptr, e->i64, e->i64, LLVMArrayType2(e->i64, 2 * SRT_MAX_RANK), e->i64, e->i64, e->i64};
    e->tinfo_ty = LLVMStructCreateNamed(e->ctx, "SinterTensorInfo");
    LLVMStructSetBody(e->tinfo_ty, tf, sizeof tf / sizeof *tf, 0);
    /* version, size, name, target, flags, ninputs, noutputs, nparams, inputs, outputs, params,
     * param_bytes, weights, scratch.a, scratch.b, max_n, create, destroy, load, save, infer,
     * set_num_threads, error */
    LLVMTypeRef mf[] = {e->i64, e->i64, e->ptr, e->ptr, e->i64, e->i64, e->i64, e->i64,
                        e->ptr, e->ptr, e->ptr, e->i64, e->ptr, e->i64, e->i64, e->i64,
                        e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr};
    e->info_ty = LLVMStructCreateNamed(e->ctx, "SinterModelInfo");
    LLVMStructSetBody(e->info_ty, mf, sizeof mf / sizeof *mf, 0);
}

static LLVMValueRef tensor_info(Emit *e, const IrValue *v, int64_t offset)
{
    LLVMValueRef dims[2 * SRT_MAX_RANK];
    for (int i = 0; i < SRT_MAX_RANK; i++) {
        bool in = i < v->shape.rank;
        dims[2 * i] = c64(e, in ? v->shape.d[i].a : 0);
        dims[2 * i + 1] = c64(e, in ? v->shape.d[i].b : 0);
    }
    IrDim bytes;
    IR_ASSERT(cg_value_bytes(v, &bytes, e->d));
    LLVMValueRef f[] = {cstring(e, v->name), c64(e, v->dtype), c64(e, v->shape.rank),
                        LLVMConstArray2(e->i64, dims, 2 * SRT_MAX_RANK), c64(e, bytes.a), c64(e, bytes.b),
                        c64(e, offset)};
    return LLVMConstNamedStruct(e->tinfo_ty, f, sizeof f / sizeof *f);
}

static LLVMValueRef tensor_array(Emit *e, const char *name, int count, const int *ids)
{
    if (count == 0)
        return LLVMConstPointerNull(e->ptr);
    LLVMValueRef *el = malloc((size_t)count * sizeof *el);
    IR_ASSERT(el);
    for (int i = 0; i < count; i++) {
        const CgBuffer *b = &e->p->buf[ids[i]];
        el[i] = tensor_info(e, e->p->g->values[ids[i]], b->storage == CG_STORE_PARAM ? b->offset.b : 0);
    }
    LLVMValueRef init = LLVMConstArray2(e->tinfo_ty, el, (uint64_t)count);
    free(el);
    LLVMValueRef gv = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetAlignment(gv, 8);
    return gv;
}

/* The initial param block (embedded weights). NULL pointer constant with external weights. */
static LLVMValueRef weights_global(Emit *e)
{
    const CgProgram *p = e->p;
    const IrGraph *g = p->g;
    if (e->opt->external_weights || p->param_bytes == 0)
        return LLVMConstPointerNull(e->ptr);
    unsigned char *block = calloc((size_t)p->param_bytes, 1);
    IR_ASSERT(block);
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        const CgBuffer *b = &p->buf[id];
        if (b->storage != CG_STORE_PARAM || b->size.b == 0)
            continue;
        if (!v->data) {
            ir_diag_error(e->d, v->name, "param has no value to embed: give it an init or a weights file, "
                          "or compile with --external-weights");
            free(block);
            return NULL;
        }
        memcpy(block + b->offset.b, v->data, (size_t)b->size.b);
    }
    char name[256];
    snprintf(name, sizeof name, "%s__weights", g->name);
    LLVMValueRef gv = bytes_global(e, name, block, (size_t)p->param_bytes, false, CG_ALIGN);
    free(block);
    return gv;
}

/* ---- the ABI wrappers ------------------------------------------------------------------ */

typedef struct Wrappers {
    LLVMValueRef create, destroy, load, save, threads, error;
} Wrappers;

/* An internal function named NAME__impl_SUFFIX exported as NAME_SUFFIX. */
static LLVMValueRef exported(Emit *e, LLVMBuilderRef b, const char *suffix, LLVMTypeRef fty)
{
    char impl[300], pub[300];
    snprintf(impl, sizeof impl, "%s__impl_%s", e->p->g->name, suffix);
    snprintf(pub, sizeof pub, "%s_%s", e->p->g->name, suffix);
    LLVMValueRef fn = define(e, b, impl, fty);
    add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef al = LLVMAddAlias2(e->mod, fty, 0, fn, pub);
    LLVMSetLinkage(al, LLVMExternalLinkage);
    LLVMSetVisibility(al, LLVMDefaultVisibility);
    return fn;
}

/* fn(args...) { return rt(&info, args...); } */
static LLVMValueRef forward(Emit *e, LLVMBuilderRef b, const char *suffix, const char *rt_name, LLVMTypeRef ret,
                            LLVMTypeRef *params, unsigned n)
{
    LLVMTypeRef fty = LLVMFunctionType(ret, params, n, 0);
    LLVMValueRef fn = exported(e, b, suffix, fty);
    LLVMTypeRef rparams[8], rty;
    rparams[0] = e->ptr;
    for (unsigned i = 0; i < n; i++)
        rparams[i + 1] = params[i];
    LLVMValueRef rt = declare(e, rt_name, ret, rparams, n + 1, &rty);
    LLVMValueRef args[8];
    args[0] = e->info;
    for (unsigned i = 0; i < n; i++)
        args[i + 1] = LLVMGetParam(fn, i);
    LLVMValueRef r = LLVMBuildCall2(b, rty, rt, args, n + 1, "");
    if (ret == e->vd)
        LLVMBuildRetVoid(b);
    else
        LLVMBuildRet(b, r);
    return fn;
}

static void emit_wrappers(Emit *e, LLVMBuilderRef b, Wrappers *w)
{
    LLVMTypeRef p1[] = {e->ptr}, p2[] = {e->ptr, e->ptr}, pt[] = {e->ptr, e->i32};
    w->create = forward(e, b, "create", "srt_model_create", e->ptr, NULL, 0);
    w->destroy = forward(e, b, "destroy", "srt_model_destroy", e->vd, p1, 1);
    w->load = forward(e, b, "load", "srt_model_load", e->i32, p2, 2);
    w->save = forward(e, b, "save", "srt_model_save", e->i32, p2, 2);
    w->threads = forward(e, b, "set_num_threads", "srt_model_set_num_threads", e->i32, pt, 2);
    w->error = forward(e, b, "error", "srt_model_error", e->ptr, p1, 1);

    /* NAME_infer(m, n, p0, ..., pk) -> infer_v(m, n, {p0, ..., pk}) */
    const IrGraph *g = e->p->g;
    int nargs = g->ninputs + g->noutputs;
    LLVMTypeRef *ps = malloc((size_t)(nargs + 2) * sizeof *ps);
    IR_ASSERT(ps);
    ps[0] = e->ptr;
    ps[1] = e->i64;
    for (int i = 0; i < nargs; i++)
        ps[i + 2] = e->ptr;
    LLVMValueRef fn = exported(e, b, "infer", LLVMFunctionType(e->i32, ps, (unsigned)nargs + 2, 0));
    free(ps);
    LLVMValueRef arr = LLVMBuildAlloca(b, LLVMArrayType2(e->ptr, (uint64_t)(nargs ? nargs : 1)), "args");
    for (int i = 0; i < nargs; i++) {
        LLVMValueRef idx = c64(e, i);
        LLVMValueRef slot = LLVMBuildGEP2(b, e->ptr, arr, &idx, 1, "");
        LLVMBuildStore(b, LLVMGetParam(fn, (unsigned)i + 2), slot);
    }
    LLVMValueRef cargs[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), arr};
    LLVMBuildRet(b, LLVMBuildCall2(b, e->infer_v_ty, e->infer_v, cargs, 3, ""));
}

/* ---- the descriptor --------------------------------------------------------------------- */

static int emit_descriptor(Emit *e, const Wrappers *w)
{
    const CgProgram *p = e->p;
    const IrGraph *g = p->g;
    char name[300];
    int nparams = 0;
    int *pids = malloc(((size_t)g->nvalues + 1) * sizeof *pids);
    IR_ASSERT(pids);
    for (int id = 0; id < g->nvalues; id++)
        if (p->buf[id].storage == CG_STORE_PARAM)
            pids[nparams++] = id;
    LLVMValueRef weights = weights_global(e);
    if (!weights) {
        free(pids);
        return -1;
    }
    snprintf(name, sizeof name, "%s__inputs", g->name);
    LLVMValueRef ins = tensor_array(e, name, g->ninputs, g->inputs);
    snprintf(name, sizeof name, "%s__outputs", g->name);
    LLVMValueRef outs = tensor_array(e, name, g->noutputs, g->outputs);
    snprintf(name, sizeof name, "%s__params", g->name);
    LLVMValueRef prm = tensor_array(e, name, nparams, pids);
    free(pids);
    LLVMValueRef f[] = {c64(e, SINTER_MODEL_INFO_VERSION), c64(e, (int64_t)sizeof(SinterModelInfo)), cstring(e, g->name),
                        cstring(e, e->mach->triple), c64(e, e->opt->external_weights ? 1 : 0),
                        c64(e, g->ninputs), c64(e, g->noutputs), c64(e, nparams), ins, outs, prm,
                        c64(e, p->param_bytes), weights, c64(e, p->scratch_bytes.a), c64(e, p->scratch_bytes.b),
                        c64(e, p->max_n), w->create, w->destroy, w->load, w->save, e->infer_v, w->threads,
                        w->error};
    LLVMSetInitializer(e->info, LLVMConstNamedStruct(e->info_ty, f, sizeof f / sizeof *f));
    LLVMValueRef al = LLVMAddAlias2(e->mod, e->info_ty, 0, e->info, "sinter_model_info");
    LLVMSetLinkage(al, LLVMExternalLinkage);
    LLVMSetVisibility(al, LLVMDefaultVisibility);
    return 0;
}

/* ---- kernels and the inference entry ------------------------------------------------------ */

/* Alignment the kernel may assume for value v's buffer: the plan aligns its own buffers;
 * the caller's (inputs, outputs) only to the element size. */
static unsigned buffer_align(const CgProgram *p, int v)
{
    const CgBuffer *b = &p->buf[v];
    if (b->storage == CG_STORE_VIEW)
        b = &p->buf[b->view_of];
    if (b->storage == CG_STORE_INPUT || b->storage == CG_STORE_OUTPUT)
        return (unsigned)srt_dtype_size(p->g->values[v]->dtype);
    return CG_ALIGN;
}

static LLVMValueRef kernel_function(Emit *e, const IrNode *n)
{
    const CgProgram *p = e->p;
    int np = 1 + n->nin + n->nout;
    LLVMTypeRef *ps = malloc((size_t)np * sizeof *ps);
    IR_ASSERT(ps);
    ps[0] = e->i64;
    for (int i = 1; i < np; i++)
        ps[i] = e->ptr;
    char name[300];
    snprintf(name, sizeof name, "%s__k%d_%s", p->g->name, n->id, ir_op_name(n->op));
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, LLVMFunctionType(e->vd, ps, (unsigned)np, 0));
    free(ps);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    for (int i = 0; i < n->nin + n->nout; i++) {
        int v = i < n->nin ? n->in[i] : n->out[i - n->nin];
        if (v < 0)
            continue;
        add_enum_attr(e, fn, (LLVMAttributeIndex)(i + 2), "noalias", 0);
        add_enum_attr(e, fn, (LLVMAttributeIndex)(i + 2), "align", buffer_align(p, v));
    }
    return fn;
}

static int emit_kernel(Emit *e, const IrNode *n, LLVMValueRef fn)
{
    LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    LLVMValueRef *in = calloc((size_t)n->nin + 1, sizeof *in);
    LLVMValueRef *out = calloc((size_t)n->nout + 1, sizeof *out);
    IR_ASSERT(in && out);
    for (int i = 0; i < n->nin; i++)
        in[i] = n->in[i] >= 0 ? LLVMGetParam(fn, (unsigned)(1 + i)) : NULL;
    for (int i = 0; i < n->nout; i++)
        out[i] = n->out[i] >= 0 ? LLVMGetParam(fn, (unsigned)(1 + n->nin + i)) : NULL;
    CgKernel k = {e->ctx, e->mod, b, fn, LLVMGetParam(fn, 0), in, out, e->p->g, n, &e->mach->target, e->d};
    int rc = cg_emit_kernel(&k);
    free(in);
    free(out);
    LLVMDisposeBuilder(b);
    return rc;
}

/* a*n + b as an i64 value. */
static LLVMValueRef dim_value(Emit *e, LLVMBuilderRef b, LLVMValueRef n, IrDim x)
{
    if (x.a == 0)
        return c64(e, x.b);
    LLVMValueRef v = x.a == 1 ? n : LLVMBuildNSWMul(b, n, c64(e, x.a), "");
    return x.b ? LLVMBuildNSWAdd(b, v, c64(e, x.b), "") : v;
}

typedef struct Entry {
    LLVMValueRef n, params, scratch;
    LLVMValueRef *args;             /* inputs then outputs */
} Entry;

/* Pointer to value v's bytes inside the entry. */
static LLVMValueRef buffer_ptr(Emit *e, LLVMBuilderRef b, const Entry *en, int v)
{
    const CgProgram *p = e->p;
    const CgBuffer *buf = &p->buf[v];
    if (buf->storage == CG_STORE_VIEW) {
        v = buf->view_of;
        buf = &p->buf[v];
    }
    LLVMValueRef off;
    switch (buf->storage) {
    case CG_STORE_INPUT:
        return en->args[buf->arg];
    case CG_STORE_OUTPUT:
        return en->args[p->g->ninputs + buf->arg];
    case CG_STORE_CONST:
        return e->consts[v];
    case CG_STORE_PARAM:
        off = c64(e, buf->offset.b);
        return LLVMBuildInBoundsGEP2(b, e->i8, en->params, &off, 1, "");
    case CG_STORE_SCRATCH:
    case CG_STORE_SYMBOLIC:
        off = dim_value(e, b, en->n, buf->offset);
        return LLVMBuildGEP2(b, e->i8, en->scratch, &off, 1, "");
    default:
        IR_ASSERT(!"value has no buffer");
        return NULL;
    }
}

/* Store the compile-time content of v (IrValue.sym at this n) into its buffer. */
static void store_symbolic(Emit *e, LLVMBuilderRef b, const Entry *en, const IrValue *v)
{
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&v->shape, &numel) && numel.a == 0);
    LLVMValueRef base = buffer_ptr(e, b, en, v->id);
    LLVMTypeRef ty = v->dtype == SRT_I64 ? e->i64 : e->i32;
    for (int64_t i = 0; i < numel.b; i++) {
        LLVMValueRef x = dim_value(e, b, en->n, v->sym[i]);
        if (ty != e->i64)
            x = LLVMBuildTrunc(b, x, ty, "");
        LLVMValueRef idx = c64(e, i);
        LLVMValueRef st = LLVMBuildStore(b, x, LLVMBuildGEP2(b, ty, base, &idx, 1, ""));
        LLVMSetAlignment(st, (unsigned)srt_dtype_size(v->dtype));
    }
}

static int emit_entry(Emit *e)
{
    const CgProgram *p = e->p;
    const IrGraph *g = p->g;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
    char name[300];

    /* Kernel functions first (their bodies may add helpers to the module). */
    LLVMValueRef *kfn = calloc((size_t)p->nsteps + 1, sizeof *kfn);
    bool *in_kernel = calloc((size_t)g->nnodes + 1, sizeof *in_kernel);
    IR_ASSERT(kfn && in_kernel);
    int rc = 0;
    for (int s = 0; s < p->nsteps && rc == 0; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind != CG_STEP_KERNEL)
            continue;
        IR_ASSERT(st->nnodes == 1);
        const IrNode *n = g->nodes[st->nodes[0]];
        in_kernel[n->id] = true;
        kfn[s] = kernel_function(e, n);
        rc = emit_kernel(e, n, kfn[s]);
    }
    if (rc != 0)
        goto out;

    LLVMTypeRef vps[] = {e->ptr, e->i64, e->ptr};
    e->infer_v_ty = LLVMFunctionType(e->i32, vps, 3, 0);
    snprintf(name, sizeof name, "%s__infer_v", g->name);
    e->infer_v = define(e, b, name, e->infer_v_ty);
    add_enum_attr(e, e->infer_v, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef fn = e->infer_v;
    Entry en;
    en.n = LLVMGetParam(fn, 1);
    LLVMValueRef args = LLVMGetParam(fn, 2);

    LLVMTypeRef bty;
    LLVMTypeRef bps[] = {e->ptr, e->ptr, e->i64, e->ptr, e->ptr};
    LLVMValueRef begin = declare(e, "srt_model_begin", e->i32, bps, 5, &bty);
    LLVMValueRef bufs = LLVMBuildAlloca(b, LLVMArrayType2(e->ptr, 2), "bufs");
    LLVMValueRef bargs[] = {e->info, LLVMGetParam(fn, 0), en.n, args, bufs};
    LLVMValueRef st = LLVMBuildCall2(b, bty, begin, bargs, 5, "status");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->ctx, fn, "run");
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->ctx, fn, "fail");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, st, LLVMConstInt(e->i32, 0, 0), ""), ok, bad);
    LLVMPositionBuilderAtEnd(b, bad);
    LLVMBuildRet(b, st);
    LLVMPositionBuilderAtEnd(b, ok);
    LLVMValueRef one = c64(e, 1);
    en.params = LLVMBuildLoad2(b, e->ptr, bufs, "params");
    en.scratch = LLVMBuildLoad2(b, e->ptr, LLVMBuildGEP2(b, e->ptr, bufs, &one, 1, ""), "scratch");
    int nargs = g->ninputs + g->noutputs;
    en.args = calloc((size_t)nargs + 1, sizeof *en.args);
    IR_ASSERT(en.args);
    for (int i = 0; i < nargs; i++) {
        LLVMValueRef idx = c64(e, i);
        en.args[i] = LLVMBuildLoad2(b, e->ptr, LLVMBuildGEP2(b, e->ptr, args, &idx, 1, ""), "");
    }

    /* Compile-time values the program reads or returns. */
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        CgStorage sto = p->buf[id].storage;
        if (sto == CG_STORE_SYMBOLIC || (sto == CG_STORE_OUTPUT && !in_kernel[v->producer]))
            store_symbolic(e, b, &en, v);
    }
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *cs = &p->steps[s];
        if (cs->kind == CG_STEP_COPY) {
            const IrValue *src = g->values[cs->src];
            IrDim bytes;
            IR_ASSERT(cg_value_bytes(src, &bytes, e->d));
            LLVMValueRef dst = en.args[g->ninputs + cs->out_index];
            unsigned al = (unsigned)srt_dtype_size(src->dtype);
            LLVMBuildMemCpy(b, dst, al, buffer_ptr(e, b, &en, src->id), al, dim_value(e, b, en.n, bytes));
            continue;
        }
        const IrNode *n = g->nodes[cs->nodes[0]];
        int na = 1 + n->nin + n->nout;
        LLVMValueRef *ka = malloc((size_t)na * sizeof *ka);
        IR_ASSERT(ka);
        ka[0] = en.n;
        for (int i = 0; i < n->nin + n->nout; i++) {
            int v = i < n->nin ? n->in[i] : n->out[i - n->nin];
            ka[i + 1] = v < 0 ? LLVMConstPointerNull(e->ptr) : buffer_ptr(e, b, &en, v);
        }
        LLVMBuildCall2(b, LLVMGlobalGetValueType(kfn[s]), kfn[s], ka, (unsigned)na, "");
        free(ka);
    }
    LLVMBuildRet(b, LLVMConstInt(e->i32, 0, 0));
    free(en.args);
out:
    free(kfn);
    free(in_kernel);
    LLVMDisposeBuilder(b);
    return rc;
}

/* target-cpu/target-features on every function defined in the module (kernels' helpers too). */
static void add_target_attrs(Emit *e)
{
    const CgTarget *t = &e->mach->target;
    char width[16];
    snprintf(width, sizeof width, "%d", t->vector_bits);
    for (LLVMValueRef fn = LLVMGetFirstFunction(e->mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (LLVMIsDeclaration(fn))
            continue;
        add_string_attr(e, fn, "target-cpu", e->mach->cpu);
        if (*e->mach->features)
            add_string_attr(e, fn, "target-features", e->mach->features);
        if (e->mach->x86)
            add_string_attr(e, fn, "prefer-vector-width", width);
    }
}

LLVMModuleRef cg_build_module(const CgProgram *p, const CgMachine *m, const CgOptions *o, LLVMContextRef ctx,
                              IrDiag *d)
{
    const IrGraph *g = p->g;
    Emit e;
    memset(&e, 0, sizeof e);
    e.p = p;
    e.mach = m;
    e.opt = o;
    e.d = d;
    e.ctx = ctx;
    e.mod = LLVMModuleCreateWithNameInContext(g->name, ctx);
    LLVMSetTarget(e.mod, m->triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(m->tm);
    char *layout = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(e.mod, layout);
    LLVMDisposeMessage(layout);
    LLVMDisposeTargetData(td);
    make_types(&e);

    char name[300];
    snprintf(name, sizeof name, "%s__info", g->name);
    e.info = LLVMAddGlobal(e.mod, e.info_ty, name);
    LLVMSetLinkage(e.info, LLVMInternalLinkage);
    LLVMSetGlobalConstant(e.info, 1);
    LLVMSetAlignment(e.info, 8);

    e.consts = calloc((size_t)g->nvalues + 1, sizeof *e.consts);
    IR_ASSERT(e.consts);
    for (int id = 0; id < g->nvalues; id++) {
        const CgBuffer *b = &p->buf[id];
        if (b->storage != CG_STORE_CONST)
            continue;
        static const char zero[1];
        snprintf(name, sizeof name, "%s__c%d", g->name, id);
        e.consts[id] = bytes_global(&e, name, b->size.b ? g->values[id]->data : zero, (size_t)b->size.b, false,
                                    CG_ALIGN);
    }

    LLVMBuilderRef bld = LLVMCreateBuilderInContext(ctx);
    Wrappers w;
    int rc = emit_entry(&e);
    if (rc == 0) {
        emit_wrappers(&e, bld, &w);
        rc = emit_descriptor(&e, &w);
    }
    LLVMDisposeBuilder(bld);
    free(e.consts);
    if (rc == 0) {
        add_target_attrs(&e);
        char *msg = NULL;
        if (LLVMVerifyModule(e.mod, LLVMReturnStatusAction, &msg)) {
            /* One line: the verifier's first complaint. */
            char *nl = msg ? strchr(msg, '\n') : NULL;
            if (nl)
                *nl = '\0';
            ir_diag_error(d, g->name, "internal error: the generated LLVM module is invalid: %s", msg ? msg : "?");
            rc = -1;
        }
        LLVMDisposeMessage(msg);
    }
    if (rc != 0) {
        LLVMDisposeModule(e.mod);
        return NULL;
    }
    return e.mod;
}
