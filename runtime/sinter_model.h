/* The descriptor every generated library exports (sinter_model_info) and the runtime's model state API. */
#ifndef SINTER_MODEL_H
#define SINTER_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/sinter_rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Generated headers guard their copy of the status codes with this macro. */
#ifndef SINTER_STATUS_DEFINED
#define SINTER_STATUS_DEFINED
#endif

/* Bumped on any layout change of SinterModelInfo or SinterTensorInfo (python/sinter/_abi.py mirrors both).
 * 2: training fields appended after `error` (the first 23 fields are those of version 1). */
#define SINTER_MODEL_INFO_VERSION 2

/* SinterModelInfo.flags */
#define SINTER_MODEL_EXTERNAL_WEIGHTS 1   /* weights == NULL: params come from NAME_load */
#define SINTER_MODEL_TRAINING 2           /* the training fields and entry points are present */

/* a*N + b, N being the batch size the caller passes as n. */
typedef struct SinterDim {
    int64_t a, b;
} SinterDim;

/* One graph input, graph output or param. Layout: 8-byte fields only (the code generator
 * builds these as LLVM constants; keep it in sync with codegen/module.c). */
typedef struct SinterTensorInfo {
    const char *name;               /* as in the model (any non-empty string) */
    int64_t dtype;                  /* SrtDtype */
    int64_t rank;
    SinterDim dims[SRT_MAX_RANK];   /* rank entries used */
    SinterDim bytes;                /* element count * element size */
    int64_t offset;                 /* params: byte offset in the param block (64-aligned); else 0 */
} SinterTensorInfo;

/* The descriptor: `extern const SinterModelInfo sinter_model_info;` in every library
 * (look it up with dlsym). Entry points take the model's context as void *. */
typedef struct SinterModelInfo {
    int64_t version;                /* SINTER_MODEL_INFO_VERSION */
    int64_t size;                   /* sizeof(SinterModelInfo) */
    const char *name;               /* model name: prefix of the exported functions */
    const char *target;             /* LLVM target triple the library was built for */
    int64_t flags;                  /* SINTER_MODEL_* */
    int64_t ninputs, noutputs, nparams;
    const SinterTensorInfo *inputs; /* declaration order, as the entry points take them */
    const SinterTensorInfo *outputs;
    const SinterTensorInfo *params; /* declaration order; offsets increase */
    int64_t param_bytes;            /* size of the param block */
    const void *weights;            /* param_bytes bytes of initial params, or NULL */
    SinterDim scratch_bytes;        /* peak scratch of one inference */
    int64_t max_n;                  /* largest n infer accepts */
    void *(*create)(void);
    void (*destroy)(void *m);
    int (*load)(void *m, const char *safetensors_path);
    int (*save)(const void *m, const char *safetensors_path);
    /* args: one pointer per graph input, then one per graph output, declaration order. */
    int (*infer)(void *m, int64_t n, void *const *args);
    int (*set_num_threads)(void *m, int threads);
    const char *(*error)(const void *m);

    /* ---- training (version 2; zero/NULL unless flags has SINTER_MODEL_TRAINING) ----------
     * The param block of a context is param_bytes of params followed by state_bytes of
     * optimizer state (moments, momentum buffers, the step counter "optim.step" and the
     * learning rate "optim.lr"; names as in docs/training.md). NAME_save writes params and
     * state; NAME_load needs every param and takes the state when the file has all of it (a
     * file with no state tensor restarts the optimizer: state as after create). */
    int64_t ntraining_inputs;
    const SinterTensorInfo *training_inputs;  /* declaration order (e.g. labels) */
    int64_t nstate;
    const SinterTensorInfo *state;            /* offsets into the param block, >= param_bytes */
    int64_t state_bytes;
    /* One flat float buffer holds the gradient of every param that receives one (NAME_grads):
     * grad_params[i] names the param, its dims, and its byte offset in that buffer (packed,
     * declaration order); grad_count floats in all. */
    int64_t ngrad_params;
    const SinterTensorInfo *grad_params;
    int64_t grad_count;
    SinterDim train_scratch_bytes;            /* peak scratch of NAME_grad at n */
    int64_t apply_scratch_bytes;              /* peak scratch of NAME_apply */
    int64_t train_max_n;                      /* largest n train_step/grad accept */
    int64_t step_offset;                      /* int64 step counter in the param block, or -1 */
    int64_t lr_offset;                        /* learning rate in the param block, or -1 */
    int64_t lr_dtype;                         /* SrtDtype of the learning rate (float32/float64) */
    void (*init_state)(void *params);         /* writes the initial state into a param block */
    /* args: one pointer per graph input, then one per training input, declaration order;
     * loss (may be NULL) receives the forward loss before the update. */
    int (*train_step)(void *m, int64_t n, void *const *args, float *loss);
    int (*grad)(void *m, int64_t n, void *const *args, float *loss);
    int (*apply)(void *m);
    float *(*grads)(void *m, size_t *count);
    int (*set_lr)(void *m, float lr);
    int64_t (*get_step)(const void *m);
} SinterModelInfo;

/* ---- runtime side of the entry points (runtime/model.c) --------------------------------
 * The generated NAME_* functions are thin wrappers around these, passing their library's
 * descriptor; contexts carry a pointer to it, so a context of another model is refused.
 * Errors: the context's message (NAME_error(m)); for a NULL or foreign context, and when
 * create fails, a per-thread message that NAME_error(NULL) returns. */
void *srt_model_create(const SinterModelInfo *info);
void srt_model_destroy(const SinterModelInfo *info, void *m);
/* Reads a .safetensors file; every param must be present with the descriptor's dtype and
 * shape (other tensors are ignored). All-or-nothing: on any error the params are unchanged. */
int srt_model_load(const SinterModelInfo *info, void *m, const char *path);
/* Writes every param (atomic replace). */
int srt_model_save(const SinterModelInfo *info, const void *m, const char *path);
int srt_model_set_num_threads(const SinterModelInfo *info, void *m, int threads);
const char *srt_model_error(const SinterModelInfo *info, const void *m);
/* Start of an inference call: checks m, n (1..max_n), every input/output pointer (non-NULL
 * unless the tensor is empty at this n), makes room for scratch, sets the calling thread's
 * thread count; then bufs[0] = param block, bufs[1] = scratch arena (both 64-aligned).
 * Returns SINTER_OK or an error code with the context's message set. */
int srt_model_begin(const SinterModelInfo *info, void *m, int64_t n, void *const *args, void **bufs);
/* The param block of a context (tests compare it across failed loads). NULL if m is not a
 * context of info. */
void *srt_model_params(const SinterModelInfo *info, void *m);

/* ---- training entry points (libraries with SINTER_MODEL_TRAINING) ---------------------
 * fn names the exported function in messages ("train_step", "grad", "apply"). */
/* Start of NAME_grad / the first half of NAME_train_step: as srt_model_begin with args =
 * graph inputs then training inputs, scratch for train_scratch_bytes; bufs[0] = params,
 * bufs[1] = scratch, bufs[2] = the flat gradient buffer. */
int srt_model_begin_train(const SinterModelInfo *info, void *m, int64_t n, void *const *args, void **bufs,
                          const char *fn);
/* Start of NAME_apply / the second half of NAME_train_step: bufs as above. */
int srt_model_begin_apply(const SinterModelInfo *info, void *m, void **bufs, const char *fn);
/* Checks class labels read from the caller's memory before a loss kernel uses them: every
 * element of args[arg] (int32/int64, per the descriptor) must be in [0, classes) or equal
 * ignore_index when has_ignore. SINTER_EINVAL with a message naming the tensor otherwise. */
int srt_model_check_labels(const SinterModelInfo *info, void *m, const char *fn, int64_t arg, const void *labels,
                           int64_t n, int64_t classes, int64_t ignore_index, int64_t has_ignore);
/* ---- run-time checks of generated code (codegen/fault.c) ------------------------------
 * A kernel found data it cannot compute with; msg names the node ("node \"g\" (Gather): ...").
 * Sets the context's message "NAME_FN: msg" and returns SINTER_EDATA. */
int srt_model_fault(const SinterModelInfo *info, void *m, const char *fn, const char *msg);
/* --check-finite: SINTER_EDATA with a message naming what (e.g. output "y" (node "fc", Gemm)) and
 * the first element that is a NaN or an infinity among count values of dtype (f32/f64). */
int srt_model_check_finite(const SinterModelInfo *info, void *m, const char *fn, const void *data, int64_t count,
                           int64_t dtype, const char *what);
/* NAME_grads: the flat gradient buffer (grad_count floats, *count set when count != NULL);
 * NULL for a bad context. */
float *srt_model_grads(const SinterModelInfo *info, void *m, size_t *count);
/* NAME_set_lr: lr must be finite and >= 0. */
int srt_model_set_lr(const SinterModelInfo *info, void *m, float lr);
/* NAME_get_step: optimizer steps taken (restored by NAME_load); -1 for a bad context. */
int64_t srt_model_get_step(const SinterModelInfo *info, const void *m);

#ifdef __cplusplus
}
#endif

#endif
