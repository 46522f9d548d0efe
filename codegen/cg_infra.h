/* Private to codegen/: interfaces between lowering, planning, module emission and the target. */
#ifndef SINTER_CG_INFRA_H
#define SINTER_CG_INFRA_H

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "codegen/codegen.h"
#include "codegen/kernels.h"

/* How lowering treats each node (lower.c decides, plan.c and module.c follow). */
typedef enum CgNodeKind {
    CG_NODE_DEAD,             /* no output reaches a graph output: not run */
    CG_NODE_KERNEL,           /* runs as (part of) a kernel */
    CG_NODE_VIEW,             /* output 0 aliases input 0 (cg_is_view) */
    CG_NODE_SYMBOLIC          /* every output has compile-time content (IrValue.sym) */
} CgNodeKind;

/* Alignment of every buffer the plan places (param block, scratch arena, constants). */
#define CG_ALIGN 64

/* Assign every value its storage, offsets and lifetimes (plan.c). p->steps are set;
 * kind[] is per node. Returns 0 or -1 with diagnostics. */
int cg_plan(CgProgram *p, const CgNodeKind *kind, IrDiag *d);

/* Byte size of v as a*N+b; false (with a diagnostic) if not representable. */
bool cg_value_bytes(const IrValue *v, IrDim *out, IrDiag *d);

/* A configured LLVM target machine (target.c). */
typedef struct CgMachine {
    LLVMTargetMachineRef tm;
    char *triple, *cpu, *features;   /* malloc'ed */
    bool host;                        /* triple is the host's: can link and run */
    bool x86, aarch64;
    CgTarget target;
} CgMachine;

int cg_machine_init(CgMachine *m, const CgOptions *o, IrDiag *d);
void cg_machine_dispose(CgMachine *m);

/* Build the LLVM module of p in ctx (module.c): kernels, entry points, descriptor, weights.
 * Verified; not yet optimized. Returns NULL + diagnostics on error. */
LLVMModuleRef cg_build_module(const CgProgram *p, const CgMachine *m, const CgOptions *o,
                              LLVMContextRef ctx, IrDiag *d);

/* Lower, build and optimize g's module in ctx (target.c). NULL + diagnostics on error. */
LLVMModuleRef cg_build_optimized(IrGraph *g, const CgOptions *o, const CgMachine *m, LLVMContextRef ctx,
                                 IrDiag *d);

/* C identifier for a tensor name in generated headers: unique among the entry's parameters
 * (header.c). buf receives it. */
void cg_c_ident(const char *name, char *buf, size_t len);

#endif
