/* Param data: tensors of the weights file (checked against the declarations), else init specs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"

/* ORDER: follows SrtDtype; safetensors' names for the message about a mismatch. */
static const char *const ST_DTYPES[SRT_DTYPE_COUNT] = {"F32", "F64", "I64", "I32", "I8", "U8", "BOOL", "BF16", "F16"};

static const char *st_dtype(SrtDtype t)
{
    return (unsigned)t < SRT_DTYPE_COUNT ? ST_DTYPES[t] : "?";
}

static void format_dims(char *buf, size_t len, int rank, const int64_t *dims)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* The weights path as the runtime should open it: absolute, or relative to the model's folder. */
static char *weights_path(const IrGraph *g)
{
    const char *w = g->weights, *dir = g->model_dir;
    size_t len = strlen(w) + (dir ? strlen(dir) : 0) + 2;
    char *p = srt_malloc(len);
    IR_ASSERT(p);
    if (w[0] == '/' || !dir || !strcmp(dir, "."))
        snprintf(p, len, "%s", w);
    else
        snprintf(p, len, "%s/%s", dir, w);
    return p;
}

/* Does tensor t of a weights file have param v's dtype and shape? If not, why into why. */
static bool tensor_fits(const SrtTensor *t, const IrValue *v, char *why, size_t len)
{
    char q[FE_QBUF], sb[FE_QBUF], want[160], got[160];
    if (t->dtype != v->dtype) {
        snprintf(why, len, "tensor %s is %s but %s %s is %s", fe_quote(q, t->name), st_dtype(t->dtype), v->where,
                 fe_quote(sb, v->name), fe_dtype_name(v->dtype));
        return false;
    }
    bool same = t->rank == v->shape.rank;
    for (int k = 0; same && k < t->rank; k++)
        same = t->dims[k] == v->shape.d[k].b;
    if (!same) {
        int64_t dims[IR_MAX_RANK];
        for (int k = 0; k < v->shape.rank; k++)
            dims[k] = v->shape.d[k].b;
        format_dims(got, sizeof got, t->rank, t->dims);
        format_dims(want, sizeof want, v->shape.rank, dims);
        snprintf(why, len, "tensor %s has shape %s but %s %s has shape %s", fe_quote(q, t->name), got, v->where,
                 fe_quote(sb, v->name), want);
        return false;
    }
    return true;
}

/* Matches the tensors of the file (label: its path, for messages) to params. */
static bool apply_weights(Fe *c, const SrtTensorFile *tf, const char *label)
{
    IrGraph *g = c->g;
    bool ok = true;
    for (int i = 0; i < tf->count && !c->stop; i++) {
        const SrtTensor *t = &tf->tensors[i];
        char q[FE_QBUF], sb[FE_SBUF];
        int id = ir_value_find(g, t->name);
        if (id < 0 || g->values[id]->role != IR_ROLE_PARAM) {
            FeSuggest s;
            fe_suggest_init(&s, t->name);
            for (int k = 0; k < c->nparams; k++)
                fe_suggest_try(&s, g->values[c->params[k].id]->name);
            fe_error(c, "weights", "%s: tensor %s matches no param of the model%s", label, fe_quote(q, t->name),
                     fe_suggest_text(&s, sb));
            ok = false;
            continue;
        }
        IrValue *v = g->values[id];
        for (int k = 0; k < c->nparams; k++)
            if (c->params[k].id == id)
                c->params[k].in_file = true;
        char why[400];
        if (!tensor_fits(t, v, why, sizeof why)) {
            fe_error(c, "weights", "%s: %s", label, why);
            ok = false;
            continue;
        }
        v->data = ir_arena_memdup(g->arena, t->data, t->nbytes ? t->nbytes : 1);
        v->from_weights = true;
    }
    return ok;
}

bool fe_materialize_params(Fe *c)
{
    IrGraph *g = c->g;
    bool ok = true;
    char *path = NULL;   /* the weights file, for messages */
    if (c->mem_weights) {
        ok = apply_weights(c, c->mem_weights, c->mem_label);
    } else if (g->weights) {
        char err[512];
        SrtTensorFile tf;
        path = weights_path(g);
        if (srt_safetensors_read(path, &tf, err, sizeof err) != SINTER_OK) {
            fe_error(c, "weights", "%s: %s", path, err);
            free(path);
            return false;
        }
        ok = apply_weights(c, &tf, path);
        srt_tensorfile_free(&tf);
    }
    const char *label = c->mem_weights ? c->mem_label : path;
    for (int k = 0; k < c->nparams && !c->stop; k++) {
        IrValue *v = g->values[c->params[k].id];
        const FeInit *init = &c->params[k].init;
        if (v->from_weights || init->kind == FE_INIT_DATA || (c->params[k].in_file && !init->kind))
            continue; /* (a mismatching tensor of the file is reported already) */
        if (init->kind == FE_INIT_NONE) {
            char q[FE_QBUF];
            if (label)
                fe_error(c, v->where, "the weights file %s has no tensor %s and the param has no \"init\"", label,
                         fe_quote(q, v->name));
            else
                fe_error(c, v->where, "the param has no \"init\" and the model names no weights file");
            ok = false;
            continue;
        }
        IrDim numel;
        IR_ASSERT(ir_shape_numel(&v->shape, &numel) && numel.a == 0);
        size_t bytes = (size_t)numel.b * srt_dtype_size(v->dtype); /* checked by the declaration */
        v->data = ir_arena_alloc(g->arena, bytes ? bytes : 1);
        fe_init_fill(init, g->seed, v->name, v->dtype, numel.b, v->data);
    }
    free(path);
    return ok;
}

int fe_apply_weights(IrGraph *g, const char *path, IrDiag *d)
{
    SrtTensorFile tf;
    char err[512];
    if (srt_safetensors_read(path, &tf, err, sizeof err) != SINTER_OK) {
        ir_diag_error(d, path, "%s", err);
        return -1;
    }
    /* every param first (all-or-nothing), then the data */
    const SrtTensor **of = srt_calloc((size_t)g->nvalues + 1, sizeof *of);
    IR_ASSERT(of);
    int bad = 0;
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_PARAM || v->opt_state)
            continue;
        char q[FE_QBUF], why[400];
        if (!(of[id] = srt_tensorfile_find(&tf, v->name))) {
            ir_diag_error(d, path, "has no tensor %s for %s of the model", fe_quote(q, v->name), v->where);
            bad++;
        } else if (!tensor_fits(of[id], v, why, sizeof why)) {
            ir_diag_error(d, path, "%s", why);
            bad++;
        } else if (v->quant || v->sparse) {   /* the file's values must fit the model's records */
            IrValue t = *v;
            t.data = of[id]->data;
            bad += ir_value_check_records(&t, d);
        }
    }
    for (int id = 0; !bad && id < g->nvalues; id++) {
        if (!of[id])
            continue;
        IrValue *v = g->values[id];
        v->data = ir_arena_memdup(g->arena, of[id]->data, of[id]->nbytes ? of[id]->nbytes : 1);
        v->from_weights = true;
    }
    if (!bad) {
        char *abs = realpath(path, NULL);
        g->weights = ir_arena_strdup(g->arena, abs ? abs : path);
        free(abs);
    }
    free(of);
    srt_tensorfile_free(&tf);
    return bad ? -1 : 0;
}
