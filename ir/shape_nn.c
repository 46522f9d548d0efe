/* Shape functions of the neural-network ops: Gemm, MatMul, convolutions, pools, norms, softmax, dropout, losses. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir/ops_impl.h"

/* ---- dtype sets (ONNX opset 17 type constraints restricted to sinter's dtypes) ------- */
#define DT(t) (1u << (t))
#define DT_FLOAT (DT(SRT_F32) | DT(SRT_F64))
#define DT_GEMM (DT_FLOAT | DT(SRT_I64) | DT(SRT_I32))   /* Gemm, MatMul */
#define DT_MAXPOOL (DT_FLOAT | DT(SRT_I8) | DT(SRT_U8))  /* MaxPool-12 */
#define DT_LABEL (DT(SRT_I64) | DT(SRT_I32))             /* SoftmaxCrossEntropyLoss labels */

/* Largest kernel, stride, dilation or pad accepted: keeps every window computation far
 * from int64 overflow. */
#define WIN_ATTR_MAX ((int64_t)1 << 31)

/* Text of a type, a dim or a dtype set; valid until the end of the full expression. */
typedef struct TypeStr {
    char s[192];
} TypeStr;

static TypeStr vstr(const IrValue *v)
{
    TypeStr r;
    ir_type_format(v->dtype, &v->shape, r.s, sizeof r.s);
    return r;
}

static TypeStr dstr(IrDim dim)
{
    TypeStr r;
    ir_dim_format(dim, r.s, sizeof r.s);
    return r;
}

/* Shape alone: "[N,4]". */
static TypeStr shstr(const IrShape *s)
{
    TypeStr t, r;
    ir_type_format(SRT_F32, s, t.s, sizeof t.s);
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

static const char *opname(const IrNode *n)
{
    return ir_op_name(n->op);
}

/* ---- checks shared by the shape functions ------------------------------------------ */

/* Input and output counts per the op table; the first min_in inputs and outputs[0] present. */
static int check_arity(IrNode *n, IrDiag *d)
{
    const IrOpInfo *info = ir_op_info(n->op);
    if (n->nin < info->min_in || n->nin > info->max_in) {
        if (info->min_in == info->max_in)
            ir_node_error(d, n, "%s needs %d inputs, got %d", info->name, info->min_in, n->nin);
        else
            ir_node_error(d, n, "%s needs %d to %d inputs, got %d", info->name, info->min_in, info->max_in, n->nin);
        return -1;
    }
    for (int i = 0; i < info->min_in; i++)
        if (n->in[i] < 0) {
            ir_node_error(d, n, "inputs[%d] is required by %s but absent", i, info->name);
            return -1;
        }
    if (n->nout < info->min_out || n->nout > info->max_out) {
        if (info->min_out == info->max_out)
            ir_node_error(d, n, "%s has %d output%s, got %d", info->name, info->min_out,
                          info->min_out == 1 ? "" : "s", n->nout);
        else
            ir_node_error(d, n, "%s has %d to %d outputs, got %d", info->name, info->min_out, info->max_out,
                          n->nout);
        return -1;
    }
    if (n->out[0] < 0) {
        ir_node_error(d, n, "outputs[0] of %s is required but absent", info->name);
        return -1;
    }
    return 0;
}

/* Input i (NULL if absent) when its dtype is in mask; records a diagnostic otherwise. */
static int need_dtype(IrDiag *d, IrNode *n, int i, const IrValue *v, unsigned mask)
{
    if (v && !(mask & DT(v->dtype))) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs %s", i, vstr(v).s, opname(n), mask_str(mask).s);
        return -1;
    }
    return 0;
}

/* Input j must have the dtype of input i. */
static int need_same_dtype(IrDiag *d, IrNode *n, int i, const IrValue *vi, int j, const IrValue *vj)
{
    if (vj && vi->dtype != vj->dtype) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs the dtype of inputs[%d] (%s)", j, vstr(vj).s,
                      opname(n), i, vstr(vi).s);
        return -1;
    }
    return 0;
}

static int need_rank_at_least(IrDiag *d, IrNode *n, int i, const IrValue *v, int rank, const char *why)
{
    if (v->shape.rank < rank) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs rank %d or more (%s)", i, vstr(v).s, opname(n), rank,
                      why);
        return -1;
    }
    return 0;
}

/* Every dim constant (weights, per-channel vectors). */
static int need_const_shape(IrDiag *d, IrNode *n, int i, const IrValue *v)
{
    if (!ir_shape_is_const(&v->shape)) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs its dims to be constants (not N)", i, vstr(v).s,
                      opname(n));
        return -1;
    }
    return 0;
}

/* An INT attribute that must be 0 or 1. */
static int get_flag(IrDiag *d, IrNode *n, const char *name, int64_t *out)
{
    int64_t v = ir_attr_int(n, name);
    if (v != 0 && v != 1) {
        ir_node_error(d, n, "attribute %s = %lld; it must be 0 or 1", name, (long long)v);
        return -1;
    }
    *out = v;
    return 0;
}

/* A reduction attribute: "none", "sum" or "mean". */
static int get_reduction(IrDiag *d, IrNode *n, const char **out)
{
    const char *r = ir_attr_str(n, "reduction");
    if (strcmp(r, "none") && strcmp(r, "sum") && strcmp(r, "mean")) {
        ir_node_error(d, n, "attribute reduction = \"%s\"; it must be \"none\", \"sum\" or \"mean\"", r);
        return -1;
    }
    *out = r;
    return 0;
}

/* A FLOAT attribute that must be finite and >= 0 (epsilon). */
static int get_nonneg_float(IrDiag *d, IrNode *n, const char *name, double *out)
{
    double v = ir_attr_float(n, name);
    if (!(v >= 0) || isinf(v)) {
        ir_node_error(d, n, "attribute %s = %g; it must be a finite number >= 0", name, v);
        return -1;
    }
    *out = v;
    return 0;
}

/* An INTS attribute with exactly count values in [min, WIN_ATTR_MAX]; absent -> def for every
 * entry (present reports whether it was written). what says what the count is. */
static int get_ints(IrDiag *d, IrNode *n, const char *name, int count, int64_t def, int64_t min, const char *what,
                    int64_t *out, bool *present)
{
    const int64_t *v;
    int c = ir_attr_ints(n, name, &v);
    if (present)
        *present = c >= 0;
    if (c < 0) {
        for (int i = 0; i < count; i++)
            out[i] = def;
        return 0;
    }
    if (c != count) {
        ir_node_error(d, n, "attribute %s has %d value%s; it needs %d (%s)", name, c, c == 1 ? "" : "s", count, what);
        return -1;
    }
    for (int i = 0; i < c; i++) {
        if (v[i] < min) {
            ir_node_error(d, n, "attribute %s[%d] = %lld; it must be >= %lld", name, i, (long long)v[i],
                          (long long)min);
            return -1;
        }
        if (v[i] > WIN_ATTR_MAX) {
            ir_node_error(d, n, "attribute %s[%d] = %lld is too large (at most %lld)", name, i, (long long)v[i],
                          (long long)WIN_ATTR_MAX);
            return -1;
        }
        out[i] = v[i];
    }
    return 0;
}

/* ---- Gemm, MatMul -------------------------------------------------------------------- */

int shape_Gemm(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *c = ir_in(g, n, 2);
    if (need_dtype(d, n, 0, a, DT_GEMM) || need_same_dtype(d, n, 0, a, 1, b) || need_same_dtype(d, n, 0, a, 2, c))
        return -1;
    for (int i = 0; i < 2; i++) {
        const IrValue *m = i ? b : a;
        if (m->shape.rank != 2) {
            ir_node_error(d, n, "inputs[%d] has type %s; Gemm needs a matrix (rank 2)", i, vstr(m).s);
            return -1;
        }
    }
    /* ONNX: A (B) is transposed when transA (transB) is non-zero */
    int64_t ta = ir_attr_int(n, "transA") != 0, tb = ir_attr_int(n, "transB") != 0;
    if (!ir_dtype_is_float(a->dtype)) {
        const char *names[2] = {"alpha", "beta"};
        for (int i = 0; i < 2; i++) {
            double v = ir_attr_float(n, names[i]);
            if (!(v == floor(v)) || fabs(v) > 9007199254740992.0) {
                ir_node_error(d, n, "attribute %s = %g; Gemm on %s needs whole-number alpha and beta", names[i], v,
                              srt_dtype_name(a->dtype));
                return -1;
            }
        }
    }
    IrDim m = a->shape.d[ta ? 1 : 0], ka = a->shape.d[ta ? 0 : 1];
    IrDim kb = b->shape.d[tb ? 1 : 0], nn = b->shape.d[tb ? 0 : 1];
    if (!ir_dim_eq(ka, kb)) {
        ir_node_error(d, n, "inputs[1] has type %s; Gemm needs its K (%s) to match inputs[0]'s K (%s) (transA=%lld, "
                      "transB=%lld)", vstr(b).s, dstr(kb).s, dstr(ka).s, (long long)ta, (long long)tb);
        return -1;
    }
    IrShape y = {.rank = 2, .d = {m, nn}};
    if (c) {
        IrShape bc;
        if (c->shape.rank > 2 || !ir_broadcast(&c->shape, &y, &bc) || !ir_shape_eq(&bc, &y)) {
            ir_node_error(d, n, "inputs[2] has type %s; Gemm needs it to broadcast to the output shape %s", vstr(c).s,
                          shstr(&y).s);
            return -1;
        }
    }
    ir_set_out(g, n, 0, a->dtype, &y);
    return 0;
}

int shape_MatMul(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *a = ir_in(g, n, 0), *b = ir_in(g, n, 1);
    if (need_dtype(d, n, 0, a, DT_GEMM) || need_same_dtype(d, n, 0, a, 1, b))
        return -1;
    for (int i = 0; i < 2; i++) {
        const IrValue *m = i ? b : a;
        if (m->shape.rank < 1) {
            ir_node_error(d, n, "inputs[%d] has type %s; MatMul needs rank 1 or more", i, vstr(m).s);
            return -1;
        }
    }
    int ra = a->shape.rank, rb = b->shape.rank;
    IrDim ka = a->shape.d[ra - 1], kb = b->shape.d[rb == 1 ? 0 : rb - 2];
    if (!ir_dim_eq(ka, kb)) {
        ir_node_error(d, n, "inputs[1] has type %s; MatMul needs its K (%s) to match inputs[0]'s K (%s)", vstr(b).s,
                      dstr(kb).s, dstr(ka).s);
        return -1;
    }
    IrShape ba = {.rank = ra > 2 ? ra - 2 : 0}, bb = {.rank = rb > 2 ? rb - 2 : 0}, y;
    for (int i = 0; i < ba.rank; i++)
        ba.d[i] = a->shape.d[i];
    for (int i = 0; i < bb.rank; i++)
        bb.d[i] = b->shape.d[i];
    if (!ir_broadcast(&ba, &bb, &y)) {
        ir_node_error(d, n, "inputs[0] (%s) and inputs[1] (%s) have batch dims %s and %s that do not broadcast",
                      vstr(a).s, vstr(b).s, shstr(&ba).s, shstr(&bb).s);
        return -1;
    }
    if (ra >= 2)
        y.d[y.rank++] = a->shape.d[ra - 2];
    if (rb >= 2)
        y.d[y.rank++] = b->shape.d[rb - 1];
    ir_set_out(g, n, 0, a->dtype, &y);
    return 0;
}

/* ---- sliding windows: Conv, ConvTranspose, MaxPool, AveragePool ------------------------- */

typedef enum PadMode { PAD_NOTSET, PAD_SAME_UPPER, PAD_SAME_LOWER, PAD_VALID } PadMode;

/* Window attributes of one node, validated. */
typedef struct Window {
    int nsp;                          /* spatial axes: input rank - 2 */
    int64_t k[IR_MAX_RANK];           /* kernel size per axis, >= 1 */
    int64_t s[IR_MAX_RANK];           /* strides, >= 1 */
    int64_t dil[IR_MAX_RANK];         /* dilations, >= 1 (all 1 for AveragePool) */
    int64_t pads[2 * IR_MAX_RANK];    /* explicit pads, begins then ends; all 0 unless NOTSET */
    bool pads_given;
    PadMode mode;
    bool ceil;                        /* ceil_mode (pools) */
} Window;

static int get_pad_mode(IrDiag *d, IrNode *n, PadMode *out)
{
    const char *s = ir_attr_str(n, "auto_pad");
    static const char *names[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (PadMode)i;
            return 0;
        }
    ir_node_error(d, n, "attribute auto_pad = \"%s\"; it must be NOTSET, SAME_UPPER, SAME_LOWER or VALID", s);
    return -1;
}

/* Read and check the window attributes of n for input x. kernel_w: the kernel dims taken from
 * the weights (Conv, ConvTranspose; the kernel_shape attribute must then agree), or NULL for
 * pools, where kernel_shape is required. */
static int read_window(IrNode *n, IrDiag *d, const IrValue *x, const int64_t *kernel_w, bool use_dilations,
                       bool use_ceil, Window *w)
{
    memset(w, 0, sizeof *w);
    w->nsp = x->shape.rank - 2;
    int nsp = w->nsp;
    char what[256], what2[256];
    snprintf(what, sizeof what, "one per spatial axis of inputs[0] (%s)", vstr(x).s);
    snprintf(what2, sizeof what2, "begin and end for each spatial axis of inputs[0] (%s)", vstr(x).s);
    bool present;
    if (get_ints(d, n, "kernel_shape", nsp, 1, 1, what, w->k, &present))
        return -1;
    if (!kernel_w && !present) {
        ir_node_error(d, n, "attribute kernel_shape is required by %s", opname(n));
        return -1;
    }
    if (kernel_w) {
        for (int i = 0; i < nsp; i++) {
            if (present && w->k[i] != kernel_w[i]) {
                ir_node_error(d, n, "attribute kernel_shape[%d] = %lld does not match the kernel size %lld of "
                              "inputs[1]", i, (long long)w->k[i], (long long)kernel_w[i]);
                return -1;
            }
            if (kernel_w[i] < 1 || kernel_w[i] > WIN_ATTR_MAX) {
                ir_node_error(d, n, "inputs[1] has kernel size %lld along spatial axis %d; it must be in [1, %lld]",
                              (long long)kernel_w[i], i, (long long)WIN_ATTR_MAX);
                return -1;
            }
            w->k[i] = kernel_w[i];
        }
    }
    if (get_ints(d, n, "strides", nsp, 1, 1, what, w->s, NULL))
        return -1;
    if (use_dilations) {
        if (get_ints(d, n, "dilations", nsp, 1, 1, what, w->dil, NULL))
            return -1;
    } else {
        for (int i = 0; i < nsp; i++)
            w->dil[i] = 1;
    }
    if (get_pad_mode(d, n, &w->mode) || get_ints(d, n, "pads", 2 * nsp, 0, 0, what2, w->pads, &w->pads_given))
        return -1;
    if (w->pads_given && w->mode != PAD_NOTSET) {
        ir_node_error(d, n, "attribute pads cannot be used together with auto_pad = \"%s\"; remove one of them",
                      ir_attr_str(n, "auto_pad"));
        return -1;
    }
    if (use_ceil) {
        int64_t c;
        if (get_flag(d, n, "ceil_mode", &c))
            return -1;
        w->ceil = c != 0;
    }
    return 0;
}

static int64_t extent(const Window *w, int i)
{
    return (w->k[i] - 1) * w->dil[i] + 1;
}

/* Output size along spatial axis i for a concrete input size in (ONNX convPoolShapeInference:
 * SAME pads split small-half first for SAME_UPPER; ceil_mode drops a last window that would
 * start in the end padding). Also gives the pads used. Returns -1 if the padded input is
 * smaller than the kernel extent. */
static int64_t window_out_at(const Window *w, int i, int64_t in, int64_t *pb, int64_t *pe)
{
    int64_t ek = extent(w, i), s = w->s[i], b = 0, e = 0;
    if (w->mode == PAD_NOTSET) {
        b = w->pads[i];
        e = w->pads[w->nsp + i];
    } else if (w->mode == PAD_SAME_UPPER || w->mode == PAD_SAME_LOWER) {
        int64_t out = (in + s - 1) / s;
        int64_t total = (out - 1) * s + ek - in;
        if (total < 0)
            total = 0;
        b = w->mode == PAD_SAME_UPPER ? total / 2 : total - total / 2;
        e = total - b;
    }
    *pb = b;
    *pe = e;
    int64_t span = in + b + e - ek;
    if (in < 0 || span < 0)
        return -1;
    int64_t out = w->ceil ? (span + s - 1) / s + 1 : span / s + 1;
    if (w->ceil && (out - 1) * s >= in + b)
        out--;
    return out;
}

/* Symbolic output size along spatial axis i of input x (dim in = a*N+b). The size is linear in
 * N when the stride divides a; it is computed at N = 1 and N = 2. */
static int window_out_dim(IrDiag *d, IrNode *n, const Window *w, int i, const IrValue *x, IrDim *out)
{
    IrDim in = x->shape.d[2 + i];
    if (in.a != 0 && in.a % w->s[i] != 0) {
        ir_node_error(d, n, "spatial axis %d of inputs[0] (%s) has size %s; with stride %lld the output size is "
                      "not of the form a*N+b", i, vstr(x).s, dstr(in).s, (long long)w->s[i]);
        return -1;
    }
    if (in.b > ((int64_t)1 << 60) || in.a > ((int64_t)1 << 60)) {
        ir_node_error(d, n, "spatial axis %d of inputs[0] (%s) is too large", i, vstr(x).s);
        return -1;
    }
    int64_t pb, pe;
    int64_t o1 = window_out_at(w, i, in.a + in.b, &pb, &pe);
    if (o1 < 1) {
        ir_node_error(d, n, "along spatial axis %d the padded input (%s + pads %lld+%lld%s) is smaller than the "
                      "kernel extent %lld (kernel %lld, dilation %lld)", i, dstr(in).s, (long long)pb,
                      (long long)pe, in.a ? ", at N=1" : "", (long long)extent(w, i), (long long)w->k[i],
                      (long long)w->dil[i]);
        return -1;
    }
    if (in.a == 0) {
        *out = ir_dim_const(o1);
        return 0;
    }
    int64_t o2 = window_out_at(w, i, 2 * in.a + in.b, &pb, &pe);
    out->a = o2 - o1;
    out->b = o1 - out->a;
    return 0;
}

/* Channel dim of a conv/pool input: must be a constant. */
static int need_const_channels(IrDiag *d, IrNode *n, const IrValue *x)
{
    if (!ir_dim_is_const(x->shape.d[1])) {
        ir_node_error(d, n, "inputs[0] has type %s; %s needs a constant channel dim (dim 1)", vstr(x).s, opname(n));
        return -1;
    }
    return 0;
}

/* Optional bias: rank 1 with m entries. */
static int check_bias(IrDiag *d, IrNode *n, const IrValue *b, int64_t m)
{
    if (b && (b->shape.rank != 1 || !ir_dim_eq(b->shape.d[0], ir_dim_const(m)))) {
        ir_node_error(d, n, "inputs[2] has type %s; %s needs a bias of shape [%lld] (one per output channel)",
                      vstr(b).s, opname(n), (long long)m);
        return -1;
    }
    return 0;
}

/* Checks shared by Conv and ConvTranspose: X [N, C, spatial...] and W of the same rank with
 * constant dims; returns the kernel dims and group. */
static int conv_inputs(IrGraph *g, IrNode *n, IrDiag *d, int64_t *kernel, int64_t *group)
{
    IrValue *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_same_dtype(d, n, 0, x, 1, w) || need_same_dtype(d, n, 0, x, 2, b))
        return -1;
    if (need_rank_at_least(d, n, 0, x, 3, "N, C and at least one spatial axis") || need_const_channels(d, n, x))
        return -1;
    if (w->shape.rank != x->shape.rank) {
        ir_node_error(d, n, "inputs[1] has type %s; %s needs weights of rank %d like inputs[0] (%s)", vstr(w).s,
                      opname(n), x->shape.rank, vstr(x).s);
        return -1;
    }
    if (need_const_shape(d, n, 1, w))
        return -1;
    for (int i = 2; i < w->shape.rank; i++)
        kernel[i - 2] = w->shape.d[i].b;
    *group = ir_attr_int(n, "group");
    if (*group < 1) {
        ir_node_error(d, n, "attribute group = %lld; it must be >= 1", (long long)*group);
        return -1;
    }
    int64_t c = x->shape.d[1].b;
    if (c % *group != 0) {
        ir_node_error(d, n, "attribute group = %lld does not divide the %lld channels of inputs[0] (%s)",
                      (long long)*group, (long long)c, vstr(x).s);
        return -1;
    }
    return 0;
}

int shape_Conv(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    int64_t kernel[IR_MAX_RANK], group;
    if (conv_inputs(g, n, d, kernel, &group))
        return -1;
    IrValue *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2);
    int64_t c = x->shape.d[1].b, m = w->shape.d[0].b, cw;
    if (__builtin_mul_overflow(w->shape.d[1].b, group, &cw) || cw != c) {
        ir_node_error(d, n, "inputs[1] has type %s; Conv with group=%lld needs its dim 1 to be %lld (the %lld "
                      "channels of inputs[0] divided by group)", vstr(w).s, (long long)group,
                      (long long)(c / group), (long long)c);
        return -1;
    }
    if (m % group != 0) {
        ir_node_error(d, n, "inputs[1] has type %s; Conv needs its dim 0 (%lld output channels) to be a multiple of "
                      "group (%lld)", vstr(w).s, (long long)m, (long long)group);
        return -1;
    }
    if (check_bias(d, n, b, m))
        return -1;
    Window win;
    if (read_window(n, d, x, kernel, true, false, &win))
        return -1;
    IrShape y = {.rank = x->shape.rank};
    y.d[0] = x->shape.d[0];
    y.d[1] = ir_dim_const(m);
    for (int i = 0; i < win.nsp; i++)
        if (window_out_dim(d, n, &win, i, x, &y.d[2 + i]))
            return -1;
    ir_set_out(g, n, 0, x->dtype, &y);
    return 0;
}

int shape_ConvTranspose(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    int64_t kernel[IR_MAX_RANK], group;
    if (conv_inputs(g, n, d, kernel, &group))
        return -1;
    IrValue *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2);
    int64_t c = x->shape.d[1].b;
    if (w->shape.d[0].b != c) {
        ir_node_error(d, n, "inputs[1] has type %s; ConvTranspose needs its dim 0 to be the %lld channels of "
                      "inputs[0] (%s)", vstr(w).s, (long long)c, vstr(x).s);
        return -1;
    }
    int64_t m;
    if (__builtin_mul_overflow(w->shape.d[1].b, group, &m)) {
        ir_node_error(d, n, "inputs[1] has type %s; its dim 1 times group (%lld) overflows", vstr(w).s,
                      (long long)group);
        return -1;
    }
    if (check_bias(d, n, b, m))
        return -1;
    Window win;
    if (read_window(n, d, x, kernel, true, false, &win))
        return -1;
    int nsp = win.nsp;
    char what[256];
    snprintf(what, sizeof what, "one per spatial axis of inputs[0] (%s)", vstr(x).s);
    int64_t opad[IR_MAX_RANK], oshape[IR_MAX_RANK];
    bool has_oshape;
    if (get_ints(d, n, "output_padding", nsp, 0, 0, what, opad, NULL) ||
        get_ints(d, n, "output_shape", nsp, 0, 0, what, oshape, &has_oshape))
        return -1;
    for (int i = 0; i < nsp; i++)
        if (opad[i] >= win.s[i] && opad[i] >= win.dil[i]) {
            ir_node_error(d, n, "attribute output_padding[%d] = %lld; it must be smaller than the stride (%lld) or "
                          "the dilation (%lld)", i, (long long)opad[i], (long long)win.s[i], (long long)win.dil[i]);
            return -1;
        }
    IrShape y = {.rank = x->shape.rank};
    y.d[0] = x->shape.d[0];
    y.d[1] = ir_dim_const(m);
    for (int i = 0; i < nsp; i++) {
        IrDim in = x->shape.d[2 + i], o;
        if (has_oshape) {
            o = ir_dim_const(oshape[i]);
        } else if (win.mode == PAD_SAME_UPPER || win.mode == PAD_SAME_LOWER) {
            if (!ir_dim_mul(in, ir_dim_const(win.s[i]), &o)) {
                ir_node_error(d, n, "output size along spatial axis %d overflows", i);
                return -1;
            }
        } else {
            /* stride*(in-1) + output_padding + extent - pads */
            int64_t add = opad[i] + extent(&win, i) - win.pads[i] - win.pads[nsp + i];
            if (!ir_dim_sub(in, ir_dim_const(1), &o) || !ir_dim_mul(o, ir_dim_const(win.s[i]), &o) ||
                !ir_dim_add(o, ir_dim_const(add), &o)) {
                ir_node_error(d, n, "output size along spatial axis %d overflows", i);
                return -1;
            }
            if (o.a + o.b < 1) {
                ir_node_error(d, n, "along spatial axis %d the output size %s%s is less than 1 (pads %lld+%lld are "
                              "too large for input size %s)", i, dstr(o).s, o.a ? " (at N=1)" : "",
                              (long long)win.pads[i], (long long)win.pads[nsp + i], dstr(in).s);
                return -1;
            }
        }
        y.d[2 + i] = o;
    }
    ir_set_out(g, n, 0, x->dtype, &y);
    return 0;
}

/* MaxPool and AveragePool. */
static int shape_pool(IrGraph *g, IrNode *n, IrDiag *d, unsigned mask, bool use_dilations)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0);
    if (need_dtype(d, n, 0, x, mask) || need_rank_at_least(d, n, 0, x, 3, "N, C and at least one spatial axis"))
        return -1;
    Window win;
    if (read_window(n, d, x, NULL, use_dilations, true, &win))
        return -1;
    IrShape y = x->shape;
    for (int i = 0; i < win.nsp; i++)
        if (window_out_dim(d, n, &win, i, x, &y.d[2 + i]))
            return -1;
    ir_set_out(g, n, 0, x->dtype, &y);
    return 0;
}

int shape_MaxPool(IrGraph *g, IrNode *n, IrDiag *d)
{
    int64_t order;
    if (shape_pool(g, n, d, DT_MAXPOOL, true) || get_flag(d, n, "storage_order", &order))
        return -1;
    IrValue *y = ir_out(g, n, 0);
    ir_set_out(g, n, 1, SRT_I64, &y->shape);
    return 0;
}

int shape_AveragePool(IrGraph *g, IrNode *n, IrDiag *d)
{
    int64_t cip;
    if (shape_pool(g, n, d, DT_FLOAT, false) || get_flag(d, n, "count_include_pad", &cip))
        return -1;
    return 0;
}

int shape_GlobalAveragePool(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_rank_at_least(d, n, 0, x, 2, "N and C"))
        return -1;
    IrShape y = x->shape;
    for (int i = 2; i < y.rank; i++)
        y.d[i] = ir_dim_const(1);
    ir_set_out(g, n, 0, x->dtype, &y);
    return 0;
}

/* ---- normalization ------------------------------------------------------------------- */

int shape_BatchNormalization(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_rank_at_least(d, n, 0, x, 2, "N and C"))
        return -1;
    IrDim c = x->shape.d[1];
    static const char *names[5] = {"X", "scale", "B", "input_mean", "input_var"};
    for (int i = 1; i < 5; i++) {
        IrValue *v = ir_in(g, n, i);
        if (need_dtype(d, n, i, v, DT_FLOAT))
            return -1;
        if (v->shape.rank != 1 || !ir_dim_eq(v->shape.d[0], c)) {
            ir_node_error(d, n, "inputs[%d] (%s) has type %s; BatchNormalization needs shape [%s] (the channels of "
                          "inputs[0] %s)", i, names[i], vstr(v).s, dstr(c).s, vstr(x).s);
            return -1;
        }
    }
    /* ONNX: scale and B share one dtype (T1), mean and var another (T2). */
    if (need_same_dtype(d, n, 1, ir_in(g, n, 1), 2, ir_in(g, n, 2)) ||
        need_same_dtype(d, n, 3, ir_in(g, n, 3), 4, ir_in(g, n, 4)))
        return -1;
    int64_t training;
    double eps;
    if (get_flag(d, n, "training_mode", &training) || get_nonneg_float(d, n, "epsilon", &eps))
        return -1;
    if (!training) {
        for (int k = 1; k < n->nout; k++)
            if (n->out[k] >= 0) {
                ir_node_error(d, n, "outputs[%d] (%s) is only produced with training_mode=1", k,
                              k == 1 ? "running_mean" : "running_var");
                return -1;
            }
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    IrValue *mean = ir_in(g, n, 3);
    ir_set_out(g, n, 1, mean->dtype, &mean->shape);
    ir_set_out(g, n, 2, mean->dtype, &mean->shape);
    return 0;
}

int shape_LayerNormalization(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *scale = ir_in(g, n, 1), *b = ir_in(g, n, 2);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_same_dtype(d, n, 0, x, 1, scale) ||
        need_same_dtype(d, n, 0, x, 2, b) || need_rank_at_least(d, n, 0, x, 1, "it normalizes from axis on"))
        return -1;
    int64_t axis = ir_attr_int(n, "axis");
    int ax;
    if (!ir_norm_axis(axis, x->shape.rank, &ax)) {
        ir_node_error(d, n, "attribute axis = %lld is out of range for inputs[0] (%s); it must be in [%d, %d]",
                      (long long)axis, vstr(x).s, -x->shape.rank, x->shape.rank - 1);
        return -1;
    }
    for (int i = 1; i < 3; i++) {
        IrValue *v = ir_in(g, n, i);
        IrShape bc;
        if (v && (!ir_broadcast(&v->shape, &x->shape, &bc) || !ir_shape_eq(&bc, &x->shape))) {
            ir_node_error(d, n, "inputs[%d] has type %s; LayerNormalization needs it to broadcast to inputs[0] (%s)",
                          i, vstr(v).s, vstr(x).s);
            return -1;
        }
    }
    double eps;
    if (get_nonneg_float(d, n, "epsilon", &eps))
        return -1;
    int64_t stash = ir_attr_int(n, "stash_type");
    if (stash != 1 && stash != 11) {
        ir_node_error(d, n, "attribute stash_type = %lld; it must be 1 (float32) or 11 (float64)", (long long)stash);
        return -1;
    }
    IrShape stat = x->shape;
    for (int i = ax; i < stat.rank; i++)
        stat.d[i] = ir_dim_const(1);
    IrDtype st = stash == 1 ? SRT_F32 : SRT_F64;
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    ir_set_out(g, n, 1, st, &stat);
    ir_set_out(g, n, 2, st, &stat);
    return 0;
}

/* Softmax and LogSoftmax (opset 13: along one axis). */
static int shape_softmax(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0);
    if (need_dtype(d, n, 0, x, DT_FLOAT))
        return -1;
    int64_t axis = ir_attr_int(n, "axis");
    int ax;
    if (!ir_norm_axis(axis, x->shape.rank, &ax)) {
        if (x->shape.rank == 0)
            ir_node_error(d, n, "inputs[0] has type %s; %s needs rank 1 or more", vstr(x).s, opname(n));
        else
            ir_node_error(d, n, "attribute axis = %lld is out of range for inputs[0] (%s); it must be in [%d, %d]",
                          (long long)axis, vstr(x).s, -x->shape.rank, x->shape.rank - 1);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

int shape_Softmax(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_softmax(g, n, d);
}

int shape_LogSoftmax(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_softmax(g, n, d);
}

/* ---- Dropout ------------------------------------------------------------------------- */

/* One-element tensor (the scalar inputs ratio and training_mode). */
static bool is_single(const IrValue *v)
{
    IrDim cnt;
    return ir_shape_numel(&v->shape, &cnt) && ir_dim_eq(cnt, ir_dim_const(1));
}

int shape_Dropout(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *ratio = ir_in(g, n, 1), *mode = ir_in(g, n, 2);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_dtype(d, n, 1, ratio, DT_FLOAT))
        return -1;
    if (ratio) {
        if (!is_single(ratio)) {
            ir_node_error(d, n, "inputs[1] (ratio) has type %s; Dropout needs a scalar", vstr(ratio).s);
            return -1;
        }
        if (ratio->data) {
            IrTensor t = {.dtype = ratio->dtype, .numel = 1, .data = ratio->data};
            double r = ir_tensor_getf(&t, 0);
            if (!(r >= 0 && r < 1)) {
                ir_node_error(d, n, "inputs[1] (ratio) is %g; it must be in [0, 1)", r);
                return -1;
            }
        }
    }
    if (mode) {
        if (mode->dtype != SRT_BOOL || !is_single(mode)) {
            ir_node_error(d, n, "inputs[2] (training_mode) has type %s; Dropout needs a bool scalar", vstr(mode).s);
            return -1;
        }
        if (mode->data && ((const uint8_t *)mode->data)[0]) {
            ir_node_error(d, n, "inputs[2] (training_mode) is true; training-mode Dropout (random masks) is not "
                          "supported yet, only inference (set training_mode to false or drop the input)");
            return -1;
        }
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    ir_set_out(g, n, 1, SRT_BOOL, &x->shape);
    return 0;
}

/* ---- losses -------------------------------------------------------------------------- */

int shape_SoftmaxCrossEntropyLoss(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *lab = ir_in(g, n, 1), *w = ir_in(g, n, 2);
    if (need_dtype(d, n, 0, x, DT_FLOAT) || need_dtype(d, n, 1, lab, DT_LABEL) || need_same_dtype(d, n, 0, x, 2, w) ||
        need_rank_at_least(d, n, 0, x, 2, "N, C and optional extra dims"))
        return -1;
    int r = x->shape.rank;
    bool ok = lab->shape.rank == r - 1 && ir_dim_eq(lab->shape.d[0], x->shape.d[0]);
    for (int i = 1; ok && i < r - 1; i++)
        ok = ir_dim_eq(lab->shape.d[i], x->shape.d[i + 1]);
    if (!ok) {
        IrShape want = {.rank = r - 1};
        want.d[0] = x->shape.d[0];
        for (int i = 1; i < r - 1; i++)
            want.d[i] = x->shape.d[i + 1];
        ir_node_error(d, n, "inputs[1] (labels) has type %s; SoftmaxCrossEntropyLoss needs shape %s (inputs[0] %s "
                      "without its class dim)", vstr(lab).s, shstr(&want).s, vstr(x).s);
        return -1;
    }
    if (w && (w->shape.rank != 1 || !ir_dim_eq(w->shape.d[0], x->shape.d[1]))) {
        ir_node_error(d, n, "inputs[2] (weights) has type %s; SoftmaxCrossEntropyLoss needs shape [%s] (one per "
                      "class of inputs[0] %s)", vstr(w).s, dstr(x->shape.d[1]).s, vstr(x).s);
        return -1;
    }
    const char *red;
    if (get_reduction(d, n, &red))
        return -1;
    IrShape scalar = {.rank = 0};
    ir_set_out(g, n, 0, x->dtype, strcmp(red, "none") ? &scalar : &lab->shape);
    ir_set_out(g, n, 1, x->dtype, &x->shape);
    return 0;
}

int shape_MSELoss(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (check_arity(n, d))
        return -1;
    IrValue *a = ir_in(g, n, 0), *b = ir_in(g, n, 1);
    if (need_dtype(d, n, 0, a, DT_FLOAT) || need_same_dtype(d, n, 0, a, 1, b))
        return -1;
    if (!ir_shape_eq(&a->shape, &b->shape)) {
        ir_node_error(d, n, "inputs[1] has type %s; MSELoss needs the shape of inputs[0] (%s), without broadcasting",
                      vstr(b).s, vstr(a).s);
        return -1;
    }
    const char *red;
    if (get_reduction(d, n, &red))
        return -1;
    IrShape scalar = {.rank = 0};
    ir_set_out(g, n, 0, a->dtype, strcmp(red, "none") ? &scalar : &a->shape);
    return 0;
}
