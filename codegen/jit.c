/* In-memory compilation with LLVM's ORC LLJIT: the library's code, linked against this process's runtime. */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>

#include "codegen/cg_infra.h"
#include "runtime/sinter_parallel.h"

struct CgJit {
    LLVMOrcLLJITRef jit;
    const SinterModelInfo *info;
};

/* The runtime functions generated code calls. They are hidden in this process (sinter_rt is
 * built with -fvisibility=hidden), so the JIT gets their addresses from here; libc/libm/libgomp
 * symbols come from the process's shared libraries. ORDER: none; add new runtime entry points. */
typedef struct RtSymbol {
    const char *name;
    void (*fn)(void);
} RtSymbol;

#define RT(f) {#f, (void (*)(void))(f)}
static const RtSymbol runtime_symbols[] = {
    RT(srt_model_create), RT(srt_model_destroy), RT(srt_model_load), RT(srt_model_save),
    RT(srt_model_set_num_threads), RT(srt_model_error), RT(srt_model_begin), RT(srt_model_params),
    RT(srt_parallel_for), RT(srt_team_run), RT(srt_set_current_threads), RT(srt_current_threads),
    RT(srt_model_begin_train), RT(srt_model_begin_apply), RT(srt_model_check_labels), RT(srt_model_grads),
    RT(srt_model_set_lr), RT(srt_model_get_step), RT(srt_model_fault), RT(srt_model_check_finite),
};
#undef RT

static int jit_error(IrDiag *d, const char *where, const char *what, LLVMErrorRef e)
{
    char *msg = LLVMGetErrorMessage(e);
    char *nl = strchr(msg, '\n');
    if (nl)
        *nl = '\0';
    ir_diag_error(d, where, "JIT: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return -1;
}

static int define_runtime(LLVMOrcLLJITRef jit, LLVMOrcJITDylibRef jd, IrDiag *d, const char *where)
{
    size_t n = sizeof runtime_symbols / sizeof *runtime_symbols;
    LLVMOrcCSymbolMapPair pairs[sizeof runtime_symbols / sizeof *runtime_symbols];
    for (size_t i = 0; i < n; i++) {
        pairs[i].Name = LLVMOrcLLJITMangleAndIntern(jit, runtime_symbols[i].name);
        pairs[i].Sym.Address = (LLVMOrcExecutorAddress)(uintptr_t)runtime_symbols[i].fn;
        pairs[i].Sym.Flags.GenericFlags = LLVMJITSymbolGenericFlagsExported | LLVMJITSymbolGenericFlagsCallable;
        pairs[i].Sym.Flags.TargetFlags = 0;
    }
    LLVMErrorRef e = LLVMOrcJITDylibDefine(jd, LLVMOrcAbsoluteSymbols(pairs, n));
    if (e)
        return jit_error(d, where, "cannot define the runtime's symbols", e);
    LLVMOrcDefinitionGeneratorRef gen;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL, NULL);
    if (e)
        return jit_error(d, where, "cannot search the process's libraries", e);
    LLVMOrcJITDylibAddGenerator(jd, gen);
    return 0;
}

int cg_jit_compile(IrGraph *g, const IrGraph *tg, const CgOptions *o, CgJit **out, IrDiag *d)
{
    *out = NULL;
    CgOptions defaults = {2, NULL, NULL, NULL, false, false};
    if (!o)
        o = &defaults;
    if (o->triple) {
        ir_diag_error(d, "--target", "in-memory compilation runs on this machine only: compile to a file for %s",
                      o->triple);
        return -1;
    }
    if (o->opt_level < 0 || o->opt_level > 3) {
        ir_diag_error(d, "-O", "optimization level %d is outside 0..3", o->opt_level);
        return -1;
    }
    CgMachine m, jm;
    if (cg_machine_init(&m, o, d) != 0)
        return -1;
    if (cg_machine_init(&jm, o, d) != 0) {
        cg_machine_dispose(&m);
        return -1;
    }
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef mod =  cg_build_optimized(g, tg, o, &m, LLVMOrcThreadSafeContextGetContext(tsc), d);
    cg_machine_dispose(&m);
    if (!mod) {
        LLVMOrcDisposeThreadSafeContext(tsc);
        cg_machine_dispose(&jm);
        return -1;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);

    /* The JIT's target machine: same CPU and features as the module was optimized for. */
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder,
                                                  LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(jm.tm));
    jm.tm = NULL;   /* owned by the builder now */
    cg_machine_dispose(&jm);
    CgJit *j = srt_calloc(1, sizeof *j);
    IR_ASSERT(j);
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&j->jit, builder);
    if (e) {
        jit_error(d, g->name, "cannot create the JIT", e);
        LLVMOrcDisposeThreadSafeModule(tsm);
        free(j);
        return -1;
    }
    LLVMOrcJITDylibRef jd = LLVMOrcLLJITGetMainJITDylib(j->jit);
    if (define_runtime(j->jit, jd, d, g->name) != 0) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        cg_jit_free(j);
        return -1;
    }
    if ((e = LLVMOrcLLJITAddLLVMIRModule(j->jit, jd, tsm))) {
        jit_error(d, g->name, "cannot add the module", e);
        cg_jit_free(j);
        return -1;
    }
    LLVMOrcExecutorAddress addr = 0;
    if ((e = LLVMOrcLLJITLookup(j->jit, &addr, "sinter_model_info"))) {
        jit_error(d, g->name, "cannot link the module", e);
        cg_jit_free(j);
        return -1;
    }
    j->info = (const SinterModelInfo *)(uintptr_t)addr;
    *out = j;
    return 0;
}

const SinterModelInfo *cg_jit_info(const CgJit *j)
{
    return j->info;
}

void cg_jit_free(CgJit *j)
{
    if (!j)
        return;
    if (j->jit) {
        LLVMErrorRef e = LLVMOrcDisposeLLJIT(j->jit);
        if (e)
            LLVMConsumeError(e);
    }
    free(j);
}
