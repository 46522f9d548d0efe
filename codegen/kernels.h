/* Private to codegen/: the interface between program emission (module.c) and op kernels (kernel_*.c). */
#ifndef SINTER_CG_KERNELS_H
#define SINTER_CG_KERNELS_H

#include <llvm-c/Core.h>

#include "ir/ir.h"

/* What the target offers kernels (from the target machine). */
typedef struct CgTarget {
    int vector_bits;          /* widest vector register: 128 (SSE/NEON), 256 (AVX2), 512 (AVX-512) */
    int num_vector_regs;      /* 16 or 32 */
    bool fma;                 /* fused multiply-add available */
    int int8_dot;             /* CgInt8Dot: how IntGemm multiplies uint8 by int8 */
} CgTarget;

/* The integer dot product of IntGemm's kernel (kernel_igemm.c): four u8 x s8 products summed
 * into each int32 lane. */
typedef enum CgInt8Dot {
    CG_DOT_GENERIC,           /* plain LLVM IR (zero/sign extension, multiply, add) */
    CG_DOT_AVX2,              /* vpmaddubsw + vpmaddwd (256 bits): exact for activations <= 127 only */
    CG_DOT_VNNI256,           /* vpdpbusd on ymm (AVX-VNNI, or AVX512-VNNI with AVX512VL) */
    CG_DOT_VNNI512            /* vpdpbusd on zmm (AVX512-VNNI) */
} CgInt8Dot;

/* The nodes one kernel runs (a step of the program: codegen.h CgStep) and its arguments. */
typedef struct CgGroup {
    int nnodes;
    const int *nodes;         /* node ids, in order */
    int anchor;               /* the anchor's node id, or -1: the nodes are all element-wise */
    int nargs;                /* the kernel's pointer arguments: the values it reads that are */
    const int *args;          /*   made outside it (first use order), then the values it makes */
    int nin;                  /*   that are needed outside it; args[0..nin) are the inputs */
} CgGroup;

/* One kernel being emitted. module.c creates the LLVM function
 *     void <model>__k<id>_<Op>(i64 n, ptr arg0, ..., ptr argK)
 * for the group's arguments (noalias and aligned as the plan allows), positions the builder in
 * its empty entry block and calls cg_emit_kernel, which emits the whole body including the
 * final `ret void`; it may add helper functions (outlined parallel bodies) named with the
 * kernel function's name as prefix.
 *
 * `node` is the group's anchor, or its only node: the emitter of node's op (the dispatch table
 * in kernel.c) builds the body. Its inputs are arguments (in[i]); its outputs are arguments
 * when they are needed outside the group (out[i]), else NULL. Element-wise groups (no anchor)
 * are built by cg_k_elementwise; `node` is then their last node (for diagnostics). Emitters
 * write results through cg_out_store, which computes the group's epilogue (the element-wise
 * members after the anchor) and stores every value needed outside; see emit.h. */
typedef struct CgKernel {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;          /* the kernel function (or, inside cg_par_begin/end, the body) */
    LLVMValueRef n;           /* i64: the batch symbol's value (>= 1) */
    LLVMValueRef *arg;        /* grp->nargs pointer arguments */
    LLVMValueRef *in;         /* node->nin pointers (NULL: absent) */
    LLVMValueRef *out;        /* node->nout pointers (NULL: unused, or only read inside the group) */
    const IrGraph *g;
    const IrNode *node;
    const CgGroup *grp;
    const CgTarget *target;
    IrDiag *d;
    LLVMValueRef err;         /* ptr to the call's fault word (i32; codegen/fault.c), NULL when the kernel
                                 has no checks (cg_node_may_fault is false for all its nodes) */
    struct CgFaults *faults;  /* the module's fault sites and the kernel's flags */
} CgKernel;

/* Emit the body of one kernel. Returns 0, or -1 with a diagnostic naming the node (e.g. an op
 * or dtype codegen does not support yet). */
int cg_emit_kernel(CgKernel *k);

/* True if the node needs no kernel because its output is a view of its input (same bytes,
 * other shape): Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout in inference. */
bool cg_is_view(const IrGraph *g, const IrNode *n);

/* Does the dispatch table have an emitter for op (tests check every op has one). */
bool cg_op_has_kernel(IrOp op);

/* The work of node n in "operations" (FLOPs where they dominate, else elements moved) as
 * a*N+b, from the dispatch table: what lowering and the threads weigh kernels by. false if
 * not representable. */
bool cg_node_cost(const IrGraph *g, const IrNode *n, IrDim *cost);

/* ---- run-time faults (codegen/fault.c) ----------------------------------------------------------
 * A kernel that meets data it cannot compute with (an index out of range, an integer division
 * by zero, labels outside the classes) still stays in bounds, and reports the fact: the call's
 * fault word (an i32 in the entry's frame, 0xffffffff when clean) receives the least "site"
 * (a message naming the node) by an atomic unsigned min, so threads never race and the earliest
 * site of the program wins; the entry then returns SINTER_EDATA with that message. Inside a
 * loop a check costs an OR into a per-function flag (a register after mem2reg); the flag is
 * written to the fault word once, when the function returns (cg_fault_flush). */
typedef struct CgFaultFlag {
    LLVMValueRef fn;          /* the function (kernel or outlined parallel body) owning the flag */
    LLVMValueRef flag;        /* i8 alloca in fn's entry block: nonzero once the check failed */
    int site;                 /* 1-based index into CgFaults.msg */
} CgFaultFlag;

typedef struct CgFaults {
    char **msg;               /* site s has message msg[s - 1], "node \"NAME\" (Op): what" */
    int nmsg, cap;
    int first;                /* the sites of the program being emitted are first+1..nmsg */
    CgFaultFlag *flags;       /* flags of the functions being emitted */
    int nflags, fcap;
} CgFaults;

/* Does node n check its data at run time (the kernel of a step holding it takes `err`)? */
bool cg_node_may_fault(const IrGraph *g, const IrNode *n);
/* Where cond (i1, or a vector of i1) holds, node n's check has failed: its message is
 * `node "NAME" (Op): ` followed by fmt. The kernel must have k->err. */
__attribute__((format(printf, 4, 5)))
void cg_fault_if(CgKernel *k, const IrNode *n, LLVMValueRef cond, const char *fmt, ...);
/* At the builder's position (just before k->fn returns): the flags of k->fn into the fault word. */
void cg_fault_flush(CgKernel *k);
void cg_faults_free(CgFaults *f);

/* A builder at the start of fn's entry block, for allocas of code that may sit in a loop
 * (dispose it after use). */
LLVMBuilderRef cg_entry_builder(LLVMContextRef ctx, LLVMValueRef fn);

#endif
