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
 *       calls every kernel  void NAME__k<id>_<Op>(i64 n, ptr in..., ptr out... [, ptr err])  in
 *       order, with params at bufs[0] + offset, scratch at bufs[1] + (a*n+b), constants as
 *       globals, err the call's fault word for kernels that check their data (codegen/fault.c)
 *       copies into graph outputs that no kernel writes
 *       a fault: returns srt_model_fault(...) = SINTER_EDATA naming the node
 *       --check-finite: srt_model_check_finite on every float output
 *       returns 0
 *   sinter_model_info: exported alias of the descriptor (SinterModelInfo, runtime/sinter_model.h).
 * With a training section (codegen/train.c):
 *   NAME__grad_run(m, n, args, loss, fn): srt_model_begin_train (bufs[2] = gradient buffer), label
 *       checks of the caller's labels, the gradient program's kernels NAME__t<id>_<Op>, update copies
 *   NAME__apply_run(m, fn): srt_model_begin_apply, the optimizer program's kernels, update copies
 *   NAME__train_v(m, n, args, loss) = grad_run then apply_run; NAME__grad_v, NAME__apply_v:
 *       the descriptor's train_step/grad/apply; NAME__init_state(params): initial optimizer state
 *   NAME_train_step/grad(m, n, in..., training in..., loss), NAME_apply(m), NAME_grads,
 *       NAME_set_lr, NAME_get_step: exported wrappers (the last three call srt_model_*)
 * Internal definitions plus exported aliases keep the library's own references from being
 * interposed by another library that exports the same names. */

typedef struct Emit {
    const CgProgram *p;             /* inference */
    const CgTrainPlan *tp;          /* training, or NULL */
    const CgMachine *mach;
    const CgOptions *opt;
    IrDiag *d;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMTypeRef i8, i32, i64, f32, ptr, vd;
    LLVMTypeRef tinfo_ty;           /* SinterTensorInfo */
    LLVMTypeRef info_ty;            /* SinterModelInfo */
    LLVMValueRef info;              /* the descriptor (internal) */
    LLVMValueRef *consts;           /* by value id of the inference graph: global of a CONST buffer */
    LLVMValueRef *tconsts;          /* by value id of the training graph (created on first use) */
    LLVMValueRef infer_v;
    LLVMTypeRef infer_v_ty;
    /* training entries (NULL without a training section) */
    LLVMValueRef grad_run, apply_run, train_v, grad_v, apply_v, init_state;
    LLVMTypeRef grad_run_ty, apply_run_ty, train_v_ty, apply_v_ty;
    CgFaults faults;                /* run-time check sites of every program (codegen/fault.c) */
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
    e->f32 = LLVMFloatTypeInContext(e->ctx);
    e->ptr = LLVMPointerTypeInContext(e->ctx, 0);
    e->vd = LLVMVoidTypeInContext(e->ctx);
    /* name, dtype, rank, dims[8] as 16 i64, bytes.a, bytes.b, offset */
    LLVMTypeRef tf[] = {e->ptr, e->i64, e->i64, LLVMArrayType2(e->i64, 2 * SRT_MAX_RANK), e->i64, e->i64, e->i64};
    e->tinfo_ty = LLVMStructCreateNamed(e->ctx, "SinterTensorInfo");
    LLVMStructSetBody(e->tinfo_ty, tf, sizeof tf / sizeof *tf, 0);
    /* version, size, name, target, flags, ninputs, noutputs, nparams, inputs, outputs, params,
     * param_bytes, weights, scratch.a, scratch.b, max_n, create, destroy, load, save, infer,
     * set_num_threads, error; version 2: ntraining_inputs, training_inputs, nstate, state,
     * state_bytes, ngrad_params, grad_params, grad_count, train_scratch.a, train_scratch.b,
     * apply_scratch_bytes, train_max_n, step_offset, lr_offset, lr_dtype, init_state,
     * train_step, grad, apply, grads, set_lr, get_step */
    LLVMTypeRef mf[] = {e->i64, e->i64, e->ptr, e->ptr, e->i64, e->i64, e->i64, e->i64,
                        e->ptr, e->ptr, e->ptr, e->i64, e->ptr, e->i64, e->i64, e->i64,
                        e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr,
                        e->i64, e->ptr, e->i64, e->ptr, e->i64, e->i64, e->ptr, e->i64,
                        e->i64, e->i64, e->i64, e->i64, e->i64, e->i64, e->i64, e->ptr,
                        e->ptr, e->ptr, e->ptr, e->ptr, e->ptr, e->ptr};
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

/* Tensor infos of values ids[] of graph g; offsets[i] (NULL: 0 each). */
static LLVMValueRef tensor_array(Emit *e, const IrGraph *g, const char *name, int count, const int *ids,
                                 const int64_t *offsets)
{
    if (count == 0)
        return LLVMConstPointerNull(e->ptr);
    LLVMValueRef *el = srt_malloc((size_t)count * sizeof *el);
    IR_ASSERT(el);
    for (int i = 0; i < count; i++)
        el[i] = tensor_info(e, g->values[ids[i]], offsets ? offsets[i] : 0);
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
    unsigned char *block = srt_calloc((size_t)p->param_bytes, 1);
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
    LLVMValueRef grads, set_lr, get_step;      /* training */
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

/* NAME_SUFFIX(m, n, p0, ..., pk[, loss]) -> target(m, n, {p0, ..., pk}[, loss]) */
static void packing_wrapper(Emit *e, LLVMBuilderRef b, const char *suffix, int nargs, bool loss, LLVMValueRef target,
                            LLVMTypeRef target_ty)
{
    int np = nargs + 2 + (loss ? 1 : 0);
    LLVMTypeRef *ps = srt_malloc((size_t)np * sizeof *ps);
    IR_ASSERT(ps);
    ps[0] = e->ptr;
    ps[1] = e->i64;
    for (int i = 2; i < np; i++)
        ps[i] = e->ptr;
    LLVMValueRef fn = exported(e, b, suffix, LLVMFunctionType(e->i32, ps, (unsigned)np, 0));
    free(ps);
    LLVMValueRef arr = LLVMBuildAlloca(b, LLVMArrayType2(e->ptr, (uint64_t)(nargs ? nargs : 1)), "args");
    for (int i = 0; i < nargs; i++) {
        LLVMValueRef idx = c64(e, i);
        LLVMValueRef slot = LLVMBuildGEP2(b, e->ptr, arr, &idx, 1, "");
        LLVMBuildStore(b, LLVMGetParam(fn, (unsigned)i + 2), slot);
    }
    LLVMValueRef cargs[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), arr, loss ? LLVMGetParam(fn, (unsigned)np - 1)
                                                                               : NULL};
    LLVMBuildRet(b, LLVMBuildCall2(b, target_ty, target, cargs, loss ? 4 : 3, ""));
}

static void emit_wrappers(Emit *e, LLVMBuilderRef b, Wrappers *w)
{
    LLVMTypeRef p1[] = {e->ptr}, p2[] = {e->ptr, e->ptr}, pt[] = {e->ptr, e->i32}, pl[] = {e->ptr, e->f32};
    w->create = forward(e, b, "create", "srt_model_create", e->ptr, NULL, 0);
    w->destroy = forward(e, b, "destroy", "srt_model_destroy", e->vd, p1, 1);
    w->load = forward(e, b, "load", "srt_model_load", e->i32, p2, 2);
    w->save = forward(e, b, "save", "srt_model_save", e->i32, p2, 2);
    w->threads = forward(e, b, "set_num_threads", "srt_model_set_num_threads", e->i32, pt, 2);
    w->error = forward(e, b, "error", "srt_model_error", e->ptr, p1, 1);
    const IrGraph *g = e->p->g;
    packing_wrapper(e, b, "infer", g->ninputs + g->noutputs, false, e->infer_v, e->infer_v_ty);
    w->grads = w->set_lr = w->get_step = NULL;
    if (!e->tp)
        return;
    int nargs = g->ninputs + g->training->ninputs;
    packing_wrapper(e, b, "train_step", nargs, true, e->train_v, e->train_v_ty);
    packing_wrapper(e, b, "grad", nargs, true, e->grad_v, e->train_v_ty);
    LLVMValueRef fn = exported(e, b, "apply", e->apply_v_ty);
    LLVMValueRef m = LLVMGetParam(fn, 0);
    LLVMBuildRet(b, LLVMBuildCall2(b, e->apply_v_ty, e->apply_v, &m, 1, ""));
    w->grads = forward(e, b, "grads", "srt_model_grads", e->ptr, p2, 2);
    w->set_lr = forward(e, b, "set_lr", "srt_model_set_lr", e->i32, pl, 2);
    w->get_step = forward(e, b, "get_step", "srt_model_get_step", e->i64, p1, 1);
}

/* ---- the descriptor --------------------------------------------------------------------- */

static LLVMValueRef null_ptr(Emit *e)
{
    return LLVMConstPointerNull(e->ptr);
}

static int emit_descriptor(Emit *e, const Wrappers *w)
{
    const CgProgram *p = e->p;
    const IrGraph *g = p->g;
    char name[300];
    int nparams = 0;
    int *pids = srt_malloc(((size_t)g->nvalues + 1) * sizeof *pids);
    int64_t *poff = srt_malloc(((size_t)g->nvalues + 1) * sizeof *poff);
    IR_ASSERT(pids && poff);
    for (int id = 0; id < g->nvalues; id++)
        if (p->buf[id].storage == CG_STORE_PARAM) {
            poff[nparams] = p->buf[id].offset.b;
            pids[nparams++] = id;
        }
    LLVMValueRef weights = weights_global(e);
    if (!weights) {
        free(pids);
        free(poff);
        return -1;
    }
    snprintf(name, sizeof name, "%s__inputs", g->name);
    LLVMValueRef ins = tensor_array(e, g, name, g->ninputs, g->inputs, NULL);
    snprintf(name, sizeof name, "%s__outputs", g->name);
    LLVMValueRef outs = tensor_array(e, g, name, g->noutputs, g->outputs, NULL);
    snprintf(name, sizeof name, "%s__params", g->name);
    LLVMValueRef prm = tensor_array(e, g, name, nparams, pids, poff);
    free(pids);
    free(poff);

    /* training fields */
    const CgTrainPlan *t = e->tp;
    LLVMValueRef tins = null_ptr(e), st = null_ptr(e), gps = null_ptr(e);
    int64_t flags = e->opt->external_weights ? SINTER_MODEL_EXTERNAL_WEIGHTS : 0;
    int64_t ntin = 0, nstate = 0, ngrad = 0;
    if (t) {
        const IrGraph *tg = t->tg;
        flags |= SINTER_MODEL_TRAINING;
        ntin = g->training->ninputs;
        snprintf(name, sizeof name, "%s__training_inputs", g->name);
        tins = tensor_array(e, g, name, (int)ntin, g->training->inputs, NULL);
        nstate = t->nstate;
        int64_t *off = srt_malloc(((size_t)t->nstate + (size_t)t->ngrads + 1) * sizeof *off);
        IR_ASSERT(off);
        for (int i = 0; i < t->nstate; i++)
            off[i] = t->offset[t->state[i]];
        snprintf(name, sizeof name, "%s__state", g->name);
        st = tensor_array(e, tg, name, t->nstate, t->state, off);
        ngrad = t->ngrads;
        for (int i = 0; i < t->ngrads; i++)
            off[i] = t->grad_offset[tg->training->grad_value[i]];
        snprintf(name, sizeof name, "%s__grad_params", g->name);
        gps = tensor_array(e, tg, name, t->ngrads, tg->training->grad_param, off);
        free(off);
    }
    IrDim tsc = t ? t->grad->scratch_bytes : ir_dim_const(0);
    int64_t tmax = t ? (t->grad->max_n < t->apply->max_n ? t->grad->max_n : t->apply->max_n) : 0;
    LLVMValueRef f[] = {c64(e, SINTER_MODEL_INFO_VERSION), c64(e, (int64_t)sizeof(SinterModelInfo)), cstring(e, g->name),
                        cstring(e, e->mach->triple), c64(e, flags),
                        c64(e, g->ninputs), c64(e, g->noutputs), c64(e, nparams), ins, outs, prm,
                        c64(e, p->param_bytes), weights, c64(e, p->scratch_bytes.a), c64(e, p->scratch_bytes.b),
                        c64(e, p->max_n), w->create, w->destroy, w->load, w->save, e->infer_v, w->threads,
                        w->error,
                        c64(e, ntin), tins, c64(e, nstate), st, c64(e, t ? t->state_bytes : 0), c64(e, ngrad), gps,
                        c64(e, t ? t->grad_count : 0), c64(e, tsc.a), c64(e, tsc.b),
                        c64(e, t ? t->apply->scratch_bytes.b : 0), c64(e, tmax),
                        c64(e, t && t->step >= 0 ? t->offset[t->step] : -1),
                        c64(e, t && t->lr >= 0 ? t->offset[t->lr] : -1),
                        c64(e, t && t->lr >= 0 ? t->tg->values[t->lr]->dtype : SRT_F32),
                        t ? e->init_state : null_ptr(e), t ? e->train_v : null_ptr(e), t ? e->grad_v : null_ptr(e),
                        t ? e->apply_v : null_ptr(e), t ? w->grads : null_ptr(e), t ? w->set_lr : null_ptr(e),
                        t ? w->get_step : null_ptr(e)};
    _Static_assert(sizeof f / sizeof *f == sizeof(SinterModelInfo) / 8, "descriptor fields");
    LLVMSetInitializer(e->info, LLVMConstNamedStruct(e->info_ty, f, sizeof f / sizeof *f));
    LLVMValueRef al = LLVMAddAlias2(e->mod, e->info_ty, 0, e->info, "sinter_model_info");
    /* weak: objects of several models link into one program (sinter_add_model) */
    LLVMSetLinkage(al, LLVMWeakAnyLinkage);
    LLVMSetVisibility(al, LLVMDefaultVisibility);
    return 0;
}

/* ---- kernels and program bodies ---------------------------------------------------------- */

/* The buffer behind value v (views resolved). */
static const CgBuffer *root_buffer(const CgProgram *p, int v)
{
    const CgBuffer *b = &p->buf[v];
    return b->storage == CG_STORE_VIEW ? &p->buf[b->view_of] : b;
}

/* Alignment the kernel may assume for value v's buffer: the plan aligns its own buffers;
 * the caller's (inputs, outputs) and the packed gradient buffer only to the element size. */
static unsigned buffer_align(const CgProgram *p, int v)
{
    const CgBuffer *b = root_buffer(p, v);
    if (b->storage == CG_STORE_INPUT || b->storage == CG_STORE_OUTPUT || b->storage == CG_STORE_GRAD)
        return (unsigned)srt_dtype_size(p->g->values[v]->dtype);
    return CG_ALIGN;
}

/* Do kernel arguments a and b (value ids) share a param slot (an update planned in place)? */
static bool same_param_slot(const CgProgram *p, int a, int b)
{
    const CgBuffer *x = root_buffer(p, a), *y = root_buffer(p, b);
    return x->storage == CG_STORE_PARAM && y->storage == CG_STORE_PARAM && ir_dim_eq(x->offset, y->offset);
}

/* Does a node of kernel step st check its data at run time (cg_node_may_fault)? */
static bool step_may_fault(const CgProgram *p, const CgStep *st)
{
    for (int k = 0; st->kind == CG_STEP_KERNEL && k < st->nnodes; k++)
        if (cg_node_may_fault(p->g, p->g->nodes[st->nodes[k]]))
            return true;
    return false;
}

/* void NAME__<prefix><id>_<Op>(i64 n, ptr arg... [, ptr err]) for the step's arguments (err: the
 * call's fault word, when the step checks its data); noalias on every pointer except where an
 * output shares its bytes with another argument (in place). The name takes the anchor's (or last
 * node's) id and op. */
static LLVMValueRef kernel_function(Emit *e, const CgProgram *p, const CgStep *st, const char *prefix)
{
    int na = st->nargs;
    bool err = step_may_fault(p, st);
    LLVMTypeRef *ps = srt_malloc(((size_t)na + 2) * sizeof *ps);
    IR_ASSERT(ps);
    ps[0] = e->i64;
    for (int i = 0; i < na + err; i++)
        ps[i + 1] = e->ptr;
    const IrNode *n = p->g->nodes[st->anchor >= 0 ? st->anchor : st->nodes[st->nnodes - 1]];
    char name[300];
    snprintf(name, sizeof name, "%s__%s%d_%s%s", p->g->name, prefix, n->id, ir_op_name(n->op),
             st->nnodes > 1 ? "_group" : "");
    LLVMValueRef fn = LLVMAddFunction(e->mod, name, LLVMFunctionType(e->vd, ps, (unsigned)(na + 1 + err), 0));
    free(ps);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    for (int i = 0; i < na; i++) {
        int v = st->args[i];
        bool alias = false;
        for (int j = 0; j < na && !alias; j++)
            alias = j != i && (i >= st->nargs_in || j >= st->nargs_in) && same_param_slot(p, st->args[j], v);
        if (!alias)
            add_enum_attr(e, fn, (LLVMAttributeIndex)(i + 2), "noalias", 0);
        add_enum_attr(e, fn, (LLVMAttributeIndex)(i + 2), "align", buffer_align(p, v));
    }
    return fn;
}

/* Index of value v among the step's arguments, or -1. */
static int arg_index(const CgStep *st, int v)
{
    for (int a = 0; a < st->nargs; a++)
        if (st->args[a] == v)
            return a;
    return -1;
}

static int emit_kernel(Emit *e, const CgProgram *p, const CgStep *st, LLVMValueRef fn)
{
    const IrGraph *g = p->g;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(e->ctx, fn, "entry"));
    const IrNode *n = g->nodes[st->anchor >= 0 ? st->anchor : st->nodes[st->nnodes - 1]];
    LLVMValueRef *arg = srt_calloc((size_t)st->nargs + 1, sizeof *arg);
    LLVMValueRef *in = srt_calloc((size_t)n->nin + 1, sizeof *in);
    LLVMValueRef *out = srt_calloc((size_t)n->nout + 1, sizeof *out);
    IR_ASSERT(arg && in && out);
    for (int a = 0; a < st->nargs; a++)
        arg[a] = LLVMGetParam(fn, (unsigned)(1 + a));
    for (int i = 0; i < n->nin; i++) {
        int a = n->in[i] >= 0 ? arg_index(st, n->in[i]) : -1;
        in[i] = a >= 0 ? arg[a] : NULL;
    }
    for (int i = 0; i < n->nout; i++) {
        int a = n->out[i] >= 0 ? arg_index(st, n->out[i]) : -1;
        out[i] = a >= 0 ? arg[a] : NULL;
    }
    CgGroup grp = {st->nnodes, st->nodes, st->anchor, st->nargs, st->args, st->nargs_in};
    CgKernel k;
    memset(&k, 0, sizeof k);
    k.ctx = e->ctx;
    k.mod = e->mod;
    k.b = b;
    k.fn = fn;
    k.n = LLVMGetParam(fn, 0);
    k.arg = arg;
    k.in = in;
    k.out = out;
    k.g = g;
    k.node = n;
    k.grp = &grp;
    k.target = &e->mach->target;
    k.d = e->d;
    k.err = step_may_fault(p, st) ? LLVMGetParam(fn, (unsigned)(1 + st->nargs)) : NULL;
    k.faults = &e->faults;
    int rc = cg_emit_kernel(&k);
    free(arg);
    free(in);
    free(out);
    LLVMDisposeBuilder(b);
    return rc;
}

/* The kernel functions of p's steps (kfn[s]; NULL for other steps). */
static int emit_kernels(Emit *e, const CgProgram *p, const char *prefix, LLVMValueRef *kfn)
{
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind != CG_STEP_KERNEL)
            continue;
        kfn[s] = kernel_function(e, p, st, prefix);
        if (emit_kernel(e, p, st, kfn[s]) != 0)
            return -1;
    }
    return 0;
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
    LLVMValueRef n, params, scratch, grads;
    LLVMValueRef err;               /* the call's fault word (i32, 0xffffffff: no fault) */
    LLVMValueRef *args;             /* the program's inputs then outputs */
} Entry;

/* The read-only global of constant v of p's graph (made on first use). */
static LLVMValueRef const_global(Emit *e, const CgProgram *p, int v)
{
    LLVMValueRef *tab = p->g == e->p->g ? e->consts : e->tconsts;
    if (!tab[v]) {
        static const char zero[1];
        char name[300];
        snprintf(name, sizeof name, "%s__%s%d", e->p->g->name, p->g == e->p->g ? "c" : "tc", v);
        const CgBuffer *b = &p->buf[v];
        tab[v] = bytes_global(e, name, b->size.b ? p->g->values[v]->data : zero, (size_t)b->size.b, false, CG_ALIGN);
    }
    return tab[v];
}

/* Pointer to value v's bytes inside the entry. */
static LLVMValueRef buffer_ptr(Emit *e, const CgProgram *p, LLVMBuilderRef b, const Entry *en, int v)
{
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
        return en->args[p->nin + buf->arg];
    case CG_STORE_CONST:
        return const_global(e, p, v);
    case CG_STORE_PARAM:
        off = c64(e, buf->offset.b);
        return LLVMBuildInBoundsGEP2(b, e->i8, en->params, &off, 1, "");
    case CG_STORE_GRAD:
        off = c64(e, buf->offset.b);
        return LLVMBuildInBoundsGEP2(b, e->i8, en->grads, &off, 1, "");
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
static void store_symbolic(Emit *e, const CgProgram *p, LLVMBuilderRef b, const Entry *en, const IrValue *v)
{
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&v->shape, &numel) && numel.a == 0);
    LLVMValueRef base = buffer_ptr(e, p, b, en, v->id);
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

/* p's work at the builder's position: compile-time values, kernel calls, copies into outputs,
 * then the update copies. */
static void emit_body(Emit *e, const CgProgram *p, LLVMBuilderRef b, const Entry *en, const LLVMValueRef *kfn)
{
    const IrGraph *g = p->g;
    bool *in_kernel = srt_calloc((size_t)g->nnodes + 1, sizeof *in_kernel);
    IR_ASSERT(in_kernel);
    for (int s = 0; s < p->nsteps; s++)
        for (int k = 0; p->steps[s].kind == CG_STEP_KERNEL && k < p->steps[s].nnodes; k++)
            in_kernel[p->steps[s].nodes[k]] = true;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        CgStorage sto = p->buf[id].storage;
        if (sto == CG_STORE_SYMBOLIC || (sto == CG_STORE_OUTPUT && !in_kernel[v->producer]))
            store_symbolic(e, p, b, en, v);
    }
    free(in_kernel);
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *cs = &p->steps[s];
        if (cs->kind == CG_STEP_COPY || cs->kind == CG_STEP_UPDATE) {
            /* into an entry output (caller memory), or an update into a param slot */
            const IrValue *src = g->values[cs->src];
            IrDim bytes;
            IR_ASSERT(cg_value_bytes(src, &bytes, e->d));
            bool copy = cs->kind == CG_STEP_COPY;
            unsigned es = (unsigned)srt_dtype_size(src->dtype);
            LLVMValueRef dst = copy ? en->args[p->nin + cs->out_index] : buffer_ptr(e, p, b, en, cs->dst);
            unsigned dal = copy ? es : buffer_align(p, cs->dst), sal = copy ? es : buffer_align(p, src->id);
            LLVMBuildMemCpy(b, dst, dal, buffer_ptr(e, p, b, en, src->id), sal, dim_value(e, b, en->n, bytes));
            continue;
        }
        int na = 1 + cs->nargs + step_may_fault(p, cs);
        LLVMValueRef *ka = srt_malloc((size_t)na * sizeof *ka);
        IR_ASSERT(ka);
        ka[0] = en->n;
        for (int i = 0; i < cs->nargs; i++)
            ka[i + 1] = buffer_ptr(e, p, b, en, cs->args[i]);
        if (na > 1 + cs->nargs)
            ka[na - 1] = en->err;
        LLVMBuildCall2(b, LLVMGlobalGetValueType(kfn[s]), kfn[s], ka, (unsigned)na, "");
        free(ka);
    }
}

/* Estimated work of p's kernels at the entry's n (a*n + b summed over the nodes they run;
 * cg_node_cost), for the runtime's choice of running the call on one thread. */
static LLVMValueRef program_work(Emit *e, const CgProgram *p, LLVMBuilderRef b, LLVMValueRef n)
{
    IrDim w = ir_dim_const(0);
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        for (int k = 0; st->kind == CG_STEP_KERNEL && k < st->nnodes; k++) {
            IrDim c;
            if (!cg_node_cost(p->g, p->g->nodes[st->nodes[k]], &c) || !ir_dim_add(w, c, &w))
                return c64(e, INT64_MAX / 2);   /* not representable: surely worth threads */
        }
    }
    return dim_value(e, b, n, w);
}

/* The struct {i64 n, ptr x (nf - 1)} an entry hands to an outlined program. */
static LLVMTypeRef frame_type(Emit *e, int nf)
{
    LLVMTypeRef *ft = srt_malloc((size_t)nf * sizeof *ft);
    IR_ASSERT(ft);
    ft[0] = e->i64;
    for (int i = 1; i < nf; i++)
        ft[i] = e->ptr;
    LLVMTypeRef t = LLVMStructTypeInContext(e->ctx, ft, (unsigned)nf, 0);
    free(ft);
    return t;
}

/* p's work (emit_body) as the program of one team (srt_team_run): a function
 * NAME__<what>_run(ptr frame) runs it, reading n, the buffers and the entry's arguments from a
 * frame the entry fills. The builder stays in the entry, after the call. */
static void emit_team_body(Emit *e, const CgProgram *p, LLVMBuilderRef b, const Entry *en, int nargs,
                           const LLVMValueRef *kfn, const char *what)
{
    /* frame: n, params, scratch, grads, err, args[nargs] */
    int nf = 5 + nargs;
    LLVMTypeRef fty = frame_type(e, nf);
    /* in the entry block: the call may sit in a branch */
    LLVMBuilderRef ab = cg_entry_builder(e->ctx, LLVMGetBasicBlockParent(LLVMGetInsertBlock(b)));
    LLVMValueRef frame = LLVMBuildAlloca(ab, fty, "frame");
    LLVMDisposeBuilder(ab);
    LLVMValueRef vals[5] = {en->n, en->params, en->scratch, en->grads ? en->grads : LLVMConstPointerNull(e->ptr),
                            en->err};
    for (int i = 0; i < nf; i++)
        LLVMBuildStore(b, i < 5 ? vals[i] : en->args[i - 5], LLVMBuildStructGEP2(b, fty, frame, (unsigned)i, ""));
    LLVMValueRef work = program_work(e, p, b, en->n);

    char name[300];
    snprintf(name, sizeof name, "%s__%s_run", p->g->name, what);
    LLVMTypeRef rps[] = {e->ptr};
    LLVMTypeRef rty = LLVMFunctionType(e->vd, rps, 1, 0);
    LLVMBuilderRef rb = LLVMCreateBuilderInContext(e->ctx);
    LLVMValueRef run = define(e, rb, name, rty);
    add_enum_attr(e, run, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef rf = LLVMGetParam(run, 0);
    Entry in;
    LLVMValueRef loaded[5];
    for (int i = 0; i < 5; i++)
        loaded[i] = LLVMBuildLoad2(rb, i == 0 ? e->i64 : e->ptr, LLVMBuildStructGEP2(rb, fty, rf, (unsigned)i, ""), "");
    in.n = loaded[0];
    in.params = loaded[1];
    in.scratch = loaded[2];
    in.grads = en->grads ? loaded[3] : NULL;
    in.err = loaded[4];
    in.args = srt_calloc((size_t)nargs + 1, sizeof *in.args);
    IR_ASSERT(in.args);
    for (int i = 0; i < nargs; i++)
        in.args[i] = LLVMBuildLoad2(rb, e->ptr, LLVMBuildStructGEP2(rb, fty, rf, (unsigned)(5 + i), ""), "");
    emit_body(e, p, rb, &in, kfn);
    LLVMBuildRetVoid(rb);
    free(in.args);
    LLVMDisposeBuilder(rb);

    LLVMTypeRef tty;
    LLVMTypeRef tps[] = {e->ptr, e->ptr, e->i64};
    LLVMValueRef team = declare(e, "srt_team_run", e->vd, tps, 3, &tty);
    LLVMValueRef targs[] = {run, frame, work};
    LLVMBuildCall2(b, tty, team, targs, 3, "");
}

/* The inference program over chunks of the batch (cg_batch_chunk), when the batch has two
 * chunks or more: a function NAME__infer_chunks(ctx, c0, c1) runs chunks [c0, c1), chunk c on
 * samples [c*B, min(c*B + B, n)) -- the arguments advanced by c*B samples (inputs without N
 * shared), its own slice of the scratch arena at c * a*B bytes (the plan's scratch is a*n: the
 * slices fit) -- and srt_parallel_for spreads the chunks over the threads, each running its
 * chunks' kernels alone (loops inside a loop body run serially). One chunk: the team body. */
static void emit_chunks(Emit *e, const CgProgram *p, LLVMBuilderRef b, const Entry *en, int nargs,
                        const LLVMValueRef *kfn, int64_t chunk)
{
    /* ctx: n, params, scratch, err, args[nargs] */
    int nf = 4 + nargs;
    LLVMTypeRef cty = frame_type(e, nf);

    char name[300];
    snprintf(name, sizeof name, "%s__infer_chunks", p->g->name);
    LLVMTypeRef cps[] = {e->ptr, e->i64, e->i64};
    LLVMTypeRef fty = LLVMFunctionType(e->vd, cps, 3, 0);
    LLVMBuilderRef rb = LLVMCreateBuilderInContext(e->ctx);
    LLVMValueRef cf = define(e, rb, name, fty);
    add_enum_attr(e, cf, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef ctx = LLVMGetParam(cf, 0);
    LLVMValueRef fld[4];
    for (int i = 0; i < 4; i++)
        fld[i] = LLVMBuildLoad2(rb, i == 0 ? e->i64 : e->ptr, LLVMBuildStructGEP2(rb, cty, ctx, (unsigned)i, ""), "");
    LLVMValueRef *arg = srt_calloc((size_t)nargs + 1, sizeof *arg);
    IR_ASSERT(arg);
    for (int i = 0; i < nargs; i++)
        arg[i] = LLVMBuildLoad2(rb, e->ptr, LLVMBuildStructGEP2(rb, cty, ctx, (unsigned)(4 + i), ""), "");
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(rb);
    LLVMBasicBlockRef head = LLVMAppendBasicBlockInContext(e->ctx, cf, "chunk");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(e->ctx, cf, "chunk.body");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->ctx, cf, "chunk.done");
    LLVMBuildBr(rb, head);
    LLVMPositionBuilderAtEnd(rb, head);
    LLVMValueRef c = LLVMBuildPhi(rb, e->i64, "c");
    LLVMBuildCondBr(rb, LLVMBuildICmp(rb, LLVMIntSLT, c, LLVMGetParam(cf, 2), ""), body, done);
    LLVMPositionBuilderAtEnd(rb, body);
    LLVMValueRef n0 = LLVMBuildMul(rb, c, c64(e, chunk), "n0");
    LLVMValueRef left = LLVMBuildSub(rb, fld[0], n0, "");
    Entry ce;
    memset(&ce, 0, sizeof ce);
    ce.n = LLVMBuildSelect(rb, LLVMBuildICmp(rb, LLVMIntSLT, left, c64(e, chunk), ""), left, c64(e, chunk), "nchunk");
    ce.params = fld[1];
    ce.err = fld[3];
    LLVMValueRef soff = LLVMBuildMul(rb, c, c64(e, p->scratch_bytes.a * chunk), "");
    ce.scratch = LLVMBuildGEP2(rb, e->i8, fld[2], &soff, 1, "");
    ce.args = srt_calloc((size_t)nargs + 1, sizeof *ce.args);
    IR_ASSERT(ce.args);
    for (int i = 0; i < nargs; i++) {
        /* a*N bytes (cg_batch_chunk: N only leading): a per sample; no N: shared */
        IrDim bytes;
        IR_ASSERT(cg_value_bytes(p->g->values[i < p->nin ? p->in[i] : p->out[i - p->nin]], &bytes, e->d));
        LLVMValueRef off = LLVMBuildMul(rb, n0, c64(e, bytes.a), "");
        ce.args[i] = bytes.a ? LLVMBuildGEP2(rb, e->i8, arg[i], &off, 1, "") : arg[i];
    }
    emit_body(e, p, rb, &ce, kfn);
    free(ce.args);
    free(arg);
    LLVMValueRef next = LLVMBuildAdd(rb, c, c64(e, 1), "");
    LLVMBasicBlockRef end = LLVMGetInsertBlock(rb);
    LLVMBuildBr(rb, head);
    LLVMValueRef inc[2] = {LLVMGetParam(cf, 1), next};
    LLVMBasicBlockRef from[2] = {pre, end};
    LLVMAddIncoming(c, inc, from, 2);
    LLVMPositionBuilderAtEnd(rb, done);
    LLVMBuildRetVoid(rb);
    LLVMDisposeBuilder(rb);

    /* the entry: chunks = ceil(n / B); two or more: srt_parallel_for over them */
    LLVMValueRef fn = LLVMGetBasicBlockParent(LLVMGetInsertBlock(b));
    LLVMValueRef nchunks = LLVMBuildSDiv(b, LLVMBuildAdd(b, en->n, c64(e, chunk - 1), ""), c64(e, chunk), "chunks");
    LLVMBasicBlockRef many = LLVMAppendBasicBlockInContext(e->ctx, fn, "chunks.many");
    LLVMBasicBlockRef one = LLVMAppendBasicBlockInContext(e->ctx, fn, "chunks.one");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(e->ctx, fn, "chunks.join");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntSGE, nchunks, c64(e, 2), ""), many, one);
    LLVMPositionBuilderAtEnd(b, many);
    LLVMBuilderRef ab = cg_entry_builder(e->ctx, fn);
    LLVMValueRef cx = LLVMBuildAlloca(ab, cty, "chunk.ctx");
    LLVMDisposeBuilder(ab);
    LLVMValueRef vals[4] = {en->n, en->params, en->scratch, en->err};
    for (int i = 0; i < nf; i++)
        LLVMBuildStore(b, i < 4 ? vals[i] : en->args[i - 4], LLVMBuildStructGEP2(b, cty, cx, (unsigned)i, ""));
    LLVMTypeRef pty;
    LLVMTypeRef pps[] = {e->ptr, e->ptr, e->i64, e->i64};
    LLVMValueRef pf = declare(e, "srt_parallel_for", e->vd, pps, 4, &pty);
    LLVMValueRef pargs[] = {cf, cx, nchunks, c64(e, 1)};
    LLVMBuildCall2(b, pty, pf, pargs, 4, "");
    LLVMBuildBr(b, join);
    LLVMPositionBuilderAtEnd(b, one);
    emit_team_body(e, p, b, en, nargs, kfn, "infer");
    LLVMBuildBr(b, join);
    LLVMPositionBuilderAtEnd(b, join);
}

/* if (status != 0) return status; the builder continues in the success block. */
static void return_on_error(Emit *e, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef status)
{
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->ctx, fn, "ok");
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->ctx, fn, "fail");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, status, LLVMConstInt(e->i32, 0, 0), ""), ok, bad);
    LLVMPositionBuilderAtEnd(b, bad);
    LLVMBuildRet(b, status);
    LLVMPositionBuilderAtEnd(b, ok);
}

/* The call's fault word (Entry.err): an i32 alloca of the entry, set to "no fault" here. */
static LLVMValueRef fault_word(Emit *e, LLVMBuilderRef b)
{
    LLVMBuilderRef ab = cg_entry_builder(e->ctx, LLVMGetBasicBlockParent(LLVMGetInsertBlock(b)));
    LLVMValueRef w = LLVMBuildAlloca(ab, e->i32, "fault");
    LLVMDisposeBuilder(ab);
    LLVMBuildStore(b, LLVMConstInt(e->i32, 0xffffffffu, 0), w);
    return w;
}

/* After a program whose sites are first+1..last ran: if its fault word holds a site, return
 * srt_model_fault(info, m, fname, that site's message) (SINTER_EDATA). */
static void return_on_fault(Emit *e, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef err, LLVMValueRef m,
                            LLVMValueRef fname, int first, int last)
{
    if (first == last)
        return;
    LLVMValueRef *msgs = srt_malloc((size_t)(last - first) * sizeof *msgs);
    IR_ASSERT(msgs);
    for (int i = first; i < last; i++)
        msgs[i - first] = cstring(e, e->faults.msg[i]);
    LLVMValueRef init = LLVMConstArray2(e->ptr, msgs, (uint64_t)(last - first));
    free(msgs);
    char name[300];
    snprintf(name, sizeof name, "%s__faults%d", e->p->g->name, first);
    LLVMValueRef table = LLVMAddGlobal(e->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(table, init);
    LLVMSetGlobalConstant(table, 1);
    LLVMSetLinkage(table, LLVMPrivateLinkage);

    LLVMValueRef w = LLVMBuildLoad2(b, e->i32, err, "fault");
    LLVMBasicBlockRef ok = LLVMAppendBasicBlockInContext(e->ctx, fn, "clean");
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->ctx, fn, "faulted");
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntEQ, w, LLVMConstInt(e->i32, 0xffffffffu, 0), ""), ok, bad);
    LLVMPositionBuilderAtEnd(b, bad);
    LLVMValueRef idx = LLVMBuildSub(b, LLVMBuildZExt(b, w, e->i64, ""), c64(e, first + 1), "");
    LLVMValueRef msg = LLVMBuildLoad2(b, e->ptr, LLVMBuildGEP2(b, e->ptr, table, &idx, 1, ""), "");
    LLVMTypeRef fty;
    LLVMTypeRef ps[] = {e->ptr, e->ptr, e->ptr, e->ptr};
    LLVMValueRef rt = declare(e, "srt_model_fault", e->i32, ps, 4, &fty);
    LLVMValueRef args[] = {e->info, m, fname, msg};
    LLVMBuildRet(b, LLVMBuildCall2(b, fty, rt, args, 4, ""));
    LLVMPositionBuilderAtEnd(b, ok);
}

/* --check-finite: if the bytes of value v (float) at ptr hold a NaN or an infinity, return
 * srt_model_check_finite's status naming it (what: "output" or "loss"). */
static void return_if_not_finite(Emit *e, LLVMBuilderRef b, LLVMValueRef fn, LLVMValueRef m, LLVMValueRef fname,
                                 const IrGraph *g, const IrValue *v, const char *what, LLVMValueRef ptr,
                                 LLVMValueRef n)
{
    if (!e->opt || !e->opt->check_finite || !ir_dtype_is_float(v->dtype))
        return;
    IrDim numel;
    IR_ASSERT(ir_shape_numel(&v->shape, &numel));
    char label[700];
    const IrNode *pn = v->producer >= 0 ? g->nodes[v->producer] : NULL;
    if (pn && pn->name && *pn->name)
        snprintf(label, sizeof label, "%s \"%s\" (node \"%s\", %s)", what, v->name, pn->name, ir_op_name(pn->op));
    else if (pn)
        snprintf(label, sizeof label, "%s \"%s\" (%s)", what, v->name, ir_op_name(pn->op));
    else
        snprintf(label, sizeof label, "%s \"%s\"", what, v->name);
    LLVMTypeRef fty;
    LLVMTypeRef ps[] = {e->ptr, e->ptr, e->ptr, e->ptr, e->i64, e->i64, e->ptr};
    LLVMValueRef rt = declare(e, "srt_model_check_finite", e->i32, ps, 7, &fty);
    LLVMValueRef args[] = {e->info, m, fname, ptr, dim_value(e, b, n, numel), c64(e, v->dtype), cstring(e, label)};
    return_on_error(e, b, fn, LLVMBuildCall2(b, fty, rt, args, 7, "finite"));
}

/* bufs[i] loaded from the array filled by srt_model_begin*. */
static LLVMValueRef load_buf(Emit *e, LLVMBuilderRef b, LLVMValueRef bufs, int i, const char *name)
{
    LLVMValueRef idx = c64(e, i);
    return LLVMBuildLoad2(b, e->ptr, LLVMBuildGEP2(b, e->ptr, bufs, &idx, 1, ""), name);
}

static int emit_entry(Emit *e)
{
    const CgProgram *p = e->p;
    const IrGraph *g = p->g;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
    char name[300];

    /* Kernel functions first (their bodies may add helpers to the module). */
    LLVMValueRef *kfn = srt_calloc((size_t)p->nsteps + 1, sizeof *kfn);
    IR_ASSERT(kfn);
    int first = e->faults.first = e->faults.nmsg;
    int rc = emit_kernels(e, p, "k", kfn);
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
    return_on_error(e, b, fn, LLVMBuildCall2(b, bty, begin, bargs, 5, "status"));
    en.params = load_buf(e, b, bufs, 0, "params");
    en.scratch = load_buf(e, b, bufs, 1, "scratch");
    en.grads = NULL;
    en.err = fault_word(e, b);
    int nargs = p->nin + p->nout;
    en.args = srt_calloc((size_t)nargs + 1, sizeof *en.args);
    IR_ASSERT(en.args);
    for (int i = 0; i < nargs; i++)
        en.args[i] = load_buf(e, b, args, i, "");
    int64_t chunk = cg_batch_chunk(p);
    if (chunk > 0)
        emit_chunks(e, p, b, &en, nargs, kfn, chunk);
    else
        emit_team_body(e, p, b, &en, nargs, kfn, "infer");
    LLVMValueRef fname = cstring(e, "infer");
    return_on_fault(e, b, fn, en.err, LLVMGetParam(fn, 0), fname, first, e->faults.nmsg);
    for (int i = 0; i < p->nout; i++)
        return_if_not_finite(e, b, fn, LLVMGetParam(fn, 0), fname, g, g->values[p->out[i]], "output",
                             en.args[p->nin + i], en.n);
    LLVMBuildRet(b, LLVMConstInt(e->i32, 0, 0));
    free(en.args);
out:
    free(kfn);
    LLVMDisposeBuilder(b);
    return rc;
}

/* ---- the training entries ---------------------------------------------------------------- */

/* Before the gradient program: the caller's class labels of every SoftmaxCrossEntropyLoss(Grad)
 * are checked, so that the message names the element (the kernels also report labels out of
 * range, as a run-time fault). */
static void emit_label_checks(Emit *e, LLVMBuilderRef b, LLVMValueRef fn, const Entry *en, LLVMValueRef m,
                              LLVMValueRef fname)
{
    const CgProgram *p = e->tp->grad;
    const IrGraph *g = p->g;
    bool *seen = srt_calloc((size_t)g->nvalues + 1, sizeof *seen);
    IR_ASSERT(seen);
    LLVMTypeRef cty;
    LLVMTypeRef cps[] = {e->ptr, e->ptr, e->ptr, e->i64, e->ptr, e->i64, e->i64, e->i64, e->i64};
    LLVMValueRef check = declare(e, "srt_model_check_labels", e->i32, cps, 9, &cty);
    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind != CG_STEP_KERNEL || st->anchor < 0)
            continue;
        const IrNode *n = g->nodes[st->anchor];
        if ((n->op != IR_OP_SCELOSS && n->op != IR_OP_SCELOSSGRAD) || n->nin < 2 || n->in[1] < 0)
            continue;
        int lab = p->buf[n->in[1]].storage == CG_STORE_VIEW ? p->buf[n->in[1]].view_of : n->in[1];
        if (seen[lab] || p->buf[lab].storage != CG_STORE_INPUT)
            continue;
        seen[lab] = true;
        const IrAttr *ig = ir_attr_get(n, "ignore_index");
        bool has_ig = ig && ig->kind == IR_ATTR_INT;
        LLVMValueRef args[] = {e->info, m, fname, c64(e, p->buf[lab].arg), en->args[p->buf[lab].arg], en->n,
                               dim_value(e, b, en->n, g->values[n->in[0]]->shape.d[1]), c64(e, has_ig ? ig->i : 0),
                               c64(e, has_ig)};
        return_on_error(e, b, fn, LLVMBuildCall2(b, cty, check, args, 9, "labels"));
    }
    free(seen);
}

/* NAME__init_state(ptr params): the optimizer state as autodiff made it (zeros, step 0, lr). */
static void emit_init_state(Emit *e, LLVMBuilderRef b)
{
    const CgTrainPlan *t = e->tp;
    char name[300];
    snprintf(name, sizeof name, "%s__init_state", e->p->g->name);
    LLVMTypeRef ps[] = {e->ptr};
    e->init_state = define(e, b, name, LLVMFunctionType(e->vd, ps, 1, 0));
    add_enum_attr(e, e->init_state, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef params = LLVMGetParam(e->init_state, 0);
    for (int i = 0; i < t->nstate; i++) {
        const IrValue *v = t->tg->values[t->state[i]];
        IrDim numel;
        IR_ASSERT(ir_shape_numel(&v->shape, &numel) && numel.a == 0);
        size_t bytes = (size_t)numel.b * srt_dtype_size(v->dtype);
        LLVMValueRef off = c64(e, t->offset[v->id]);
        LLVMValueRef dst = LLVMBuildInBoundsGEP2(b, e->i8, params, &off, 1, "");
        bool zero = true;
        for (size_t k = 0; v->data && k < bytes && zero; k++)
            zero = ((const unsigned char *)v->data)[k] == 0;
        if (zero) {
            LLVMBuildMemSet(b, dst, LLVMConstInt(e->i8, 0, 0), c64(e, (int64_t)bytes), CG_ALIGN);
        } else {
            snprintf(name, sizeof name, "%s__state%d", e->p->g->name, i);
            LLVMValueRef src = bytes_global(e, name, v->data, bytes, false, CG_ALIGN);
            LLVMBuildMemCpy(b, dst, CG_ALIGN, src, CG_ALIGN, c64(e, (int64_t)bytes));
        }
    }
    LLVMBuildRetVoid(b);
}

static int emit_training(Emit *e)
{
    const CgTrainPlan *t = e->tp;
    const IrGraph *g = e->p->g;
    const CgProgram *gp = t->grad, *ap = t->apply;
    LLVMBuilderRef b = LLVMCreateBuilderInContext(e->ctx);
    char name[300];
    int rc = -1;
    LLVMValueRef *gk = srt_calloc((size_t)gp->nsteps + 1, sizeof *gk), *ak = srt_calloc((size_t)ap->nsteps + 1, sizeof *ak);
    e->tconsts = srt_calloc((size_t)t->tg->nvalues + 1, sizeof *e->tconsts);
    IR_ASSERT(gk && ak && e->tconsts);
    int gfirst = e->faults.first = e->faults.nmsg;
    if (emit_kernels(e, gp, "t", gk) != 0)
        goto out;
    int afirst = e->faults.first = e->faults.nmsg;
    if (emit_kernels(e, ap, "t", ak) != 0)
        goto out;
    int alast = e->faults.nmsg;

    /* i32 grad_run(ptr m, i64 n, ptr args, ptr loss, ptr fn) */
    LLVMTypeRef gps[] = {e->ptr, e->i64, e->ptr, e->ptr, e->ptr};
    e->grad_run_ty = LLVMFunctionType(e->i32, gps, 5, 0);
    snprintf(name, sizeof name, "%s__grad_run", g->name);
    LLVMValueRef fn = e->grad_run = define(e, b, name, e->grad_run_ty);
    add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMValueRef m = LLVMGetParam(fn, 0), args = LLVMGetParam(fn, 2), loss = LLVMGetParam(fn, 3);
    LLVMValueRef fname = LLVMGetParam(fn, 4);
    Entry en;
    en.n = LLVMGetParam(fn, 1);
    LLVMValueRef dummy = LLVMBuildAlloca(b, e->f32, "loss.unused");
    LLVMValueRef bufs = LLVMBuildAlloca(b, LLVMArrayType2(e->ptr, 3), "bufs");
    LLVMTypeRef bty;
    LLVMTypeRef bps[] = {e->ptr, e->ptr, e->i64, e->ptr, e->ptr, e->ptr};
    LLVMValueRef begin = declare(e, "srt_model_begin_train", e->i32, bps, 6, &bty);
    LLVMValueRef bargs[] = {e->info, m, en.n, args, bufs, fname};
    return_on_error(e, b, fn, LLVMBuildCall2(b, bty, begin, bargs, 6, "status"));
    en.params = load_buf(e, b, bufs, 0, "params");
    en.scratch = load_buf(e, b, bufs, 1, "scratch");
    en.grads = load_buf(e, b, bufs, 2, "grads");
    en.err = fault_word(e, b);
    en.args = srt_calloc((size_t)gp->nin + 2, sizeof *en.args);
    IR_ASSERT(en.args && gp->nout == 1);
    for (int i = 0; i < gp->nin; i++)
        en.args[i] = load_buf(e, b, args, i, "");
    en.args[gp->nin] = LLVMBuildSelect(b, LLVMBuildIsNull(b, loss, ""), dummy, loss, "loss");
    emit_label_checks(e, b, fn, &en, m, fname);
    emit_team_body(e, gp, b, &en, gp->nin + 1, gk, "grad");
    return_on_fault(e, b, fn, en.err, m, fname, gfirst, afirst);
    return_if_not_finite(e, b, fn, m, fname, gp->g, gp->g->values[gp->out[0]], "loss", en.args[gp->nin], en.n);
    LLVMBuildRet(b, LLVMConstInt(e->i32, 0, 0));
    free(en.args);

    /* i32 apply_run(ptr m, ptr fn) */
    LLVMTypeRef aps[] = {e->ptr, e->ptr};
    e->apply_run_ty = LLVMFunctionType(e->i32, aps, 2, 0);
    snprintf(name, sizeof name, "%s__apply_run", g->name);
    fn = e->apply_run = define(e, b, name, e->apply_run_ty);
    add_enum_attr(e, fn, LLVMAttributeFunctionIndex, "nounwind", 0);
    bufs = LLVMBuildAlloca(b, LLVMArrayType2(e->ptr, 3), "bufs");
    LLVMTypeRef aps2[] = {e->ptr, e->ptr, e->ptr, e->ptr};
    begin = declare(e, "srt_model_begin_apply", e->i32, aps2, 4, &bty);
    LLVMValueRef aargs[] = {e->info, LLVMGetParam(fn, 0), bufs, LLVMGetParam(fn, 1)};
    return_on_error(e, b, fn, LLVMBuildCall2(b, bty, begin, aargs, 4, "status"));
    en.n = c64(e, 1);
    en.params = load_buf(e, b, bufs, 0, "params");
    en.scratch = load_buf(e, b, bufs, 1, "scratch");
    en.grads = load_buf(e, b, bufs, 2, "grads");
    en.err = fault_word(e, b);
    en.args = NULL;
    emit_team_body(e, ap, b, &en, 0, ak, "apply");
    return_on_fault(e, b, fn, en.err, LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), afirst, alast);
    LLVMBuildRet(b, LLVMConstInt(e->i32, 0, 0));

    /* the descriptor's entries: train_v / grad_v (m, n, args, loss), apply_v (m) */
    LLVMTypeRef tps[] = {e->ptr, e->i64, e->ptr, e->ptr};
    e->train_v_ty = LLVMFunctionType(e->i32, tps, 4, 0);
    e->apply_v_ty = LLVMFunctionType(e->i32, tps, 1, 0);
    snprintf(name, sizeof name, "%s__train_v", g->name);
    fn = e->train_v = define(e, b, name, e->train_v_ty);
    LLVMValueRef fstep = cstring(e, "train_step");
    LLVMValueRef cargs[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), LLVMGetParam(fn, 2), LLVMGetParam(fn, 3), fstep};
    return_on_error(e, b, fn, LLVMBuildCall2(b, e->grad_run_ty, e->grad_run, cargs, 5, ""));
    LLVMValueRef a2[] = {LLVMGetParam(fn, 0), fstep};
    LLVMBuildRet(b, LLVMBuildCall2(b, e->apply_run_ty, e->apply_run, a2, 2, ""));

    snprintf(name, sizeof name, "%s__grad_v", g->name);
    fn = e->grad_v = define(e, b, name, e->train_v_ty);
    LLVMValueRef gargs[] = {LLVMGetParam(fn, 0), LLVMGetParam(fn, 1), LLVMGetParam(fn, 2), LLVMGetParam(fn, 3),
                            cstring(e, "grad")};
    LLVMBuildRet(b, LLVMBuildCall2(b, e->grad_run_ty, e->grad_run, gargs, 5, ""));

    snprintf(name, sizeof name, "%s__apply_v", g->name);
    fn = e->apply_v = define(e, b, name, e->apply_v_ty);
    LLVMValueRef a3[] = {LLVMGetParam(fn, 0), cstring(e, "apply")};
    LLVMBuildRet(b, LLVMBuildCall2(b, e->apply_run_ty, e->apply_run, a3, 2, ""));
    for (LLVMValueRef f = e->train_v; f; f = f == e->train_v ? e->grad_v : f == e->grad_v ? e->apply_v : NULL)
        add_enum_attr(e, f, LLVMAttributeFunctionIndex, "nounwind", 0);

    emit_init_state(e, b);
    rc = 0;
out:
    free(gk);
    free(ak);
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

LLVMModuleRef cg_build_module(const CgProgram *p, const CgTrainPlan *tp, const CgMachine *m, const CgOptions *o,
                              LLVMContextRef ctx, IrDiag *d)
{
    const IrGraph *g = p->g;
    Emit e;
    memset(&e, 0, sizeof e);
    e.p = p;
    e.tp = tp;
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

    e.consts = srt_calloc((size_t)g->nvalues + 1, sizeof *e.consts);
    IR_ASSERT(e.consts);
    LLVMBuilderRef bld = LLVMCreateBuilderInContext(ctx);
    Wrappers w;
    int rc = emit_entry(&e);
    if (rc == 0 && tp)
        rc = emit_training(&e);
    if (rc == 0) {
        emit_wrappers(&e, bld, &w);
        rc = emit_descriptor(&e, &w);
    }
    LLVMDisposeBuilder(bld);
    cg_faults_free(&e.faults);
    free(e.consts);
    free(e.tconsts);
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
