/* Compiled models for the verbs: libraries opened with dlopen, models compiled in memory with LLVM's ORC JIT. */
#ifndef SINTER_CLI_NATIVE_H
#define SINTER_CLI_NATIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codegen/codegen.h"
#include "ir/ir.h"
#include "runtime/sinter_model.h"

/* A compiled model ready to run, with one context. Either dl or jit is set. */
typedef struct CliNative {
    const SinterModelInfo *info;   /* the descriptor, checked by cli_native_open/compile */
    void *m;                       /* a context: info->create() */
    void *dl;                      /* dlopen handle of a library */
    CgJit *jit;                    /* the code of a model compiled in memory (ORC LLJIT) */
    double compile_seconds;        /* passes + LLVM + JIT (compiled in memory), else 0 */
} CliNative;

/* Opens a library made by `sinter compile` (dlopen with RTLD_LOCAL), finds sinter_model_info,
 * checks its version and contents, and creates a context. Returns 0, or -1 with a diagnostic
 * "PATH: ..." (not a library, not a sinter library, another descriptor version). */
int cli_native_open(CliNative *x, const char *path, IrDiag *d);

/* Runs the default pass pipeline on a copy of g (as `sinter compile` does), compiles it for this
 * machine at opt_level into the process with LLVM's ORC JIT (cg_jit_compile: no file is
 * written), then creates a context. Returns 0, or -1 with diagnostics (the model's: as
 * `sinter compile` would report them). With training false only the inference entry points are
 * built (cg_jit_compile_inference: much faster for models with a training section).
 * check_finite: as compile --check-finite. */
int cli_native_compile(CliNative *x, const IrGraph *g, int opt_level, bool training, bool check_finite, IrDiag *d);

/* Destroys the context and unloads the code. x may be zeroed (never opened). */
void cli_native_close(CliNative *x);

/* Before the first inference: sets the thread count (threads > 0) and loads params from a
 * .safetensors file (weights != NULL); a library built with external weights needs them.
 * Returns 0, or -1 with a diagnostic. */
int cli_native_prepare(CliNative *x, int threads, const char *weights, IrDiag *d);

/* info->infer with the library's message as a diagnostic ("inference failed: SINTER_EINVAL:
 * message"). Returns 0 or -1. */
int cli_native_infer(CliNative *x, int64_t n, void *const *args, IrDiag *d);

/* info->train_step (the library must have SINTER_MODEL_TRAINING), its failure as a diagnostic
 * ("training step failed: SINTER_EINVAL: message"). Returns 0 or -1. */
int cli_native_train_step(CliNative *x, int64_t n, void *const *args, float *loss, IrDiag *d);

/* A graph holding the descriptor's inputs (role INPUT) and outputs (role ACT, typed) as values
 * with their names, dtypes and shapes, in declaration order: name binding and input checks of
 * the verbs then work the same for a library as for a model file. No nodes. */
IrGraph *cli_native_graph(const SinterModelInfo *info);

/* Dims of descriptor tensor t at batch n; false if they overflow. */
bool cli_native_dims(const SinterTensorInfo *t, int64_t n, int64_t *dims);

#endif
