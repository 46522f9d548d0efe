/* Pass sparsify: on the inference graph (--sparse), a Gemm/MatMul whose float weight is mostly zeros becomes SparseGemm on the CSR rows of that weight (one row per output). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* The cost model: the SparseGemm kernel gathers 16 (or 8) activations per instruction for the
 * stored weights of an output, where the dense kernel streams every weight through FMAs; a
 * gather costs about as much as four dense vector steps, so sparse pays below a quarter of
 * non-zeros (docs/compression.md measures it). Each output's row is padded with zeros (column
 * 0) to a multiple of SPARSE_PAD entries, so the kernel needs no masks. The float param goes. */
#define SPARSE_MAX_DENSITY 0.25
#define SPARSE_PAD 16

static int new_const(IrGraph *g, const char *prefix, IrDtype dt, int64_t len, void **data)
{
    IrShape s = {.rank = 1, .d = {ir_dim_const(len)}};
    int id = ir_value_new(g, ir_value_unique_name(g, prefix), dt, &s, IR_ROLE_CONST);
    IR_ASSERT(id >= 0);
    *data = ir_arena_alloc(g->arena, (size_t)len * srt_dtype_size(dt) + 1);
    memset(*data, 0, (size_t)len * srt_dtype_size(dt) + 1);
    g->values[id]->data = *data;
    return id;
}

/* Weight element (output j, k) of w, outputs on out_axis. */
static float weight(const IrValue *w, int out_axis, int64_t j, int64_t k)
{
    int64_t cols = w->shape.d[1].b;
    return ((const float *)w->data)[out_axis == 0 ? j * cols + k : k * cols + j];
}

static void make_sparse(IrGraph *g, IrNode *n, int out_axis, int k_axis)
{
    const IrValue *w = g->values[n->in[1]];
    int64_t outs = w->shape.d[out_axis].b, k = w->shape.d[k_axis].b, total = 0;
    for (int64_t j = 0; j < outs; j++) {
        int64_t nz = 0;
        for (int64_t kk = 0; kk < k; kk++)
            nz += weight(w, out_axis, j, kk) != 0;
        total += (nz + SPARSE_PAD - 1) / SPARSE_PAD * SPARSE_PAD;
    }
    char prefix[256];
    void *vd, *cd, *rd;
    snprintf(prefix, sizeof prefix, "%s.csr_values", w->name);
    int vid = new_const(g, prefix, SRT_F32, total, &vd);
    snprintf(prefix, sizeof prefix, "%s.csr_columns", w->name);
    int cid = new_const(g, prefix, SRT_I32, total, &cd);
    snprintf(prefix, sizeof prefix, "%s.csr_rows", w->name);
    int rid = new_const(g, prefix, SRT_I32, outs + 1, &rd);
    w = g->values[n->in[1]];
    float *val = vd;
    int32_t *col = cd, *rp = rd;
    int64_t p = 0;
    for (int64_t j = 0; j < outs; j++) {
        rp[j] = (int32_t)p;
        for (int64_t kk = 0; kk < k; kk++) {
            float x = weight(w, out_axis, j, kk);
            if (x != 0) {
                val[p] = x;
                col[p++] = (int32_t)kk;
            }
        }
        while (p % SPARSE_PAD)   /* value 0 at column 0 */
            p++;
    }
    rp[outs] = (int32_t)p;
    int in[5] = {n->in[0], vid, cid, rid, n->op == IR_OP_GEMM && n->nin > 2 ? n->in[2] : -1};
    n->op = IR_OP_SPARSEGEMM;
    n->nin = in[4] >= 0 ? 5 : 4;
    n->in = ir_arena_memdup(g->arena, in, sizeof in);
    ir_node_set_attrs(g, n, 0, NULL);
    ir_node_set_int(g, n, "n", outs);
}

PassResult pass_sparsify(IrGraph *g, PassContext *ctx)
{
    if (!ctx->sparse || (g->training && g->training->has_backward))
        return PASS_UNCHANGED;
    int64_t made = 0, kept = 0;
    for (int i = 0; i < g->nnodes; i++) {
        IrNode *n = g->nodes[i];
        int out_axis, k_axis;
        if (!pass_quant_weight_slot(g, n, &out_axis, &k_axis))
            continue;
        const IrValue *w = g->values[n->in[1]];
        int64_t count = w->shape.d[0].b * w->shape.d[1].b, nz = 0;
        for (int64_t e = 0; e < count; e++)
            nz += ((const float *)w->data)[e] != 0;
        if (count == 0 || nz == 0 || (double)nz > SPARSE_MAX_DENSITY * (double)count ||
            count > ((int64_t)1 << 30)) {
            kept++;
            continue;
        }
        make_sparse(g, n, out_axis, k_axis);
        made++;
    }
    if (kept)
        pass_stat_add(ctx, "weights kept dense", kept);
    if (!made)
        return PASS_UNCHANGED;
    pass_compact_drop_params(g, NULL);   /* the dense weights are no longer read (every node stays) */
    pass_stat_add(ctx, "weights made sparse", made);
    if (ir_infer_shapes(g, ctx->diag) != 0)
        return PASS_ERROR;
    return PASS_CHANGED;
}
