/* Dtype predicates, symbolic dims (a*N+b), shapes, broadcasting and their formatting. */
#include <string.h>

#include "ir/ir.h"

bool ir_dtype_is_float(IrDtype t)
{
    return t == SRT_F32 || t == SRT_F64;
}

bool ir_dtype_is_int(IrDtype t)
{
    return t == SRT_I64 || t == SRT_I32 || t == SRT_I8 || t == SRT_U8;
}

IrShape ir_shape_make(int rank, const int64_t *dims)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    IR_ASSERT(rank >= 0 && rank <= IR_MAX_RANK);
    s.rank = rank;
    for (int i = 0; i < rank; i++)
        s.d[i] = ir_dim_const(dims[i]);
    return s;
}

bool ir_shape_eq(const IrShape *x, const IrShape *y)
{
    if (x->rank != y->rank)
        return false;
    for (int i = 0; i < x->rank; i++)
        if (!ir_dim_eq(x->d[i], y->d[i]))
            return false;
    return true;
}

bool ir_shape_is_const(const IrShape *s)
{
    for (int i = 0; i < s->rank; i++)
        if (!ir_dim_is_const(s->d[i]))
            return false;
    return true;
}

bool ir_dim_add(IrDim x, IrDim y, IrDim *out)
{
    IrDim r;
    if (__builtin_add_overflow(x.a, y.a, &r.a) || __builtin_add_overflow(x.b, y.b, &r.b))
        return false;
    *out = r;
    return true;
}

bool ir_dim_sub(IrDim x, IrDim y, IrDim *out)
{
    IrDim r;
    if (__builtin_sub_overflow(x.a, y.a, &r.a) || __builtin_sub_overflow(x.b, y.b, &r.b))
        return false;
    *out = r;
    return true;
}

bool ir_dim_mul(IrDim x, IrDim y, IrDim *out)
{
    if (x.a != 0 && y.a != 0)
        return false; /* N*N */
    if (x.a != 0) {   /* make x the constant one */
        IrDim t = x;
        x = y;
        y = t;
    }
    IrDim r;
    if (__builtin_mul_overflow(x.b, y.a, &r.a) || __builtin_mul_overflow(x.b, y.b, &r.b))
        return false;
    *out = r;
    return true;
}

bool ir_dim_div(IrDim x, IrDim y, IrDim *out)
{
    if (y.a != 0) {
        /* (k*a*N + k*b) / (a*N + b) = k, when x is an exact multiple of y */
        if (y.a == 0 || x.a % y.a != 0)
            return false;
        int64_t k = x.a / y.a;
        int64_t kb;
        if (__builtin_mul_overflow(k, y.b, &kb) || kb != x.b)
            return false;
        *out = ir_dim_const(k);
        return true;
    }
    if (y.b == 0 || x.a % y.b != 0 || x.b % y.b != 0)
        return false;
    out->a = x.a / y.b;
    out->b = x.b / y.b;
    return true;
}

bool ir_shape_numel(const IrShape *s, IrDim *out)
{
    IrDim r = ir_dim_const(1);
    for (int i = 0; i < s->rank; i++)
        if (!ir_dim_mul(r, s->d[i], &r))
            return false;
    *out = r;
    return true;
}

bool ir_shape_eval(const IrShape *s, int64_t n, int64_t *dims)
{
    for (int i = 0; i < s->rank; i++) {
        int64_t v;
        if (__builtin_mul_overflow(s->d[i].a, n, &v) || __builtin_add_overflow(v, s->d[i].b, &v) || v < 0)
            return false;
        dims[i] = v;
    }
    return true;
}

bool ir_broadcast(const IrShape *x, const IrShape *y, IrShape *out)
{
    IrShape r;
    memset(&r, 0, sizeof r);
    r.rank = x->rank > y->rank ? x->rank : y->rank;
    for (int i = 0; i < r.rank; i++) {
        int xi = x->rank - r.rank + i, yi = y->rank - r.rank + i;
        IrDim a = xi >= 0 ? x->d[xi] : ir_dim_const(1);
        IrDim b = yi >= 0 ? y->d[yi] : ir_dim_const(1);
        if (ir_dim_eq(a, b))
            r.d[i] = a;
        else if (ir_dim_eq(a, ir_dim_const(1)))
            r.d[i] = b;
        else if (ir_dim_eq(b, ir_dim_const(1)))
            r.d[i] = a;
        else
            return false;
    }
    *out = r;
    return true;
}

int ir_dim_format(IrDim d, char *buf, size_t len)
{
    if (d.a == 0)
        return snprintf(buf, len, "%lld", (long long)d.b);
    char coef[32] = "";
    if (d.a != 1)
        snprintf(coef, sizeof coef, "%lld", (long long)d.a);
    if (d.b == 0)
        return snprintf(buf, len, "%sN", coef);
    return snprintf(buf, len, "%sN%+lld", coef, (long long)d.b);
}

int ir_type_format(IrDtype t, const IrShape *s, char *buf, size_t len)
{
    size_t pos = 0;
    int w = snprintf(buf, len, "%s[", srt_dtype_short(t));
    if (w < 0)
        return w;
    pos = (size_t)w;
    for (int i = 0; i < s->rank; i++) {
        char dim[48];
        ir_dim_format(s->d[i], dim, sizeof dim);
        w = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0, "%s%s", i ? "," : "", dim);
        pos += (size_t)w;
    }
    w = snprintf(pos < len ? buf + pos : NULL, pos < len ? len - pos : 0, "]");
    pos += (size_t)w;
    return (int)pos;
}

bool ir_norm_axis(int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return false;
    *out = (int)(axis < 0 ? axis + rank : axis);
    return true;
}
