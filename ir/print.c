/* Text IR printer: one declaration or node per line, reading like the model. */

/* The format, line by line, in this order:
 *   model NAME (seed S)
 *   input %x : f32[N,784]                                  graph inputs, declaration order
 *   param %w : f32[256,784] init kaiming_uniform a=2.23    params by id; "from weights" instead of
 *                                                          init, " frozen" when not trainable (or
 *                                                          " optimizer state"), data (as for
 *                                                          constants) when neither
 *   param %w : f32[64,784] from weights quant{bits=8, axis=0, scale=[0.01, ...]}
 *              sparse{format="csr", block=[1, 1], nnz=5017}
 *                                                          records after the param's flags (and after a
 *                                                          constant's type): ir_print_quant and
 *                                                          ir_print_sparse, attribute syntax; group_axis
 *                                                          and group only when grouped, zero_point only
 *                                                          when asymmetric; scales always in full
 *                                                          (frontend/sir.c parses the line back)
 *   const %c : i64[2] = [-1, 784]                          constants by id (folded ones included);
 *                                                          > 16 values: "= <1024 values, min A max B>"
 *                                                          unless show_data; scalars bare: "= 1.5"
 *   %a, _, %b = Op(%x, _, %y) {attr=1, s="x"} : T1, _, T2 = sym[N, 8]    # node name
 *                                                          nodes in order; _ marks an absent input or
 *                                                          unused output; attributes as written, in
 *                                                          the op table's spec order; "= sym[...]"
 *                                                          after an integer output's type when its
 *                                                          compile-time content is known;
 *                                                          " group=K" after the types when
 *                                                          passes/fuse put the node in kernel group K
 *   output %y                                              graph outputs, declaration order
 *   training input %label : i64[N]
 *   training loss %loss = SoftmaxCrossEntropyLoss(%logits, %label) {...} : f32[]
 *   training optimizer adam lr=0.001 beta1=0.9 beta2=0.999 eps=1e-08 weight_decay=0
 *   training update %fc1.weight <- %"fc1.weight/new"        after autodiff: what a step writes
 *   training grad %fc1.weight : %"grad/fc1.weight"          after autodiff: each param's gradient
 * Names matching [A-Za-z0-9_.]+ print bare, others quoted with C-style escapes: %"/attn/q".
 * Reals print with the fewest digits that read back to the same float or double. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ir/ops_impl.h"

/* Constants with more elements than this print as a summary unless show_data is set. */
#define PRINT_MAX_INLINE 16

/* ---- scalars and names ------------------------------------------------------------ */

/* Shortest %g text that reads back to the same value (float or double precision). */
static void fmt_real(char *buf, size_t len, double x, bool single)
{
    if (isnan(x)) {
        snprintf(buf, len, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, len, x > 0 ? "inf" : "-inf");
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, len, "%.*g", p, x);
        double back = strtod(buf, NULL);
        if (single ? (float)back == (float)x : back == x)
            return;
    }
}

static bool is_plain_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '.'))
            return false;
    }
    return true;
}

/* A double-quoted string with \" \\ \n \t and \xNN escapes. */
static void print_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* A node name after "# ": as it is when it reads back unchanged to the end of the line
 * (printable, no surrounding blanks, not starting with a quote), else quoted. */
static void print_comment_name(FILE *f, const char *s)
{
    size_t n = strlen(s);
    bool plain = s[0] != '"' && s[0] != ' ' && s[n - 1] != ' ';
    for (size_t i = 0; plain && i < n; i++)
        plain = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f;
    if (plain)
        fputs(s, f);
    else
        print_quoted(f, s);
}

/* %name, or %"name" when it is not a plain identifier. */
static void print_ref(FILE *f, const IrGraph *g, int id)
{
    if (id < 0) {
        fputc('_', f);
        return;
    }
    if (id >= g->nvalues) {
        fprintf(f, "%%<bad id %d>", id);
        return;
    }
    const char *name = g->values[id]->name;
    fputc('%', f);
    if (is_plain_name(name))
        fputs(name, f);
    else
        print_quoted(f, name);
}

static void print_type(FILE *f, const IrValue *v)
{
    if (!v->typed) {
        fputc('?', f);
        return;
    }
    char buf[256];
    ir_type_format(v->dtype, &v->shape, buf, sizeof buf);
    fputs(buf, f);
}

/* ---- tensor contents ------------------------------------------------------------ */

static void print_element(FILE *f, const IrTensor *t, int64_t i)
{
    char buf[48];
    if (t->dtype == SRT_BOOL)
        fputs(ir_tensor_geti(t, i) ? "true" : "false", f);
    else if (ir_dtype_is_float(t->dtype)) {
        fmt_real(buf, sizeof buf, ir_tensor_getf(t, i), t->dtype == SRT_F32);
        fputs(buf, f);
    } else
        fprintf(f, "%lld", (long long)ir_tensor_geti(t, i));
}

/* How print_data writes a value's contents. */
typedef enum DataForm { FORM_STORAGE, FORM_BARE, FORM_LIST, FORM_SPLAT, FORM_SUMMARY } DataForm;

static DataForm data_form(IrDtype dtype, int64_t numel, bool scalar, const void *data, bool full)
{
    if (dtype >= SRT_BF16)
        return FORM_STORAGE;
    if (scalar && numel == 1)
        return FORM_BARE;
    if (numel <= PRINT_MAX_INLINE || full)
        return FORM_LIST;
    size_t esz = srt_dtype_size(dtype);
    for (int64_t k = 1; k < numel; k++)
        if (memcmp((const char *)data + (size_t)k * esz, data, esz))
            return FORM_SUMMARY;
    return FORM_SPLAT;
}

/* "[1, 2, 3]" (a scalar prints bare), "<1024 values, all 0>" when every element is the same, or
 * "<1024 values, min -1.2 max 3.4>" when long (ir_print_text then adds a "data" line). */
static void print_data(FILE *f, IrDtype dtype, int64_t numel, bool scalar, const void *data, bool full)
{
    IrTensor t = {.dtype = dtype, .numel = numel, .data = (void *)data};
    switch (data_form(dtype, numel, scalar, data, full)) {
    case FORM_STORAGE:
        fprintf(f, "<%lld values of a storage-only type>", (long long)numel);
        return;
    case FORM_BARE:
        print_element(f, &t, 0);
        return;
    case FORM_LIST:
        fputc('[', f);
        for (int64_t i = 0; i < numel; i++) {
            if (i)
                fputs(", ", f);
            print_element(f, &t, i);
        }
        fputc(']', f);
        return;
    case FORM_SPLAT:
        fprintf(f, "<%lld values, all ", (long long)numel);
        print_element(f, &t, 0);
        fputc('>', f);
        return;
    case FORM_SUMMARY:
        break;
    }
    /* summary: min and max (NaNs counted apart); the values follow in a "data" line */
    int64_t nnan = 0, imin = -1, imax = -1;
    for (int64_t i = 0; i < numel; i++) {
        if (ir_dtype_is_float(dtype)) {
            double x = ir_tensor_getf(&t, i);
            if (isnan(x)) {
                nnan++;
                continue;
            }
            if (imin < 0 || x < ir_tensor_getf(&t, imin))
                imin = i;
            if (imax < 0 || x > ir_tensor_getf(&t, imax))
                imax = i;
        } else {
            int64_t x = ir_tensor_geti(&t, i);
            if (imin < 0 || x < ir_tensor_geti(&t, imin))
                imin = i;
            if (imax < 0 || x > ir_tensor_geti(&t, imax))
                imax = i;
        }
    }
    fprintf(f, "<%lld values", (long long)numel);
    if (imin >= 0) {
        fputs(", min ", f);
        print_element(f, &t, imin);
        fputs(" max ", f);
        print_element(f, &t, imax);
    }
    if (nnan)
        fprintf(f, ", %lld nan", (long long)nnan);
    fputc('>', f);
}

/* Element count of a value with printable data, or -1 (values whose shape is not constant have
 * no data). */
static int64_t data_numel(const IrValue *v)
{
    IrDim cnt;
    if (!v->data || !v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0)
        return -1;
    return cnt.b;
}

/* Contents of a value with data: " = ...". */
static void print_value_data(FILE *f, const IrValue *v, bool full)
{
    int64_t n = data_numel(v);
    if (n < 0)
        return;
    fputs(" = ", f);
    print_data(f, v->dtype, n, v->shape.rank == 0, v->data, full);
}

/* Does the declaration of v print its data? Params only when nothing else reproduces it: neither
 * a weights file (in-memory weights, e.g. ONNX initializers, print) nor an init spec. */
static bool prints_data(const IrGraph *g, const IrValue *v, bool full)
{
    if (v->role == IR_ROLE_PARAM)
        return full || !(v->from_weights ? g->weights : v->init_json);
    return v->role == IR_ROLE_CONST && v->data;
}

/* ---- records ------------------------------------------------------------------------- */

void ir_print_quant(FILE *f, const IrQuant *q)
{
    if (!q)
        return;
    fprintf(f, " quant{bits=%d, axis=%d", q->bits, q->axis);
    if (q->group > 0)
        fprintf(f, ", group_axis=%d, group=%lld", q->group_axis, (long long)q->group);
    /* the scales in full (even without show_data): the line must parse back (frontend/sir.c) */
    fputs(", scale=", f);
    if (q->scale)
        print_data(f, SRT_F32, q->nscales, false, q->scale, true);
    else
        fputs("[]", f);
    if (q->zero_point) {
        fputs(", zero_point=", f);
        print_data(f, SRT_I32, q->nscales, false, q->zero_point, true);
    }
    fputc('}', f);
}

void ir_print_sparse(FILE *f, const IrSparse *s)
{
    if (!s)
        return;
    fprintf(f, " sparse{format=\"%s\", block=[%lld, %lld], nnz=%lld}", ir_sparse_format_name(s->format),
            (long long)s->block[0], (long long)s->block[1], (long long)s->nnz);
}

/* " = sym[N, 784]" for a value with known symbolic content. */
static void print_sym(FILE *f, const IrValue *v)
{
    IrDim cnt;
    if (!v->sym || !v->typed || !ir_shape_numel(&v->shape, &cnt) || cnt.a != 0)
        return;
    fputs(" = sym[", f);
    for (int64_t i = 0; i < cnt.b; i++) {
        char buf[48];
        ir_dim_format(v->sym[i], buf, sizeof buf);
        fprintf(f, "%s%s", i ? ", " : "", buf);
    }
    fputc(']', f);
}

/* ---- attributes ---------------------------------------------------------------- */

static void print_attr_value(FILE *f, const IrAttr *a)
{
    char buf[48];
    switch (a->kind) {
    case IR_ATTR_INT:
        fprintf(f, "%lld", (long long)a->i);
        break;
    case IR_ATTR_FLOAT:
        fmt_real(buf, sizeof buf, a->f, false);
        fputs(buf, f);
        break;
    case IR_ATTR_STRING:
        print_quoted(f, a->s ? a->s : "");
        break;
    case IR_ATTR_INTS:
        fputc('[', f);
        for (int i = 0; i < a->n; i++)
            fprintf(f, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
        fputc(']', f);
        break;
    case IR_ATTR_FLOATS:
        fputc('[', f);
        for (int i = 0; i < a->n; i++) {
            fmt_real(buf, sizeof buf, a->floats[i], false);
            fprintf(f, "%s%s", i ? ", " : "", buf);
        }
        fputc(']', f);
        break;
    case IR_ATTR_TENSOR: {
        char type[256];
        ir_type_format(a->tdtype, &a->tshape, type, sizeof type);
        fprintf(f, "tensor<%s>", type);
        print_data(f, a->tdtype, a->n, false, a->tdata, true);
        break;
    }
    }
}

/* " {a=1, b="x"}": written attributes in the op table's spec order, then any the op does not
 * know (only in broken graphs; the verifier reports them) in stored order. */
static void print_attrs(FILE *f, const IrNode *n)
{
    if (n->nattrs == 0)
        return;
    const IrOpInfo *info = ir_op_info(n->op);
    int printed = 0;
    fputs(" {", f);
    for (int s = 0; s < info->nattrs; s++)
        for (int i = 0; i < n->nattrs; i++)
            if (!strcmp(n->attrs[i].name, info->attrs[s].name)) {
                fprintf(f, "%s%s=", printed++ ? ", " : "", n->attrs[i].name);
                print_attr_value(f, &n->attrs[i]);
            }
    for (int i = 0; i < n->nattrs; i++)
        if (!ir_op_attr_spec(n->op, n->attrs[i].name)) {
            fprintf(f, "%s%s=", printed++ ? ", " : "", n->attrs[i].name);
            print_attr_value(f, &n->attrs[i]);
        }
    fputc('}', f);
}

/* ---- declarations and nodes -------------------------------------------------------- */

/* " init kaiming_uniform a=2.236 mode=\"fan_in\"" from the init object as written. */
static void print_init(FILE *f, const char *init_json)
{
    cJSON *o = cJSON_Parse(init_json);
    if (!o || !cJSON_IsObject(o)) {
        fputs(" init ", f);
        print_quoted(f, init_json);
        cJSON_Delete(o);
        return;
    }
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    fprintf(f, " init %s", cJSON_IsString(kind) ? kind->valuestring : "?");
    for (const cJSON *it = o->child; it; it = it->next) {
        if (it == kind || !it->string)
            continue;
        fprintf(f, " %s=", it->string);
        if (cJSON_IsString(it))
            print_quoted(f, it->valuestring);
        else if (cJSON_IsNumber(it)) {
            char buf[48];
            fmt_real(buf, sizeof buf, it->valuedouble, false);
            fputs(buf, f);
        } else {
            char *s = cJSON_PrintUnformatted(it);
            fputs(s ? s : "?", f);
            free(s);
        }
    }
    cJSON_Delete(o);
}

static void print_param(FILE *f, const IrGraph *g, const IrValue *v, bool full)
{
    fputs("param ", f);
    fputc('%', f);
    if (is_plain_name(v->name))
        fputs(v->name, f);
    else
        print_quoted(f, v->name);
    fputs(" : ", f);
    print_type(f, v);
    if (v->from_weights)
        fputs(" from weights", f);
    if (v->init_json)
        print_init(f, v->init_json);
    if (v->opt_state)
        fputs(" optimizer state", f);
    else if (!v->trainable)
        fputs(" frozen", f);
    ir_print_quant(f, v->quant);
    ir_print_sparse(f, v->sparse);
    if (prints_data(g, v, full))
        print_value_data(f, v, full);
}

/* "%a, %b = Op(%x, _, %y) {attrs} : t1, t2    # name" */
static void print_node(FILE *f, const IrGraph *g, const IrNode *n)
{
    for (int k = 0; k < n->nout; k++) {
        if (k)
            fputs(", ", f);
        print_ref(f, g, n->out[k]);
    }
    fprintf(f, " = %s(", ir_op_name(n->op));
    for (int k = 0; k < n->nin; k++) {
        if (k)
            fputs(", ", f);
        print_ref(f, g, n->in[k]);
    }
    fputc(')', f);
    print_attrs(f, n);
    fputs(" : ", f);
    for (int k = 0; k < n->nout; k++) {
        if (k)
            fputs(", ", f);
        if (n->out[k] < 0 || n->out[k] >= g->nvalues) {
            fputc('_', f);
            continue;
        }
        const IrValue *v = g->values[n->out[k]];
        print_type(f, v);
        print_sym(f, v);
    }
    if (n->group >= 0)
        fprintf(f, " group=%d", n->group);
    if (n->name && *n->name) {
        fputs("    # ", f);
        print_comment_name(f, n->name);
    }
    fputc('\n', f);
}

static const char *optimizer_name(IrOptimKind k)
{
    switch (k) {
    case IR_OPTIM_SGD: return "sgd";
    case IR_OPTIM_ADAM: return "adam";
    case IR_OPTIM_ADAMW: return "adamw";
    }
    return "?";
}

static void print_hyper(FILE *f, const char *name, double x)
{
    char buf[48];
    fmt_real(buf, sizeof buf, x, false);
    fprintf(f, " %s=%s", name, buf);
}

static void print_training(FILE *f, const IrGraph *g)
{
    const IrTraining *t = g->training;
    for (int i = 0; i < t->ninputs; i++) {
        fputs("training input ", f);
        print_ref(f, g, t->inputs[i]);
        fputs(" : ", f);
        if (t->inputs[i] >= 0 && t->inputs[i] < g->nvalues)
            print_type(f, g->values[t->inputs[i]]);
        fputc('\n', f);
    }
    if (t->loss) {
        fputs("training loss ", f);
        print_node(f, g, t->loss);
    }
    const IrOptimizer *o = &t->opt;
    fprintf(f, "training optimizer %s", optimizer_name(o->kind));
    print_hyper(f, "lr", o->lr);
    if (o->kind == IR_OPTIM_SGD) {
        print_hyper(f, "momentum", o->momentum);
        print_hyper(f, "dampening", o->dampening);
        fprintf(f, " nesterov=%s", o->nesterov ? "true" : "false");
    } else {
        print_hyper(f, "beta1", o->beta1);
        print_hyper(f, "beta2", o->beta2);
        print_hyper(f, "eps", o->eps);
    }
    print_hyper(f, "weight_decay", o->weight_decay);
    fputc('\n', f);
    /* the training graph's lists (filled by autodiff) */
    for (int i = 0; t->update_dst && t->update_src && i < t->nupdates; i++) {
        fputs("training update ", f);
        print_ref(f, g, t->update_dst[i]);
        fputs(" <- ", f);
        print_ref(f, g, t->update_src[i]);
        fputc('\n', f);
    }
    for (int i = 0; t->grad_param && t->grad_value && i < t->ngrads; i++) {
        fputs("training grad ", f);
        print_ref(f, g, t->grad_param[i]);
        fputs(" : ", f);
        print_ref(f, g, t->grad_value[i]);
        fputc('\n', f);
    }
}

/* weights "PATH": absolute, so the text parses from any folder. */
static void print_weights(FILE *f, const IrGraph *g)
{
    const char *w = g->weights, *dir = g->model_dir ? g->model_dir : ".";
    size_t len = strlen(w) + strlen(dir) + 2;
    char *joined = srt_malloc(len);
    IR_ASSERT(joined);
    if (w[0] == '/')
        snprintf(joined, len, "%s", w);
    else
        snprintf(joined, len, "%s/%s", dir, w);
    char *abs = realpath(joined, NULL);
    char cwd[PATH_MAX];
    if (!abs && joined[0] != '/' && getcwd(cwd, sizeof cwd)) {
        /* the file is gone: still make the path absolute */
        size_t alen = strlen(cwd) + strlen(joined) + 2;
        abs = srt_malloc(alen);
        IR_ASSERT(abs);
        snprintf(abs, alen, "%s/%s", cwd, joined);
    }
    fputs("weights ", f);
    print_quoted(f, abs ? abs : joined);
    fputc('\n', f);
    free(abs);
    free(joined);
}

/* "data %c = [...]" for every value whose declaration printed a summary. */
static void print_data_lines(FILE *f, const IrGraph *g, bool full)
{
    for (int role = IR_ROLE_PARAM; role <= IR_ROLE_CONST; role++)
        for (int id = 0; id < g->nvalues; id++) {
            const IrValue *v = g->values[id];
            int64_t n = data_numel(v);
            if ((int)v->role != role || n < 0 || !prints_data(g, v, full) ||
                data_form(v->dtype, n, v->shape.rank == 0, v->data, full) != FORM_SUMMARY)
                continue;
            fputs("data ", f);
            print_ref(f, g, id);
            fputs(" = ", f);
            print_data(f, v->dtype, n, false, v->data, true);
            fputc('\n', f);
        }
}

void ir_print_text(const IrGraph *g, FILE *f, const IrPrintOptions *opt)
{
    IrPrintOptions defaults = {0};
    if (!opt)
        opt = &defaults;
    fprintf(f, "model %s (seed %lld)\n", g->name, (long long)g->seed);
    if (g->weights)
        print_weights(f, g);
    for (int i = 0; i < g->ninputs; i++) {
        fputs("input ", f);
        print_ref(f, g, g->inputs[i]);
        fputs(" : ", f);
        if (g->inputs[i] >= 0 && g->inputs[i] < g->nvalues)
            print_type(f, g->values[g->inputs[i]]);
        fputc('\n', f);
    }
    for (int id = 0; id < g->nvalues; id++)
        if (g->values[id]->role == IR_ROLE_PARAM) {
            print_param(f, g, g->values[id], opt->show_data);
            fputc('\n', f);
        }
    for (int id = 0; id < g->nvalues; id++) {
        const IrValue *v = g->values[id];
        if (v->role != IR_ROLE_CONST)
            continue;
        fputs("const ", f);
        print_ref(f, g, id);
        fputs(" : ", f);
        print_type(f, v);
        ir_print_quant(f, v->quant);
        ir_print_sparse(f, v->sparse);
        if (v->data)
            print_value_data(f, v, opt->show_data);
        else
            print_sym(f, v);
        fputc('\n', f);
    }
    for (int i = 0; i < g->nnodes; i++)
        print_node(f, g, g->nodes[i]);
    for (int i = 0; i < g->noutputs; i++) {
        fputs("output ", f);
        print_ref(f, g, g->outputs[i]);
        fputc('\n', f);
    }
    if (g->training)
        print_training(f, g);
    print_data_lines(f, g, opt->show_data);
}
