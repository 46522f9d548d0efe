/* Running an imported model on given tensors through the interpreter and the JIT, for the ONNX
 * tests (tests/test_onnx.c, tests/onnx_node_sweep.c). Failures are returned as messages, not
 * asserted, so a sweep can count them. */
#ifndef SINTER_ONNXRUN_H
#define SINTER_ONNXRUN_H

#include <stdbool.h>
#include <stddef.h>

#include "codegen/codegen.h"
#include "ir/ir.h"

/* The batch n that the inputs' shapes imply (1 when no input dim depends on N); -1 with a
 * message when a shape does not fit its declaration. */
int64_t tu_onnx_batch(const IrGraph *g, const SrtTensor *in, char *err, size_t len);

/* The graph's outputs at batch n, by the interpreter: out[0..g->noutputs) allocated here
 * (free each with ir_tensor_free). 0, or -1 with a message. */
int tu_onnx_interp(const IrGraph *g, int64_t n, const SrtTensor *in, IrTensor *out, char *err, size_t len);

/* The same through compiled code: a copy of g through the inference pipeline, JIT-compiled
 * (*jit, reused when not NULL on entry; free with cg_jit_free). */
int tu_onnx_compile(const IrGraph *g, CgJit **jit, char *err, size_t len);
int tu_onnx_jit(const IrGraph *g, CgJit *jit, int64_t n, const SrtTensor *in, IrTensor *out, char *err,
                size_t len);

/* Compares got with want (same shape; floats within atol + rtol*|want|, NaN matching NaN;
 * integers exactly). true, or false with a message naming the first bad element. *max_err
 * (may be NULL) gets the largest absolute difference of floats. */
bool tu_onnx_compare(const char *what, const IrTensor *got, const SrtTensor *want, double rtol, double atol,
                     double *max_err, char *err, size_t len);

#endif
