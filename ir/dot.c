/* DOT printer: the graph as a Graphviz digraph (ops as boxes, inputs/outputs as ellipses). */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* Params and constants are folded into their consumer's label (one line each) instead of
 * getting nodes of their own: a LeNet or ResNet then reads as a chain of ops, not a thicket
 * of weight notes. Small integer constants (Reshape targets, axes) show their contents. */
#define DOT_MAX_CONST_SHOWN 8

/* Text escaped for an HTML-like label: & < > " and control characters. */
static void put_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if (c < 0x20 || c == 0x7f)
                fputc('?', f);
            else
                fputc(c, f);
        }
    }
}

static void put_type(FILE *f, const IrValue *v)
{
    char buf[256];
    if (!v->typed) {
        fputc('?', f);
        return;
    }
    ir_type_format(v->dtype, &v->shape, buf, sizeof buf);
    fputs(buf, f);
}

static bool valid_value(const IrGraph *g, int id)
{
    return id >= 0 && id < g->nvalues;
}

/* "[1, 2]" of an INTS attribute, "[a, b, ... (12)]" when long. */
static void put_ints(FILE *f, const int64_t *v, int n, const char *sep)
{
    for (int i = 0; i < n; i++) {
        if (i == 6 && n > 8) {
            fprintf(f, "%s... (%d)", sep, n);
            return;
        }
        fprintf(f, "%s%lld", i ? sep : "", (long long)v[i]);
    }
}

/* A stride/pad/dilation list: one number when all are equal ("2"), else "1,2". */
static void put_uniform(FILE *f, const int64_t *v, int n)
{
    bool same = true;
    for (int i = 1; i < n; i++)
        same &= v[i] == v[0];
    put_ints(f, v, same ? 1 : n, ",");
}

/* Conv and pooling: "5x5 stride 2 pad 0,1,0,1 group 2" from the attributes as written. */
static bool put_window_attrs(FILE *f, const IrNode *n)
{
    if (n->op != IR_OP_CONV && n->op != IR_OP_CONVT && n->op != IR_OP_MAXPOOL && n->op != IR_OP_AVGPOOL)
        return false;
    const int64_t *v;
    int cnt, parts = 0;
    if ((cnt = ir_attr_ints(n, "kernel_shape", &v)) > 0) {
        put_ints(f, v, cnt, "x");
        parts++;
    }
    if ((cnt = ir_attr_ints(n, "strides", &v)) > 0) {
        fputs(parts++ ? " stride " : "stride ", f);
        put_uniform(f, v, cnt);
    }
    if ((cnt = ir_attr_ints(n, "pads", &v)) > 0) {
        bool any = false;
        for (int i = 0; i < cnt; i++)
            any |= v[i] != 0;
        if (any) {
            fputs(parts++ ? " pad " : "pad ", f);
            put_uniform(f, v, cnt);
        }
    }
    if ((cnt = ir_attr_ints(n, "dilations", &v)) > 0) {
        fputs(parts++ ? " dilation " : "dilation ", f);
        put_uniform(f, v, cnt);
    }
    const IrAttr *a = ir_attr_get(n, "group");
    if (a && a->kind == IR_ATTR_INT && a->i != 1)
        fprintf(f, "%sgroup %lld", parts++ ? " " : "", (long long)a->i);
    a = ir_attr_get(n, "auto_pad");
    if (a && a->kind == IR_ATTR_STRING && a->s && strcmp(a->s, "NOTSET")) {
        fputs(parts++ ? " " : "", f);
        put_html(f, a->s);
    }
    return parts > 0;
}

/* Other ops: "axis=1 transB=1" (long lists abbreviated, tensors as their type). */
static bool put_generic_attrs(FILE *f, const IrNode *n)
{
    for (int i = 0; i < n->nattrs; i++) {
        const IrAttr *a = &n->attrs[i];
        if (i)
            fputc(' ', f);
        put_html(f, a->name);
        fputc('=', f);
        switch (a->kind) {
        case IR_ATTR_INT: fprintf(f, "%lld", (long long)a->i); break;
        case IR_ATTR_FLOAT: fprintf(f, "%g", a->f); break;
        case IR_ATTR_STRING: put_html(f, a->s ? a->s : ""); break;
        case IR_ATTR_INTS:
            fputc('[', f);
            put_ints(f, a->ints, a->n, ",");
            fputc(']', f);
            break;
        case IR_ATTR_FLOATS: fprintf(f, "[%d floats]", a->n); break;
        case IR_ATTR_TENSOR: {
            char buf[256];
            ir_type_format(a->tdtype, &a->tshape, buf, sizeof buf);
            fputs(buf, f);
            break;
        }
        }
    }
    return n->nattrs > 0;
}

/* One label line for a param/const input: "fc1.weight f32[120,400]" or "shape0 = [-1, 784]". */
static void put_folded_input(FILE *f, const IrValue *v)
{
    put_html(f, v->name);
    IrDim cnt;
    if (v->role == IR_ROLE_CONST && v->data && ir_dtype_is_int(v->dtype) && v->typed &&
        ir_shape_numel(&v->shape, &cnt) && cnt.a == 0 && cnt.b <= DOT_MAX_CONST_SHOWN) {
        IrTensor t = {.dtype = v->dtype, .numel = cnt.b, .data = v->data};
        fputs(" = [", f);
        for (int64_t i = 0; i < cnt.b; i++)
            fprintf(f, "%s%lld", i ? ", " : "", (long long)ir_tensor_geti(&t, i));
        fputc(']', f);
        return;
    }
    fputc(' ', f);
    put_type(f, v);
    if (v->role == IR_ROLE_PARAM && !v->trainable)
        fputs(" (frozen)", f);
    if (v->quant)
        fprintf(f, " int%d%s%s", v->quant->bits, v->quant->axis >= 0 ? " per channel" : " per tensor",
                v->quant->group > 0 ? " grouped" : "");
    if (v->sparse) {
        IrDim all;
        ir_shape_numel(&v->shape, &all);
        const IrSparse *sp = v->sparse;
        if (sp->format == IR_SPARSE_NM)
            fprintf(f, " %lld:%lld sparse", (long long)sp->block[0], (long long)sp->block[1]);
        else if (sp->format == IR_SPARSE_BLOCK)
            fprintf(f, " %lldx%lld block-sparse", (long long)sp->block[0], (long long)sp->block[1]);
        else
            fputs(" csr", f);
        fprintf(f, " nnz %lld (%.1f%%)", (long long)sp->nnz,
                all.b > 0 ? 100.0 * (double)sp->nnz / (double)all.b : 0.0);
    }
}

static bool is_folded(const IrValue *v)
{
    return v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST;
}

static const char *op_fill(IrOp op)
{
    switch (op) {
    case IR_OP_GEMM: case IR_OP_MATMUL: case IR_OP_CONV: case IR_OP_CONVT:
        return "#fde68a";   /* the compute-heavy anchors */
    case IR_OP_BATCHNORM: case IR_OP_LAYERNORM: case IR_OP_MAXPOOL: case IR_OP_AVGPOOL: case IR_OP_GAP:
        return "#e9d5ff";
    default:
        return ir_op_info(op)->flags & IR_OPF_ELEMENTWISE ? "#f3f4f6" : "#dbeafe";
    }
}

static void put_op_node(FILE *f, const IrGraph *g, const IrNode *n, const char *id, bool loss)
{
    fprintf(f, "  %s [shape=box, style=\"rounded,filled%s\", fillcolor=\"%s\", label=<<b>%s</b>", id,
            loss ? ",dashed" : "", loss ? "#fee2e2" : op_fill(n->op), ir_op_name(n->op));
    if (loss)
        fputs(" (training loss)", f);
    if (n->name && *n->name) {
        fputs("<br/>", f);
        put_html(f, n->name);
    }
    /* the small print (attributes, folded params/consts), if any, goes under the name */
    char *small = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&small, &len);
    IR_ASSERT(m);
    if (!put_window_attrs(m, n))
        put_generic_attrs(m, n);
    for (int k = 0; k < n->nin; k++) {
        if (!valid_value(g, n->in[k]) || !is_folded(g->values[n->in[k]]))
            continue;
        fflush(m);
        fputs(len ? "<br/><font color=\"#4b5563\">" : "<font color=\"#4b5563\">", m);
        put_folded_input(m, g->values[n->in[k]]);
        fputs("</font>", m);
    }
    fclose(m);
    if (len)
        fprintf(f, "<br/><font point-size=\"8\">%s</font>", small);
    free(small);
    fputs(">];\n", f);
}

/* The DOT node a value's edge starts from: its producer, or its own ellipse/note. */
static void put_source(FILE *f, const IrGraph *g, int vid)
{
    const IrValue *v = g->values[vid];
    if (v->role == IR_ROLE_ACT && v->producer >= 0 && v->producer < g->nnodes)
        fprintf(f, "n%d", v->producer);
    else if (g->training && g->training->loss && g->training->loss->nout > 0 && g->training->loss->out[0] == vid)
        fputs("loss", f);
    else
        fprintf(f, "v%d", vid);
}

static void put_edge(FILE *f, const IrGraph *g, int vid, const char *dst, bool dashed)
{
    const IrValue *v = g->values[vid];
    fputs("  ", f);
    put_source(f, g, vid);
    fprintf(f, " -> %s [label=\" ", dst);
    put_type(f, v);
    fprintf(f, "\"%s];\n", dashed ? ", style=dashed" : "");
}

static void put_value_node(FILE *f, const IrValue *v, const char *shape, const char *fill, const char *what,
                           bool dashed)
{
    fprintf(f, "  v%d [shape=%s, style=\"filled%s\", fillcolor=\"%s\", label=<<b>", v->id, shape,
            dashed ? ",dashed" : "", fill);
    put_html(f, v->name);
    fprintf(f, "</b><br/>%s ", what);
    put_type(f, v);
    fputs(">];\n", f);
}

void ir_print_dot(const IrGraph *g, FILE *f)
{
    fputs("digraph \"", f);
    for (const char *s = g->name; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputs("\" {\n", f);
    fputs("  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=<<b>", f);
    put_html(f, g->name);
    fputs("</b>>];\n", f);
    fputs("  node [fontname=\"Helvetica\", fontsize=10, margin=\"0.15,0.05\"];\n", f);
    fputs("  edge [fontname=\"Helvetica\", fontsize=8, fontcolor=\"#4b5563\", color=\"#6b7280\"];\n", f);

    for (int i = 0; i < g->ninputs; i++)
        if (valid_value(g, g->inputs[i]))
            put_value_node(f, g->values[g->inputs[i]], "ellipse", "#bfdbfe", "input", false);
    if (g->training)
        for (int i = 0; i < g->training->ninputs; i++)
            if (valid_value(g, g->training->inputs[i]))
                put_value_node(f, g->values[g->training->inputs[i]], "ellipse", "#fecaca", "training input", true);

    char id[32];
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        snprintf(id, sizeof id, "n%d", i);
        put_op_node(f, g, n, id, false);
        for (int k = 0; k < n->nin; k++)
            if (valid_value(g, n->in[k]) && !is_folded(g->values[n->in[k]]))
                put_edge(f, g, n->in[k], id, false);
    }

    /* Graph outputs: an ellipse each, fed by the producer (a constant output gets a note). */
    for (int i = 0; i < g->noutputs; i++) {
        int vid = g->outputs[i];
        if (!valid_value(g, vid))
            continue;
        const IrValue *v = g->values[vid];
        if (is_folded(v))
            fprintf(f, "  v%d [shape=note, style=filled, fillcolor=\"#f3f4f6\", label=<%s>];\n", vid,
                    v->role == IR_ROLE_PARAM ? "param" : "const");
        fprintf(f, "  out%d [shape=ellipse, style=filled, fillcolor=\"#bbf7d0\", label=<<b>", i);
        put_html(f, v->name);
        fputs("</b><br/>output>];\n", f);
        snprintf(id, sizeof id, "out%d", i);
        put_edge(f, g, vid, id, false);
    }

    if (g->training && g->training->loss) {
        const IrNode *l = g->training->loss;
        put_op_node(f, g, l, "loss", true);
        for (int k = 0; k < l->nin; k++)
            if (valid_value(g, l->in[k]) && !is_folded(g->values[l->in[k]]))
                put_edge(f, g, l->in[k], "loss", true);
    }
    fputs("}\n", f);
}
