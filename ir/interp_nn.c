/* Reference kernels of the neural-network ops: plain loops over multi-index coordinates, float math in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* ---- helpers --------------------------------------------------------------------------- */

/* Optional input i / output i: NULL when absent (or beyond the node's count). */
static const IrTensor *opt_in(const IrNode *n, IrTensor *const *in, int i)
{
    return i < n->nin ? in[i] : NULL;
}

static IrTensor *opt_out(const IrNode *n, IrTensor *const *out, int i)
{
    return i < n->nout ? out[i] : NULL;
}

static int oom(const IrNode *n, IrDiag *d)
{
    ir_node_error(d, n, "out of memory in the reference kernel");
    return -1;
}

/* An INTS attribute (count values) or def for each entry when absent. */
/* ---- Gemm, MatMul ------------------------------------------------------------------------ */

int ref_Gemm(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *a = in[0], *b = in[1], *c = opt_in(n, in, 2);
    IrTensor *y = out[0];
    bool ta = ir_attr_int(n, "transA") != 0, tb = ir_attr_int(n, "transB") != 0;
    double alpha = ir_attr_float(n, "alpha"), beta = ir_attr_float(n, "beta");
    int64_t m_ = y->dims[0], n_ = y->dims[1], k_ = ta ? a->dims[0] : a->dims[1];
    bool is_float = ir_dtype_is_float(y->dtype);
    for (int64_t i = 0; i < m_; i++) {
        for (int64_t j = 0; j < n_; j++) {
            int64_t ij[2] = {i, j};
            int64_t coff = c ? ir_bcast_offset(c, 2, ij) : 0;
            if (is_float) {
                double acc = 0;
                for (int64_t k = 0; k < k_; k++)
                    acc += ir_tensor_getf(a, ta ? k * m_ + i : i * k_ + k) * ir_tensor_getf(b, tb ? j * k_ + k : k * n_ + j);
                double v = alpha * acc;
                if (c)
                    v += beta * ir_tensor_getf(c, coff);
                ir_tensor_setf(y, i * n_ + j, v);
            } else {
                /* integers wrap like C unsigned arithmetic; alpha and beta are whole numbers */
                uint64_t acc = 0;
                for (int64_t k = 0; k < k_; k++)
                    acc += (uint64_t)ir_tensor_geti(a, ta ? k * m_ + i : i * k_ + k) *
                           (uint64_t)ir_tensor_geti(b, tb ? j * k_ + k : k * n_ + j);
                uint64_t v = (uint64_t)(int64_t)alpha * acc;
                if (c)
                    v += (uint64_t)(int64_t)beta * (uint64_t)ir_tensor_geti(c, coff);
                ir_tensor_seti(y, i * n_ + j, (int64_t)v);
            }
        }
    }
    return 0;
}

/* Offset of the matrix selected by batch index bidx (rank br) in t, whose leading rank-2
 * dims broadcast to it; mat is the element count of one matrix. */
static int64_t batch_offset(const IrTensor *t, int br, const int64_t *bidx, int64_t mat)
{
    int tb = t->rank > 2 ? t->rank - 2 : 0;
    int64_t off = 0;
    for (int k = 0; k < tb; k++) {
        int64_t dim = t->dims[k];
        off = off * dim + (dim == 1 ? 0 : bidx[br - tb + k]);
    }
    return off * mat;
}

int ref_MatMul(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *a = in[0], *b = in[1];
    IrTensor *y = out[0];
    int ra = a->rank, rb = b->rank;
    /* 1-D operands are promoted: A [K] -> [1,K], B [K] -> [K,1]; the unit dim is not in Y */
    int64_t k_ = a->dims[ra - 1];
    int64_t m_ = ra >= 2 ? a->dims[ra - 2] : 1;
    int64_t n_ = rb >= 2 ? b->dims[rb - 1] : 1;
    int br = y->rank - (ra >= 2) - (rb >= 2);
    int64_t nbatch = ir_dims_prod(y->dims, 0, br);
    bool is_float = ir_dtype_is_float(y->dtype);
    int64_t bidx[IR_MAX_RANK];
    for (int64_t bi = 0; bi < nbatch; bi++) {
        ir_unravel(bi, br, y->dims, bidx);
        int64_t ao = batch_offset(a, br, bidx, m_ * k_), bo = batch_offset(b, br, bidx, k_ * n_);
        for (int64_t i = 0; i < m_; i++) {
            for (int64_t j = 0; j < n_; j++) {
                int64_t yo = (bi * m_ + i) * n_ + j;
                if (is_float) {
                    double acc = 0;
                    for (int64_t k = 0; k < k_; k++)
                        acc += ir_tensor_getf(a, ao + i * k_ + k) * ir_tensor_getf(b, bo + k * n_ + j);
                    ir_tensor_setf(y, yo, acc);
                } else {
                    uint64_t acc = 0;
                    for (int64_t k = 0; k < k_; k++)
                        acc += (uint64_t)ir_tensor_geti(a, ao + i * k_ + k) * (uint64_t)ir_tensor_geti(b, bo + k * n_ + j);
                    ir_tensor_seti(y, yo, (int64_t)acc);
                }
            }
        }
    }
    return 0;
}

/* ---- sliding windows ------------------------------------------------------------------------ */

int ref_Conv(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *w = in[1], *b = opt_in(n, in, 2);
    IrTensor *y = out[0];
    int nsp = x->rank - 2;
    IrWin gm;
    if (ir_win_init(n, nsp, w->dims + 2, true, &gm))
        return oom(n, d);
    ir_win_forward_pads(n, x->dims + 2, &gm);
    int64_t group = ir_attr_int(n, "group");
    int64_t batch = x->dims[0], c_ = x->dims[1], m_ = y->dims[1], cg = c_ / group, mg = m_ / group;
    int64_t isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(y->dims, 2, y->rank), ksz = gm.ktotal;
    int64_t *offs = srt_malloc((size_t)(ksz + 1) * sizeof(int64_t));
    if (!offs) {
        free(gm.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, y->dims + 2, oidx);
        ir_win_offsets(&gm, x->dims + 2, oidx, offs);
        for (int64_t nb = 0; nb < batch; nb++) {
            for (int64_t m = 0; m < m_; m++) {
                int64_t first_c = (m / mg) * cg;   /* input channels of this output channel's group */
                double acc = b ? ir_tensor_getf(b, m) : 0;
                for (int64_t t = 0; t < ksz; t++) {
                    if (offs[t] < 0)
                        continue;
                    for (int64_t c = 0; c < cg; c++)
                        acc += ir_tensor_getf(x, (nb * c_ + first_c + c) * isz + offs[t]) *
                               ir_tensor_getf(w, (m * cg + c) * ksz + t);
                }
                ir_tensor_setf(y, (nb * m_ + m) * osz + o, acc);
            }
        }
    }
    free(offs);
    free(gm.taps);
    return 0;
}

/* floor(t / 2) (C's division truncates). */
static int64_t floor_half(int64_t t)
{
    return t >= 0 ? t / 2 : -((1 - t) / 2);
}

int ref_ConvTranspose(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *w = in[1], *b = opt_in(n, in, 2);
    IrTensor *y = out[0];
    int nsp = x->rank - 2;
    IrWin gm;
    if (ir_win_init(n, nsp, w->dims + 2, true, &gm))
        return oom(n, d);
    /* Begin pads (ONNX ConvTranspose): with output_shape or SAME_*, from the total padding
     * stride*(in-1) + output_padding + extent - out, the odd unit at the end for SAME_UPPER and at
     * the beginning otherwise; else the explicit pads (none for VALID). The halves are floored
     * (ONNX's reference, in Python): an output_shape one beyond the full output gives total -1,
     * begin 0, and the extra row at the end stays zero. */
    const char *ap = ir_attr_str(n, "auto_pad");
    const int64_t *oshape;
    bool derived = ir_attr_ints(n, "output_shape", &oshape) >= 0 || !strncmp(ap, "SAME_", 5);
    int64_t opad[IR_MAX_RANK], pads[2 * IR_MAX_RANK];
    ir_ints_or(n, "output_padding", nsp, 0, opad);
    ir_ints_or(n, "pads", 2 * nsp, 0, pads);
    for (int i = 0; i < nsp; i++) {
        if (derived) {
            int64_t total = gm.s[i] * (x->dims[2 + i] - 1) + opad[i] + ir_win_extent(&gm, i) - y->dims[2 + i];
            int64_t half = floor_half(total);
            gm.pb[i] = !strcmp(ap, "SAME_UPPER") ? half : total - half;
        } else {
            gm.pb[i] = !strcmp(ap, "VALID") ? 0 : pads[i];
        }
    }
    int64_t group = ir_attr_int(n, "group");
    int64_t batch = x->dims[0], c_ = x->dims[1], m_ = y->dims[1], cg = c_ / group, mg = m_ / group;
    int64_t isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(y->dims, 2, y->rank), ksz = gm.ktotal;
    double *acc = srt_calloc((size_t)y->numel + 1, sizeof(double));
    int64_t *offs = srt_malloc((size_t)(ksz + 1) * sizeof(int64_t));
    if (!acc || !offs) {
        free(acc);
        free(offs);
        free(gm.taps);
        return oom(n, d);
    }
    int64_t iidx[IR_MAX_RANK];
    /* scatter: input position i through tap t lands on output i*stride + t*dilation - pad_begin */
    for (int64_t i = 0; i < isz; i++) {
        ir_unravel(i, nsp, x->dims + 2, iidx);
        for (int64_t t = 0; t < ksz; t++) {
            int64_t off = 0;
            for (int a = 0; a < nsp; a++) {
                int64_t p = iidx[a] * gm.s[a] + gm.taps[t * nsp + a] * gm.dil[a] - gm.pb[a];
                if (p < 0 || p >= y->dims[2 + a]) {
                    off = -1;
                    break;
                }
                off = off * y->dims[2 + a] + p;
            }
            offs[t] = off;
        }
        for (int64_t nb = 0; nb < batch; nb++) {
            for (int64_t c = 0; c < c_; c++) {
                double xv = ir_tensor_getf(x, (nb * c_ + c) * isz + i);
                int64_t first_m = (c / cg) * mg;   /* output channels of this input channel's group */
                for (int64_t t = 0; t < ksz; t++) {
                    if (offs[t] < 0)
                        continue;
                    for (int64_t m = 0; m < mg; m++)
                        acc[(nb * m_ + first_m + m) * osz + offs[t]] += xv * ir_tensor_getf(w, (c * mg + m) * ksz + t);
                }
            }
        }
    }
    for (int64_t e = 0; e < y->numel; e++) {
        int64_t m = osz ? (e / osz) % m_ : 0;
        ir_tensor_setf(y, e, acc[e] + (b ? ir_tensor_getf(b, m) : 0));
    }
    free(acc);
    free(offs);
    free(gm.taps);
    return 0;
}

/* Column-major offset (first axis fastest) of the spatial position of row-major offset off. */
static int64_t col_major(int64_t off, int nsp, const int64_t *dims)
{
    int64_t idx[IR_MAX_RANK], r = 0;
    ir_unravel(off, nsp, dims, idx);
    for (int i = nsp - 1; i >= 0; i--)
        r = r * dims[i] + idx[i];
    return r;
}

int ref_MaxPool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0], *ind = opt_out(n, out, 1);
    int nsp = x->rank - 2;
    IrWin gm;
    if (ir_win_init(n, nsp, NULL, true, &gm))
        return oom(n, d);
    ir_win_forward_pads(n, x->dims + 2, &gm);
    bool col = ir_attr_int(n, "storage_order") == 1;
    bool is_float = ir_dtype_is_float(y->dtype);
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(y->dims, 2, y->rank);
    int64_t *offs = srt_malloc((size_t)(gm.ktotal + 1) * sizeof(int64_t));
    if (!offs) {
        free(gm.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, y->dims + 2, oidx);
        ir_win_offsets(&gm, x->dims + 2, oidx, offs);
        for (int64_t p = 0; p < planes; p++) {
            /* first maximum in tap order; a NaN wins over numbers (the first NaN) */
            double best = 0;
            int64_t arg = -1;
            for (int64_t t = 0; t < gm.ktotal; t++) {
                if (offs[t] < 0)
                    continue;
                double v = ir_tensor_getf(x, p * isz + offs[t]);
                if (arg < 0 || v > best || (isnan(v) && !isnan(best))) {
                    best = v;
                    arg = offs[t];
                }
            }
            /* a window that covers only padding: NaN (0 for 8-bit ints), index -1 */
            ir_tensor_setf(y, p * osz + o, arg >= 0 ? best : (is_float ? NAN : 0));
            if (ind)
                ir_tensor_seti(ind, p * osz + o, arg < 0 ? -1 : p * isz + (col ? col_major(arg, nsp, x->dims + 2) : arg));
        }
    }
    free(offs);
    free(gm.taps);
    return 0;
}

int ref_AveragePool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    int nsp = x->rank - 2;
    IrWin gm;
    if (ir_win_init(n, nsp, NULL, false, &gm))
        return oom(n, d);
    ir_win_forward_pads(n, x->dims + 2, &gm);
    bool include_pad = ir_attr_int(n, "count_include_pad") == 1;
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t isz = ir_dims_prod(x->dims, 2, x->rank), osz = ir_dims_prod(y->dims, 2, y->rank);
    int64_t *offs = srt_malloc((size_t)(gm.ktotal + 1) * sizeof(int64_t));
    if (!offs) {
        free(gm.taps);
        return oom(n, d);
    }
    int64_t oidx[IR_MAX_RANK];
    for (int64_t o = 0; o < osz; o++) {
        ir_unravel(o, nsp, y->dims + 2, oidx);
        ir_win_offsets(&gm, x->dims + 2, oidx, offs);
        /* Divisor: taps inside the input, or with count_include_pad the taps inside the padded
         * input [-pad_begin, in + pad_end) (a ceil_mode window's overhang beyond it never counts). */
        int64_t count = 0;
        for (int64_t t = 0; t < gm.ktotal; t++) {
            bool inside = include_pad ? true : offs[t] >= 0;
            for (int i = 0; include_pad && i < nsp; i++) {
                int64_t p = oidx[i] * gm.s[i] + gm.taps[t * nsp + i] - gm.pb[i];
                inside = inside && p >= -gm.pb[i] && p < x->dims[2 + i] + gm.pe[i];
            }
            count += inside;
        }
        for (int64_t p = 0; p < planes; p++) {
            double sum = 0;
            for (int64_t t = 0; t < gm.ktotal; t++)
                if (offs[t] >= 0)
                    sum += ir_tensor_getf(x, p * isz + offs[t]);
            ir_tensor_setf(y, p * osz + o, count ? sum / (double)count : NAN);
        }
    }
    free(offs);
    free(gm.taps);
    return 0;
}

int ref_GlobalAveragePool(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0];
    IrTensor *y = out[0];
    int64_t planes = x->dims[0] * x->dims[1], isz = ir_dims_prod(x->dims, 2, x->rank);
    for (int64_t p = 0; p < planes; p++) {
        double sum = 0;
        for (int64_t i = 0; i < isz; i++)
            sum += ir_tensor_getf(x, p * isz + i);
        ir_tensor_setf(y, p, sum / (double)isz);
    }
    return 0;
}

/* ---- normalization ------------------------------------------------------------------------ */

int ref_BatchNormalization(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *scale = in[1], *bias = in[2], *mean = in[3], *var = in[4];
    IrTensor *y = out[0], *rmean = opt_out(n, out, 1), *rvar = opt_out(n, out, 2);
    bool training = ir_attr_int(n, "training_mode") == 1;
    double eps = ir_attr_float(n, "epsilon"), mom = ir_attr_float(n, "momentum");
    int64_t batch = x->dims[0], c_ = x->dims[1], sp = ir_dims_prod(x->dims, 2, x->rank);
    double count = (double)(batch * sp);
    for (int64_t c = 0; c < c_; c++) {
        double mu, v;
        if (training) {
            /* batch statistics over N and the spatial axes; population variance */
            double sum = 0, sq = 0;
            for (int64_t nb = 0; nb < batch; nb++)
                for (int64_t s = 0; s < sp; s++)
                    sum += ir_tensor_getf(x, (nb * c_ + c) * sp + s);
            mu = sum / count;
            for (int64_t nb = 0; nb < batch; nb++)
                for (int64_t s = 0; s < sp; s++) {
                    double dv = ir_tensor_getf(x, (nb * c_ + c) * sp + s) - mu;
                    sq += dv * dv;
                }
            v = sq / count;
            /* unbiased=1 (sinter's; autodiff sets it, as PyTorch): the running variance takes
             * the unbiased batch variance sq/(count-1); ONNX (0): the population one */
            double vr = ir_attr_int(n, "unbiased") && count > 1 ? sq / (count - 1) : v;
            if (rmean)
                ir_tensor_setf(rmean, c, ir_tensor_getf(mean, c) * mom + mu * (1 - mom));
            if (rvar)
                ir_tensor_setf(rvar, c, ir_tensor_getf(var, c) * mom + vr * (1 - mom));
        } else {
            mu = ir_tensor_getf(mean, c);
            v = ir_tensor_getf(var, c);
        }
        double inv = 1 / sqrt(v + eps), sc = ir_tensor_getf(scale, c), sh = ir_tensor_getf(bias, c);
        for (int64_t nb = 0; nb < batch; nb++)
            for (int64_t s = 0; s < sp; s++) {
                int64_t e = (nb * c_ + c) * sp + s;
                ir_tensor_setf(y, e, (ir_tensor_getf(x, e) - mu) * inv * sc + sh);
            }
    }
    return 0;
}

int ref_LayerNormalization(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *scale = in[1], *bias = opt_in(n, in, 2);
    IrTensor *y = out[0], *omean = opt_out(n, out, 1), *oinv = opt_out(n, out, 2);
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), x->rank, &ax);
    double eps = ir_attr_float(n, "epsilon");
    /* stash_type 1: stage one (standardization) in float32 precision: inputs and results are
     * rounded to float; the math in between runs in double. */
    bool f32 = ir_attr_int(n, "stash_type") == 1;
    int64_t outer = ir_dims_prod(x->dims, 0, ax), inner = ir_dims_prod(x->dims, ax, x->rank);
    int64_t idx[IR_MAX_RANK];
    for (int64_t r = 0; r < outer; r++) {
        double sum = 0, sq = 0;
        for (int64_t j = 0; j < inner; j++) {
            double v = ir_tensor_getf(x, r * inner + j);
            sum += f32 ? (float)v : v;
        }
        double mean = sum / (double)inner;
        for (int64_t j = 0; j < inner; j++) {
            double v = ir_tensor_getf(x, r * inner + j);
            double dv = (f32 ? (float)v : v) - mean;
            sq += dv * dv;
        }
        double inv = 1 / sqrt(sq / (double)inner + eps);
        if (omean)
            ir_tensor_setf(omean, r, mean);
        if (oinv)
            ir_tensor_setf(oinv, r, inv);
        for (int64_t j = 0; j < inner; j++) {
            int64_t e = r * inner + j;
            double v = ir_tensor_getf(x, e);
            double norm = ((f32 ? (float)v : v) - mean) * inv;
            if (f32)
                norm = (float)norm;
            ir_unravel(e, x->rank, x->dims, idx);
            double res = norm * ir_tensor_getf(scale, ir_bcast_offset(scale, x->rank, idx));
            if (bias)
                res += ir_tensor_getf(bias, ir_bcast_offset(bias, x->rank, idx));
            ir_tensor_setf(y, e, res);
        }
    }
    return 0;
}

/* Softmax (log_form false) or LogSoftmax along one axis, shifted by the maximum. */
static int softmax(const IrNode *n, const IrTensor *x, IrTensor *y, bool log_form)
{
    int ax;
    ir_norm_axis(ir_attr_int(n, "axis"), x->rank, &ax);
    int64_t outer = ir_dims_prod(x->dims, 0, ax), len = x->dims[ax], inner = ir_dims_prod(x->dims, ax + 1, x->rank);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < len; j++) {
                double v = ir_tensor_getf(x, base + j * inner);
                if (v > mx)
                    mx = v;
            }
            for (int64_t j = 0; j < len; j++)
                sum += exp(ir_tensor_getf(x, base + j * inner) - mx);
            for (int64_t j = 0; j < len; j++) {
                double sh = ir_tensor_getf(x, base + j * inner) - mx;
                ir_tensor_setf(y, base + j * inner, log_form ? sh - log(sum) : exp(sh) / sum);
            }
        }
    }
    return 0;
}

int ref_Softmax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return softmax(n, in[0], out[0], false);
}

int ref_LogSoftmax(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    return softmax(n, in[0], out[0], true);
}

/* Inference-mode Dropout: identity, and a mask of all true. */
int ref_Dropout(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *x = in[0], *mode = opt_in(n, in, 2);
    IrTensor *y = out[0], *mask = opt_out(n, out, 1);
    if (mode && mode->numel > 0 && ir_tensor_geti(mode, 0) != 0) {
        ir_node_error(d, n, "inputs[2] (training_mode) is true; training-mode Dropout (random masks) is not "
                      "supported yet, only inference");
        return -1;
    }
    if (x->numel)
        memcpy(y->data, x->data, (size_t)x->numel * srt_dtype_size(x->dtype));
    for (int64_t i = 0; mask && i < mask->numel; i++)
        ir_tensor_seti(mask, i, 1);
    return 0;
}

/* ---- losses -------------------------------------------------------------------------------- */

int ref_SoftmaxCrossEntropyLoss(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out,
                                IrDiag *d)
{
    const IrTensor *x = in[0], *lab = in[1], *w = opt_in(n, in, 2);
    IrTensor *y = out[0], *lp = opt_out(n, out, 1);
    const IrAttr *ig = ir_attr_get(n, "ignore_index");
    const char *red = ir_attr_str(n, "reduction");
    int64_t batch = x->dims[0], c_ = x->dims[1], sp = ir_dims_prod(x->dims, 2, x->rank);
    double total = 0, wsum = 0;
    for (int64_t nb = 0; nb < batch; nb++) {
        for (int64_t s = 0; s < sp; s++) {
            /* log_prob[c] = x[c] - logsumexp(x) along the class axis */
            double mx = -INFINITY, sum = 0;
            for (int64_t c = 0; c < c_; c++) {
                double v = ir_tensor_getf(x, (nb * c_ + c) * sp + s);
                if (v > mx)
                    mx = v;
            }
            for (int64_t c = 0; c < c_; c++)
                sum += exp(ir_tensor_getf(x, (nb * c_ + c) * sp + s) - mx);
            double lse = mx + log(sum);
            for (int64_t c = 0; lp && c < c_; c++)
                ir_tensor_setf(lp, (nb * c_ + c) * sp + s, ir_tensor_getf(x, (nb * c_ + c) * sp + s) - lse);
            int64_t label = ir_tensor_geti(lab, nb * sp + s);
            double loss = 0, wt = 0;
            if (!(ig && ig->kind == IR_ATTR_INT && label == ig->i)) {
                if (label < 0 || label >= c_) {
                    ir_node_error(d, n, "inputs[1] (labels) holds %lld at flat index %lld; labels must be in [0, "
                                  "%lld)%s", (long long)label, (long long)(nb * sp + s), (long long)c_,
                                  ig ? " or equal ignore_index" : "");
                    return -1;
                }
                wt = w ? ir_tensor_getf(w, label) : 1;
                loss = -wt * (ir_tensor_getf(x, (nb * c_ + label) * sp + s) - lse);
            }
            if (!strcmp(red, "none"))
                ir_tensor_setf(y, nb * sp + s, loss);
            total += loss;
            wsum += wt;
        }
    }
    if (!strcmp(red, "sum"))
        ir_tensor_setf(y, 0, total);
    else if (!strcmp(red, "mean"))
        ir_tensor_setf(y, 0, total / wsum);   /* weighted mean over the non-ignored entries */
    return 0;
}

int ref_MSELoss(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    const IrTensor *a = in[0], *b = in[1];
    IrTensor *y = out[0];
    const char *red = ir_attr_str(n, "reduction");
    bool none = !strcmp(red, "none");
    double total = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        double dv = ir_tensor_getf(a, i) - ir_tensor_getf(b, i);
        if (none)
            ir_tensor_setf(y, i, dv * dv);
        total += dv * dv;
    }
    if (!strcmp(red, "sum"))
        ir_tensor_setf(y, 0, total);
    else if (!strcmp(red, "mean"))
        ir_tensor_setf(y, 0, total / (double)a->numel);
    return 0;
}
