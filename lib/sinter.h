/* sinter.h: the sinter compiler as a C library (libsinter): load a model, run the passes, compile it to a file. */
#ifndef SINTER_H
#define SINTER_H

/*
 * The same steps `sinter compile` takes, for programs that compile models themselves (a build
 * tool, a service, the Python module):
 *
 *     SinterDiagnostics *diag = sinter_diagnostics_new();
 *     SinterModel *m = sinter_model_load("model.json", diag);
 *     SinterOptions *opt = sinter_options_new();
 *     if (!m || sinter_model_run_pipeline(m, NULL, diag) != 0 ||
 *         sinter_options_set(opt, "opt_level", "3", diag) != 0 ||
 *         sinter_compile(m, opt, "libmodel.so", diag) != 0)
 *         for (size_t i = 0; i < sinter_diagnostics_count(diag); i++)
 *             fprintf(stderr, "%s\n", sinter_diagnostics_message(diag, i));
 *     sinter_options_free(opt);
 *     sinter_model_free(m);
 *     sinter_diagnostics_free(diag);
 *
 * Conventions:
 *   - Functions returning int return 0 on success and -1 on failure; functions returning a
 *     pointer return NULL on failure. A failure appends one-line messages "FILE: WHERE: message"
 *     (the same text the sinter command prints) to the SinterDiagnostics given, which may be NULL
 *     when the caller does not want them. Nothing is ever printed, and nothing exits.
 *   - Objects are independent: different models, options and diagnostics may be used from
 *     different threads at once; one object is used by one thread at a time.
 *   - Strings passed in are copied or used during the call only; strings returned belong to
 *     the object they came from and live as long as it (diagnostics: until cleared).
 *   - The shared libraries it writes have the ABI of the generated header NAME.h (see
 *     docs/codegen.md) and need only libc, libm and libgomp.
 */

#include <stddef.h>

#if defined(__GNUC__)
#define SINTER_PUBLIC __attribute__((visibility("default")))
#else
#define SINTER_PUBLIC
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the library, "MAJOR.MINOR.PATCH". */
SINTER_PUBLIC const char *sinter_version(void);

/* ---- diagnostics ----------------------------------------------------------------- */
typedef struct SinterDiagnostics SinterDiagnostics;

/* An empty list; NULL only when out of memory. */
SINTER_PUBLIC SinterDiagnostics *sinter_diagnostics_new(void);
SINTER_PUBLIC size_t sinter_diagnostics_count(const SinterDiagnostics *d);
/* Message i (0 <= i < count), or NULL past the end. */
SINTER_PUBLIC const char *sinter_diagnostics_message(const SinterDiagnostics *d, size_t i);
/* Forgets every message (their strings become invalid). */
SINTER_PUBLIC void sinter_diagnostics_clear(SinterDiagnostics *d);
SINTER_PUBLIC void sinter_diagnostics_free(SinterDiagnostics *d);

/* ---- models ------------------------------------------------------------------------ */
typedef struct SinterModel SinterModel;

/* Reads and validates a model file (the JSON model format, docs/model-format.md) with its
 * weights; the result is typed and ready for the passes. */
SINTER_PUBLIC SinterModel *sinter_model_load(const char *path, SinterDiagnostics *d);
/* The same from memory: label names the model in messages, dir resolves a relative "weights"
 * path (NULL: the current folder). */
SINTER_PUBLIC SinterModel *sinter_model_parse(const char *json, size_t len, const char *label, const char *dir,
                                              SinterDiagnostics *d);
/* Replaces the params by the tensors of a .safetensors file, matched by name, dtype and shape
 * (`sinter compile --weights`); a checkpoint's optimizer state is ignored. Before
 * sinter_model_run_pipeline only. On failure the model is unchanged. */
SINTER_PUBLIC int sinter_model_load_weights(SinterModel *m, const char *safetensors_path, SinterDiagnostics *d);
/* The model's name: the prefix of the generated library's functions. */
SINTER_PUBLIC const char *sinter_model_name(const SinterModel *m);
/* Prepares the model for compiling, as `sinter compile` does: a model with a training section
 * gets its training graph (the training pipeline on a copy, for the training entry points),
 * then passes run over the model: passes NULL runs the inference pipeline, else a
 * comma-separated list of pass names ("shape_infer,const_fold,dce"). The graphs are verified
 * after every pass. Once per model; on failure the model may be partly transformed: load it
 * again. */
SINTER_PUBLIC int sinter_model_run_pipeline(SinterModel *m, const char *passes, SinterDiagnostics *d);
SINTER_PUBLIC void sinter_model_free(SinterModel *m);

/* ---- compiling ----------------------------------------------------------------------- */
typedef struct SinterOptions SinterOptions;

/* Options with their defaults: -O2, this machine, embedded weights. */
SINTER_PUBLIC SinterOptions *sinter_options_new(void);
/* Sets one option from text, as the sinter compile flags of the same name:
 *   "opt_level"         "0".."3"                       (-O0..-O3; default 2)
 *   "target"            a triple, "aarch64-linux-gnu"  (--target; default this machine)
 *   "cpu"               a CPU name, "x86-64-v3"        (--cpu)
 *   "features"          "+avx2,-avx512f"               (--features)
 *   "emit"              "so", "o", "ll", "bc" or "s"   (--emit; default: by the output's extension)
 *   "external_weights"  "0" or "1"                     (--external-weights)
 *   "soname"            "libNAME.so.1"                 (--soname; default the output's file name)
 *   "strip"             "0" or "1"                     (--strip)
 * value NULL restores the default. An unknown key or a malformed value is a diagnostic and
 * leaves the options unchanged. */
SINTER_PUBLIC int sinter_options_set(SinterOptions *o, const char *key, const char *value, SinterDiagnostics *d);
SINTER_PUBLIC void sinter_options_free(SinterOptions *o);

/* Compiles the model as it is now (run the pipeline first for optimized code; without it a
 * training section still gets its training graph) into out_path:
 * a shared library plus its header NAME.h beside it, an object (+ NAME.h), LLVM IR or assembly,
 * by the "emit" option or the extension. o may be NULL (defaults). Files appear atomically; on
 * failure nothing is left behind. */
SINTER_PUBLIC int sinter_compile(SinterModel *m, const SinterOptions *o, const char *out_path, SinterDiagnostics *d);

#ifdef __cplusplus
}
#endif

#endif
