/* DOT picture of a lowered program (`sinter dump --after plan --format dot`): its kernels in
 * execution order (a kernel group as a cluster of its ops), and the buffers they read and
 * write with their storage, offset and size. The text form is cg_print_program (lower.c). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

#define PLAN_PARAM_FILL "#fde68a"

/* "3136N B" */
static void put_bytes(FILE *f, IrDim x)
{
    char buf[48];
    ir_dim_format(x, buf, sizeof buf);
    fprintf(f, "%s B", buf);
}

/* Does the value get a node of its own? Values that live in memory the kernels share at run
 * time do; params and constants are named in their reader's label, values made and used
 * inside one kernel are edges between its ops. */
static bool has_node(const CgProgram *p, int vid)
{
    switch (p->buf[vid].storage) {
    case CG_STORE_INPUT: case CG_STORE_OUTPUT: case CG_STORE_SCRATCH: case CG_STORE_VIEW:
    case CG_STORE_SYMBOLIC: case CG_STORE_GRAD:
        return true;
    default:
        return false;
    }
}

static void put_buffer_node(const CgProgram *p, int vid, FILE *f)
{
    const IrValue *v = p->g->values[vid];
    const CgBuffer *b = &p->buf[vid];
    char t[160];
    ir_type_format(v->dtype, &v->shape, t, sizeof t);
    const char *shape = "box", *fill = "#f3f4f6";
    if (b->storage == CG_STORE_INPUT)
        shape = "ellipse", fill = "#bfdbfe";
    else if (b->storage == CG_STORE_OUTPUT)
        shape = "ellipse", fill = "#bbf7d0";
    else if (b->storage == CG_STORE_GRAD)
        fill = "#fed7aa";
    fprintf(f, "  b%d [shape=%s, style=\"filled%s\", fillcolor=\"%s\", label=<<b>", vid, shape,
            b->storage == CG_STORE_VIEW ? ",dashed" : "", fill);
    ir_dot_html(f, v->name);
    fprintf(f, "</b> %s<br/><font point-size=\"8\">", t);
    switch (b->storage) {
    case CG_STORE_INPUT:
        fprintf(f, "input %d, ", b->arg);
        put_bytes(f, b->size);
        break;
    case CG_STORE_OUTPUT:
        fprintf(f, "output %d, ", b->arg);
        put_bytes(f, b->size);
        break;
    case CG_STORE_SCRATCH:
    case CG_STORE_SYMBOLIC:
    case CG_STORE_GRAD: {
        char o[48];
        ir_dim_format(b->offset, o, sizeof o);
        fprintf(f, "%s @%s, ",
                b->storage == CG_STORE_GRAD ? "gradient" : b->storage == CG_STORE_SYMBOLIC ? "symbolic scratch" : "scratch",
                o);
        put_bytes(f, b->size);
        if (b->storage == CG_STORE_SCRATCH)
            fprintf(f, ", live s%d..s%d", b->def, b->last);
        break;
    }
    case CG_STORE_VIEW:
        fputs("view of ", f);
        ir_dot_html(f, p->g->values[b->view_of]->name);
        break;
    default:
        break;
    }
    fputs("</font>>];\n", f);
}

/* A param or constant a kernel reads: "fc1.weight f32[256,784] param @0, 802816 B". */
static void put_folded(const CgProgram *p, int vid, FILE *f)
{
    const IrValue *v = p->g->values[vid];
    const CgBuffer *b = &p->buf[vid];
    char t[160];
    ir_type_format(v->dtype, &v->shape, t, sizeof t);
    fputs("<br/><font color=\"#4b5563\">", f);
    ir_dot_html(f, v->name);
    fprintf(f, " %s ", t);
    if (b->storage == CG_STORE_PARAM) {
        char o[48];
        ir_dim_format(b->offset, o, sizeof o);
        fprintf(f, "param @%s, ", o);
    } else {
        fputs("const, ", f);
    }
    put_bytes(f, b->size);
    fputs("</font>", f);
}

static bool is_folded(const CgProgram *p, int vid)
{
    return p->buf[vid].storage == CG_STORE_PARAM || p->buf[vid].storage == CG_STORE_CONST;
}

/* One op of kernel step s: its box, with the params and constants it reads. */
static void put_kernel_op(const CgProgram *p, int s, int k, FILE *f)
{
    const CgStep *st = &p->steps[s];
    const IrNode *n = p->g->nodes[st->nodes[k]];
    fprintf(f, "  k%d_%d [shape=box, style=\"rounded,filled\", fillcolor=\"%s\", label=<<b>", s, k,
            st->anchor == st->nodes[k] ? PLAN_PARAM_FILL : "#dbeafe");
    if (st->nnodes == 1)
        fprintf(f, "s%d: ", s);
    fprintf(f, "%s</b>", ir_op_name(n->op));
    if (n->name && *n->name) {
        fputs("<br/>", f);
        ir_dot_html(f, n->name);
    }
    bool any = false;
    for (int a = 0; a < n->nin; a++)
        if (n->in[a] >= 0 && is_folded(p, n->in[a])) {
            if (!any)
                fputs("<font point-size=\"8\">", f);
            any = true;
            put_folded(p, n->in[a], f);
        }
    if (any)
        fputs("</font>", f);
    fputs(">];\n", f);
}

/* The edges of op k of kernel step s: from the op of the same kernel that made an input (the
 * value stays in registers: inside=true prints those, inside a group's cluster), or from an
 * input's buffer and to its outputs' buffers (inside=false, outside the cluster: an edge
 * written inside a cluster would pull the buffer into it). op_of[v]: the op of this kernel
 * that made v, or -1. */
static void put_kernel_edges(const CgProgram *p, int s, int k, const int *op_of, bool inside, FILE *f)
{
    const IrGraph *g = p->g;
    const IrNode *n = g->nodes[p->steps[s].nodes[k]];
    for (int a = 0; a < n->nin; a++) {
        int v = n->in[a];
        if (v < 0 || is_folded(p, v))
            continue;
        if (op_of[v] >= 0) {
            if (inside) {
                char t[160];
                ir_type_format(g->values[v]->dtype, &g->values[v]->shape, t, sizeof t);
                fprintf(f, "  k%d_%d -> k%d_%d [label=\" %s, not stored\", style=bold];\n", s, op_of[v], s, k, t);
            }
        } else if (!inside && has_node(p, v)) {
            fprintf(f, "  b%d -> k%d_%d;\n", v, s, k);
        }
    }
    for (int a = 0; !inside && a < n->nout; a++)
        if (n->out[a] >= 0 && has_node(p, n->out[a]))
            fprintf(f, "  k%d_%d -> b%d;\n", s, k, n->out[a]);
}

void cg_print_program_dot(const CgProgram *p, FILE *f)
{
    const IrGraph *g = p->g;
    int nk = 0;
    for (int i = 0; i < p->nsteps; i++)
        nk += p->steps[i].kind == CG_STEP_KERNEL;
    char sc[48];
    ir_dim_format(p->scratch_bytes, sc, sizeof sc);
    fputs("digraph \"plan\" {\n", f);
    fputs("  graph [rankdir=TB, ordering=out, fontname=\"Helvetica\", fontsize=12, labelloc=t, label=<<b>", f);
    ir_dot_html(f, g->name);
    fprintf(f, "</b>: %s program, %d kernel%s, params %" PRId64 " B, scratch %s B>];\n", p->what ? p->what : "inference",
            nk, nk == 1 ? "" : "s", p->param_bytes, sc);
    fputs("  node [fontname=\"Helvetica\", fontsize=10, margin=\"0.15,0.05\"];\n", f);
    fputs("  edge [fontname=\"Helvetica\", fontsize=8, fontcolor=\"#4b5563\", color=\"#6b7280\"];\n", f);

    /* buffers first, in value order (inputs lead), so the picture starts from the inputs */
    for (int i = 0; i < p->nin; i++)
        if (has_node(p, p->in[i]))
            put_buffer_node(p, p->in[i], f);
    bool *drawn = srt_calloc((size_t)g->nvalues + 1, sizeof *drawn);
    int *op_of = srt_malloc(((size_t)g->nvalues + 1) * sizeof *op_of);
    IR_ASSERT(drawn && op_of);
    for (int i = 0; i < p->nin; i++)
        drawn[p->in[i]] = true;
    for (int v = 0; v < g->nvalues; v++) {
        op_of[v] = -1;
        if (!drawn[v] && has_node(p, v))
            put_buffer_node(p, v, f);
    }
    /* a view is its root's bytes */
    for (int v = 0; v < g->nvalues; v++)
        if (p->buf[v].storage == CG_STORE_VIEW && has_node(p, p->buf[v].view_of))
            fprintf(f, "  b%d -> b%d [style=dashed, arrowhead=none, label=\" same bytes\"];\n", p->buf[v].view_of, v);

    for (int s = 0; s < p->nsteps; s++) {
        const CgStep *st = &p->steps[s];
        if (st->kind == CG_STEP_COPY || st->kind == CG_STEP_UPDATE) {
            bool copy = st->kind == CG_STEP_COPY;
            fprintf(f, "  k%d_0 [shape=box, style=\"rounded,dashed\", label=<<b>s%d: %s</b>", s, s,
                    copy ? "copy" : "update");
            if (!copy) {
                fputs("<br/>", f);
                ir_dot_html(f, g->values[st->dst]->name);
                fputs(" &#8592; ", f);
                ir_dot_html(f, g->values[st->src]->name);
            }
            fputs(">];\n", f);
            if (has_node(p, st->src))
                fprintf(f, "  b%d -> k%d_0;\n", st->src, s);
            if (copy && has_node(p, p->out[st->out_index]))
                fprintf(f, "  k%d_0 -> b%d;\n", s, p->out[st->out_index]);
            continue;
        }
        bool group = st->nnodes > 1;
        if (group)
            fprintf(f, "  subgraph cluster_s%d {\n  style=\"rounded,filled\"; fillcolor=\"#f8fafc\"; color=\"#94a3b8\";\n"
                       "  label=<<b>s%d: kernel group %d</b> (%d ops)>;\n",
                    s, s, g->nodes[st->nodes[0]]->group, st->nnodes);
        for (int k = 0; k < st->nnodes; k++) {
            const IrNode *n = g->nodes[st->nodes[k]];
            for (int a = 0; a < n->nout; a++)
                if (n->out[a] >= 0)
                    op_of[n->out[a]] = k;
        }
        for (int k = 0; k < st->nnodes; k++) {
            put_kernel_op(p, s, k, f);
            put_kernel_edges(p, s, k, op_of, true, f);
        }
        if (group)
            fputs("  }\n", f);
        for (int k = 0; k < st->nnodes; k++)
            put_kernel_edges(p, s, k, op_of, false, f);
        for (int k = 0; k < st->nnodes; k++) {   /* back to "not made in this kernel" */
            const IrNode *n = g->nodes[st->nodes[k]];
            for (int a = 0; a < n->nout; a++)
                if (n->out[a] >= 0)
                    op_of[n->out[a]] = -1;
        }
    }
    free(drawn);
    free(op_of);
    fputs("}\n", f);
}
