/* ONNX ops -> sinter nodes: one row per ONNX op, with the conversions between opset versions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"
#include "frontend/fe_onnx_impl.h"

cJSON *ox_tensor_json(const SrtTensor *t, bool with_data);

/* One node being converted. */
typedef struct Cv {
    Ox *x;
    const Onnx__NodeProto *n;
    int index;
    char where[256];          /* "node 3 \"conv1\" (Conv)" */
    char name[FE_QUOTE_MAX];  /* the sinter node's name: the ONNX name, or "Op_3" */
    const struct OxOp *op;
} Cv;

typedef bool (*CvFn)(Cv *c);

typedef struct OxOp {
    const char *onnx;         /* ONNX op_type (default domain) */
    int since;                /* oldest opset whose form is converted (older ones are refused) */
    const char *sinter;       /* the sinter op written */
    CvFn fn;                  /* NULL: inputs, outputs and attributes as they are */
    const char *ignore;       /* ",attr,attr," accepted and dropped (meaningless for sinter) */
    const char *statics;      /* input positions sinter needs at compile time, e.g. "1234" */
} OxOp;

/* ---- attributes --------------------------------------------------------------------------- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && !strcmp(n->attribute[i]->name, name))
            return n->attribute[i];
    return NULL;
}

static Onnx__AttributeProto__AttributeType attr_type(const Onnx__AttributeProto *a)
{
    if (a->has_type && a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR && !a->t)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED; /* declared, but no tensor */
    if (a->has_type)
        return a->type;
    /* IR version 1 models leave the type out: the field that is set tells it */
    if (a->n_ints)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_floats)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->has_i)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_f)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_s)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (a->t)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g || a->n_graphs)
        return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

static bool attr_int(Cv *c, const char *name, int64_t dflt, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(c->n, name);
    *out = dflt;
    if (!a)
        return true;
    if (attr_type(a) != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
        ox_error(c->x, c->where, "attribute \"%s\" must be an int", name);
        return false;
    }
    *out = a->i;
    return true;
}

static bool attr_float(Cv *c, const char *name, float dflt, float *out)
{
    const Onnx__AttributeProto *a = attr(c->n, name);
    *out = dflt;
    if (!a)
        return true;
    if (attr_type(a) != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
        ox_error(c->x, c->where, "attribute \"%s\" must be a float", name);
        return false;
    }
    *out = a->f;
    return true;
}

/* INTS attribute: *n = -1 when absent. */
static bool attr_ints(Cv *c, const char *name, const int64_t **v, int *n)
{
    const Onnx__AttributeProto *a = attr(c->n, name);
    *n = -1;
    *v = NULL;
    if (!a)
        return true;
    if (attr_type(a) != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) {
        ox_error(c->x, c->where, "attribute \"%s\" must be a list of ints", name);
        return false;
    }
    if (a->n_ints > 1024) {
        ox_error(c->x, c->where, "attribute \"%s\" has %zu entries", name, a->n_ints);
        return false;
    }
    *v = a->ints;
    *n = (int)a->n_ints;
    return true;
}

static cJSON *raw_num(const char *text)
{
    cJSON *r = cJSON_CreateRaw(text);
    IR_ASSERT(r);
    return r;
}

static cJSON *float_json(float f)
{
    char buf[32];
    if (isnan(f))
        return cJSON_CreateString("nan");
    if (isinf(f))
        return cJSON_CreateString(f > 0 ? "inf" : "-inf");
    return raw_num(fe_fmt_f32(buf, f));
}

static cJSON *int_json(int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return raw_num(buf);
}

/* An ONNX attribute as the JSON value of a sinter attribute; NULL after an error. */
static cJSON *attr_json(Cv *c, const Onnx__AttributeProto *a)
{
    cJSON *arr;
    switch (attr_type(a)) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return int_json(a->i);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return float_json(a->f);
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
        char *s = srt_malloc(a->s.len + 1);
        IR_ASSERT(s);
        if (a->s.len)
            memcpy(s, a->s.data, a->s.len);
        s[a->s.len] = 0;
        cJSON *r = cJSON_CreateString(s);
        free(s);
        return r;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        arr = cJSON_CreateArray();
        for (size_t i = 0; i < a->n_ints; i++)
            cJSON_AddItemToArray(arr, int_json(a->ints[i]));
        return arr;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        arr = cJSON_CreateArray();
        for (size_t i = 0; i < a->n_floats; i++)
            cJSON_AddItemToArray(arr, float_json(a->floats[i]));
        return arr;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        SrtTensor t;
        char what[300];
        snprintf(what, sizeof what, "%s: attribute \"%s\"", c->where, a->name);
        if (!ox_read_tensor(c->x, a->t, what, &t))
            return NULL;
        free(t.name);
        t.name = NULL;
        cJSON *r = ox_tensor_json(&t, true);
        srt_tensor_free(&t);
        return r;
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
        ox_error(c->x, c->where, "control flow is not supported (attribute \"%s\" is a subgraph)", a->name);
        return NULL;
    default:
        ox_error(c->x, c->where, "attribute \"%s\" has a type sinter does not read (strings, tensors, sparse "
                 "tensors or types)", a->name);
        return NULL;
    }
}

static bool ignored(const OxOp *op, const char *name)
{
    if (!op->ignore)
        return false;
    char key[80];
    snprintf(key, sizeof key, ",%.70s,", name);
    return strstr(op->ignore, key) != NULL;
}

/* The node's attributes for sinter op `op`, leaving out those in skip (",a,b,"). Every other
 * attribute must be one the sinter op has. NULL after an error. */
static cJSON *pass_attrs(Cv *c, const char *sinter_op, const char *skip)
{
    IrOp op;
    IR_ASSERT(ir_op_from_name(sinter_op, &op));
    cJSON *o = cJSON_CreateObject();
    bool ok = true;
    for (size_t i = 0; i < c->n->n_attribute; i++) {
        const Onnx__AttributeProto *a = c->n->attribute[i];
        if (!a->name || !*a->name) {
            ox_error(c->x, c->where, "an attribute has no name");
            ok = false;
            continue;
        }
        char key[80];
        snprintf(key, sizeof key, ",%.70s,", a->name);
        if (ignored(c->op, a->name) || (skip && strstr(skip, key)))
            continue;
        if (a->ref_attr_name && *a->ref_attr_name) {
            ox_error(c->x, c->where, "attribute \"%s\" refers to a function attribute; functions are not supported",
                     a->name);
            ok = false;
            continue;
        }
        if (attr_type(a) == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH ||
            attr_type(a) == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS) {
            ox_error(c->x, c->where, "control flow is not supported (attribute \"%s\" is a subgraph)", a->name);
            ok = false;
            continue;
        }
        if (!ir_op_attr_spec(op, a->name)) {
            ox_error(c->x, c->where, "attribute \"%s\" is not supported", a->name);
            ok = false;
            continue;
        }
        cJSON *v = attr_json(c, a);
        if (!v) {
            ok = false;
            continue;
        }
        cJSON_AddItemToObject(o, a->name, v);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* ---- helpers for conversions ----------------------------------------------------------- */

static const char *in(const Cv *c, int k)
{
    return k < (int)c->n->n_input && c->n->input[k] ? c->n->input[k] : "";
}

static void emit_node(Cv *c, const char *op, const char *const *ins, int nin, const char *const *outs, int nout,
                      cJSON *attrs)
{
    ox_emit(c->x, c->name, op, ins, nin, outs, nout, attrs);
}

/* The node as it is, with input/output lists of its own, under op (attrs: pass_attrs). */
static bool emit_as(Cv *c, const char *op, cJSON *attrs, const char *const *ins, int nin)
{
    if (!attrs)
        return false;
    emit_node(c, op, ins, nin, (const char *const *)c->n->output, (int)c->n->n_output, attrs);
    return true;
}

static bool generic(Cv *c)
{
    cJSON *a = pass_attrs(c, c->op->sinter, NULL);
    return emit_as(c, c->op->sinter, a, (const char *const *)c->n->input, (int)c->n->n_input);
}

/* An ints attribute moved to input position k (absent attribute: input left absent). */
static bool attr_to_input(Cv *c, const char *name, int k, const char **ins, int *nin)
{
    const int64_t *v;
    int n;
    if (!attr_ints(c, name, &v, &n))
        return false;
    for (int i = *nin; i <= k; i++)
        ins[i] = "";
    if (*nin < k + 1)
        *nin = k + 1;
    if (n >= 0) {
        char base[FE_QUOTE_MAX + 16];
        snprintf(base, sizeof base, "%s.%s", c->name, name);
        ins[k] = ox_const_i64(c->x, base, v, n, false);
    }
    return true;
}

static int copy_inputs(const Cv *c, const char **ins, int max)
{
    int n = (int)c->n->n_input < max ? (int)c->n->n_input : max;
    for (int i = 0; i < n; i++)
        ins[i] = in(c, i);
    return n;
}

/* ---- conversions ---------------------------------------------------------------------------- */

/* Squeeze / Unsqueeze / Split before opset 13, Slice before 10: list attributes are inputs now. */
static bool cv_axes_attr(Cv *c)
{
    const char *ins[8];
    int nin = copy_inputs(c, ins, 1);
    const char *op = c->op->sinter;
    bool ok;
    if (!strcmp(op, "Slice")) {
        if (c->x->opset >= 10)
            return generic(c);
        ok = attr_to_input(c, "starts", 1, ins, &nin) && attr_to_input(c, "ends", 2, ins, &nin) &&
             attr_to_input(c, "axes", 3, ins, &nin);
        if (ok && !*ins[1]) {
            ox_error(c->x, c->where, "Slice needs the \"starts\" and \"ends\" attributes");
            return false;
        }
        return ok && emit_as(c, op, pass_attrs(c, op, ",starts,ends,axes,"), ins, nin);
    }
    if (c->x->opset >= 13)
        return generic(c);
    if (!strcmp(op, "Split")) {
        ok = attr_to_input(c, "split", 1, ins, &nin);
        return ok && emit_as(c, op, pass_attrs(c, op, ",split,"), ins, nin);
    }
    ok = attr_to_input(c, "axes", 1, ins, &nin);
    if (ok && !strcmp(op, "Unsqueeze") && !*ins[1]) {
        ox_error(c->x, c->where, "Unsqueeze needs the \"axes\" attribute");
        return false;
    }
    return ok && emit_as(c, op, pass_attrs(c, op, ",axes,"), ins, nin);
}

/* Softmax / LogSoftmax before opset 13 work on the input flattened to 2-D at `axis` (default
 * 1): Flatten, the op on the last axis, Reshape back to the input's shape. */
static bool cv_softmax(Cv *c)
{
    if (c->x->opset >= 13)
        return generic(c);
    int64_t axis;
    if (!attr_int(c, "axis", 1, &axis))
        return false;
    cJSON *a = cJSON_CreateObject();
    if (axis == -1) {
        cJSON_AddItemToObject(a, "axis", int_json(-1));
        emit_node(c, c->op->sinter, (const char *[]){in(c, 0)}, 1, (const char *const *)c->n->output, 1, a);
        return true;
    }
    char flat[FE_QUOTE_MAX + 32], soft[FE_QUOTE_MAX + 32], shape[FE_QUOTE_MAX + 32];
    snprintf(flat, sizeof flat, "%s", ox_fresh(c->x, c->name));
    ox_reserve(c->x, flat);
    snprintf(soft, sizeof soft, "%s", ox_fresh(c->x, c->name));
    ox_reserve(c->x, soft);
    snprintf(shape, sizeof shape, "%s", ox_fresh(c->x, c->name));
    ox_reserve(c->x, shape);
    cJSON *fa = cJSON_CreateObject();
    cJSON_AddItemToObject(fa, "axis", int_json(axis));
    emit_node(c, "Flatten", (const char *[]){in(c, 0)}, 1, (const char *[]){flat}, 1, fa);
    cJSON_AddItemToObject(a, "axis", int_json(-1));
    emit_node(c, c->op->sinter, (const char *[]){flat}, 1, (const char *[]){soft}, 1, a);
    emit_node(c, "Shape", (const char *[]){in(c, 0)}, 1, (const char *[]){shape}, 1, NULL);
    emit_node(c, "Reshape", (const char *[]){soft, shape}, 2, (const char *const *)c->n->output, 1, NULL);
    return true;
}

/* Clip before opset 11: min/max attributes. */
static bool cv_clip(Cv *c)
{
    if (c->x->opset >= 11)
        return generic(c);
    const char *ins[3] = {in(c, 0), "", ""};
    const char *names[2] = {"min", "max"};
    for (int k = 0; k < 2; k++) {
        float v;
        if (!attr(c->n, names[k]))
            continue;
        if (!attr_float(c, names[k], 0, &v))
            return false;
        char base[FE_QUOTE_MAX + 16];
        snprintf(base, sizeof base, "%s.%s", c->name, names[k]);
        ins[1 + k] = ox_const_f32(c->x, base, &v, 1, true);
    }
    return emit_as(c, "Clip", pass_attrs(c, "Clip", ",min,max,"), ins, 3);
}

/* Dropout before opset 12: the ratio attribute (inference: identity either way). */
static bool cv_dropout(Cv *c)
{
    if (c->x->opset >= 12)
        return generic(c);
    float ratio;
    if (!attr_float(c, "ratio", 0.5f, &ratio))
        return false;
    char base[FE_QUOTE_MAX + 16];
    snprintf(base, sizeof base, "%s.ratio", c->name);
    const char *ins[2] = {in(c, 0), ox_const_f32(c->x, base, &ratio, 1, true)};
    return emit_as(c, "Dropout", pass_attrs(c, "Dropout", ",ratio,"), ins, 2);
}

/* BatchNormalization: "spatial" (opsets 7, 8) must be 1; before opset 14 the outputs beyond
 * Y only exist in training, which inference does not compute: they are left out. */
static bool cv_batchnorm(Cv *c)
{
    int64_t spatial;
    if (!attr_int(c, "spatial", 1, &spatial))
        return false;
    if (spatial != 1) {
        ox_error(c->x, c->where, "spatial = %lld is not supported (per-activation statistics)", (long long)spatial);
        return false;
    }
    cJSON *a = pass_attrs(c, "BatchNormalization", ",spatial,");
    if (!a)
        return false;
    int nout = c->x->opset >= 14 ? (int)c->n->n_output : 1;
    emit_node(c, "BatchNormalization", (const char *const *)c->n->input, (int)c->n->n_input,
              (const char *const *)c->n->output, nout, a);
    return true;
}

/* AveragePool: dilations (opset 19) only when all 1. */
static bool cv_avgpool(Cv *c)
{
    const int64_t *dil;
    int n;
    if (!attr_ints(c, "dilations", &dil, &n))
        return false;
    for (int i = 0; i < n; i++)
        if (dil[i] != 1) {
            ox_error(c->x, c->where, "AveragePool with dilations other than 1 is not supported");
            return false;
        }
    return emit_as(c, "AveragePool", pass_attrs(c, "AveragePool", ",dilations,"),
                   (const char *const *)c->n->input, (int)c->n->n_input);
}

/* Sum and Mean: a chain of Adds (Mean then divides by the count). */
static bool cv_sum(Cv *c)
{
    int k = (int)c->n->n_input;
    bool mean = !strcmp(c->n->op_type, "Mean");
    if (k < 1) {
        ox_error(c->x, c->where, "%s needs at least one input", c->n->op_type);
        return false;
    }
    if (c->n->n_attribute) {
        ox_error(c->x, c->where, "%s has no attributes", c->n->op_type);
        return false;
    }
    const char *out = c->n->n_output ? c->n->output[0] : "";
    char acc[FE_QUOTE_MAX + 32];
    snprintf(acc, sizeof acc, "%s", in(c, 0));
    if (k == 1 && !mean) {
        emit_node(c, "Identity", (const char *[]){acc}, 1, (const char *[]){out}, 1, NULL);
        return true;
    }
    for (int i = 1; i < k; i++) {
        char next[FE_QUOTE_MAX + 32];
        if (i == k - 1 && !mean)
            snprintf(next, sizeof next, "%s", out);
        else
            snprintf(next, sizeof next, "%s", ox_fresh(c->x, c->name));
        ox_reserve(c->x, next);
        emit_node(c, "Add", (const char *[]){acc, in(c, i)}, 2, (const char *[]){next}, 1, NULL);
        snprintf(acc, sizeof acc, "%s", next);
    }
    if (mean) {
        char base[FE_QUOTE_MAX + 16], cnt[FE_QUOTE_MAX + 32];
        float f = (float)k;
        snprintf(base, sizeof base, "%s.count", c->name);
        snprintf(cnt, sizeof cnt, "%s", ox_const_f32(c->x, base, &f, 1, true));
        /* the count is a float32 scalar (the importer does not track dtypes): Mean of float64
         * inputs is refused by Div's type check */
        emit_node(c, "Div", (const char *[]){acc, cnt}, 2, (const char *[]){out}, 1, NULL);
    }
    return true;
}

/* Pad before opset 11: pads and value attributes. */
static bool cv_pad(Cv *c)
{
    if (c->x->opset >= 11)
        return generic(c);
    const char *ins[3] = {in(c, 0), "", ""};
    int nin = 1;
    if (!attr_to_input(c, "pads", 1, ins, &nin))
        return false;
    if (!*ins[1]) {
        ox_error(c->x, c->where, "Pad needs the \"pads\" attribute");
        return false;
    }
    float v;
    if (!attr_float(c, "value", 0, &v))
        return false;
    char base[FE_QUOTE_MAX + 16];
    snprintf(base, sizeof base, "%s.value", c->name);
    ins[2] = ox_const_f32(c->x, base, &v, 1, true);
    return emit_as(c, "Pad", pass_attrs(c, "Pad", ",pads,value,"), ins, 3);
}

/* A made-up tensor name for an intermediate result of node c (copied into buf). */
static const char *temp(Cv *c, char *buf, size_t len)
{
    snprintf(buf, len, "%s", ox_fresh(c->x, c->name));
    ox_reserve(c->x, buf);
    return buf;
}

/* ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp: ReduceSum (with the
 * node's axes, as attribute or input, and keepdims) between an element-wise op before (Abs,
 * x*x, Exp) and one after (Sqrt, Log), as ONNX defines them (no max subtraction in
 * LogSumExp: ONNX's reference sums exp(x) too). */
static bool cv_reduce_sum_of(Cv *c)
{
    const char *op = c->n->op_type, *x = in(c, 0), *out = c->n->output[0];
    bool l1 = !strcmp(op, "ReduceL1"), l2 = !strcmp(op, "ReduceL2"), sq = !strcmp(op, "ReduceSumSquare");
    bool lse = !strcmp(op, "ReduceLogSumExp"), ls = !strcmp(op, "ReduceLogSum");
    cJSON *a = pass_attrs(c, "ReduceSum", NULL);
    if (!a)
        return false;
    char pre[FE_QUOTE_MAX + 32], sum[FE_QUOTE_MAX + 32];
    const char *src = x;
    if (l1 || lse) {
        emit_node(c, l1 ? "Abs" : "Exp", (const char *[]){x}, 1, (const char *[]){temp(c, pre, sizeof pre)}, 1, NULL);
        src = pre;
    } else if (l2 || sq) {
        emit_node(c, "Mul", (const char *[]){x, x}, 2, (const char *[]){temp(c, pre, sizeof pre)}, 1, NULL);
        src = pre;
    }
    bool post = l2 || lse || ls;
    const char *dst = post ? temp(c, sum, sizeof sum) : out;
    emit_node(c, "ReduceSum", (const char *[]){src, in(c, 1)}, 2, (const char *[]){dst}, 1, a);
    if (post)
        emit_node(c, l2 ? "Sqrt" : "Log", (const char *[]){sum}, 1, (const char *[]){out}, 1, NULL);
    return true;
}

/* Not, And, Or, Xor, GreaterOrEqual, LessOrEqual through Where / Equal / Less / Greater and
 * bool constants (NaN-correct: a >= b is a > b or a == b). */
static bool cv_logic(Cv *c)
{
    const char *op = c->n->op_type, *a = in(c, 0), *b = in(c, 1), *out = c->n->output[0];
    char base[FE_QUOTE_MAX + 16], t1[FE_QUOTE_MAX + 32], t2[FE_QUOTE_MAX + 32];
    if (c->n->n_attribute) {
        ox_error(c->x, c->where, "%s has no attributes", op);
        return false;
    }
    snprintf(base, sizeof base, "%s.const", c->name);
    if (!strcmp(op, "Not")) {
        emit_node(c, "Equal", (const char *[]){a, ox_const_bool(c->x, base, false)}, 2, (const char *[]){out}, 1, NULL);
    } else if (!strcmp(op, "And")) {
        emit_node(c, "Where", (const char *[]){a, b, ox_const_bool(c->x, base, false)}, 3, (const char *[]){out}, 1,
                  NULL);
    } else if (!strcmp(op, "Or")) {
        emit_node(c, "Where", (const char *[]){a, ox_const_bool(c->x, base, true), b}, 3, (const char *[]){out}, 1,
                  NULL);
    } else if (!strcmp(op, "Xor")) {
        emit_node(c, "Equal", (const char *[]){b, ox_const_bool(c->x, base, false)}, 2,
                  (const char *[]){temp(c, t1, sizeof t1)}, 1, NULL);
        emit_node(c, "Where", (const char *[]){a, t1, b}, 3, (const char *[]){out}, 1, NULL);
    } else {
        bool ge = !strcmp(op, "GreaterOrEqual");
        emit_node(c, ge ? "Greater" : "Less", (const char *[]){a, b}, 2, (const char *[]){temp(c, t1, sizeof t1)}, 1,
                  NULL);
        emit_node(c, "Equal", (const char *[]){a, b}, 2, (const char *[]){temp(c, t2, sizeof t2)}, 1, NULL);
        emit_node(c, "Where", (const char *[]){t1, ox_const_bool(c->x, base, true), t2}, 3, (const char *[]){out}, 1,
                  NULL);
    }
    return true;
}

/* Constant: its value becomes a constant (or, when large and float, a frozen param). */
static bool cv_constant(Cv *c)
{
    if (c->n->n_output != 1 || !c->n->output[0] || !*c->n->output[0]) {
        ox_error(c->x, c->where, "Constant needs exactly one output");
        return false;
    }
    if (c->n->n_attribute != 1) {
        ox_error(c->x, c->where, "Constant needs exactly one attribute (value, value_float, value_floats, "
                 "value_int or value_ints)");
        return false;
    }
    const Onnx__AttributeProto *a = c->n->attribute[0];
    const char *an = a->name ? a->name : "";
    SrtTensor t = {0};
    Onnx__AttributeProto__AttributeType ty = attr_type(a);
    if (!strcmp(an, "value") && ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR) {
        if (!ox_read_tensor(c->x, a->t, c->where, &t))
            return false;
        free(t.name);
    } else if (!strcmp(an, "value_float") && ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) {
        t = (SrtTensor){.dtype = SRT_F32, .rank = 0, .nbytes = 4, .data = srt_malloc(4)};
        IR_ASSERT(t.data);
        memcpy(t.data, &a->f, 4);
    } else if (!strcmp(an, "value_int") && ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) {
        t = (SrtTensor){.dtype = SRT_I64, .rank = 0, .nbytes = 8, .data = srt_malloc(8)};
        IR_ASSERT(t.data);
        memcpy(t.data, &a->i, 8);
    } else if ((!strcmp(an, "value_floats") && ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS) ||
               (!strcmp(an, "value_ints") && ty == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS)) {
        bool fl = an[6] == 'f';
        size_t n = fl ? a->n_floats : a->n_ints;
        t = (SrtTensor){.dtype = fl ? SRT_F32 : SRT_I64, .rank = 1, .nbytes = n * (fl ? 4 : 8)};
        t.dims[0] = (int64_t)n;
        t.data = srt_malloc(t.nbytes ? t.nbytes : 1);
        IR_ASSERT(t.data);
        if (n)
            memcpy(t.data, fl ? (const void *)a->floats : (const void *)a->ints, t.nbytes);
    } else {
        ox_error(c->x, c->where, "Constant attribute \"%s\" is not supported (sparse and string constants are not)",
                 an);
        return false;
    }
    t.name = srt_strdup(c->n->output[0]);
    IR_ASSERT(t.name);
    OxName *e = ox_name(c->x, t.name);
    int64_t numel = (int64_t)(t.nbytes / srt_dtype_size(t.dtype));
    bool as_param = !(e && e->static_use) && ir_dtype_is_float(t.dtype) && numel > OX_INLINE_MAX;
    return ox_add_tensor(c->x, &t, as_param, false, c->where);
}

/* ---- the table ------------------------------------------------------------------------------ */

/* ORDER: alphabetical by ONNX name (looked up by a linear scan; order is for the reader). */
static const OxOp OPS[] = {
    {"Abs", 6, "Abs", NULL, NULL, ""},
    {"Add", 7, "Add", NULL, NULL, ""},
    {"And", 7, "Where", cv_logic, NULL, ""},
    {"AveragePool", 7, "AveragePool", cv_avgpool, NULL, ""},
    {"BatchNormalization", 7, "BatchNormalization", cv_batchnorm, ",is_test,consumed_inputs,", ""},
    {"Cast", 6, "Cast", NULL, ",saturate,", ""},
    {"Clip", 6, "Clip", cv_clip, NULL, ""},
    {"Concat", 4, "Concat", NULL, NULL, ""},
    {"Constant", 1, "Identity", cv_constant, NULL, ""},
    {"ConstantOfShape", 9, "ConstantOfShape", NULL, NULL, "0"},
    {"Conv", 1, "Conv", NULL, NULL, ""},
    {"ConvTranspose", 1, "ConvTranspose", NULL, NULL, ""},
    {"Div", 7, "Div", NULL, NULL, ""},
    {"Dropout", 7, "Dropout", cv_dropout, ",is_test,", "12"},
    {"Equal", 7, "Equal", NULL, NULL, ""},
    {"Erf", 9, "Erf", NULL, NULL, ""},
    {"Exp", 6, "Exp", NULL, NULL, ""},
    {"Expand", 8, "Expand", NULL, NULL, "1"},
    {"Flatten", 1, "Flatten", NULL, NULL, ""},
    {"Gather", 1, "Gather", NULL, NULL, ""},
    {"Gelu", 20, "Gelu", NULL, NULL, ""},
    {"Gemm", 7, "Gemm", NULL, NULL, ""},
    {"GlobalAveragePool", 1, "GlobalAveragePool", NULL, NULL, ""},
    {"Greater", 7, "Greater", NULL, NULL, ""},
    {"GreaterOrEqual", 12, "Where", cv_logic, NULL, ""},
    {"Identity", 1, "Identity", NULL, NULL, ""},
    {"LayerNormalization", 17, "LayerNormalization", NULL, NULL, ""},
    {"LeakyRelu", 6, "LeakyRelu", NULL, NULL, ""},
    {"Less", 7, "Less", NULL, NULL, ""},
    {"LessOrEqual", 12, "Where", cv_logic, NULL, ""},
    {"Log", 6, "Log", NULL, NULL, ""},
    {"LogSoftmax", 1, "LogSoftmax", cv_softmax, NULL, ""},
    {"MatMul", 1, "MatMul", NULL, NULL, ""},
    {"Max", 6, "Max", NULL, NULL, ""},
    {"MaxPool", 1, "MaxPool", NULL, NULL, ""},
    {"Mean", 6, "Add", cv_sum, NULL, ""},
    {"Min", 6, "Min", NULL, NULL, ""},
    {"Mul", 7, "Mul", NULL, NULL, ""},
    {"Neg", 6, "Neg", NULL, NULL, ""},
    {"Not", 1, "Equal", cv_logic, NULL, ""},
    {"Or", 7, "Where", cv_logic, NULL, ""},
    {"Pad", 2, "Pad", cv_pad, NULL, "13"},
    {"Pow", 7, "Pow", NULL, NULL, ""},
    {"Range", 11, "Range", NULL, NULL, "012"},
    {"ReduceL1", 1, "ReduceSum", cv_reduce_sum_of, NULL, "1"},
    {"ReduceL2", 1, "ReduceSum", cv_reduce_sum_of, NULL, "1"},
    {"ReduceLogSum", 1, "ReduceSum", cv_reduce_sum_of, NULL, "1"},
    {"ReduceLogSumExp", 1, "ReduceSum", cv_reduce_sum_of, NULL, "1"},
    {"ReduceMax", 1, "ReduceMax", NULL, NULL, "1"},
    {"ReduceMean", 1, "ReduceMean", NULL, NULL, "1"},
    {"ReduceSum", 1, "ReduceSum", NULL, NULL, "1"},
    {"ReduceSumSquare", 1, "ReduceSum", cv_reduce_sum_of, NULL, "1"},
    {"Relu", 6, "Relu", NULL, NULL, ""},
    {"Reshape", 5, "Reshape", NULL, NULL, "1"},
    {"Shape", 1, "Shape", NULL, NULL, ""},
    {"Sigmoid", 6, "Sigmoid", NULL, NULL, ""},
    {"Slice", 1, "Slice", cv_axes_attr, NULL, "1234"},
    {"Softmax", 1, "Softmax", cv_softmax, NULL, ""},
    {"SoftmaxCrossEntropyLoss", 12, "SoftmaxCrossEntropyLoss", NULL, NULL, ""},
    {"Split", 2, "Split", cv_axes_attr, NULL, "1"},
    {"Sqrt", 6, "Sqrt", NULL, NULL, ""},
    {"Squeeze", 1, "Squeeze", cv_axes_attr, NULL, "1"},
    {"Sub", 7, "Sub", NULL, NULL, ""},
    {"Sum", 6, "Add", cv_sum, NULL, ""},
    {"Tanh", 6, "Tanh", NULL, NULL, ""},
    {"Transpose", 1, "Transpose", NULL, NULL, ""},
    {"Unsqueeze", 1, "Unsqueeze", cv_axes_attr, NULL, "1"},
    {"Where", 9, "Where", NULL, NULL, ""},
    {"Xor", 7, "Where", cv_logic, NULL, ""},
};
#define NOPS ((int)(sizeof OPS / sizeof OPS[0]))

static const OxOp *find_op(const char *name)
{
    for (int i = 0; i < NOPS; i++)
        if (!strcmp(OPS[i].onnx, name))
            return &OPS[i];
    return NULL;
}

bool ox_static_input(const char *op, int k)
{
    const OxOp *o = find_op(op);
    return o && k >= 0 && k < 10 && strchr(o->statics, '0' + k);
}

bool fe_onnx_op_supported(const char *domain, const char *op, int64_t opset)
{
    bool default_domain = !domain || !*domain || !strcmp(domain, "ai.onnx");
    const OxOp *o = default_domain && op ? find_op(op) : NULL;
    return o && opset >= 1 && opset <= 21 && opset >= o->since;
}

bool fe_onnx_static_input(const char *op, int k)
{
    return ox_static_input(op, k);
}

static bool is_control_flow(const char *op)
{
    static const char *const CF[] = {"If", "Loop", "Scan", "SequenceMap"};
    for (size_t i = 0; i < sizeof CF / sizeof CF[0]; i++)
        if (!strcmp(op, CF[i]))
            return true;
    return false;
}

bool ox_convert_node(Ox *x, const Onnx__NodeProto *n, int i)
{
    Cv c = {.x = x, .n = n, .index = i};
    ox_node_where(c.where, n, i);
    const char *op = n->op_type ? n->op_type : "";
    if (n->name && *n->name)
        snprintf(c.name, sizeof c.name, "%s", n->name);
    else
        snprintf(c.name, sizeof c.name, "%.60s_%d", *op ? op : "node", i);
    if (!*op) {
        ox_error(x, c.where, "the node has no op_type");
        return false;
    }
    bool default_domain = !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx");
    if (default_domain && is_control_flow(op)) {
        ox_error(x, c.where, "control flow is not supported (sinter compiles graphs without %s)", op);
        return false;
    }
    const OxOp *o = default_domain ? find_op(op) : NULL;
    if (!o || x->opset < o->since) {
        ox_unsupported(x, n, i);
        return false;
    }
    if (n->n_output == 0 || !n->output[0] || !*n->output[0]) {
        ox_error(x, c.where, "the node has no (first) output");
        return false;
    }
    for (size_t k = 0; k < n->n_output; k++)
        if (n->output[k] && *n->output[k]) {
            OxName *e = ox_name(x, n->output[k]);
            if (e && e->kind != OX_FREE) {
                char q[FE_QBUF];
                ox_error(x, c.where, "output %s is already defined (by an initializer, an input or an earlier node)",
                         fe_quote(q, n->output[k]));
                return false;
            }
        }
    c.op = o;
    int before = x->nerr;
    bool ok = o->fn ? o->fn(&c) : generic(&c);
    return ok && x->nerr == before;
}
