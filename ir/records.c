/* Quantization and sparsity records of values: grid arithmetic, the checks the verifier and the frontend run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* ORDER: IrSparseFormat */
static const char *const SPARSE_NAMES[IR_SPARSE_COUNT] = {"csr", "block", "n:m"};

const char *ir_sparse_format_name(IrSparseFormat f)
{
    return f >= 0 && f < IR_SPARSE_COUNT ? SPARSE_NAMES[f] : "?";
}

bool ir_sparse_format_from_name(const char *s, IrSparseFormat *out)
{
    for (int i = 0; i < IR_SPARSE_COUNT; i++)
        if (!strcmp(s, SPARSE_NAMES[i])) {
            *out = (IrSparseFormat)i;
            return true;
        }
    return false;
}

/* Index of element i along axis of shape s (constant dims). */
static int64_t index_along(const IrShape *s, int axis, int64_t i)
{
    int64_t stride = 1;
    for (int k = s->rank - 1; k > axis; k--)
        stride *= s->d[k].b;
    return i / stride % s->d[axis].b;
}

int64_t ir_quant_index(const IrQuant *q, const IrShape *s, int64_t i)
{
    int64_t ch = q->axis >= 0 ? index_along(s, q->axis, i) : 0;
    if (q->group <= 0)
        return ch;
    int64_t ngroups = (s->d[q->group_axis].b + q->group - 1) / q->group;   /* the last may be short */
    return ch * ngroups + index_along(s, q->group_axis, i) / q->group;
}

float ir_quant_real(const IrQuant *q, int64_t j, int32_t k)
{
    int32_t zp = q->zero_point ? q->zero_point[j] : 0;
    return (float)((double)q->scale[j] * (double)(k - zp));
}

int32_t ir_quant_q(const IrQuant *q, const IrShape *s, int64_t i, double x)
{
    int64_t j = ir_quant_index(q, s, i);
    int32_t lo = -(1 << (q->bits - 1)), hi = (1 << (q->bits - 1)) - 1;
    double r = nearbyint(x / (double)q->scale[j]) + (q->zero_point ? q->zero_point[j] : 0);
    if (!(r >= lo))   /* NaN saturates low */
        return lo;
    return r > hi ? hi : (int32_t)r;
}

int64_t ir_count_nonzero(IrDtype dtype, const void *data, int64_t numel)
{
    int64_t nnz = 0;
    IrTensor t = {.dtype = dtype, .numel = numel, .data = (void *)data};
    for (int64_t i = 0; i < numel; i++)
        nnz += ir_tensor_getf(&t, i) != 0;
    return nnz;
}

IrQuant *ir_quant_copy(IrArena *a, const IrQuant *q)
{
    if (!q)
        return NULL;
    IrQuant *c = ir_arena_memdup(a, q, sizeof *q);
    size_t n = (size_t)(q->nscales > 0 ? q->nscales : 1);
    c->scale = q->scale ? ir_arena_memdup(a, q->scale, n * sizeof *q->scale) : NULL;
    c->zero_point = q->zero_point ? ir_arena_memdup(a, q->zero_point, n * sizeof *q->zero_point) : NULL;
    return c;
}

IrSparse *ir_sparse_copy(IrArena *a, const IrSparse *s)
{
    return s ? ir_arena_memdup(a, s, sizeof *s) : NULL;
}

/* ---- checks ---------------------------------------------------------------------------------- */

static void rec_error(IrDiag *d, const IrValue *v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void rec_error(IrDiag *d, const IrValue *v, const char *fmt, ...)
{
    char where[512];
    if (v->where && *v->where)
        snprintf(where, sizeof where, "%s \"%s\"", v->where, v->name ? v->name : "");
    else
        snprintf(where, sizeof where, "value \"%s\"", v->name ? v->name : "");
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(d, where, fmt, ap);
    va_end(ap);
}

/* The value holds data of a constant shape: numel, else -1 after a diagnostic. */
static int64_t data_numel(const IrValue *v, const char *what, IrDiag *d)
{
    IrDim cnt;
    if (v->role != IR_ROLE_PARAM && v->role != IR_ROLE_CONST) {
        rec_error(d, v, "has a %s record, but only params and constants can have one", what);
        return -1;
    }
    if (!v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0) {
        rec_error(d, v, "has a %s record but no constant shape", what);
        return -1;
    }
    if (v->dtype != SRT_F32) {
        rec_error(d, v, "has a %s record but is %s (records describe float32 values)", what,
                  srt_dtype_name(v->dtype));
        return -1;
    }
    return cnt.b;
}

static int check_quant(const IrValue *v, IrDiag *d)
{
    const IrQuant *q = v->quant;
    int64_t numel = data_numel(v, "quantization", d);
    if (numel < 0)
        return 1;
    const IrShape *s = &v->shape;
    if (q->bits != 8 && q->bits != 4) {
        rec_error(d, v, "quantization bits %d (8 or 4 are supported)", q->bits);
        return 1;
    }
    if (q->axis < -1 || q->axis >= s->rank) {
        rec_error(d, v, "quantization axis %d is outside the value's %d dims (-1: one scale for the tensor)",
                  q->axis, s->rank);
        return 1;
    }
    int64_t expect = q->axis >= 0 ? s->d[q->axis].b : 1;
    if (q->group < 0) {
        rec_error(d, v, "quantization group %lld is negative (0: no groups)", (long long)q->group);
        return 1;
    }
    if (q->group > 0) {
        if (q->group_axis < 0 || q->group_axis >= s->rank || q->group_axis == q->axis) {
            rec_error(d, v, "quantization group_axis %d must be one of the value's %d dims other than axis %d",
                      q->group_axis, s->rank, q->axis);
            return 1;
        }
        int64_t len = s->d[q->group_axis].b;
        if (q->group > len) {
            rec_error(d, v, "quantization group %lld is longer than dim %d (%lld)", (long long)q->group,
                      q->group_axis, (long long)len);
            return 1;
        }
        expect *= (len + q->group - 1) / q->group;
    }
    if (q->nscales != expect || !q->scale) {
        rec_error(d, v, "has %lld quantization scales; its axis and groups need %lld", (long long)q->nscales,
                  (long long)expect);
        return 1;
    }
    int32_t lo = -(1 << (q->bits - 1)), hi = (1 << (q->bits - 1)) - 1;
    for (int64_t j = 0; j < q->nscales; j++) {
        if (!(q->scale[j] > 0) || !isfinite(q->scale[j])) {
            rec_error(d, v, "quantization scale[%lld] is %g (scales are finite and > 0)", (long long)j,
                      (double)q->scale[j]);
            return 1;
        }
        if (q->zero_point && (q->zero_point[j] < lo || q->zero_point[j] > hi)) {
            rec_error(d, v, "quantization zero_point[%lld] is %d, outside the %d-bit grid [%d, %d]", (long long)j,
                      q->zero_point[j], q->bits, lo, hi);
            return 1;
        }
    }
    if (!v->data)
        return 0;
    const float *x = v->data;
    for (int64_t i = 0; i < numel; i++) {
        int64_t j = ir_quant_index(q, s, i);
        float back = ir_quant_real(q, j, ir_quant_q(q, s, i, x[i]));
        if (back != x[i]) {
            rec_error(d, v, "element %lld is %.9g, which is not on its quantization grid (scale %.9g, zero point "
                      "%d, %d bits; nearest %.9g)", (long long)i, (double)x[i], (double)q->scale[j],
                      q->zero_point ? q->zero_point[j] : 0, q->bits, (double)back);
            return 1;
        }
    }
    return 0;
}

static int check_sparse(const IrValue *v, IrDiag *d)
{
    const IrSparse *sp = v->sparse;
    int64_t numel = data_numel(v, "sparsity", d);
    if (numel < 0)
        return 1;
    const IrShape *s = &v->shape;
    if (sp->format < 0 || sp->format >= IR_SPARSE_COUNT) {
        rec_error(d, v, "sparsity format %d is unknown (csr, block or n:m)", (int)sp->format);
        return 1;
    }
    if (s->rank < 1) {
        rec_error(d, v, "has a sparsity record but is a scalar");
        return 1;
    }
    int64_t cols = s->d[s->rank - 1].b, rows = cols ? numel / cols : 0;
    int64_t b0 = sp->block[0], b1 = sp->block[1];
    const float *x = v->data;
    int64_t nnz = x ? ir_count_nonzero(v->dtype, x, numel) : -1;
    switch (sp->format) {
    case IR_SPARSE_CSR:
        if (b0 != 1 || b1 != 1) {
            rec_error(d, v, "csr sparsity has block [%lld, %lld] (csr is [1, 1])", (long long)b0, (long long)b1);
            return 1;
        }
        break;
    case IR_SPARSE_BLOCK:
        if (b0 < 1 || b1 < 1 || rows % b0 || cols % b1) {
            rec_error(d, v, "sparsity block [%lld, %lld] does not tile the [%lld, %lld] matrix of its rows",
                      (long long)b0, (long long)b1, (long long)rows, (long long)cols);
            return 1;
        }
        if (x) {
            nnz = 0;
            for (int64_t br = 0; br < rows; br += b0)
                for (int64_t bc = 0; bc < cols; bc += b1) {
                    bool any = false;
                    for (int64_t r = br; r < br + b0 && !any; r++)
                        for (int64_t c = bc; c < bc + b1 && !any; c++)
                            any = x[r * cols + c] != 0;
                    nnz += any ? b0 * b1 : 0;
                }
        }
        break;
    case IR_SPARSE_NM:
        if (b1 < 1 || b0 < 0 || b0 > b1 || cols % b1) {
            rec_error(d, v, "n:m sparsity %lld:%lld needs 0 <= n <= m and m dividing the last dim (%lld)",
                      (long long)b0, (long long)b1, (long long)cols);
            return 1;
        }
        for (int64_t i = 0; x && i < numel; i += b1) {
            int64_t k = ir_count_nonzero(v->dtype, x + i, b1);
            if (k > b0) {
                rec_error(d, v, "elements %lld..%lld hold %lld non-zeros, more than its %lld:%lld sparsity allows",
                          (long long)i, (long long)(i + b1 - 1), (long long)k, (long long)b0, (long long)b1);
                return 1;
            }
        }
        break;
    case IR_SPARSE_COUNT:
        break;
    }
    if (sp->nnz < 0 || sp->nnz > numel || (x && sp->nnz != nnz)) {
        rec_error(d, v, "sparsity record says %lld non-zeros, the data has %lld", (long long)sp->nnz, (long long)nnz);
        return 1;
    }
    return 0;
}

int ir_value_check_records(const IrValue *v, IrDiag *d)
{
    return (v->quant ? check_quant(v, d) : 0) + (v->sparse ? check_sparse(v, d) : 0);
}
