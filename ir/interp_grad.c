/* Reference kernels of the training graph's internal ops: gradients, dropout masks and optimizer updates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* Plain loops in double, like the forward kernels; accumulations go through double buffers
 * so float32 gradients are rounded once. None of this code is shared with codegen. */

/* ---- helpers ------------------------------------------------------------------------ */

static int oom(const IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "out of memory in the reference kernel");
    return -1;
}

/* A zeroed double buffer of count entries (at least one). */
static double *zeros(int64_t count)
{
    return srt_calloc((size_t)(count > 0 ? count : 1), sizeof(double));
}

static void store(IrTensor *t, const double *acc)
{
    for (int64_t i = 0; i < t->numel; i++)
        ir_tensor_setf(t, i, acc[i]);
}

/* ---- element-wise activation gradients ------------------------------------------------ */

int ref_ReluGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    for (int64_t i = 0; i < out[0]->numel; i++)
        ir_tensor_setf(out[0], i, ir_tensor_getf(in[1], i) > 0 ? ir_tensor_getf(in[0], i) : 0.0);
    return 0;
}

int ref_GeluGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const double pi = 3.14159265358979323846;
    bool tanh_form = !strcmp(ir_attr_str(n, "approximate"), "tanh");
    for (int64_t i = 0; i < out[0]->numel; i++) {
        double x = ir_tensor_getf(in[1], i), dydx;
        if (tanh_form) {
            double c = sqrt(2.0 / pi), u = c * (x + 0.044715 * x * x * x), t = tanh(u);
            dydx = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * c * (1.0 + 3.0 * 0.044715 * x * x);
        } else {
            dydx = 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2.0 * pi);
        }
        ir_tensor_setf(out[0], i, ir_tensor_getf(in[0], i) * dydx);
    }
    return 0;
}

/* ---- convolution and pooling ------------------------------------------------------------ */

/* dw[m, c, t] = sum over batch b and output positions o of
 *   x[b, group(m)*C/group + c, o*stride + t*dilation - pad_begin] * dy[b, m, o]. */
int ref_ConvGradWeight(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *dy = in[1];
    IrTensor *dw = out[0];
    int nsp = x->rank - 2;
    IrWin w;
    if (ir_win_init_pads(n, nsp, dw->dims + 2, x->dims + 2, &w))
        return oom(n, d);
    int64_t group = ir_attr_int(n, "group");
    int64_t batch = x->dims[0], c_ = x->dims[1], m_ = dy->dims[1], cg = c_ / group, mg = m_ / group;
    int64_t isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(dy->dims, 2, dy->rank), kt = w.ktotal;
    int64_t *offs = srt_malloc((size_t)(osz * kt + 1) * sizeof(int64_t));
    double *acc = zeros(dw->numel);
    if (!offs || !acc) {
        free(offs);
        free(acc);
        free(w.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, dy->dims + 2, oidx);
        ir_win_offsets(&w, x->dims + 2, oidx, offs + o * kt);
    }
    for (int64_t m = 0; m < m_; m++) {
        int64_t first_c = (m / mg) * cg;
        for (int64_t b = 0; b < batch; b++) {
            for (int64_t o = 0; o < osz; o++) {
                double gy = ir_tensor_getf(dy, (b * m_ + m) * osz + o);
                if (gy == 0)
                    continue;
                for (int64_t c = 0; c < cg; c++) {
                    int64_t xbase = (b * c_ + first_c + c) * isz;
                    double *row = acc + (m * cg + c) * kt;
                    for (int64_t t = 0; t < kt; t++) {
                        int64_t off = offs[o * kt + t];
                        if (off >= 0)
                            row[t] += ir_tensor_getf(x, xbase + off) * gy;
                    }
                }
            }
        }
    }
    store(dw, acc);
    free(offs);
    free(acc);
    free(w.taps);
    return 0;
}

/* dx: each window's dy goes to the element MaxPool picked (the first maximum in tap order, a
 * NaN winning over numbers), summed where windows overlap. */
int ref_MaxPoolGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *x = in[1];
    IrTensor *dx = out[0];
    int nsp = x->rank - 2;
    IrWin w;
    if (ir_win_init_pads(n, nsp, NULL, x->dims + 2, &w))
        return oom(n, d);
    int64_t planes = x->dims[0] * x->dims[1], isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(dy->dims, 2, dy->rank);
    int64_t *offs = srt_malloc((size_t)(w.ktotal + 1) * sizeof(int64_t));
    double *acc = zeros(dx->numel);
    if (!offs || !acc) {
        free(offs);
        free(acc);
        free(w.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, dy->dims + 2, oidx);
        ir_win_offsets(&w, x->dims + 2, oidx, offs);
        for (int64_t p = 0; p < planes; p++) {
            double best = 0;
            int64_t arg = -1;
            for (int64_t t = 0; t < w.ktotal; t++) {
                if (offs[t] < 0)
                    continue;
                double v = ir_tensor_getf(x, p * isz + offs[t]);
                if (arg < 0 || v > best || (isnan(v) && !isnan(best))) {
                    best = v;
                    arg = offs[t];
                }
            }
            if (arg >= 0)
                acc[p * isz + arg] += ir_tensor_getf(dy, p * osz + o);
        }
    }
    store(dx, acc);
    free(offs);
    free(acc);
    free(w.taps);
    return 0;
}

/* dx: each window's dy / divisor spread over the window's elements inside the input; the
 * divisor is AveragePool's (count_include_pad counts the explicit padding, never the ceil_mode
 * overhang). */
int ref_AveragePoolGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *x = in[1];
    IrTensor *dx = out[0];
    int nsp = x->rank - 2;
    IrWin w;
    if (ir_win_init_pads(n, nsp, NULL, x->dims + 2, &w))
        return oom(n, d);
    bool include_pad = ir_attr_int(n, "count_include_pad") == 1;
    int64_t planes = x->dims[0] * x->dims[1], isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(dy->dims, 2, dy->rank);
    int64_t *offs = srt_malloc((size_t)(w.ktotal + 1) * sizeof(int64_t));
    double *acc = zeros(dx->numel);
    if (!offs || !acc) {
        free(offs);
        free(acc);
        free(w.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, dy->dims + 2, oidx);
        ir_win_offsets(&w, x->dims + 2, oidx, offs);
        int64_t count = 0;
        for (int64_t t = 0; t < w.ktotal; t++) {
            bool inside = include_pad ? true : offs[t] >= 0;
            for (int i = 0; include_pad && i < nsp; i++) {
                int64_t pos = oidx[i] * w.s[i] + w.taps[t * nsp + i] - w.pb[i];
                inside = inside && pos >= -w.pb[i] && pos < x->dims[2 + i] + w.pe[i];
            }
            count += inside;
        }
        if (!count)
            continue;
        for (int64_t p = 0; p < planes; p++) {
            double share = ir_tensor_getf(dy, p * osz + o) / (double)count;
            for (int64_t t = 0; t < w.ktotal; t++)
                if (offs[t] >= 0)
                    acc[p * isz + offs[t]] += share;
        }
    }
    store(dx, acc);
    free(offs);
    free(acc);
    free(w.taps);
    return 0;
}

/* ---- normalization ---------------------------------------------------------------------- */

/* Training-mode BatchNormalization (batch mean, population variance over N and the spatial
 * axes), per channel with xhat = (x - mean) / sqrt(var + eps) and M elements:
 *   dbias = sum dy, dscale = sum dy*xhat, dx = scale/sqrt(var+eps)/M * (M*dy - dbias - xhat*dscale). */
int ref_BatchNormGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *x = in[1], *scale = in[2];
    IrTensor *dx = out[0], *dscale = out[1], *dbias = out[2];
    double eps = ir_attr_float(n, "epsilon");
    int64_t batch = x->dims[0], c_ = x->dims[1], sp = ir_dims_prod(x->dims, 2, x->rank);
    double m = (double)(batch * sp);
    for (int64_t c = 0; c < c_; c++) {
        double sum = 0, sq = 0, gsum = 0, gx = 0;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t s = 0; s < sp; s++)
                sum += ir_tensor_getf(x, (b * c_ + c) * sp + s);
        double mean = sum / m;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t s = 0; s < sp; s++) {
                double v = ir_tensor_getf(x, (b * c_ + c) * sp + s) - mean;
                sq += v * v;
            }
        double inv = 1 / sqrt(sq / m + eps);
        for (int64_t b = 0; b < batch; b++)
            for (int64_t s = 0; s < sp; s++) {
                int64_t e = (b * c_ + c) * sp + s;
                double gy = ir_tensor_getf(dy, e);
                gsum += gy;
                gx += gy * (ir_tensor_getf(x, e) - mean) * inv;
            }
        double k = ir_tensor_getf(scale, c) * inv / m;
        for (int64_t b = 0; b < batch; b++)
            for (int64_t s = 0; s < sp; s++) {
                int64_t e = (b * c_ + c) * sp + s;
                double xhat = (ir_tensor_getf(x, e) - mean) * inv;
                ir_tensor_setf(dx, e, k * (m * ir_tensor_getf(dy, e) - gsum - xhat * gx));
            }
        if (dscale)
            ir_tensor_setf(dscale, c, gx);
        if (dbias)
            ir_tensor_setf(dbias, c, gsum);
    }
    return 0;
}

/* Per row of the normalized axes (L elements), with xhat = (x - mean) * inv and
 * gh = dy * scale: dx = inv * (gh - mean(gh) - xhat * mean(gh * xhat));
 * dscale += dy * xhat and dbias += dy at each element's broadcast position. */
int ref_LayerNormGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *x = in[1], *scale = in[2];
    IrTensor *dx = out[0], *dscale = out[1], *dbias = n->nout > 2 ? out[2] : NULL;
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), x->rank, &ax);
    double eps = ir_attr_float(n, "epsilon");
    int64_t outer = ir_dims_prod(x->dims, 0, ax), len = ir_dims_prod(x->dims, ax, x->rank);
    double *xhat = zeros(len), *gh = zeros(len);
    double *as = zeros(dscale ? dscale->numel : 1), *ab = zeros(dbias ? dbias->numel : 1);
    if (!xhat || !gh || !as || !ab) {
        free(xhat);
        free(gh);
        free(as);
        free(ab);
        return oom(n, d);
    }
    int64_t idx[IR_MAX_RANK];
    for (int64_t r = 0; r < outer; r++) {
        double sum = 0, sq = 0;
        for (int64_t j = 0; j < len; j++)
            sum += ir_tensor_getf(x, r * len + j);
        double mean = sum / (double)len;
        for (int64_t j = 0; j < len; j++) {
            double v = ir_tensor_getf(x, r * len + j) - mean;
            sq += v * v;
        }
        double inv = 1 / sqrt(sq / (double)len + eps), mg = 0, mgx = 0;
        for (int64_t j = 0; j < len; j++) {
            int64_t e = r * len + j;
            ir_unravel(e, x->rank, x->dims, idx);
            double gy = ir_tensor_getf(dy, e);
            xhat[j] = (ir_tensor_getf(x, e) - mean) * inv;
            gh[j] = gy * ir_tensor_getf(scale, ir_bcast_offset(scale, x->rank, idx));
            mg += gh[j];
            mgx += gh[j] * xhat[j];
            if (dscale)
                as[ir_bcast_offset(dscale, x->rank, idx)] += gy * xhat[j];
            if (dbias)
                ab[ir_bcast_offset(dbias, x->rank, idx)] += gy;
        }
        mg /= (double)len;
        mgx /= (double)len;
        for (int64_t j = 0; j < len; j++)
            ir_tensor_setf(dx, r * len + j, inv * (gh[j] - mg - xhat[j] * mgx));
    }
    if (dscale)
        store(dscale, as);
    if (dbias)
        store(dbias, ab);
    free(xhat);
    free(gh);
    free(as);
    free(ab);
    return 0;
}

/* Softmax: dx = y * (dy - sum(dy * y)); LogSoftmax: dx = dy - exp(y) * sum(dy), along the axis. */
static int softmax_grad(const IrNode *n, const IrTensor *dy, const IrTensor *y, IrTensor *dx, bool log_form)
{
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), y->rank, &ax);
    int64_t outer = ir_dims_prod(y->dims, 0, ax), len = y->dims[ax], inner = ir_dims_prod(y->dims, ax + 1, y->rank);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double s = 0;
            for (int64_t j = 0; j < len; j++) {
                int64_t e = base + j * inner;
                s += log_form ? ir_tensor_getf(dy, e) : ir_tensor_getf(dy, e) * ir_tensor_getf(y, e);
            }
            for (int64_t j = 0; j < len; j++) {
                int64_t e = base + j * inner;
                double yv = ir_tensor_getf(y, e), gy = ir_tensor_getf(dy, e);
                ir_tensor_setf(dx, e, log_form ? gy - exp(yv) * s : yv * (gy - s));
            }
        }
    return 0;
}

int ref_SoftmaxGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return softmax_grad(n, in[0], in[1], out[0], false);
}

int ref_LogSoftmaxGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return softmax_grad(n, in[0], in[1], out[0], true);
}

/* ---- losses --------------------------------------------------------------------------------- */

/* d(loss)/d(logits) of SoftmaxCrossEntropyLoss: w[label] * (softmax(x) - onehot(label)) at each
 * non-ignored position, 0 at ignored ones, divided by the sum of those weights for "mean". */
int ref_SCELossGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *lab = in[1], *w = n->nin > 2 ? in[2] : NULL;
    IrTensor *dx = out[0];
    const IrAttr *ig = ir_attr_get(n, "ignore_index");
    bool mean = !strcmp(ir_attr_str(n, "reduction"), "mean");
    int64_t batch = x->dims[0], c_ = x->dims[1], sp = ir_dims_prod(x->dims, 2, x->rank);
    double wsum = 0;
    for (int64_t i = 0; i < batch * sp; i++) {
        int64_t label = ir_tensor_geti(lab, i);
        if (ig && ig->kind == IR_ATTR_INT && label == ig->i)
            continue;
        if (label < 0 || label >= c_) {
            ir_node_error(d, n, "inputs[1] (labels) holds %lld at flat index %lld; labels must be in [0, %lld)%s",
                          (long long)label, (long long)i, (long long)c_, ig ? " or equal ignore_index" : "");
            return -1;
        }
        wsum += w ? ir_tensor_getf(w, label) : 1;
    }
    double scale = mean ? 1 / wsum : 1;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t s = 0; s < sp; s++) {
            int64_t label = ir_tensor_geti(lab, b * sp + s);
            bool ignored = ig && ig->kind == IR_ATTR_INT && label == ig->i;
            double mx = -INFINITY, sum = 0;
            for (int64_t c = 0; c < c_; c++) {
                double v = ir_tensor_getf(x, (b * c_ + c) * sp + s);
                if (v > mx)
                    mx = v;
            }
            for (int64_t c = 0; c < c_; c++)
                sum += exp(ir_tensor_getf(x, (b * c_ + c) * sp + s) - mx);
            double wt = ignored ? 0 : (w ? ir_tensor_getf(w, label) : 1) * scale;
            for (int64_t c = 0; c < c_; c++) {
                int64_t e = (b * c_ + c) * sp + s;
                double p = exp(ir_tensor_getf(x, e) - mx) / sum;
                ir_tensor_setf(dx, e, ignored ? 0.0 : wt * (p - (c == label)));
            }
        }
    return 0;
}

/* ---- data movement --------------------------------------------------------------------------- */

/* dx = zeros(shape); dx[..., indices[j], ...] += dy[..., j, ...] (repeated indices add up). */
int ref_GatherGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *ind = in[1];
    IrTensor *dx = out[0];
    int axis;
    ir_norm_axis(ir_attr_int(n, "axis"), dx->rank, &axis);
    int64_t s = dx->dims[axis];
    int64_t outer = ir_dims_prod(dx->dims, 0, axis), inner = ir_dims_prod(dx->dims, axis + 1, dx->rank);
    double *acc = zeros(dx->numel);
    if (!acc)
        return oom(n, d);
    for (int64_t j = 0; j < ind->numel; j++) {
        int64_t v = ir_tensor_geti(ind, j);
        if (v < -s || v >= s) {
            ir_node_error(d, n, "indices[%lld] is %lld, out of range for axis %d of size %lld", (long long)j,
                          (long long)v, axis, (long long)s);
            free(acc);
            return -1;
        }
        if (v < 0)
            v += s;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t e = 0; e < inner; e++)
                acc[(o * s + v) * inner + e] += ir_tensor_getf(dy, (o * ind->numel + j) * inner + e);
    }
    store(dx, acc);
    free(acc);
    return 0;
}

/* First index and element count of ONNX Slice on one axis of concrete size dim. */
static void slice_geom(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first, int64_t *len)
{
    if (dim == 0) {
        *first = *len = 0;
        return;
    }
    uint64_t k = step > 0 ? (uint64_t)step : (uint64_t)0 - (uint64_t)step;
    int64_t s_lo = 0, s_hi = step > 0 ? dim : dim - 1, e_lo = step > 0 ? 0 : -1, e_hi = step > 0 ? dim : dim - 1;
    if (start < 0)
        start += dim;
    if (end < 0)
        end += dim;
    start = start < s_lo ? s_lo : start > s_hi ? s_hi : start;
    end = end < e_lo ? e_lo : end > e_hi ? e_hi : end;
    int64_t num = step > 0 ? end - start : start - end;
    *first = start;
    *len = num <= 0 ? 0 : (int64_t)(((uint64_t)num - 1) / k + 1);
}

/* dx = zeros(shape) with dy written where Slice(starts, ends, axes, steps) took its elements. */
int ref_SliceGrad(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *dy = in[0], *starts = in[2], *ends = in[3];
    const IrTensor *axes = n->nin > 4 ? in[4] : NULL, *steps = n->nin > 5 ? in[5] : NULL;
    IrTensor *dx = out[0];
    int r = dx->rank;
    int64_t first[IR_MAX_RANK], step[IR_MAX_RANK], len[IR_MAX_RANK], xst[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) {
        first[k] = 0;
        step[k] = 1;
        len[k] = dx->dims[k];
    }
    for (int64_t i = 0; i < starts->numel; i++) {
        int axis;
        int64_t st = steps ? ir_tensor_geti(steps, i) : 1;
        if (!ir_norm_axis(axes ? ir_tensor_geti(axes, i) : i, r, &axis) || st == 0) {
            ir_node_error(d, n, "entry %lld of axes/steps is invalid (axis out of range or step 0)", (long long)i);
            return -1;
        }
        slice_geom(dx->dims[axis], ir_tensor_geti(starts, i), ir_tensor_geti(ends, i), st, &first[axis],
                   &len[axis]);
        step[axis] = st;
    }
    for (int k = 0; k < r; k++)
        if (len[k] != dy->dims[k]) {
            ir_node_error(d, n, "axis %d of the slice has %lld elements at run time but inputs[0] has %lld", k,
                          (long long)len[k], (long long)dy->dims[k]);
            return -1;
        }
    int64_t s = 1;
    for (int k = r - 1; k >= 0; k--) {
        xst[k] = s;
        s *= dx->dims[k];
    }
    for (int64_t i = 0; i < dy->numel; i++) {
        int64_t dst = 0;
        for (int k = 0; k < r; k++)
            dst += (first[k] + idx[k] * step[k]) * xst[k];
        ir_tensor_setf(dx, dst, ir_tensor_getf(dy, i));
        for (int k = r - 1; k >= 0; k--) {
            if (++idx[k] < dy->dims[k])
                break;
            idx[k] = 0;
        }
    }
    return 0;
}

/* ---- dropout ------------------------------------------------------------------------------ */

/* The 64-bit finalizer of docs/training.md ("splitmix64"). */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* mask[i] = u_i >= ratio ? 1/(1-ratio) : 0 with u_i = (mix64(s + i*0x9e3779b97f4a7c15) >> 11) * 2^-53
 * and s = mix64(seed ^ mix64(step)): a function of (seed, step, i) only. */
int ref_DropoutMask(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    double ratio = ir_attr_float(n, "ratio"), keep = 1.0 / (1.0 - ratio);
    uint64_t seed = (uint64_t)ir_attr_int(n, "seed"), step = (uint64_t)ir_tensor_geti(in[1], 0);
    uint64_t s = mix64(seed ^ mix64(step));
    for (int64_t i = 0; i < out[0]->numel; i++) {
        uint64_t r = mix64(s + (uint64_t)i * 0x9e3779b97f4a7c15ull);
        double u = (double)(r >> 11) * 0x1p-53;
        ir_tensor_setf(out[0], i, u >= ratio ? keep : 0.0);
    }
    return 0;
}

/* ---- optimizer updates (torch.optim.SGD / Adam / AdamW, one step) -------------------------- */

/* step is the number of steps taken before this one (0 on the first step).
 *   d = g + weight_decay*p
 *   momentum: buf' = (step == 0) ? d : momentum*buf + (1-dampening)*d
 *             d = nesterov ? d + momentum*buf' : buf'
 *   p' = p - lr*d */
int ref_SgdUpdate(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *p = in[0], *gr = in[1], *buf = n->nin > 4 ? in[4] : NULL;
    double lr = ir_tensor_getf(in[2], 0), mom = ir_attr_float(n, "momentum");
    double damp = ir_attr_float(n, "dampening"), wd = ir_attr_float(n, "weight_decay");
    bool nesterov = ir_attr_int(n, "nesterov") != 0, first = ir_tensor_geti(in[3], 0) == 0;
    for (int64_t i = 0; i < p->numel; i++) {
        double pv = ir_tensor_getf(p, i), dv = ir_tensor_getf(gr, i);
        if (wd != 0)
            dv += wd * pv;
        if (buf) {
            double b = first ? dv : mom * ir_tensor_getf(buf, i) + (1 - damp) * dv;
            ir_tensor_setf(out[1], i, b);
            b = ir_tensor_getf(out[1], i);   /* as stored */
            dv = nesterov ? dv + mom * b : b;
        }
        ir_tensor_setf(out[0], i, pv - lr * dv);
    }
    return 0;
}

/* t = step + 1 (the step being taken).
 *   adam:  g = g + weight_decay*p          adamw: p = p * (1 - lr*weight_decay)
 *   m' = beta1*m + (1-beta1)*g;  v' = beta2*v + (1-beta2)*g*g
 *   p' = p - lr/(1-beta1^t) * m' / (sqrt(v')/sqrt(1-beta2^t) + eps) */
int ref_AdamUpdate(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *p = in[0], *gr = in[1], *m = in[4], *v = in[5];
    double lr = ir_tensor_getf(in[2], 0), t = (double)ir_tensor_geti(in[3], 0) + 1;
    double b1 = ir_attr_float(n, "beta1"), b2 = ir_attr_float(n, "beta2"), eps = ir_attr_float(n, "eps");
    double wd = ir_attr_float(n, "weight_decay");
    bool decoupled = ir_attr_int(n, "decoupled") != 0;
    double step_size = lr / (1 - pow(b1, t)), bc2_sqrt = sqrt(1 - pow(b2, t));
    for (int64_t i = 0; i < p->numel; i++) {
        double pv = ir_tensor_getf(p, i), gv = ir_tensor_getf(gr, i);
        if (decoupled)
            pv *= 1 - lr * wd;
        else if (wd != 0)
            gv += wd * pv;
        ir_tensor_setf(out[1], i, b1 * ir_tensor_getf(m, i) + (1 - b1) * gv);
        ir_tensor_setf(out[2], i, b2 * ir_tensor_getf(v, i) + (1 - b2) * gv * gv);
        double mv = ir_tensor_getf(out[1], i), vv = ir_tensor_getf(out[2], i);   /* as stored */
        ir_tensor_setf(out[0], i, pv - step_size * mv / (sqrt(vv) / bc2_sqrt + eps));
    }
    return 0;
}
