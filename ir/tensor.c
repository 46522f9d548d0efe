/* Concrete tensors for the reference interpreter: allocation and typed element access. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"

int ir_tensor_alloc(IrTensor *t, IrDtype dtype, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = rank;
    int64_t numel = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || __builtin_mul_overflow(numel, dims[i], &numel))
            return -1;
        t->dims[i] = dims[i];
    }
    t->numel = numel;
    size_t bytes;
    if (__builtin_mul_overflow((size_t)numel, srt_dtype_size(dtype), &bytes))
        return -1;
    t->data = srt_calloc(bytes ? bytes : 1, 1);
    return t->data ? 0 : -1;
}

void ir_tensor_free(IrTensor *t)
{
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->numel = 0;
}

double ir_tensor_getf(const IrTensor *t, int64_t i)
{
    switch (t->dtype) {
    case SRT_F32: return ((const float *)t->data)[i];
    case SRT_F64: return ((const double *)t->data)[i];
    case SRT_I64: return (double)((const int64_t *)t->data)[i];
    case SRT_I32: return ((const int32_t *)t->data)[i];
    case SRT_I8: return ((const int8_t *)t->data)[i];
    case SRT_U8: return ((const uint8_t *)t->data)[i];
    case SRT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    default: IR_ASSERT(!"dtype not supported by the interpreter");
    }
}

/* Float to integer as C casts do (truncation), saturating instead of UB out of range. */
static int64_t f2i(double v, int64_t lo, int64_t hi)
{
    if (isnan(v))
        return 0;
    if (v <= (double)lo)
        return lo;
    if (v >= (double)hi)
        return hi;
    return (int64_t)v;
}

void ir_tensor_setf(IrTensor *t, int64_t i, double v)
{
    switch (t->dtype) {
    case SRT_F32: ((float *)t->data)[i] = (float)v; break;
    case SRT_F64: ((double *)t->data)[i] = v; break;
    case SRT_I64: ((int64_t *)t->data)[i] = f2i(v, INT64_MIN, INT64_MAX); break;
    case SRT_I32: ((int32_t *)t->data)[i] = (int32_t)f2i(v, INT32_MIN, INT32_MAX); break;
    case SRT_I8: ((int8_t *)t->data)[i] = (int8_t)f2i(v, INT8_MIN, INT8_MAX); break;
    case SRT_U8: ((uint8_t *)t->data)[i] = (uint8_t)f2i(v, 0, UINT8_MAX); break;
    case SRT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    default: IR_ASSERT(!"dtype not supported by the interpreter");
    }
}

int64_t ir_tensor_geti(const IrTensor *t, int64_t i)
{
    switch (t->dtype) {
    case SRT_F32: return f2i(((const float *)t->data)[i], INT64_MIN, INT64_MAX);
    case SRT_F64: return f2i(((const double *)t->data)[i], INT64_MIN, INT64_MAX);
    case SRT_I64: return ((const int64_t *)t->data)[i];
    case SRT_I32: return ((const int32_t *)t->data)[i];
    case SRT_I8: return ((const int8_t *)t->data)[i];
    case SRT_U8: return ((const uint8_t *)t->data)[i];
    case SRT_BOOL: return ((const uint8_t *)t->data)[i] != 0;
    default: IR_ASSERT(!"dtype not supported by the interpreter");
    }
}

void ir_tensor_seti(IrTensor *t, int64_t i, int64_t v)
{
    switch (t->dtype) {
    case SRT_F32: ((float *)t->data)[i] = (float)v; break;
    case SRT_F64: ((double *)t->data)[i] = (double)v; break;
    case SRT_I64: ((int64_t *)t->data)[i] = v; break;
    case SRT_I32: ((int32_t *)t->data)[i] = (int32_t)v; break;  /* wraps like a C cast */
    case SRT_I8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case SRT_U8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case SRT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    default: IR_ASSERT(!"dtype not supported by the interpreter");
    }
}
