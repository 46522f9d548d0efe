/* Gradient rules of autodiff: one function per differentiable op, in a table indexed by IrOp. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/autodiff_impl.h"

/* Conventions: x, y, g are value ids (forward input, forward output, the output's gradient);
 * a rule builds nodes only for inputs pass_ad_wants, and passes -1 through (every helper returns -1
 * after a failure, so only the final pass_ad_accum/return need checking). Gradients w.r.t.
 * indices, shapes, labels, Clip's bounds, BatchNorm's running statistics and the class
 * weights of the loss are not computed (they are not differentiable or not trained). */

static int accum(Ad *ad, int v, int gval)
{
    if (gval < 0)
        return -1;
    pass_ad_accum(ad, v, gval);
    return 0;
}

static IrDtype dtype_of(Ad *ad, int v)
{
    return ir_val(ad->g, v)->dtype;
}

static const IrShape *shape_of(Ad *ad, int v)
{
    return &ir_val(ad->g, v)->shape;
}

static int zero_like(Ad *ad, int v)
{
    return pass_ad_scalar(ad, dtype_of(ad, v), 0);
}

/* The broadcasting-operand convention: accumulate reduce_to(gval, x) into x. */
static int accum_reduced(Ad *ad, int x, int gval)
{
    return accum(ad, x, pass_ad_reduce_to(ad, gval, x));
}

/* Attributes copied from the forward node (ops whose gradient op shares their spec). */
static IrNode *begin_like(Ad *ad, IrOp op, const IrNode *fwd, int nin, const int *in, int nout)
{
    IrNode *n = pass_ad_begin(ad, op, nin, in, nout);
    ir_node_set_attrs(ad->g, n, fwd->nattrs, fwd->attrs);
    return n;
}

/* ---- Gemm, MatMul ------------------------------------------------------------------------ */

static int gemm(Ad *ad, int a, int b, bool ta, bool tb, double alpha)
{
    if (a < 0 || b < 0)
        return -1;
    int in[2] = {a, b};
    IrNode *n = pass_ad_begin(ad, IR_OP_GEMM, 2, in, 1);
    if (ta)
        ir_node_set_int(ad->g, n, "transA", 1);
    if (tb)
        ir_node_set_int(ad->g, n, "transB", 1);
    if (alpha != 1)
        ir_node_set_float(ad->g, n, "alpha", alpha);
    return pass_ad_finish(ad, n);
}

/* Y = alpha*op(A)*op(B) + beta*C:
 *   dA = alpha * dY op(B)^T   (transA: alpha * op(B) dY^T)
 *   dB = alpha * op(A)^T dY   (transB: alpha * dY^T op(A))
 *   dC = beta * dY summed to C's shape */
static int rule_gemm(Ad *ad, const IrNode *n, const int *dy)
{
    int a = n->in[0], b = n->in[1], c = n->nin > 2 ? n->in[2] : -1, g = dy[0];
    bool ta = ir_attr_int(n, "transA") != 0, tb = ir_attr_int(n, "transB") != 0;
    double alpha = ir_attr_float(n, "alpha"), beta = ir_attr_float(n, "beta");
    if (pass_ad_wants(ad, a)) {
        int r = ta ? gemm(ad, b, g, tb, true, alpha) : gemm(ad, g, b, false, !tb, alpha);
        if (accum(ad, a, r))
            return -1;
    }
    if (pass_ad_wants(ad, b)) {
        int r = tb ? gemm(ad, g, a, true, ta, alpha) : gemm(ad, a, g, !ta, false, alpha);
        if (accum(ad, b, r))
            return -1;
    }
    if (pass_ad_wants(ad, c) && beta != 0) {
        int gc = beta == 1 ? g : pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_scalar(ad, dtype_of(ad, g), beta));
        if (accum_reduced(ad, c, gc))
            return -1;
    }
    return 0;
}

static int unsqueeze(Ad *ad, int x, int count, const int64_t *axes)
{
    return pass_ad_op2(ad, IR_OP_UNSQUEEZE, x, pass_ad_ints(ad, count, axes));
}

/* Swap the last two axes. */
static int transpose_last2(Ad *ad, int x)
{
    if (x < 0)
        return -1;
    int r = shape_of(ad, x)->rank;
    int64_t perm[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        perm[i] = i;
    perm[r - 2] = r - 1;
    perm[r - 1] = r - 2;
    IrNode *n = pass_ad_begin(ad, IR_OP_TRANSPOSE, 1, &x, 1);
    ir_node_set_ints(ad->g, n, "perm", r, perm);
    return pass_ad_finish(ad, n);
}

/* Batched Y = A @ B (numpy matmul): with 1-D operands promoted to matrices,
 *   dA = dY @ B^T and dB = A^T @ dY, summed over broadcast batch dims. */
static int rule_matmul(Ad *ad, const IrNode *n, const int *dy)
{
    int a = n->in[0], b = n->in[1], g = dy[0];
    int ra = shape_of(ad, a)->rank, rb = shape_of(ad, b)->rank;
    int64_t ax0 = 0, ax1 = 1, axm2 = -2, axm1 = -1;
    int a2 = ra == 1 ? unsqueeze(ad, a, 1, &ax0) : a;
    int b2 = rb == 1 ? unsqueeze(ad, b, 1, &ax1) : b;
    int g2 = g;
    if (ra == 1 && rb == 1) {
        int64_t one[2] = {1, 1};
        g2 = pass_ad_op2(ad, IR_OP_RESHAPE, g, pass_ad_ints(ad, 2, one));
    } else if (ra == 1) {
        g2 = unsqueeze(ad, g, 1, &axm2);
    } else if (rb == 1) {
        g2 = unsqueeze(ad, g, 1, &axm1);
    }
    if (pass_ad_wants(ad, a)) {
        int r = pass_ad_reduce_to(ad, pass_ad_op2(ad, IR_OP_MATMUL, g2, transpose_last2(ad, b2)), a2);
        if (ra == 1)
            r = pass_ad_op2(ad, IR_OP_RESHAPE, r, pass_ad_shape_of(ad, a));
        if (accum(ad, a, r))
            return -1;
    }
    if (pass_ad_wants(ad, b)) {
        int r = pass_ad_reduce_to(ad, pass_ad_op2(ad, IR_OP_MATMUL, transpose_last2(ad, a2), g2), b2);
        if (rb == 1)
            r = pass_ad_op2(ad, IR_OP_RESHAPE, r, pass_ad_shape_of(ad, b));
        if (accum(ad, b, r))
            return -1;
    }
    return 0;
}

/* ---- convolutions ------------------------------------------------------------------------- */

/* Conv/pool padding resolved for concrete input sizes, as the forward kernels do it. */
static void forward_pads(const IrNode *n, int nsp, const int64_t *in, const int64_t *k, const int64_t *s,
                         const int64_t *dil, int64_t *pb, int64_t *pe)
{
    const char *ap = ir_attr_str(n, "auto_pad");
    const int64_t *pads;
    int np = ir_attr_ints(n, "pads", &pads);
    for (int i = 0; i < nsp; i++) {
        int64_t ext = (k[i] - 1) * dil[i] + 1;
        if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
            int64_t outs = (in[i] + s[i] - 1) / s[i];
            int64_t total = (outs - 1) * s[i] + ext - in[i];
            if (total < 0)
                total = 0;
            pb[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
            pe[i] = total - pb[i];
        } else if (!strcmp(ap, "VALID") || np != 2 * nsp) {
            pb[i] = pe[i] = 0;
        } else {
            pb[i] = pads[i];
            pe[i] = pads[nsp + i];
        }
    }
}

static void ints_or(const IrNode *n, const char *name, int count, int64_t def, int64_t *out)
{
    const int64_t *v;
    int c = ir_attr_ints(n, name, &v);
    for (int i = 0; i < count; i++)
        out[i] = c == count ? v[i] : def;
}

/* The constant spatial sizes of value v (dims 2..), or -1 after a diagnostic. */
static int spatial_dims(Ad *ad, int v, int64_t *out)
{
    const IrShape *s = shape_of(ad, v);
    for (int i = 2; i < s->rank; i++) {
        if (!ir_dim_is_const(s->d[i]))
            return pass_ad_fail(ad, "the gradient needs constant spatial dims; \"%s\" has a dim that depends on N",
                                ir_val(ad->g, v)->name);
        out[i - 2] = s->d[i].b;
    }
    return 0;
}

/* A Conv or ConvTranspose gradient node with explicit geometry. */
static int conv_node(Ad *ad, IrOp op, int x, int w, const IrNode *fwd, int nsp, const int64_t *pb, const int64_t *pe,
                     const int64_t *opad)
{
    if (x < 0)
        return -1;
    int in[2] = {x, w};
    int64_t pads[2 * IR_MAX_RANK], s[IR_MAX_RANK], dil[IR_MAX_RANK];
    for (int i = 0; i < nsp; i++) {
        pads[i] = pb[i];
        pads[nsp + i] = pe[i];
    }
    ints_or(fwd, "strides", nsp, 1, s);
    ints_or(fwd, "dilations", nsp, 1, dil);
    IrNode *n = pass_ad_begin(ad, op, 2, in, 1);
    ir_node_set_int(ad->g, n, "group", ir_attr_int(fwd, "group"));
    ir_node_set_ints(ad->g, n, "strides", nsp, s);
    ir_node_set_ints(ad->g, n, "dilations", nsp, dil);
    ir_node_set_ints(ad->g, n, "pads", 2 * nsp, pads);
    if (opad)
        ir_node_set_ints(ad->g, n, "output_padding", nsp, opad);
    return pass_ad_finish(ad, n);
}

static int bias_grad(Ad *ad, int b, int g)
{
    int r = shape_of(ad, g)->rank;
    int64_t axes[IR_MAX_RANK];
    int na = 0;
    for (int i = 0; i < r; i++)
        if (i != 1)
            axes[na++] = i;
    return accum(ad, b, pass_ad_reduce_sum(ad, g, na, axes, false));
}

/* Y = Conv(X, W, B):
 *   dX = ConvTranspose(dY, W) with the same strides/dilations/group, the forward's pads made
 *        explicit and output_padding taking up the input rows no window reached;
 *   dW = ConvGradWeight(X, dY, W) (the forward's attributes);  dB = dY summed but for axis 1. */
static int rule_conv(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], w = n->in[1], b = n->nin > 2 ? n->in[2] : -1, g = dy[0];
    int nsp = shape_of(ad, x)->rank - 2;
    if (pass_ad_wants(ad, x)) {
        int64_t in[IR_MAX_RANK], out[IR_MAX_RANK], k[IR_MAX_RANK], s[IR_MAX_RANK], dil[IR_MAX_RANK];
        int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK], opad[IR_MAX_RANK];
        if (spatial_dims(ad, x, in) || spatial_dims(ad, g, out) || spatial_dims(ad, w, k))
            return -1;
        ints_or(n, "strides", nsp, 1, s);
        ints_or(n, "dilations", nsp, 1, dil);
        forward_pads(n, nsp, in, k, s, dil, pb, pe);
        for (int i = 0; i < nsp; i++)
            opad[i] = in[i] + pb[i] + pe[i] - ((k[i] - 1) * dil[i] + 1) - s[i] * (out[i] - 1);
        if (accum(ad, x, conv_node(ad, IR_OP_CONVT, g, w, n, nsp, pb, pe, opad)))
            return -1;
    }
    if (pass_ad_wants(ad, w)) {
        int in[3] = {x, g, w};
        if (accum(ad, w, pass_ad_finish(ad, begin_like(ad, IR_OP_CONVGRADW, n, 3, in, 1))))
            return -1;
    }
    if (pass_ad_wants(ad, b) && bias_grad(ad, b, g))
        return -1;
    return 0;
}

/* floor(t / 2) (C's division truncates). */
static int64_t floor_half(int64_t t)
{
    return t >= 0 ? t / 2 : -((1 - t) / 2);
}

/* Y = ConvTranspose(X, W, B) scatters X through W, so
 *   dX = Conv(dY, W) with the same strides/dilations/group, begin pads as the forward resolved
 *        them and end pads making the output X's size;
 *   dW = ConvGradWeight(dY, X, W) with that geometry (dY plays the input, X the output);
 *   dB = dY summed but for axis 1. */
static int rule_convt(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], w = n->in[1], b = n->nin > 2 ? n->in[2] : -1, g = dy[0];
    int nsp = shape_of(ad, x)->rank - 2;
    if (pass_ad_wants(ad, x) || pass_ad_wants(ad, w)) {
        int64_t in[IR_MAX_RANK], out[IR_MAX_RANK], k[IR_MAX_RANK], s[IR_MAX_RANK], dil[IR_MAX_RANK];
        int64_t pb[IR_MAX_RANK], pe[IR_MAX_RANK], opad[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
        if (spatial_dims(ad, x, in) || spatial_dims(ad, g, out) || spatial_dims(ad, w, k))
            return -1;
        ints_or(n, "strides", nsp, 1, s);
        ints_or(n, "dilations", nsp, 1, dil);
        ints_or(n, "output_padding", nsp, 0, opad);
        ints_or(n, "pads", 2 * nsp, 0, pads);
        const char *ap = ir_attr_str(n, "auto_pad");
        const int64_t *oshape;
        bool derived = ir_attr_ints(n, "output_shape", &oshape) >= 0 || !strncmp(ap, "SAME_", 5);
        for (int i = 0; i < nsp; i++) {
            int64_t ext = (k[i] - 1) * dil[i] + 1;
            if (derived) {
                int64_t total = s[i] * (in[i] - 1) + opad[i] + ext - out[i];
                int64_t half = floor_half(total);   /* as ref_ConvTranspose */
                pb[i] = !strcmp(ap, "SAME_UPPER") ? half : total - half;
            } else {
                pb[i] = !strcmp(ap, "VALID") ? 0 : pads[i];
            }
            pe[i] = s[i] * (in[i] - 1) + ext - out[i] - pb[i];
            if (pe[i] < 0 && pe[i] > -s[i])
                pe[i] = 0;   /* the extra rows are padding the Conv's last window does not reach */
            if (pb[i] < 0 || pe[i] < 0)
                return pass_ad_fail(ad, "the gradient of this ConvTranspose geometry (spatial axis %d) is not "
                                    "supported", i);
        }
        if (pass_ad_wants(ad, x) && accum(ad, x, conv_node(ad, IR_OP_CONV, g, w, n, nsp, pb, pe, NULL)))
            return -1;
        if (pass_ad_wants(ad, w)) {
            int in3[3] = {g, x, w};
            IrNode *gw = pass_ad_begin(ad, IR_OP_CONVGRADW, 3, in3, 1);
            for (int i = 0; i < nsp; i++) {
                pads[i] = pb[i];
                pads[nsp + i] = pe[i];
            }
            ir_node_set_int(ad->g, gw, "group", ir_attr_int(n, "group"));
            ir_node_set_ints(ad->g, gw, "strides", nsp, s);
            ir_node_set_ints(ad->g, gw, "dilations", nsp, dil);
            ir_node_set_ints(ad->g, gw, "pads", 2 * nsp, pads);
            if (accum(ad, w, pass_ad_finish(ad, gw)))
                return -1;
        }
    }
    if (pass_ad_wants(ad, b) && bias_grad(ad, b, g))
        return -1;
    return 0;
}

/* ---- pooling and normalization ----------------------------------------------------------------- */

/* MaxPool/AveragePool: their Grad ops take the pool's own attributes. */
static int rule_pool(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x) || dy[0] < 0)
        return 0;
    int in[2] = {dy[0], x};
    IrOp op = n->op == IR_OP_MAXPOOL ? IR_OP_MAXPOOLGRAD : IR_OP_AVGPOOLGRAD;
    return accum(ad, x, pass_ad_finish(ad, begin_like(ad, op, n, 2, in, 1)));
}

/* dX = dY / (spatial size), expanded over the spatial axes. */
static int rule_gap(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    bool axes[IR_MAX_RANK] = {false};
    for (int i = 2; i < shape_of(ad, x)->rank; i++)
        axes[i] = true;
    int r = pass_ad_div_count(ad, dy[0], x, axes);
    return accum(ad, x, pass_ad_op2(ad, IR_OP_EXPAND, r, pass_ad_shape_of(ad, x)));
}

/* Training-mode BatchNormalization (the pass rewrote every BatchNormalization to it). */
static int rule_batchnorm(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], scale = n->in[1], bias = n->in[2];
    if (dy[0] < 0 || !(pass_ad_wants(ad, x) || pass_ad_wants(ad, scale) || pass_ad_wants(ad, bias)))
        return 0;
    if (ir_attr_int(n, "training_mode") != 1)
        return pass_ad_fail(ad, "only the training form (training_mode=1) of BatchNormalization is differentiated");
    int in[3] = {dy[0], x, scale};
    IrNode *gn = pass_ad_begin(ad, IR_OP_BNGRAD, 3, in, 3);
    ir_node_set_float(ad->g, gn, "epsilon", ir_attr_float(n, "epsilon"));
    if (pass_ad_finish(ad, gn) < 0)
        return -1;
    pass_ad_accum(ad, x, gn->out[0]);
    pass_ad_accum(ad, scale, gn->out[1]);
    pass_ad_accum(ad, bias, gn->out[2]);
    return 0;
}

static int rule_layernorm(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], scale = n->in[1], bias = n->nin > 2 ? n->in[2] : -1;
    if ((n->nout > 1 && dy[1] >= 0) || (n->nout > 2 && dy[2] >= 0))
        return pass_ad_fail(ad, "the loss depends on the Mean/InvStdDev outputs; their gradient is not supported");
    if (dy[0] < 0 || !(pass_ad_wants(ad, x) || pass_ad_wants(ad, scale) || pass_ad_wants(ad, bias)))
        return 0;
    int in[4] = {dy[0], x, scale, bias};
    IrNode *gn = pass_ad_begin(ad, IR_OP_LNGRAD, bias >= 0 ? 4 : 3, in, bias >= 0 ? 3 : 2);
    ir_node_set_int(ad->g, gn, "axis", ir_attr_int(n, "axis"));
    ir_node_set_float(ad->g, gn, "epsilon", ir_attr_float(n, "epsilon"));
    if (pass_ad_finish(ad, gn) < 0)
        return -1;
    pass_ad_accum(ad, x, gn->out[0]);
    pass_ad_accum(ad, scale, gn->out[1]);
    if (bias >= 0)
        pass_ad_accum(ad, bias, gn->out[2]);
    return 0;
}

static int rule_softmax(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int in[2] = {dy[0], n->out[0]};
    IrNode *gn = pass_ad_begin(ad, n->op == IR_OP_SOFTMAX ? IR_OP_SOFTMAXGRAD : IR_OP_LOGSOFTMAXGRAD, 2, in, 1);
    ir_node_set_int(ad->g, gn, "axis", ir_attr_int(n, "axis"));
    return accum(ad, x, pass_ad_finish(ad, gn));
}

/* Inference-form Dropout (the pass rewrites Dropout before the sweep): the identity. */
static int rule_identity(Ad *ad, const IrNode *n, const int *dy)
{
    return pass_ad_wants(ad, n->in[0]) ? accum(ad, n->in[0], dy[0]) : 0;
}

/* ---- element-wise unary ---------------------------------------------------------------------- */

/* g * f'(x) for the simple cases (y = f(x) is the node's output). */
static int rule_unary(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], y = n->out[0], g = dy[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    IrDtype t = dtype_of(ad, x);
    int r = -1;
    switch (n->op) {
    case IR_OP_RELU:
        r = pass_ad_op2(ad, IR_OP_RELUGRAD, g, x);
        break;
    case IR_OP_LEAKYRELU: {
        int pos = pass_ad_op2(ad, IR_OP_GREATER, x, zero_like(ad, x));
        int neg = pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_scalar(ad, t, ir_attr_float(n, "alpha")));
        r = pass_ad_op3(ad, IR_OP_WHERE, pos, g, neg);
        break;
    }
    case IR_OP_SIGMOID:   /* g * y * (1 - y) */
        r = pass_ad_op2(ad, IR_OP_SUB, pass_ad_scalar(ad, t, 1), y);
        r = pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_op2(ad, IR_OP_MUL, y, r));
        break;
    case IR_OP_TANH:      /* g * (1 - y^2) */
        r = pass_ad_op2(ad, IR_OP_SUB, pass_ad_scalar(ad, t, 1), pass_ad_op2(ad, IR_OP_MUL, y, y));
        r = pass_ad_op2(ad, IR_OP_MUL, g, r);
        break;
    case IR_OP_GELU: {
        int in[2] = {g, x};
        IrNode *gn = pass_ad_begin(ad, IR_OP_GELUGRAD, 2, in, 1);
        ir_node_set_string(ad->g, gn, "approximate", ir_attr_str(n, "approximate"));
        r = pass_ad_finish(ad, gn);
        break;
    }
    case IR_OP_ERF: {     /* g * 2/sqrt(pi) * exp(-x^2) */
        int e = pass_ad_op1(ad, IR_OP_EXP, pass_ad_op1(ad, IR_OP_NEG, pass_ad_op2(ad, IR_OP_MUL, x, x)));
        e = pass_ad_op2(ad, IR_OP_MUL, e, pass_ad_scalar(ad, t, 2 / sqrt(3.14159265358979323846)));
        r = pass_ad_op2(ad, IR_OP_MUL, g, e);
        break;
    }
    case IR_OP_EXP:
        r = pass_ad_op2(ad, IR_OP_MUL, g, y);
        break;
    case IR_OP_LOG:
        r = pass_ad_op2(ad, IR_OP_DIV, g, x);
        break;
    case IR_OP_SQRT:      /* g / (2 y) */
        r = pass_ad_op2(ad, IR_OP_DIV, pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_scalar(ad, t, 0.5)), y);
        break;
    case IR_OP_NEG:
        r = pass_ad_op1(ad, IR_OP_NEG, g);
        break;
    case IR_OP_ABS: {     /* g * sign(x), sign(0) = 0 */
        int z = zero_like(ad, x);
        int pos = pass_ad_op3(ad, IR_OP_WHERE, pass_ad_op2(ad, IR_OP_GREATER, x, z), g, z);
        r = pass_ad_op3(ad, IR_OP_WHERE, pass_ad_op2(ad, IR_OP_LESS, x, z), pass_ad_op1(ad, IR_OP_NEG, g), pos);
        break;
    }
    default:
        IR_ASSERT(!"rule_unary: op not handled");
    }
    return accum(ad, x, r);
}

/* Clip: g where lo <= x <= hi, else 0 (no gradient for the bounds). */
static int rule_clip(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], lo = n->nin > 1 ? n->in[1] : -1, hi = n->nin > 2 ? n->in[2] : -1, r = dy[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int z = zero_like(ad, x);
    if (hi >= 0)
        r = pass_ad_op3(ad, IR_OP_WHERE, pass_ad_op2(ad, IR_OP_GREATER, x, hi), z, r);
    if (lo >= 0)
        r = pass_ad_op3(ad, IR_OP_WHERE, pass_ad_op2(ad, IR_OP_LESS, x, lo), z, r);
    return accum(ad, x, r);
}

static int rule_cast(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    if (dtype_of(ad, x) == dtype_of(ad, dy[0]))
        return accum(ad, x, dy[0]);
    IrNode *c = pass_ad_begin(ad, IR_OP_CAST, 1, &dy[0], 1);
    ir_node_set_string(ad->g, c, "to", srt_dtype_name(dtype_of(ad, x)));
    return accum(ad, x, pass_ad_finish(ad, c));
}

/* ---- element-wise binary (broadcasting: gradients summed back to each operand's shape) --------- */

static int rule_binary(Ad *ad, const IrNode *n, const int *dy)
{
    int a = n->in[0], b = n->in[1], y = n->out[0], g = dy[0];
    bool wa = pass_ad_wants(ad, a), wb = pass_ad_wants(ad, b);
    int ga = -2, gb = -2;   /* -2: not wanted */
    switch (n->op) {
    case IR_OP_ADD:
        ga = wa ? g : -2;
        gb = wb ? g : -2;
        break;
    case IR_OP_SUB:
        ga = wa ? g : -2;
        gb = wb ? pass_ad_op1(ad, IR_OP_NEG, g) : -2;
        break;
    case IR_OP_MUL:
        ga = wa ? pass_ad_op2(ad, IR_OP_MUL, g, b) : -2;
        gb = wb ? pass_ad_op2(ad, IR_OP_MUL, g, a) : -2;
        break;
    case IR_OP_DIV:       /* d/db (a/b) = -y/b */
        ga = wa ? pass_ad_op2(ad, IR_OP_DIV, g, b) : -2;
        gb = wb ? pass_ad_op1(ad, IR_OP_NEG, pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_op2(ad, IR_OP_DIV, y, b))) : -2;
        break;
    case IR_OP_POW: {     /* d/da = b a^(b-1); d/db = y log(a) */
        IrDtype t = dtype_of(ad, a);
        if (wa) {
            int bf = b;
            if (dtype_of(ad, b) != t) {
                IrNode *c = pass_ad_begin(ad, IR_OP_CAST, 1, &b, 1);
                ir_node_set_string(ad->g, c, "to", srt_dtype_name(t));
                bf = pass_ad_finish(ad, c);
            }
            int p = pass_ad_op2(ad, IR_OP_POW, a, pass_ad_op2(ad, IR_OP_SUB, bf, pass_ad_scalar(ad, t, 1)));
            ga = pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_op2(ad, IR_OP_MUL, bf, p));
        }
        if (wb) {
            gb = pass_ad_op2(ad, IR_OP_MUL, g, pass_ad_op2(ad, IR_OP_MUL, y, pass_ad_op1(ad, IR_OP_LOG, a)));
            if (gb >= 0 && dtype_of(ad, b) != t) {   /* a float exponent of another dtype */
                IrNode *c = pass_ad_begin(ad, IR_OP_CAST, 1, &gb, 1);
                ir_node_set_string(ad->g, c, "to", srt_dtype_name(dtype_of(ad, b)));
                gb = pass_ad_finish(ad, c);
            }
        }
        break;
    }
    default:
        IR_ASSERT(!"rule_binary: op not handled");
    }
    if (ga != -2 && accum_reduced(ad, a, ga))
        return -1;
    if (gb != -2 && accum_reduced(ad, b, gb))
        return -1;
    return 0;
}

/* Max/Min: g flows to every input equal to the result (ties each get all of it). */
static int rule_maxmin(Ad *ad, const IrNode *n, const int *dy)
{
    int y = n->out[0];
    for (int k = 0; k < n->nin; k++) {
        int x = n->in[k];
        if (!pass_ad_wants(ad, x))
            continue;
        int m = pass_ad_op2(ad, IR_OP_EQUAL, x, y);
        if (accum_reduced(ad, x, pass_ad_op3(ad, IR_OP_WHERE, m, dy[0], zero_like(ad, x))))
            return -1;
    }
    return 0;
}

static int rule_where(Ad *ad, const IrNode *n, const int *dy)
{
    int c = n->in[0], a = n->in[1], b = n->in[2];
    if (pass_ad_wants(ad, a) && accum_reduced(ad, a, pass_ad_op3(ad, IR_OP_WHERE, c, dy[0], zero_like(ad, a))))
        return -1;
    if (pass_ad_wants(ad, b) && accum_reduced(ad, b, pass_ad_op3(ad, IR_OP_WHERE, c, zero_like(ad, b), dy[0])))
        return -1;
    return 0;
}

/* ---- reductions -------------------------------------------------------------------------------- */

/* ReduceSum/Mean/Max: the gradient spread back over the reduced axes (ReduceMean divides by the
 * count; ReduceMax sends it to the elements equal to the maximum). */
static int rule_reduce(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], y = n->out[0], g = dy[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int r = shape_of(ad, x)->rank;
    const int64_t *axes = NULL;
    int64_t *cax = NULL;
    int naxes = ir_attr_ints(n, "axes", &axes);
    if (n->nin > 1 && n->in[1] >= 0) {
        naxes = ir_value_const_ints(ad->g, n->in[1], &cax);
        if (naxes < 0)
            return pass_ad_fail(ad, "inputs[1] (axes) is not a constant");
        axes = cax;
    }
    if (naxes <= 0 && ir_attr_int(n, "noop_with_empty_axes"))
        return accum(ad, x, g);
    bool red[IR_MAX_RANK] = {false};
    for (int k = 0; k < naxes; k++) {
        int a;
        if (ir_norm_axis(axes[k], r, &a))
            red[a] = true;
    }
    int64_t list[IR_MAX_RANK];
    int nl = 0;
    for (int i = 0; i < r; i++)
        if (red[i] || naxes <= 0) {
            red[i] = true;
            list[nl++] = i;
        }
    bool keep = ir_attr_int(n, "keepdims") != 0;
    int gk = keep || nl == 0 ? g : unsqueeze(ad, g, nl, list);
    int res;
    if (n->op == IR_OP_REDUCEMAX) {
        int yk = keep || nl == 0 ? y : unsqueeze(ad, y, nl, list);
        res = pass_ad_op3(ad, IR_OP_WHERE, pass_ad_op2(ad, IR_OP_EQUAL, x, yk), gk, zero_like(ad, x));
        if (res >= 0 && !ir_shape_eq(shape_of(ad, res), shape_of(ad, x)))
            res = pass_ad_op2(ad, IR_OP_EXPAND, res, pass_ad_shape_of(ad, x));
    } else {
        if (n->op == IR_OP_REDUCEMEAN)
            gk = pass_ad_div_count(ad, gk, x, red);
        res = pass_ad_op2(ad, IR_OP_EXPAND, gk, pass_ad_shape_of(ad, x));
    }
    return accum(ad, x, res);
}

/* ---- data movement --------------------------------------------------------------------------------- */

/* Reshape, Flatten, Squeeze, Unsqueeze: the gradient reshaped back. */
static int rule_reshape(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int in[2] = {dy[0], pass_ad_shape_of(ad, x)};
    if (in[1] < 0)
        return -1;
    IrNode *r = pass_ad_begin(ad, IR_OP_RESHAPE, 2, in, 1);
    ir_node_set_int(ad->g, r, "allowzero", 1);
    return accum(ad, x, pass_ad_finish(ad, r));
}

static int rule_transpose(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int r = shape_of(ad, x)->rank;
    const int64_t *p;
    int64_t inv[IR_MAX_RANK];
    bool given = ir_attr_ints(n, "perm", &p) == r;
    for (int i = 0; i < r; i++)
        inv[given ? p[i] : r - 1 - i] = i;
    IrNode *t = pass_ad_begin(ad, IR_OP_TRANSPOSE, 1, &dy[0], 1);
    ir_node_set_ints(ad->g, t, "perm", r, inv);
    return accum(ad, x, pass_ad_finish(ad, t));
}

/* Concat: Split the gradient into the inputs' sizes along the axis. */
static int rule_concat(Ad *ad, const IrNode *n, const int *dy)
{
    int k = n->nin, axis;
    bool any = false;
    for (int i = 0; i < k; i++)
        any |= pass_ad_wants(ad, n->in[i]);
    if (!any)
        return 0;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), shape_of(ad, dy[0])->rank, &axis))
        return pass_ad_fail(ad, "axis out of range");
    int64_t *sizes = srt_malloc((size_t)k * sizeof(int64_t));
    int *parts = srt_malloc((size_t)k * sizeof(int));
    IR_ASSERT(sizes && parts);
    bool all_const = true;
    for (int i = 0; i < k; i++) {
        IrDim d = shape_of(ad, n->in[i])->d[axis];
        all_const &= ir_dim_is_const(d);
        sizes[i] = d.b;
    }
    int split;
    if (all_const) {
        split = pass_ad_ints(ad, k, sizes);
    } else {
        for (int i = 0; i < k; i++)
            parts[i] = pass_ad_dim_of(ad, n->in[i], axis);
        IrNode *c = pass_ad_begin(ad, IR_OP_CONCAT, k, parts, 1);
        ir_node_set_int(ad->g, c, "axis", 0);
        split = pass_ad_finish(ad, c);
    }
    free(sizes);
    int rc = -1;
    if (split >= 0) {
        int in[2] = {dy[0], split};
        IrNode *s = pass_ad_begin(ad, IR_OP_SPLIT, 2, in, k);
        ir_node_set_int(ad->g, s, "axis", axis);
        if (pass_ad_finish(ad, s) >= 0) {
            rc = 0;
            for (int i = 0; i < k; i++)
                pass_ad_accum(ad, n->in[i], s->out[i]);
        }
    }
    free(parts);
    return rc;
}

/* Split: Concat of the outputs' gradients, zeros for outputs the loss does not use. */
static int rule_split(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0], axis;
    if (!pass_ad_wants(ad, x))
        return 0;
    if (!ir_norm_axis(ir_attr_int(n, "axis"), shape_of(ad, x)->rank, &axis))
        return pass_ad_fail(ad, "axis out of range");
    int *parts = srt_malloc((size_t)n->nout * sizeof(int));
    IR_ASSERT(parts);
    int np = 0, rc = 0;
    for (int k = 0; k < n->nout && rc == 0; k++) {
        if (n->out[k] < 0)
            continue;   /* an unused output: zero-size slices are not produced at all */
        int p = dy[k];
        if (p < 0) {
            int sh = pass_ad_shape_of(ad, n->out[k]);
            IrNode *z = pass_ad_begin(ad, IR_OP_CONSTOFSHAPE, 1, &sh, 1);
            double zero = 0;
            char buf[8];
            IrTensor zt = {.dtype = dtype_of(ad, x), .numel = 1, .data = buf};
            ir_tensor_setf(&zt, 0, zero);
            IrAttr a = {.name = "value", .kind = IR_ATTR_TENSOR, .n = 1, .tdtype = dtype_of(ad, x),
                        .tshape = {.rank = 1, .d = {{0, 1}}}, .tdata = buf};
            ir_node_set_attrs(ad->g, z, 1, &a);
            p = sh < 0 ? -1 : pass_ad_finish(ad, z);
        }
        if (p < 0)
            rc = -1;
        parts[np++] = p;
    }
    if (rc == 0) {
        if (np != n->nout) {
            free(parts);
            return pass_ad_fail(ad, "Split with unused (absent) outputs is not differentiated");
        }
        IrNode *c = pass_ad_begin(ad, IR_OP_CONCAT, np, parts, 1);
        ir_node_set_int(ad->g, c, "axis", axis);
        rc = accum(ad, x, pass_ad_finish(ad, c));
    }
    free(parts);
    return rc;
}

static int rule_slice(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int in[6] = {dy[0], pass_ad_shape_of(ad, x), -1, -1, -1, -1};
    for (int i = 1; i < n->nin; i++)
        in[i + 1] = n->in[i];
    if (in[1] < 0)
        return -1;
    return accum(ad, x, pass_ad_finish(ad, pass_ad_begin(ad, IR_OP_SLICEGRAD, n->nin + 1, in, 1)));
}

static int rule_gather(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    int in[3] = {dy[0], n->in[1], pass_ad_shape_of(ad, x)};
    if (in[2] < 0)
        return -1;
    IrNode *gn = pass_ad_begin(ad, IR_OP_GATHERGRAD, 3, in, 1);
    ir_node_set_int(ad->g, gn, "axis", ir_attr_int(n, "axis"));
    return accum(ad, x, pass_ad_finish(ad, gn));
}

/* Constant-mode Pad: dX is dY with the pads negated (a crop where X was padded, zeros where
 * the pad cut X). The other modes read X's elements more than once (a scatter-add). */
static int rule_pad(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (n->nin > 2 && pass_ad_wants(ad, n->in[2]))
        return pass_ad_fail(ad, "the gradient with respect to Pad's constant_value is not supported");
    if (!pass_ad_wants(ad, x))
        return 0;
    if (strcmp(ir_attr_str(n, "mode"), "constant"))
        return pass_ad_fail(ad, "only constant-mode Pad is differentiated (mode \"%s\")", ir_attr_str(n, "mode"));
    IrDim *pads;
    int count = ir_value_known_ints(ad->g, n->in[1], &pads);
    int64_t neg[2 * IR_MAX_RANK];
    if (count < 0 || count > 2 * IR_MAX_RANK)
        return pass_ad_fail(ad, "Pad's pads are not a constant");
    for (int i = 0; i < count; i++)
        neg[i] = -pads[i].b;
    int in[4] = {dy[0], pass_ad_ints(ad, count, neg), -1, n->nin > 3 ? n->in[3] : -1};
    return accum(ad, x, pass_ad_finish(ad, pass_ad_begin(ad, IR_OP_PAD, 4, in, 1)));
}

static int rule_expand(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    return pass_ad_wants(ad, x) ? accum_reduced(ad, x, dy[0]) : 0;
}

/* ---- losses (dy NULL: the training loss itself, seed 1) --------------------------------------------- */

/* Scale by the loss output's gradient when the loss is an inner node. */
static int times_dy(Ad *ad, int r, const int *dy)
{
    return dy ? pass_ad_op2(ad, IR_OP_MUL, r, dy[0]) : r;
}

/* SoftmaxCrossEntropyLoss: SCELossGrad (d loss / d logits). Inside the graph, the gradient is
 * scaled by the output's: dy for mean/sum, dy per position (broadcast over the classes) for
 * "none" (SCELossGrad with "sum" leaves the positions unscaled); a used log_prob output adds
 * LogSoftmaxGrad along the class axis. */
static int rule_sce(Ad *ad, const IrNode *n, const int *dy)
{
    int x = n->in[0];
    if (!pass_ad_wants(ad, x))
        return 0;
    if (!dy || dy[0] >= 0) {
        bool none = !strcmp(ir_attr_str(n, "reduction"), "none");
        IrNode *gn = pass_ad_begin(ad, IR_OP_SCELOSSGRAD, n->nin, n->in, 1);
        ir_node_set_attrs(ad->g, gn, n->nattrs, n->attrs);
        if (none)
            ir_node_set_string(ad->g, gn, "reduction", "sum");
        int r = pass_ad_finish(ad, gn);
        if (dy) {
            int64_t ax1 = 1;
            r = pass_ad_op2(ad, IR_OP_MUL, r, none ? unsqueeze(ad, dy[0], 1, &ax1) : dy[0]);
        }
        if (accum(ad, x, r))
            return -1;
    }
    if (dy && n->nout > 1 && dy[1] >= 0) {
        int in[2] = {dy[1], n->out[1]};
        IrNode *gn = pass_ad_begin(ad, IR_OP_LOGSOFTMAXGRAD, 2, in, 1);
        ir_node_set_int(ad->g, gn, "axis", 1);
        if (accum(ad, x, pass_ad_finish(ad, gn)))
            return -1;
    }
    return 0;
}

/* MSELoss: 2 (a - b), divided by the element count for "mean". */
static int rule_mse(Ad *ad, const IrNode *n, const int *dy)
{
    int a = n->in[0], b = n->in[1];
    bool wa = pass_ad_wants(ad, a), wb = pass_ad_wants(ad, b);
    if (!(wa || wb) || (dy && dy[0] < 0))
        return 0;
    IrDtype t = dtype_of(ad, a);
    int r = pass_ad_op2(ad, IR_OP_MUL, pass_ad_op2(ad, IR_OP_SUB, a, b), pass_ad_scalar(ad, t, 2));
    if (!strcmp(ir_attr_str(n, "reduction"), "mean")) {
        bool all[IR_MAX_RANK];
        for (int i = 0; i < IR_MAX_RANK; i++)
            all[i] = true;
        r = pass_ad_div_count(ad, r, a, all);
    }
    r = times_dy(ad, r, dy);
    if (wa && accum(ad, a, r))
        return -1;
    if (wb && accum(ad, b, pass_ad_op1(ad, IR_OP_NEG, r)))
        return -1;
    return 0;
}

/* ---- the table ------------------------------------------------------------------------------------------ */

/* ORDER: indexed by IrOp; an op has a rule exactly when ops.def flags it DIFF (tests check it). */
static const AdRule rules[IR_OP_COUNT] = {
    [IR_OP_GEMM] = rule_gemm,
    [IR_OP_MATMUL] = rule_matmul,
    [IR_OP_CONV] = rule_conv,
    [IR_OP_CONVT] = rule_convt,
    [IR_OP_MAXPOOL] = rule_pool,
    [IR_OP_AVGPOOL] = rule_pool,
    [IR_OP_GAP] = rule_gap,
    [IR_OP_BATCHNORM] = rule_batchnorm,
    [IR_OP_LAYERNORM] = rule_layernorm,
    [IR_OP_SOFTMAX] = rule_softmax,
    [IR_OP_LOGSOFTMAX] = rule_softmax,
    [IR_OP_DROPOUT] = rule_identity,
    [IR_OP_RELU] = rule_unary,
    [IR_OP_LEAKYRELU] = rule_unary,
    [IR_OP_SIGMOID] = rule_unary,
    [IR_OP_TANH] = rule_unary,
    [IR_OP_GELU] = rule_unary,
    [IR_OP_ERF] = rule_unary,
    [IR_OP_EXP] = rule_unary,
    [IR_OP_LOG] = rule_unary,
    [IR_OP_SQRT] = rule_unary,
    [IR_OP_NEG] = rule_unary,
    [IR_OP_ABS] = rule_unary,
    [IR_OP_CLIP] = rule_clip,
    [IR_OP_CAST] = rule_cast,
    [IR_OP_IDENTITY] = rule_identity,
    [IR_OP_ADD] = rule_binary,
    [IR_OP_SUB] = rule_binary,
    [IR_OP_MUL] = rule_binary,
    [IR_OP_DIV] = rule_binary,
    [IR_OP_POW] = rule_binary,
    [IR_OP_MAX] = rule_maxmin,
    [IR_OP_MIN] = rule_maxmin,
    [IR_OP_WHERE] = rule_where,
    [IR_OP_REDUCEMEAN] = rule_reduce,
    [IR_OP_REDUCESUM] = rule_reduce,
    [IR_OP_REDUCEMAX] = rule_reduce,
    [IR_OP_RESHAPE] = rule_reshape,
    [IR_OP_FLATTEN] = rule_reshape,
    [IR_OP_TRANSPOSE] = rule_transpose,
    [IR_OP_SQUEEZE] = rule_reshape,
    [IR_OP_UNSQUEEZE] = rule_reshape,
    [IR_OP_CONCAT] = rule_concat,
    [IR_OP_SPLIT] = rule_split,
    [IR_OP_SLICE] = rule_slice,
    [IR_OP_GATHER] = rule_gather,
    [IR_OP_EXPAND] = rule_expand,
    [IR_OP_PAD] = rule_pad,
    [IR_OP_SCELOSS] = rule_sce,
    [IR_OP_MSELOSS] = rule_mse,
};

AdRule pass_ad_rule(IrOp op)
{
    IR_ASSERT((unsigned)op < IR_OP_COUNT);
    return rules[op];
}
