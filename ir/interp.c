/* Reference interpreter driver: runs each node's plain-C reference kernel in order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* Allocate vals[v] with v's inferred shape at batch n. */
static int alloc_value(const IrGraph *g, const IrValue *v, int64_t n, IrTensor *t, IrDiag *d)
{
    int64_t dims[IR_MAX_RANK];
    if (!ir_shape_eval(&v->shape, n, dims)) {
        ir_diag_error(d, v->name, "shape is negative or overflows at N=%lld", (long long)n);
        return -1;
    }
    if (ir_tensor_alloc(t, v->dtype, v->shape.rank, dims) != 0) {
        ir_diag_error(d, v->name, "cannot allocate the tensor at N=%lld", (long long)n);
        return -1;
    }
    return 0;
}

static int run_node(const IrGraph *g, const IrNode *nd, int64_t n, IrTensor *vals, IrDiag *d)
{
    /* variadic ops (Concat, Max, Split) may have any number of inputs/outputs */
    IrTensor **in = srt_malloc(((size_t)nd->nin + 1) * sizeof *in);
    IrTensor **out = srt_malloc(((size_t)nd->nout + 1) * sizeof *out);
    IR_ASSERT(in && out);
    int rc = 0;
    for (int k = 0; k < nd->nin; k++)
        in[k] = nd->in[k] >= 0 ? &vals[nd->in[k]] : NULL;
    for (int k = 0; k < nd->nout && rc == 0; k++) {
        out[k] = NULL;
        if (nd->out[k] >= 0) {
            out[k] = &vals[nd->out[k]];
            ir_tensor_free(out[k]);
            rc = alloc_value(g, g->values[nd->out[k]], n, out[k], d);
        }
    }
    if (rc == 0)
        rc = ir_op_info(nd->op)->ref(g, nd, in, out, d);
    free(in);
    free(out);
    return rc;
}

int ir_interp_eval(const IrGraph *g, int64_t n, const IrTensor *inputs, bool with_loss,
                   IrTensor *vals, IrDiag *d)
{
    int k = 0;
    int ntrain = (with_loss && g->training) ? g->training->ninputs : 0;
    for (int i = 0; i < g->ninputs + ntrain; i++, k++) {
        int id = i < g->ninputs ? g->inputs[i] : g->training->inputs[i - g->ninputs];
        const IrValue *v = g->values[id];
        if (alloc_value(g, v, n, &vals[id], d) != 0)
            return -1;
        const IrTensor *src = &inputs[k];
        bool same = src->dtype == v->dtype && src->rank == v->shape.rank;
        for (int r = 0; same && r < src->rank; r++)
            same = src->dims[r] == vals[id].dims[r];
        if (!same) {
            char want[128];
            ir_type_format(v->dtype, &v->shape, want, sizeof want);
            ir_diag_error(d, v->name, "input does not match the declared type %s at N=%lld", want, (long long)n);
            return -1;
        }
        if (src->numel)
            memcpy(vals[id].data, src->data, (size_t)src->numel * srt_dtype_size(src->dtype));
    }
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if ((v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST) && v->data) {
            if (alloc_value(g, v, n, &vals[id], d) != 0)
                return -1;
            if (vals[id].numel)
                memcpy(vals[id].data, v->data, (size_t)vals[id].numel * srt_dtype_size(v->dtype));
        } else if (v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST) {
            ir_diag_error(d, v->name, "%s has no data", v->role == IR_ROLE_PARAM ? "param" : "constant");
            return -1;
        }
    }
    /* a training graph's backward nodes read training inputs, which only come with the loss */
    for (int i = 0; !ntrain && i < g->nnodes; i++)
        for (int k2 = 0; k2 < g->nodes[i]->nin; k2++) {
            int id = g->nodes[i]->in[k2];
            if (id >= 0 && g->values[id]->training_input) {
                ir_node_error(d, g->nodes[i], "reads training input \"%s\": a training graph runs as a training "
                              "step, not for inference", g->values[id]->name);
                return -1;
            }
        }
    for (int i = 0; i < g->nnodes; i++)
        if (run_node(g, g->nodes[i], n, vals, d) != 0)
            return -1;
    if (with_loss && g->training && g->training->loss)
        if (run_node(g, g->training->loss, n, vals, d) != 0)
            return -1;
    return 0;
}

int ir_interp_check_finite(const IrGraph *g, const IrTensor *vals, IrDiag *d)
{
    for (int i = 0; i < g->noutputs; i++) {
        const IrValue *v = g->values[g->outputs[i]];
        const IrTensor *t = &vals[v->id];
        if (!ir_dtype_is_float(t->dtype))
            continue;
        for (int64_t j = 0; j < t->numel; j++) {
            double x = ir_tensor_getf(t, j);
            if (isfinite(x))
                continue;
            const IrNode *pn = v->producer >= 0 ? g->nodes[v->producer] : NULL;
            const char *what = isnan(x) ? "NaN" : x > 0 ? "+inf" : "-inf";
            if (pn && pn->name && *pn->name)
                ir_diag_error(d, NULL, "output \"%s\" (node \"%s\", %s) holds %s at element %lld (--check-finite)",
                              v->name, pn->name, ir_op_name(pn->op), what, (long long)j);
            else
                ir_diag_error(d, NULL, "output \"%s\"%s%s%s holds %s at element %lld (--check-finite)", v->name,
                              pn ? " (" : "", pn ? ir_op_name(pn->op) : "", pn ? ")" : "", what, (long long)j);
            return -1;
        }
    }
    return 0;
}
