/* Reference kernels of the element-wise, comparison and reduction ops: plain loops, float math in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* ---- broadcasting ---------------------------------------------------------------- */

/* Advance the row-major coordinate idx within out's dims. */
static void next_index(const IrTensor *out, int64_t *idx)
{
    for (int r = out->rank - 1; r >= 0; r--) {
        if (++idx[r] < out->dims[r])
            return;
        idx[r] = 0;
    }
}

/* Two's-complement wrapping arithmetic, as numpy's fixed-width integers behave. */
static int64_t wrap_add(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a + (uint64_t)b);
}

static int64_t wrap_sub(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

static int64_t wrap_mul(int64_t a, int64_t b)
{
    return (int64_t)((uint64_t)a * (uint64_t)b);
}

/* NaN-propagating max/min (numpy.maximum / numpy.minimum). */
static double max_nan(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return a > b ? a : b;
}

static double min_nan(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return a < b ? a : b;
}

/* ---- unary ops ----------------------------------------------------------------- */

typedef enum UnaryOp { U_RELU, U_LEAKY, U_SIGMOID, U_TANH, U_GELU, U_GELU_TANH, U_ERF, U_EXP, U_LOG, U_SQRT, U_NEG, U_ABS } UnaryOp;

static double unary_f(UnaryOp op, double x, double alpha)
{
    switch (op) {
    case U_RELU: return isnan(x) ? x : (x > 0 ? x : 0.0);
    case U_LEAKY: return x >= 0 ? x : alpha * x;
    case U_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case U_TANH: return tanh(x);
    case U_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case U_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
    case U_ERF: return erf(x);
    case U_EXP: return exp(x);
    case U_LOG: return log(x);
    case U_SQRT: return sqrt(x);
    case U_NEG: return -x;
    case U_ABS: return fabs(x);
    }
    return NAN;
}

/* Integer versions (Relu, Neg, Abs); wrap like numpy (abs/neg of the minimum stay minimum). */
static int64_t unary_i(UnaryOp op, int64_t x)
{
    switch (op) {
    case U_RELU: return x > 0 ? x : 0;
    case U_NEG: return wrap_sub(0, x);
    case U_ABS: return x < 0 ? wrap_sub(0, x) : x;
    default: IR_ASSERT(!"integer unary op not validated by shape inference");
    }
    return 0;
}

static int ref_unary(const IrNode *n, IrTensor *const *in, IrTensor *const *out, UnaryOp op, double alpha)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    bool is_float = ir_dtype_is_float(x->dtype);
    for (int64_t i = 0; i < y->numel; i++) {
        if (is_float)
            ir_tensor_setf(y, i, unary_f(op, ir_tensor_getf(x, i), alpha));
        else
            ir_tensor_seti(y, i, unary_i(op, ir_tensor_geti(x, i)));
    }
    return 0;
}

int ref_Relu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_RELU, 0);
}

int ref_LeakyRelu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_LEAKY, ir_attr_float(n, "alpha"));
}

int ref_Sigmoid(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_SIGMOID, 0);
}

int ref_Tanh(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_TANH, 0);
}

int ref_Gelu(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const char *approx = ir_attr_str(n, "approximate");
    return ref_unary(n, in, out, approx && !strcmp(approx, "tanh") ? U_GELU_TANH : U_GELU, 0);
}

int ref_Erf(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_ERF, 0);
}

int ref_Exp(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_EXP, 0);
}

int ref_Log(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_LOG, 0);
}

int ref_Sqrt(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_SQRT, 0);
}

int ref_Neg(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_NEG, 0);
}

int ref_Abs(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_unary(n, in, out, U_ABS, 0);
}

int ref_Identity(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    if (out[0]->numel)
        memcpy(out[0]->data, in[0]->data, (size_t)out[0]->numel * srt_dtype_size(out[0]->dtype));
    return 0;
}

/* y = min(max(x, lo), hi) as numpy.clip: when lo > hi every element becomes hi; NaN propagates.
 * Absent bounds are -inf / +inf (the dtype's limits for integers). */
int ref_Clip(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    const IrTensor *lo = n->nin > 1 ? in[1] : NULL, *hi = n->nin > 2 ? in[2] : NULL;
    IrTensor *y = out[0];
    if (ir_dtype_is_float(x->dtype)) {
        double l = lo ? ir_tensor_getf(lo, 0) : -INFINITY, h = hi ? ir_tensor_getf(hi, 0) : INFINITY;
        for (int64_t i = 0; i < y->numel; i++)
            ir_tensor_setf(y, i, min_nan(max_nan(ir_tensor_getf(x, i), l), h));
    } else {
        int64_t l = lo ? ir_tensor_geti(lo, 0) : INT64_MIN, h = hi ? ir_tensor_geti(hi, 0) : INT64_MAX;
        for (int64_t i = 0; i < y->numel; i++) {
            int64_t v = ir_tensor_geti(x, i);
            v = v < l ? l : v;
            v = v > h ? h : v;
            ir_tensor_seti(y, i, v);
        }
    }
    return 0;
}

/* Float to float rounds; float to integer truncates toward zero, then wraps to the target
 * width like numpy (NaN and values beyond int64 have no defined result: NaN gives 0, others
 * saturate at the int64 limits first); anything to bool is x != 0 (NaN is true); integers
 * convert exactly or wrap. */
int ref_Cast(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    for (int64_t i = 0; i < y->numel; i++) {
        if (!ir_dtype_is_float(x->dtype))
            ir_tensor_seti(y, i, ir_tensor_geti(x, i));
        else if (ir_dtype_is_float(y->dtype) || y->dtype == SRT_BOOL)
            ir_tensor_setf(y, i, ir_tensor_getf(x, i));
        else
            ir_tensor_seti(y, i, ir_tensor_geti(x, i));
    }
    return 0;
}

/* ---- broadcasting binary ops ----------------------------------------------------- */

typedef enum BinOp { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_EQ, B_LT, B_GT } BinOp;

static double binary_f(BinOp op, double a, double b)
{
    switch (op) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_MAX: return max_nan(a, b);
    case B_MIN: return min_nan(a, b);
    case B_EQ: return a == b;
    case B_LT: return a < b;
    case B_GT: return a > b;
    }
    return NAN;
}

/* Integer version; the caller rules out division by zero. Division truncates toward zero
 * (ONNX's reference Div for integers). */
static int64_t binary_i(BinOp op, int64_t a, int64_t b)
{
    switch (op) {
    case B_ADD: return wrap_add(a, b);
    case B_SUB: return wrap_sub(a, b);
    case B_MUL: return wrap_mul(a, b);
    case B_DIV: return b == -1 ? wrap_sub(0, a) : a / b;
    case B_MAX: return a > b ? a : b;
    case B_MIN: return a < b ? a : b;
    case B_EQ: return a == b;
    case B_LT: return a < b;
    case B_GT: return a > b;
    }
    return 0;
}

/* out = in[0] op in[1] op ... (left fold, each input broadcast to out's shape). The inputs
 * share one dtype (shape inference checked it); comparisons write bool. */
static int ref_nary(const IrNode *n, IrTensor *const *in, int nin, IrTensor *const *out, BinOp op, IrDiag *d)
{
    IrTensor *y = out[0];
    bool is_float = ir_dtype_is_float(in[0]->dtype);
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t i = 0; i < y->numel; i++, next_index(y, idx)) {
        if (is_float) {
            double acc = ir_tensor_getf(in[0], ir_bcast_offset(in[0], y->rank, idx));
            for (int k = 1; k < nin; k++)
                acc = binary_f(op, acc, ir_tensor_getf(in[k], ir_bcast_offset(in[k], y->rank, idx)));
            ir_tensor_setf(y, i, acc);
        } else {
            int64_t acc = ir_tensor_geti(in[0], ir_bcast_offset(in[0], y->rank, idx));
            for (int k = 1; k < nin; k++) {
                int64_t b = ir_tensor_geti(in[k], ir_bcast_offset(in[k], y->rank, idx));
                if (op == B_DIV && b == 0) {
                    ir_node_error(d, n, "integer division by zero (inputs[1] has a 0 at output element %lld)",
                                  (long long)i);
                    return -1;
                }
                acc = binary_i(op, acc, b);
            }
            ir_tensor_seti(y, i, acc);
        }
    }
    return 0;
}

int ref_Add(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_ADD, d);
}

int ref_Sub(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_SUB, d);
}

int ref_Mul(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_MUL, d);
}

int ref_Div(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_DIV, d);
}

int ref_Max(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, n->nin, out, B_MAX, d);
}

int ref_Min(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, n->nin, out, B_MIN, d);
}

int ref_Equal(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_EQ, d);
}

int ref_Less(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_LT, d);
}

int ref_Greater(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_nary(n, in, 2, out, B_GT, d);
}

/* Integer power with wrapping (exact for int64). A negative exponent gives the truncated
 * value of 1/base^-e (0 unless |base| == 1); 0 to a negative power has no value. */
static bool ipow(int64_t base, int64_t e, int64_t *out)
{
    if (e < 0) {
        if (base == 0)
            return false;
        *out = base == 1 ? 1 : (base == -1 ? ((e & 1) ? -1 : 1) : 0);
        return true;
    }
    int64_t r = 1;
    while (e) {
        if (e & 1)
            r = wrap_mul(r, base);
        base = wrap_mul(base, base);
        e >>= 1;
    }
    *out = r;
    return true;
}

/* numpy.power(base, exponent).astype(base dtype), as ONNX's reference Pow. */
int ref_Pow(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *a = in[0], *b = in[1];
    IrTensor *y = out[0];
    bool int_math = !ir_dtype_is_float(a->dtype) && !ir_dtype_is_float(b->dtype);
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t i = 0; i < y->numel; i++, next_index(y, idx)) {
        int64_t ia = ir_bcast_offset(a, y->rank, idx), ib = ir_bcast_offset(b, y->rank, idx);
        if (int_math) {
            int64_t r;
            if (!ipow(ir_tensor_geti(a, ia), ir_tensor_geti(b, ib), &r)) {
                ir_node_error(d, n, "integer 0 raised to the negative power %lld (output element %lld) has no value",
                              (long long)ir_tensor_geti(b, ib), (long long)i);
                return -1;
            }
            ir_tensor_seti(y, i, r);
        } else {
            ir_tensor_setf(y, i, pow(ir_tensor_getf(a, ia), ir_tensor_getf(b, ib)));
        }
    }
    return 0;
}

/* Element-wise choice; inputs[1] and inputs[2] share the output's dtype, so elements are
 * copied as bytes. */
int ref_Where(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    IrTensor *y = out[0];
    size_t esize = srt_dtype_size(y->dtype);
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t i = 0; i < y->numel; i++, next_index(y, idx)) {
        bool c = ir_tensor_geti(in[0], ir_bcast_offset(in[0], y->rank, idx)) != 0;
        const IrTensor *src = c ? in[1] : in[2];
        const char *p = (const char *)src->data + (size_t)ir_bcast_offset(src, y->rank, idx) * esize;
        memcpy((char *)y->data + (size_t)i * esize, p, esize);
    }
    return 0;
}

/* ---- reductions ---------------------------------------------------------------- */

typedef enum RedOp { R_SUM, R_MEAN, R_MAX } RedOp;

/* Which axes of x are reduced (attribute or inputs[1], as shape inference validated).
 * *noop is set when nothing is reduced (noop_with_empty_axes with no axes). */
static int reduce_axes(const IrNode *n, IrTensor *const *in, bool *reduced, bool *noop, IrDiag *d)
{
    const IrTensor *x = in[0];
    const IrTensor *ax = n->nin > 1 ? in[1] : NULL;
    const int64_t *attr = NULL;
    int naxes = ir_attr_ints(n, "axes", &attr);
    if (ax)
        naxes = (int)ax->numel;
    if (naxes < 0)
        naxes = 0;
    *noop = false;
    for (int r = 0; r < x->rank; r++)
        reduced[r] = naxes == 0;
    if (naxes == 0 && ir_attr_int(n, "noop_with_empty_axes")) {
        *noop = true;
        return 0;
    }
    for (int k = 0; k < naxes; k++) {
        int64_t a = ax ? ir_tensor_geti(ax, k) : attr[k];
        int r;
        if (!ir_norm_axis(a, x->rank, &r)) {
            ir_node_error(d, n, "axes[%d] = %lld is out of range for a rank-%d input", k, (long long)a, x->rank);
            return -1;
        }
        reduced[r] = true;
    }
    return 0;
}

/* Smallest value of an integer dtype: ReduceMax over an empty set. */
static int64_t int_min_of(IrDtype t)
{
    switch (t) {
    case SRT_I32: return INT32_MIN;
    case SRT_I8: return INT8_MIN;
    case SRT_U8: return 0;
    default: return INT64_MIN;
    }
}

/* Accumulates every input element into its output slot (coordinates with the reduced axes
 * dropped), in double for floats and wrapping int64 for integers. Sum of nothing is 0; the
 * max of nothing is -inf (floats) or the dtype's minimum; the mean of nothing is NaN (floats)
 * or 0 (integers, where ONNX leaves it undefined). Float max propagates NaN. */
static int ref_reduce(const IrNode *n, IrTensor *const *in, IrTensor *const *out, RedOp op, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    bool reduced[IR_MAX_RANK], noop;
    if (reduce_axes(n, in, reduced, &noop, d))
        return -1;
    if (noop)
        return ref_Identity(NULL, n, in, out, d);
    bool is_float = ir_dtype_is_float(x->dtype);
    size_t slots = (size_t)(y->numel ? y->numel : 1);
    double *accf = is_float ? srt_malloc(slots * sizeof(double)) : NULL;
    int64_t *acci = is_float ? NULL : srt_malloc(slots * sizeof(int64_t));
    if (!accf && !acci) {
        ir_node_error(d, n, "cannot allocate %lld accumulators", (long long)y->numel);
        return -1;
    }
    for (int64_t j = 0; j < y->numel; j++) {
        if (is_float)
            accf[j] = op == R_MAX ? -INFINITY : 0.0;
        else
            acci[j] = op == R_MAX ? int_min_of(x->dtype) : 0;
    }
    /* count = number of input elements per output element */
    int64_t count = 1;
    for (int r = 0; r < x->rank; r++)
        if (reduced[r])
            count *= x->dims[r];
    int64_t idx[IR_MAX_RANK] = {0};
    for (int64_t i = 0; i < x->numel; i++, next_index(x, idx)) {
        int64_t j = 0;
        for (int r = 0; r < x->rank; r++)
            if (!reduced[r])
                j = j * x->dims[r] + idx[r];
        if (is_float) {
            double v = ir_tensor_getf(x, i);
            accf[j] = op == R_MAX ? max_nan(accf[j], v) : accf[j] + v;
        } else {
            int64_t v = ir_tensor_geti(x, i);
            acci[j] = op == R_MAX ? (v > acci[j] ? v : acci[j]) : wrap_add(acci[j], v);
        }
    }
    for (int64_t j = 0; j < y->numel; j++) {
        if (is_float)
            ir_tensor_setf(y, j, op == R_MEAN ? (count ? accf[j] / (double)count : NAN) : accf[j]);
        else
            ir_tensor_seti(y, j, op == R_MEAN ? (count ? acci[j] / count : 0) : acci[j]);
    }
    free(accf);
    free(acci);
    return 0;
}

int ref_ReduceMean(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_reduce(n, in, out, R_MEAN, d);
}

int ref_ReduceSum(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_reduce(n, in, out, R_SUM, d);
}

int ref_ReduceMax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return ref_reduce(n, in, out, R_MAX, d);
}
