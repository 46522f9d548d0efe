/* Pass autodiff: turns a model with a training section into its training graph (backward, optimizer). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "passes/autodiff_impl.h"

/* What the pass does, in order (docs/training.md has the full picture):
 *   1. training forms of the forward ops: BatchNormalization normalizes with batch statistics
 *      and outputs its new running mean/var; Dropout becomes x * DropoutMask(x, step);
 *   2. the backward graph: one sweep over the forward nodes in reverse, calling each op's
 *      gradient rule (autodiff_rules.c), starting from the training loss (which stays in
 *      g->training->loss, outside the node list); contributions to one value are summed with
 *      Add, and the sum is named "grad/<value>";
 *   3. the optimizer: one SgdUpdate/AdamUpdate per trainable param that received a gradient,
 *      its state as opt_state params ("adam.m/<p>", "optim.step", "optim.lr", ...) and update
 *      pairs (param <- "next/<param>", ...) in g->training.
 * The pass runs once: a graph with training->has_backward is left alone. */

/* ---- the state helpers of autodiff_impl.h ---------------------------------------------- */

bool pass_ad_wants(const Ad *ad, int v)
{
    return v >= 0 && v < ad->nfwd && ad->wants[v];
}

void pass_ad_accum(Ad *ad, int v, int gval)
{
    if (!pass_ad_wants(ad, v) || gval < 0)
        return;
    const IrValue *a = ir_val(ad->g, v), *b = ir_val(ad->g, gval);
    IR_ASSERT(!ad->final[v]);   /* reverse topological order: all uses come before the producer */
    if (!b->typed || a->dtype != b->dtype || !ir_shape_eq(&a->shape, &b->shape)) {
        /* a rule made a gradient of the wrong type: a bug in sinter, reported rather than aborted */
        char ta[128], tb[128];
        ir_type_format(a->dtype, &a->shape, ta, sizeof ta);
        ir_type_format(b->dtype, &b->shape, tb, sizeof tb);
        pass_ad_fail(ad, "internal error: the gradient of \"%s\" (%s) came out as %s", a->name, ta, tb);
        ad->failed = true;
        return;
    }
    if (ad->nparts[v] == ad->cap_parts[v]) {
        ad->cap_parts[v] = ad->cap_parts[v] ? 2 * ad->cap_parts[v] : 2;
        ad->parts[v] = srt_realloc(ad->parts[v], (size_t)ad->cap_parts[v] * sizeof(int));
        IR_ASSERT(ad->parts[v]);
    }
    ad->parts[v][ad->nparts[v]++] = gval;
}

int pass_ad_fail(Ad *ad, const char *fmt, ...)
{
    char where[512], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ad->cur)
        ir_node_where(ad->cur, where, sizeof where);
    ir_diag_error(ad->d, ad->cur ? where : "training", "autodiff: %s", msg);
    return -1;
}

/* label = "bwd/<node name>" (or its first output's name, or the loss). */
static void set_label(Ad *ad, const IrNode *n, const char *fallback)
{
    ad->cur = n;
    const char *base = fallback;
    if (n && n->name && *n->name)
        base = n->name;
    else if (n && n->nout > 0 && n->out[0] >= 0)
        base = ir_val(ad->g, n->out[0])->name;
    snprintf(ad->label, sizeof ad->label, "bwd/%s", base ? base : "?");
}

IrNode *pass_ad_begin(Ad *ad, IrOp op, int nin, const int *in, int nout)
{
    IrGraph *g = ad->g;
    int *out = srt_malloc((size_t)(nout ? nout : 1) * sizeof(int));
    IR_ASSERT(out);
    char prefix[320];
    snprintf(prefix, sizeof prefix, "%s/%s", ad->label, ir_op_name(op));
    for (int k = 0; k < nout; k++) {
        out[k] = ir_value_new(g, ir_value_unique_name(g, prefix), SRT_F32, NULL, IR_ROLE_ACT);
        IR_ASSERT(out[k] >= 0);
    }
    int id = ir_node_new(g, op, ad->label, nin, in, nout, out);
    free(out);
    ad->nodes_made++;
    return ir_node(g, id);
}

int pass_ad_finish(Ad *ad, IrNode *n)
{
    if (ir_op_info(n->op)->shape(ad->g, n, ad->d) != 0)
        return -1;
    return n->out[0];
}

int pass_ad_op1(Ad *ad, IrOp op, int a)
{
    if (a < 0)
        return -1;
    return pass_ad_finish(ad, pass_ad_begin(ad, op, 1, &a, 1));
}

int pass_ad_op2(Ad *ad, IrOp op, int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    int in[2] = {a, b};
    return pass_ad_finish(ad, pass_ad_begin(ad, op, 2, in, 1));
}

int pass_ad_op3(Ad *ad, IrOp op, int a, int b, int c)
{
    if (a < 0 || b < 0 || c < 0)
        return -1;
    int in[3] = {a, b, c};
    return pass_ad_finish(ad, pass_ad_begin(ad, op, 3, in, 1));
}

static int remember_const(Ad *ad, int id)
{
    if (ad->nconsts == ad->cap_consts) {
        ad->cap_consts = ad->cap_consts ? 2 * ad->cap_consts : 16;
        ad->consts = srt_realloc(ad->consts, (size_t)ad->cap_consts * sizeof(int));
        IR_ASSERT(ad->consts);
    }
    ad->consts[ad->nconsts++] = id;
    return id;
}

/* A constant made by the pass, data converted from v[] (count elements). */
static int new_const(Ad *ad, const char *name, IrDtype t, const IrShape *s, int count, const double *v,
                     const int64_t *iv)
{
    IrGraph *g = ad->g;
    int id = ir_value_new(g, ir_value_unique_name(g, name), t, s, IR_ROLE_CONST);
    IR_ASSERT(id >= 0);
    IrValue *val = ir_val(g, id);
    val->data = ir_arena_alloc(g->arena, (size_t)(count ? count : 1) * srt_dtype_size(t));
    IrTensor tt = {.dtype = t, .numel = count, .data = val->data};
    for (int i = 0; i < count; i++) {
        if (iv)
            ir_tensor_seti(&tt, i, iv[i]);
        else
            ir_tensor_setf(&tt, i, v[i]);
    }
    return remember_const(ad, id);
}

int pass_ad_scalar(Ad *ad, IrDtype t, double v)
{
    for (int i = 0; i < ad->nconsts; i++) {
        const IrValue *c = ir_val(ad->g, ad->consts[i]);
        if (c->dtype == t && c->shape.rank == 0) {
            IrTensor tt = {.dtype = t, .numel = 1, .data = c->data};
            double x = ir_tensor_getf(&tt, 0);
            if (x == v && (x != 0 || (1 / x > 0) == (1 / v > 0)))
                return c->id;
        }
    }
    char name[64];
    snprintf(name, sizeof name, "autodiff/%.17g", v);
    IrShape s = {.rank = 0};
    return new_const(ad, name, t, &s, 1, &v, NULL);
}

int pass_ad_ints(Ad *ad, int count, const int64_t *v)
{
    for (int i = 0; i < ad->nconsts; i++) {
        const IrValue *c = ir_val(ad->g, ad->consts[i]);
        if (c->dtype == SRT_I64 && c->shape.rank == 1 && c->shape.d[0].b == count &&
            (count == 0 || !memcmp(c->data, v, (size_t)count * sizeof(int64_t))))
            return c->id;
    }
    int64_t n = count;
    IrShape s = ir_shape_make(1, &n);
    return new_const(ad, "autodiff/ints", SRT_I64, &s, count, NULL, v);
}

int pass_ad_shape_of(Ad *ad, int v)
{
    if (v < ad->nfwd && ad->shape_of[v] >= 0)
        return ad->shape_of[v];
    int s = pass_ad_op1(ad, IR_OP_SHAPE, v);
    if (v < ad->nfwd)
        ad->shape_of[v] = s;
    return s;
}

int pass_ad_dim_of(Ad *ad, int v, int axis)
{
    IrNode *n = pass_ad_begin(ad, IR_OP_SHAPE, 1, &v, 1);
    ir_node_set_int(ad->g, n, "start", axis);
    ir_node_set_int(ad->g, n, "end", axis + 1);
    return pass_ad_finish(ad, n);
}

int pass_ad_reduce_sum(Ad *ad, int x, int naxes, const int64_t *axes, bool keepdims)
{
    if (x < 0 || naxes == 0)
        return x;
    int in[2] = {x, pass_ad_ints(ad, naxes, axes)};
    IrNode *n = pass_ad_begin(ad, IR_OP_REDUCESUM, 2, in, 1);
    ir_node_set_int(ad->g, n, "keepdims", keepdims);
    return pass_ad_finish(ad, n);
}

int pass_ad_reduce_to(Ad *ad, int gval, int target)
{
    if (gval < 0)
        return -1;
    const IrShape *s = &ir_val(ad->g, gval)->shape, *t = &ir_val(ad->g, target)->shape;
    int lead = s->rank - t->rank;
    int64_t keep[IR_MAX_RANK], drop[IR_MAX_RANK];
    int nkeep = 0, ndrop = 0;
    if (lead < 0)
        return pass_ad_fail(ad, "cannot reduce a gradient of rank %d to the rank-%d operand \"%s\"", s->rank, t->rank,
                            ir_val(ad->g, target)->name);
    for (int i = 0; i < lead; i++)
        drop[ndrop++] = i;
    for (int i = lead; i < s->rank; i++) {
        IrDim td = t->d[i - lead], sd = s->d[i];
        if (ir_dim_eq(td, sd))
            continue;
        if (!ir_dim_eq(td, ir_dim_const(1)))
            return pass_ad_fail(ad, "the gradient's dim %d does not broadcast from operand \"%s\"", i,
                                ir_val(ad->g, target)->name);
        keep[nkeep++] = i;
    }
    int x = pass_ad_reduce_sum(ad, gval, nkeep, keep, true);
    return pass_ad_reduce_sum(ad, x, ndrop, drop, false);
}

int pass_ad_div_count(Ad *ad, int x, int ref, const bool *axes)
{
    if (x < 0)
        return -1;
    const IrValue *r = ir_val(ad->g, ref);
    IrDtype t = ir_val(ad->g, x)->dtype;
    double c = 1;
    int count = -1;   /* the run-time part (int64 [1]) */
    for (int i = 0; i < r->shape.rank; i++) {
        if (!axes[i])
            continue;
        IrDim dim = r->shape.d[i];
        if (ir_dim_is_const(dim)) {
            c *= (double)dim.b;
            continue;
        }
        int di = pass_ad_dim_of(ad, ref, i);
        count = count < 0 ? di : pass_ad_op2(ad, IR_OP_MUL, count, di);
    }
    if (count < 0)
        return c == 1 ? x : pass_ad_op2(ad, IR_OP_DIV, x, pass_ad_scalar(ad, t, c));
    IrNode *cast = pass_ad_begin(ad, IR_OP_CAST, 1, &count, 1);
    ir_node_set_string(ad->g, cast, "to", srt_dtype_name(t));
    int cf = pass_ad_finish(ad, cast);
    int sc = pass_ad_op2(ad, IR_OP_RESHAPE, cf, pass_ad_ints(ad, 0, NULL));   /* [1] -> scalar */
    if (c != 1)
        sc = pass_ad_op2(ad, IR_OP_MUL, sc, pass_ad_scalar(ad, t, c));
    return pass_ad_op2(ad, IR_OP_DIV, x, sc);
}

/* ---- naming ----------------------------------------------------------------------------- */

static void rename_to(Ad *ad, int id, const char *prefix, const char *name)
{
    size_t len = strlen(prefix) + strlen(name) + 1;
    char *want = srt_malloc(len);
    IR_ASSERT(want);
    snprintf(want, len, "%s%s", prefix, name);
    int rc = ir_value_rename(ad->g, id, ir_value_unique_name(ad->g, want));
    IR_ASSERT(rc == 0);
    free(want);
}

/* A value this pass made that has not been given a final name yet. */
static bool unnamed(const Ad *ad, int id)
{
    return id >= ad->nfwd && !strncmp(ir_val(ad->g, id)->name, "bwd/", 4);
}

/* The gradient of forward value v: its contributions summed (once), named "grad/<v>". */
static int finalize(Ad *ad, int v)
{
    if (v < 0 || v >= ad->nfwd)
        return -1;
    if (ad->final[v])
        return ad->grad[v];
    ad->final[v] = true;
    int gsum = ad->nparts[v] ? ad->parts[v][0] : -1;
    if (ad->nparts[v] > 1) {
        const IrNode *keep = ad->cur;
        char label[sizeof ad->label];
        memcpy(label, ad->label, sizeof label);
        snprintf(ad->label, sizeof ad->label, "bwd/%s", ir_val(ad->g, v)->name);
        for (int i = 1; i < ad->nparts[v] && gsum >= 0; i++)
            gsum = pass_ad_op2(ad, IR_OP_ADD, gsum, ad->parts[v][i]);
        memcpy(ad->label, label, sizeof label);
        ad->cur = keep;
    }
    if (gsum >= 0 && unnamed(ad, gsum))
        rename_to(ad, gsum, "grad/", ir_val(ad->g, v)->name);
    ad->grad[v] = gsum;
    return gsum;
}

/* ---- state values and updates ------------------------------------------------------------- */

typedef struct Updates {
    int n, cap;
    int *dst, *src;
} Updates;

static void add_update(Updates *u, int dst, int src)
{
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 16;
        u->dst = srt_realloc(u->dst, (size_t)u->cap * sizeof(int));
        u->src = srt_realloc(u->src, (size_t)u->cap * sizeof(int));
        IR_ASSERT(u->dst && u->src);
    }
    u->dst[u->n] = dst;
    u->src[u->n++] = src;
}

static bool is_update_dst(const Updates *u, int dst)
{
    for (int i = 0; i < u->n; i++)
        if (u->dst[i] == dst)
            return true;
    return false;
}

/* An optimizer-state param filled with fill (the step counter, lr, moment buffers). */
static int new_state(Ad *ad, const char *name, IrDtype t, const IrShape *s, double fill)
{
    IrGraph *g = ad->g;
    int id = ir_value_new(g, ir_value_unique_name(g, name), t, s, IR_ROLE_PARAM);
    IR_ASSERT(id >= 0);
    IrValue *v = ir_val(g, id);
    IrDim cnt;
    bool ok = ir_shape_numel(s, &cnt) && cnt.a == 0;
    IR_ASSERT(ok);
    v->data = ir_arena_alloc(g->arena, (size_t)(cnt.b ? cnt.b : 1) * srt_dtype_size(t));
    IrTensor tt = {.dtype = t, .numel = cnt.b, .data = v->data};
    for (int64_t i = 0; fill != 0 && i < cnt.b; i++)
        ir_tensor_setf(&tt, i, fill);
    v->trainable = false;
    v->opt_state = true;
    return id;
}

/* ---- 1. training forms of forward ops ------------------------------------------------------ */

/* The 64-bit finalizer of docs/training.md (splitmix64's), also used by DropoutMask. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* BatchNormalization(x, scale, bias, mean, var) -> y becomes its training_mode=1 form with the
 * running statistics as outputs 1 and 2 ("next/<mean>", "next/<var>"), and update pairs. */
static int train_batchnorm(Ad *ad, IrNode *n, Updates *u)
{
    IrGraph *g = ad->g;
    ir_node_set_int(g, n, "training_mode", 1);
    ir_node_set_int(g, n, "unbiased", 1);   /* the running variance as PyTorch keeps it */
    if (n->nout < 3) {
        int *out = ir_arena_alloc(g->arena, 3 * sizeof(int));
        for (int k = 0; k < 3; k++)
            out[k] = k < n->nout ? n->out[k] : -1;
        n->out = out;
        n->nout = 3;
    }
    for (int k = 1; k < 3; k++) {
        if (n->out[k] >= 0)
            continue;
        char name[512];
        snprintf(name, sizeof name, "next/%s", ir_val(g, n->in[2 + k])->name);
        n->out[k] = ir_value_new(g, ir_value_unique_name(g, name), SRT_F32, NULL, IR_ROLE_ACT);
        ir_val(g, n->out[k])->producer = n->id;
    }
    if (ir_op_info(n->op)->shape(g, n, ad->d) != 0)
        return -1;
    for (int k = 1; k < 3; k++) {
        int stat = n->in[2 + k];
        if (ir_val(g, stat)->role != IR_ROLE_PARAM)
            continue;   /* constants stay as they are */
        if (is_update_dst(u, stat))
            return pass_ad_fail(ad, "param \"%s\" is the running %s of more than one BatchNormalization; give each "
                                "node its own", ir_val(g, stat)->name, k == 1 ? "mean" : "variance");
        add_update(u, stat, n->out[k]);
    }
    return 0;
}

/* Dropout(x[, ratio[, training_mode]]) -> y[, mask] becomes y = Mul(x, DropoutMask(x, step)) and
 * mask = Greater(DropoutMask(..), 0): active in training whatever training_mode says. */
static int train_dropout(Ad *ad, IrNode *n, int step)
{
    IrGraph *g = ad->g;
    int x = n->in[0];
    double ratio = 0.5;
    if (n->nin > 1 && n->in[1] >= 0) {
        const IrValue *r = ir_val(g, n->in[1]);
        if (!r->data)
            return pass_ad_fail(ad, "inputs[1] (ratio) \"%s\" is computed; training needs a constant ratio", r->name);
        IrTensor t = {.dtype = r->dtype, .numel = 1, .data = r->data};
        ratio = ir_tensor_getf(&t, 0);
    }
    const IrAttr *sa = ir_attr_get(n, "seed");
    uint64_t key = sa && sa->kind == IR_ATTR_INT ? (uint64_t)sa->i : fnv1a64(ir_val(g, n->out[0])->name);
    int in[2] = {x, step};
    IrNode *m = pass_ad_begin(ad, IR_OP_DROPOUTMASK, 2, in, 1);
    ir_node_set_float(g, m, "ratio", ratio);
    ir_node_set_int(g, m, "seed", (int64_t)(mix64((uint64_t)g->seed) ^ mix64(key)));
    int mask = pass_ad_finish(ad, m);
    if (mask < 0)
        return -1;
    rename_to(ad, mask, "dropout.mask/", ir_val(g, n->out[0])->name);
    int bool_mask = n->nout > 1 ? n->out[1] : -1;
    int *nin = ir_arena_alloc(g->arena, 2 * sizeof(int));
    nin[0] = x;
    nin[1] = mask;
    n->op = IR_OP_MUL;
    n->in = nin;
    n->nin = 2;
    n->nout = 1;
    n->nattrs = 0;
    if (ir_op_info(n->op)->shape(g, n, ad->d) != 0)
        return -1;
    if (bool_mask >= 0) {
        int gin[2] = {mask, pass_ad_scalar(ad, ir_val(g, x)->dtype, 0)};
        int id = ir_node_new(g, IR_OP_GREATER, ad->label, 2, gin, 1, &bool_mask);
        if (ir_op_info(IR_OP_GREATER)->shape(g, ir_node(g, id), ad->d) != 0)
            return -1;
    }
    return 0;
}

/* ---- 3. the optimizer ---------------------------------------------------------------------- */

static int optimizer(Ad *ad, int step, const int *params, const int *grads, int np, Updates *u)
{
    IrGraph *g = ad->g;
    const IrOptimizer *o = &g->training->opt;
    IrShape scalar = {.rank = 0};
    IrDtype lt = np ? ir_val(g, params[0])->dtype : SRT_F32;
    int lr = new_state(ad, "optim.lr", lt, &scalar, o->lr);
    for (int i = 0; i < np; i++) {
        int p = params[i];
        const IrValue *pv = ir_val(g, p);
        char name[512];
        set_label(ad, NULL, NULL);
        snprintf(ad->label, sizeof ad->label, "optim/%s", pv->name);
        if (o->kind == IR_OPTIM_SGD) {
            int in[5] = {p, grads[i], lr, step, -1}, nin = 4, nout = 1;
            if (o->momentum != 0) {
                snprintf(name, sizeof name, "sgd.momentum/%s", pv->name);
                in[nin++] = new_state(ad, name, pv->dtype, &pv->shape, 0);
                nout = 2;
            }
            IrNode *n = pass_ad_begin(ad, IR_OP_SGDUPDATE, nin, in, nout);
            ir_node_set_float(g, n, "momentum", o->momentum);
            ir_node_set_float(g, n, "dampening", o->dampening);
            ir_node_set_int(g, n, "nesterov", o->nesterov);
            ir_node_set_float(g, n, "weight_decay", o->weight_decay);
            if (pass_ad_finish(ad, n) < 0)
                return -1;
            for (int k = 0; k < nout; k++) {
                int dst = k == 0 ? p : in[4];
                rename_to(ad, n->out[k], "next/", ir_val(g, dst)->name);
                add_update(u, dst, n->out[k]);
            }
        } else {
            int in[6] = {p, grads[i], lr, step, -1, -1};
            snprintf(name, sizeof name, "adam.m/%s", pv->name);
            in[4] = new_state(ad, name, pv->dtype, &pv->shape, 0);
            snprintf(name, sizeof name, "adam.v/%s", pv->name);
            in[5] = new_state(ad, name, pv->dtype, &pv->shape, 0);
            IrNode *n = pass_ad_begin(ad, IR_OP_ADAMUPDATE, 6, in, 3);
            ir_node_set_float(g, n, "beta1", o->beta1);
            ir_node_set_float(g, n, "beta2", o->beta2);
            ir_node_set_float(g, n, "eps", o->eps);
            ir_node_set_float(g, n, "weight_decay", o->weight_decay);
            ir_node_set_int(g, n, "decoupled", o->kind == IR_OPTIM_ADAMW);
            if (pass_ad_finish(ad, n) < 0)
                return -1;
            for (int k = 0; k < 3; k++) {
                int dst = k == 0 ? p : in[3 + k];
                rename_to(ad, n->out[k], "next/", ir_val(g, dst)->name);
                add_update(u, dst, n->out[k]);
            }
        }
    }
    /* the step counter counts every step, with or without trained params */
    snprintf(ad->label, sizeof ad->label, "optim/step");
    int next = pass_ad_op2(ad, IR_OP_ADD, step, pass_ad_scalar(ad, SRT_I64, 1));
    if (next < 0)
        return -1;
    rename_to(ad, next, "next/", ir_val(g, step)->name);
    add_update(u, step, next);
    return 0;
}

/* ---- the pass ----------------------------------------------------------------------------- */

static int check_loss(Ad *ad, const IrNode *loss)
{
    ad->cur = loss;
    if (!loss)
        return pass_ad_fail(ad, "the training section has no loss");
    if (ir_op_attr_spec(loss->op, "reduction") && !strcmp(ir_attr_str(loss, "reduction"), "none"))
        return pass_ad_fail(ad, "reduction \"none\" gives one loss per element; training needs a scalar loss (use "
                            "\"mean\" or \"sum\")");
    const IrValue *l = loss->out[0] >= 0 ? ir_val(ad->g, loss->out[0]) : NULL;
    if (!l || !l->typed || l->shape.rank != 0)
        return pass_ad_fail(ad, "the loss must be a scalar (run shape inference first)");
    return 0;
}

static void ad_free(Ad *ad)
{
    for (int i = 0; i < ad->nfwd && ad->parts; i++)
        free(ad->parts[i]);
    free(ad->parts);
    free(ad->nparts);
    free(ad->cap_parts);
    free(ad->grad);
    free(ad->final);
    free(ad->wants);
    free(ad->shape_of);
    free(ad->consts);
}

static int build(Ad *ad, Updates *u, int *np_out, int **params_out, int **grads_out)
{
    IrGraph *g = ad->g;
    IrTraining *t = g->training;
    for (int op = 0; op < IR_OP_COUNT; op++)   /* the rule table follows ops.def's DIFF flags */
        IR_ASSERT(!pass_ad_rule((IrOp)op) == !(ir_op_info((IrOp)op)->flags & IR_OPF_DIFF));
    if (check_loss(ad, t->loss) != 0)
        return -1;
    IrShape scalar = {.rank = 0};
    int step = new_state(ad, "optim.step", SRT_I64, &scalar, 0);

    /* 1. training forms (nodes appended here are sorted in below) */
    int nn = g->nnodes;
    for (int i = 0; i < nn; i++) {
        IrNode *n = ir_node(g, i);
        set_label(ad, n, NULL);
        if (n->op == IR_OP_BATCHNORM && train_batchnorm(ad, n, u) != 0)
            return -1;
        if (n->op == IR_OP_DROPOUT && train_dropout(ad, n, step) != 0)
            return -1;
    }
    if (ir_graph_toposort(g, ad->d) != 0)
        return -1;

    /* 2. backward */
    int nf = g->nnodes, nv = g->nvalues;
    ad->nfwd = nv;
    ad->wants = srt_calloc((size_t)nv + 1, sizeof(bool));
    ad->parts = srt_calloc((size_t)nv + 1, sizeof(int *));
    ad->nparts = srt_calloc((size_t)nv + 1, sizeof(int));
    ad->cap_parts = srt_calloc((size_t)nv + 1, sizeof(int));
    ad->grad = srt_malloc(((size_t)nv + 1) * sizeof(int));
    ad->final = srt_calloc((size_t)nv + 1, sizeof(bool));
    ad->shape_of = srt_malloc(((size_t)nv + 1) * sizeof(int));
    IR_ASSERT(ad->wants && ad->parts && ad->nparts && ad->cap_parts && ad->grad && ad->final && ad->shape_of);
    for (int v = 0; v < nv; v++) {
        const IrValue *val = ir_val(g, v);
        ad->grad[v] = ad->shape_of[v] = -1;
        ad->wants[v] = val->role == IR_ROLE_PARAM && val->trainable && !val->opt_state && ir_dtype_is_float(val->dtype);
    }
    for (int i = 0; i < nf; i++) {
        const IrNode *n = ir_node(g, i);
        if (!(ir_op_info(n->op)->flags & IR_OPF_DIFF))
            continue;
        bool any = false;
        for (int k = 0; k < n->nin && !any; k++)
            any = pass_ad_wants(ad, n->in[k]);
        for (int k = 0; any && k < n->nout; k++)
            if (n->out[k] >= 0 && ir_dtype_is_float(ir_val(g, n->out[k])->dtype))
                ad->wants[n->out[k]] = true;
    }
    set_label(ad, t->loss, "loss");
    AdRule lrule = pass_ad_rule(t->loss->op);
    IR_ASSERT(lrule);
    if (lrule(ad, t->loss, NULL) != 0 || ad->failed)
        return -1;
    int *dy = srt_malloc(sizeof(int) * 64);
    int cap_dy = 64;
    IR_ASSERT(dy);
    for (int i = nf - 1; i >= 0; i--) {
        const IrNode *n = ir_node(g, i);
        set_label(ad, n, NULL);
        if (n->nout > cap_dy) {
            cap_dy = n->nout;
            dy = srt_realloc(dy, (size_t)cap_dy * sizeof(int));
            IR_ASSERT(dy);
        }
        bool any = false;
        for (int k = 0; k < n->nout; k++) {
            dy[k] = finalize(ad, n->out[k]);
            any |= dy[k] >= 0;
        }
        if (!any)
            continue;
        AdRule rule = pass_ad_rule(n->op);
        IR_ASSERT(rule);   /* only outputs of IR_OPF_DIFF ops are wanted, and each has a rule */
        if (rule(ad, n, dy) != 0 || ad->failed) {
            free(dy);
            return -1;
        }
    }
    free(dy);

    /* the params' gradients: one distinct value each, named "grad/<param>" */
    int *params = srt_malloc(((size_t)nv + 1) * sizeof(int)), *grads = srt_malloc(((size_t)nv + 1) * sizeof(int));
    IR_ASSERT(params && grads);
    *params_out = params;   /* the caller frees them, also after a failure */
    *grads_out = grads;
    int np = 0;
    for (int v = 0; v < nv; v++) {
        const IrValue *val = ir_val(g, v);
        if (val->role != IR_ROLE_PARAM || !ad->wants[v])
            continue;
        int gv = finalize(ad, v);
        if (gv < 0)
            continue;   /* the loss does not depend on it: like PyTorch, no update at all */
        char name[512];
        snprintf(name, sizeof name, "grad/%s", val->name);
        if (strcmp(ir_val(g, gv)->name, name) != 0) {
            /* shared with another value's gradient (or taken): give the param its own copy */
            snprintf(ad->label, sizeof ad->label, "bwd/%s", val->name);
            ad->cur = NULL;
            gv = pass_ad_op1(ad, IR_OP_IDENTITY, gv);
            if (gv < 0)
                return -1;
            rename_to(ad, gv, "grad/", val->name);
        }
        params[np] = v;
        grads[np++] = gv;
    }
    *np_out = np;

    /* 3. optimizer */
    if (optimizer(ad, step, params, grads, np, u) != 0)
        return -1;
    return ir_graph_toposort(g, ad->d);
}

PassResult pass_autodiff(IrGraph *g, PassContext *ctx)
{
    IrTraining *t = g->training;
    if (!t || t->has_backward)
        return PASS_UNCHANGED;
    Ad ad;
    memset(&ad, 0, sizeof ad);
    ad.g = g;
    ad.d = ctx->diag;
    Updates u = {0};
    int np = 0, *params = NULL, *grads = NULL;
    int nvalues = g->nvalues;
    int rc = build(&ad, &u, &np, &params, &grads);
    if (rc == 0) {
        t->has_backward = true;
        t->nupdates = u.n;
        t->update_dst = ir_arena_memdup(g->arena, u.dst ? u.dst : &rc, (size_t)(u.n ? u.n : 1) * sizeof(int));
        t->update_src = ir_arena_memdup(g->arena, u.src ? u.src : &rc, (size_t)(u.n ? u.n : 1) * sizeof(int));
        t->ngrads = np;
        t->grad_param = ir_arena_memdup(g->arena, params, (size_t)(np ? np : 1) * sizeof(int));
        t->grad_value = ir_arena_memdup(g->arena, grads, (size_t)(np ? np : 1) * sizeof(int));
        int64_t states = 0;
        for (int v = nvalues; v < g->nvalues; v++)
            states += ir_val(g, v)->opt_state;
        pass_stat_add(ctx, "nodes added", ad.nodes_made);
        pass_stat_add(ctx, "params trained", np);
        pass_stat_add(ctx, "state values added", states);
    }
    free(params);
    free(grads);
    free(u.dst);
    free(u.src);
    ad_free(&ad);
    return rc == 0 ? PASS_CHANGED : PASS_ERROR;
}
