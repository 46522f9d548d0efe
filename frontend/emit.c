/* IrGraph -> model JSON in the DESIGN.md format (sinter dump --format json). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/fe_impl.h"

/* A growing text buffer; oom latches the first allocation failure. */
typedef struct Out {
    char *p;
    size_t len, cap;
    bool oom;
} Out;

static void put(Out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *p = srt_realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = 0;
}

static void puts_(Out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void printf_(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(Out *o, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    IR_ASSERT(n >= 0 && (size_t)n < sizeof buf);
    put(o, buf, (size_t)n);
}

/* A JSON string literal. */
static void put_str(Out *o, const char *s)
{
    puts_(o, "\"");
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[2] = {'\\', (char)*p};
            put(o, e, 2);
        } else if (*p == '\n') {
            puts_(o, "\\n");
        } else if (*p == '\t') {
            puts_(o, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            printf_(o, "\\u%04x", *p);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    puts_(o, "\"");
}

static void put_f64(Out *o, double v)
{
    char buf[32];
    if (isnan(v))
        puts_(o, "\"nan\"");
    else if (isinf(v))
        puts_(o, v > 0 ? "\"inf\"" : "\"-inf\"");
    else
        puts_(o, fe_fmt_f64(buf, v));
}

static void put_f32(Out *o, float v)
{
    char buf[32];
    if (isnan(v))
        puts_(o, "\"nan\"");
    else if (isinf(v))
        puts_(o, v > 0 ? "\"inf\"" : "\"-inf\"");
    else
        puts_(o, fe_fmt_f32(buf, v));
}

static void put_dim(Out *o, IrDim d)
{
    char buf[64];
    if (d.a == 0) {
        printf_(o, "%lld", (long long)d.b);
    } else {
        ir_dim_format(d, buf, sizeof buf); /* "N"; other forms do not parse back */
        put_str(o, buf);
    }
}

static void put_shape(Out *o, const IrShape *s)
{
    puts_(o, "[");
    for (int i = 0; i < s->rank; i++) {
        if (i)
            puts_(o, ", ");
        put_dim(o, s->d[i]);
    }
    puts_(o, "]");
}

/* n elements of dtype as a flat list; long lists wrap every 16 values. */
static void put_data(Out *o, IrDtype dtype, const void *data, int64_t n, const char *indent)
{
    puts_(o, "[");
    for (int64_t i = 0; i < n; i++) {
        if (i)
            puts_(o, ",");
        if (n > 16 && i % 16 == 0) {
            puts_(o, "\n");
            puts_(o, indent);
            puts_(o, "  ");
        } else if (i) {
            puts_(o, " ");
        }
        switch (dtype) {
        case SRT_F32: put_f32(o, ((const float *)data)[i]); break;
        case SRT_F64: put_f64(o, ((const double *)data)[i]); break;
        case SRT_I64: printf_(o, "%lld", (long long)((const int64_t *)data)[i]); break;
        case SRT_I32: printf_(o, "%d", (int)((const int32_t *)data)[i]); break;
        case SRT_I8: printf_(o, "%d", (int)((const int8_t *)data)[i]); break;
        case SRT_U8: printf_(o, "%u", (unsigned)((const uint8_t *)data)[i]); break;
        case SRT_BOOL: puts_(o, ((const uint8_t *)data)[i] ? "true" : "false"); break;
        default: puts_(o, "null"); break;
        }
    }
    if (n > 16) {
        puts_(o, "\n");
        puts_(o, indent);
    }
    puts_(o, "]");
}

/* A small JSON tree (an init spec) in this file's spacing. */
static void put_json(Out *o, const cJSON *it)
{
    if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
        bool obj = cJSON_IsObject(it);
        puts_(o, obj ? "{" : "[");
        for (const cJSON *e = it->child; e; e = e->next) {
            if (e != it->child)
                puts_(o, ", ");
            if (obj) {
                put_str(o, e->string);
                puts_(o, ": ");
            }
            put_json(o, e);
        }
        puts_(o, obj ? "}" : "]");
    } else if (cJSON_IsString(it)) {
        put_str(o, it->valuestring);
    } else if (cJSON_IsNumber(it)) {
        put_f64(o, it->valuedouble);
    } else if (cJSON_IsBool(it)) {
        puts_(o, cJSON_IsTrue(it) ? "true" : "false");
    } else {
        puts_(o, "null");
    }
}

/* An init spec as written (IrValue.init_json holds valid JSON from the frontend). */
static void put_init(Out *o, const char *text)
{
    cJSON *it = cJSON_Parse(text);
    if (it)
        put_json(o, it);
    else
        puts_(o, text);
    cJSON_Delete(it);
}

/* Element count of a value with a constant shape, or -1. */
static int64_t const_numel(const IrValue *v)
{
    IrDim n;
    if (!ir_shape_numel(&v->shape, &n) || n.a != 0)
        return -1;
    return n.b;
}

/* {"name": ..., "dtype": ..., "shape": [...] */
static void put_decl_head(Out *o, const IrValue *v)
{
    puts_(o, "{\"name\": ");
    put_str(o, v->name);
    puts_(o, ", \"dtype\": ");
    put_str(o, fe_dtype_name(v->dtype));
    puts_(o, ", \"shape\": ");
    put_shape(o, &v->shape);
}

static void put_input_list(Out *o, const IrGraph *g, const int *ids, int n, const char *indent)
{
    puts_(o, "[");
    for (int i = 0; i < n; i++) {
        puts_(o, i ? ",\n" : "\n");
        puts_(o, indent);
        puts_(o, "  ");
        put_decl_head(o, g->values[ids[i]]);
        puts_(o, "}");
    }
    if (n) {
        puts_(o, "\n");
        puts_(o, indent);
    }
    puts_(o, "]");
}

static void put_names(Out *o, const IrGraph *g, const int *ids, int n)
{
    puts_(o, "[");
    for (int i = 0; i < n; i++) {
        if (i)
            puts_(o, ", ");
        put_str(o, ids[i] >= 0 ? g->values[ids[i]]->name : "");
    }
    puts_(o, "]");
}

static void put_attr(Out *o, const IrAttr *a)
{
    put_str(o, a->name);
    puts_(o, ": ");
    switch (a->kind) {
    case IR_ATTR_INT: printf_(o, "%lld", (long long)a->i); break;
    case IR_ATTR_FLOAT: put_f64(o, a->f); break;
    case IR_ATTR_STRING: put_str(o, a->s); break;
    case IR_ATTR_INTS:
        puts_(o, "[");
        for (int i = 0; i < a->n; i++)
            printf_(o, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
        puts_(o, "]");
        break;
    case IR_ATTR_FLOATS:
        puts_(o, "[");
        for (int i = 0; i < a->n; i++) {
            if (i)
                puts_(o, ", ");
            put_f64(o, a->floats[i]);
        }
        puts_(o, "]");
        break;
    case IR_ATTR_TENSOR:
        puts_(o, "{\"dtype\": ");
        put_str(o, fe_dtype_name(a->tdtype));
        puts_(o, ", \"shape\": ");
        put_shape(o, &a->tshape);
        puts_(o, ", \"data\": ");
        put_data(o, a->tdtype, a->tdata, a->tdata ? a->n : 0, "");
        puts_(o, "}");
        break;
    }
}

/* Attributes in the op table's spec order, then any the op does not declare. */
static void put_attrs(Out *o, const IrNode *n)
{
    const IrOpInfo *info = ir_op_info(n->op);
    int printed = 0;
    puts_(o, ", \"attrs\": {");
    for (int s = 0; s < info->nattrs; s++)
        for (int i = 0; i < n->nattrs; i++)
            if (!strcmp(n->attrs[i].name, info->attrs[s].name)) {
                if (printed++)
                    puts_(o, ", ");
                put_attr(o, &n->attrs[i]);
            }
    for (int i = 0; i < n->nattrs; i++)
        if (!ir_op_attr_spec(n->op, n->attrs[i].name)) {
            if (printed++)
                puts_(o, ", ");
            put_attr(o, &n->attrs[i]);
        }
    puts_(o, "}");
}

static void put_node(Out *o, const IrGraph *g, const IrNode *n, bool loss)
{
    puts_(o, "{");
    if (!loss && n->name && *n->name) {
        puts_(o, "\"name\": ");
        put_str(o, n->name);
        puts_(o, ", ");
    }
    puts_(o, "\"op\": ");
    put_str(o, ir_op_name(n->op));
    puts_(o, ", \"inputs\": ");
    put_names(o, g, n->in, n->nin);
    puts_(o, ", \"outputs\": ");
    put_names(o, g, n->out, n->nout);
    if (n->nattrs)
        put_attrs(o, n);
    puts_(o, "}");
}

/* The weights file as an absolute path, so the dump parses from any folder. */
static void put_weights_path(Out *o, const IrGraph *g)
{
    const char *w = g->weights, *dir = g->model_dir ? g->model_dir : ".";
    size_t len = strlen(w) + strlen(dir) + 2;
    char *joined = srt_malloc(len);
    if (!joined) {
        o->oom = true;
        return;
    }
    if (w[0] == '/')
        snprintf(joined, len, "%s", w);
    else
        snprintf(joined, len, "%s/%s", dir, w);
    char *abs = realpath(joined, NULL);
    if (!abs && joined[0] != '/') {
        /* the file is gone: still make the path absolute */
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof cwd)) {
            size_t alen = strlen(cwd) + strlen(joined) + 2;
            abs = srt_malloc(alen);
            if (abs)
                snprintf(abs, alen, "%s/%s", cwd, joined);
        }
    }
    put_str(o, abs ? abs : joined);
    free(abs);
    free(joined);
}

/* , "quant": {...}, "sparse": {...} of a param or constant that has records. */
static void put_records(Out *o, const IrValue *v)
{
    const IrQuant *q = v->quant;
    if (q) {
        printf_(o, ", \"quant\": {\"bits\": %d, \"axis\": %d", q->bits, q->axis);
        if (q->group > 0)
            printf_(o, ", \"group_axis\": %d, \"group\": %lld", q->group_axis, (long long)q->group);
        puts_(o, ", \"scale\": ");
        put_data(o, SRT_F32, q->scale, q->nscales, "    ");
        if (q->zero_point) {
            puts_(o, ", \"zero_point\": ");
            put_data(o, SRT_I32, q->zero_point, q->nscales, "    ");
        }
        puts_(o, "}");
    }
    const IrSparse *s = v->sparse;
    if (s)
        printf_(o, ", \"sparse\": {\"format\": \"%s\", \"block\": [%lld, %lld], \"nnz\": %lld}",
                ir_sparse_format_name(s->format), (long long)s->block[0], (long long)s->block[1], (long long)s->nnz);
}

static void put_params(Out *o, const IrGraph *g, bool weights)
{
    int count = 0;
    puts_(o, "  \"params\": [");
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_PARAM)
            continue;
        puts_(o, count++ ? ",\n    " : "\n    ");
        put_decl_head(o, v);
        if (v->init_json) {
            puts_(o, ", \"init\": ");
            put_init(o, v->init_json);
        } else if (!(v->from_weights && weights) && v->data && const_numel(v) >= 0) {
            puts_(o, ", \"data\": ");
            put_data(o, v->dtype, v->data, const_numel(v), "    ");
        }
        if (v->trainable != ir_dtype_is_float(v->dtype))
            puts_(o, v->trainable ? ", \"trainable\": true" : ", \"trainable\": false");
        put_records(o, v);
        puts_(o, "}");
    }
    puts_(o, count ? "\n  ],\n" : "],\n");
}

static void put_constants(Out *o, const IrGraph *g)
{
    int count = 0;
    puts_(o, "  \"constants\": [");
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_CONST)
            continue;
        puts_(o, count++ ? ",\n    " : "\n    ");
        put_decl_head(o, v);
        int64_t n = const_numel(v);
        if (v->data && n >= 0) {
            puts_(o, ", \"data\": ");
            put_data(o, v->dtype, v->data, n, "    ");
        }
        put_records(o, v);
        puts_(o, "}");
    }
    puts_(o, count ? "\n  ],\n" : "],\n");
}

static void put_training(Out *o, const IrGraph *g)
{
    const IrTraining *t = g->training;
    const IrOptimizer *op = &t->opt;
    puts_(o, ",\n  \"training\": {\n    \"inputs\": ");
    put_input_list(o, g, t->inputs, t->ninputs, "    ");
    if (t->loss) {
        puts_(o, ",\n    \"loss\": ");
        put_node(o, g, t->loss, true);
    }
    puts_(o, ",\n    \"optimizer\": {\"kind\": ");
    if (op->kind == IR_OPTIM_SGD) {
        puts_(o, "\"sgd\", \"lr\": ");
        put_f64(o, op->lr);
        puts_(o, ", \"momentum\": ");
        put_f64(o, op->momentum);
        puts_(o, ", \"dampening\": ");
        put_f64(o, op->dampening);
        puts_(o, op->nesterov ? ", \"nesterov\": true" : ", \"nesterov\": false");
    } else {
        puts_(o, op->kind == IR_OPTIM_ADAM ? "\"adam\", \"lr\": " : "\"adamw\", \"lr\": ");
        put_f64(o, op->lr);
        puts_(o, ", \"beta1\": ");
        put_f64(o, op->beta1);
        puts_(o, ", \"beta2\": ");
        put_f64(o, op->beta2);
        puts_(o, ", \"eps\": ");
        put_f64(o, op->eps);
    }
    puts_(o, ", \"weight_decay\": ");
    put_f64(o, op->weight_decay);
    puts_(o, "}\n  }");
}

char *fe_emit_json(const IrGraph *g)
{
    Out o = {0};
    bool weights = false;
    for (int id = 0; id < g->nvalues; id++)
        weights |= g->values[id]->role == IR_ROLE_PARAM && g->values[id]->from_weights;
    weights = weights && g->weights;
    puts_(&o, "{\n  \"sinter\": 1,\n  \"name\": ");
    put_str(&o, g->name);
    printf_(&o, ",\n  \"opset\": %d,\n  \"seed\": %lld,\n  \"inputs\": ", g->opset, (long long)g->seed);
    put_input_list(&o, g, g->inputs, g->ninputs, "  ");
    puts_(&o, ",\n  \"outputs\": ");
    put_names(&o, g, g->outputs, g->noutputs);
    puts_(&o, ",\n");
    put_params(&o, g, weights);
    put_constants(&o, g);
    if (weights) {
        puts_(&o, "  \"weights\": ");
        put_weights_path(&o, g);
        puts_(&o, ",\n");
    }
    puts_(&o, "  \"nodes\": [");
    for (int i = 0; i < g->nnodes; i++) {
        puts_(&o, i ? ",\n    " : "\n    ");
        put_node(&o, g, g->nodes[i], false);
    }
    puts_(&o, g->nnodes ? "\n  ]" : "]");
    if (g->training)
        put_training(&o, g);
    puts_(&o, "\n}\n");
    if (o.oom) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
