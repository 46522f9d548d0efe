/* Shape functions of the training graph's internal ops (gradient and optimizer-update ops of ops.def). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir/ops_impl.h"

/* These ops are made by passes/autodiff, whose inputs are consistent by construction, but a
 * graph may also come from elsewhere (the IR API, a model file naming an internal op), so
 * every shape function checks enough that the reference kernel cannot misbehave. */

#define GRAD_ATTR_MAX ((int64_t)1 << 31)   /* largest kernel, stride, dilation or pad */

typedef struct TStr {
    char s[192];
} TStr;

static TStr tstr(const IrValue *v)
{
    TStr r;
    ir_type_format(v->dtype, &v->shape, r.s, sizeof r.s);
    return r;
}

static const char *opname(const IrNode *n)
{
    return ir_op_name(n->op);
}

/* Arity per the op table and the required inputs/outputs present. */
static int arity(IrNode *n, IrDiag *d)
{
    const IrOpInfo *info = ir_op_info(n->op);
    if (n->nin < info->min_in || n->nin > info->max_in) {
        ir_node_error(d, n, "%s needs %d to %d inputs, got %d", info->name, info->min_in, info->max_in, n->nin);
        return -1;
    }
    for (int i = 0; i < info->min_in; i++)
        if (n->in[i] < 0) {
            ir_node_error(d, n, "inputs[%d] is required by %s but absent", i, info->name);
            return -1;
        }
    if (n->nout < info->min_out || n->nout > info->max_out) {
        ir_node_error(d, n, "%s has %d to %d outputs, got %d", info->name, info->min_out, info->max_out, n->nout);
        return -1;
    }
    for (int i = 0; i < info->min_out; i++)
        if (n->out[i] < 0) {
            ir_node_error(d, n, "outputs[%d] of %s is required but absent", i, info->name);
            return -1;
        }
    return 0;
}

static int need_float(IrDiag *d, IrNode *n, int i, const IrValue *v)
{
    if (v && !ir_dtype_is_float(v->dtype)) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs float32 or float64", i, tstr(v).s, opname(n));
        return -1;
    }
    return 0;
}

/* Input j must have exactly the type (dtype and shape) of input i. */
static int need_same_type(IrDiag *d, IrNode *n, int i, const IrValue *vi, int j, const IrValue *vj)
{
    if (vj && (vj->dtype != vi->dtype || !ir_shape_eq(&vj->shape, &vi->shape))) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs the type of inputs[%d] (%s)", j, tstr(vj).s,
                      opname(n), i, tstr(vi).s);
        return -1;
    }
    return 0;
}

static int need_same_dtype(IrDiag *d, IrNode *n, int i, const IrValue *vi, int j, const IrValue *vj)
{
    if (vj && vj->dtype != vi->dtype) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs the dtype of inputs[%d] (%s)", j, tstr(vj).s,
                      opname(n), i, tstr(vi).s);
        return -1;
    }
    return 0;
}

static bool one_element(const IrValue *v)
{
    IrDim cnt;
    return ir_shape_numel(&v->shape, &cnt) && ir_dim_eq(cnt, ir_dim_const(1));
}

static int need_rank_at_least(IrDiag *d, IrNode *n, int i, const IrValue *v, int rank)
{
    if (v->shape.rank < rank) {
        ir_node_error(d, n, "inputs[%d] has type %s; %s needs rank %d or more", i, tstr(v).s, opname(n), rank);
        return -1;
    }
    return 0;
}

/* An INTS attribute with count entries in [min, GRAD_ATTR_MAX], or absent. */
static int check_ints(IrDiag *d, IrNode *n, const char *name, int count, int64_t min)
{
    const int64_t *v;
    int c = ir_attr_ints(n, name, &v);
    if (c < 0)
        return 0;
    if (c != count) {
        ir_node_error(d, n, "attribute %s has %d values; %s needs %d here", name, c, opname(n), count);
        return -1;
    }
    for (int i = 0; i < c; i++)
        if (v[i] < min || v[i] > GRAD_ATTR_MAX) {
            ir_node_error(d, n, "attribute %s[%d] = %lld; it must be in [%lld, %lld]", name, i, (long long)v[i],
                          (long long)min, (long long)GRAD_ATTR_MAX);
            return -1;
        }
    return 0;
}

static int check_flag(IrDiag *d, IrNode *n, const char *name)
{
    int64_t v = ir_attr_int(n, name);
    if (v != 0 && v != 1) {
        ir_node_error(d, n, "attribute %s = %lld; it must be 0 or 1", name, (long long)v);
        return -1;
    }
    return 0;
}

/* Window attributes of a conv/pool-like node whose input x has nsp spatial axes. */
static int check_window(IrDiag *d, IrNode *n, int nsp, bool kernel_required)
{
    const char *ap = ir_attr_str(n, "auto_pad");
    if (strcmp(ap, "NOTSET") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER") && strcmp(ap, "VALID")) {
        ir_node_error(d, n, "attribute auto_pad = \"%s\"; it must be NOTSET, SAME_UPPER, SAME_LOWER or VALID", ap);
        return -1;
    }
    const int64_t *k;
    if (kernel_required && ir_attr_ints(n, "kernel_shape", &k) < 0) {
        ir_node_error(d, n, "attribute kernel_shape is required by %s", opname(n));
        return -1;
    }
    if (check_ints(d, n, "kernel_shape", nsp, 1) || check_ints(d, n, "strides", nsp, 1) ||
        check_ints(d, n, "pads", 2 * nsp, 0))
        return -1;
    if (ir_op_attr_spec(n->op, "dilations") && check_ints(d, n, "dilations", nsp, 1))
        return -1;
    if (ir_op_attr_spec(n->op, "ceil_mode") && check_flag(d, n, "ceil_mode"))
        return -1;
    return 0;
}

/* ---- element-wise activation gradients ---------------------------------------------- */

/* (dy, x) -> dx of x's type. */
static int shape_act_grad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *x = ir_in(g, n, 1);
    if (need_float(d, n, 1, x) || need_same_type(d, n, 1, x, 0, dy))
        return -1;
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

int shape_ReluGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_act_grad(g, n, d);
}

int shape_GeluGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    const char *a = ir_attr_str(n, "approximate");
    if (strcmp(a, "none") && strcmp(a, "tanh")) {
        ir_node_error(d, n, "attribute approximate = \"%s\"; it must be \"none\" or \"tanh\"", a);
        return -1;
    }
    return shape_act_grad(g, n, d);
}

/* ---- convolution and pooling ---------------------------------------------------------- */

int shape_ConvGradWeight(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *dy = ir_in(g, n, 1), *w = ir_in(g, n, 2);
    if (need_float(d, n, 0, x) || need_same_dtype(d, n, 0, x, 1, dy) || need_same_dtype(d, n, 0, x, 2, w) ||
        need_rank_at_least(d, n, 0, x, 3))
        return -1;
    int r = x->shape.rank;
    if (dy->shape.rank != r || w->shape.rank != r || !ir_shape_is_const(&w->shape) ||
        !ir_dim_is_const(x->shape.d[1]) || !ir_dim_is_const(dy->shape.d[1]) ||
        !ir_dim_eq(x->shape.d[0], dy->shape.d[0])) {
        ir_node_error(d, n, "inputs have types %s, %s, %s; ConvGradWeight needs x [N,C,...], dy [N,M,...] and "
                      "weights [M,C/group,...] of one rank with constant channels", tstr(x).s, tstr(dy).s,
                      tstr(w).s);
        return -1;
    }
    int64_t group = ir_attr_int(n, "group"), c = x->shape.d[1].b, m = dy->shape.d[1].b;
    if (group < 1 || c % group || m % group || w->shape.d[0].b != m || w->shape.d[1].b * group != c) {
        ir_node_error(d, n, "weights %s do not fit x %s, dy %s and group %lld", tstr(w).s, tstr(x).s, tstr(dy).s,
                      (long long)group);
        return -1;
    }
    if (check_window(d, n, r - 2, false))
        return -1;
    const int64_t *k;
    int nk = ir_attr_ints(n, "kernel_shape", &k);
    for (int i = 0; i < nk; i++)
        if (k[i] != w->shape.d[2 + i].b) {
            ir_node_error(d, n, "attribute kernel_shape[%d] = %lld does not match the weights %s", i,
                          (long long)k[i], tstr(w).s);
            return -1;
        }
    ir_set_out(g, n, 0, w->dtype, &w->shape);
    return 0;
}

/* MaxPoolGrad and AveragePoolGrad: (dy, x) -> dx. */
static int shape_pool_grad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *x = ir_in(g, n, 1);
    if (need_float(d, n, 1, x) || need_same_dtype(d, n, 1, x, 0, dy) || need_rank_at_least(d, n, 1, x, 3))
        return -1;
    if (dy->shape.rank != x->shape.rank || !ir_dim_eq(dy->shape.d[0], x->shape.d[0]) ||
        !ir_dim_eq(dy->shape.d[1], x->shape.d[1])) {
        ir_node_error(d, n, "inputs[0] has type %s; %s needs the batch and channel dims of inputs[1] (%s)",
                      tstr(dy).s, opname(n), tstr(x).s);
        return -1;
    }
    if (check_window(d, n, x->shape.rank - 2, true))
        return -1;
    if (ir_op_attr_spec(n->op, "count_include_pad") && check_flag(d, n, "count_include_pad"))
        return -1;
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

int shape_MaxPoolGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_pool_grad(g, n, d);
}

int shape_AveragePoolGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_pool_grad(g, n, d);
}

/* ---- normalization ---------------------------------------------------------------------- */

int shape_BatchNormGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *x = ir_in(g, n, 1), *scale = ir_in(g, n, 2);
    if (need_float(d, n, 1, x) || need_same_type(d, n, 1, x, 0, dy) || need_float(d, n, 2, scale) ||
        need_rank_at_least(d, n, 1, x, 2))
        return -1;
    if (scale->shape.rank != 1 || !ir_dim_eq(scale->shape.d[0], x->shape.d[1])) {
        ir_node_error(d, n, "inputs[2] (scale) has type %s; BatchNormGrad needs one entry per channel of %s",
                      tstr(scale).s, tstr(x).s);
        return -1;
    }
    double eps = ir_attr_float(n, "epsilon");
    if (!(eps >= 0) || isinf(eps)) {
        ir_node_error(d, n, "attribute epsilon = %g; it must be a finite number >= 0", eps);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    ir_set_out(g, n, 1, scale->dtype, &scale->shape);
    ir_set_out(g, n, 2, scale->dtype, &scale->shape);
    return 0;
}

int shape_LayerNormGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *x = ir_in(g, n, 1), *scale = ir_in(g, n, 2), *bias = ir_in(g, n, 3);
    if (need_float(d, n, 1, x) || need_same_type(d, n, 1, x, 0, dy) || need_same_dtype(d, n, 1, x, 2, scale) ||
        need_same_dtype(d, n, 1, x, 3, bias) || need_rank_at_least(d, n, 1, x, 1))
        return -1;
    int ax;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), x->shape.rank, &ax)) {
        ir_node_error(d, n, "attribute axis = %lld is out of range for inputs[1] (%s)",
                      (long long)ir_attr_int(n, "axis"), tstr(x).s);
        return -1;
    }
    for (int i = 2; i < 4; i++) {
        IrValue *v = ir_in(g, n, i);
        IrShape bc;
        if (v && (!ir_broadcast(&v->shape, &x->shape, &bc) || !ir_shape_eq(&bc, &x->shape))) {
            ir_node_error(d, n, "inputs[%d] has type %s; LayerNormGrad needs it to broadcast to inputs[1] (%s)", i,
                          tstr(v).s, tstr(x).s);
            return -1;
        }
        /* the kernel accumulates dscale/dbias per row: they must not vary before the axis */
        for (int k = 0; v && k < v->shape.rank; k++) {
            int xk = x->shape.rank - v->shape.rank + k;
            if (xk < ax && !ir_dim_eq(v->shape.d[k], ir_dim_const(1))) {
                ir_node_error(d, n, "inputs[%d] has type %s; LayerNormGrad needs it constant along the axes before "
                              "axis %d", i, tstr(v).s, ax);
                return -1;
            }
        }
    }
    if (n->nout > 2 && n->out[2] >= 0 && !bias) {
        ir_node_error(d, n, "outputs[2] (dbias) needs inputs[3] (bias)");
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    ir_set_out(g, n, 1, scale->dtype, &scale->shape);
    if (bias)
        ir_set_out(g, n, 2, bias->dtype, &bias->shape);
    return 0;
}

/* SoftmaxGrad and LogSoftmaxGrad: (dy, y) -> dx. */
static int shape_softmax_grad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *y = ir_in(g, n, 1);
    if (need_float(d, n, 1, y) || need_same_type(d, n, 1, y, 0, dy) || need_rank_at_least(d, n, 1, y, 1))
        return -1;
    int ax;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), y->shape.rank, &ax)) {
        ir_node_error(d, n, "attribute axis = %lld is out of range for inputs[1] (%s)",
                      (long long)ir_attr_int(n, "axis"), tstr(y).s);
        return -1;
    }
    ir_set_out(g, n, 0, y->dtype, &y->shape);
    return 0;
}

int shape_SoftmaxGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_softmax_grad(g, n, d);
}

int shape_LogSoftmaxGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    return shape_softmax_grad(g, n, d);
}

/* ---- losses ---------------------------------------------------------------------------- */

int shape_SCELossGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *lab = ir_in(g, n, 1), *w = ir_in(g, n, 2);
    if (need_float(d, n, 0, x) || need_same_dtype(d, n, 0, x, 2, w) || need_rank_at_least(d, n, 0, x, 2))
        return -1;
    int r = x->shape.rank;
    bool ok = (lab->dtype == SRT_I64 || lab->dtype == SRT_I32) && lab->shape.rank == r - 1 &&
              ir_dim_eq(lab->shape.d[0], x->shape.d[0]);
    for (int i = 1; ok && i < r - 1; i++)
        ok = ir_dim_eq(lab->shape.d[i], x->shape.d[i + 1]);
    if (!ok) {
        ir_node_error(d, n, "inputs[1] (labels) has type %s; SCELossGrad needs int32/int64 labels shaped like "
                      "inputs[0] (%s) without its class dim", tstr(lab).s, tstr(x).s);
        return -1;
    }
    if (w && (w->shape.rank != 1 || !ir_dim_eq(w->shape.d[0], x->shape.d[1]))) {
        ir_node_error(d, n, "inputs[2] (weights) has type %s; SCELossGrad needs one weight per class of %s",
                      tstr(w).s, tstr(x).s);
        return -1;
    }
    const char *red = ir_attr_str(n, "reduction");
    if (strcmp(red, "mean") && strcmp(red, "sum")) {
        ir_node_error(d, n, "attribute reduction = \"%s\"; SCELossGrad needs \"mean\" or \"sum\"", red);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

/* ---- data movement ------------------------------------------------------------------------ */

/* The shape given by a compile-time int64 vector input i (GatherGrad, SliceGrad). */
static int shape_input(IrGraph *g, IrNode *n, int i, IrShape *out, IrDiag *d)
{
    IrValue *s = ir_in(g, n, i);
    IrDim *c;
    int count = s->dtype == SRT_I64 && s->shape.rank == 1 ? ir_value_known_ints(g, s->id, &c) : -1;
    if (count < 0 || count > IR_MAX_RANK) {
        ir_node_error(d, n, "inputs[%d] (shape) \"%s\" has type %s; %s needs a 1-D int64 shape known at compile "
                      "time", i, s->name, tstr(s).s, opname(n));
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->rank = count;
    for (int k = 0; k < count; k++) {
        if (c[k].a < 0 || c[k].b < 0 || c[k].a + c[k].b < 0) {
            ir_node_error(d, n, "inputs[%d] (shape) holds a negative dim", i);
            return -1;
        }
        out->d[k] = c[k];
    }
    return 0;
}

int shape_GatherGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0), *ind = ir_in(g, n, 1);
    IrShape xs;
    if (need_float(d, n, 0, dy) || shape_input(g, n, 2, &xs, d))
        return -1;
    if (ind->dtype != SRT_I64 && ind->dtype != SRT_I32) {
        ir_node_error(d, n, "inputs[1] (indices) has type %s; GatherGrad needs int32 or int64", tstr(ind).s);
        return -1;
    }
    int ax;
    if (xs.rank < 1 || !ir_norm_axis(ir_attr_int(n, "axis"), xs.rank, &ax)) {
        ir_node_error(d, n, "attribute axis = %lld is out of range for the data rank %d",
                      (long long)ir_attr_int(n, "axis"), xs.rank);
        return -1;
    }
    IrShape want;
    memset(&want, 0, sizeof want);
    bool ok = xs.rank - 1 + ind->shape.rank <= IR_MAX_RANK;
    for (int i = 0; ok && i < ax; i++)
        want.d[want.rank++] = xs.d[i];
    for (int i = 0; ok && i < ind->shape.rank; i++)
        want.d[want.rank++] = ind->shape.d[i];
    for (int i = ax + 1; ok && i < xs.rank; i++)
        want.d[want.rank++] = xs.d[i];
    if (!ok || !ir_shape_eq(&want, &dy->shape)) {
        ir_node_error(d, n, "inputs[0] has type %s; GatherGrad needs the shape Gather gives for the data shape and "
                      "indices %s", tstr(dy).s, tstr(ind).s);
        return -1;
    }
    ir_set_out(g, n, 0, dy->dtype, &xs);
    return 0;
}

int shape_SliceGrad(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *dy = ir_in(g, n, 0);
    IrShape xs;
    if (need_float(d, n, 0, dy) || shape_input(g, n, 1, &xs, d))
        return -1;
    if (xs.rank != dy->shape.rank) {
        ir_node_error(d, n, "inputs[0] has type %s; SliceGrad needs the rank of the data shape (%d)", tstr(dy).s,
                      xs.rank);
        return -1;
    }
    IrDim cnt;
    int count = -1;
    for (int i = 2; i < n->nin; i++) {
        IrValue *v = ir_in(g, n, i);
        if (!v) {
            if (i < 4) {
                ir_node_error(d, n, "inputs[%d] is required by SliceGrad but absent", i);
                return -1;
            }
            continue;
        }
        if ((v->dtype != SRT_I64 && v->dtype != SRT_I32) || v->shape.rank != 1 || !ir_shape_numel(&v->shape, &cnt) ||
            cnt.a != 0 || cnt.b > xs.rank || (count >= 0 && cnt.b != count)) {
            ir_node_error(d, n, "inputs[%d] has type %s; SliceGrad needs 1-D int32/int64 vectors of one length (at "
                          "most the rank %d)", i, tstr(v).s, xs.rank);
            return -1;
        }
        count = (int)cnt.b;
    }
    ir_set_out(g, n, 0, dy->dtype, &xs);
    return 0;
}

/* ---- dropout ------------------------------------------------------------------------------ */

int shape_DropoutMask(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d))
        return -1;
    IrValue *x = ir_in(g, n, 0), *step = ir_in(g, n, 1);
    if (need_float(d, n, 0, x))
        return -1;
    if (step->dtype != SRT_I64 || !one_element(step)) {
        ir_node_error(d, n, "inputs[1] (step) has type %s; DropoutMask needs an int64 scalar", tstr(step).s);
        return -1;
    }
    double r = ir_attr_float(n, "ratio");
    if (!(r >= 0 && r < 1)) {
        ir_node_error(d, n, "attribute ratio = %g; it must be in [0, 1)", r);
        return -1;
    }
    ir_set_out(g, n, 0, x->dtype, &x->shape);
    return 0;
}

/* ---- optimizer updates -------------------------------------------------------------------- */

/* p, g (same type, constant shape), lr (float scalar), step (int64 scalar). */
static int update_inputs(IrGraph *g, IrNode *n, IrDiag *d)
{
    IrValue *p = ir_in(g, n, 0), *gr = ir_in(g, n, 1), *lr = ir_in(g, n, 2), *step = ir_in(g, n, 3);
    if (need_float(d, n, 0, p) || need_same_type(d, n, 0, p, 1, gr))
        return -1;
    if (!ir_shape_is_const(&p->shape)) {
        ir_node_error(d, n, "inputs[0] has type %s; %s updates params, whose dims are constants", tstr(p).s,
                      opname(n));
        return -1;
    }
    if (!ir_dtype_is_float(lr->dtype) || !one_element(lr)) {
        ir_node_error(d, n, "inputs[2] (lr) has type %s; %s needs a float scalar", tstr(lr).s, opname(n));
        return -1;
    }
    if (step->dtype != SRT_I64 || !one_element(step)) {
        ir_node_error(d, n, "inputs[3] (step) has type %s; %s needs an int64 scalar", tstr(step).s, opname(n));
        return -1;
    }
    return 0;
}

/* A FLOAT attribute in [lo, hi) (hi may be INFINITY). */
static int check_range(IrDiag *d, IrNode *n, const char *name, double lo, double hi)
{
    double v = ir_attr_float(n, name);
    if (!(v >= lo && v < hi)) {
        ir_node_error(d, n, "attribute %s = %g; it must be in [%g, %g)", name, v, lo, hi);
        return -1;
    }
    return 0;
}

int shape_SgdUpdate(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d) || update_inputs(g, n, d))
        return -1;
    IrValue *p = ir_in(g, n, 0), *buf = ir_in(g, n, 4);
    if (need_same_type(d, n, 0, p, 4, buf) || check_range(d, n, "momentum", 0, INFINITY) ||
        check_range(d, n, "dampening", -INFINITY, INFINITY) || check_range(d, n, "weight_decay", 0, INFINITY) ||
        check_flag(d, n, "nesterov"))
        return -1;
    bool momentum = ir_attr_float(n, "momentum") != 0;
    bool buf_out = n->nout > 1 && n->out[1] >= 0;
    if (momentum != (buf != NULL) || buf_out != (buf != NULL)) {
        ir_node_error(d, n, "SgdUpdate with momentum %g needs %s", ir_attr_float(n, "momentum"),
                      momentum ? "the momentum buffer as inputs[4] and outputs[1]"
                               : "no momentum buffer (inputs[4], outputs[1])");
        return -1;
    }
    ir_set_out(g, n, 0, p->dtype, &p->shape);
    if (buf)
        ir_set_out(g, n, 1, p->dtype, &p->shape);
    return 0;
}

int shape_AdamUpdate(IrGraph *g, IrNode *n, IrDiag *d)
{
    if (arity(n, d) || update_inputs(g, n, d))
        return -1;
    IrValue *p = ir_in(g, n, 0);
    if (need_same_type(d, n, 0, p, 4, ir_in(g, n, 4)) || need_same_type(d, n, 0, p, 5, ir_in(g, n, 5)) ||
        check_range(d, n, "beta1", 0, 1) || check_range(d, n, "beta2", 0, 1) ||
        check_range(d, n, "eps", 0, INFINITY) || check_range(d, n, "weight_decay", 0, INFINITY) ||
        check_flag(d, n, "decoupled"))
        return -1;
    for (int k = 0; k < 3; k++)
        ir_set_out(g, n, k, p->dtype, &p->shape);
    return 0;
}
