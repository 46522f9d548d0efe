/* Quantized and sparse ops: DequantGemm (weight-only; double sums), static int8 Quantize and IntGemm (exact int32 sums, float32 requantization), SparseGemm (CSR rows): layouts, shape functions, reference kernels. */
#include <math.h>
#include <stdlib.h>

#include "ir/ops_impl.h"

int32_t ir_dq_get(const void *q, int bits, int64_t np, int64_t k, int64_t j)
{
    if (bits == 8)
        return ((const int8_t *)q)[k * np + j];
    uint8_t byte = ((const uint8_t *)q)[k * (np / 2) + 16 * (j / 32) + j % 16];
    return (int32_t)(j % 32 < 16 ? byte & 15 : byte >> 4) - 8;
}

void ir_dq_set(void *q, int bits, int64_t np, int64_t k, int64_t j, int32_t v)
{
    if (bits == 8) {
        ((int8_t *)q)[k * np + j] = (int8_t)v;
        return;
    }
    uint8_t *byte = &((uint8_t *)q)[k * (np / 2) + 16 * (j / 32) + j % 16];
    uint8_t nib = (uint8_t)(v + 8) & 15;
    *byte = j % 32 < 16 ? (uint8_t)((*byte & 0xf0) | nib) : (uint8_t)((*byte & 0x0f) | (nib << 4));
}

/* The dims the attributes ask for; -1 after a diagnostic. */
static int geometry(const IrGraph *g, IrNode *n, IrDiag *d, int64_t *k, int64_t *np, int64_t *ngroups)
{
    const IrValue *a = ir_in(g, n, 0), *q = ir_in(g, n, 1), *s = ir_in(g, n, 2), *b = ir_in(g, n, 3);
    int64_t bits = ir_attr_int(n, "bits"), group = ir_attr_int(n, "group"), cols = ir_attr_int(n, "n");
    if (a->dtype != SRT_F32 || a->shape.rank != 2 || a->shape.d[1].a != 0) {
        ir_node_error(d, n, "inputs[0] must be a float32 matrix with a constant K");
        return -1;
    }
    *k = a->shape.d[1].b;
    if (bits != 8 && bits != 4) {
        ir_node_error(d, n, "attribute bits = %lld; DequantGemm takes 8 or 4", (long long)bits);
        return -1;
    }
    if (group < 1 || group > *k || cols < 1 || cols > ((int64_t)1 << 40)) {
        ir_node_error(d, n, "attributes group = %lld (1 to K = %lld) and n = %lld (>= 1) are out of range",
                      (long long)group, (long long)*k, (long long)cols);
        return -1;
    }
    *np = ir_dq_padded(cols);
    *ngroups = (*k + group - 1) / group;
    IrShape qs = {.rank = 2, .d = {ir_dim_const(*k), ir_dim_const(bits == 8 ? *np : *np / 2)}};
    IrShape ss = {.rank = 2, .d = {ir_dim_const(*ngroups), ir_dim_const(*np)}};
    IrShape bs = {.rank = 1, .d = {ir_dim_const(cols)}};
    if (q->dtype != (bits == 8 ? SRT_I8 : SRT_U8) || !ir_shape_eq(&q->shape, &qs)) {
        ir_node_error(d, n, "inputs[1] must be %s[%lld,%lld] (the packed weights)", bits == 8 ? "int8" : "uint8",
                      (long long)qs.d[0].b, (long long)qs.d[1].b);
        return -1;
    }
    if (s->dtype != SRT_F32 || !ir_shape_eq(&s->shape, &ss)) {
        ir_node_error(d, n, "inputs[2] must be float32[%lld,%lld] (the scales)", (long long)*ngroups, (long long)*np);
        return -1;
    }
    if (b && (b->dtype != SRT_F32 || !ir_shape_eq(&b->shape, &bs))) {
        ir_node_error(d, n, "inputs[3] must be float32[%lld] (the bias)", (long long)cols);
        return -1;
    }
    return 0;
}

int shape_DequantGemm(IrGraph *g, IrNode *n, IrDiag *d)
{
    int64_t k, np, ngroups;
    if (geometry(g, n, d, &k, &np, &ngroups) != 0)
        return -1;
    IrShape y = {.rank = 2, .d = {g->values[n->in[0]]->shape.d[0], ir_dim_const(ir_attr_int(n, "n"))}};
    ir_set_out(g, n, 0, SRT_F32, &y);
    return 0;
}

int ref_DequantGemm(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    (void)g;
    (void)d;
    const IrTensor *a = in[0], *q = in[1], *s = in[2], *b = n->nin > 3 ? in[3] : NULL;
    int bits = (int)ir_attr_int(n, "bits");
    int64_t group = ir_attr_int(n, "group"), cols = ir_attr_int(n, "n");
    int64_t m = a->dims[0], k = a->dims[1], np = ir_dq_padded(cols);
    const float *x = a->data, *scale = s->data;
    float *y = out[0]->data;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < cols; j++) {
            double acc = b && b->data ? ((const float *)b->data)[j] : 0.0;
            for (int64_t kk = 0; kk < k; kk++) {
                double w = (double)ir_dq_get(q->data, bits, np, kk, j) * scale[kk / group * np + j];
                acc += (double)x[i * k + kk] * w;
            }
            y[i * cols + j] = (float)acc;
        }
    return 0;
}

/* ---- static int8: Quantize and IntGemm --------------------------------------------------------- */

int32_t ir_requant(float t, int32_t zero_point, int32_t qmax)
{
    float r = rintf(t);   /* the default rounding mode: half to even */
    r = fmaxf(r, (float)-zero_point);   /* fmaxf/fminf ignore a NaN operand */
    r = fminf(r, (float)(qmax - zero_point));
    return (int32_t)r + zero_point;
}

/* qmax and zero_point of node n (Quantize, IntGemm): 1 <= qmax <= 255, 0 <= zero_point <= qmax. */
static int check_grid(IrNode *n, IrDiag *d)
{
    int64_t qmax = ir_attr_int(n, "qmax"), zp = ir_attr_int(n, "zero_point");
    if (qmax < 1 || qmax > 255 || zp < 0 || zp > qmax) {
        ir_node_error(d, n, "attributes qmax = %lld (1 to 255) and zero_point = %lld (0 to qmax) are out of range",
                      (long long)qmax, (long long)zp);
        return -1;
    }
    return 0;
}

int shape_Quantize(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *x = ir_in(g, n, 0);
    double s = ir_attr_float(n, "scale");
    if (x->dtype != SRT_F32) {
        ir_node_error(d, n, "inputs[0] must be float32, not %s", srt_dtype_name(x->dtype));
        return -1;
    }
    if (!(isfinite((float)s) && (float)s > 0)) {
        ir_node_error(d, n, "attribute scale = %g must be a finite float32 > 0", s);
        return -1;
    }
    if (check_grid(n, d) != 0)
        return -1;
    ir_set_out(g, n, 0, SRT_U8, &x->shape);
    return 0;
}

int ref_Quantize(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    (void)g;
    (void)d;
    float inv = 1.0f / (float)ir_attr_float(n, "scale");
    int32_t zp = (int32_t)ir_attr_int(n, "zero_point"), qmax = (int32_t)ir_attr_int(n, "qmax");
    const float *x = in[0]->data;
    uint8_t *q = out[0]->data;
    for (int64_t i = 0; i < in[0]->numel; i++)
        q[i] = (uint8_t)ir_requant(x[i] * inv, zp, qmax);
    return 0;
}

int shape_IntGemm(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *a = ir_in(g, n, 0), *w = ir_in(g, n, 1), *b = ir_in(g, n, 2), *m = ir_in(g, n, 3);
    int64_t cols = ir_attr_int(n, "n"), in_qmax = ir_attr_int(n, "in_qmax");
    if (a->dtype != SRT_U8 || a->shape.rank != 2 || a->shape.d[1].a != 0) {
        ir_node_error(d, n, "inputs[0] must be a uint8 matrix with a constant K");
        return -1;
    }
    int64_t k = a->shape.d[1].b;
    /* the int32 sums cannot overflow: K * 255 * 127 < 2^31 */
    if (k < 1 || k > 65536 || cols < 1 || cols > ((int64_t)1 << 40) || in_qmax < 1 || in_qmax > 255) {
        ir_node_error(d, n, "K = %lld (1 to 65536), n = %lld (>= 1) or in_qmax = %lld (1 to 255) is out of range",
                      (long long)k, (long long)cols, (long long)in_qmax);
        return -1;
    }
    if (check_grid(n, d) != 0)
        return -1;
    /* in_qmax licenses kernels whose pair sums are 16 bits: a's producer must keep to it */
    const IrNode *p = a->producer >= 0 ? g->nodes[a->producer] : NULL;
    if (p && (p->op == IR_OP_QUANTIZE || p->op == IR_OP_INTGEMM) && ir_attr_int(p, "qmax") > in_qmax) {
        ir_node_error(d, n, "inputs[0] is made with qmax = %lld, above in_qmax = %lld",
                      (long long)ir_attr_int(p, "qmax"), (long long)in_qmax);
        return -1;
    }
    if (!p && in_qmax != 255) {
        ir_node_error(d, n, "inputs[0] is not made by Quantize or IntGemm: in_qmax must be 255");
        return -1;
    }
    int64_t np = ir_ig_padded(cols);
    IrShape ws = {.rank = 2, .d = {ir_dim_const((k + 3) / 4), ir_dim_const(np * 4)}};
    IrShape vs = {.rank = 1, .d = {ir_dim_const(np)}};
    if (w->dtype != SRT_I8 || !ir_shape_eq(&w->shape, &ws)) {
        ir_node_error(d, n, "inputs[1] must be int8[%lld,%lld] (the packed weights)", (long long)ws.d[0].b,
                      (long long)ws.d[1].b);
        return -1;
    }
    if (b->dtype != SRT_I32 || !ir_shape_eq(&b->shape, &vs) || m->dtype != SRT_F32 || !ir_shape_eq(&m->shape, &vs)) {
        ir_node_error(d, n, "inputs[2] and inputs[3] must be int32[%lld] (the bias) and float32[%lld] (the multipliers)",
                      (long long)np, (long long)np);
        return -1;
    }
    IrShape y = {.rank = 2, .d = {a->shape.d[0], ir_dim_const(cols)}};
    ir_set_out(g, n, 0, ir_attr_int(n, "float_out") ? SRT_F32 : SRT_U8, &y);
    return 0;
}

int ref_IntGemm(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    (void)g;
    (void)d;
    const uint8_t *a = in[0]->data;
    const int8_t *w = in[1]->data;
    const int32_t *bias = in[2]->data;
    const float *mult = in[3]->data;
    int64_t m = in[0]->dims[0], k = in[0]->dims[1], cols = ir_attr_int(n, "n"), np = ir_ig_padded(cols);
    bool float_out = ir_attr_int(n, "float_out") != 0;
    int32_t zp = (int32_t)ir_attr_int(n, "zero_point"), qmax = (int32_t)ir_attr_int(n, "qmax");
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < cols; j++) {
            int64_t acc = bias[j];
            for (int64_t kk = 0; kk < k; kk++)
                acc += (int64_t)a[i * k + kk] * w[ir_ig_index(np, kk, j)];
            int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc;   /* int32 wraps, as the instructions do */
            float y = (float)acc32 * mult[j];
            if (float_out)
                ((float *)out[0]->data)[i * cols + j] = y;
            else
                ((uint8_t *)out[0]->data)[i * cols + j] = (uint8_t)ir_requant(y, zp, qmax);
        }
    return 0;
}

/* ---- SparseGemm: CSR rows of the weight, one per output ------------------------------------------ */

int shape_SparseGemm(IrGraph *g, IrNode *n, IrDiag *d)
{
    const IrValue *a = ir_in(g, n, 0), *val = ir_in(g, n, 1), *col = ir_in(g, n, 2), *rp = ir_in(g, n, 3),
                  *b = ir_in(g, n, 4);
    int64_t cols = ir_attr_int(n, "n");
    if (a->dtype != SRT_F32 || a->shape.rank != 2 || a->shape.d[1].a != 0) {
        ir_node_error(d, n, "inputs[0] must be a float32 matrix with a constant K");
        return -1;
    }
    int64_t k = a->shape.d[1].b;
    if (cols < 1 || cols > ((int64_t)1 << 30)) {
        ir_node_error(d, n, "attribute n = %lld is out of range (1 to 2^30)", (long long)cols);
        return -1;
    }
    /* the structure is data: constants only, so it is checked once, here */
    bool ok = val->dtype == SRT_F32 && col->dtype == SRT_I32 && rp->dtype == SRT_I32 && val->shape.rank == 1 &&
              ir_shape_eq(&val->shape, &col->shape) && val->shape.d[0].a == 0 && rp->shape.rank == 1 &&
              rp->shape.d[0].a == 0 && rp->shape.d[0].b == cols + 1 && val->data && col->data && rp->data;
    if (!ok) {
        ir_node_error(d, n, "inputs[1..3] must be constants float32[nnz], int32[nnz] and int32[%lld] (CSR values, "
                      "columns, row starts)", (long long)(cols + 1));
        return -1;
    }
    int64_t nnz = val->shape.d[0].b;
    const int32_t *c = col->data, *r = rp->data;
    for (int64_t j = 0; j < cols && ok; j++)
        ok = r[j] >= 0 && r[j] <= r[j + 1];
    ok = ok && r[0] == 0 && r[cols] == nnz;
    for (int64_t p = 0; p < nnz && ok; p++)
        ok = c[p] >= 0 && c[p] < k;
    if (!ok) {
        ir_node_error(d, n, "the CSR structure is broken: row starts must rise from 0 to %lld, columns lie in [0, %lld)",
                      (long long)nnz, (long long)k);
        return -1;
    }
    IrShape bs = {.rank = 1, .d = {ir_dim_const(cols)}};
    if (b && (b->dtype != SRT_F32 || !ir_shape_eq(&b->shape, &bs))) {
        ir_node_error(d, n, "inputs[4] must be float32[%lld] (the bias)", (long long)cols);
        return -1;
    }
    IrShape y = {.rank = 2, .d = {a->shape.d[0], ir_dim_const(cols)}};
    ir_set_out(g, n, 0, SRT_F32, &y);
    return 0;
}

int ref_SparseGemm(const IrGraph *g, const IrNode *n, IrTensor *const *in, IrTensor *const *out, IrDiag *d)
{
    (void)g;
    (void)d;
    const float *a = in[0]->data, *val = in[1]->data, *bias = n->nin > 4 && in[4] ? in[4]->data : NULL;
    const int32_t *col = in[2]->data, *rp = in[3]->data;
    int64_t m = in[0]->dims[0], k = in[0]->dims[1], cols = ir_attr_int(n, "n");
    float *y = out[0]->data;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < cols; j++) {
            double acc = bias ? bias[j] : 0.0;
            for (int32_t p = rp[j]; p < rp[j + 1]; p++)
                acc += (double)a[i * k + col[p]] * val[p];
            y[i * cols + j] = (float)acc;
        }
    return 0;
}
