/* Data-movement and shape ops (Reshape ... Range): shape functions, compile-time content, reference kernels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* Largest integer tensor whose compile-time content (IrValue.sym) these ops compute. */
#define SYM_MAX (1 << 14)

/* On a dim that depends on N, Slice starts/ends at or beyond +-SLICE_FAR count as "past the
 * end" (exports write INT64_MAX or INT32_MAX for "to the end"). The kernel re-checks the
 * inferred size at run time, so a batch that large is reported, not mis-sliced. */
#define SLICE_FAR ((int64_t)INT32_MAX)

/* ==== helpers: diagnostics text ============================================== */

typedef struct Str {
    char s[256];
} Str;

static Str type_str(const IrValue *v)
{
    Str r;
    ir_type_format(v->dtype, &v->shape, r.s, sizeof r.s);
    return r;
}

static Str dim_str(IrDim x)
{
    Str r;
    ir_dim_format(x, r.s, sizeof r.s);
    return r;
}

/* "[2,-1,N]"; a list too long for the buffer ends in ",...]". */
static Str list_str(int count, const IrDim *v)
{
    Str r;
    size_t pos = 0;
    r.s[pos++] = '[';
    for (int i = 0; i < count; i++) {
        char one[48];
        ir_dim_format(v[i], one, sizeof one);
        size_t len = strlen(one);
        if (pos + len + 8 > sizeof r.s) {
            memcpy(r.s + pos, ",...", 4);
            pos += 4;
            break;
        }
        if (i)
            r.s[pos++] = ',';
        memcpy(r.s + pos, one, len);
        pos += len;
    }
    r.s[pos++] = ']';
    r.s[pos] = 0;
    return r;
}

static Str ints_str(int count, const int64_t *v)
{
    IrDim tmp[64];
    int k = count < 64 ? count : 64;
    for (int i = 0; i < k; i++)
        tmp[i] = ir_dim_const(v[i]);
    return list_str(k, tmp);
}

/* ==== helpers: symbolic dims ================================================== */

/* x >= 0 for every N >= 1. */
static bool dim_nonneg(IrDim x)
{
    int64_t low;
    return x.a >= 0 && !__builtin_add_overflow(x.a, x.b, &low) && low >= 0;
}

/* x <= y for every N >= 1. */
static bool dim_le(IrDim x, IrDim y)
{
    IrDim diff;
    return ir_dim_sub(y, x, &diff) && dim_nonneg(diff);
}

/* Clamp x into [lo, hi] when the result has one form for every N; false otherwise. */
static bool dim_clamp(IrDim x, IrDim lo, IrDim hi, IrDim *out)
{
    if (dim_le(hi, x))
        *out = hi;
    else if (dim_le(x, lo))
        *out = lo;
    else if (dim_le(lo, x) && dim_le(x, hi))
        *out = x;
    else
        return false;
    return true;
}

static int64_t ceil_div_pos(int64_t x, int64_t k) /* ceil(x / k) for k > 0 */
{
    return x / k + (x % k > 0); /* C division truncates, which is the ceiling for x < 0 */
}

/* max(ceil(num / k), 0) for k >= 1 (k as unsigned to allow |INT64_MIN|); false when not of the
 * form a*N+b for every N. */
static bool count_steps(IrDim num, uint64_t k, IrDim *out)
{
    if (num.a == 0) {
        *out = ir_dim_const(num.b <= 0 ? 0 : (int64_t)(((uint64_t)num.b - 1) / k + 1));
        return true;
    }
    if (dim_le(num, ir_dim_const(0))) {
        *out = ir_dim_const(0);
        return true;
    }
    if (!dim_nonneg(num) || k > (uint64_t)INT64_MAX || num.a % (int64_t)k != 0)
        return false;
    out->a = num.a / (int64_t)k;
    out->b = ceil_div_pos(num.b, (int64_t)k);
    return true;
}

/* ONNX Slice on one axis of size dim: the first index taken and the element count, from the
 * start/end as given (negative = from the back) and a nonzero step. On a constant dim this is
 * exactly the ONNX rule; on a dim with N it succeeds only when the answer is a*N+b for all N. */
static bool slice_axis(IrDim dim, IrDim start, IrDim end, int64_t step, IrDim *first, IrDim *len)
{
    bool sym = dim.a != 0;
    if (!sym && dim.b == 0) {
        *first = *len = ir_dim_const(0);
        return true;
    }
    IrDim dim_m1, minus1 = ir_dim_const(-1), zero = ir_dim_const(0);
    if (!ir_dim_add(dim, minus1, &dim_m1))
        return false;
    /* clamping ranges: positive steps start in [0, dim], end in [0, dim];
     * negative steps start in [0, dim-1], end in [-1, dim-1] */
    IrDim s_lo = zero, s_hi = step > 0 ? dim : dim_m1;
    IrDim e_lo = step > 0 ? zero : minus1, e_hi = step > 0 ? dim : dim_m1;
    IrDim pos[2] = {start, end}, lo[2] = {s_lo, e_lo}, hi[2] = {s_hi, e_hi}, res[2];
    for (int k = 0; k < 2; k++) {
        IrDim v = pos[k];
        if (v.a != 0) {
            if (!dim_nonneg(v) || !dim_clamp(v, lo[k], hi[k], &res[k]))
                return false;
        } else if (sym && v.b >= SLICE_FAR) {
            res[k] = hi[k];
        } else if (sym && v.b <= -SLICE_FAR) {
            res[k] = lo[k];
        } else {
            if (v.b < 0 && !ir_dim_add(v, dim, &v))
                return false;
            if (!dim_clamp(v, lo[k], hi[k], &res[k]))
                return false;
        }
    }
    IrDim num;
    if (!(step > 0 ? ir_dim_sub(res[1], res[0], &num) : ir_dim_sub(res[0], res[1], &num)))
        return false;
    uint64_t k = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
    *first = res[0];
    return count_steps(num, k, len);
}

/* ==== helpers: element counts as polynomials in N (Reshape) =================== */

/* sum c[k] * N^k: the element count of a shape whose dims each may hold N. */
typedef struct Poly {
    int64_t c[IR_MAX_RANK + 1];
} Poly;

/* Product of the dims of s, leaving out dim skip (-1: none); false on overflow. */
static bool poly_of_dims(int rank, const IrDim *dims, int skip, Poly *p)
{
    memset(p, 0, sizeof *p);
    p->c[0] = 1;
    for (int i = 0; i < rank; i++) {
        if (i == skip)
            continue;
        Poly r;
        memset(&r, 0, sizeof r);
        for (int k = 0; k <= IR_MAX_RANK; k++) {
            int64_t t;
            if (p->c[k] == 0)
                continue;
            if (__builtin_mul_overflow(p->c[k], dims[i].b, &t) || __builtin_add_overflow(r.c[k], t, &r.c[k]))
                return false;
            if (dims[i].a == 0)
                continue;
            if (k == IR_MAX_RANK || __builtin_mul_overflow(p->c[k], dims[i].a, &t) ||
                __builtin_add_overflow(r.c[k + 1], t, &r.c[k + 1]))
                return false;
        }
        *p = r;
    }
    return true;
}

static int poly_degree(const Poly *p) /* -1 for the zero polynomial */
{
    for (int k = IR_MAX_RANK; k >= 0; k--)
        if (p->c[k])
            return k;
    return -1;
}

/* p / q when the quotient is exact and of the form a*N+b. */
static bool poly_div(const Poly *p, const Poly *q, IrDim *out)
{
    int dp = poly_degree(p), dq = poly_degree(q);
    IR_ASSERT(dq >= 0);
    if (dp < 0) {
        *out = ir_dim_const(0);
        return true;
    }
    if (dp < dq || dp - dq > 1)
        return false;
    Poly r = *p;
    int64_t quot[2] = {0, 0};
    for (int k = dp - dq; k >= 0; k--) {
        if (r.c[k + dq] % q->c[dq] != 0)
            return false;
        quot[k] = r.c[k + dq] / q->c[dq];
        for (int j = 0; j <= dq; j++) {
            int64_t t;
            if (__builtin_mul_overflow(quot[k], q->c[j], &t) || __builtin_sub_overflow(r.c[j + k], t, &r.c[j + k]))
                return false;
        }
    }
    if (poly_degree(&r) >= 0)
        return false;
    out->a = quot[1];
    out->b = quot[0];
    return true;
}

/* "12", "4N", "N^2+3N-1". */
static Str poly_str(const Poly *p)
{
    Str r;
    size_t pos = 0;
    r.s[0] = 0;
    for (int k = IR_MAX_RANK; k >= 0; k--) {
        int64_t c = p->c[k];
        if (c == 0)
            continue;
        char coef[32] = "", pw[8] = "";
        if (k == 0 || (c != 1 && c != -1))
            snprintf(coef, sizeof coef, "%lld", (long long)(c < 0 && pos ? -c : c));
        else if (c == -1 && !pos)
            strcpy(coef, "-");
        if (k >= 2)
            snprintf(pw, sizeof pw, "^%d", k);
        pos += (size_t)snprintf(r.s + pos, sizeof r.s - pos, "%s%s%s%s", pos ? (c < 0 ? "-" : "+") : "", coef,
                                k ? "N" : "", pw);
        if (pos >= sizeof r.s)
            break;
    }
    if (!pos)
        strcpy(r.s, "0");
    return r;
}

/* ==== helpers: input checks =================================================== */

/* inputs[i] must be a 1-D tensor of int64 (or also int32 when allow_i32). */
static int check_index_vector(const IrGraph *g, const IrNode *n, int i, const char *what, bool allow_i32,
                              IrDiag *d)
{
    const IrValue *v = ir_in(g, n, i);
    bool dtype_ok = v->dtype == SRT_I64 || (allow_i32 && v->dtype == SRT_I32);
    if (!dtype_ok || v->shape.rank != 1) {
        ir_node_error(d, n, "inputs[%d] (%s) has type %s; %s needs a 1-D %s tensor there", i, what,
                      type_str(v).s, ir_op_name(n->op), allow_i32 ? "int32 or int64" : "int64");
        return -1;
    }
    return 0;
}

/* Compile-time content of inputs[i], each entry a*N+b: count, or -1 + diagnostic. */
static int known_input(IrGraph *g, IrNode *n, int i, const char *what, IrDim **out, IrDiag *d)
{
    const IrValue *v = ir_in(g, n, i);
    int count = ir_value_known_ints(g, v->id, out);
    if (count < 0)
        ir_node_error(d, n,
                      "inputs[%d] (%s) \"%s\" is not known at compile time; %s needs a constant there "
                      "(or shape arithmetic on Shape)",
                      i, what, v->name, ir_op_name(n->op));
    return count;
}

/* Same, but every entry must be a plain integer (axes, steps). */
static int const_input(IrGraph *g, IrNode *n, int i, const char *what, int64_t **out, IrDiag *d)
{
    IrDim *dims;
    int count = known_input(g, n, i, what, &dims, d);
    if (count < 0)
        return -1;
    int64_t *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof *r);
    for (int k = 0; k < count; k++) {
        if (dims[k].a != 0) {
            ir_node_error(d, n, "inputs[%d] (%s) holds %s, which depends on N; %s needs plain integers there", i,
                          what, list_str(count, dims).s, ir_op_name(n->op));
            return -1;
        }
        r[k] = dims[k].b;
    }
    *out = r;
    return count;
}

/* Normalize a list of axes against rank; rejects out-of-range and repeated axes. */
static int norm_axes(const IrNode *n, const char *what, int count, const int64_t *axes, int rank,
                     const IrValue *x, int *out, IrDiag *d)
{
    bool seen[IR_MAX_RANK] = {false};
    for (int i = 0; i < count; i++) {
        if (!ir_norm_axis(axes[i], rank, &out[i])) {
            ir_node_error(d, n, "%s %s: axis %lld is out of range for rank %d (inputs[0] has type %s)", what,
                          ints_str(count, axes).s, (long long)axes[i], rank, type_str(x).s);
            return -1;
        }
        if (seen[out[i]]) {
            ir_node_error(d, n, "%s %s names axis %d more than once", what, ints_str(count, axes).s, out[i]);
            return -1;
        }
        seen[out[i]] = true;
    }
    return 0;
}

/* ==== helpers: compile-time content =========================================== */

/* Output 0 holds the elements of x in the same row-major order (Reshape, Flatten, Squeeze,
 * Unsqueeze): it has x's content, when x is a known small integer tensor. */
static void pass_sym(IrGraph *g, IrNode *n, const IrValue *x)
{
    IrDim *c;
    if (!ir_out(g, n, 0) || !ir_dtype_is_int(x->dtype))
        return;
    int count = ir_value_known_ints(g, x->id, &c);
    if (count >= 0 && count <= SYM_MAX)
        ir_set_out_sym(g, n, 0, count, c);
}

/* Content of every output of a data-movement op, found by running its reference kernel on
 * element ids: inputs[0..ndata) carry the ids of their elements (numbered across those inputs),
 * the other inputs their constant values; each output element then holds the id of the input
 * element it copies. Does nothing unless every output is a small integer tensor of constant
 * shape and every input's content is known. */
static void propagate_sym(IrGraph *g, IrNode *n, int ndata)
{
    int nin = n->nin, nout = n->nout;
    IrTensor *tin = srt_calloc((size_t)nin + 1, sizeof *tin), *tout = srt_calloc((size_t)nout + 1, sizeof *tout);
    IrTensor **pin = srt_calloc((size_t)nin + 1, sizeof *pin), **pout = srt_calloc((size_t)nout + 1, sizeof *pout);
    IrDim *all = NULL;
    IR_ASSERT(tin && tout && pin && pout);
    bool ok = true;
    int64_t total = 0;
    for (int k = 0; k < nout && ok; k++) {
        const IrValue *v = ir_out(g, n, k);
        if (!v)
            continue;
        int64_t dims[IR_MAX_RANK];
        IrDim cnt;
        ok = ir_dtype_is_int(v->dtype) && ir_shape_is_const(&v->shape) && ir_shape_numel(&v->shape, &cnt) &&
             cnt.b <= SYM_MAX && ir_shape_eval(&v->shape, 1, dims) &&
             ir_tensor_alloc(&tout[k], SRT_I64, v->shape.rank, dims) == 0;
        pout[k] = &tout[k];
    }
    for (int k = 0; k < nin && ok; k++) {
        const IrValue *v = ir_in(g, n, k);
        if (!v)
            continue;
        IrDim *c;
        int64_t dims[IR_MAX_RANK];
        int count = ir_value_known_ints(g, v->id, &c);
        ok = count >= 0 && total + count <= SYM_MAX && ir_shape_is_const(&v->shape) &&
             ir_shape_eval(&v->shape, 1, dims) && ir_tensor_alloc(&tin[k], SRT_I64, v->shape.rank, dims) == 0;
        if (!ok)
            break;
        pin[k] = &tin[k];
        if (k < ndata) {
            all = srt_realloc(all, (size_t)(total + count + 1) * sizeof *all);
            IR_ASSERT(all);
            for (int i = 0; i < count; i++) {
                all[total + i] = c[i];
                ir_tensor_seti(&tin[k], i, total + i);
            }
            total += count;
        } else {
            for (int i = 0; i < count && ok; i++) {
                ok = c[i].a == 0;
                ir_tensor_seti(&tin[k], i, c[i].b);
            }
        }
    }
    if (ok) {
        IrDiag quiet;
        ir_diag_init(&quiet, NULL);
        if (ir_op_info(n->op)->ref(g, n, pin, pout, &quiet) == 0) {
            for (int k = 0; k < nout; k++) {
                if (!pout[k])
                    continue;
                IrDim *sym = srt_malloc((size_t)(tout[k].numel + 1) * sizeof *sym);
                IR_ASSERT(sym);
                for (int64_t i = 0; i < tout[k].numel; i++) {
                    int64_t id = ir_tensor_geti(&tout[k], i);
                    IR_ASSERT(id >= 0 && id < total);
                    sym[i] = all[id];
                }
                ir_set_out_sym(g, n, k, (int)tout[k].numel, sym);
                free(sym);
            }
        }
        ir_diag_free(&quiet);
    }
    for (int k = 0; k < nin; k++)
        ir_tensor_free(&tin[k]);
    for (int k = 0; k < nout; k++)
        ir_tensor_free(&tout[k]);
    free(all);
    free(tin);
    free(tout);
    free(pin);
    free(pout);
}

/* ==== helpers: kernels ========================================================= */

static void copy_elems(IrTensor *dst, int64_t di, const IrTensor *src, int64_t si, int64_t count)
{
    size_t sz = srt_dtype_size(dst->dtype);
    IR_ASSERT(src->dtype == dst->dtype);
    if (count > 0)
        memcpy((char *)dst->data + (size_t)di * sz, (const char *)src->data + (size_t)si * sz, (size_t)count * sz);
}

/* Row-major strides of a tensor, in elements. */
static void strides_of(const IrTensor *t, int64_t *st)
{
    int64_t s = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        st[i] = s;
        s *= t->dims[i];
    }
}

/* Advance a row-major multi-index by one element. */
static void next_index(int rank, const int64_t *dims, int64_t *idx)
{
    for (int i = rank - 1; i >= 0; i--) {
        if (++idx[i] < dims[i])
            return;
        idx[i] = 0;
    }
}

static int64_t prod_dims(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int i = from; i < to; i++)
        p *= dims[i];
    return p;
}

/* Kernel of the ops that keep the row-major element order. */
static int copy_all(const IrTensor *x, IrTensor *y)
{
    IR_ASSERT(x->numel == y->numel);
    copy_elems(y, 0, x, 0, x->numel);
    return 0;
}

/* ==== Reshape =================================================================== */

int shape_Reshape(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    IrDim *t;
    if (check_index_vector(g, n, 1, "shape", false, d) != 0)
        return -1;
    int count = known_input(g, n, 1, "shape", &t, d);
    if (count < 0)
        return -1;
    Str ts = list_str(count, t);
    if (count > IR_MAX_RANK) {
        ir_node_error(d, n, "shape %s has %d entries; sinter supports rank <= %d", ts.s, count, IR_MAX_RANK);
        return -1;
    }
    int64_t allowzero = ir_attr_int(n, "allowzero");
    if (allowzero != 0 && allowzero != 1) {
        ir_node_error(d, n, "allowzero is %lld; it must be 0 or 1", (long long)allowzero);
        return -1;
    }
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = count;
    int minus = -1;
    bool zero = false;
    for (int i = 0; i < count; i++) {
        IrDim e = t[i];
        if (e.a != 0 && !dim_nonneg(e)) {
            ir_node_error(d, n, "shape %s: entry %d (%s) is negative for some N", ts.s, i, dim_str(e).s);
            return -1;
        }
        if (e.a == 0 && e.b == -1) {
            if (minus >= 0) {
                ir_node_error(d, n, "shape %s has more than one -1", ts.s);
                return -1;
            }
            minus = i;
            e = ir_dim_const(1); /* placeholder until inferred */
        } else if (e.a == 0 && e.b < -1) {
            ir_node_error(d, n, "shape %s: entry %d is %lld; entries must be >= -1", ts.s, i, (long long)e.b);
            return -1;
        } else if (e.a == 0 && e.b == 0 && !allowzero) {
            if (i >= x->shape.rank) {
                ir_node_error(d, n, "shape %s: entry %d is 0 (copy the input dim) but inputs[0] has type %s", ts.s,
                              i, type_str(x).s);
                return -1;
            }
            e = x->shape.d[i];
        } else if (e.a == 0 && e.b == 0) {
            zero = true;
        }
        out.d[i] = e;
    }
    if (zero && minus >= 0) {
        ir_node_error(d, n, "shape %s has both 0 and -1 with allowzero=1, so the -1 cannot be inferred", ts.s);
        return -1;
    }
    Poly pin, pout;
    if (!poly_of_dims(x->shape.rank, x->shape.d, -1, &pin) || !poly_of_dims(out.rank, out.d, minus, &pout)) {
        ir_node_error(d, n, "the element count of %s or of shape %s overflows", type_str(x).s, ts.s);
        return -1;
    }
    if (minus >= 0) {
        if (poly_degree(&pout) < 0) {
            ir_node_error(d, n, "cannot infer the -1 in shape %s for %s: the other entries multiply to 0", ts.s,
                          type_str(x).s);
            return -1;
        }
        if (!poly_div(&pin, &pout, &out.d[minus]) || !dim_nonneg(out.d[minus])) {
            if (poly_degree(&pin) <= 0 && poly_degree(&pout) <= 0)
                ir_node_error(d, n, "cannot reshape %s (%s elements) into %s: %s is not a multiple of %s",
                              type_str(x).s, poly_str(&pin).s, ts.s, poly_str(&pin).s, poly_str(&pout).s);
            else
                ir_node_error(d, n, "cannot reshape %s (%s elements) into %s: the -1 would be (%s)/(%s), which is "
                              "not of the form a*N+b", type_str(x).s, poly_str(&pin).s, ts.s, poly_str(&pin).s,
                              poly_str(&pout).s);
            return -1;
        }
    } else if (memcmp(&pin, &pout, sizeof pin) != 0) {
        ir_node_error(d, n, "cannot reshape %s (%s elements) into %s (%s elements)", type_str(x).s,
                      poly_str(&pin).s, ts.s, poly_str(&pout).s);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &out);
    pass_sym(g, n, x);
    return 0;
}

int ref_Reshape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return copy_all(in[0], out[0]);
}

/* ==== Flatten =================================================================== */

int shape_Flatten(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int r = x->shape.rank;
    int64_t axis = ir_attr_int(n, "axis");
    if (axis < -r || axis > r) {
        ir_node_error(d, n, "axis %lld is out of range [%d, %d] for inputs[0] of type %s", (long long)axis, -r, r,
                      type_str(x).s);
        return -1;
    }
    int split = (int)(axis < 0 ? axis + r : axis);
    IrDim outer = ir_dim_const(1), inner = ir_dim_const(1);
    for (int i = 0; i < r; i++) {
        IrDim *acc = i < split ? &outer : &inner;
        if (!ir_dim_mul(*acc, x->shape.d[i], acc)) {
            ir_node_error(d, n, "flattening %s at axis %d needs a product of dims that is not of the form a*N+b",
                          type_str(x).s, split);
            return -1;
        }
    }
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = 2;
    out.d[0] = outer;
    out.d[1] = inner;
    ir_set_out(g, n, 0, x->dtype, &out);
    pass_sym(g, n, x);
    return 0;
}

int ref_Flatten(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return copy_all(in[0], out[0]);
}

/* ==== Transpose ================================================================= */

/* The permutation of n for rank r: the perm attribute, or reversed axes by default. */
static void transpose_perm(const IrNode *n, int r, int *perm)
{
    const int64_t *p;
    int count = ir_attr_ints(n, "perm", &p);
    for (int i = 0; i < r; i++)
        perm[i] = count >= 0 ? (int)p[i] : r - 1 - i;
}

int shape_Transpose(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int r = x->shape.rank;
    const int64_t *p;
    int count = ir_attr_ints(n, "perm", &p);
    if (count >= 0) {
        if (count != r) {
            ir_node_error(d, n, "perm %s has %d entries but inputs[0] has type %s (rank %d)", ints_str(count, p).s,
                          count, type_str(x).s, r);
            return -1;
        }
        bool seen[IR_MAX_RANK] = {false};
        for (int i = 0; i < r; i++) {
            if (p[i] < 0 || p[i] >= r || seen[p[i]]) {
                ir_node_error(d, n, "perm %s is not a permutation of 0..%d", ints_str(count, p).s, r - 1);
                return -1;
            }
            seen[p[i]] = true;
        }
    }
    int perm[IR_MAX_RANK];
    transpose_perm(n, r, perm);
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = r;
    for (int i = 0; i < r; i++)
        out.d[i] = x->shape.d[perm[i]];
    ir_set_out(g, n, 0, x->dtype, &out);
    propagate_sym(g, n, 1);
    return 0;
}

int ref_Transpose(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    int r = x->rank, perm[IR_MAX_RANK];
    int64_t xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    transpose_perm(n, r, perm);
    strides_of(x, xst);
    /* output index idx reads input element with index[perm[k]] = idx[k] */
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t src = 0;
        for (int k = 0; k < r; k++)
            src += idx[k] * xst[perm[k]];
        copy_elems(y, i, x, src, 1);
        next_index(r, y->dims, idx);
    }
    return 0;
}

/* ==== Squeeze =================================================================== */

/* Which axes of x Squeeze removes (validated by shape_Squeeze). */
static void squeeze_axes(const IrShape *xs, int count, const int *axes, bool *drop)
{
    for (int i = 0; i < xs->rank; i++)
        drop[i] = count < 0 && ir_dim_eq(xs->d[i], ir_dim_const(1));
    for (int i = 0; i < count; i++)
        drop[axes[i]] = true;
}

int shape_Squeeze(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int r = x->shape.rank, count = -1, axes[IR_MAX_RANK];
    if (ir_in(g, n, 1)) {
        int64_t *a;
        if (check_index_vector(g, n, 1, "axes", false, d) != 0)
            return -1;
        count = const_input(g, n, 1, "axes", &a, d);
        if (count < 0)
            return -1;
        if (count > r) {
            ir_node_error(d, n, "axes %s has %d entries but inputs[0] has type %s", ints_str(count, a).s, count,
                          type_str(x).s);
            return -1;
        }
        if (norm_axes(n, "axes", count, a, r, x, axes, d) != 0)
            return -1;
        for (int i = 0; i < count; i++) {
            IrDim dim = x->shape.d[axes[i]];
            if (!ir_dim_eq(dim, ir_dim_const(1))) {
                ir_node_error(d, n, "cannot squeeze axis %d of %s: its size is %s, not 1", axes[i], type_str(x).s,
                              dim_str(dim).s);
                return -1;
            }
        }
    }
    bool drop[IR_MAX_RANK];
    squeeze_axes(&x->shape, count, axes, drop);
    IrShape out;
    memset(&out, 0, sizeof out);
    for (int i = 0; i < r; i++)
        if (!drop[i])
            out.d[out.rank++] = x->shape.d[i];
    ir_set_out(g, n, 0, x->dtype, &out);
    pass_sym(g, n, x);
    return 0;
}

int ref_Squeeze(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return copy_all(in[0], out[0]);
}

/* ==== Unsqueeze ================================================================= */

int shape_Unsqueeze(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int64_t *a;
    if (!ir_in(g, n, 1)) {
        ir_node_error(d, n, "inputs[1] (axes) is missing; Unsqueeze needs it");
        return -1;
    }
    if (check_index_vector(g, n, 1, "axes", false, d) != 0)
        return -1;
    int count = const_input(g, n, 1, "axes", &a, d);
    if (count < 0)
        return -1;
    int r = x->shape.rank + count, axes[IR_MAX_RANK];
    if (r > IR_MAX_RANK) {
        ir_node_error(d, n, "axes %s would give %s rank %d; sinter supports rank <= %d", ints_str(count, a).s,
                      type_str(x).s, r, IR_MAX_RANK);
        return -1;
    }
    /* axes count from the back of the output, so check them against the output rank */
    for (int i = 0; i < count; i++) {
        if (!ir_norm_axis(a[i], r, &axes[i])) {
            ir_node_error(d, n, "axes %s: axis %lld is out of range for the output rank %d", ints_str(count, a).s,
                          (long long)a[i], r);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (axes[j] == axes[i]) {
                ir_node_error(d, n, "axes %s names axis %d more than once", ints_str(count, a).s, axes[i]);
                return -1;
            }
    }
    bool inserted[IR_MAX_RANK] = {false};
    for (int i = 0; i < count; i++)
        inserted[axes[i]] = true;
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = r;
    for (int i = 0, k = 0; i < r; i++)
        out.d[i] = inserted[i] ? ir_dim_const(1) : x->shape.d[k++];
    ir_set_out(g, n, 0, x->dtype, &out);
    pass_sym(g, n, x);
    return 0;
}

int ref_Unsqueeze(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return copy_all(in[0], out[0]);
}

/* ==== Concat ==================================================================== */

int shape_Concat(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrAttr *aa = ir_attr_get(n, "axis");
    if (!aa) {
        ir_node_error(d, n, "attribute axis is required");
        return -1;
    }
    for (int k = 0; k < n->nin; k++)
        if (!ir_in(g, n, k)) {
            ir_node_error(d, n, "inputs[%d] is empty; Concat needs every input", k);
            return -1;
        }
    const IrValue *x0 = ir_in(g, n, 0);
    int r = x0->shape.rank, axis;
    if (r == 0) {
        ir_node_error(d, n, "inputs[0] has type %s; Concat cannot join scalars (rank 0)", type_str(x0).s);
        return -1;
    }
    if (!ir_norm_axis(aa->i, r, &axis)) {
        ir_node_error(d, n, "axis %lld is out of range for inputs of rank %d", (long long)aa->i, r);
        return -1;
    }
    IrShape out = x0->shape;
    for (int k = 1; k < n->nin; k++) {
        const IrValue *x = ir_in(g, n, k);
        bool same = x->dtype == x0->dtype && x->shape.rank == r;
        for (int j = 0; same && j < r; j++)
            same = j == axis || ir_dim_eq(x->shape.d[j], x0->shape.d[j]);
        if (!same) {
            ir_node_error(d, n, "inputs[%d] has type %s but inputs[0] has type %s; Concat on axis %d needs the "
                          "same dtype, rank and other dims", k, type_str(x).s, type_str(x0).s, axis);
            return -1;
        }
        if (!ir_dim_add(out.d[axis], x->shape.d[axis], &out.d[axis])) {
            ir_node_error(d, n, "the size of axis %d overflows", axis);
            return -1;
        }
    }
    ir_set_out(g, n, 0, x0->dtype, &out);
    propagate_sym(g, n, n->nin);
    return 0;
}

int ref_Concat(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    IrTensor *y = out[0];
    int axis;
    bool ok = ir_norm_axis(ir_attr_get(n, "axis")->i, y->rank, &axis);
    IR_ASSERT(ok);
    int64_t outer = prod_dims(y->dims, 0, axis), inner = prod_dims(y->dims, axis + 1, y->rank);
    int64_t row = y->dims[axis] * inner; /* output elements per outer index */
    for (int64_t o = 0; o < outer; o++) {
        int64_t at = o * row;
        for (int k = 0; k < n->nin; k++) {
            int64_t chunk = in[k]->dims[axis] * inner;
            copy_elems(y, at, in[k], o * chunk, chunk);
            at += chunk;
        }
    }
    return 0;
}

/* ==== Split ===================================================================== */

/* Sizes of k equal parts of a constant dim, ONNX style: ceil(dim/k) each, the last one smaller.
 * False when the last part would be negative. */
static bool split_equal(int64_t dim, int k, int64_t *sizes)
{
    int64_t chunk = dim / k + (dim % k != 0);
    for (int i = 0; i < k; i++)
        sizes[i] = chunk;
    sizes[k - 1] = dim - chunk * (k - 1);
    return sizes[k - 1] >= 0;
}

int shape_Split(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int r = x->shape.rank, axis, k = n->nout;
    if (k < 1) {
        ir_node_error(d, n, "Split needs at least one output");
        return -1;
    }
    if (r == 0) {
        ir_node_error(d, n, "inputs[0] has type %s; Split needs rank >= 1", type_str(x).s);
        return -1;
    }
    if (!ir_norm_axis(ir_attr_int(n, "axis"), r, &axis)) {
        ir_node_error(d, n, "axis %lld is out of range for inputs[0] of type %s", (long long)ir_attr_int(n, "axis"),
                      type_str(x).s);
        return -1;
    }
    IrDim dim = x->shape.d[axis];
    const IrAttr *num = ir_attr_get(n, "num_outputs");
    IrDim *sizes = ir_arena_alloc(g->arena, (size_t)k * sizeof *sizes);
    if (ir_in(g, n, 1)) {
        IrDim *s;
        if (num) {
            ir_node_error(d, n, "both inputs[1] (split) and num_outputs are given; give one of them");
            return -1;
        }
        if (check_index_vector(g, n, 1, "split", false, d) != 0)
            return -1;
        int count = known_input(g, n, 1, "split", &s, d);
        if (count < 0)
            return -1;
        Str ss = list_str(count, s);
        if (count != k) {
            ir_node_error(d, n, "split %s has %d entries but the node has %d outputs", ss.s, count, k);
            return -1;
        }
        IrDim sum = ir_dim_const(0);
        for (int i = 0; i < k; i++) {
            if (!dim_nonneg(s[i])) {
                ir_node_error(d, n, "split %s: entry %d (%s) is negative", ss.s, i, dim_str(s[i]).s);
                return -1;
            }
            if (!ir_dim_add(sum, s[i], &sum)) {
                ir_node_error(d, n, "split %s: the sum overflows", ss.s);
                return -1;
            }
            sizes[i] = s[i];
        }
        if (!ir_dim_eq(sum, dim)) {
            ir_node_error(d, n, "split %s sums to %s but axis %d of inputs[0] (%s) has size %s", ss.s,
                          dim_str(sum).s, axis, type_str(x).s, dim_str(dim).s);
            return -1;
        }
    } else {
        if (num && num->i != k) {
            ir_node_error(d, n, "num_outputs is %lld but the node has %d outputs", (long long)num->i, k);
            return -1;
        }
        if (ir_dim_is_const(dim)) {
            int64_t *c = ir_arena_alloc(g->arena, (size_t)k * sizeof *c);
            if (!split_equal(dim.b, k, c)) {
                ir_node_error(d, n, "cannot split axis %d of %s into %d parts of ceil(%lld/%d) = %lld; give the "
                              "sizes in inputs[1] (split)", axis, type_str(x).s, k, (long long)dim.b, k,
                              (long long)c[0]);
                return -1;
            }
            for (int i = 0; i < k; i++)
                sizes[i] = ir_dim_const(c[i]);
        } else {
            IrDim part;
            if (!ir_dim_div(dim, ir_dim_const(k), &part)) {
                ir_node_error(d, n, "cannot split axis %d of %s (size %s) into %d equal parts for every N; give the "
                              "sizes in inputs[1] (split)", axis, type_str(x).s, dim_str(dim).s, k);
                return -1;
            }
            for (int i = 0; i < k; i++)
                sizes[i] = part;
        }
    }
    for (int i = 0; i < k; i++) {
        IrShape out = x->shape;
        out.d[axis] = sizes[i];
        ir_set_out(g, n, i, x->dtype, &out);
    }
    propagate_sym(g, n, 1);
    return 0;
}

int ref_Split(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    int axis, k = n->nout;
    bool ok = ir_norm_axis(ir_attr_int(n, "axis"), x->rank, &axis);
    int64_t *sizes = srt_calloc((size_t)k, sizeof *sizes);
    IR_ASSERT(ok && sizes);
    if (n->nin > 1 && in[1])
        for (int i = 0; i < k; i++)
            sizes[i] = ir_tensor_geti(in[1], i);
    else
        ok = split_equal(x->dims[axis], k, sizes);
    IR_ASSERT(ok);
    int64_t outer = prod_dims(x->dims, 0, axis), inner = prod_dims(x->dims, axis + 1, x->rank);
    int64_t row = x->dims[axis] * inner; /* input elements per outer index */
    for (int64_t o = 0, at; o < outer; o++) {
        at = o * row;
        for (int i = 0; i < k; i++) {
            int64_t chunk = sizes[i] * inner;
            if (out[i])
                copy_elems(out[i], o * chunk, x, at, chunk);
            at += chunk;
        }
    }
    free(sizes);
    return 0;
}

/* ==== Slice ===================================================================== */

int shape_Slice(IrGraph *g, IrNode *n, IrDiag *d)
{
    static const char *names[5] = {"data", "starts", "ends", "axes", "steps"};
    const IrValue *x = ir_in(g, n, 0);
    int r = x->shape.rank;
    IrDim *starts = NULL, *ends = NULL;
    int64_t *axes_in = NULL, *steps = NULL;
    int count = -1, axes[IR_MAX_RANK];
    for (int i = 1; i < 5; i++) {
        if (!ir_in(g, n, i)) {
            if (i < 3) {
                ir_node_error(d, n, "inputs[%d] (%s) is missing; Slice needs it", i, names[i]);
                return -1;
            }
            continue;
        }
        if (check_index_vector(g, n, i, names[i], true, d) != 0)
            return -1;
        int c = i == 1   ? known_input(g, n, i, names[i], &starts, d)
                : i == 2 ? known_input(g, n, i, names[i], &ends, d)
                : i == 3 ? const_input(g, n, i, names[i], &axes_in, d)
                         : const_input(g, n, i, names[i], &steps, d);
        if (c < 0)
            return -1;
        if (count >= 0 && c != count) {
            ir_node_error(d, n, "inputs[%d] (%s) has %d entries but inputs[1] (starts) has %d", i, names[i], c,
                          count);
            return -1;
        }
        count = c;
    }
    if (count > r) {
        ir_node_error(d, n, "starts has %d entries but inputs[0] has type %s", count, type_str(x).s);
        return -1;
    }
    if (axes_in) {
        if (norm_axes(n, "axes", count, axes_in, r, x, axes, d) != 0)
            return -1;
    } else {
        for (int i = 0; i < count; i++)
            axes[i] = i;
    }
    IrShape out = x->shape;
    for (int i = 0; i < count; i++) {
        int64_t step = steps ? steps[i] : 1;
        IrDim first, len;
        if (step == 0) {
            ir_node_error(d, n, "steps %s: entry %d is 0", ints_str(count, steps).s, i);
            return -1;
        }
        if (!slice_axis(x->shape.d[axes[i]], starts[i], ends[i], step, &first, &len)) {
            ir_node_error(d, n, "slicing axis %d of %s from %s to %s by %lld gives a size that is not of the form "
                          "a*N+b for every N", axes[i], type_str(x).s, dim_str(starts[i]).s, dim_str(ends[i]).s,
                          (long long)step);
            return -1;
        }
        out.d[axes[i]] = len;
    }
    ir_set_out(g, n, 0, x->dtype, &out);
    propagate_sym(g, n, 1);
    return 0;
}

int ref_Slice(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    int r = x->rank;
    int64_t first[IR_MAX_RANK], step[IR_MAX_RANK], xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    const IrTensor *axes = n->nin > 3 ? in[3] : NULL, *steps = n->nin > 4 ? in[4] : NULL;
    for (int k = 0; k < r; k++) {
        first[k] = 0;
        step[k] = 1;
    }
    for (int64_t i = 0; i < in[1]->numel; i++) {
        int axis;
        bool axis_ok = ir_norm_axis(axes ? ir_tensor_geti(axes, i) : i, r, &axis);
        IR_ASSERT(axis_ok);
        int64_t st = steps ? ir_tensor_geti(steps, i) : 1;
        IrDim f, len;
        bool ok = slice_axis(ir_dim_const(x->dims[axis]), ir_dim_const(ir_tensor_geti(in[1], i)),
                             ir_dim_const(ir_tensor_geti(in[2], i)), st, &f, &len);
        if (!ok || len.b != y->dims[axis]) {
            ir_node_error(d, n, "axis %d of the slice has %lld elements at run time but shape inference gave %lld",
                          axis, (long long)(ok ? len.b : -1), (long long)y->dims[axis]);
            return -1;
        }
        first[axis] = f.b;
        step[axis] = st;
    }
    strides_of(x, xst);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t src = 0;
        for (int k = 0; k < r; k++)
            src += (first[k] + idx[k] * step[k]) * xst[k];
        copy_elems(y, i, x, src, 1);
        next_index(r, y->dims, idx);
    }
    return 0;
}

/* ==== Gather ==================================================================== */

int shape_Gather(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0), *ind = ir_in(g, n, 1);
    int r = x->shape.rank, q = ind->shape.rank, axis;
    if (r == 0) {
        ir_node_error(d, n, "inputs[0] has type %s; Gather needs rank >= 1", type_str(x).s);
        return -1;
    }
    if (ind->dtype != SRT_I64 && ind->dtype != SRT_I32) {
        ir_node_error(d, n, "inputs[1] (indices) has type %s; Gather needs int32 or int64 indices", type_str(ind).s);
        return -1;
    }
    if (!ir_norm_axis(ir_attr_int(n, "axis"), r, &axis)) {
        ir_node_error(d, n, "axis %lld is out of range for inputs[0] of type %s", (long long)ir_attr_int(n, "axis"),
                      type_str(x).s);
        return -1;
    }
    if (q + r - 1 > IR_MAX_RANK) {
        ir_node_error(d, n, "gathering %s with indices %s gives rank %d; sinter supports rank <= %d", type_str(x).s,
                      type_str(ind).s, q + r - 1, IR_MAX_RANK);
        return -1;
    }
    /* indices known now are checked now (on a constant axis) */
    IrDim *iv, s = x->shape.d[axis];
    int count = ir_value_known_ints(g, ind->id, &iv);
    for (int i = 0; i < count && ir_dim_is_const(s); i++)
        if (iv[i].a == 0 && (iv[i].b < -s.b || iv[i].b >= s.b)) {
            ir_node_error(d, n, "indices[%d] is %s, out of range for axis %d of inputs[0] (%s)", i,
                          dim_str(iv[i]).s, axis, type_str(x).s);
            return -1;
        }
    IrShape out;
    memset(&out, 0, sizeof out);
    for (int i = 0; i < axis; i++)
        out.d[out.rank++] = x->shape.d[i];
    for (int i = 0; i < q; i++)
        out.d[out.rank++] = ind->shape.d[i];
    for (int i = axis + 1; i < r; i++)
        out.d[out.rank++] = x->shape.d[i];
    ir_set_out(g, n, 0, x->dtype, &out);
    propagate_sym(g, n, 1);
    return 0;
}

int ref_Gather(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *ind = in[1];
    IrTensor *y = out[0];
    int axis;
    bool ok = ir_norm_axis(ir_attr_int(n, "axis"), x->rank, &axis);
    IR_ASSERT(ok);
    int64_t s = x->dims[axis];
    for (int64_t j = 0; j < ind->numel; j++) {
        int64_t v = ir_tensor_geti(ind, j);
        if (v < -s || v >= s) {
            ir_node_error(d, n, "indices[%lld] is %lld, out of range for axis %d of size %lld", (long long)j,
                          (long long)v, axis, (long long)s);
            return -1;
        }
    }
    int64_t outer = prod_dims(x->dims, 0, axis), inner = prod_dims(x->dims, axis + 1, x->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < ind->numel; j++) {
            int64_t v = ir_tensor_geti(ind, j);
            if (v < 0)
                v += s;
            copy_elems(y, (o * ind->numel + j) * inner, x, (o * s + v) * inner, inner);
        }
    return 0;
}

/* ==== Expand ==================================================================== */

int shape_Expand(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    IrDim *t;
    if (check_index_vector(g, n, 1, "shape", false, d) != 0)
        return -1;
    int count = known_input(g, n, 1, "shape", &t, d);
    if (count < 0)
        return -1;
    Str ts = list_str(count, t);
    if (count > IR_MAX_RANK) {
        ir_node_error(d, n, "shape %s has %d entries; sinter supports rank <= %d", ts.s, count, IR_MAX_RANK);
        return -1;
    }
    IrShape target, out;
    memset(&target, 0, sizeof target);
    target.rank = count;
    for (int i = 0; i < count; i++) {
        if (!dim_nonneg(t[i])) {
            ir_node_error(d, n, "shape %s: entry %d (%s) is negative", ts.s, i, dim_str(t[i]).s);
            return -1;
        }
        target.d[i] = t[i];
    }
    if (!ir_broadcast(&x->shape, &target, &out)) {
        ir_node_error(d, n, "cannot expand %s to shape %s: right-aligned dims must be equal or 1", type_str(x).s,
                      ts.s);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &out);
    propagate_sym(g, n, 1);
    return 0;
}

int ref_Expand(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    int shift = y->rank - x->rank;
    int64_t xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    strides_of(x, xst);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t src = 0;
        for (int k = 0; k < x->rank; k++)
            if (x->dims[k] != 1)
                src += idx[k + shift] * xst[k];
        copy_elems(y, i, x, src, 1);
        next_index(y->rank, y->dims, idx);
    }
    return 0;
}

/* ==== Shape ===================================================================== */

/* The [start, end) range of dims Shape returns for rank r (ONNX clamping). */
static void shape_range(const IrNode *n, int r, int *start, int *end)
{
    const IrAttr *e = ir_attr_get(n, "end");
    int64_t s = ir_attr_int(n, "start"), t = e ? e->i : r;
    s = s < 0 ? s + r : s;
    t = t < 0 ? t + r : t;
    s = s < 0 ? 0 : s > r ? r : s;
    t = t < 0 ? 0 : t > r ? r : t;
    *start = (int)s;
    *end = (int)(t < s ? s : t);
}

int shape_Shape(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    int start, end;
    shape_range(n, x->shape.rank, &start, &end);
    int64_t count = end - start;
    IrShape out = ir_shape_make(1, &count);
    ir_set_out(g, n, 0, SRT_I64, &out);
    ir_set_out_sym(g, n, 0, (int)count, count ? x->shape.d + start : &out.d[0]);
    return 0;
}

int ref_Shape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    int start, end;
    shape_range(n, in[0]->rank, &start, &end);
    for (int i = start; i < end; i++)
        ir_tensor_seti(out[0], i - start, in[0]->dims[i]);
    return 0;
}

/* ==== ConstantOfShape =========================================================== */

int shape_ConstantOfShape(IrGraph *g, IrNode *n, IrDiag *d)
{
    IrDim *t;
    if (check_index_vector(g, n, 0, "shape", false, d) != 0)
        return -1;
    int count = known_input(g, n, 0, "shape", &t, d);
    if (count < 0)
        return -1;
    Str ts = list_str(count, t);
    if (count > IR_MAX_RANK) {
        ir_node_error(d, n, "shape %s has %d entries; sinter supports rank <= %d", ts.s, count, IR_MAX_RANK);
        return -1;
    }
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = count;
    for (int i = 0; i < count; i++) {
        if (!dim_nonneg(t[i])) {
            ir_node_error(d, n, "shape %s: entry %d (%s) is negative", ts.s, i, dim_str(t[i]).s);
            return -1;
        }
        out.d[i] = t[i];
    }
    const IrAttr *v = ir_attr_get(n, "value");
    IrDtype dt = SRT_F32;
    if (v) {
        if (v->kind != IR_ATTR_TENSOR || v->n != 1) {
            ir_node_error(d, n, "value must be a one-element tensor, got %d elements", v->kind == IR_ATTR_TENSOR ? v->n : 0);
            return -1;
        }
        if (v->tdtype >= SRT_BF16) {
            ir_node_error(d, n, "value has dtype %s, which sinter cannot compute with", srt_dtype_name(v->tdtype));
            return -1;
        }
        dt = v->tdtype;
    }
    ir_set_out(g, n, 0, dt, &out);
    IrDim numel;
    if (v && ir_dtype_is_int(dt) && ir_shape_numel(&out, &numel) && numel.a == 0 && numel.b <= SYM_MAX) {
        IrTensor vt = {.dtype = dt, .rank = 0, .numel = 1, .data = v->tdata};
        IrDim *sym = srt_malloc((size_t)(numel.b + 1) * sizeof *sym);
        IR_ASSERT(sym);
        for (int64_t i = 0; i < numel.b; i++)
            sym[i] = ir_dim_const(ir_tensor_geti(&vt, 0));
        ir_set_out_sym(g, n, 0, (int)numel.b, sym);
        free(sym);
    }
    return 0;
}

int ref_ConstantOfShape(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrAttr *v = ir_attr_get(n, "value");
    if (!v)
        return 0; /* float32 zeros, as allocated */
    IrTensor vt = {.dtype = v->tdtype, .rank = 0, .numel = 1, .data = v->tdata};
    for (int64_t i = 0; i < out[0]->numel; i++)
        copy_elems(out[0], i, &vt, 0, 1);
    return 0;
}

/* ==== Range ===================================================================== */

int shape_Range(IrGraph *g, IrNode *n, IrDiag *d)
{
    static const char *names[3] = {"start", "limit", "delta"};
    const IrValue *v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = ir_in(g, n, i);
        if (!v[i]) {
            ir_node_error(d, n, "inputs[%d] (%s) is missing; Range needs it", i, names[i]);
            return -1;
        }
        IrDtype t = v[i]->dtype;
        if (v[i]->shape.rank != 0 || (t != SRT_F32 && t != SRT_F64 && t != SRT_I32 && t != SRT_I64)) {
            ir_node_error(d, n, "inputs[%d] (%s) has type %s; Range needs a float32, float64, int32 or int64 "
                          "scalar", i, names[i], type_str(v[i]).s);
            return -1;
        }
        if (t != v[0]->dtype) {
            ir_node_error(d, n, "inputs[%d] (%s) has type %s but inputs[0] (start) has type %s; Range needs one "
                          "dtype", i, names[i], type_str(v[i]).s, type_str(v[0]).s);
            return -1;
        }
    }
    IrDtype dt = v[0]->dtype;
    IrDim len;
    if (ir_dtype_is_float(dt)) {
        double f[3];
        for (int i = 0; i < 3; i++) {
            if (!v[i]->data) {
                ir_node_error(d, n, "inputs[%d] (%s) \"%s\" is not a constant; Range needs float inputs known at "
                              "compile time", i, names[i], v[i]->name);
                return -1;
            }
            IrTensor t = {.dtype = dt, .numel = 1, .data = v[i]->data};
            f[i] = ir_tensor_getf(&t, 0);
        }
        if (f[2] == 0) {
            ir_node_error(d, n, "inputs[2] (delta) is 0");
            return -1;
        }
        double count = ceil((f[1] - f[0]) / f[2]);
        if (!(count < 1e9)) { /* also catches NaN and inf */
            ir_node_error(d, n, "Range from %g to %g by %g has %g elements; at most 1e9 are supported", f[0], f[1],
                          f[2], count);
            return -1;
        }
        len = ir_dim_const(count > 0 ? (int64_t)count : 0);
    } else {
        IrDim *c[3];
        for (int i = 0; i < 3; i++)
            if (known_input(g, n, i, names[i], &c[i], d) < 0)
                return -1;
        IrDim start = c[0][0], limit = c[1][0], delta = c[2][0], diff;
        if (delta.a != 0 || delta.b == 0) {
            ir_node_error(d, n, "inputs[2] (delta) is %s; Range needs a nonzero constant step", dim_str(delta).s);
            return -1;
        }
        uint64_t k = delta.b > 0 ? (uint64_t)delta.b : (uint64_t)0 - (uint64_t)delta.b;
        if (!(delta.b > 0 ? ir_dim_sub(limit, start, &diff) : ir_dim_sub(start, limit, &diff)) ||
            !count_steps(diff, k, &len)) {
            ir_node_error(d, n, "Range from %s to %s by %lld has a length that is not of the form a*N+b for every N",
                          dim_str(start).s, dim_str(limit).s, (long long)delta.b);
            return -1;
        }
        if (len.a == 0 && len.b <= SYM_MAX) {
            IrDim *sym = srt_malloc((size_t)(len.b + 1) * sizeof *sym);
            IR_ASSERT(sym);
            for (int64_t i = 0; i < len.b; i++) {
                sym[i] = start;
                sym[i].b += i * delta.b; /* stays between start and limit: no overflow */
            }
            IrShape out = ir_shape_make(1, &len.b);
            ir_set_out(g, n, 0, dt, &out);
            ir_set_out_sym(g, n, 0, (int)len.b, sym);
            free(sym);
            return 0;
        }
    }
    IrShape out;
    memset(&out, 0, sizeof out);
    out.rank = 1;
    out.d[0] = len;
    ir_set_out(g, n, 0, dt, &out);
    return 0;
}

int ref_Range(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    IrTensor *y = out[0];
    int64_t len;
    if (ir_dtype_is_float(y->dtype)) {
        double start = ir_tensor_getf(in[0], 0), limit = ir_tensor_getf(in[1], 0), delta = ir_tensor_getf(in[2], 0);
        double count = delta != 0 ? ceil((limit - start) / delta) : NAN;
        len = count > 0 ? (int64_t)count : 0;
        if (len == y->numel)
            for (int64_t i = 0; i < len; i++)
                ir_tensor_setf(y, i, start + (double)i * delta);
    } else {
        int64_t start = ir_tensor_geti(in[0], 0), limit = ir_tensor_geti(in[1], 0), delta = ir_tensor_geti(in[2], 0);
        IrDim diff = ir_dim_const(0), c = ir_dim_const(-1);
        uint64_t k = delta > 0 ? (uint64_t)delta : (uint64_t)0 - (uint64_t)delta;
        bool ok = delta != 0 && (delta > 0 ? ir_dim_sub(ir_dim_const(limit), ir_dim_const(start), &diff)
                                           : ir_dim_sub(ir_dim_const(start), ir_dim_const(limit), &diff));
        if (ok)
            count_steps(diff, k, &c);
        len = c.b;
        if (len == y->numel)
            for (int64_t i = 0; i < len; i++)
                ir_tensor_seti(y, i, start + i * delta);
    }
    if (len != y->numel) {
        ir_node_error(d, n, "the range has %lld elements at run time but shape inference gave %lld", (long long)len,
                      (long long)y->numel);
        return -1;
    }
    return 0;
}

/* ==== Pad ======================================================================= */

/* The source index along one axis for output index o (ONNX Pad modes; i = o - begin pad):
 * inside [0, dim) itself; outside: -1 for "constant", the nearest edge for "edge", the mirror
 * image without repeating the edge for "reflect", and i modulo dim for "wrap". */
int64_t ir_pad_source(const char *mode, int64_t o, int64_t begin, int64_t dim)
{
    int64_t i = o - begin;
    if (i >= 0 && i < dim)
        return i;
    switch (mode[0]) {
    case 'e': return i < 0 ? 0 : dim - 1;
    case 'r': return i < 0 ? -i : 2 * (dim - 1) - i;
    case 'w': return ((i % dim) + dim) % dim;
    default: return -1;
    }
}

/* Begin/end pads per axis of a rank-r input from pads (2*count entries: begins, then ends) and
 * the optional axes (count entries; NULL: all r axes in order). False for a bad axis. */
static bool pad_amounts(int r, int count, const int64_t *pads, const int64_t *axes, int64_t *pb, int64_t *pe)
{
    for (int k = 0; k < r; k++)
        pb[k] = pe[k] = 0;
    for (int i = 0; i < count; i++) {
        int a = i;
        if (axes && !ir_norm_axis(axes[i], r, &a))
            return false;
        pb[a] = pads[i];
        pe[a] = pads[count + i];
    }
    return true;
}

int shape_Pad(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0), *cv = ir_in(g, n, 2), *ax = ir_in(g, n, 3);
    int r = x->shape.rank;
    const char *mode = ir_attr_str(n, "mode");
    if (strcmp(mode, "constant") && strcmp(mode, "reflect") && strcmp(mode, "edge") && strcmp(mode, "wrap")) {
        ir_node_error(d, n, "mode \"%s\" is not one of constant, reflect, edge, wrap", mode);
        return -1;
    }
    if (check_index_vector(g, n, 1, "pads", false, d) != 0 || (ax && check_index_vector(g, n, 3, "axes", true, d)))
        return -1;
    int64_t *pads, *axes = NULL;
    int count = const_input(g, n, 1, "pads", &pads, d), naxes = r;
    if (count < 0 || (ax && (naxes = const_input(g, n, 3, "axes", &axes, d)) < 0))
        return -1;
    if (count != 2 * naxes) {
        ir_node_error(d, n, "pads %s has %d entries; it needs 2 per padded axis (%d)", ints_str(count, pads).s, count,
                      2 * naxes);
        return -1;
    }
    int norm[IR_MAX_RANK];
    if (axes && norm_axes(n, "axes", naxes, axes, r, x, norm, d) != 0)
        return -1;
    if (cv) {
        IrDim numel;
        if (cv->dtype != x->dtype || !ir_shape_numel(&cv->shape, &numel) || !ir_dim_eq(numel, ir_dim_const(1))) {
            ir_node_error(d, n, "inputs[2] (constant_value) has type %s; it must be one element of %s's dtype",
                          type_str(cv).s, type_str(x).s);
            return -1;
        }
    }
    int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK];
    IR_ASSERT(pad_amounts(r, naxes, pads, axes, pb, pe));
    IrShape y = x->shape;
    for (int k = 0; k < r; k++) {
        IrDim o;
        if (!ir_dim_add(x->shape.d[k], ir_dim_const(pb[k] + pe[k]), &o) || !dim_nonneg(o)) {
            ir_node_error(d, n, "pads %s make axis %d of %s negative", ints_str(count, pads).s, k, type_str(x).s);
            return -1;
        }
        bool grows = pb[k] > 0 || pe[k] > 0;
        if (grows && strcmp(mode, "constant")) {
            /* the other modes read inside the input: it needs elements, and reflect one more
             * than the pad (the edge is not repeated); wrap repeats the input as often as needed */
            int64_t need = mode[0] == 'r' ? (pb[k] > pe[k] ? pb[k] : pe[k]) + 1 : 1;
            IrDim dim = x->shape.d[k];
            if (dim.a != 0 || dim.b < need) {
                ir_node_error(d, n, "mode \"%s\" pads axis %d by %lld/%lld but the input's size there is %s (needs a "
                              "constant size of at least %lld)", mode, k, (long long)pb[k], (long long)pe[k],
                              dim_str(dim).s, (long long)need);
                return -1;
            }
        }
        y.d[k] = o;
    }
    ir_set_out(g, n, 0, x->dtype, &y);
    return 0;
}

int ref_Pad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *pads = in[1], *cv = n->nin > 2 && n->in[2] >= 0 ? in[2] : NULL;
    const IrTensor *ax = n->nin > 3 && n->in[3] >= 0 ? in[3] : NULL;
    IrTensor *y = out[0];
    int r = x->rank, count = ax ? (int)ax->numel : r;
    int64_t pv[2 * IR_MAX_RANK], av[IR_MAX_RANK], pb[IR_MAX_RANK], pe[IR_MAX_RANK];
    for (int i = 0; i < 2 * count; i++)
        pv[i] = ir_tensor_geti(pads, i);
    for (int i = 0; ax && i < count; i++)
        av[i] = ir_tensor_geti(ax, i);
    IR_ASSERT(pad_amounts(r, count, pv, ax ? av : NULL, pb, pe));
    const char *mode = ir_attr_str(n, "mode");
    double fill = cv ? ir_tensor_getf(cv, 0) : 0;
    int64_t ifill = cv ? ir_tensor_geti(cv, 0) : 0;
    bool fp = ir_dtype_is_float(x->dtype);
    int64_t xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    strides_of(x, xst);
    for (int64_t i = 0; i < y->numel; i++) {
        int64_t src = 0;
        for (int k = 0; k < r && src >= 0; k++) {
            int64_t s = ir_pad_source(mode, idx[k], pb[k], x->dims[k]);
            src = s < 0 ? -1 : src + s * xst[k];
        }
        if (src >= 0)
            copy_elems(y, i, x, src, 1);
        else if (fp)
            ir_tensor_setf(y, i, fill);
        else
            ir_tensor_seti(y, i, ifill);
        next_index(r, y->dims, idx);
    }
    return 0;
}
