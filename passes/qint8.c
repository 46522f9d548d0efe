/* Pass qint8: static int8 on the inference graph: each Gemm/MatMul whose weight is on a per-channel int8 grid and whose input has a calibrated range becomes IntGemm on uint8 activations; Quantize nodes only where a float tensor enters an integer region. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* A layer's output stays uint8 (requantized in IntGemm's epilogue, a Relu after it folded into
 * the saturation since its grid starts at 0) when every consumer is another integer layer
 * reading it as its input; otherwise the layer writes float32 (its Relu, if any, stays a node
 * that fuse puts in the epilogue). Folded into the constants at compile time:
 *   bias_i32[j] = rint(b[j] / (sa * sw[j])) - za * sum_k q(k, j)
 *   mult[j]     = sa * sw[j] / so  (uint8 out)  or  sa * sw[j]  (float out)
 * with sa, za the input's grid, sw the weight scales and so the output's grid. */

typedef struct Layer {
    int relu;                 /* the Relu folded into a uint8 output, or -1 */
    int z;                    /* the value the layer produces (the Relu's output when folded) */
    bool u8out;
} Layer;

static bool candidate(const IrGraph *g, const IrNode *n, const PassQuantize *q)
{
    int out_axis, k_axis;
    if (!pass_quant_weight_slot(g, n, &out_axis, &k_axis) || !pass_int8_candidate(g, n, q))
        return false;
    const IrQuant *r = g->values[n->in[1]]->quant;
    if (!r || r->bits != 8 || r->zero_point || r->axis != out_axis || r->group)
        return false;
    const IrValue *b = n->op == IR_OP_GEMM && n->nin > 2 && n->in[2] >= 0 ? g->values[n->in[2]] : NULL;
    return !b || b->data;   /* the bias folds into int32 */
}

static int new_const(IrGraph *g, const char *prefix, IrDtype dt, int rank, int64_t d0, int64_t d1, void **data)
{
    IrShape s = {.rank = rank, .d = {ir_dim_const(d0), ir_dim_const(d1)}};
    int id = ir_value_new(g, ir_value_unique_name(g, prefix), dt, &s, IR_ROLE_CONST);
    IR_ASSERT(id >= 0);
    size_t bytes = (size_t)(rank == 2 ? d0 * d1 : d0) * srt_dtype_size(dt);
    *data = ir_arena_alloc(g->arena, bytes + 1);
    memset(*data, 0, bytes + 1);
    g->values[id]->data = *data;
    return id;
}

/* The uint8 version of float value a: a Quantize node (one per value, remembered in qid). */
static int quantized_input(IrGraph *g, int a, int *qid, int qmax, const PassRange *r)
{
    if (qid[a] >= 0)
        return qid[a];
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s.u8", g->values[a]->name);
    int v = ir_value_new(g, ir_value_unique_name(g, prefix), SRT_U8, &g->values[a]->shape, IR_ROLE_ACT);
    IR_ASSERT(v >= 0);
    int nid = ir_node_new(g, IR_OP_QUANTIZE, g->values[v]->name, 1, &a, 1, &v);
    IR_ASSERT(nid >= 0);
    float scale;
    int32_t zp;
    pass_act_grid(r->lo, r->hi, qmax, &scale, &zp);
    IrNode *n = g->nodes[nid];
    ir_node_set_float(g, n, "scale", scale);
    ir_node_set_int(g, n, "zero_point", zp);
    ir_node_set_int(g, n, "qmax", qmax);
    return qid[a] = v;
}

static void make_int(IrGraph *g, IrNode *n, const Layer *L, int a_u8, const PassQuantize *q, int qmax)
{
    int out_axis, k_axis;
    IR_ASSERT(pass_quant_weight_slot(g, n, &out_axis, &k_axis));
    const IrValue *w = g->values[n->in[1]];
    const IrQuant *wq = w->quant;
    const IrValue *bv = n->op == IR_OP_GEMM && n->nin > 2 && n->in[2] >= 0 ? g->values[n->in[2]] : NULL;
    int64_t cols = w->shape.d[out_axis].b, k = w->shape.d[k_axis].b, np = ir_ig_padded(cols);
    float sa, so = 1.0f;
    int32_t za, zo = 0;
    const PassRange *ra = pass_quant_range(q, g->values[n->in[0]]->name);
    pass_act_grid(ra->lo, ra->hi, qmax, &sa, &za);
    if (L->u8out) {
        const PassRange *rz = pass_quant_range(q, g->values[L->z]->name);
        pass_act_grid(L->relu >= 0 && rz->lo < 0 ? 0 : rz->lo, rz->hi, qmax, &so, &zo);
    }
    char prefix[256];
    void *wd, *bd, *md;
    snprintf(prefix, sizeof prefix, "%s.i8", w->name);
    int wid = new_const(g, prefix, SRT_I8, 2, (k + 3) / 4, np * 4, &wd);
    snprintf(prefix, sizeof prefix, "%s.bias_i32", n->name);
    int bid = new_const(g, prefix, SRT_I32, 1, np, 0, &bd);
    snprintf(prefix, sizeof prefix, "%s.mult", n->name);
    int mid = new_const(g, prefix, SRT_F32, 1, np, 0, &md);
    w = g->values[n->in[1]];   /* new values may have moved the array */
    int8_t *wi = wd;
    int32_t *bias = bd;
    float *mult = md;
    int64_t *colsum = srt_calloc((size_t)cols, sizeof *colsum);
    IR_ASSERT(colsum);
    const float *x = w->data;
    for (int64_t i = 0; i < w->shape.d[0].b * w->shape.d[1].b; i++) {
        int64_t r = i / w->shape.d[1].b, c = i % w->shape.d[1].b;
        int64_t j = out_axis == 0 ? r : c, kk = out_axis == 0 ? c : r;
        int32_t v = ir_quant_q(wq, &w->shape, i, x[i]);
        wi[ir_ig_index(np, kk, j)] = (int8_t)v;
        colsum[j] += v;
    }
    const float *b = bv ? bv->data : NULL;
    for (int64_t j = 0; j < cols; j++) {
        double s = (double)sa * wq->scale[j];
        double bi = (b ? rint(b[j] / s) : 0) - (double)za * (double)colsum[j];
        if (!isfinite(bi))   /* a non-finite bias or a zero scale */
            bi = 0;
        bias[j] = (int32_t)(bi > 1073741824.0 ? 1073741824.0 : bi < -1073741824.0 ? -1073741824.0 : bi);
        mult[j] = (float)(L->u8out ? s / so : s);
    }
    free(colsum);
    int in[4] = {a_u8, wid, bid, mid};
    n->op = IR_OP_INTGEMM;
    n->nin = 4;
    n->in = ir_arena_memdup(g->arena, in, sizeof in);
    ir_node_set_attrs(g, n, 0, NULL);
    ir_node_set_int(g, n, "n", cols);
    ir_node_set_int(g, n, "float_out", L->u8out ? 0 : 1);
    ir_node_set_int(g, n, "in_qmax", qmax);
    if (L->u8out) {
        ir_node_set_int(g, n, "zero_point", zo);
        ir_node_set_int(g, n, "qmax", qmax);
    }
    if (L->relu >= 0) {   /* the Relu goes: the layer makes its output */
        IrNode *r = g->nodes[L->relu];
        r->out[0] = r->in[0];
        n->out[0] = L->z;
        g->values[L->z]->producer = n->id;
    }
}

PassResult pass_qint8(IrGraph *g, PassContext *ctx)
{
    const PassQuantize *q = &ctx->quantize;
    if (q->kind != PASS_QUANT_INT8 || (g->training && g->training->has_backward))
        return PASS_UNCHANGED;
    int qmax = q->act_qmax ? q->act_qmax : 255;
    int nn = g->nnodes;
    bool *cand = srt_calloc((size_t)nn + 1, sizeof *cand);
    Layer *L = srt_calloc((size_t)nn + 1, sizeof *L);
    IR_ASSERT(cand && L);
    int64_t layers = 0, relus = 0, u8 = 0;
    for (int i = 0; i < nn; i++)
        cand[i] = candidate(g, g->nodes[i], q);
    for (int i = 0; i < nn; i++) {
        if (!cand[i])
            continue;
        IrNode *n = g->nodes[i];
        int y = n->out[0], user = -1;
        L[i].relu = -1;
        L[i].z = y;
        if (pass_value_uses(g, y, &user) == 1 && g->nodes[user]->op == IR_OP_RELU &&
            g->nodes[user]->out[0] >= 0)
            L[i].relu = user, L[i].z = g->nodes[user]->out[0];
        int z = L[i].z, uses = 0;
        bool all_int = !pass_value_pinned(g, z) && pass_quant_range(q, g->values[z]->name);
        for (int c = 0; c < nn && all_int; c++)
            for (int s = 0; s < g->nodes[c]->nin; s++)
                if (g->nodes[c]->in[s] == z) {
                    uses++;
                    all_int = all_int && cand[c] && s == 0;
                }
        L[i].u8out = all_int && uses > 0;
        if (!L[i].u8out)
            L[i].relu = -1, L[i].z = y;
    }
    int *qid = srt_malloc(((size_t)g->nvalues + 1) * sizeof *qid);
    IR_ASSERT(qid);
    for (int v = 0; v < g->nvalues; v++)
        qid[v] = -1;
    int nvalues0 = g->nvalues;
    for (int i = 0; i < nn; i++) {
        if (!cand[i])
            continue;
        int a = g->nodes[i]->in[0];
        /* made by an integer layer (directly or through its folded Relu): uint8 already */
        bool from_int = false;
        for (int j = 0; j < nn && !from_int; j++)
            from_int = cand[j] && L[j].u8out && L[j].z == a;
        int a_u8 = from_int ? a : quantized_input(g, a, qid, qmax, pass_quant_range(q, g->values[a]->name));
        make_int(g, g->nodes[i], &L[i], a_u8, q, qmax);
        layers++;
        relus += L[i].relu >= 0;
        u8 += L[i].u8out;
    }
    int64_t borders = 0;
    for (int v = 0; v < nvalues0; v++)
        borders += qid[v] >= 0;
    free(qid);
    if (!layers) {
        free(cand);
        free(L);
        return PASS_UNCHANGED;
    }
    bool *keep = srt_malloc((size_t)g->nnodes + 1);
    IR_ASSERT(keep);
    memset(keep, 1, (size_t)g->nnodes + 1);
    for (int i = 0; i < nn; i++)
        if (cand[i] && L[i].relu >= 0)
            keep[L[i].relu] = false;
    free(cand);
    free(L);
    pass_compact_drop_params(g, keep);   /* the folded Relus, the float weights and biases */
    free(keep);
    pass_stat_add(ctx, "layers made integer", layers);
    pass_stat_add(ctx, "uint8 outputs", u8);
    pass_stat_add(ctx, "relus folded", relus);
    pass_stat_add(ctx, "quantize nodes inserted", borders);
    if (ir_graph_toposort(g, ctx->diag) != 0 || ir_infer_shapes(g, ctx->diag) != 0)
        return PASS_ERROR;
    return PASS_CHANGED;
}
