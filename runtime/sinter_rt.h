/* sinter runtime: the small C library shared by the compiler and every generated library. */
#ifndef SINTER_RT_H
#define SINTER_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SRT_API __attribute__((visibility("default")))
#else
#define SRT_API
#endif

/* Status codes returned by every int function of the runtime and of generated libraries.
 * ORDER: srt_status_name() in runtime/dtype.c follows this list. */
enum {
    SINTER_OK = 0,
    SINTER_EINVAL = 1,   /* bad argument (NULL pointer, n <= 0, ...) */
    SINTER_ENOMEM = 2,   /* allocation failed or size overflows */
    SINTER_EIO = 3,      /* file could not be opened, read or written */
    SINTER_EFORMAT = 4,  /* file is malformed or does not match the model */
    SINTER_ESTATE = 5,   /* call not valid in the current state */
    SINTER_EINTERNAL = 6, /* a bug in sinter */
    SINTER_EDATA = 7     /* the data cannot be computed with: an index out of range, an integer
                            division by zero (NAME_error names the node), or with --check-finite
                            a NaN or infinity in an output or the loss */
};

/* Element types. The IR uses the same numbering (IrDtype == SrtDtype).
 * ORDER: srt_dtype_* tables in runtime/dtype.c follow this list. */
typedef enum SrtDtype {
    SRT_F32 = 0,
    SRT_F64,
    SRT_I64,
    SRT_I32,
    SRT_I8,
    SRT_U8,
    SRT_BOOL, /* 1 byte, 0 or 1 */
    SRT_BF16, /* storage only (tensor files) */
    SRT_F16,  /* storage only (tensor files) */
    SRT_DTYPE_COUNT
} SrtDtype;

#define SRT_MAX_RANK 8

size_t srt_dtype_size(SrtDtype t);
const char *srt_dtype_name(SrtDtype t);        /* "float32", "int64", ... (model format) */
const char *srt_dtype_short(SrtDtype t);       /* "f32", "i64", ... (IR dumps) */
int srt_dtype_from_name(const char *s, SrtDtype *out); /* model-format name; 0 on success */
const char *srt_status_name(int status);       /* "SINTER_EINVAL", ... */

/* One named tensor of a tensor file. data is owned by whoever filled the struct. */
typedef struct SrtTensor {
    char *name;                  /* NUL-terminated; "" for .npy files */
    SrtDtype dtype;
    int rank;                    /* 0..SRT_MAX_RANK */
    int64_t dims[SRT_MAX_RANK];
    size_t nbytes;               /* product(dims) * srt_dtype_size(dtype) */
    void *data;
} SrtTensor;

/* The tensors of one .safetensors file, in file order (sorted by name on write). */
typedef struct SrtTensorFile {
    int count;
    SrtTensor *tensors;
} SrtTensorFile;

/* Errors: functions return a SINTER_* status and, on failure, write a one-line message
 * (no file name prefix; the caller adds it) into err[errlen]. err may be NULL. */

/* Formats a message into err[errlen] (if err and errlen > 0, truncating) and returns status. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int srt_errorf(char *err, size_t errlen, int status, const char *fmt, ...);

/* *out = product(dims) * srt_dtype_size(dtype). SINTER_EINVAL for a bad dtype, a rank outside
 * 0..SRT_MAX_RANK or a negative dim; SINTER_ENOMEM if the product of the nonzero dims times
 * the element size overflows size_t (so every partial product of a valid shape fits). */
int srt_tensor_nbytes(SrtDtype dtype, int rank, const int64_t *dims, size_t *out);

/* .safetensors: parse from memory (untrusted input: every offset, size and shape is
 * checked; tensors are copied out of buf) or from a file. */
int srt_safetensors_parse(const uint8_t *buf, size_t len, SrtTensorFile *out, char *err, size_t errlen);
int srt_safetensors_read(const char *path, SrtTensorFile *out, char *err, size_t errlen);
/* Atomic: writes PATH.tmp.XXXXXX, fsyncs, renames over path. */
int srt_safetensors_write(const char *path, const SrtTensor *tensors, int count, char *err, size_t errlen);
void srt_tensorfile_free(SrtTensorFile *f);
const SrtTensor *srt_tensorfile_find(const SrtTensorFile *f, const char *name);

/* .npy (format versions 1.0-3.0 read, 1.0 written; little-endian, C order). */
int srt_npy_parse(const uint8_t *buf, size_t len, SrtTensor *out, char *err, size_t errlen);
int srt_npy_read(const char *path, SrtTensor *out, char *err, size_t errlen);
int srt_npy_write(const char *path, const SrtTensor *t, char *err, size_t errlen); /* atomic */
void srt_tensor_free(SrtTensor *t);   /* frees name and data, not t itself */

/* Write len bytes to path atomically (temporary file in the same folder, fsync, rename).
 * On failure the temporary file is removed and path is untouched. A new file gets mode
 * 0666 & ~umask; a replaced file keeps its permission bits. */
int srt_write_file_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* One piece of a file written by srt_write_parts_atomic. data may be NULL when len == 0. */
typedef struct SrtSlice {
    const void *data;
    size_t len;
} SrtSlice;
/* Like srt_write_file_atomic, writing the concatenation of parts[0..nparts). */
int srt_write_parts_atomic(const char *path, const SrtSlice *parts, int nparts, char *err, size_t errlen);
/* Read a whole file; *out is malloc'ed and followed by a NUL byte not counted in *len (so
 * text files can be used as C strings). Refuses files larger than max_len. */
int srt_read_file(const char *path, size_t max_len, uint8_t **out, size_t *len, char *err, size_t errlen);

/* ---- the allocation hook (runtime/alloc.c) ------------------------------------------
 * Every allocation of sinter's own code, compiler and runtime: malloc, calloc, realloc,
 * aligned_alloc, strdup and strndup, freed with free(). They return NULL on failure, after
 * calling the out-of-memory handler if the program installed one. A build with
 * SINTER_FAULT_INJECTION fails the k-th allocation when SINTER_FAIL_ALLOC=k is set (in code with
 * a handler: the sinter command) or SINTER_FAIL_ALLOC_LIB=k (without: generated libraries). */
void *srt_malloc(size_t n);
void *srt_calloc(size_t count, size_t size);
void *srt_realloc(void *p, size_t n);
void *srt_aligned_alloc(size_t align, size_t n);
char *srt_strdup(const char *s);
char *srt_strndup(const char *s, size_t max);
/* For programs (the sinter command), never library code: handler(bytes) runs when an allocation
 * fails; it may exit the process (after srt_temp_cleanup) or return, and the allocation then
 * returns NULL. */
void srt_set_oom_handler(void (*handler)(size_t bytes));
/* Temporary files and folders that exist while work goes on (the caller owns path until it
 * calls srt_temp_remove): srt_temp_cleanup, run by an out-of-memory handler that exits,
 * removes them so that no partial output stays behind. At most 8 at a time. */
void srt_temp_add(const char *path, bool is_dir);
void srt_temp_remove(const char *path);
void srt_temp_cleanup(void);

#endif
