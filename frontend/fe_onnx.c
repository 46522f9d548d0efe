/* ONNX import: the ONNX graph -> a model in sinter's JSON format plus its initializers. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"
#include "frontend/fe_onnx_impl.h"

#define DEFAULT_MAX_BYTES ((size_t)1 << 36)
#define MAX_ONNX_FILE_BYTES ((size_t)1 << 31)

/* ---- diagnostics ---------------------------------------------------------------------- */

void ox_error(Ox *x, const char *where, const char *fmt, ...)
{
    if (x->stop)
        return;
    if (x->nerr >= OX_MAX_ERRORS) {
        ir_diag_error(x->d, NULL, "too many errors (%d); stopping", x->nerr);
        x->stop = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(x->d, where, fmt, ap);
    va_end(ap);
    x->nerr++;
}

const char *ox_node_where(char *buf, const Onnx__NodeProto *n, int index)
{
    char q[FE_QBUF];
    const char *op = n->op_type ? n->op_type : "";
    if (n->name && *n->name)
        snprintf(buf, 256, "node %d %s (%.60s)", index, fe_quote(q, n->name), op);
    else
        snprintf(buf, 256, "node %d (%.60s)", index, op);
    return buf;
}

void ox_unsupported(Ox *x, const Onnx__NodeProto *n, int index)
{
    char op[160], node[FE_QBUF];
    const char *dom = n->domain && *n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : NULL;
    snprintf(op, sizeof op, "%.60s%s%.60s", dom ? dom : "", dom ? "." : "", n->op_type ? n->op_type : "");
    if (n->name && *n->name)
        fe_quote(node, n->name);
    else
        snprintf(node, sizeof node, "#%d", index);
    if (x->nunsup == x->cap_unsup) {
        x->cap_unsup = x->cap_unsup ? 2 * x->cap_unsup : 8;
        x->unsup = srt_realloc(x->unsup, (size_t)x->cap_unsup * sizeof *x->unsup);
        IR_ASSERT(x->unsup);
    }
    x->unsup[x->nunsup].op = srt_strdup(op);
    x->unsup[x->nunsup].node = srt_strdup(node);
    IR_ASSERT(x->unsup[x->nunsup].op && x->unsup[x->nunsup].node);
    x->nunsup++;
}

/* "unsupported ops (opset 13): Foo (nodes "a", "b"), Bar (node #4)": one line, ops in order of
 * first use, at most 8 node names each. */
static void report_unsupported(Ox *x)
{
    if (!x->nunsup)
        return;
    size_t cap = 256, len = 0;
    char *buf = srt_malloc(cap);
    IR_ASSERT(buf);
    buf[0] = 0;
    int nops = 0;
    for (int i = 0; i < x->nunsup; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(x->unsup[j].op, x->unsup[i].op);
        if (seen)
            continue;
        int count = 0;
        for (int j = i; j < x->nunsup; j++)
            count += !strcmp(x->unsup[j].op, x->unsup[i].op);
        char piece[1200];
        size_t o = (size_t)snprintf(piece, sizeof piece, "%s%s (node%s ", nops ? ", " : "", x->unsup[i].op,
                                    count > 1 ? "s" : "");
        int shown = 0;
        for (int j = i; j < x->nunsup && o < sizeof piece; j++) {
            if (strcmp(x->unsup[j].op, x->unsup[i].op))
                continue;
            if (shown == 8) {
                o += (size_t)snprintf(piece + o, sizeof piece - o, ", ... %d more", count - shown);
                break;
            }
            o += (size_t)snprintf(piece + o, sizeof piece - o, "%s%s", shown ? ", " : "", x->unsup[j].node);
            shown++;
        }
        if (o < sizeof piece)
            snprintf(piece + o, sizeof piece - o, ")");
        size_t pl = strlen(piece);
        if (len + pl + 1 > cap) {
            cap = 2 * (len + pl + 1);
            buf = srt_realloc(buf, cap);
            IR_ASSERT(buf);
        }
        memcpy(buf + len, piece, pl + 1);
        len += pl;
        nops++;
    }
    ox_error(x, NULL, "unsupported op%s (opset %lld): %s", nops > 1 ? "s" : "", (long long)x->opset, buf);
    free(buf);
}

/* ---- names ------------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static OxName *slot(Ox *x, const char *name)
{
    size_t mask = x->cap_names - 1, i = (size_t)hash_str(name) & mask;
    while (x->names[i].name && strcmp(x->names[i].name, name))
        i = (i + 1) & mask;
    return &x->names[i];
}

OxName *ox_name(Ox *x, const char *name)
{
    if (!x->cap_names || !name)
        return NULL;
    OxName *e = slot(x, name);
    return e->name ? e : NULL;
}

OxName *ox_reserve(Ox *x, const char *name)
{
    if (2 * (x->nnames + 1) > x->cap_names) {
        size_t old = x->cap_names;
        OxName *tab = x->names;
        x->cap_names = old ? 2 * old : 256;
        x->names = srt_calloc(x->cap_names, sizeof *x->names);
        IR_ASSERT(x->names);
        for (size_t i = 0; i < old; i++)
            if (tab[i].name)
                *slot(x, tab[i].name) = tab[i];
        free(tab);
    }
    OxName *e = slot(x, name);
    if (!e->name) {
        e->name = srt_strdup(name);
        IR_ASSERT(e->name);
        e->kind = OX_FREE;
        e->tensor = -1;
        x->nnames++;
    }
    return e;
}

OxName *ox_declare(Ox *x, const char *name, OxKind kind, const char *where)
{
    char q[FE_QBUF];
    OxName *e = ox_reserve(x, name);
    if (e->kind != OX_FREE) {
        ox_error(x, where, "tensor %s is defined twice", fe_quote(q, name));
        return NULL;
    }
    e->kind = kind;
    return e;
}

const char *ox_fresh(Ox *x, const char *base)
{
    static _Thread_local char buf[FE_QUOTE_MAX + 32];
    do
        snprintf(buf, sizeof buf, "%.*s:%d", FE_QUOTE_MAX, base && *base ? base : "t", ++x->fresh);
    while (ox_name(x, buf));
    return buf;
}

/* ---- the model being written ------------------------------------------------------------- */

static cJSON *raw(const char *text)
{
    cJSON *r = cJSON_CreateRaw(text);
    IR_ASSERT(r);
    return r;
}

/* Element i of t as JSON (floats with the digits that read back, nan/inf as strings). */
static cJSON *element(const SrtTensor *t, int64_t i)
{
    char buf[40];
    double f;
    switch (t->dtype) {
    case SRT_F32:
        f = ((const float *)t->data)[i];
        if (isfinite(f))
            return raw(fe_fmt_f32(buf, (float)f));
        break;
    case SRT_F64:
        f = ((const double *)t->data)[i];
        if (isfinite(f))
            return raw(fe_fmt_f64(buf, f));
        break;
    case SRT_I64: snprintf(buf, sizeof buf, "%lld", (long long)((const int64_t *)t->data)[i]); return raw(buf);
    case SRT_I32: snprintf(buf, sizeof buf, "%d", (int)((const int32_t *)t->data)[i]); return raw(buf);
    case SRT_I8: snprintf(buf, sizeof buf, "%d", (int)((const int8_t *)t->data)[i]); return raw(buf);
    case SRT_U8: snprintf(buf, sizeof buf, "%d", (int)((const uint8_t *)t->data)[i]); return raw(buf);
    case SRT_BOOL: return cJSON_CreateBool(((const uint8_t *)t->data)[i] != 0);
    default: IR_ASSERT(!"dtype");
    }
    return cJSON_CreateString(isnan(f) ? "nan" : f > 0 ? "inf" : "-inf");
}

static cJSON *shape_json(const SrtTensor *t)
{
    cJSON *s = cJSON_CreateArray();
    for (int k = 0; k < t->rank; k++) {
        char buf[24];
        snprintf(buf, sizeof buf, "%lld", (long long)t->dims[k]);
        cJSON_AddItemToArray(s, raw(buf));
    }
    return s;
}

cJSON *ox_tensor_json(const SrtTensor *t, bool with_data);
cJSON *ox_tensor_json(const SrtTensor *t, bool with_data)
{
    cJSON *o = cJSON_CreateObject();
    if (t->name)
        cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "dtype", fe_dtype_name(t->dtype));
    cJSON_AddItemToObject(o, "shape", shape_json(t));
    if (with_data) {
        cJSON *d = cJSON_CreateArray();
        int64_t n = (int64_t)(t->nbytes / srt_dtype_size(t->dtype));
        for (int64_t i = 0; i < n; i++)
            cJSON_AddItemToArray(d, element(t, i));
        cJSON_AddItemToObject(o, "data", d);
    }
    return o;
}

bool ox_add_tensor(Ox *x, SrtTensor *t, bool as_param, bool trainable, const char *where)
{
    OxName *e = ox_declare(x, t->name, as_param ? OX_PARAM : OX_CONST, where);
    if (!e) {
        srt_tensor_free(t);
        return false;
    }
    if (x->ntensors == x->cap_tensors) {
        x->cap_tensors = x->cap_tensors ? 2 * x->cap_tensors : 32;
        x->tensors = srt_realloc(x->tensors, (size_t)x->cap_tensors * sizeof *x->tensors);
        x->weights = srt_realloc(x->weights, (size_t)x->cap_tensors * sizeof *x->weights);
        IR_ASSERT(x->tensors && x->weights);
    }
    e->tensor = x->ntensors;
    x->weights[x->ntensors] = as_param;
    x->tensors[x->ntensors++] = *t;
    const SrtTensor *s = &x->tensors[e->tensor];
    cJSON *o = ox_tensor_json(s, !as_param);
    if (as_param) {
        if (!trainable && ir_dtype_is_float(s->dtype))
            cJSON_AddFalseToObject(o, "trainable");
        cJSON_AddItemToArray(x->params, o);
    } else {
        cJSON_AddItemToArray(x->constants, o);
    }
    return true;
}

const SrtTensor *ox_const_data(Ox *x, const char *name)
{
    OxName *e = ox_name(x, name);
    return e && e->kind == OX_CONST && e->tensor >= 0 ? &x->tensors[e->tensor] : NULL;
}

static const char *new_const(Ox *x, const char *base, IrDtype dt, const void *v, int n, bool rank0)
{
    SrtTensor t = {.dtype = dt, .rank = rank0 ? 0 : 1};
    t.dims[0] = n;
    t.nbytes = (size_t)n * srt_dtype_size(dt);
    t.data = srt_malloc(t.nbytes ? t.nbytes : 1);
    t.name = srt_strdup(ox_fresh(x, base));
    IR_ASSERT(t.data && t.name);
    if (t.nbytes)
        memcpy(t.data, v, t.nbytes);
    IR_ASSERT(ox_add_tensor(x, &t, false, false, NULL));
    return x->tensors[x->ntensors - 1].name;
}

const char *ox_const_i64(Ox *x, const char *base, const int64_t *v, int n, bool rank0)
{
    return new_const(x, base, SRT_I64, v, n, rank0);
}

const char *ox_const_f32(Ox *x, const char *base, const float *v, int n, bool rank0)
{
    return new_const(x, base, SRT_F32, v, n, rank0);
}

const char *ox_const_bool(Ox *x, const char *base, bool v)
{
    uint8_t b = v;
    return new_const(x, base, SRT_BOOL, &b, 1, true);
}

void ox_emit(Ox *x, const char *name, const char *op, const char *const *in, int nin, const char *const *out,
             int nout, cJSON *attrs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "op", op);
    /* trailing absent optional inputs and outputs are left out */
    while (nin > 0 && (!in[nin - 1] || !*in[nin - 1]))
        nin--;
    while (nout > 1 && (!out[nout - 1] || !*out[nout - 1]))
        nout--;
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < nin; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(in[i] ? in[i] : ""));
    cJSON_AddItemToObject(o, "inputs", a);
    a = cJSON_CreateArray();
    for (int i = 0; i < nout; i++) {
        cJSON_AddItemToArray(a, cJSON_CreateString(out[i] ? out[i] : ""));
        if (out[i] && *out[i]) {
            OxName *e = ox_reserve(x, out[i]);
            if (e->kind == OX_FREE)
                e->kind = OX_NODE;
        }
    }
    cJSON_AddItemToObject(o, "outputs", a);
    if (attrs && attrs->child)
        cJSON_AddItemToObject(o, "attrs", attrs);
    else
        cJSON_Delete(attrs);
    cJSON_AddItemToArray(x->nodes, o);
}

/* ---- the graph ------------------------------------------------------------------------------ */

/* The batch symbol of the graph inputs: sets *batch (NULL: none). False after an error. */
static bool find_batch(Ox *x, const Onnx__GraphProto *g, const char **batch)
{
    *batch = x->opt->batch_dim;
    if (*batch || x->opt->batch_first)
        return true;
    const char *found = NULL;
    char list[512] = "";
    int distinct = 0;
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *v = g->input[i];
        OxName *e = ox_name(x, v->name);
        if (e && e->kind != OX_FREE)
            continue; /* an initializer */
        const Onnx__TypeProto *t = v->type;
        if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type->shape)
            continue;
        const Onnx__TensorShapeProto *s = t->tensor_type->shape;
        for (size_t k = 0; k < s->n_dim; k++) {
            if (s->dim[k]->value_case != ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                continue;
            const char *p = s->dim[k]->dim_param;
            char quoted[48];
            snprintf(quoted, sizeof quoted, "\"%.40s\"", p);
            if (strstr(list, quoted))
                continue;
            if (!found)
                found = p;
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", l ? ", " : "", quoted);
            distinct++;
        }
    }
    if (distinct > 1) {
        ox_error(x, "graph.input", "the inputs have several symbolic dims (%s) but sinter has one, the batch N: "
                 "name it with --batch-dim", list);
        return false;
    }
    *batch = found;
    return true;
}

static void graph_inputs(Ox *x, const Onnx__GraphProto *g)
{
    const char *batch;
    if (!find_batch(x, g, &batch))
        return;
    for (size_t i = 0; i < g->n_input && !x->stop; i++) {
        const Onnx__ValueInfoProto *v = g->input[i];
        char where[FE_QBUF + 32], q[FE_QBUF];
        snprintf(where, sizeof where, "input %s", fe_quote(q, v->name ? v->name : ""));
        if (!v->name || !*v->name) {
            ox_error(x, where, "a graph input needs a name");
            continue;
        }
        OxName *e = ox_name(x, v->name);
        if (e && e->kind != OX_FREE)
            continue; /* also an initializer (old exporters list them as inputs): its value wins */
        const Onnx__TypeProto *t = v->type;
        if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
            ox_error(x, where, "only tensor inputs are supported (not sequences, maps or optionals)");
            continue;
        }
        IrDtype dt;
        int32_t code = t->tensor_type->has_elem_type ? t->tensor_type->elem_type : 0;
        if (!ox_dtype(code, &dt)) {
            ox_error(x, where, "element type %s is not supported", ox_dtype_onnx_name(code));
            continue;
        }
        const Onnx__TensorShapeProto *s = t->tensor_type->shape;
        if (!s) {
            ox_error(x, where, "the input has no shape; sinter needs the rank and the dims");
            continue;
        }
        if (s->n_dim > IR_MAX_RANK) {
            ox_error(x, where, "rank %zu is more than sinter's %d", s->n_dim, IR_MAX_RANK);
            continue;
        }
        cJSON *shape = cJSON_CreateArray();
        bool ok = true;
        for (size_t k = 0; k < s->n_dim && ok; k++) {
            const Onnx__TensorShapeProto__Dimension *dm = s->dim[k];
            if (k == 0 && x->opt->batch_first) {
                cJSON_AddItemToArray(shape, cJSON_CreateString("N"));
            } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dm->dim_value >= 0) {
                char buf[24];
                snprintf(buf, sizeof buf, "%lld", (long long)dm->dim_value);
                cJSON_AddItemToArray(shape, raw(buf));
            } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && batch &&
                       !strcmp(dm->dim_param, batch)) {
                cJSON_AddItemToArray(shape, cJSON_CreateString("N"));
            } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
                ox_error(x, where, "dim %zu is the symbol \"%.40s\"; only one symbolic dim, the batch%s%s%s, is "
                         "supported", k, dm->dim_param, batch ? " \"" : "", batch ? batch : "", batch ? "\"" : "");
                ok = false;
            } else {
                ox_error(x, where, "dim %zu has no size%s", k, k == 0 ? " (--batch-first makes dim 0 the batch N)" : "");
                ok = false;
            }
        }
        if (!ok) {
            cJSON_Delete(shape);
            continue;
        }
        if (!ox_declare(x, v->name, OX_INPUT, where)) {
            cJSON_Delete(shape);
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", v->name);
        cJSON_AddStringToObject(o, "dtype", fe_dtype_name(dt));
        cJSON_AddItemToObject(o, "shape", shape);
        cJSON_AddItemToArray(x->inputs, o);
    }
}

static void initializers(Ox *x, const Onnx__GraphProto *g)
{
    if (g->n_sparse_initializer)
        ox_error(x, "graph.sparse_initializer", "sparse initializers are not supported");
    for (size_t i = 0; i < g->n_initializer && !x->stop; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        char where[FE_QBUF + 32], q[FE_QBUF];
        snprintf(where, sizeof where, "initializer %s", fe_quote(q, t->name ? t->name : ""));
        if (!t->name || !*t->name) {
            ox_error(x, where, "an initializer needs a name");
            continue;
        }
        SrtTensor s;
        if (!ox_read_tensor(x, t, where, &s))
            continue;
        OxName *e = ox_name(x, t->name);
        bool stat = e && e->static_use, frozen = e && e->frozen;
        int64_t numel = (int64_t)(s.nbytes / srt_dtype_size(s.dtype));
        /* weights are params (in the weights file); shape-deciding values, scalars and small
         * integer tensors are constants, which passes can fold */
        bool as_param = !stat && (ir_dtype_is_float(s.dtype) ? s.rank > 0 : numel > OX_INLINE_MAX);
        ox_add_tensor(x, &s, as_param, !frozen, where);
    }
}

/* Pre-pass: reserves every name the graph defines (so made-up names never collide) and marks
 * the uses that decide how initializers are written. */
static void scan_names(Ox *x, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_input; i++)
        if (g->input[i]->name && *g->input[i]->name)
            ox_reserve(x, g->input[i]->name);
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && *g->initializer[i]->name)
            ox_reserve(x, g->initializer[i]->name);
    for (size_t i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *n = g->node[i];
        for (size_t k = 0; k < n->n_output; k++)
            if (n->output[k] && *n->output[k])
                ox_reserve(x, n->output[k]);
        for (size_t k = 0; k < n->n_input; k++) {
            if (!n->input[k] || !*n->input[k])
                continue;
            OxName *e = ox_reserve(x, n->input[k]);
            if (n->op_type && ox_static_input(n->op_type, (int)k))
                e->static_use = true;
            if (n->op_type && !strcmp(n->op_type, "BatchNormalization") && k >= 3)
                e->frozen = true;
        }
    }
}

/* FeOnnxOptions.bind: graph inputs given values become constants. */
static void bound_inputs(Ox *x, const Onnx__GraphProto *g)
{
    for (int b = 0; b < x->opt->nbind && !x->stop; b++) {
        const SrtTensor *t = &x->opt->bind[b];
        char where[FE_QBUF + 32], q[FE_QBUF];
        snprintf(where, sizeof where, "input %s", fe_quote(q, t->name ? t->name : ""));
        const Onnx__ValueInfoProto *v = NULL;
        for (size_t i = 0; i < g->n_input && !v; i++)
            if (g->input[i]->name && t->name && !strcmp(g->input[i]->name, t->name))
                v = g->input[i];
        const Onnx__TypeProto *ty = v ? v->type : NULL;
        IrDtype dt;
        if (!v) {
            ox_error(x, where, "a value is given for it but the graph has no such input");
            continue;
        }
        if (!ty || ty->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !ty->tensor_type->has_elem_type ||
            !ox_dtype(ty->tensor_type->elem_type, &dt) || dt != t->dtype ||
            (ty->tensor_type->shape && (int)ty->tensor_type->shape->n_dim != t->rank)) {
            ox_error(x, where, "the value given for it (%s, rank %d) does not match its declared type",
                     fe_dtype_name(t->dtype), t->rank);
            continue;
        }
        OxName *e = ox_name(x, t->name);
        if (e && e->kind != OX_FREE)
            continue; /* an initializer: its value wins, as for any input */
        SrtTensor c = *t;
        c.name = srt_strdup(t->name);
        c.data = srt_malloc(t->nbytes ? t->nbytes : 1);
        IR_ASSERT(c.name && c.data);
        if (t->nbytes)
            memcpy(c.data, t->data, t->nbytes);
        ox_add_tensor(x, &c, false, false, where);
    }
}

static void graph_outputs(Ox *x, const Onnx__GraphProto *g)
{
    for (size_t i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name;
        if (!name || !*name) {
            ox_error(x, "graph.output", "output %zu has no name", i);
            continue;
        }
        cJSON_AddItemToArray(x->outputs, cJSON_CreateString(name));
    }
    if (!g->n_output)
        ox_error(x, "graph.output", "the graph has no outputs");
}

static bool valid_ident_char(int c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

/* A C identifier from a file label: its base name without ".onnx", other characters as '_'. */
static char *model_name(const char *label)
{
    const char *b = strrchr(label, '/');
    b = b ? b + 1 : label;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".onnx"))
        n -= 5;
    if (n > 64)
        n = 64;
    char *s = srt_malloc(n + 3);
    IR_ASSERT(s);
    size_t o = 0;
    if (!n || !valid_ident_char((unsigned char)b[0], true))
        s[o++] = 'm', s[o++] = '_';
    for (size_t i = 0; i < n; i++)
        s[o++] = valid_ident_char((unsigned char)b[i], false) ? b[i] : '_';
    s[o] = 0;
    if (ir_model_name_problem(s)) {   /* a keyword, "__x", "int64_t", "srt_x": "m_" makes it usable */
        memmove(s + 2, s, o + 1);
        s[0] = 'm';
        s[1] = '_';
    }
    return s;
}

static void append(char **buf, size_t *len, size_t *cap, const char *str, size_t l)
{
    if (*len + l + 1 > *cap) {
        *cap = 2 * (*len + l + 1);
        *buf = srt_realloc(*buf, *cap);
        IR_ASSERT(*buf);
    }
    memcpy(*buf + *len, str, l);
    *len += l;
    (*buf)[*len] = 0;
}
#define APPEND(str, l) append(buf, len, cap, (str), (l))

/* One array member per line. */
static void put_list(char **buf, size_t *len, size_t *cap, const char *key, const cJSON *arr, bool last)
{
    char head[64];
    snprintf(head, sizeof head, "  \"%s\": [", key);
    size_t hl = strlen(head);
    APPEND(head, hl);
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        char *t = cJSON_PrintUnformatted(e);
        IR_ASSERT(t);
        APPEND(i ? ",\n    " : "\n    ", (size_t)(i ? 6 : 5));
        APPEND(t, strlen(t));
        cJSON_free(t);
    }
    const char *tail = i ? (last ? "\n  ]\n" : "\n  ],\n") : (last ? "]\n" : "],\n");
    APPEND(tail, strlen(tail));
}

static char *model_text(Ox *x, const char *name, size_t *out_len)
{
    size_t len = 0, cap = 4096;
    char *buf = srt_malloc(cap);
    IR_ASSERT(buf);
    buf[0] = 0;
    cJSON *nm = cJSON_CreateString(name), *w = x->opt->weights ? cJSON_CreateString(x->opt->weights) : NULL;
    char *nt = cJSON_PrintUnformatted(nm), *wt = w ? cJSON_PrintUnformatted(w) : NULL;
#undef APPEND
#define APPEND(str, l) append(&buf, &len, &cap, (str), (l))
    char head[512];
    snprintf(head, sizeof head, "{\n  \"sinter\": 1,\n  \"name\": %s,\n  \"opset\": 17,\n", nt);
    APPEND(head, strlen(head));
    put_list(&buf, &len, &cap, "inputs", x->inputs, false);
    put_list(&buf, &len, &cap, "outputs", x->outputs, false);
    put_list(&buf, &len, &cap, "params", x->params, false);
    put_list(&buf, &len, &cap, "constants", x->constants, false);
    if (wt) {
        APPEND("  \"weights\": ", 13);
        APPEND(wt, strlen(wt));
        APPEND(",\n", 2);
    }
    put_list(&buf, &len, &cap, "nodes", x->nodes, true);
    APPEND("}\n", 2);
#undef APPEND
    cJSON_free(nt);
    cJSON_free(wt);
    cJSON_Delete(nm);
    cJSON_Delete(w);
    *out_len = len;
    return buf;
}

static bool find_opset(Ox *x, const Onnx__ModelProto *m)
{
    x->opset = -1;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))
            x->opset = o->has_version ? o->version : 0;
    }
    if (x->opset < 0) {
        if (m->n_opset_import) {
            ox_error(x, "opset_import", "the model imports no opset of the default ONNX domain");
            return false;
        }
        x->opset = 1; /* IR version 2 models: opset 1 */
    }
    /* below 7 only the ops whose current form dates from then convert (OxOp.since) */
    if (x->opset < 1 || x->opset > 21) {
        ox_error(x, "opset_import", "opset %lld is not supported (sinter imports opsets 1 to 21)",
                 (long long)x->opset);
        return false;
    }
    return true;
}

static void free_ox(Ox *x)
{
    for (size_t i = 0; i < x->cap_names; i++)
        free(x->names[i].name);
    free(x->names);
    for (int i = 0; i < x->nunsup; i++) {
        free(x->unsup[i].op);
        free(x->unsup[i].node);
    }
    free(x->unsup);
    cJSON_Delete(x->inputs);
    cJSON_Delete(x->params);
    cJSON_Delete(x->constants);
    cJSON_Delete(x->nodes);
    cJSON_Delete(x->outputs);
    if (x->model)
        onnx__model_proto__free_unpacked(x->model, NULL);
}

int fe_onnx_import_mem(const uint8_t *buf, size_t len, const char *label, const char *dir, const FeOnnxOptions *o,
                       FeOnnxModel *out, IrDiag *d)
{
    static const FeOnnxOptions none;
    memset(out, 0, sizeof *out);
    IrDiag scratch;
    if (!d) {
        ir_diag_init(&scratch, NULL);
        d = &scratch;
    }
    const char *saved = d->file;
    if (label)
        d->file = label;
    Ox x;
    memset(&x, 0, sizeof x);
    x.d = d;
    x.opt = o ? o : &none;
    x.dir = dir ? dir : ".";
    x.max_bytes = x.opt->max_bytes ? x.opt->max_bytes : DEFAULT_MAX_BYTES;
    x.inputs = cJSON_CreateArray();
    x.params = cJSON_CreateArray();
    x.constants = cJSON_CreateArray();
    x.nodes = cJSON_CreateArray();
    x.outputs = cJSON_CreateArray();
    IR_ASSERT(x.inputs && x.params && x.constants && x.nodes && x.outputs);
    if (x.opt->name && !*x.opt->name)
        ox_error(&x, NULL, "the model name is empty");
    x.model = x.nerr ? NULL : ox_unpack_model(&x, buf, len);
    if (x.model && find_opset(&x, x.model)) {
        const Onnx__GraphProto *g = x.model->graph;
        scan_names(&x, g);
        initializers(&x, g);
        bound_inputs(&x, g);
        graph_inputs(&x, g);
        for (size_t i = 0; i < g->n_node && !x.stop; i++)
            ox_convert_node(&x, g->node[i], (int)i);
        report_unsupported(&x);
        graph_outputs(&x, g);
    }
    int rc = -1;
    if (!x.nerr) {
        char *name = x.opt->name ? srt_strdup(x.opt->name) : model_name(label ? label : "model");
        IR_ASSERT(name);
        out->json = model_text(&x, name, &out->json_len);
        free(name);
        int np = 0;
        for (int i = 0; i < x.ntensors; i++)
            np += x.weights[i];
        out->weights.tensors = srt_calloc((size_t)(np ? np : 1), sizeof(SrtTensor));
        IR_ASSERT(out->weights.tensors);
        for (int i = 0; i < x.ntensors; i++) {
            if (x.weights[i])
                out->weights.tensors[out->weights.count++] = x.tensors[i];
            else
                srt_tensor_free(&x.tensors[i]);
        }
        rc = 0;
    } else {
        for (int i = 0; i < x.ntensors; i++)
            srt_tensor_free(&x.tensors[i]);
    }
    free(x.tensors);
    free(x.weights);
    free_ox(&x);
    d->file = saved;
    if (d == &scratch)
        ir_diag_free(&scratch);
    return rc;
}

void fe_onnx_model_free(FeOnnxModel *m)
{
    if (!m)
        return;
    free(m->json);
    srt_tensorfile_free(&m->weights);
    memset(m, 0, sizeof *m);
}

/* The folder of path ("." when it has none); malloc'ed. */
static char *folder_of(const char *path)
{
    size_t plen = strlen(path);
    char *dir = srt_malloc(plen + 2);
    IR_ASSERT(dir);
    memcpy(dir, path, plen + 1);
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return dir;
}

int fe_onnx_import(const char *path, const FeOnnxOptions *o, FeOnnxModel *out, IrDiag *d)
{
    char err[512];
    uint8_t *buf = NULL;
    size_t len = 0;
    memset(out, 0, sizeof *out);
    if (srt_read_file(path, MAX_ONNX_FILE_BYTES, &buf, &len, err, sizeof err) != SINTER_OK) {
        const char *saved = d ? d->file : NULL;
        if (d)
            d->file = path;
        ir_diag_error(d, NULL, "%s", err);
        if (d)
            d->file = saved;
        return -1;
    }
    char *dir = folder_of(path);
    int rc = fe_onnx_import_mem(buf, len, path, dir, o, out, d);
    free(dir);
    free(buf);
    return rc;
}

IrGraph *fe_load_onnx(const char *path, const FeOnnxOptions *o, IrDiag *d)
{
    FeOnnxOptions opt = o ? *o : (FeOnnxOptions){0};
    opt.weights = NULL;
    FeOnnxModel m;
    if (fe_onnx_import(path, &opt, &m, d))
        return NULL;
    char label[600];
    snprintf(label, sizeof label, "initializers of %s", path);
    FeOptions fo = {.weights = &m.weights, .weights_label = label};
    char *dir = folder_of(path);
    IrGraph *g = fe_parse_model_opts(m.json, m.json_len, path, dir, &fo, d);
    free(dir);
    fe_onnx_model_free(&m);
    return g;
}

IrGraph *fe_load_any(const char *path, IrDiag *d)
{
    size_t n = path ? strlen(path) : 0;
    if (n > 5 && !strcmp(path + n - 5, ".onnx"))
        return fe_load_onnx(path, NULL, d);
    return fe_load_model(path, d);
}
