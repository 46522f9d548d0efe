/* The descriptor every generated library exports (sinter_model_info) and the runtime's model state API. */
#ifndef SINTER_MODEL_H
#define SINTER_MODEL_H

#include <stdint.h>

#include "runtime/sinter_rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Generated headers guard their copy of the status codes with this macro. */
#ifndef SINTER_STATUS_DEFINED
#define SINTER_STATUS_DEFINED
#endif

/* Bumped on any layout change of SinterModelInfo or SinterTensorInfo. */
#define SINTER_MODEL_INFO_VERSION 1

/* SinterModelInfo.flags */
#define SINTER_MODEL_EXTERNAL_WEIGHTS 1   /* weights == NULL: params come from NAME_load */

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

#ifdef __cplusplus
}
#endif

#endif
