/* Runs imported models on given tensors (interpreter or JIT) and compares outputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "tests/util/onnxrun.h"

int64_t tu_onnx_batch(const IrGraph *g, const SrtTensor *in, char *err, size_t len)
{
    int64_t n = -1;
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        if (in[i].rank != v->shape.rank) {
            snprintf(err, len, "input %s: rank %d, the model declares %d", v->name, in[i].rank, v->shape.rank);
            return -1;
        }
        for (int k = 0; k < v->shape.rank; k++) {
            IrDim dm = v->shape.d[k];
            if (dm.a == 0)
                continue;
            int64_t m = (in[i].dims[k] - dm.b) / dm.a;
            if (n < 0)
                n = m;
        }
    }
    return n < 1 ? 1 : n;
}

static int to_tensors(const IrGraph *g, int64_t n, const SrtTensor *in, IrTensor *t, char *err, size_t len)
{
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->values[g->inputs[i]];
        int64_t dims[IR_MAX_RANK];
        if (!ir_shape_eval(&v->shape, n, dims) || in[i].rank != v->shape.rank ||
            memcmp(dims, in[i].dims, sizeof(int64_t) * (size_t)in[i].rank) || in[i].dtype != v->dtype) {
            snprintf(err, len, "input %s does not match its declaration", v->name);
            return -1;
        }
        t[i] = (IrTensor){.dtype = v->dtype, .rank = in[i].rank, .numel = (int64_t)(in[i].nbytes / srt_dtype_size(v->dtype)),
                          .data = in[i].data};
        memcpy(t[i].dims, dims, sizeof dims);
    }
    return 0;
}

static void diag_msg(IrDiag *d, const char *what, char *err, size_t len)
{
    snprintf(err, len, "%s: %s", what, ir_diag_first(d) ? ir_diag_first(d) : "failed without a diagnostic");
}

int tu_onnx_interp(const IrGraph *g, int64_t n, const SrtTensor *in, IrTensor *out, char *err, size_t len)
{
    IrTensor *t = calloc((size_t)g->ninputs + 1, sizeof *t);
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    int rc = to_tensors(g, n, in, t, err, len);
    IrDiag d;
    ir_diag_init(&d, NULL);
    if (rc == 0 && (rc = ir_interp_eval(g, n, t, false, vals, &d)) != 0)
        diag_msg(&d, "interpreter", err, len);
    for (int o = 0; o < g->noutputs; o++) {
        out[o] = (IrTensor){0};
        if (rc == 0) {
            const IrTensor *v = &vals[g->outputs[o]];
            ir_tensor_alloc(&out[o], v->dtype, v->rank, v->dims);
            if (v->numel)
                memcpy(out[o].data, v->data, (size_t)v->numel * srt_dtype_size(v->dtype));
        }
    }
    for (int i = 0; i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    ir_diag_free(&d);
    free(vals);
    free(t);
    return rc;
}

int tu_onnx_compile(const IrGraph *g, CgJit **jit, char *err, size_t len)
{
    IrGraph *c = ir_graph_clone(g);
    IrDiag d;
    ir_diag_init(&d, NULL);
    PassContext ctx;
    pass_context_init(&ctx, &d);
    int rc = pass_prepare(c, &ctx, NULL);
    if (rc != 0)
        diag_msg(&d, "passes", err, len);
    else if ((rc = cg_jit_compile(c, NULL, NULL, jit, &d)) != 0)
        diag_msg(&d, "codegen", err, len);
    ir_diag_free(&d);
    ir_graph_free(c);
    return rc;
}

int tu_onnx_jit(const IrGraph *g, CgJit *jit, int64_t n, const SrtTensor *in, IrTensor *out, char *err, size_t len)
{
    const SinterModelInfo *info = cg_jit_info(jit);
    IrTensor *t = calloc((size_t)g->ninputs + 1, sizeof *t);
    void **args = calloc((size_t)(g->ninputs + g->noutputs) + 1, sizeof *args);
    int rc = to_tensors(g, n, in, t, err, len);
    for (int i = 0; i < g->ninputs; i++)
        args[i] = t[i].data;
    for (int o = 0; o < g->noutputs; o++) {
        const IrValue *v = g->values[g->outputs[o]];
        int64_t dims[IR_MAX_RANK];
        out[o] = (IrTensor){0};
        if (rc == 0 && (!ir_shape_eval(&v->shape, n, dims) || ir_tensor_alloc(&out[o], v->dtype, v->shape.rank, dims))) {
            snprintf(err, len, "output %s: bad shape", v->name);
            rc = -1;
        }
        if (rc == 0 && out[o].numel)
            memset(out[o].data, 0x7f, (size_t)out[o].numel * srt_dtype_size(v->dtype)); /* poison */
        args[g->ninputs + o] = out[o].data;
    }
    if (rc == 0) {
        void *m = info->create();
        if (!m) {
            snprintf(err, len, "create failed");
            rc = -1;
        } else {
            info->set_num_threads(m, 1);
            if ((rc = info->infer(m, n, args)) != 0)
                snprintf(err, len, "infer: %s", info->error(m));
            info->destroy(m);
        }
    }
    free(args);
    free(t);
    return rc;
}

bool tu_onnx_compare(const char *what, const IrTensor *got, const SrtTensor *want, double rtol, double atol,
                     double *max_err, char *err, size_t len)
{
    if (max_err)
        *max_err = 0;
    if (got->rank != want->rank || memcmp(got->dims, want->dims, sizeof(int64_t) * (size_t)got->rank)) {
        snprintf(err, len, "%s: shape differs from the expected one", what);
        return false;
    }
    if (got->dtype != want->dtype) {
        snprintf(err, len, "%s: dtype %s, expected %s", what, srt_dtype_name(got->dtype), srt_dtype_name(want->dtype));
        return false;
    }
    IrTensor w = {.dtype = want->dtype, .rank = want->rank, .numel = got->numel, .data = want->data};
    bool ok = true;
    for (int64_t i = 0; i < got->numel; i++) {
        if (ir_dtype_is_float(got->dtype)) {
            double a = ir_tensor_getf(got, i), b = ir_tensor_getf(&w, i);
            bool good = isnan(b) ? isnan(a) : isinf(b) ? a == b : fabs(a - b) <= atol + rtol * fabs(b);
            if (max_err && isfinite(a) && isfinite(b) && fabs(a - b) > *max_err)
                *max_err = fabs(a - b);
            if (!good && ok) {
                snprintf(err, len, "%s[%lld] = %.9g, expected %.9g", what, (long long)i, a, b);
                ok = false;
            }
        } else if (ir_tensor_geti(got, i) != ir_tensor_geti(&w, i)) {
            snprintf(err, len, "%s[%lld] = %lld, expected %lld", what, (long long)i, (long long)ir_tensor_geti(got, i),
                     (long long)ir_tensor_geti(&w, i));
            return false;
        }
    }
    return ok;
}
