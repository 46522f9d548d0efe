/* Run-time faults of generated code: per-function flags ORed in kernels, flushed into the call's fault word (kernels.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/emit.h"

bool cg_node_may_fault(const IrGraph *g, const IrNode *n)
{
    switch (n->op) {
    case IR_OP_GATHER:
    case IR_OP_GATHERGRAD:
    case IR_OP_SCELOSS:
    case IR_OP_SCELOSSGRAD:
        return true;
    case IR_OP_DIV:
        return !ir_dtype_is_float(g->values[n->in[0]]->dtype);
    case IR_OP_POW:
        /* an integer base with an integer exponent: 0 to a negative power has no value */
        return !ir_dtype_is_float(g->values[n->in[0]]->dtype) && !ir_dtype_is_float(g->values[n->in[1]]->dtype);
    default:
        return false;
    }
}

/* s with quotes, backslashes and control bytes escaped (model names are any strings). */
static void put_escaped(char *buf, size_t len, const char *s)
{
    size_t o = 0;
    for (; *s && o + 5 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        else
            buf[o++] = (char)c;
    }
    buf[o] = '\0';
}

/* Site of message msg (1-based), added on first use. */
static int site_of(CgFaults *f, const char *msg)
{
    for (int i = f->first; i < f->nmsg; i++)
        if (!strcmp(f->msg[i], msg))
            return i + 1;
    if (f->nmsg == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 8;
        f->msg = srt_realloc(f->msg, (size_t)f->cap * sizeof *f->msg);
        IR_ASSERT(f->msg);
    }
    f->msg[f->nmsg] = srt_strdup(msg);
    IR_ASSERT(f->msg[f->nmsg]);
    return ++f->nmsg;
}

/* The i8 flag of (k->fn, site), made zero at the function's entry on first use. */
static LLVMValueRef flag_of(CgKernel *k, int site)
{
    CgFaults *f = k->faults;
    for (int i = 0; i < f->nflags; i++)
        if (f->flags[i].fn == k->fn && f->flags[i].site == site)
            return f->flags[i].flag;
    if (f->nflags == f->fcap) {
        f->fcap = f->fcap ? 2 * f->fcap : 8;
        f->flags = srt_realloc(f->flags, (size_t)f->fcap * sizeof *f->flags);
        IR_ASSERT(f->flags);
    }
    LLVMBuilderRef tb = cg_entry_builder(k->ctx, k->fn);
    LLVMValueRef a = LLVMBuildAlloca(tb, cg_t_i8(k), "fault.flag");
    LLVMBuildStore(tb, LLVMConstInt(cg_t_i8(k), 0, 0), a);
    LLVMDisposeBuilder(tb);
    f->flags[f->nflags++] = (CgFaultFlag){k->fn, a, site};
    return a;
}

void cg_fault_if(CgKernel *k, const IrNode *n, LLVMValueRef cond, const char *fmt, ...)
{
    IR_ASSERT(k->err && k->faults);
    char who[300], what[400], msg[800];
    const char *name = n->name && *n->name ? n->name : n->nout > 0 && n->out[0] >= 0 ? k->g->values[n->out[0]]->name : "";
    put_escaped(who, sizeof who, name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(msg, sizeof msg, "node \"%s\" (%s): %s", who, ir_op_name(n->op), what);
    LLVMValueRef flag = flag_of(k, site_of(k->faults, msg));
    if (LLVMGetTypeKind(LLVMTypeOf(cond)) == LLVMVectorTypeKind)
        cond = cg_intrinsic(k, "llvm.vector.reduce.or", (LLVMTypeRef[]){LLVMTypeOf(cond)}, 1, &cond, 1);
    LLVMValueRef old = LLVMBuildLoad2(k->b, cg_t_i8(k), flag, "");
    LLVMBuildStore(k->b, LLVMBuildOr(k->b, old, LLVMBuildZExt(k->b, cond, cg_t_i8(k), ""), ""), flag);
}

/* void NAME__fault_note(ptr err, i32 site): if (site) atomic err = umin(err, site). */
static LLVMValueRef note_function(CgKernel *k, LLVMTypeRef *fty)
{
    char name[300];
    snprintf(name, sizeof name, "%s__fault_note", k->g->name);
    LLVMTypeRef ps[2] = {cg_t_ptr(k), cg_t_i32(k)};
    *fty = LLVMFunctionType(LLVMVoidTypeInContext(k->ctx), ps, 2, 0);
    LLVMValueRef f = LLVMGetNamedFunction(k->mod, name);
    if (f)
        return f;
    f = LLVMAddFunction(k->mod, name, *fty);
    LLVMSetLinkage(f, LLVMInternalLinkage);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(k->ctx);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(k->ctx, f, "entry");
    LLVMBasicBlockRef set = LLVMAppendBasicBlockInContext(k->ctx, f, "set");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(k->ctx, f, "done");
    LLVMPositionBuilderAtEnd(b, entry);
    LLVMValueRef site = LLVMGetParam(f, 1);
    LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntNE, site, LLVMConstInt(cg_t_i32(k), 0, 0), ""), set, done);
    LLVMPositionBuilderAtEnd(b, set);
    LLVMBuildAtomicRMW(b, LLVMAtomicRMWBinOpUMin, LLVMGetParam(f, 0), site, LLVMAtomicOrderingMonotonic, 0);
    LLVMBuildBr(b, done);
    LLVMPositionBuilderAtEnd(b, done);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    return f;
}

void cg_fault_flush(CgKernel *k)
{
    CgFaults *f = k->faults;
    for (int i = 0; f && i < f->nflags; i++) {
        if (f->flags[i].fn != k->fn)
            continue;
        LLVMTypeRef fty;
        LLVMValueRef note = note_function(k, &fty);
        LLVMValueRef set = LLVMBuildICmp(k->b, LLVMIntNE, LLVMBuildLoad2(k->b, cg_t_i8(k), f->flags[i].flag, ""),
                                         LLVMConstInt(cg_t_i8(k), 0, 0), "");
        LLVMValueRef args[2] = {k->err, LLVMBuildSelect(k->b, set, cg_i32c(k, f->flags[i].site), cg_i32c(k, 0), "")};
        LLVMBuildCall2(k->b, fty, note, args, 2, "");
    }
}

void cg_faults_free(CgFaults *f)
{
    for (int i = 0; i < f->nmsg; i++)
        free(f->msg[i]);
    free(f->msg);
    free(f->flags);
    memset(f, 0, sizeof *f);
}
