/* Pass prune: zeroes weights (magnitude, global magnitude, N:M) or removes whole output channels (structured), as PassContext.prune asks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

/* The weights pruning considers: in[1] of Gemm, MatMul and Conv when it is a float32 param with
 * data. Unstructured pruning zeroes the smallest |w|; the param gets a sparsity record. Structured
 * pruning (channels) removes the output channels of lowest L2 norm from a Gemm or Conv whose output
 * reaches exactly one consumer weight through channel-wise ops only, and the matching inputs of
 * that consumer; anything else on the way (a residual Add, a Concat, a graph output, the loss)
 * leaves the layer alone. Pruned params lose their init spec: their values are now data. */

int pass_prune_parse(const char *spec, PassPrune *out, char *err, size_t len)
{
    memset(out, 0, sizeof *out);
    const char *colon = strchr(spec, ':');
    char *end;
    if (colon && (!strncmp(spec, "magnitude:", 10) || !strncmp(spec, "global-magnitude:", 17) ||
                  !strncmp(spec, "channels:", 9))) {
        out->kind = spec[0] == 'm' ? PASS_PRUNE_MAGNITUDE : spec[0] == 'g' ? PASS_PRUNE_GLOBAL : PASS_PRUNE_CHANNELS;
        out->sparsity = strtod(colon + 1, &end);
        if (end == colon + 1 || *end || !(out->sparsity >= 0 && out->sparsity < 1)) {
            snprintf(err, len, "expects a sparsity S in [0, 1) after \"%.*s\", got \"%s\"", (int)(colon - spec + 1),
                     spec, colon + 1);
            return -1;
        }
        return 0;
    }
    long n = strtol(spec, &end, 10);
    if (end != spec && *end == ':') {
        const char *m_text = end + 1;
        long m = strtol(m_text, &end, 10);
        if (end != m_text && !*end && n >= 1 && m > n && m <= 64) {
            out->kind = PASS_PRUNE_NM;
            out->n = (int)n;
            out->m = (int)m;
            return 0;
        }
    }
    snprintf(err, len, "expects magnitude:S, global-magnitude:S, channels:S (S in [0, 1)) or N:M such as 2:4, "
             "got \"%s\"", spec);
    return -1;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int64_t numel_of(const IrValue *v)
{
    IrDim c;
    return ir_shape_numel(&v->shape, &c) && c.a == 0 ? c.b : -1;
}

/* A float32 param with data whose values this pass may rewrite. */
static bool prunable_param(const IrGraph *g, int id)
{
    if (id < 0)
        return false;
    const IrValue *v = g->values[id];
    return v->role == IR_ROLE_PARAM && !v->opt_state && v->dtype == SRT_F32 && v->data && numel_of(v) > 0;
}

static bool is_weight_slot(const IrNode *n)
{
    return (n->op == IR_OP_GEMM || n->op == IR_OP_MATMUL || n->op == IR_OP_CONV) && n->nin >= 2;
}

/* The values changed: they are data now, no longer the init spec or the weights file's. */
static void mark_rewritten(IrValue *v)
{
    v->init_json = NULL;
    v->from_weights = false;
}

static void set_sparse_record(IrGraph *g, IrValue *v, IrSparseFormat f, int64_t b0, int64_t b1)
{
    IrSparse s = {.format = f, .block = {b0, b1}, .nnz = ir_count_nonzero(v->dtype, v->data, numel_of(v))};
    v->sparse = ir_sparse_copy(g->arena, &s);
}

/* ---- unstructured ------------------------------------------------------------------------- */

typedef struct Mag {
    float a;                  /* |w| */
    int layer;
    int64_t i;
} Mag;

static int cmp_mag(const void *x, const void *y)
{
    const Mag *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    if (p->layer != q->layer)
        return p->layer < q->layer ? -1 : 1;
    return p->i < q->i ? -1 : p->i > q->i;
}

/* The weight params of the graph, each once: ids[0..*count). */
static int *weight_params(const IrGraph *g, int *count)
{
    int *ids = srt_malloc(((size_t)g->nvalues + 1) * sizeof *ids);
    bool *seen = srt_calloc((size_t)g->nvalues + 1, sizeof *seen);
    IR_ASSERT(ids && seen);
    *count = 0;
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        if (is_weight_slot(n) && prunable_param(g, n->in[1]) && !seen[n->in[1]]) {
            seen[n->in[1]] = true;
            ids[(*count)++] = n->in[1];
        }
    }
    free(seen);
    return ids;
}

/* Zeroes the k smallest of the listed weights (one ranking over all of them). */
static int64_t zero_smallest(IrGraph *g, const int *ids, int nids, double sparsity)
{
    int64_t total = 0;
    for (int l = 0; l < nids; l++)
        total += numel_of(g->values[ids[l]]);
    Mag *m = srt_malloc(((size_t)total + 1) * sizeof *m);
    IR_ASSERT(m);
    int64_t j = 0;
    for (int l = 0; l < nids; l++) {
        const float *w = g->values[ids[l]]->data;
        for (int64_t i = 0, n = numel_of(g->values[ids[l]]); i < n; i++)
            m[j++] = (Mag){fabsf(w[i]), l, i};
    }
    qsort(m, (size_t)total, sizeof *m, cmp_mag);
    int64_t k = (int64_t)llround(sparsity * (double)total), zeroed = 0;
    for (int l = 0; l < nids; l++) {
        IrValue *v = g->values[ids[l]];
        v->data = ir_arena_memdup(g->arena, v->data, (size_t)numel_of(v) * sizeof(float));
        mark_rewritten(v);
    }
    for (int64_t t = 0; t < k; t++) {
        float *w = g->values[ids[m[t].layer]]->data;
        zeroed += w[m[t].i] != 0;
        w[m[t].i] = 0;
    }
    for (int l = 0; l < nids; l++)
        set_sparse_record(g, g->values[ids[l]], IR_SPARSE_CSR, 1, 1);
    free(m);
    return zeroed;
}

/* N:M along the last dim: in each run of m keep the n largest |w| (the earlier on ties). */
static int64_t prune_nm(IrGraph *g, IrValue *v, int n, int m, PassContext *ctx)
{
    int64_t numel = numel_of(v), cols = v->shape.rank ? v->shape.d[v->shape.rank - 1].b : 0;
    if (cols % m != 0) {
        pass_stat_add(ctx, "weights left dense (last dim not a multiple of M)", 1);
        return 0;
    }
    float *w = ir_arena_memdup(g->arena, v->data, (size_t)numel * sizeof(float));
    int64_t zeroed = 0;
    Mag run[64];
    for (int64_t s = 0; s < numel; s += m) {
        for (int k = 0; k < m; k++)
            run[k] = (Mag){fabsf(w[s + k]), 0, -(int64_t)k};   /* larger first; ties: earlier first */
        qsort(run, (size_t)m, sizeof *run, cmp_mag);
        for (int k = 0; k < m - n; k++) {   /* the m - n smallest */
            int64_t i = s - run[k].i;
            zeroed += w[i] != 0;
            w[i] = 0;
        }
    }
    v->data = w;
    mark_rewritten(v);
    set_sparse_record(g, v, IR_SPARSE_NM, n, m);
    return zeroed;
}

/* ---- structured --------------------------------------------------------------------------- */

/* What removing channels of a producer touches. */
typedef struct Cut {
    int nvec;                 /* per-channel vectors to shrink: bias, BatchNorm scale/B/mean/var */
    int vec[16];
    int consumer;             /* the consumer's weight param */
    int axis;                 /* its axis holding the channels */
    int64_t per_channel;      /* elements of that axis per channel (Flatten of a conv output: H*W) */
} Cut;

/* Follows value y (the producer's output, channels on axis 1) to its one consumer weight. */
static bool trace(const IrGraph *g, int y, int64_t channels, Cut *cut)
{
    int cur = y;
    cut->per_channel = 1;
    bool flat = false;
    for (;;) {
        int ni = -1;
        if (pass_value_uses(g, cur, &ni) != 1)
            return false;
        const IrNode *n = g->nodes[ni];
        if (n->in[0] != cur)
            return false;
        bool extra_outputs = false;
        for (int k = 1; k < n->nout; k++) {
            int dummy;
            extra_outputs |= n->out[k] >= 0 && pass_value_uses(g, n->out[k], &dummy) > 0;
        }
        if (extra_outputs)
            return false;
        const IrValue *in = g->values[cur];
        switch (n->op) {
        case IR_OP_RELU: case IR_OP_LEAKYRELU: case IR_OP_SIGMOID: case IR_OP_TANH: case IR_OP_GELU:
        case IR_OP_IDENTITY:
            break;
        case IR_OP_DROPOUT:
            break;
        case IR_OP_MAXPOOL: case IR_OP_AVGPOOL:
            if (flat)
                return false;
            break;
        case IR_OP_BATCHNORM:
            if (flat || !ir_batchnorm_is_affine(g, n))
                return false;
            for (int k = 1; k < 5; k++) {
                int dummy;
                if (!prunable_param(g, n->in[k]) && !(n->in[k] >= 0 && g->values[n->in[k]]->role == IR_ROLE_CONST))
                    return false;
                if (pass_value_uses(g, n->in[k], &dummy) != 1 || numel_of(g->values[n->in[k]]) != channels ||
                    cut->nvec == 16)
                    return false;
                cut->vec[cut->nvec++] = n->in[k];
            }
            break;
        case IR_OP_FLATTEN:
            if (flat || ir_attr_int(n, "axis") != 1 || !in->typed || in->shape.rank < 3)
                return false;
            for (int k = 2; k < in->shape.rank; k++) {
                if (in->shape.d[k].a != 0)
                    return false;
                cut->per_channel *= in->shape.d[k].b;
            }
            flat = true;
            break;
        case IR_OP_GEMM: case IR_OP_CONV: {
            int w = n->in[1], dummy;
            if (!prunable_param(g, w) || pass_value_uses(g, w, &dummy) != 1)
                return false;
            if (n->op == IR_OP_GEMM) {
                if (ir_attr_int(n, "transA") != 0 || in->shape.rank != 2)
                    return false;
                cut->axis = ir_attr_int(n, "transB") ? 1 : 0;
            } else {
                if (flat || ir_attr_int(n, "group") != 1)
                    return false;
                cut->axis = 1;
            }
            cut->consumer = w;
            return g->values[w]->shape.d[cut->axis].b == channels * cut->per_channel;
        }
        default:
            return false;
        }
        if (n->nout < 1 || n->out[0] < 0)
            return false;
        cur = n->out[0];
    }
}

/* Keeps the indices i of axis where keep[i / per] in v (a param or constant with data). */
static void slice_axis(IrGraph *g, IrValue *v, int axis, const bool *keep, int64_t per)
{
    int64_t outer = 1, inner = 1, len = v->shape.d[axis].b, kept = 0;
    for (int k = 0; k < axis; k++)
        outer *= v->shape.d[k].b;
    for (int k = axis + 1; k < v->shape.rank; k++)
        inner *= v->shape.d[k].b;
    for (int64_t i = 0; i < len; i++)
        kept += keep[i / per];
    size_t esz = srt_dtype_size(v->dtype);
    uint8_t *dst = ir_arena_alloc(g->arena, (size_t)(outer * kept * inner) * esz + 1), *p = dst;
    const uint8_t *src = v->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < len; i++)
            if (keep[i / per]) {
                memcpy(p, src + (size_t)((o * len + i) * inner) * esz, (size_t)inner * esz);
                p += (size_t)inner * esz;
            }
    v->data = dst;
    v->shape.d[axis] = ir_dim_const(kept);
    v->quant = NULL;
    v->sparse = NULL;
    if (v->role == IR_ROLE_PARAM)
        mark_rewritten(v);
}

typedef struct Norm {
    double norm;
    int64_t c;
} Norm;

static int cmp_norm(const void *x, const void *y)
{
    const Norm *p = x, *q = y;
    if (p->norm != q->norm)
        return p->norm < q->norm ? -1 : 1;
    return p->c < q->c ? -1 : p->c > q->c;
}

/* Removes the weakest channels of producer n; returns how many, 0 if the layer cannot be cut. */
static int64_t prune_channels(IrGraph *g, IrNode *n, double sparsity)
{
    if ((n->op != IR_OP_GEMM && n->op != IR_OP_CONV) || n->nout < 1 || n->out[0] < 0)
        return 0;
    int w = n->in[1], dummy;
    if (!prunable_param(g, w) || pass_value_uses(g, w, &dummy) != 1)
        return 0;
    IrValue *wv = g->values[w];
    int axis = 0;
    if (n->op == IR_OP_GEMM) {
        if (ir_attr_int(n, "transA") != 0 || wv->shape.rank != 2)
            return 0;
        axis = ir_attr_int(n, "transB") ? 0 : 1;
    } else if (ir_attr_int(n, "group") != 1) {
        return 0;
    }
    int64_t channels = wv->shape.d[axis].b, cut_count = (int64_t)floor(sparsity * (double)channels);
    if (cut_count >= channels)
        cut_count = channels - 1;
    if (cut_count <= 0)
        return 0;
    Cut cut;
    memset(&cut, 0, sizeof cut);
    if (n->nin > 2 && n->in[2] >= 0) {
        int b = n->in[2];
        const IrValue *bv = g->values[b];
        if (numel_of(bv) == channels && bv->shape.rank >= 1 && bv->shape.d[bv->shape.rank - 1].b == channels &&
            pass_value_uses(g, b, &dummy) == 1 && (prunable_param(g, b) || bv->role == IR_ROLE_CONST))
            cut.vec[cut.nvec++] = b;
        else if (numel_of(bv) != 1)
            return 0;
    }
    if (!trace(g, n->out[0], channels, &cut))
        return 0;
    /* L2 norms of the output channels */
    Norm *norms = srt_calloc((size_t)channels, sizeof *norms);
    bool *keep = srt_malloc((size_t)channels);
    IR_ASSERT(norms && keep);
    const float *x = wv->data;
    int64_t numel = numel_of(wv), inner = numel / channels / (axis == 0 ? 1 : wv->shape.d[0].b);
    for (int64_t c = 0; c < channels; c++)
        norms[c].c = c;
    for (int64_t i = 0; i < numel; i++) {
        int64_t c = axis == 0 ? i / (numel / channels) : (i / inner) % channels;
        norms[c].norm += (double)x[i] * x[i];
    }
    qsort(norms, (size_t)channels, sizeof *norms, cmp_norm);
    memset(keep, 1, (size_t)channels);
    for (int64_t t = 0; t < cut_count; t++)
        keep[norms[t].c] = false;
    slice_axis(g, wv, axis, keep, 1);
    for (int k = 0; k < cut.nvec; k++) {
        IrValue *v = g->values[cut.vec[k]];
        slice_axis(g, v, v->shape.rank - 1, keep, 1);
    }
    slice_axis(g, g->values[cut.consumer], cut.axis, keep, cut.per_channel);
    free(norms);
    free(keep);
    return cut_count;
}

PassResult pass_prune(IrGraph *g, PassContext *ctx)
{
    const PassPrune *o = &ctx->prune;
    if (o->kind == PASS_PRUNE_NONE)
        return PASS_UNCHANGED;
    if (g->training && g->training->has_backward) {
        ir_diag_error(ctx->diag, g->name, "prune runs on a model, before autodiff builds its training graph");
        return PASS_ERROR;
    }
    int nids;
    int *ids = weight_params(g, &nids);
    int64_t zeroed = 0, removed = 0;
    switch (o->kind) {
    case PASS_PRUNE_MAGNITUDE:
        for (int l = 0; l < nids; l++)
            zeroed += zero_smallest(g, &ids[l], 1, o->sparsity);
        break;
    case PASS_PRUNE_GLOBAL:
        zeroed = nids ? zero_smallest(g, ids, nids, o->sparsity) : 0;
        break;
    case PASS_PRUNE_NM:
        for (int l = 0; l < nids; l++)
            zeroed += prune_nm(g, g->values[ids[l]], o->n, o->m, ctx);
        break;
    case PASS_PRUNE_CHANNELS:
        for (int i = 0; i < g->nnodes; i++)
            removed += prune_channels(g, g->nodes[i], o->sparsity);
        break;
    case PASS_PRUNE_NONE:
        break;
    }
    free(ids);
    if (zeroed)
        pass_stat_add(ctx, "weights zeroed", zeroed);
    if (removed) {
        pass_stat_add(ctx, "channels removed", removed);
        /* the activations between a cut producer and its consumer are narrower now */
        if (ir_infer_shapes(g, ctx->diag) != 0)
            return PASS_ERROR;
    }
    return zeroed || removed ? PASS_CHANGED : PASS_UNCHANGED;
}
