/* Model JSON -> IrGraph: validates every field of the model format and builds the graph. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"

#define DEFAULT_MAX_DATA_BYTES ((size_t)1 << 36)
#define DEFAULT_MAX_NODES (1 << 20)
#define MAX_MODEL_FILE_BYTES ((size_t)1 << 30)

static const char *const TOP_KEYS[] = {"sinter", "name",      "opset",   "seed",  "inputs",  "outputs",
                                       "params", "constants", "weights", "nodes", "training"};
static const char *const INPUT_KEYS[] = {"name", "dtype", "shape"};
static const char *const PARAM_KEYS[] = {"name", "dtype", "shape", "init", "trainable", "data", "quant", "sparse"};
static const char *const CONST_KEYS[] = {"name", "dtype", "shape", "data", "quant", "sparse"};
static const char *const NODE_KEYS[] = {"name", "op", "inputs", "outputs", "attrs"};
static const char *const TRAINING_KEYS[] = {"inputs", "loss", "optimizer"};
static const char *const LOSS_KEYS[] = {"op", "inputs", "attrs", "outputs"};
static const char *const SGD_KEYS[] = {"kind", "lr", "momentum", "dampening", "nesterov", "weight_decay"};
static const char *const ADAM_KEYS[] = {"kind", "lr", "beta1", "beta2", "eps", "weight_decay"};
static const char *const OPTIMIZERS[] = {"sgd", "adam", "adamw"};

/* C11 keywords: a model name becomes "typedef struct NAME NAME;" in the generated header. */

/* ---- names ---------------------------------------------------------------------------------------- */


/* A tensor name: a non-empty string. */
static bool get_tensor_name(Fe *c, const cJSON *it, const char *path, const char **out)
{
    char q[FE_QBUF];
    if (!cJSON_IsString(it)) {
        fe_error(c, path, "expected a tensor name, got %s", fe_describe(q, it));
        return false;
    }
    if (!*it->valuestring) {
        fe_error(c, path, "a tensor name cannot be empty");
        return false;
    }
    *out = it->valuestring;
    return true;
}

static bool get_field_name(Fe *c, const cJSON *obj, const char *path, const char **out)
{
    char p[FE_PATH_MAX];
    const cJSON *it = fe_require(c, obj, path, "name");
    if (it && get_tensor_name(c, it, fe_path_key(p, path, "name"), out))
        return true;
    c->lost_names = true;
    return false;
}

/* ---- declarations: inputs, params, constants ---------------------------------------------- */

/* A new declared value; reports a duplicate name. Returns the id or -1. */
static int declare(Fe *c, const char *name, const char *path, IrDtype dtype, const IrShape *shape, IrRole role)
{
    char q[FE_QBUF], p[FE_PATH_MAX];
    int old = ir_value_find(c->g, name);
    if (old >= 0) {
        fe_error(c, fe_path_key(p, path, "name"), "duplicate name %s (already declared at %s)", fe_quote(q, name),
                 c->g->values[old]->where);
        return -1;
    }
    int id = ir_value_new(c->g, name, dtype, shape, role);
    IR_ASSERT(id >= 0);
    c->g->values[id]->where = ir_arena_strdup(c->g->arena, path);
    return id;
}

/* inputs / training.inputs: [{name, dtype, shape}]. Returns the ids (arena) and their count. */
static int *parse_input_decls(Fe *c, const cJSON *arr, const char *path, bool training, int *count)
{
    char q[FE_QBUF];
    *count = 0;
    if (!arr)
        return NULL;
    if (!cJSON_IsArray(arr)) {
        fe_error(c, path, "expected an array of {\"name\", \"dtype\", \"shape\"} objects, got %s",
                 fe_describe(q, arr));
        return NULL;
    }
    int64_t n = fe_count(arr);
    int *ids = ir_arena_alloc(c->g->arena, (size_t)(n ? n : 1) * sizeof(int));
    int i = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, i++) {
        char p[FE_PATH_MAX];
        fe_path_idx(p, path, i);
        if (!cJSON_IsObject(e)) {
            fe_error(c, p, "expected an object {\"name\", \"dtype\", \"shape\"}, got %s", fe_describe(q, e));
            c->lost_names = true;
            continue;
        }
        fe_check_keys(c, e, p, INPUT_KEYS, FE_NKEYS(INPUT_KEYS));
        const char *name;
        IrDtype dtype = SRT_F32;
        IrShape shape;
        bool name_ok = get_field_name(c, e, p, &name);
        bool typed = fe_field_dtype(c, e, p, &dtype);
        typed &= fe_field_shape(c, e, p, true, &shape);
        if (!name_ok)
            continue;
        int id = declare(c, name, p, dtype, typed ? &shape : NULL, IR_ROLE_INPUT);
        if (id < 0)
            continue;
        c->g->values[id]->training_input = training;
        ids[(*count)++] = id;
    }
    return ids;
}

static void add_param(Fe *c, int id, const FeInit *init)
{
    if (c->nparams == c->cap_params) {
        c->cap_params = c->cap_params ? 2 * c->cap_params : 16;
        c->params = srt_realloc(c->params, (size_t)c->cap_params * sizeof *c->params);
        IR_ASSERT(c->params);
    }
    c->params[c->nparams].id = id;
    c->params[c->nparams].init = *init;
    c->params[c->nparams].in_file = false;
    c->nparams++;
}

static void parse_params(Fe *c, const cJSON *arr)
{
    char q[FE_QBUF];
    if (!arr)
        return;
    if (!cJSON_IsArray(arr)) {
        fe_error(c, "params", "expected an array of param objects, got %s", fe_describe(q, arr));
        return;
    }
    int i = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, i++) {
        char p[FE_PATH_MAX], fp[FE_PATH_MAX];
        fe_path_idx(p, "params", i);
        if (!cJSON_IsObject(e)) {
            fe_error(c, p, "expected an object {\"name\", \"dtype\", \"shape\", \"init\"}, got %s", fe_describe(q, e));
            c->lost_names = true;
            continue;
        }
        fe_check_keys(c, e, p, PARAM_KEYS, FE_NKEYS(PARAM_KEYS));
        const char *name;
        IrDtype dtype = SRT_F32;
        IrShape shape;
        bool name_ok = get_field_name(c, e, p, &name);
        bool typed = fe_field_dtype(c, e, p, &dtype);
        typed &= fe_field_shape(c, e, p, false, &shape);
        const cJSON *init = fe_member(e, "init"), *data = fe_member(e, "data"), *tr = fe_member(e, "trainable");
        bool trainable = typed && ir_dtype_is_float(dtype);
        bool ok = typed;
        if (tr && fe_get_bool(c, tr, fe_path_key(fp, p, "trainable"), &trainable) && trainable && typed &&
            !ir_dtype_is_float(dtype)) {
            fe_error(c, fp, "only float params can be trainable; this one is %s", fe_dtype_name(dtype));
            ok = false;
        }
        FeInit fi = {.kind = FE_INIT_NONE};
        size_t bytes = 0;
        void *buf = NULL;
        if (init && data) {
            fe_error(c, p, "give either \"init\" or \"data\", not both");
            ok = false;
        } else if (!init && !data && !c->g->weights && !c->mem_weights && !fe_is_typo(c, e, "init") &&
                   !fe_is_typo(c, e, "data")) {
            fe_error(c, p, "no \"init\" and the model has no \"weights\" file (add e.g. \"init\": {\"kind\": "
                           "\"zeros\"})");
            ok = false;
        } else if (!init && !data && !c->g->weights && !c->mem_weights) {
            ok = false;
        }
        if (typed && !fe_charge_bytes(c, p, dtype, &shape, &bytes))
            ok = typed = false;
        if (init && typed && !fe_init_parse(c, init, fe_path_key(fp, p, "init"), dtype, &shape, &fi))
            ok = false;
        if (data && typed) {
            IrDim numel;
            ir_shape_numel(&shape, &numel);
            buf = fe_parse_data(c, data, fe_path_key(fp, p, "data"), dtype, numel.b, bytes);
            if (!buf)
                ok = false;
            fi.kind = FE_INIT_DATA;
        }
        if (!name_ok)
            continue;
        int id = declare(c, name, p, dtype, typed ? &shape : NULL, IR_ROLE_PARAM);
        if (id < 0 || !ok)
            continue;
        IrValue *v = c->g->values[id];
        v->trainable = trainable;
        v->data = buf;
        if (!fe_parse_records(c, e, p, v))
            continue;
        if (init) {
            char *text = cJSON_PrintUnformatted(init);
            IR_ASSERT(text);
            v->init_json = ir_arena_strdup(c->g->arena, text);
            cJSON_free(text);
        }
        add_param(c, id, &fi);
    }
}

static void parse_constants(Fe *c, const cJSON *arr)
{
    char q[FE_QBUF];
    if (!arr)
        return;
    if (!cJSON_IsArray(arr)) {
        fe_error(c, "constants", "expected an array of constant objects, got %s", fe_describe(q, arr));
        return;
    }
    int i = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, i++) {
        char p[FE_PATH_MAX], fp[FE_PATH_MAX];
        fe_path_idx(p, "constants", i);
        if (!cJSON_IsObject(e)) {
            fe_error(c, p, "expected an object {\"name\", \"dtype\", \"shape\", \"data\"}, got %s", fe_describe(q, e));
            c->lost_names = true;
            continue;
        }
        fe_check_keys(c, e, p, CONST_KEYS, FE_NKEYS(CONST_KEYS));
        const char *name;
        IrDtype dtype = SRT_F32;
        IrShape shape;
        bool name_ok = get_field_name(c, e, p, &name);
        bool typed = fe_field_dtype(c, e, p, &dtype);
        typed &= fe_field_shape(c, e, p, false, &shape);
        const cJSON *data = fe_require(c, e, p, "data");
        void *buf = NULL;
        if (typed && data) {
            IrDim numel;
            size_t bytes = 0;
            ir_shape_numel(&shape, &numel);
            /* the length check first: it is the likelier mistake than a size limit */
            int64_t count = cJSON_IsArray(data) ? fe_count(data) : -1;
            if (count == numel.b && !fe_charge_bytes(c, p, dtype, &shape, &bytes))
                typed = false;
            else
                buf = fe_parse_data(c, data, fe_path_key(fp, p, "data"), dtype, numel.b, bytes);
        }
        if (!name_ok)
            continue;
        int id = declare(c, name, p, dtype, typed ? &shape : NULL, IR_ROLE_CONST);
        if (id >= 0) {
            c->g->values[id]->data = buf;
            fe_parse_records(c, e, p, c->g->values[id]);
        }
    }
}

/* ---- nodes ------------------------------------------------------------------------------------ */

static bool parse_op(Fe *c, const cJSON *obj, const char *path, IrOp *op)
{
    char p[FE_PATH_MAX], q[FE_QBUF], sb[FE_SBUF];
    const cJSON *it = fe_require(c, obj, path, "op");
    if (!it)
        return false;
    fe_path_key(p, path, "op");
    if (!cJSON_IsString(it)) {
        fe_error(c, p, "expected an op name such as \"Relu\", got %s", fe_describe(q, it));
        return false;
    }
    if (ir_op_from_name(it->valuestring, op)) {
        if (!(ir_op_info(*op)->flags & IR_OPF_INTERNAL))
            return true;
        /* made by passes; their shape rules assume what autodiff/qpack guarantee */
        fe_error(c, p, "%s is an internal op of sinter's passes (training graph, packed weights), not for model "
                       "files: write the forward model with ONNX ops (the training section adds the backward pass "
                       "and the optimizer)", fe_quote(q, it->valuestring));
        return false;
    }
    FeSuggest s;
    fe_suggest_init(&s, it->valuestring);
    for (int i = 0; i < IR_OP_COUNT; i++)
        fe_suggest_try(&s, ir_op_name((IrOp)i));
    fe_error(c, p, "unknown op %s%s", fe_quote(q, it->valuestring), fe_suggest_text(&s, sb));
    return false;
}

/* "Gemm takes 2 to 3 inputs" style arity check; what is "inputs" or "outputs". */
static bool check_arity(Fe *c, const char *path, IrOp op, bool inputs, int64_t got)
{
    const IrOpInfo *info = ir_op_info(op);
    int lo = inputs ? info->min_in : info->min_out, hi = inputs ? info->max_in : info->max_out;
    if (got >= lo && (hi < 0 || got <= hi))
        return true;
    const char *verb = inputs ? "takes" : "produces";
    const char *noun = inputs ? "input" : "output";
    if (hi < 0)
        fe_error(c, path, "%s %s at least %d %s%s, got %lld", info->name, verb, lo, noun, lo == 1 ? "" : "s",
                 (long long)got);
    else if (lo == hi)
        fe_error(c, path, "%s %s %d %s%s, got %lld", info->name, verb, lo, noun, lo == 1 ? "" : "s", (long long)got);
    else
        fe_error(c, path, "%s %s %d to %d %ss, got %lld", info->name, verb, lo, hi, noun, (long long)got);
    return false;
}

/* May position k of op be left out with ""? Only optional positions of a fixed-arity op. */
static bool optional_slot(IrOp op, bool inputs, int k)
{
    const IrOpInfo *info = ir_op_info(op);
    int lo = inputs ? info->min_in : info->min_out, hi = inputs ? info->max_in : info->max_out;
    return k >= lo && hi >= 0;
}

/* A reference to an existing tensor: -1 after an error. */
static int resolve(Fe *c, const char *name, const char *path, bool allow_training)
{
    char q[FE_QBUF], sb[FE_SBUF];
    int id = ir_value_find(c->g, name);
    if (id < 0 && c->lost_names) {
        c->nerr++; /* probably a name of the broken entry reported before */
        return -1;
    }
    if (id < 0) {
        FeSuggest s;
        fe_suggest_init(&s, name);
        for (int i = 0; i < c->g->nvalues; i++)
            fe_suggest_try(&s, c->g->values[i]->name);
        fe_error(c, path, "unknown tensor %s%s", fe_quote(q, name), fe_suggest_text(&s, sb));
        return -1;
    }
    if (!allow_training && c->g->values[id]->training_input) {
        fe_error(c, path, "%s is a training input; only the training loss can use it", fe_quote(q, name));
        return -1;
    }
    return id;
}

/* A node's "inputs" list (ids into *ids, arena). op_ok says whether op is valid. */
static bool parse_node_inputs(Fe *c, const cJSON *obj, const char *path, bool op_ok, IrOp op, bool is_loss,
                              int *nin, int **ids)
{
    char p[FE_PATH_MAX], ep[FE_PATH_MAX], q[FE_QBUF];
    *nin = 0;
    *ids = NULL;
    const cJSON *arr = fe_require(c, obj, path, "inputs");
    if (!arr)
        return false;
    fe_path_key(p, path, "inputs");
    if (!cJSON_IsArray(arr)) {
        fe_error(c, p, "expected an array of tensor names, got %s", fe_describe(q, arr));
        return false;
    }
    int64_t n = fe_count(arr);
    bool ok = !op_ok || check_arity(c, p, op, true, n);
    if (n > INT_MAX / 2) {
        fe_error(c, p, "too many inputs (%lld)", (long long)n);
        return false;
    }
    int *in = ir_arena_alloc(c->g->arena, (size_t)(n ? n : 1) * sizeof(int));
    int k = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, k++) {
        fe_path_idx(ep, p, k);
        in[k] = -1;
        if (!cJSON_IsString(e)) {
            fe_error(c, ep, "expected a tensor name, got %s", fe_describe(q, e));
            ok = false;
        } else if (!*e->valuestring) {
            if (op_ok && !optional_slot(op, true, k)) {
                fe_error(c, ep, "%s input %d is required (\"\" marks an absent optional input)", ir_op_name(op), k);
                ok = false;
            }
        } else if ((in[k] = resolve(c, e->valuestring, ep, is_loss)) < 0) {
            ok = false;
        }
    }
    *nin = (int)n;
    *ids = in;
    return ok;
}

/* A node's "outputs" list: every name becomes a new activation value (or is the one
 * register_outputs made for this position). */
static bool parse_node_outputs(Fe *c, const cJSON *arr, const char *p, bool op_ok, IrOp op, int *nout, int **ids)
{
    char ep[FE_PATH_MAX], q[FE_QBUF];
    *nout = 0;
    *ids = NULL;
    if (!cJSON_IsArray(arr)) {
        fe_error(c, p, "expected an array of tensor names, got %s", fe_describe(q, arr));
        c->lost_names = true;
        return false;
    }
    int64_t n = fe_count(arr);
    bool ok = !op_ok || check_arity(c, p, op, false, n);
    if (n > INT_MAX / 2) {
        fe_error(c, p, "too many outputs (%lld)", (long long)n);
        c->lost_names = true;
        return false;
    }
    int *out = ir_arena_alloc(c->g->arena, (size_t)(n ? n : 1) * sizeof(int));
    int k = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, k++) {
        fe_path_idx(ep, p, k);
        out[k] = -1;
        if (!cJSON_IsString(e)) {
            fe_error(c, ep, "expected a tensor name, got %s", fe_describe(q, e));
            c->lost_names = true;
            ok = false;
            continue;
        }
        const char *name = e->valuestring;
        if (!*name) {
            if (op_ok && !optional_slot(op, false, k)) {
                fe_error(c, ep, "%s output %d is required (\"\" marks an unused optional output)", ir_op_name(op), k);
                c->lost_names = true;
                ok = false;
            }
            continue;
        }
        int old = ir_value_find(c->g, name);
        if (old >= 0 && c->g->values[old]->role == IR_ROLE_ACT && !strcmp(c->g->values[old]->where, ep)) {
            out[k] = old; /* registered for this very position by register_outputs */
            continue;
        }
        if (old >= 0) {
            const IrValue *v = c->g->values[old];
            if (v->role == IR_ROLE_ACT)
                fe_error(c, ep, "tensor %s produced twice (first at %s)", fe_quote(q, name), v->where);
            else
                fe_error(c, ep, "tensor %s produced by a node but declared at %s", fe_quote(q, name), v->where);
            ok = false;
            continue;
        }
        out[k] = ir_value_new(c->g, name, SRT_F32, NULL, IR_ROLE_ACT);
        c->g->values[out[k]]->where = ir_arena_strdup(c->g->arena, ep);
    }
    *nout = (int)n;
    *ids = out;
    return ok;
}

/* ---- the node list ---------------------------------------------------------------------------- */

/* Pass 1, silent: the tensors nodes[i] produces, so that any node may use them whatever the
 * order of the list (ir_graph_toposort orders the nodes). Pass 2 reports every problem. */
static void register_outputs(Fe *c, const cJSON *obj, const char *path)
{
    char p[FE_PATH_MAX], ep[FE_PATH_MAX];
    const cJSON *outs = cJSON_IsObject(obj) ? fe_member(obj, "outputs") : NULL;
    const cJSON *opname = cJSON_IsObject(obj) ? fe_member(obj, "op") : NULL;
    IrOp op;
    bool op_ok = cJSON_IsString(opname) && ir_op_from_name(opname->valuestring, &op);
    if (!cJSON_IsArray(outs)) {
        c->lost_names = true;
        return;
    }
    fe_path_key(p, path, "outputs");
    int k = 0;
    for (const cJSON *e = outs->child; e; e = e->next, k++) {
        if (!cJSON_IsString(e) || (!*e->valuestring && (!op_ok || !optional_slot(op, false, k)))) {
            c->lost_names = true;
            continue;
        }
        if (!*e->valuestring || ir_value_find(c->g, e->valuestring) >= 0)
            continue;
        int id = ir_value_new(c->g, e->valuestring, SRT_F32, NULL, IR_ROLE_ACT);
        c->g->values[id]->where = ir_arena_strdup(c->g->arena, fe_path_idx(ep, p, k));
    }
}

/* Pass 2: checks nodes[i] completely and creates the node when everything is valid. */
static void parse_node(Fe *c, const cJSON *obj, const char *path)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    if (!cJSON_IsObject(obj)) {
        fe_error(c, path, "expected a node object {\"op\", \"inputs\", \"outputs\"}, got %s", fe_describe(q, obj));
        return;
    }
    fe_check_keys(c, obj, path, NODE_KEYS, FE_NKEYS(NODE_KEYS));
    IrOp op;
    bool op_ok = parse_op(c, obj, path, &op);
    bool ok = op_ok;
    const char *name = "";
    const cJSON *name_item = fe_member(obj, "name");
    if (name_item && !fe_get_string(c, name_item, fe_path_key(p, path, "name"), &name))
        ok = false;
    int nin, *in, nout = 0, *out = NULL, nattrs = 0;
    IrAttr attrs[IR_MAX_ATTRS];
    ok &= parse_node_inputs(c, obj, path, op_ok, op, false, &nin, &in);
    const cJSON *outs = fe_require(c, obj, path, "outputs");
    ok &= outs && parse_node_outputs(c, outs, fe_path_key(p, path, "outputs"), op_ok, op, &nout, &out);
    if (op_ok)
        ok &= fe_parse_attrs(c, fe_member(obj, "attrs"), path, op, attrs, &nattrs);
    if (!ok)
        return;
    int id = ir_node_new(c->g, op, name, nin, in, nout, out);
    IrNode *n = c->g->nodes[id];
    n->where = ir_arena_strdup(c->g->arena, path);
    ir_node_set_attrs(c->g, n, nattrs, attrs);
}

static void parse_nodes(Fe *c, const cJSON *arr)
{
    char q[FE_QBUF];
    if (!arr)
        return;
    if (!cJSON_IsArray(arr)) {
        fe_error(c, "nodes", "expected an array of node objects, got %s", fe_describe(q, arr));
        return;
    }
    int64_t n = fe_count(arr);
    if (n > c->max_nodes) {
        fe_error(c, "nodes", "%lld nodes exceed the limit of %d", (long long)n, c->max_nodes);
        c->stop = true;
        return;
    }
    char p[FE_PATH_MAX];
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++)
        register_outputs(c, e, fe_path_idx(p, "nodes", i));
    i = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, i++)
        parse_node(c, e, fe_path_idx(p, "nodes", i));
}

/* ---- graph outputs ---------------------------------------------------------------------------- */

static void parse_outputs(Fe *c, const cJSON *root)
{
    char q[FE_QBUF], p[FE_PATH_MAX];
    const cJSON *arr = fe_member(root, "outputs");
    if (!arr) {
        fe_error(c, NULL, "missing key \"outputs\" (list the tensors the model returns)");
        return;
    }
    if (!cJSON_IsArray(arr)) {
        fe_error(c, "outputs", "expected an array of tensor names, got %s", fe_describe(q, arr));
        return;
    }
    int64_t n = fe_count(arr);
    if (n == 0) {
        fe_error(c, "outputs", "the model has no outputs; list at least one tensor");
        return;
    }
    IrGraph *g = c->g;
    g->outputs = ir_arena_alloc(g->arena, (size_t)n * sizeof(int));
    int i = 0;
    for (const cJSON *e = arr->child; e && !c->stop; e = e->next, i++) {
        const char *name;
        fe_path_idx(p, "outputs", i);
        if (!get_tensor_name(c, e, p, &name))
            continue;
        int id = resolve(c, name, p, false);
        if (id < 0)
            continue;
        if (g->values[id]->is_output) {
            fe_error(c, p, "%s is listed twice", fe_quote(q, name));
            continue;
        }
        g->values[id]->is_output = true;
        g->outputs[g->noutputs++] = id;
    }
}

/* ---- training --------------------------------------------------------------------------------- */

static bool parse_loss(Fe *c, const cJSON *loss)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    const char *path = "training.loss";
    IrGraph *g = c->g;
    if (!cJSON_IsObject(loss)) {
        fe_error(c, path, "expected an object {\"op\", \"inputs\"}, got %s", fe_describe(q, loss));
        return false;
    }
    fe_check_keys(c, loss, path, LOSS_KEYS, FE_NKEYS(LOSS_KEYS));
    IrOp op;
    bool op_ok = parse_op(c, loss, path, &op);
    if (op_ok && !(ir_op_info(op)->flags & IR_OPF_LOSS)) {
        fe_error(c, fe_path_key(p, path, "op"), "%s is not a training loss (use SoftmaxCrossEntropyLoss or MSELoss)",
                 ir_op_name(op));
        op_ok = false;
    }
    int nin, *in, nout = 0, *out = NULL, nattrs = 0;
    IrAttr attrs[IR_MAX_ATTRS];
    bool ok = parse_node_inputs(c, loss, path, op_ok, op, true, &nin, &in);
    if (op_ok)
        ok &= fe_parse_attrs(c, fe_member(loss, "attrs"), path, op, attrs, &nattrs);
    const cJSON *outs = fe_member(loss, "outputs");
    if (outs) {
        ok &= parse_node_outputs(c, outs, fe_path_key(p, path, "outputs"), op_ok, op, &nout, &out);
    } else {
        int old = ir_value_find(g, "loss");
        if (old >= 0) {
            fe_error(c, path, "its output is named \"loss\", which is already taken by %s; name the loss output with "
                              "\"outputs\"", g->values[old]->where);
            ok = false;
        } else {
            nout = 1;
            out = ir_arena_alloc(g->arena, sizeof(int));
            out[0] = ir_value_new(g, "loss", SRT_F32, NULL, IR_ROLE_ACT);
            g->values[out[0]]->where = ir_arena_strdup(c->g->arena, fe_path_key(p, path, "outputs[0]"));
        }
    }
    if (!ok || !op_ok)
        return false;
    /* the loss lives outside g->nodes: id -1, its outputs have no producer id */
    IrNode *n = ir_arena_alloc(g->arena, sizeof *n);
    n->id = -1;
    n->op = op;
    n->group = -1;
    n->name = "";
    n->where = path;
    n->nin = nin;
    n->in = in;
    n->nout = nout;
    n->out = out;
    ir_node_set_attrs(g, n, nattrs, attrs);
    g->training->loss = n;
    return true;
}

/* A number of the optimizer: def when absent; must satisfy lo <= v < hi. */
static double opt_number(Fe *c, const cJSON *opt, const char *key, double def, double lo, double hi, bool *ok)
{
    char p[FE_PATH_MAX], q[FE_QBUF];
    const cJSON *it = fe_member(opt, key);
    double v = def;
    fe_path_key(p, "training.optimizer", key);
    if (!it)
        return v;
    if (!fe_get_number(c, it, p, &v)) {
        *ok = false;
        return def;
    }
    if (v < lo || v >= hi) {
        if (isinf(hi))
            fe_error(c, p, "must be >= %g, got %s", lo, fe_describe(q, it));
        else
            fe_error(c, p, "must be in [%g, %g), got %s", lo, hi, fe_describe(q, it));
        *ok = false;
    }
    return v;
}

static void parse_optimizer(Fe *c, const cJSON *opt)
{
    char q[FE_QBUF], sb[FE_SBUF];
    const char *path = "training.optimizer";
    if (!cJSON_IsObject(opt)) {
        fe_error(c, path, "expected an object {\"kind\": \"sgd\" | \"adam\" | \"adamw\", ...}, got %s",
                 fe_describe(q, opt));
        return;
    }
    const cJSON *kind = fe_require(c, opt, path, "kind");
    const char *k;
    if (!kind || !fe_get_string(c, kind, "training.optimizer.kind", &k))
        return;
    IrOptimizer *o = &c->g->training->opt;
    bool ok = true;
    if (!strcmp(k, "sgd")) {
        fe_check_keys_of(c, opt, path, SGD_KEYS, FE_NKEYS(SGD_KEYS), "sgd");
        o->kind = IR_OPTIM_SGD;
        if (!fe_member(opt, "lr"))
            fe_error(c, path, "missing key \"lr\" (sgd has no default learning rate)");
        o->lr = opt_number(c, opt, "lr", 0, 0, INFINITY, &ok);
        o->momentum = opt_number(c, opt, "momentum", 0, 0, INFINITY, &ok);
        o->dampening = opt_number(c, opt, "dampening", 0, -INFINITY, INFINITY, &ok);
        o->weight_decay = opt_number(c, opt, "weight_decay", 0, 0, INFINITY, &ok);
        const cJSON *nest = fe_member(opt, "nesterov");
        if (nest && !fe_get_bool(c, nest, "training.optimizer.nesterov", &o->nesterov))
            ok = false;
        if (ok && o->nesterov && (o->momentum <= 0 || o->dampening != 0))
            fe_error(c, "training.optimizer.nesterov", "Nesterov momentum needs a momentum > 0 and dampening 0");
    } else if (!strcmp(k, "adam") || !strcmp(k, "adamw")) {
        bool w = !strcmp(k, "adamw");
        fe_check_keys_of(c, opt, path, ADAM_KEYS, FE_NKEYS(ADAM_KEYS), k);
        o->kind = w ? IR_OPTIM_ADAMW : IR_OPTIM_ADAM;
        o->lr = opt_number(c, opt, "lr", 0.001, 0, INFINITY, &ok);
        o->beta1 = opt_number(c, opt, "beta1", 0.9, 0, 1, &ok);
        o->beta2 = opt_number(c, opt, "beta2", 0.999, 0, 1, &ok);
        o->eps = opt_number(c, opt, "eps", 1e-8, 0, INFINITY, &ok);
        o->weight_decay = opt_number(c, opt, "weight_decay", w ? 0.01 : 0, 0, INFINITY, &ok);
    } else {
        FeSuggest s;
        fe_suggest_init(&s, k);
        for (int i = 0; i < FE_NKEYS(OPTIMIZERS); i++)
            fe_suggest_try(&s, OPTIMIZERS[i]);
        if (s.best)
            fe_error(c, "training.optimizer.kind", "unknown optimizer %s%s", fe_quote(q, k), fe_suggest_text(&s, sb));
        else
            fe_error(c, "training.optimizer.kind", "unknown optimizer %s (sinter implements \"sgd\", \"adam\" and "
                                                   "\"adamw\")", fe_quote(q, k));
    }
}

/* training.inputs are declared before the nodes (so a node that uses one gets a clear error). */
static void parse_training_decls(Fe *c, const cJSON *tr)
{
    char q[FE_QBUF];
    if (!tr)
        return;
    if (!cJSON_IsObject(tr)) {
        fe_error(c, "training", "expected an object {\"inputs\", \"loss\", \"optimizer\"}, got %s", fe_describe(q, tr));
        return;
    }
    fe_check_keys(c, tr, "training", TRAINING_KEYS, FE_NKEYS(TRAINING_KEYS));
    IrTraining *t = ir_arena_alloc(c->g->arena, sizeof *t);
    c->g->training = t;
    t->inputs = parse_input_decls(c, fe_member(tr, "inputs"), "training.inputs", true, &t->ninputs);
    if (!t->inputs)
        t->inputs = ir_arena_alloc(c->g->arena, sizeof(int));
}

static void parse_training_rest(Fe *c, const cJSON *tr)
{
    if (!cJSON_IsObject(tr) || !c->g->training)
        return;
    const cJSON *loss = fe_require(c, tr, "training", "loss");
    if (loss)
        parse_loss(c, loss);
    const cJSON *opt = fe_require(c, tr, "training", "optimizer");
    if (opt)
        parse_optimizer(c, opt);
}

/* ---- the model -------------------------------------------------------------------------------- */

static const char *parse_model_name(Fe *c, const cJSON *root)
{
    char q[FE_QBUF];
    const cJSON *it = fe_member(root, "name");
    if (!it) {
        fe_error(c, NULL, "missing key \"name\" (a C identifier that prefixes the generated library's symbols)");
        return NULL;
    }
    if (!cJSON_IsString(it)) {
        fe_error(c, "name", "expected a string, got %s", fe_describe(q, it));
        return NULL;
    }
    const char *s = it->valuestring;
    const char *why = ir_model_name_problem(s);
    if (why) {
        fe_error(c, "name", "%s %s", fe_quote(q, s), why);
        return NULL;
    }
    return s;
}

static void parse_header(Fe *c, const cJSON *root)
{
    char q[FE_QBUF];
    IrGraph *g = c->g;
    const cJSON *it;
    int64_t v;
    if ((it = fe_member(root, "opset"))) {
        if (!fe_json_int(it, &v))
            fe_error(c, "opset", "expected an integer, got %s", fe_describe(q, it));
        else if (v != 17)
            fe_error(c, "opset", "opset %lld is not supported; sinter implements ONNX opset 17", (long long)v);
        else
            g->opset = 17;
    }
    if ((it = fe_member(root, "seed"))) {
        if (!fe_json_int(it, &v))
            fe_error(c, "seed", "expected an integer, got %s", fe_describe(q, it));
        else
            g->seed = v;
    }
    if ((it = fe_member(root, "weights"))) {
        if (!cJSON_IsString(it) || !*it->valuestring)
            fe_error(c, "weights", "expected the path of a .safetensors file, got %s", fe_describe(q, it));
        else
            g->weights = ir_arena_strdup(c->g->arena, it->valuestring);
    }
}

static IrGraph *build(Fe *c, const cJSON *root, const char *model_dir)
{
    char q[FE_QBUF];
    if (!cJSON_IsObject(root)) {
        fe_error(c, NULL, "expected a model object {\"sinter\": 1, ...}, got %s", fe_describe(q, root));
        return NULL;
    }
    fe_check_keys(c, root, NULL, TOP_KEYS, FE_NKEYS(TOP_KEYS));
    const cJSON *ver = fe_member(root, "sinter");
    int64_t v;
    if (!ver) {
        fe_error(c, NULL, "missing key \"sinter\" (the format version: add \"sinter\": 1)");
        return NULL;
    }
    if (!fe_json_int(ver, &v) || v != 1) {
        fe_error(c, "sinter", "unsupported format version %s; this sinter reads version 1", fe_describe(q, ver));
        return NULL;
    }
    const char *name = parse_model_name(c, root);
    IrGraph *g = c->g = ir_graph_new(name ? name : "model");
    g->model_dir = ir_arena_strdup(c->g->arena, model_dir && *model_dir ? model_dir : ".");
    parse_header(c, root);
    g->inputs = parse_input_decls(c, fe_member(root, "inputs"), "inputs", false, &g->ninputs);
    if (!g->inputs)
        g->inputs = ir_arena_alloc(g->arena, sizeof(int));
    parse_params(c, fe_member(root, "params"));
    parse_constants(c, fe_member(root, "constants"));
    parse_training_decls(c, fe_member(root, "training"));
    parse_nodes(c, fe_member(root, "nodes"));
    parse_outputs(c, root);
    if (!g->outputs)
        g->outputs = ir_arena_alloc(g->arena, sizeof(int));
    parse_training_rest(c, fe_member(root, "training"));
    if (c->nerr || c->stop)
        goto fail;
    if (!fe_materialize_params(c) || c->nerr)
        goto fail;
    for (int id = 0; id < g->nvalues; id++)   /* records against the data (inits and weights are in) */
        if (ir_value_check_records(g->values[id], c->d))
            goto fail;
    /* (no nodes: nothing to order; ir_graph_toposort would memcpy to a NULL array) */
    if ((g->nnodes && ir_graph_toposort(g, c->d) != 0) || ir_infer_shapes(g, c->d) != 0)
        goto fail;
    return g;
fail:
    ir_graph_free(g);
    c->g = NULL;
    return NULL;
}

/* ---- JSON syntax errors ------------------------------------------------------------------------ */

/* "LINE:COL: invalid JSON (reason)"; pos is where cJSON stopped, used when the scanner finds
 * nothing (cJSON failing on valid JSON means it ran out of memory). */
static void json_syntax_error(Fe *c, const char *text, size_t len, const char *pos)
{
    char reason[160];
    size_t off;
    if (!fe_json_locate_error(text, len, &off, reason, sizeof reason)) {
        off = pos && pos >= text && pos <= text + len ? (size_t)(pos - text) : 0;
        snprintf(reason, sizeof reason, "cannot parse (out of memory?)");
    }
    int line = 1, col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char where[48];
    snprintf(where, sizeof where, "%d:%d", line, col);
    fe_error(c, where, "invalid JSON (%s)", reason);
}

static cJSON *parse_json(Fe *c, const char *text, size_t len)
{
    if (!text) {
        fe_error(c, NULL, "no model text");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        json_syntax_error(c, text, len, end);
        return NULL;
    }
    fe_json_keep_number_text(root, text, len);   /* int64 values exact beyond 2^53 */
    /* only whitespace may follow the model object */
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
    for (size_t i = off; i < len; i++)
        if (!(text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
            json_syntax_error(c, text, len, text + i);
            cJSON_Delete(root);
            return NULL;
        }
    return root;
}

/* ---- entry points ---------------------------------------------------------------------------- */

void fe_init(Fe *c, const FeOptions *opt, IrDiag *d)
{
    memset(c, 0, sizeof *c);
    c->d = d;
    c->max_data_bytes = opt && opt->max_data_bytes ? opt->max_data_bytes : DEFAULT_MAX_DATA_BYTES;
    c->max_nodes = opt && opt->max_nodes > 0 ? opt->max_nodes : DEFAULT_MAX_NODES;
    c->mem_weights = opt ? opt->weights : NULL;
    c->mem_label = opt && opt->weights_label ? opt->weights_label : "the weights in memory";
}

IrGraph *fe_parse_model_opts(const char *text, size_t len, const char *file_label, const char *model_dir,
                             const FeOptions *opt, IrDiag *d)
{
    IrDiag scratch;
    if (!d) {
        ir_diag_init(&scratch, NULL);
        d = &scratch;
    }
    const char *saved_file = d->file;
    if (file_label)
        d->file = file_label;
    Fe c;
    fe_init(&c, opt, d);
    IrGraph *g = NULL;
    cJSON *root = parse_json(&c, text, len);
    if (root)
        g = build(&c, root, model_dir);
    cJSON_Delete(root);
    free(c.params);
    d->file = saved_file;
    if (d == &scratch)
        ir_diag_free(&scratch);
    return g;
}

IrGraph *fe_parse_model(const char *text, size_t len, const char *file_label, const char *model_dir, IrDiag *d)
{
    return fe_parse_model_opts(text, len, file_label, model_dir, NULL, d);
}

IrGraph *fe_load_model(const char *path, IrDiag *d)
{
    char err[512];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!path) {
        ir_diag_error(d, NULL, "no model path given");
        return NULL;
    }
    if (srt_read_file(path, MAX_MODEL_FILE_BYTES, &buf, &len, err, sizeof err) != SINTER_OK) {
        const char *saved = d ? d->file : NULL;
        if (d)
            d->file = path;
        ir_diag_error(d, NULL, "%s", err);
        if (d)
            d->file = saved;
        return NULL;
    }
    /* the folder of the model resolves a relative "weights" path */
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
    size_t n = strlen(path);
    bool sir = n > 4 && !strcmp(path + n - 4, ".sir");
    IrGraph *g = sir ? fe_parse_sir((const char *)buf, len, path, dir, NULL, d)
                     : fe_parse_model((const char *)buf, len, path, dir, d);
    free(dir);
    free(buf);
    return g;
}
