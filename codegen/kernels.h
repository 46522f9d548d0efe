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
} CgTarget;

/* One kernel being emitted. module.c creates the LLVM function
 *     void <model>__k<id>_<Op>(i64 n, ptr in0, ..., ptr inK, ptr out0, ..., ptr outM)
 * (pointer arguments noalias and 64-byte aligned; absent optional inputs and unused optional
 * outputs are passed as null and their LLVMValueRef here is NULL), positions the builder in its
 * empty entry block and calls cg_emit_kernel. The kernel emits the whole body including the
 * final `ret void`, and may add helper functions (outlined parallel bodies) to the module,
 * named with the kernel function's name as prefix. */
typedef struct CgKernel {
    LLVMContextRef ctx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMValueRef fn;          /* the kernel function */
    LLVMValueRef n;           /* i64: the batch symbol's value (>= 1) */
    LLVMValueRef *in;         /* node->nin pointers (NULL: absent) */
    LLVMValueRef *out;        /* node->nout pointers (NULL: unused) */
    const IrGraph *g;
    const IrNode *node;
    const CgTarget *target;
    IrDiag *d;
} CgKernel;

/* Emit the body of one kernel for k->node. Returns 0, or -1 with a diagnostic naming the node
 * (e.g. an op or dtype codegen does not support yet). */
int cg_emit_kernel(CgKernel *k);

/* The kernels of the training graph's internal ops (IR_OPF_INTERNAL) and of the losses
 * (codegen/kernel_grad.c); same contract as cg_emit_kernel, which routes them there. */
int cg_emit_grad_kernel(CgKernel *k);

/* True if the node needs no kernel because its output is a view of its input (same bytes,
 * other shape): Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout in inference. */
bool cg_is_view(const IrGraph *g, const IrNode *n);

#endif
