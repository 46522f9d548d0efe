/* Element types, status names, tensor sizes and error formatting shared by the runtime. */
#include "runtime/sinter_rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ORDER: follows SrtDtype. Columns: size in bytes, model-format name, short name (IR dumps). */
static const struct {
    size_t size;
    const char *name;
    const char *short_name;
} dtype_table[] = {
    {4, "float32", "f32"},
    {8, "float64", "f64"},
    {8, "int64", "i64"},
    {4, "int32", "i32"},
    {1, "int8", "i8"},
    {1, "uint8", "u8"},
    {1, "bool", "bool"},
    {2, "bfloat16", "bf16"},
    {2, "float16", "f16"},
};
_Static_assert(sizeof dtype_table / sizeof dtype_table[0] == SRT_DTYPE_COUNT,
               "dtype_table must have one row per SrtDtype");

/* ORDER: follows the SINTER_* status codes (0..SINTER_EDATA). */
static const char *const status_names[] = {
    "SINTER_OK",      "SINTER_EINVAL", "SINTER_ENOMEM",    "SINTER_EIO",
    "SINTER_EFORMAT", "SINTER_ESTATE", "SINTER_EINTERNAL", "SINTER_EDATA",
};
_Static_assert(sizeof status_names / sizeof status_names[0] == SINTER_EDATA + 1,
               "status_names must have one row per status code");

static int dtype_valid(SrtDtype t)
{
    return (int)t >= 0 && (int)t < SRT_DTYPE_COUNT;
}

size_t srt_dtype_size(SrtDtype t)
{
    return dtype_valid(t) ? dtype_table[t].size : 0;
}

const char *srt_dtype_name(SrtDtype t)
{
    return dtype_valid(t) ? dtype_table[t].name : "?";
}

const char *srt_dtype_short(SrtDtype t)
{
    return dtype_valid(t) ? dtype_table[t].short_name : "?";
}

int srt_dtype_from_name(const char *s, SrtDtype *out)
{
    if (!s || !out)
        return SINTER_EINVAL;
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        if (strcmp(s, dtype_table[i].name) == 0) {
            *out = (SrtDtype)i;
            return SINTER_OK;
        }
    }
    return SINTER_EINVAL;
}

const char *srt_status_name(int status)
{
    if (status < 0 || status > SINTER_EDATA)
        return "SINTER_E?";
    return status_names[status];
}

int srt_errorf(char *err, size_t errlen, int status, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return status;
}

int srt_tensor_nbytes(SrtDtype dtype, int rank, const int64_t *dims, size_t *out)
{
    if (!dtype_valid(dtype) || rank < 0 || rank > SRT_MAX_RANK || (rank > 0 && !dims) || !out)
        return SINTER_EINVAL;
    size_t elems = 1; /* product of all dims */
    size_t bound = 1; /* product of the nonzero dims: must fit even when elems is 0 */
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return SINTER_EINVAL;
#if SIZE_MAX < INT64_MAX
        if ((uint64_t)dims[i] > SIZE_MAX)
            return SINTER_ENOMEM;
#endif
        size_t d = (size_t)dims[i];
        if (__builtin_mul_overflow(bound, d ? d : 1, &bound))
            return SINTER_ENOMEM;
        elems *= d; /* cannot overflow: elems <= bound */
    }
    if (__builtin_mul_overflow(bound, dtype_table[dtype].size, &bound))
        return SINTER_ENOMEM;
    *out = elems * dtype_table[dtype].size;
    return SINTER_OK;
}

void srt_tensor_free(SrtTensor *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->data);
    t->name = NULL;
    t->data = NULL;
    t->nbytes = 0;
}
