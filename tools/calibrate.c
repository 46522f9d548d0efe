/* --calibrate DATA: the ranges of a model's float activations for static int8, from the reference interpreter on calibration examples. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "tools/cli.h"
#include "tools/data.h"

/* Each float activation's minimum and maximum over the examples and an evenly strided sample of
 * its values (at most CAL_SAMPLE of them). Its range is the clip [f*lo, f*hi], f in 1, 0.975,
 * ..., 0.3, whose uint8 grid has the least mean squared error on the sample: outliers cost less
 * range than they cost resolution everywhere else (f = 1 is min/max). */
#define CAL_SAMPLE (1 << 17)
#define CAL_BATCH 64

typedef struct CalStat {
    bool seen;
    double lo, hi;
    int64_t stride, next;     /* keep value number `next`, then next + stride ... */
    int64_t count;            /* values seen */
    int64_t nsample;
    float *sample;
} CalStat;

static void observe(CalStat *s, const float *x, int64_t n, int64_t per_batch_total)
{
    if (!s->seen) {
        s->seen = true;
        s->lo = INFINITY;
        s->hi = -INFINITY;
        s->stride = per_batch_total / CAL_SAMPLE + 1;
        s->sample = srt_malloc(CAL_SAMPLE * sizeof *s->sample);
        IR_ASSERT(s->sample);
    }
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v))
            continue;
        if (v < s->lo)
            s->lo = v;
        if (v > s->hi)
            s->hi = v;
        if (s->count + i == s->next && s->nsample < CAL_SAMPLE) {
            s->sample[s->nsample++] = v;
            s->next += s->stride;
        }
    }
    s->count += n;
}

/* Mean squared error of the sample on the grid of [lo, hi]. */
static double grid_mse(const CalStat *s, double lo, double hi, int qmax)
{
    float scale;
    int32_t zp;
    pass_act_grid(lo, hi, qmax, &scale, &zp);
    double err = 0;
    for (int64_t i = 0; i < s->nsample; i++) {
        double q = rint(s->sample[i] / scale) + zp;
        q = q < 0 ? 0 : q > qmax ? qmax : q;
        double e = (q - zp) * scale - s->sample[i];
        err += e * e;
    }
    return err;
}

static void choose_range(const CalStat *s, int qmax, float *lo, float *hi)
{
    double best = INFINITY, l0 = s->lo < 0 ? s->lo : 0, h0 = s->hi > 0 ? s->hi : 0;
    *lo = (float)l0;
    *hi = (float)h0;
    for (int i = 0; i <= 28; i++) {
        double f = 1.0 - i / 40.0, e = grid_mse(s, l0 * f, h0 * f, qmax);
        if (e < best) {
            best = e;
            *lo = (float)(l0 * f);
            *hi = (float)(h0 * f);
        }
    }
}

/* col[i]: the dataset column that feeds graph input i; -1 with a diagnostic when they do not fit. */
static int bind_inputs(const IrGraph *g, const CliDataset *ds, int *col, IrDiag *d)
{
    bool named = ds->ncols > 0 && ds->cols[0].name;
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        col[i] = -1;
        for (int c = 0; c < ds->ncols; c++)
            if (named ? !strcmp(ds->cols[c].name, v->name) : c == i)
                col[i] = c;
        if (col[i] < 0) {
            ir_diag_error(d, "--calibrate", "no data for input \"%s\"%s", v->name,
                          named ? " (name it NAME=FILE)" : " (files feed the inputs in order)");
            return -1;
        }
        const CliColumn *c = &ds->cols[col[i]];
        int64_t want = 1, have = 1;
        bool batched = v->shape.rank >= 1 && v->shape.d[0].a == 1 && v->shape.d[0].b == 0;
        for (int k = 1; batched && k < v->shape.rank; k++) {
            batched = v->shape.d[k].a == 0;
            want *= v->shape.d[k].b;
        }
        for (int k = 1; k < c->t.rank; k++)
            have *= c->t.dims[k];
        if (!batched || v->dtype != SRT_F32 || c->t.dtype != SRT_F32 || want != have) {
            ir_diag_error(d, c->file, "cannot feed input \"%s\" for calibration: it takes float32 [N, ...] with %lld "
                          "values per example, the file holds %s with %lld", v->name, (long long)want,
                          srt_dtype_name(c->t.dtype), (long long)have);
            return -1;
        }
    }
    return 0;
}

/* Inputs in[] of g for the b examples of ds from example `at` on. */
static void batch_inputs(const IrGraph *g, const CliDataset *ds, const int *col, int64_t at, int64_t b, IrTensor *in)
{
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        int64_t dims[IR_MAX_RANK];
        dims[0] = b;
        for (int k = 1; k < v->shape.rank; k++)
            dims[k] = v->shape.d[k].b;
        IR_ASSERT(ir_tensor_alloc(&in[i], SRT_F32, v->shape.rank, dims) == 0);
        const CliColumn *c = &ds->cols[col[i]];
        memcpy(in[i].data, (const char *)c->t.data + (size_t)at * c->row_bytes, (size_t)b * c->row_bytes);
    }
}

/* Runs g on the examples of ds, observing every float activation and input. */
static int observe_model(const IrGraph *g, const CliDataset *ds, const int *col, CalStat *st, IrDiag *d)
{
    IrTensor *in = srt_calloc((size_t)g->ninputs + 1, sizeof *in);
    IrTensor *vals = srt_calloc((size_t)g->nvalues + 1, sizeof *vals);
    IR_ASSERT(in && vals);
    int rc = 0;
    for (int64_t at = 0; at < ds->count && rc == 0; at += CAL_BATCH) {
        int64_t b = ds->count - at < CAL_BATCH ? ds->count - at : CAL_BATCH;
        batch_inputs(g, ds, col, at, b, in);
        rc = ir_interp_eval(g, b, in, false, vals, d);
        for (int v = 0; v < g->nvalues; v++) {
            const IrValue *val = g->values[v];
            if (rc == 0 && vals[v].data && val->dtype == SRT_F32 &&
                (val->role == IR_ROLE_INPUT || val->role == IR_ROLE_ACT))
                observe(&st[v], vals[v].data, vals[v].numel, vals[v].numel / b * ds->count);
            ir_tensor_free(&vals[v]);
        }
        for (int i = 0; i < g->ninputs; i++)
            ir_tensor_free(&in[i]);
    }
    free(in);
    free(vals);
    return rc;
}

/* ---- --quantize-report and --quantize-tolerance ------------------------------------------------
 * A layer's error: the relative RMS difference sqrt(sum (q - f)^2 / sum f^2) between its output
 * in the integer model (dequantized when uint8) and the same value of the float model, over the
 * calibration examples; it includes what the layers before it contribute. */

typedef struct LayerErr {
    const char *node;         /* the layer (node name, in the integer model) */
    int qv, fv;               /* its output in the integer model, the same value in the float one */
    bool u8;
    float scale;              /* the uint8 output's grid */
    int32_t zp;
    double err, norm;
} LayerErr;

/* The errors of the integer model that q->pass makes of g. *out (malloc'ed) and *n. */
static int layer_errors(const IrGraph *g, const CliDataset *ds, const int *col, const PassQuantize *pq,
                        LayerErr **out, int *n, IrDiag *d)
{
    IrGraph *qg = ir_graph_clone(g);
    PassContext ctx;
    pass_context_init(&ctx, d);
    ctx.quantize = *pq;
    *out = NULL;
    *n = 0;
    if (pass_compress(qg, &ctx) != 0 || pass_pack_quantized(qg, &ctx) != 0) {
        ir_graph_free(qg);
        return -1;
    }
    LayerErr *L = srt_calloc((size_t)qg->nnodes + 1, sizeof *L);
    IR_ASSERT(L);
    int nl = 0;
    for (int i = 0; i < qg->nnodes; i++) {
        const IrNode *nd = qg->nodes[i];
        int fv = nd->op == IR_OP_INTGEMM ? ir_value_find(g, qg->values[nd->out[0]]->name) : -1;
        if (fv < 0)
            continue;
        LayerErr *e = &L[nl++];
        e->node = nd->name;
        e->qv = nd->out[0];
        e->fv = fv;
        e->u8 = !ir_attr_int(nd, "float_out");
        if (e->u8) {   /* as qint8 made it: a folded Relu's grid starts at 0 */
            const PassRange *r = pass_quant_range(pq, g->values[fv]->name);
            int p = g->values[fv]->producer;
            bool relu = p >= 0 && g->nodes[p]->op == IR_OP_RELU;
            pass_act_grid(relu && r->lo < 0 ? 0 : r->lo, r->hi, (int)ir_attr_int(nd, "qmax"), &e->scale, &e->zp);
        }
    }
    IrTensor *in = srt_calloc((size_t)g->ninputs + 1, sizeof *in);
    IrTensor *fvals = srt_calloc((size_t)g->nvalues + 1, sizeof *fvals);
    IrTensor *qvals = srt_calloc((size_t)qg->nvalues + 1, sizeof *qvals);
    IR_ASSERT(in && fvals && qvals);
    int rc = 0;
    for (int64_t at = 0; at < ds->count && rc == 0; at += CAL_BATCH) {
        int64_t b = ds->count - at < CAL_BATCH ? ds->count - at : CAL_BATCH;
        batch_inputs(g, ds, col, at, b, in);
        rc = ir_interp_eval(g, b, in, false, fvals, d);
        if (rc == 0)
            rc = ir_interp_eval(qg, b, in, false, qvals, d);
        for (int l = 0; rc == 0 && l < nl; l++) {
            const IrTensor *f = &fvals[L[l].fv], *q = &qvals[L[l].qv];
            for (int64_t i = 0; i < f->numel && i < q->numel; i++) {
                double fx = ir_tensor_getf(f, i), qx = ir_tensor_getf(q, i);
                if (L[l].u8)
                    qx = (qx - L[l].zp) * L[l].scale;
                L[l].err += (qx - fx) * (qx - fx);
                L[l].norm += fx * fx;
            }
        }
        for (int v = 0; v < g->nvalues; v++)
            ir_tensor_free(&fvals[v]);
        for (int v = 0; v < qg->nvalues; v++)
            ir_tensor_free(&qvals[v]);
        for (int i = 0; i < g->ninputs; i++)
            ir_tensor_free(&in[i]);
    }
    free(in);
    free(fvals);
    free(qvals);
    for (int l = 0; l < nl; l++) {   /* node names outlive qg */
        L[l].node = srt_strdup(L[l].node);
        IR_ASSERT(L[l].node);
        L[l].err = L[l].norm > 0 ? sqrt(L[l].err / L[l].norm) : sqrt(L[l].err);
    }
    ir_graph_free(qg);
    *out = L;
    *n = nl;
    return rc;
}

static void free_errors(LayerErr *L, int n)
{
    for (int l = 0; l < n; l++)
        free((char *)L[l].node);
    free(L);
}

/* --quantize-tolerance: the first layer above it goes back to float, then the errors again
 * (the layers after it change), until none is above; --quantize-report prints the last errors. */
static int check_layers(const IrGraph *g, const CliDataset *ds, const int *col, CliQuant *q, IrDiag *d)
{
    for (;;) {
        LayerErr *L;
        int n;
        q->pass.keep = (const char *const *)q->keep;
        q->pass.nkeep = q->nkeep;
        if (layer_errors(g, ds, col, &q->pass, &L, &n, d) != 0) {
            free_errors(L, n);
            return -1;
        }
        int over = -1;
        for (int l = 0; l < n && over < 0 && q->tol > 0; l++)
            if (L[l].err > q->tol)
                over = l;
        if (over >= 0) {
            fprintf(stderr, "quantize: layer %s: output error %.4g above --quantize-tolerance %g: kept in float\n",
                    L[over].node, L[over].err, q->tol);
            char **keep = srt_realloc(q->keep, (size_t)(q->nkeep + 1) * sizeof *keep);
            IR_ASSERT(keep);
            q->keep = keep;
            q->keep[q->nkeep++] = srt_strdup(L[over].node);
            IR_ASSERT(q->keep[q->nkeep - 1]);
            free_errors(L, n);
            continue;
        }
        if (q->report) {
            fprintf(stderr, "quantize report: relative RMS error of each integer layer's output against the float "
                    "model on %lld calibration examples\n", (long long)ds->count);
            for (int l = 0; l < n; l++)
                fprintf(stderr, "  %-24s %-5s out  %.4g\n", L[l].node, L[l].u8 ? "uint8" : "float", L[l].err);
            for (int k = 0; k < q->nkeep; k++)
                fprintf(stderr, "  %-24s kept in float\n", q->keep[k]);
            if (n == 0)
                fprintf(stderr, "  (no layer is integer)\n");
        }
        free_errors(L, n);
        q->pass.keep = (const char *const *)q->keep;
        q->pass.nkeep = q->nkeep;
        return 0;
    }
}

static int calibrate(const IrGraph *g0, const PassPrune *prune, CliQuant *q, int qmax, IrDiag *d)
{
    CliDataSpec spec;
    char err[256];
    if (cli_data_parse_spec(q->calibrate, &spec, err, sizeof err) != 0) {
        ir_diag_error(d, "--calibrate", "%s", err);
        return -1;
    }
    CliDataset ds;
    memset(&ds, 0, sizeof ds);
    int rc = cli_data_load(&spec, CLI_DATA_TRAIN, q->nsamples, &ds, d);
    cli_data_spec_free(&spec);
    if (rc != 0)
        return -1;
    IrGraph *g = ir_graph_clone(g0);
    int *col = srt_calloc((size_t)g->ninputs + 1, sizeof *col);
    CalStat *st = srt_calloc((size_t)g->nvalues + 1, sizeof *st);
    IR_ASSERT(col && st);
    if (prune && prune->kind != PASS_PRUNE_NONE) {   /* the ranges of the pruned model */
        PassContext ctx;
        pass_context_init(&ctx, d);
        ctx.prune = *prune;
        rc = pass_compress(g, &ctx);
    }
    if (rc == 0 && ds.count == 0) {
        ir_diag_error(d, ds.cols[0].file, "holds no examples to calibrate with");
        rc = -1;
    }
    if (rc == 0)
        rc = bind_inputs(g, &ds, col, d);
    if (rc == 0)
        rc = observe_model(g, &ds, col, st, d);
    int n = 0;
    for (int v = 0; rc == 0 && v < g->nvalues; v++)
        n += st[v].seen && st[v].count > 0 && st[v].lo <= st[v].hi;
    if (rc == 0) {
        q->ranges = srt_calloc((size_t)n + 1, sizeof *q->ranges);
        IR_ASSERT(q->ranges);
        n = 0;
        for (int v = 0; v < g->nvalues; v++) {
            if (!(st[v].seen && st[v].count > 0 && st[v].lo <= st[v].hi))
                continue;
            PassRange *r = &q->ranges[n++];
            r->name = srt_strdup(g->values[v]->name);
            IR_ASSERT(r->name);
            choose_range(&st[v], qmax, &r->lo, &r->hi);
        }
        q->pass.ranges = q->ranges;
        q->pass.nranges = n;
        if (q->report || q->tol > 0)
            rc = check_layers(g, &ds, col, q, d);
    }
    for (int v = 0; v < g->nvalues; v++)
        free(st[v].sample);
    free(st);
    free(col);
    ir_graph_free(g);
    cli_data_free(&ds);
    return rc;
}

int cli_quantize_calibrate(const IrGraph *g0, const PassPrune *prune, CliQuant *q, const CgOptions *cg, IrDiag *d)
{
    if (q->pass.kind != PASS_QUANT_INT8)
        return 0;
    CgOptions host;
    memset(&host, 0, sizeof host);
    host.opt_level = 2;
    int qmax = cg_int8_activation_max(cg ? cg : &host, d);
    if (qmax < 0)
        return -1;
    q->pass.act_qmax = qmax;
    const char *file = d->file;   /* messages name the data files */
    d->file = NULL;
    int rc = calibrate(g0, prune, q, qmax, d);
    d->file = file;
    return rc;
}
