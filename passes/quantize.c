/* Pass quantize: Gemm/MatMul weights onto a symmetric int8 or int4 grid (per output channel, and per group of K), recorded on the param; the activation grids of static int8. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* The weights are snapped in place: their float32 values become scale * q exactly (the record's
 * grid), so the interpreter, the training graph and -o OUT.json all see the quantized model;
 * qpack then hands the integers to the DequantGemm kernel. Scale per (channel, group):
 * max |w| / 127 (or / 7), 1 for an all-zero group. */

int pass_quantize_parse(const char *kind, const char *group, PassQuantize *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    if (!strcmp(kind, "int8-weights")) {
        out->kind = PASS_QUANT_INT8_WEIGHTS;
    } else if (!strcmp(kind, "int4-weights")) {
        out->kind = PASS_QUANT_INT4_WEIGHTS;
    } else if (!strcmp(kind, "int8")) {
        out->kind = PASS_QUANT_INT8;
        if (group) {
            snprintf(err, len, "int8 takes no --quantize-group (its weights have a scale per output channel)");
            return -1;
        }
    } else {
        snprintf(err, len, "expects int8, int8-weights or int4-weights, got \"%s\"", kind);
        return -1;
    }
    if (group) {
        if (strcmp(group, "32") && strcmp(group, "64") && strcmp(group, "128")) {
            snprintf(err, len, "expects a --quantize-group of 32, 64 or 128, got \"%s\"", group);
            return -1;
        }
        out->group = atoi(group);
    }
    return 0;
}

bool pass_quant_weight_slot(const IrGraph *g, const IrNode *n, int *out_axis, int *k_axis)
{
    if ((n->op != IR_OP_GEMM && n->op != IR_OP_MATMUL) || n->nin < 2 || n->in[0] < 0 || n->in[1] < 0 ||
        n->nout < 1 || n->out[0] < 0)
        return false;
    const IrValue *a = g->values[n->in[0]], *w = g->values[n->in[1]];
    int user;
    if (w->role != IR_ROLE_PARAM || w->opt_state || w->dtype != SRT_F32 || !w->data || w->shape.rank != 2 ||
        !ir_shape_is_const(&w->shape) || a->dtype != SRT_F32 || a->shape.rank != 2 ||
        pass_value_uses(g, w->id, &user) != 1)
        return false;
    bool tb = false;
    if (n->op == IR_OP_GEMM) {
        if (ir_attr_int(n, "transA") || ir_attr_float(n, "alpha") != 1 || ir_attr_float(n, "beta") != 1)
            return false;
        tb = ir_attr_int(n, "transB") != 0;
        if (n->nin > 2 && n->in[2] >= 0) {   /* the bias: one per output */
            const IrValue *c = g->values[n->in[2]];
            int64_t cols = w->shape.d[tb ? 0 : 1].b;
            if (c->dtype != SRT_F32 || c->shape.rank != 1 || c->shape.d[0].a != 0 || c->shape.d[0].b != cols)
                return false;
        }
    }
    *out_axis = tb ? 0 : 1;
    *k_axis = tb ? 1 : 0;
    return true;
}

/* Snaps weight v (output channels on out_axis, K on k_axis) to the grid; sets its record. */
static void quantize_weight(IrGraph *g, IrValue *v, int out_axis, int k_axis, int bits, int64_t group)
{
    int64_t rows = v->shape.d[0].b, cols = v->shape.d[1].b;
    int64_t channels = v->shape.d[out_axis].b, k = v->shape.d[k_axis].b;
    if (group >= k)
        group = 0;
    int64_t ngroups = group ? (k + group - 1) / group : 1;
    IrQuant q = {.bits = bits, .axis = out_axis, .group_axis = group ? k_axis : 0, .group = group,
                 .nscales = channels * ngroups};
    q.scale = ir_arena_alloc(g->arena, (size_t)q.nscales * sizeof *q.scale);
    const float *w = v->data;
    double qmax = (double)((1 << (bits - 1)) - 1);
    float *amax = srt_calloc((size_t)q.nscales, sizeof *amax);
    IR_ASSERT(amax);
    for (int64_t i = 0; i < rows * cols; i++) {
        int64_t j = ir_quant_index(&q, &v->shape, i);
        float a = fabsf(w[i]);
        if (a > amax[j])
            amax[j] = a;
    }
    for (int64_t j = 0; j < q.nscales; j++)
        q.scale[j] = amax[j] > 0 && isfinite(amax[j]) ? (float)(amax[j] / qmax) : 1.0f;
    free(amax);
    float *snapped = ir_arena_alloc(g->arena, (size_t)(rows * cols) * sizeof *snapped);
    for (int64_t i = 0; i < rows * cols; i++)
        snapped[i] = ir_quant_real(&q, ir_quant_index(&q, &v->shape, i), ir_quant_q(&q, &v->shape, i, w[i]));
    v->data = snapped;
    v->quant = ir_quant_copy(g->arena, &q);
    v->sparse = NULL;
    v->init_json = NULL;      /* the values are data now */
    v->from_weights = false;
}

void pass_act_grid(double lo, double hi, int qmax, float *scale, int32_t *zero_point)
{
    lo = lo < 0 ? lo : 0;
    hi = hi > 0 ? hi : 0;
    if (!(hi - lo > 0) || !isfinite(hi - lo)) {
        *scale = 1.0f;
        *zero_point = 0;
        return;
    }
    *scale = (float)((hi - lo) / qmax);
    double z = rint(-lo / *scale);
    *zero_point = (int32_t)(z < 0 ? 0 : z > qmax ? qmax : z);
}

const PassRange *pass_quant_range(const PassQuantize *q, const char *name)
{
    for (int i = 0; i < q->nranges; i++)
        if (!strcmp(q->ranges[i].name, name))
            return &q->ranges[i];
    return NULL;
}

bool pass_int8_candidate(const IrGraph *g, const IrNode *n, const PassQuantize *q)
{
    for (int i = 0; i < q->nkeep; i++)
        if (!strcmp(q->keep[i], n->name))
            return false;
    const IrValue *a = g->values[n->in[0]];
    return pass_quant_range(q, a->name) && a->shape.d[1].a == 0 && a->shape.d[1].b <= 65536;
}

PassResult pass_quantize(IrGraph *g, PassContext *ctx)
{
    const PassQuantize *o = &ctx->quantize;
    if (o->kind == PASS_QUANT_NONE)
        return PASS_UNCHANGED;
    if (g->training && g->training->has_backward) {
        ir_diag_error(ctx->diag, g->name, "quantize runs on a model, before autodiff builds its training graph");
        return PASS_ERROR;
    }
    if (o->kind == PASS_QUANT_INT8 && o->nranges == 0) {
        ir_diag_error(ctx->diag, g->name, "--quantize int8 needs the ranges of the activations and the model holds "
                      "none: calibrate with --calibrate DATA");
        return PASS_ERROR;
    }
    int bits = o->kind == PASS_QUANT_INT4_WEIGHTS ? 4 : 8;
    int64_t group = o->group ? o->group : bits == 4 ? 32 : 0;
    int64_t done = 0;
    for (int i = 0; i < g->nnodes; i++) {
        int out_axis, k_axis;
        if (!pass_quant_weight_slot(g, g->nodes[i], &out_axis, &k_axis))
            continue;
        /* static int8: only the layers qint8 makes integer (a calibrated input, not kept float) */
        if (o->kind == PASS_QUANT_INT8 && !pass_int8_candidate(g, g->nodes[i], o))
            continue;
        quantize_weight(g, g->values[g->nodes[i]->in[1]], out_axis, k_axis, bits, group);
        done++;
    }
    if (done)
        pass_stat_add(ctx, "weights quantized", done);
    return done ? PASS_CHANGED : PASS_UNCHANGED;
}
