/* Shape inference for the element-wise, comparison and reduction ops, with symbolic shape arithmetic. */
#include <math.h>
#include <string.h>

#include "ir/ops_impl.h"

/* ---- dtype sets ------------------------------------------------------------------
 * A set is a bit mask over IrDtype; ONNX's type constraints of each op restricted to
 * the dtypes sinter has. */
#define DT(t) (1u << (t))
#define DT_FLOAT (DT(SRT_F32) | DT(SRT_F64))
#define DT_INT (DT(SRT_I64) | DT(SRT_I32) | DT(SRT_I8) | DT(SRT_U8))
#define DT_NUM (DT_FLOAT | DT_INT)
#define DT_SIGNED (DT_FLOAT | DT(SRT_I64) | DT(SRT_I32) | DT(SRT_I8)) /* Relu, Neg: no uint8 */
#define DT_ALL (DT_NUM | DT(SRT_BOOL))
#define DT_REDUCE (DT_FLOAT | DT(SRT_I64) | DT(SRT_I32))  /* ReduceSum, ReduceMean */
#define DT_POW_BASE (DT_FLOAT | DT(SRT_I64) | DT(SRT_I32))

/* Type of a value as text ("f32[N,4]"); valid until the end of the full expression. */
typedef struct TypeStr {
    char s[192];
} TypeStr;

static TypeStr type_str(IrDtype t, const IrShape *shape)
{
    TypeStr r;
    ir_type_format(t, shape, r.s, sizeof r.s);
    return r;
}

static TypeStr val_str(const IrValue *v)
{
    return type_str(v->dtype, &v->shape);
}

/* Shape alone ("[N,4]"). */
static TypeStr shape_str(const IrShape *shape)
{
    TypeStr t = type_str(SRT_F32, shape);
    TypeStr r;
    const char *br = strchr(t.s, '[');
    snprintf(r.s, sizeof r.s, "%s", br ? br : t.s);
    return r;
}

/* "float32 or float64", "float32, float64, int64 or int32". */
static TypeStr mask_str(unsigned mask)
{
    TypeStr r;
    r.s[0] = 0;
    int total = 0, k = 0;
    for (int t = 0; t < SRT_DTYPE_COUNT; t++)
        total += (mask & DT(t)) != 0;
    for (int t = 0; t < SRT_DTYPE_COUNT; t++) {
        if (!(mask & DT(t)))
            continue;
        const char *sep = k == 0 ? "" : (k == total - 1 ? " or " : ", ");
        size_t len = strlen(r.s);
        snprintf(r.s + len, sizeof r.s - len, "%s%s", sep, srt_dtype_name((SrtDtype)t));
        k++;
    }
    return r;
}

/* ---- checks shared by the shape functions --------------------------------------- */

/* Arity per the op table, and the required (first min_in) inputs present. */
static int check_arity(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrOpInfo *info = ir_op_info(n->op);
    if (n->nin < info->min_in || (info->max_in >= 0 && n->nin > info->max_in)) {
        if (info->max_in < 0)
            ir_node_error(d, n, "%s needs at least %d input%s, got %d", info->name, info->min_in,
                          info->min_in == 1 ? "" : "s", n->nin);
        else if (info->min_in == info->max_in)
            ir_node_error(d, n, "%s needs %d input%s, got %d", info->name, info->min_in,
                          info->min_in == 1 ? "" : "s", n->nin);
        else
            ir_node_error(d, n, "%s needs %d to %d inputs, got %d", info->name, info->min_in, info->max_in, n->nin);
        return -1;
    }
    for (int i = 0; i < info->min_in; i++)
        if (!ir_in(g, n, i)) {
            ir_node_error(d, n, "inputs[%d] is missing; %s needs it", i, info->name);
            return -1;
        }
    if (n->nout < 1 || !ir_out(g, n, 0)) {
        ir_node_error(d, n, "%s needs its output", info->name);
        return -1;
    }
    return 0;
}

/* inputs[i] (role) must have a dtype in mask. role may be "". */
static int check_dtype(IrGraph *g, IrNode *n, int i, const char *role, unsigned mask, IrDiag *d)
{
    const IrValue *v = ir_in(g, n, i);
    if (mask & DT(v->dtype))
        return 0;
    ir_node_error(d, n, "inputs[%d]%s has type %s; %s needs %s", i, role, val_str(v).s, ir_op_name(n->op),
                  mask_str(mask).s);
    return -1;
}

/* inputs[j] must have the dtype of inputs[i]. */
static int check_same_dtype(IrGraph *g, IrNode *n, int i, int j, IrDiag *d)
{
    const IrValue *a = ir_in(g, n, i), *b = ir_in(g, n, j);
    if (a->dtype == b->dtype)
        return 0;
    ir_node_error(d, n, "inputs[%d] has type %s and inputs[%d] has type %s; %s needs both of the same dtype (insert a Cast)",
                  i, val_str(a).s, j, val_str(b).s, ir_op_name(n->op));
    return -1;
}

/* Broadcast inputs[first .. first+count-1] (all present) into *out. */
static int broadcast_inputs(IrGraph *g, IrNode *n, int first, int count, IrShape *out, IrDiag *d)
{
    IrShape acc = ir_in(g, n, first)->shape;
    for (int k = first + 1; k < first + count; k++) {
        const IrValue *v = ir_in(g, n, k);
        IrShape r;
        if (ir_broadcast(&acc, &v->shape, &r)) {
            acc = r;
            continue;
        }
        /* find the offending axis, counted from the right */
        int axis = 1;
        IrDim x = ir_dim_const(1), y = ir_dim_const(1);
        for (; axis <= v->shape.rank && axis <= acc.rank; axis++) {
            x = v->shape.d[v->shape.rank - axis];
            y = acc.d[acc.rank - axis];
            if (!ir_dim_eq(x, y) && !ir_dim_eq(x, ir_dim_const(1)) && !ir_dim_eq(y, ir_dim_const(1)))
                break;
        }
        char xs[48], ys[48], others[48];
        ir_dim_format(x, xs, sizeof xs);
        ir_dim_format(y, ys, sizeof ys);
        if (k == first + 1)
            snprintf(others, sizeof others, "inputs[%d]'s", first);
        else
            snprintf(others, sizeof others, "inputs[%d..%d]'s", first, k - 1);
        ir_node_error(d, n, "inputs[%d] has type %s, which does not broadcast with %s shape %s: %s vs %s at axis -%d (dims must match or be 1)",
                      k, val_str(v).s, others, shape_str(&acc).s, xs, ys, axis);
        return -1;
    }
    *out = acc;
    return 0;
}

static int check_01_attr(IrNode *n, const char *name, int64_t *out, IrDiag *d)
{
    int64_t v = ir_attr_int(n, name);
    if (v != 0 && v != 1) {
        ir_node_error(d, n, "attribute %s = %lld must be 0 or 1", name, (long long)v);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- symbolic contents (shape arithmetic) ------------------------------------------ */

/* Compile-time content of inputs[i] as a*N+b entries (int constants, bool constants or sym);
 * -1 if unknown. */
static int known_content(IrGraph *g, const IrNode *n, int i, IrDim **out)
{
    const IrValue *v = ir_in(g, n, i);
    if (!v)
        return -1;
    int count = ir_value_known_ints(g, v->id, out);
    if (count >= 0 || v->dtype != SRT_BOOL || !v->data)
        return count;
    IrDim cnt;
    if (!ir_shape_numel(&v->shape, &cnt) || cnt.a != 0 || cnt.b > (1 << 20))
        return -1;
    count = (int)cnt.b;
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(IrDim));
    for (int k = 0; k < count; k++)
        r[k] = ir_dim_const(((const uint8_t *)v->data)[k] != 0);
    *out = r;
    return count;
}

/* Keep a computed entry only if it is a value of dtype t: constants wrap to t's width like
 * the kernels do; entries involving N are kept for int64 and int32 only. */
static bool fit_dtype(IrDtype t, IrDim *v)
{
    if (v->a != 0)
        return t == SRT_I64 || t == SRT_I32;
    switch (t) {
    case SRT_I64: break;
    case SRT_I32: v->b = (int32_t)(uint32_t)(uint64_t)v->b; break;
    case SRT_I8: v->b = (int8_t)(uint8_t)(uint64_t)v->b; break;
    case SRT_U8: v->b = (uint8_t)(uint64_t)v->b; break;
    case SRT_BOOL: v->b = v->b != 0; break;
    default: return false;
    }
    return true;
}

/* Flat index into a value of shape in (right-aligned, broadcast) for output flat index i of
 * the constant shape out. */
static int64_t bcast_flat(const IrShape *out, const IrShape *in, int64_t i)
{
    int64_t coord[IR_MAX_RANK];
    for (int r = out->rank - 1; r >= 0; r--) {
        int64_t dim = out->d[r].b;
        coord[r] = dim ? i % dim : 0;
        i = dim ? i / dim : 0;
    }
    int64_t off = 0;
    for (int r = 0; r < in->rank; r++) {
        int64_t dim = in->d[r].b;
        int64_t c = dim == 1 ? 0 : coord[out->rank - in->rank + r];
        off = off * dim + c;
    }
    return off;
}

/* Sign of a*N+b over every N >= 1: 1 if always > 0, -1 if always < 0, 0 if always zero,
 * 2 if it changes or cannot be proven. */
static int dim_sign(IrDim v)
{
    if (v.a == 0)
        return v.b > 0 ? 1 : (v.b < 0 ? -1 : 0);
    /* value at N=1 is a+b; the value moves away monotonically in the direction of a */
    int64_t at1;
    if (__builtin_add_overflow(v.a, v.b, &at1))
        return 2;
    if (v.a > 0 && at1 > 0)
        return 1;
    if (v.a < 0 && at1 < 0)
        return -1;
    return 2;
}

/* a*N+b >= 0 for every N >= 1. */
static bool dim_nonneg(IrDim v)
{
    int64_t at1;
    return v.a >= 0 && !__builtin_add_overflow(v.a, v.b, &at1) && at1 >= 0;
}

typedef enum SymOp { SYM_ADD, SYM_SUB, SYM_MUL, SYM_DIV, SYM_MAX, SYM_MIN, SYM_EQ, SYM_LT, SYM_GT } SymOp;

/* Floor division of constants (y > 0). */
static int64_t floor_div(int64_t x, int64_t y)
{
    int64_t q = x / y;
    return (x % y != 0 && x < 0) ? q - 1 : q;
}

/* x op y over a*N+b entries; false when the result is not of that form or not provable. */
static bool sym_binary(SymOp op, IrDim x, IrDim y, IrDim *out)
{
    IrDim diff;
    int s;
    switch (op) {
    case SYM_ADD: return ir_dim_add(x, y, out);
    case SYM_SUB: return ir_dim_sub(x, y, out);
    case SYM_MUL: return ir_dim_mul(x, y, out);
    case SYM_DIV:
        if (x.a == 0 && y.a == 0) {
            if (y.b == 0)
                return false; /* the kernel reports it */
            *out = ir_dim_const(y.b == -1 ? (int64_t)(0 - (uint64_t)x.b) : x.b / y.b); /* truncates */
            return true;
        }
        if (ir_dim_div(x, y, out))
            return true;
        /* (k*y*N + b) / y with y > 0 and the dividend >= 0 for every N >= 1: kN + floor(b/y) */
        if (y.a == 0 && y.b > 0 && x.a % y.b == 0 && dim_nonneg(x)) {
            *out = (IrDim){x.a / y.b, floor_div(x.b, y.b)};
            return true;
        }
        return false;
    case SYM_MAX:
    case SYM_MIN:
        if (!ir_dim_sub(x, y, &diff))
            return false;
        if (dim_nonneg(diff))          /* x >= y for every N */
            *out = op == SYM_MAX ? x : y;
        else if (diff.a <= 0 && diff.a + diff.b <= 0)   /* x <= y for every N */
            *out = op == SYM_MAX ? y : x;
        else
            return false;
        return true;
    case SYM_EQ:
    case SYM_LT:
    case SYM_GT:
        if (!ir_dim_sub(x, y, &diff))
            return false;
        s = dim_sign(diff);
        if (s == 2 && op == SYM_EQ && diff.a != 0 && diff.b != INT64_MIN) {
            /* x - y = aN + b is zero only at N = -b/a; unequal if that is no batch size */
            if ((-diff.b) % diff.a != 0 || (-diff.b) / diff.a < 1)
                s = 1;
        }
        if (s == 2)
            return false;
        *out = ir_dim_const(op == SYM_EQ ? s == 0 : (op == SYM_LT ? s < 0 : s > 0));
        return true;
    }
    return false;
}

/* Content of output 0 for a broadcasting op over known inputs[0..count-1] (folded left to
 * right with op); left unset when any input or any entry is not known. */
static void sym_broadcast(IrGraph *g, IrNode *n, SymOp op, int count)
{
    IrValue *o = ir_out(g, n, 0);
    IrDim cnt;
    if (!ir_shape_is_const(&o->shape) || !ir_shape_numel(&o->shape, &cnt) || cnt.b > (1 << 20))
        return;
    IrDim *in[64];
    if (count > 64)
        return;
    for (int k = 0; k < count; k++)
        if (known_content(g, n, k, &in[k]) < 0)
            return;
    int total = (int)cnt.b;
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(total ? total : 1) * sizeof(IrDim));
    for (int i = 0; i < total; i++) {
        IrDim acc = in[0][bcast_flat(&o->shape, &ir_in(g, n, 0)->shape, i)];
        for (int k = 1; k < count; k++) {
            IrDim y = in[k][bcast_flat(&o->shape, &ir_in(g, n, k)->shape, i)];
            if (!sym_binary(op, acc, y, &acc))
                return;
        }
        if (!fit_dtype(o->dtype, &acc))
            return;
        r[i] = acc;
    }
    ir_set_out_sym(g, n, 0, total, r);
}

/* ---- unary ops ------------------------------------------------------------------ */

/* One input of a dtype in mask; the output has its type. */
static int shape_unary(IrGraph *g, IrNode *n, unsigned mask, IrDiag *d)
{
    if (check_arity(g, n, d) || check_dtype(g, n, 0, "", mask, d))
        return -1;
    const IrValue *x = ir_in(g, n, 0);
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

int shape_Relu(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_SIGNED, d);
}

int shape_LeakyRelu(IrGraph *g, IrNode *n, IrDiag *d)
{
    double alpha = ir_attr_float(n, "alpha");
    if (!isfinite(alpha)) {
        ir_node_error(d, n, "attribute alpha = %g must be a finite number", alpha);
        return -1;
    }
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Sigmoid(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Tanh(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Gelu(IrGraph *g, IrNode *n, IrDiag *d)
{
    const char *approx = ir_attr_str(n, "approximate");
    if (!approx || (strcmp(approx, "none") != 0 && strcmp(approx, "tanh") != 0)) {
        ir_node_error(d, n, "attribute approximate = \"%s\" must be \"none\" or \"tanh\"", approx ? approx : "");
        return -1;
    }
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Erf(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Exp(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Log(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Sqrt(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_FLOAT, d);
}

int shape_Abs(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_unary(g, n, DT_NUM, d);
}

int shape_Neg(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_unary(g, n, DT_SIGNED, d))
        return -1;
    IrDim *x;
    int count = known_content(g, n, 0, &x);
    if (count < 0)
        return 0;
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(IrDim));
    for (int i = 0; i < count; i++)
        if (!ir_dim_sub(ir_dim_const(0), x[i], &r[i]) || !fit_dtype(ir_in(g, n, 0)->dtype, &r[i]))
            return 0;
    ir_set_out_sym(g, n, 0, count, r);
    return 0;
}

int shape_Identity(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_unary(g, n, DT_ALL, d))
        return -1;
    IrDim *x;
    int count = known_content(g, n, 0, &x);
    if (count >= 0)
        ir_set_out_sym(g, n, 0, count, x);
    return 0;
}

/* min and max must be scalars (shape [] or [1]) of the input's dtype. */
int shape_Clip(IrGraph *g, IrNode *n, IrDiag *d)
{
    static const char *const roles[3] = {"", " (min)", " (max)"};
    if (check_arity(g, n, d) || check_dtype(g, n, 0, "", DT_NUM, d))
        return -1;
    const IrValue *x = ir_in(g, n, 0);
    for (int i = 1; i < n->nin; i++) {
        const IrValue *b = ir_in(g, n, i);
        if (!b)
            continue;
        if (b->dtype != x->dtype) {
            ir_node_error(d, n, "inputs[%d]%s has type %s but inputs[0] has type %s; Clip needs its bounds in the input's dtype",
                          i, roles[i], val_str(b).s, val_str(x).s);
            return -1;
        }
        bool scalar = b->shape.rank == 0 || (b->shape.rank == 1 && ir_dim_eq(b->shape.d[0], ir_dim_const(1)));
        if (!scalar) {
            ir_node_error(d, n, "inputs[%d]%s has type %s; Clip needs a scalar (shape [] or [1])", i, roles[i],
                          val_str(b).s);
            return -1;
        }
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

/* "to" names the target dtype: a model-format name, or (if written as an int) ONNX's code. */
static int cast_target(IrNode *n, IrDtype *out, IrDiag *d)
{
    static const struct {
        int64_t code;
        IrDtype t;
    } codes[] = {{1, SRT_F32}, {11, SRT_F64}, {7, SRT_I64}, {6, SRT_I32}, {3, SRT_I8}, {2, SRT_U8}, {9, SRT_BOOL}};
    const IrAttr *a = ir_attr_get(n, "to");
    if (a && a->kind == IR_ATTR_INT) {
        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
            if (codes[k].code == a->i) {
                *out = codes[k].t;
                return 0;
            }
        ir_node_error(d, n, "attribute to = %lld is not a supported ONNX dtype code; use 1 (float32), 11 (float64), "
                      "7 (int64), 6 (int32), 3 (int8), 2 (uint8) or 9 (bool)", (long long)a->i);
        return -1;
    }
    if (!a || a->kind != IR_ATTR_STRING || !a->s) {
        ir_node_error(d, n, "attribute to is required (a dtype name such as \"float32\")");
        return -1;
    }
    SrtDtype t;
    if (srt_dtype_from_name(a->s, &t) != 0 || !(DT(t) & DT_ALL)) {
        ir_node_error(d, n, "attribute to = \"%s\" is not a supported dtype; use %s", a->s, mask_str(DT_ALL).s);
        return -1;
    }
    *out = t;
    return 0;
}

int shape_Cast(IrGraph *g, IrNode *n, IrDiag *d)
{
    IrDtype to;
    if (check_arity(g, n, d) || check_dtype(g, n, 0, "", DT_ALL, d) || cast_target(n, &to, d))
        return -1;
    const IrValue *x = ir_in(g, n, 0);
    ir_set_out(g, n, 0, to, &x->shape);
    if (!(DT(to) & (DT_INT | DT(SRT_BOOL))))
        return 0;
    /* shape arithmetic: integer or bool contents, or float constants truncated toward zero */
    IrDim *src;
    int count = known_content(g, n, 0, &src);
    if (count < 0 && ir_dtype_is_float(x->dtype) && x->data && ir_shape_is_const(&x->shape)) {
        IrDim cnt;
        if (!ir_shape_numel(&x->shape, &cnt) || cnt.b > (1 << 20))
            return 0;
        count = (int)cnt.b;
        src = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(IrDim));
        for (int i = 0; i < count; i++) {
            double v = x->dtype == SRT_F32 ? ((const float *)x->data)[i] : ((const double *)x->data)[i];
            if (to == SRT_BOOL)
                src[i] = ir_dim_const(v != 0);
            else if (!(v > -9.2e18 && v < 9.2e18))
                return 0; /* NaN or beyond int64: no defined value */
            else
                src[i] = ir_dim_const((int64_t)v);
        }
    }
    if (count < 0)
        return 0;
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * sizeof(IrDim));
    for (int i = 0; i < count; i++) {
        r[i] = src[i];
        if (to == SRT_BOOL && r[i].a != 0) {
            int s = dim_sign(r[i]);
            if (s == 2)
                return 0;
            r[i] = ir_dim_const(s != 0);
        }
        if (!fit_dtype(to, &r[i]))
            return 0;
    }
    ir_set_out_sym(g, n, 0, count, r);
    return 0;
}

/* ---- broadcasting binary and variadic ops --------------------------------------- */

/* Inputs of one dtype in mask, broadcast together; output of that dtype (or bool). */
static int shape_nary(IrGraph *g, IrNode *n, unsigned mask, bool bool_out, IrDiag *d)
{
    if (check_arity(g, n, d))
        return -1;
    for (int i = 0; i < n->nin; i++) {
        if (!ir_in(g, n, i)) {
            ir_node_error(d, n, "inputs[%d] is missing; %s needs it", i, ir_op_name(n->op));
            return -1;
        }
        if (check_dtype(g, n, i, "", mask, d))
            return -1;
    }
    for (int i = 1; i < n->nin; i++)
        if (check_same_dtype(g, n, 0, i, d))
            return -1;
    IrShape s;
    if (broadcast_inputs(g, n, 0, n->nin, &s, d))
        return -1;
    ir_set_out(g, n, 0, bool_out ? SRT_BOOL : ir_in(g, n, 0)->dtype, &s);
    return 0;
}

int shape_Add(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_ADD, 2);
    return 0;
}

int shape_Sub(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_SUB, 2);
    return 0;
}

int shape_Mul(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_MUL, 2);
    return 0;
}

int shape_Div(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_DIV, 2);
    return 0;
}

int shape_Max(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_MAX, n->nin);
    return 0;
}

int shape_Min(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, false, d))
        return -1;
    sym_broadcast(g, n, SYM_MIN, n->nin);
    return 0;
}

int shape_Equal(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_ALL, true, d))
        return -1;
    sym_broadcast(g, n, SYM_EQ, 2);
    return 0;
}

int shape_Less(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, true, d))
        return -1;
    sym_broadcast(g, n, SYM_LT, 2);
    return 0;
}

int shape_Greater(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (shape_nary(g, n, DT_NUM, true, d))
        return -1;
    sym_broadcast(g, n, SYM_GT, 2);
    return 0;
}

/* Base and exponent may differ in dtype; the output has the base's. */
int shape_Pow(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(g, n, d) || check_dtype(g, n, 0, " (base)", DT_POW_BASE, d) ||
        check_dtype(g, n, 1, " (exponent)", DT_NUM, d))
        return -1;
    IrShape s;
    if (broadcast_inputs(g, n, 0, 2, &s, d))
        return -1;
    ir_set_out(g, n, 0, ir_in(g, n, 0)->dtype, &s);
    return 0;
}

int shape_Where(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(g, n, d) || check_dtype(g, n, 0, " (condition)", DT(SRT_BOOL), d) ||
        check_dtype(g, n, 1, "", DT_ALL, d) || check_same_dtype(g, n, 1, 2, d))
        return -1;
    IrShape s;
    if (broadcast_inputs(g, n, 0, 3, &s, d))
        return -1;
    IrValue *o = ir_out(g, n, 0);
    ir_set_out(g, n, 0, ir_in(g, n, 1)->dtype, &s);
    /* shape arithmetic: only with a fully known condition */
    IrDim *c, *x, *y, cnt;
    if (known_content(g, n, 0, &c) < 0 || known_content(g, n, 1, &x) < 0 || known_content(g, n, 2, &y) < 0 ||
        !ir_shape_is_const(&s) || !ir_shape_numel(&s, &cnt) || cnt.b > (1 << 20))
        return 0;
    int total = (int)cnt.b;
    IrDim *r = ir_arena_alloc(g->arena, (size_t)(total ? total : 1) * sizeof(IrDim));
    for (int i = 0; i < total; i++) {
        IrDim ci = c[bcast_flat(&s, &ir_in(g, n, 0)->shape, i)];
        if (ci.a != 0)
            return 0;
        r[i] = ci.b ? x[bcast_flat(&s, &ir_in(g, n, 1)->shape, i)] : y[bcast_flat(&s, &ir_in(g, n, 2)->shape, i)];
        if (!fit_dtype(o->dtype, &r[i]))
            return 0;
    }
    ir_set_out_sym(g, n, 0, total, r);
    return 0;
}

/* ---- reductions ---------------------------------------------------------------- */

/* Shared by the three reductions: axes from the attribute or inputs[1] (not both), each
 * in [-rank, rank); duplicates count once. noop_with_empty_axes = 1 with no axes keeps the
 * input shape; otherwise no axes means all axes. */
static int shape_reduce(IrGraph *g, IrNode *n, unsigned mask, IrDiag *d)
{
    if (check_arity(g, n, d) || check_dtype(g, n, 0, "", mask, d))
        return -1;
    int64_t keepdims, noop;
    if (check_01_attr(n, "keepdims", &keepdims, d) || check_01_attr(n, "noop_with_empty_axes", &noop, d))
        return -1;
    const IrValue *x = ir_in(g, n, 0);
    const char *opname = ir_op_name(n->op);
    const int64_t *axes = NULL;
    int naxes = ir_attr_ints(n, "axes", &axes);
    const IrValue *ax = ir_in(g, n, 1);
    if (ax) {
        if (naxes >= 0) {
            ir_node_error(d, n, "axes given both as the attribute and as inputs[1]; give only one");
            return -1;
        }
        if (check_dtype(g, n, 1, " (axes)", DT(SRT_I64), d))
            return -1;
        if (ax->shape.rank != 1) {
            ir_node_error(d, n, "inputs[1] (axes) has type %s; %s needs a 1-D list of axes", val_str(ax).s, opname);
            return -1;
        }
        IrDim *dims;
        int64_t *vals;
        if (ir_value_known_ints(g, ax->id, &dims) < 0) {
            ir_node_error(d, n, "inputs[1] (axes) \"%s\" is not known at compile time; %s needs constant axes "
                          "(a constant, or shape arithmetic on constant dims)", ax->name, opname);
            return -1;
        }
        naxes = ir_value_const_ints(g, ax->id, &vals);
        if (naxes < 0) {
            ir_node_error(d, n, "inputs[1] (axes) \"%s\" depends on the batch size N; %s needs constant axes",
                          ax->name, opname);
            return -1;
        }
        axes = vals;
    }
    if (naxes < 0)
        naxes = 0;
    int rank = x->shape.rank;
    bool reduced[IR_MAX_RANK] = {false};
    for (int k = 0; k < naxes; k++) {
        int a;
        if (!ir_norm_axis(axes[k], rank, &a)) {
            if (rank == 0)
                ir_node_error(d, n, "axes[%d] = %lld is out of range for inputs[0] of type %s; a scalar has no axes "
                              "(give no axes)", k, (long long)axes[k], val_str(x).s);
            else
                ir_node_error(d, n, "axes[%d] = %lld is out of range for inputs[0] of type %s; use %d..%d", k,
                              (long long)axes[k], val_str(x).s, -rank, rank - 1);
            return -1;
        }
        reduced[a] = true;
    }
    if (naxes == 0) {
        if (noop) {
            ir_set_out(g, n, 0, x->dtype, &x->shape);
            return 0;
        }
        for (int r = 0; r < rank; r++)
            reduced[r] = true;
    }
    IrShape s;
    memset(&s, 0, sizeof s);
    for (int r = 0; r < rank; r++) {
        if (!reduced[r])
            s.d[s.rank++] = x->shape.d[r];
        else if (keepdims)
            s.d[s.rank++] = ir_dim_const(1);
    }
    ir_set_out(g, n, 0, x->dtype, &s);
    return 0;
}

int shape_ReduceMean(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_reduce(g, n, DT_REDUCE, d);
}

int shape_ReduceSum(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_reduce(g, n, DT_REDUCE, d);
}

int shape_ReduceMax(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_reduce(g, n, DT_NUM, d);
}
