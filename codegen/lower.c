/* Lowering: graph -> program (ordered kernels, views, dead and compile-time nodes), and its printer. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "codegen/cg_infra.h"

/* A node whose every present output has compile-time content needs no kernel. */
static bool all_outputs_symbolic(const IrGraph *g, const IrNode *n)
{
    int present = 0;
    for (int k = 0; k < n->nout; k++) {
        if (n->out[k] < 0)
            continue;
        const IrValue *v = g->values[n->out[k]];
        IrDim numel;
        if (!v->sym || (v->dtype != SRT_I64 && v->dtype != SRT_I32) || !ir_shape_numel(&v->shape, &numel) ||
            numel.a != 0)
            return false;
        present++;
    }
    return present > 0;
}

/* Checks lowering relies on: typed values, producers before consumers. */
static int check_graph(const IrGraph *g, IrDiag *d)
{
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        for (int k = 0; k < n->nin; k++) {
            if (n->in[k] < 0)
                continue;
            const IrValue *v = g->values[n->in[k]];
            if (!v->typed) {
                ir_node_error(d, n, "inputs[%d] \"%s\" has no type: run shape inference before codegen", k, v->name);
                return -1;
            }
            if (v->role == IR_ROLE_ACT && v->producer >= i) {
                ir_node_error(d, n, "inputs[%d] \"%s\" is produced later: sort the graph before codegen", k, v->name);
                return -1;
            }
        }
        /* inference Dropout compiles to the identity: a training_mode that is not a constant
         * false would make it differ from the model's meaning, so refuse it */
        if (n->op == IR_OP_DROPOUT && n->nin >= 3 && n->in[2] >= 0) {
            const IrValue *t = g->values[n->in[2]];
            if (!t->data || ir_tensor_geti(&(IrTensor){.dtype = t->dtype, .numel = 1, .data = t->data}, 0) != 0) {
                ir_node_error(d, n, "inputs[2] (training_mode) \"%s\" must be a constant false for inference code; "
                              "remove it (training uses the model's training section)", t->name);
                return -1;
            }
        }
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] >= 0 && !g->values[n->out[k]]->typed) {
                ir_node_error(d, n, "outputs[%d] \"%s\" has no type: run shape inference before codegen",
                              k, g->values[n->out[k]]->name);
                return -1;
            }
    }
    for (int j = 0; j < g->noutputs; j++) {
        const IrValue *v = g->values[g->outputs[j]];
        if (!v->typed) {
            ir_diag_error(d, v->name, "graph output has no type: run shape inference before codegen");
            return -1;
        }
        if (v->training_input) {
            ir_diag_error(d, v->name, "a training input cannot be a graph output");
            return -1;
        }
    }
    return 0;
}

/* Values whose bytes have a fixed home outside scratch (gradients, update sources planned in
 * place): their producer runs as a kernel even when it could be a view. */
static bool pinned(const CgPart *part, int v)
{
    return (part->grad_offset && part->grad_offset[v] >= 0) || (part->inplace && part->inplace[v] >= 0);
}

static int *copy_ids(const int *ids, int count)
{
    int *r = srt_malloc(((size_t)count + 1) * sizeof *r);
    IR_ASSERT(r);
    if (count)
        memcpy(r, ids, (size_t)count * sizeof *r);
    return r;
}

static bool listed(const int *ids, int count, int id)
{
    for (int i = 0; i < count; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* A kernel's arguments: what its nodes read from outside it, then what they make that is
 * needed outside (outside[] by value id) or has to exist anyway. */
static void kernel_args(const IrGraph *g, CgStep *s, const int *step_of, int si, const bool *outside)
{
    int cap = 0;
    for (int k = 0; k < s->nnodes; k++)
        cap += g->nodes[s->nodes[k]]->nin + g->nodes[s->nodes[k]]->nout;
    s->args = srt_malloc(((size_t)cap + 1) * sizeof *s->args);
    IR_ASSERT(s->args);
    for (int k = 0; k < s->nnodes; k++) {
        const IrNode *n = g->nodes[s->nodes[k]];
        for (int a = 0; a < n->nin; a++) {
            int v = n->in[a];
            if (v < 0 || listed(s->args, s->nargs, v))
                continue;
            const IrValue *x = g->values[v];
            if (x->role == IR_ROLE_ACT && x->producer >= 0 && step_of[x->producer] == si)
                continue;
            s->args[s->nargs++] = v;
        }
    }
    s->nargs_in = s->nargs;
    for (int k = 0; k < s->nnodes; k++) {
        const IrNode *n = g->nodes[s->nodes[k]];
        for (int a = 0; a < n->nout; a++)
            /* only output 0 of a group's node can stay inside (the epilogue's chain); a lone
             * node's outputs, used or not, keep their buffers */
            if (n->out[a] >= 0 && (outside[n->out[a]] || a > 0 || s->nnodes == 1) &&
                !listed(s->args + s->nargs_in, s->nargs - s->nargs_in, n->out[a]))
                s->args[s->nargs++] = n->out[a];
    }
}

int cg_lower(const IrGraph *g, CgProgram **out, IrDiag *d)
{
    CgPart part;
    memset(&part, 0, sizeof part);
    part.what = "inference";
    part.nin = g->ninputs;
    part.in = g->inputs;
    part.nout = g->noutputs;
    part.out = g->outputs;
    return cg_lower_part(g, &part, out, d);
}

int cg_lower_part(const IrGraph *g, const CgPart *part, CgProgram **out, IrDiag *d)
{
    *out = NULL;
    if (check_graph(g, d) != 0)
        return -1;
    CgNodeKind *kind = srt_calloc((size_t)g->nnodes + 1, sizeof *kind);
    bool *needed = srt_calloc((size_t)g->nvalues + 1, sizeof *needed);
    CgProgram *p = srt_calloc(1, sizeof *p);
    IR_ASSERT(kind && needed && p);
    p->g = g;
    p->what = part->what;
    p->nin = part->nin;
    p->in = copy_ids(part->in, part->nin);
    p->nout = part->nout;
    p->out = copy_ids(part->out, part->nout);

    /* Which nodes run, walking back from what the program computes. A view needs only its
     * data input; a node with compile-time outputs needs nothing (the entry computes them
     * from n); a node of another program runs there. */
    for (int j = 0; j < part->nout; j++)
        needed[part->out[j]] = true;
    for (int j = 0; j < part->nroots; j++)
        needed[part->roots[j]] = true;
    for (int j = 0; j < part->nupdates; j++)
        needed[part->update_src[j]] = true;
    for (int i = g->nnodes - 1; i >= 0; i--) {
        const IrNode *n = g->nodes[i];
        bool live = false, fixed = false;
        for (int k = 0; k < n->nout; k++) {
            live |= n->out[k] >= 0 && needed[n->out[k]];
            fixed |= n->out[k] >= 0 && pinned(part, n->out[k]);
        }
        if (!live || (part->allowed && !part->allowed[i])) {
            kind[i] = CG_NODE_DEAD;
            continue;
        }
        if (all_outputs_symbolic(g, n)) {
            kind[i] = CG_NODE_SYMBOLIC;
        } else if (!fixed && n->nout >= 1 && n->out[0] >= 0 && n->nin >= 1 && n->in[0] >= 0 && cg_is_view(g, n)) {
            kind[i] = CG_NODE_VIEW;
            needed[n->in[0]] = true;
        } else {
            kind[i] = CG_NODE_KERNEL;
            for (int k = 0; k < n->nin; k++)
                if (n->in[k] >= 0)
                    needed[n->in[k]] = true;
        }
    }

    /* Kernels in graph order: the kernel nodes of one group (contiguous, passes/fuse) form one
     * step; then copies into entry outputs that are not written by a kernel, then the update
     * copies. */
    int nkern = 0;
    for (int i = 0; i < g->nnodes; i++)
        nkern += kind[i] == CG_NODE_KERNEL;
    int *step_of = srt_malloc(((size_t)g->nnodes + 1) * sizeof *step_of);
    p->steps = srt_calloc((size_t)nkern + (size_t)part->nout + (size_t)part->nupdates + 1, sizeof *p->steps);
    IR_ASSERT(step_of && p->steps);
    for (int i = 0; i < g->nnodes; i++)
        step_of[i] = -1;
    for (int i = 0; i < g->nnodes; i++) {
        if (kind[i] != CG_NODE_KERNEL)
            continue;
        CgStep *s = &p->steps[p->nsteps];
        s->kind = CG_STEP_KERNEL;
        s->nodes = srt_malloc(((size_t)g->nnodes - (size_t)i) * sizeof(int));
        IR_ASSERT(s->nodes);
        int grp = g->nodes[i]->group, j = i;
        do {
            if (kind[j] == CG_NODE_KERNEL) {
                s->nodes[s->nnodes++] = j;
                step_of[j] = p->nsteps;
            }
            j++;
        } while (grp >= 0 && j < g->nnodes && g->nodes[j]->group == grp);
        i = j - 1;
        /* an element-wise first node makes an element-wise group (fuse seeds groups first) */
        s->anchor = (ir_op_info(g->nodes[s->nodes[0]]->op)->flags & IR_OPF_ELEMENTWISE) ? -1 : s->nodes[0];
        s->src = s->dst = -1;
        s->out_index = -1;
        p->nsteps++;
    }
    /* Values needed outside the kernel that makes them: read by another kernel, a view, a
     * copy, or named by the part (outputs, roots, updates, fixed homes). */
    bool *outside = srt_calloc((size_t)g->nvalues + 1, sizeof *outside);
    IR_ASSERT(outside);
    for (int j = 0; j < part->nout; j++)
        outside[part->out[j]] = true;
    for (int j = 0; j < part->nroots; j++)
        outside[part->roots[j]] = true;
    for (int j = 0; j < part->nupdates; j++)
        outside[part->update_src[j]] = true;
    for (int v = 0; v < g->nvalues; v++)
        outside[v] |= pinned(part, v);
    for (int i = 0; i < g->nnodes; i++) {
        const IrNode *n = g->nodes[i];
        if (kind[i] == CG_NODE_DEAD)
            continue;
        for (int k = 0; k < n->nin; k++) {
            const IrValue *v = n->in[k] >= 0 ? g->values[n->in[k]] : NULL;
            if (v && v->role == IR_ROLE_ACT && v->producer >= 0 && (step_of[i] < 0 || step_of[i] != step_of[v->producer]))
                outside[v->id] = true;
        }
    }
    for (int s = 0; s < p->nsteps; s++)
        kernel_args(g, &p->steps[s], step_of, s, outside);
    free(outside);
    free(step_of);
    for (int j = 0; j < part->nout; j++) {
        const IrValue *v = g->values[part->out[j]];
        bool first = true;
        for (int k = 0; k < j; k++)
            first &= part->out[k] != v->id;
        bool written = v->role == IR_ROLE_ACT &&
                       (kind[v->producer] == CG_NODE_KERNEL || kind[v->producer] == CG_NODE_SYMBOLIC);
        if (first && written)
            continue;
        CgStep *s = &p->steps[p->nsteps++];
        s->kind = CG_STEP_COPY;
        s->src = v->id;
        s->out_index = j;
        s->dst = -1;
    }
    for (int j = 0; j < part->nupdates; j++) {
        CgStep *s = &p->steps[p->nsteps++];
        s->kind = CG_STEP_UPDATE;
        s->src = part->update_src[j];
        s->dst = part->update_dst[j];
        s->out_index = -1;
    }
    free(needed);

    int rc = cg_plan(p, kind, part, d);
    free(kind);
    if (rc != 0) {
        cg_program_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void cg_program_free(CgProgram *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nsteps; i++) {
        free(p->steps[i].nodes);
        free(p->steps[i].args);
    }
    free(p->steps);
    free(p->buf);
    free(p->in);
    free(p->out);
    free(p);
}

int cg_scratch_bytes(const IrGraph *g, IrDim *out, IrDiag *d)
{
    CgProgram *p;
    if (cg_lower(g, &p, d) != 0)
        return -1;
    *out = p->scratch_bytes;
    cg_program_free(p);
    return 0;
}

/* ---- printing -------------------------------------------------------------------- */

/* %name, quoted when it is not a plain identifier (as the text IR prints it). */
static void print_name(FILE *f, const char *name)
{
    bool plain = *name != '\0';
    for (const char *c = name; *c; c++)
        plain &= (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                 *c == '_' || *c == '.';
    if (plain) {
        fprintf(f, "%%%s", name);
        return;
    }
    fputs("%\"", f);
    for (const char *c = name; *c; c++) {
        if (*c == '"' || *c == '\\')
            fputc('\\', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

static const char *dim_str(IrDim x, char *buf, size_t len)
{
    ir_dim_format(x, buf, len);
    return buf;
}

static void print_buffer(const CgProgram *p, const IrValue *v, const int *step_of, FILE *f)
{
    const CgBuffer *b = &p->buf[v->id];
    char t[160], o[48], s[48];
    ir_type_format(v->dtype, &v->shape, t, sizeof t);
    fputs("  ", f);
    print_name(f, v->name);
    fprintf(f, " : %s  ", t);
    switch (b->storage) {
    case CG_STORE_NONE:
        if (v->role == IR_ROLE_ACT && v->producer >= 0 && step_of[v->producer] >= 0)
            fprintf(f, "inside kernel s%d (not stored)", step_of[v->producer]);
        else
            fputs("unused", f);
        break;
    case CG_STORE_INPUT:
        fprintf(f, "input %d", b->arg);
        break;
    case CG_STORE_OUTPUT:
        fprintf(f, "output %d", b->arg);
        break;
    case CG_STORE_PARAM:
        fprintf(f, "param offset %s size %s", dim_str(b->offset, o, sizeof o), dim_str(b->size, s, sizeof s));
        break;
    case CG_STORE_CONST:
        fprintf(f, "const size %s", dim_str(b->size, s, sizeof s));
        break;
    case CG_STORE_SCRATCH:
        fprintf(f, "scratch offset %s size %s live s%d..s%d", dim_str(b->offset, o, sizeof o),
                dim_str(b->size, s, sizeof s), b->def, b->last);
        break;
    case CG_STORE_VIEW:
        fputs("view of ", f);
        print_name(f, p->g->values[b->view_of]->name);
        break;
    case CG_STORE_SYMBOLIC:
        fprintf(f, "symbolic scratch offset %s size %s", dim_str(b->offset, o, sizeof o),
                dim_str(b->size, s, sizeof s));
        break;
    case CG_STORE_GRAD:
        fprintf(f, "gradient offset %s size %s", dim_str(b->offset, o, sizeof o), dim_str(b->size, s, sizeof s));
        break;
    }
    if (v->sym && (b->storage == CG_STORE_SYMBOLIC || b->storage == CG_STORE_OUTPUT)) {
        IrDim numel;
        if (ir_shape_numel(&v->shape, &numel) && numel.a == 0) {
            fputs(" = [", f);
            for (int64_t i = 0; i < numel.b; i++)
                fprintf(f, "%s%s", i ? ", " : "", dim_str(v->sym[i], s, sizeof s));
            fputc(']', f);
        }
    }
    fputc('\n', f);
}

void cg_print_program(const CgProgram *p, FILE *f)
{
    const IrGraph *g = p->g;
    char s[48];
    int nk = 0;
    for (int i = 0; i < p->nsteps; i++)
        nk += p->steps[i].kind == CG_STEP_KERNEL;
    bool infer = !p->what || !strcmp(p->what, "inference");
    fprintf(f, "program %s%s%s%s: %d kernel%s, %d steps, params %" PRId64 " bytes, scratch %s bytes\n", g->name,
            infer ? "" : " (", infer ? "" : p->what, infer ? "" : ")", nk, nk == 1 ? "" : "s", p->nsteps,
            p->param_bytes, dim_str(p->scratch_bytes, s, sizeof s));
    int64_t chunk = infer ? cg_batch_chunk(p) : 0;
    if (chunk > 0)
        fprintf(f, "  runs batches in chunks of %" PRId64 " sample%s (each sample on its own; a chunk's scratch stays in cache)\n",
                chunk, chunk == 1 ? "" : "s");
    int *step_of = srt_malloc(((size_t)g->nnodes + 1) * sizeof *step_of);
    IR_ASSERT(step_of);
    for (int i = 0; i < g->nnodes; i++)
        step_of[i] = -1;
    for (int i = 0; i < p->nsteps; i++)
        for (int k = 0; p->steps[i].kind == CG_STEP_KERNEL && k < p->steps[i].nnodes; k++)
            step_of[p->steps[i].nodes[k]] = p->steps[i].nnodes > 1 ? i : -1;
    for (int i = 0; i < p->nsteps; i++) {
        const CgStep *st = &p->steps[i];
        fprintf(f, "  s%d: ", i);
        if (st->kind == CG_STEP_COPY) {
            fputs("copy ", f);
            print_name(f, g->values[st->src]->name);
            fprintf(f, " -> output %d ", st->out_index);
            print_name(f, g->values[p->out[st->out_index]]->name);
            fputc('\n', f);
            continue;
        }
        if (st->kind == CG_STEP_UPDATE) {
            fputs("update ", f);
            print_name(f, g->values[st->dst]->name);
            fputs(" <- ", f);
            print_name(f, g->values[st->src]->name);
            fputc('\n', f);
            continue;
        }
        if (st->nnodes > 1)
            fprintf(f, "group %d: ", g->nodes[st->nodes[0]]->group);
        for (int k = 0; k < st->nnodes; k++) {
            const IrNode *n = g->nodes[st->nodes[k]];
            if (k)
                fputs("; ", f);
            fprintf(f, "%s(", ir_op_name(n->op));
            for (int a = 0; a < n->nin; a++) {
                if (a)
                    fputs(", ", f);
                if (n->in[a] < 0)
                    fputc('_', f);
                else
                    print_name(f, g->values[n->in[a]]->name);
            }
            fputs(") -> ", f);
            for (int a = 0; a < n->nout; a++) {
                if (a)
                    fputs(", ", f);
                if (n->out[a] < 0)
                    fputc('_', f);
                else
                    print_name(f, g->values[n->out[a]]->name);
            }
        }
        /* the node names, as one comment */
        bool named = false;
        for (int k = 0; k < st->nnodes; k++) {
            const IrNode *n = g->nodes[st->nodes[k]];
            if (n->name && *n->name) {
                fprintf(f, "%s%s", named ? ", " : "  # ", n->name);
                named = true;
            }
        }
        fputc('\n', f);
    }
    fputs("buffers:\n", f);
    for (int id = 0; id < g->nvalues; id++)
        print_buffer(p, g->values[id], step_of, f);
    free(step_of);
}
