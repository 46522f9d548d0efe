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

/* What one program computes and where its fixed buffers are. Inference is the default part
 * (every node, graph inputs and outputs, params in declaration order); the training programs
 * of train.c pass their own. Arrays indexed by value id have g->nvalues entries. */
typedef struct CgPart {
    const char *what;             /* CgProgram.what */
    const bool *allowed;          /* per node: may run in this program; NULL: every node */
    int nin, nout;                /* entry inputs and outputs (value ids, argument order) */
    const int *in, *out;
    int nroots;                   /* other values the program must compute (gradients, update */
    const int *roots;             /*   sources), besides the outputs */
    const int64_t *param_offset;  /* per value: byte offset of a PARAM in the param block, -1 for
                                     none; NULL: params in declaration order */
    const int64_t *grad_offset;   /* per value: byte offset in the gradient buffer, or -1; NULL */
    const int *inplace;           /* per value: the param whose slot this value is written into
                                     (an update source planned in place), or -1; NULL */
    int nupdates;                 /* update pairs copied after the kernels (CG_STEP_UPDATE) */
    const int *update_dst, *update_src;
} CgPart;

/* Samples per chunk when the inference program may run a batch as consecutive chunks that
 * stay in cache (batch.c), or 0: the whole batch at once. */
int64_t cg_batch_chunk(const CgProgram *p);

/* Lower one part of g (cg_lower is the inference part). */
int cg_lower_part(const IrGraph *g, const CgPart *part, CgProgram **out, IrDiag *d);

/* Assign every value its storage, offsets and lifetimes (plan.c). p->steps are set;
 * kind[] is per node. Returns 0 or -1 with diagnostics. */
int cg_plan(CgProgram *p, const CgNodeKind *kind, const CgPart *part, IrDiag *d);

/* The training side of a library (train.c): the training graph, its two programs and the
 * layout of the state and gradient buffers. Values are the training graph's ids. */
typedef struct CgTrainPlan {
    IrGraph *tg;                  /* a copy of the training graph, with the loss appended as a node */
    CgProgram *grad;              /* "gradient": forward, loss, backward (+ BatchNorm statistics) */
    CgProgram *apply;             /* "optimizer": the update nodes */
    int loss;                     /* value id of the loss (float32 scalar) */
    int nstate;                   /* optimizer-state params (opt_state), value-id order */
    int *state;
    int64_t state_bytes;          /* the state region after the inference params (64-aligned) */
    int64_t *offset;              /* per value: byte offset in the param block, or -1 */
    int ngrads;                   /* params with a gradient (training->grad_param order) */
    int64_t *grad_offset;         /* per value (gradients): byte offset in the flat buffer, or -1 */
    int64_t grad_count;           /* floats in the flat gradient buffer */
    int step, lr;                 /* value ids of optim.step and optim.lr, or -1 */
} CgTrainPlan;

/* Build the training plan of g from its training graph tg (a copy is kept), g's inference
 * program (params laid out) being infer. Returns 0 or -1 with diagnostics. */
int cg_train_plan(const IrGraph *g, const IrGraph *tg, const CgProgram *infer, CgTrainPlan **out, IrDiag *d);
void cg_train_plan_free(CgTrainPlan *t);

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

/* How a shared library for a machine is linked (link.c): the C compiler driver (cc or SINTER_CC
 * for this machine, TOOL-gcc from PATH for a Linux cross target such as aarch64-linux-gnu) and
 * the runtime archive built for that target. */
typedef struct CgLinker {
    char cc[4096];
    char rt[4096];
    bool host;
} CgLinker;

/* Finds both, or returns -1 with a diagnostic at where saying what is missing. */
int cg_find_linker(const CgMachine *m, CgLinker *l, const char *where, IrDiag *d);
/* Links obj into the shared library out (a temporary name of shown, the path the user asked
 * for, whose file name is the SONAME unless lo->soname says otherwise); the linker's messages
 * go to the file log. Returns 0, or -1 with a diagnostic naming shown. */
int cg_link_shared(const CgLinker *l, const CgLinkOptions *lo, const char *obj, const char *out, const char *shown,
                   const char *log, IrDiag *d);

/* Build the LLVM module of p in ctx (module.c): kernels, entry points, descriptor, weights,
 * and the training entry points when tp is not NULL. Verified; not yet optimized. Returns
 * NULL + diagnostics on error. */
LLVMModuleRef cg_build_module(const CgProgram *p, const CgTrainPlan *tp, const CgMachine *m, const CgOptions *o,
                              LLVMContextRef ctx, IrDiag *d);

/* Lower, build and optimize g's module in ctx (target.c), with the training entry points when
 * tg (g's training graph) is given. NULL + diagnostics on error. */
LLVMModuleRef cg_build_optimized(IrGraph *g, const IrGraph *tg, const CgOptions *o, const CgMachine *m,
                                 LLVMContextRef ctx, IrDiag *d);

/* C identifier for a tensor name in generated headers: unique among the entry's parameters
 * (header.c). buf receives it. */
void cg_c_ident(const char *name, char *buf, size_t len);

#endif
