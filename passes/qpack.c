/* Pass qpack: on the inference graph, a Gemm/MatMul whose weight has a weight-only quantization record becomes DequantGemm on packed integers and scales (ir/ir.h IR_DQ_BLOCK layout). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* The float param goes (pass_compact_drop_params drops it): the library then holds 1 or 1/2 byte per
 * weight plus the scales, and NAME_load no longer sets those weights (they are constants). Runs
 * only when PassContext.quantize asks, so a model whose records came from elsewhere keeps its
 * float params otherwise. */

/* Whether the record is one DequantGemm reads: symmetric, 8 or 4 bits, per output channel, groups along K. */
static bool packable(const IrQuant *q, int out_axis, int k_axis)
{
    return q && !q->zero_point && (q->bits == 8 || q->bits == 4) && q->axis == out_axis &&
           (q->group == 0 || q->group_axis == k_axis);
}

static int new_const(IrGraph *g, const char *prefix, IrDtype dt, int64_t d0, int64_t d1, void **data)
{
    IrShape s = {.rank = 2, .d = {ir_dim_const(d0), ir_dim_const(d1)}};
    int id = ir_value_new(g, ir_value_unique_name(g, prefix), dt, &s, IR_ROLE_CONST);
    IR_ASSERT(id >= 0);
    *data = ir_arena_alloc(g->arena, (size_t)(d0 * d1) * srt_dtype_size(dt) + 1);
    g->values[id]->data = *data;
    return id;
}

static void pack(IrGraph *g, IrNode *n, int out_axis, int k_axis)
{
    const IrValue *w = g->values[n->in[1]];
    const IrQuant *q = w->quant;
    int64_t cols = w->shape.d[out_axis].b, k = w->shape.d[k_axis].b, np = ir_dq_padded(cols);
    int64_t group = q->group ? q->group : k, ngroups = (k + group - 1) / group;
    char prefix[256];
    void *qd, *sd;
    snprintf(prefix, sizeof prefix, "%s.q%d", w->name, q->bits);
    int qid = new_const(g, prefix, q->bits == 8 ? SRT_I8 : SRT_U8, k, q->bits == 8 ? np : np / 2, &qd);
    if (q->bits == 4)   /* padding outputs hold q = 0 (nibble 8), with scale 0 */
        memset(qd, 0x88, (size_t)(k * np / 2));
    snprintf(prefix, sizeof prefix, "%s.scale", w->name);
    int sid = new_const(g, prefix, SRT_F32, ngroups, np, &sd);
    float *scale = sd;
    const float *x = w->data;
    for (int64_t i = 0; i < w->shape.d[0].b * w->shape.d[1].b; i++) {
        int64_t r = i / w->shape.d[1].b, c = i % w->shape.d[1].b;
        int64_t j = out_axis == 0 ? r : c, kk = out_axis == 0 ? c : r;
        int64_t si = ir_quant_index(q, &w->shape, i);
        ir_dq_set(qd, q->bits, np, kk, j, ir_quant_q(q, &w->shape, i, x[i]));
        scale[kk / group * np + j] = q->scale[si];
    }
    int in[4] = {n->in[0], qid, sid, n->op == IR_OP_GEMM && n->nin > 2 ? n->in[2] : -1};
    n->op = IR_OP_DEQUANTGEMM;
    n->nin = in[3] >= 0 ? 4 : 3;
    n->in = ir_arena_memdup(g->arena, in, sizeof in);
    ir_node_set_attrs(g, n, 0, NULL);
    ir_node_set_int(g, n, "bits", q->bits);
    ir_node_set_int(g, n, "group", group);
    ir_node_set_int(g, n, "n", cols);
}

PassResult pass_qpack(IrGraph *g, PassContext *ctx)
{
    if (ctx->quantize.kind == PASS_QUANT_NONE || ctx->quantize.kind == PASS_QUANT_INT8 ||
        (g->training && g->training->has_backward))
        return PASS_UNCHANGED;
    int64_t packed = 0, bytes = 0;
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        int out_axis, k_axis;
        if (!pass_quant_weight_slot(g, n, &out_axis, &k_axis) ||
            !packable(g->values[n->in[1]]->quant, out_axis, k_axis))
            continue;
        bytes += (int64_t)(g->values[n->in[1]]->shape.d[0].b * g->values[n->in[1]]->shape.d[1].b * 4);
        pack(g, n, out_axis, k_axis);
        packed++;
    }
    if (!packed)
        return PASS_UNCHANGED;
    pass_compact_drop_params(g, NULL);   /* the float weights are no longer read (every node stays) */
    pass_stat_add(ctx, "weights packed", packed);
    pass_stat_add(ctx, "float weight bytes replaced", bytes);
    if (ir_infer_shapes(g, ctx->diag) != 0)
        return PASS_ERROR;
    return PASS_CHANGED;
}
