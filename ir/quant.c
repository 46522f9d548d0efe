/* DequantGemm: the packed weight layout, its shape function and its reference kernel (double sums, plain loops). */
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
