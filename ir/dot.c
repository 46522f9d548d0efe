/* DOT printer: the graph as a Graphviz digraph (ops as boxes, inputs/outputs as ellipses). */
#include <stdlib.h>
#include <string.h>

#include "ir/ops_impl.h"

/* Params and constants are folded into their consumer's label (one line each) instead of
 * getting nodes of their own: a LeNet or ResNet then reads as a chain of ops, not a thicket
 * of weight notes. Small integer constants (Reshape targets, axes) show their contents. */
#define DOT_MAX_CONST_SHOWN 8

void ir_dot_html(FILE *f, const char *s)
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
        ir_dot_html(f, a->s);
    }
    return parts > 0;
}

/* Other ops: "axis=1 transB=1" (long lists abbreviated, tensors as their type), three to a
 * line so that a box stays narrow (an AdamUpdate has five). */
static bool put_generic_attrs(FILE *f, const IrNode *n)
{
    for (int i = 0; i < n->nattrs; i++) {
        const IrAttr *a = &n->attrs[i];
        if (i)
            fputs(i % 3 ? " " : "<br/>", f);
        ir_dot_html(f, a->name);
        fputc('=', f);
        switch (a->kind) {
        case IR_ATTR_INT: fprintf(f, "%lld", (long long)a->i); break;
        case IR_ATTR_FLOAT: fprintf(f, "%g", a->f); break;
        case IR_ATTR_STRING: ir_dot_html(f, a->s ? a->s : ""); break;
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

/* One label line for a param/const input: "fc1.weight f32[120,400]", "shape0 = [-1, 784]" or
 * "scale = 4" (constants of up to DOT_MAX_CONST_SHOWN elements show their contents). */
static void put_folded_input(FILE *f, const IrValue *v)
{
    ir_dot_html(f, v->name);
    IrDim cnt;
    if (v->role == IR_ROLE_CONST && v->data && v->typed && ir_shape_numel(&v->shape, &cnt) && cnt.a == 0 &&
        cnt.b <= DOT_MAX_CONST_SHOWN) {
        IrTensor t = {.dtype = v->dtype, .numel = cnt.b, .data = v->data};
        bool flt = ir_dtype_is_float(v->dtype);
        fputs(v->shape.rank == 0 ? " = " : " = [", f);
        for (int64_t i = 0; i < cnt.b; i++) {
            if (i)
                fputs(", ", f);
            if (flt)
                fprintf(f, "%g", ir_tensor_getf(&t, i));
            else
                fprintf(f, "%lld", (long long)ir_tensor_geti(&t, i));
        }
        if (v->shape.rank != 0)
            fputc(']', f);
        return;
    }
    fputc(' ', f);
    put_type(f, v);
    if (v->role == IR_ROLE_PARAM && v->opt_state)
        fputs(" (optimizer state)", f);
    else if (v->role == IR_ROLE_PARAM && !v->trainable)
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

/* What the printer knows about the whole graph while it draws one node. */
typedef struct DotCtx {
    const IrGraph *g;
    FILE *f;
    bool *own;                /* by value id: a param/const drawn as a node of its own (optimizer
                                 state read by several nodes: the step counter, the learning rate) */
    bool *dup_label;          /* by node id: another node has the same op and name */
} DotCtx;

/* Params and constants go into their consumer's label, except those drawn on their own. */
static bool is_folded(const DotCtx *c, int vid)
{
    const IrValue *v = c->g->values[vid];
    return (v->role == IR_ROLE_PARAM || v->role == IR_ROLE_CONST) && !c->own[vid];
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

static void put_op_node(const DotCtx *c, const IrNode *n, const char *id, bool loss)
{
    FILE *f = c->f;
    const IrGraph *g = c->g;
    fprintf(f, "  %s [shape=box, style=\"rounded,filled%s\", fillcolor=\"%s\", label=<<b>%s</b>", id,
            loss ? ",dashed" : "", loss ? "#fee2e2" : op_fill(n->op), ir_op_name(n->op));
    if (loss)
        fputs(" (training loss)", f);
    if (n->name && *n->name) {
        fputs("<br/>", f);
        ir_dot_html(f, n->name);
    }
    /* Nodes that would look alike (autodiff names all of a layer's backward nodes after it)
     * also show what they make: every label in the picture is different. */
    if (!loss && n->id >= 0 && n->id < g->nnodes && c->dup_label[n->id] && n->nout > 0 && valid_value(g, n->out[0])) {
        fputs("<br/>&#8594; ", f);
        ir_dot_html(f, g->values[n->out[0]]->name);
    }
    /* the small print (attributes, folded params/consts), if any, goes under the name */
    char *small = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&small, &len);
    IR_ASSERT(m);
    if (!put_window_attrs(m, n))
        put_generic_attrs(m, n);
    for (int k = 0; k < n->nin; k++) {
        if (!valid_value(g, n->in[k]) || !is_folded(c, n->in[k]))
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
    ir_dot_html(f, v->name);
    fprintf(f, "</b><br/>%s ", what);
    put_type(f, v);
    fputs(">];\n", f);
}

#define DOT_STATE_FILL "#fed7aa"   /* optimizer state and the write-backs of a training step */

/* The training step's write-backs (update pairs, docs/training.md): one node per producer,
 * listing every param or optimizer state that takes one of its outputs after the step, so
 * the optimizer nodes end in what they update rather than dangling. */
static void put_updates(const DotCtx *c)
{
    const IrGraph *g = c->g;
    const IrTraining *t = g->training;
    FILE *f = c->f;
    bool *done = srt_calloc((size_t)t->nupdates + 1, sizeof *done);
    IR_ASSERT(done);
    for (int i = 0; i < t->nupdates; i++) {
        if (done[i] || !valid_value(g, t->update_src[i]) || !valid_value(g, t->update_dst[i]))
            continue;
        const IrValue *src = g->values[t->update_src[i]];
        int prod = src->role == IR_ROLE_ACT ? src->producer : -1;
        fprintf(f, "  u%d [shape=cylinder, style=filled, fillcolor=\"%s\", label=<<b>written back</b>", i,
                DOT_STATE_FILL);
        for (int j = i; j < t->nupdates; j++) {
            if (done[j] || !valid_value(g, t->update_src[j]) || !valid_value(g, t->update_dst[j]))
                continue;
            const IrValue *sj = g->values[t->update_src[j]];
            if (j != i && (prod < 0 || sj->role != IR_ROLE_ACT || sj->producer != prod))
                continue;
            done[j] = true;
            const char *dst = g->values[t->update_dst[j]]->name;
            fputs("<br/>", f);
            ir_dot_html(f, dst);
            /* autodiff names a new value "next/<dst>"; other sources are named */
            if (strncmp(sj->name, "next/", 5) != 0 || strcmp(sj->name + 5, dst) != 0) {
                fputs(" &#8592; ", f);
                ir_dot_html(f, sj->name);
            }
        }
        fputs(">];\n", f);
        if (prod < 0 || prod >= g->nnodes) {
            /* a param or constant as the new value: a note of its own to start the edge from */
            fprintf(f, "  v%d [shape=note, style=filled, fillcolor=\"#f3f4f6\", label=<", src->id);
            put_folded_input(f, src);
            fputs(">];\n", f);
        }
        fputs("  ", f);
        put_source(f, g, src->id);
        fprintf(f, " -> u%d [color=\"#c2410c\"];\n", i);
    }
    free(done);
}

void ir_print_dot(const IrGraph *g, FILE *f)
{
    DotCtx c = {.g = g, .f = f};
    c.own = srt_calloc((size_t)g->nvalues + 1, sizeof *c.own);
    c.dup_label = srt_calloc((size_t)g->nnodes + 1, sizeof *c.dup_label);
    int *readers = srt_calloc((size_t)g->nvalues + 1, sizeof *readers);
    IR_ASSERT(c.own && c.dup_label && readers);
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            bool again = false;   /* counts nodes, not uses: Mul(x, x) reads x once */
            for (int j = 0; j < k; j++)
                again |= n->in[j] == n->in[k];
            if (valid_value(g, n->in[k]) && !again)
                readers[n->in[k]]++;
        }
    }
    for (int id = 0; id < g->nvalues; id++)
        c.own[id] = g->values[id]->role == IR_ROLE_PARAM && g->values[id]->opt_state && readers[id] > 1;
    free(readers);
    /* same op and same name (quadratic: the graphs drawn have at most a few thousand nodes) */
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *a = g->nodes[i];
        for (int j = i + 1; j < g->nnodes; j++) {
            const IrNode *b = g->nodes[j];
            if (a->op == b->op && !strcmp(a->name ? a->name : "", b->name ? b->name : ""))
                c.dup_label[i] = c.dup_label[j] = true;
        }
    }

    fputs("digraph \"", f);
    for (const char *s = g->name; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputs("\" {\n", f);
    /* ordering=out: a node's consumers stay left to right in the model's order (q, k, v) */
    fputs("  graph [rankdir=TB, ordering=out, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=<<b>", f);
    ir_dot_html(f, g->name);
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
    for (int id = 0; id < g->nvalues; id++)
        if (c.own[id])
            put_value_node(f, g->values[id], "cylinder", DOT_STATE_FILL, "optimizer state", false);

    char id[32];
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        snprintf(id, sizeof id, "n%d", i);
        put_op_node(&c, n, id, false);
        for (int k = 0; k < n->nin; k++) {
            if (!valid_value(g, n->in[k]) || is_folded(&c, n->in[k]))
                continue;
            if (c.own[n->in[k]])   /* its type is on the state's node: a plain, light edge */
                fprintf(f, "  v%d -> %s [color=\"#fdba74\"];\n", n->in[k], id);
            else
                put_edge(f, g, n->in[k], id, false);
        }
    }

    /* Graph outputs: an ellipse each, fed by the producer (a constant output gets a note). */
    for (int i = 0; i < g->noutputs; i++) {
        int vid = g->outputs[i];
        if (!valid_value(g, vid))
            continue;
        const IrValue *v = g->values[vid];
        if (is_folded(&c, vid))
            fprintf(f, "  v%d [shape=note, style=filled, fillcolor=\"#f3f4f6\", label=<%s>];\n", vid,
                    v->role == IR_ROLE_PARAM ? "param" : "const");
        fprintf(f, "  out%d [shape=ellipse, style=filled, fillcolor=\"#bbf7d0\", label=<<b>", i);
        ir_dot_html(f, v->name);
        fputs("</b><br/>output>];\n", f);
        snprintf(id, sizeof id, "out%d", i);
        put_edge(f, g, vid, id, false);
    }

    if (g->training && g->training->loss) {
        const IrNode *l = g->training->loss;
        put_op_node(&c, l, "loss", true);
        for (int k = 0; k < l->nin; k++)
            if (valid_value(g, l->in[k]) && !is_folded(&c, l->in[k]))
                put_edge(f, g, l->in[k], "loss", true);
    }
    if (g->training && g->training->nupdates > 0)
        put_updates(&c);
    fputs("}\n", f);
    free(c.own);
    free(c.dup_label);
}
