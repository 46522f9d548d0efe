/* The pass registry, the default pipeline, statistics, and the runner (verify, dump, stop). */
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"

static const Pass registry[] = {
#define PASS(name, summary) {#name, summary, pass_##name},
#include "passes/passes.def"
#undef PASS
};

#define NPASSES ((int)(sizeof registry / sizeof registry[0]))

/* The inference pipeline: what `sinter compile` runs before codegen. Each entry says why it
 * sits where it does. */
static const char *const inference_pipeline[] = {
    /* Types first: every later pass reads them. The frontend already inferred shapes, but a
     * graph may also come from the IR API or from an earlier pipeline, and re-running is cheap. */
    "shape_infer",
    /* Constants next, while the Shape -> Gather -> Concat chains that torch exports use for
     * Reshape targets are still there to be folded (their shapes were just inferred). */
    "const_fold",
    /* Folding leaves the producers of folded inputs (Shape of an input, say) without users;
     * remove them before cse so it compares fewer nodes. */
    "dce",
    /* After folding, constants that were computed separately can be equal; cse merges them,
     * then the nodes that read them become identical and merge too. */
    "cse",
    /* cse only rewires uses: the duplicate nodes and constants it replaced are now dead. */
    "dce",
    /* Decomposed LayerNormalization and Gelu become single ops; their constants (eps, sqrt 2)
     * are folded by now, and single-use checks see the final uses. */
    "canonicalize",
    /* Inference BatchNormalization as a multiply-add: fuse then puts it in the epilogue of
     * the Conv or Gemm before it (the training graph keeps the op: it needs batch statistics). */
    "fold_bn",
    /* Last: groups are what codegen emits as kernels, so they are formed on the final graph
     * (a pass that removed or rewired nodes afterwards could break a group's contract). */
    "fuse",
};

/* The training pipeline: run on a copy of the model to build its training graph (forward,
 * loss, backward, optimizer update), which codegen compiles beside the inference program. */
static const char *const training_pipeline[] = {
    /* the forward graph simplified as for inference, so the backward graph is built from the
     * same nodes the inference program runs (minus fusion, which comes last) */
    "shape_infer",
    "const_fold",
    "dce",
    "cse",
    "dce",
    /* before autodiff, so the backward graph uses the single ops' gradients */
    "canonicalize",
    /* the loss, the backward graph and the optimizer update */
    "autodiff",
    /* autodiff types what it makes; re-running types everything uniformly */
    "shape_infer",
    /* Shape nodes of the backward graph (ReduceSum axes, Reshape targets) become constants */
    "const_fold",
    "dce",
    /* the backward graph repeats Shape/constant patterns per use; merge them */
    "cse",
    "dce",
    /* forward and backward element-wise chains (never across the optimizer step) */
    "fuse",
};

typedef struct Pipeline {
    const char *name;
    const char *const *passes;
    int count;
} Pipeline;

/* ORDER: the first is the default. */
static const Pipeline pipelines[] = {
    {"inference", inference_pipeline, (int)(sizeof inference_pipeline / sizeof *inference_pipeline)},
    {"training", training_pipeline, (int)(sizeof training_pipeline / sizeof *training_pipeline)},
};

int pass_count(void)
{
    return NPASSES;
}

const Pass *pass_get(int i)
{
    IR_ASSERT(i >= 0 && i < NPASSES);
    return &registry[i];
}

const Pass *pass_find(const char *name)
{
    for (int i = 0; name && i < NPASSES; i++)
        if (!strcmp(registry[i].name, name))
            return &registry[i];
    return NULL;
}

const char *pass_list_names(char *buf, size_t len)
{
    size_t pos = 0;
    if (len)
        buf[0] = 0;
    for (int i = 0; i < NPASSES && pos < len; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", registry[i].name);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
    return buf;
}

int pass_pipeline(const char *name, const char *const **names)
{
    for (size_t i = 0; name && i < sizeof pipelines / sizeof *pipelines; i++)
        if (!strcmp(pipelines[i].name, name)) {
            *names = pipelines[i].passes;
            return pipelines[i].count;
        }
    *names = NULL;
    return -1;
}

static int prepare(IrGraph *g, PassContext *ctx, IrGraph **train);

int pass_default_pipeline(const char *const **names)
{
    return pass_pipeline("inference", names);
}

IrGraph *pass_training_graph(const IrGraph *g, PassContext *ctx)
{
    if (!g->training) {
        ir_diag_error(ctx->diag, g->name, "the model has no training section");
        return NULL;
    }
    if (g->training->has_backward) {
        ir_diag_error(ctx->diag, g->name, "the graph is a training graph already (autodiff ran); compile the model "
                      "itself: the compiler builds the training step from it");
        return NULL;
    }
    IrGraph *tg = ir_graph_clone(g);
    const char *const *saved = ctx->pipeline;
    int nsaved = ctx->npipeline;
    ctx->npipeline = pass_pipeline("training", &ctx->pipeline);
    int rc = pass_run_pipeline(tg, ctx);
    ctx->pipeline = saved;
    ctx->npipeline = nsaved;
    if (rc != 0) {
        ir_graph_free(tg);
        return NULL;
    }
    return tg;
}

/* The compression pipeline: model to model, before the other pipelines see it. */
static const char *const compression_pipeline[] = {
    /* weights and channels removed on the model as loaded, so both the training graph and the
     * inference program start from the smaller model (prune types the shrunk activations itself) */
    "prune",
    /* weights snapped to their grid after pruning (a zero stays a zero) */
    "quantize",
};

int pass_compress(IrGraph *g, PassContext *ctx)
{
    if (ctx->prune.kind == PASS_PRUNE_NONE && ctx->quantize.kind == PASS_QUANT_NONE)
        return 0;
    const char *const *saved = ctx->pipeline;
    int nsaved = ctx->npipeline;
    const char *dump = ctx->dump_after, *stop = ctx->stop_after;
    ctx->pipeline = compression_pipeline;
    ctx->npipeline = (int)(sizeof compression_pipeline / sizeof *compression_pipeline);
    /* dumps and stops name passes of the main pipelines */
    if (dump && strcmp(dump, "all") && strcmp(dump, "prune") && strcmp(dump, "quantize"))
        ctx->dump_after = NULL;
    if (stop && strcmp(stop, "prune") && strcmp(stop, "quantize"))
        ctx->stop_after = NULL;
    int rc = pass_run_pipeline(g, ctx);
    ctx->pipeline = saved;
    ctx->npipeline = nsaved;
    ctx->dump_after = dump;
    ctx->stop_after = stop;
    return rc;
}

int pass_prepare(IrGraph *g, PassContext *ctx, IrGraph **train)
{
    if (pass_compress(g, ctx) != 0)
        return -1;
    PassPrune prune = ctx->prune;
    ctx->prune.kind = PASS_PRUNE_NONE;   /* once */
    int rc = prepare(g, ctx, train);
    ctx->prune = prune;
    return rc;
}

int pass_pack_quantized(IrGraph *g, PassContext *ctx)
{
    if (ctx->quantize.kind == PASS_QUANT_NONE && !ctx->sparse)
        return 0;
    /* weight-only: DequantGemm; static int8: IntGemm and Quantize; then the float weights left
     * that are sparse enough: SparseGemm */
    const char *passes[2];
    int np = 0;
    if (ctx->quantize.kind != PASS_QUANT_NONE)
        passes[np++] = ctx->quantize.kind == PASS_QUANT_INT8 ? "qint8" : "qpack";
    if (ctx->sparse)
        passes[np++] = "sparsify";
    const char *const *saved = ctx->pipeline;
    int nsaved = ctx->npipeline;
    const char *dump = ctx->dump_after, *stop = ctx->stop_after;
    ctx->pipeline = passes;
    ctx->npipeline = np;
    if (dump && strcmp(dump, "all") && strcmp(dump, passes[0]) && (np < 2 || strcmp(dump, passes[1])))
        ctx->dump_after = NULL;
    ctx->stop_after = NULL;
    int rc = pass_run_pipeline(g, ctx);
    ctx->pipeline = saved;
    ctx->npipeline = nsaved;
    ctx->dump_after = dump;
    ctx->stop_after = stop;
    return rc;
}

static int prepare(IrGraph *g, PassContext *ctx, IrGraph **train)
{
    if (train) {
        *train = NULL;
        if (g->training && !(*train = pass_training_graph(g, ctx)))
            return -1;
    }
    if (pass_pack_quantized(g, ctx) != 0 || pass_run_pipeline(g, ctx) != 0) {
        if (train) {
            ir_graph_free(*train);
            *train = NULL;
        }
        return -1;
    }
    return 0;
}

void pass_context_init(PassContext *ctx, IrDiag *d)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->diag = d;
}

/* ---- helpers for passes ------------------------------------------------------------------ */

static bool in_list(const int *ids, int count, int id)
{
    for (int i = 0; ids && i < count; i++)
        if (ids[i] == id)
            return true;
    return false;
}

int pass_value_uses(const IrGraph *g, int id, int *only_node)
{
    int uses = 0;
    for (int i = 0; i < g->nnodes; i++)
        for (int k = 0; k < g->nodes[i]->nin; k++)
            if (g->nodes[i]->in[k] == id) {
                uses++;
                *only_node = i;
            }
    const IrNode *l = g->training ? g->training->loss : NULL;
    for (int k = 0; l && k < l->nin; k++)
        uses += l->in[k] == id ? 2 : 0;   /* never "the one consumer" */
    if (pass_value_pinned(g, id))
        uses += 2;
    return uses;
}

bool pass_value_pinned(const IrGraph *g, int id)
{
    if (id < 0 || id >= g->nvalues)
        return false;
    if (g->values[id]->is_output)
        return true;
    const IrTraining *t = g->training;
    if (!t)
        return false;
    return in_list(t->update_src, t->nupdates, id) || in_list(t->update_dst, t->nupdates, id) ||
           in_list(t->grad_param, t->ngrads, id) || in_list(t->grad_value, t->ngrads, id);
}

/* The lists hold value ids; values are stable pointers whose id compaction updates. */
static IrValue **save_ids(const IrGraph *g, const int *ids, int count)
{
    if (!ids || count <= 0)
        return NULL;
    IrValue **v = srt_malloc((size_t)count * sizeof *v);
    IR_ASSERT(v);
    for (int i = 0; i < count; i++)
        v[i] = ids[i] >= 0 && ids[i] < g->nvalues ? g->values[ids[i]] : NULL;
    return v;
}

static void restore_ids(const IrGraph *g, int *ids, int count, IrValue **saved)
{
    for (int i = 0; saved && i < count; i++) {
        if (!saved[i])
            continue;
        /* a value named by the training section is referenced, so compaction keeps it */
        IR_ASSERT(saved[i]->id < g->nvalues && g->values[saved[i]->id] == saved[i]);
        ids[i] = saved[i]->id;
    }
    free(saved);
}

static void compact(IrGraph *g, const bool *keep_node, bool keep_params)
{
    bool *keep_value = NULL;
    if (keep_params) {
        keep_value = srt_calloc((size_t)g->nvalues + 1, sizeof *keep_value);
        IR_ASSERT(keep_value);
        for (int id = 0; id < g->nvalues; id++)
            keep_value[id] = g->values[id]->role == IR_ROLE_PARAM;
    }
    IrTraining *t = g->training;
    if (!t) {
        ir_graph_compact_keep(g, keep_node, keep_value);
        free(keep_value);
        return;
    }
    IrValue **dst = save_ids(g, t->update_dst, t->nupdates), **src = save_ids(g, t->update_src, t->nupdates);
    IrValue **gp = save_ids(g, t->grad_param, t->ngrads), **gv = save_ids(g, t->grad_value, t->ngrads);
    ir_graph_compact_keep(g, keep_node, keep_value);
    free(keep_value);
    restore_ids(g, t->update_dst, t->nupdates, dst);
    restore_ids(g, t->update_src, t->nupdates, src);
    restore_ids(g, t->grad_param, t->ngrads, gp);
    restore_ids(g, t->grad_value, t->ngrads, gv);
}

void pass_compact(IrGraph *g, const bool *keep_node)
{
    compact(g, keep_node, true);
}

void pass_compact_drop_params(IrGraph *g, const bool *keep_node)
{
    compact(g, keep_node, false);
}

/* ---- statistics ---------------------------------------------------------------------- */

void pass_stat_add(PassContext *ctx, const char *what, int64_t count)
{
    const char *pass = ctx->current ? ctx->current : "?";
    for (int i = 0; i < ctx->nstats; i++)
        if (!strcmp(ctx->stats[i].pass, pass) && !strcmp(ctx->stats[i].what, what)) {
            ctx->stats[i].count += count;
            return;
        }
    IR_ASSERT(ctx->nstats < PASS_MAX_STATS);   /* passes record a handful of fixed phrases */
    PassStat *s = &ctx->stats[ctx->nstats++];
    s->pass = pass;
    s->what = what;
    s->count = count;
}

int64_t pass_stat_get(const PassContext *ctx, const char *pass, const char *what)
{
    for (int i = 0; i < ctx->nstats; i++)
        if (!strcmp(ctx->stats[i].pass, pass) && !strcmp(ctx->stats[i].what, what))
            return ctx->stats[i].count;
    return 0;
}

void pass_print_stats(const PassContext *ctx, FILE *f)
{
    for (int i = 0; i < ctx->nstats; i++) {
        const PassStat *s = &ctx->stats[i];
        const char *space = strchr(s->what, ' ');
        size_t first = space ? (size_t)(space - s->what) : strlen(s->what);
        if (s->count == 1 && first > 1 && s->what[first - 1] == 's')
            fprintf(f, "%s: 1 %.*s%s\n", s->pass, (int)(first - 1), s->what, s->what + first);
        else
            fprintf(f, "%s: %lld %s\n", s->pass, (long long)s->count, s->what);
    }
}

/* ---- the runner ------------------------------------------------------------------------ */

static bool in_pipeline(const char *name, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (!strcmp(names[i], name))
            return true;
    return false;
}

static void list_pipeline(char *buf, size_t len, const char *const *names, int count)
{
    size_t pos = 0;
    buf[0] = 0;
    for (int i = 0; i < count && pos < len; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
}

/* dump_after / stop_after must name a pass of the pipeline (dump_after may also be "all"). */
static int check_option(PassContext *ctx, const char *option, const char *name, bool allow_all,
                        const char *const *names, int count)
{
    if (!name || (allow_all && !strcmp(name, "all")))
        return 0;
    char valid[512];
    if (!pass_find(name)) {
        pass_list_names(valid, sizeof valid);
        ir_diag_error(ctx->diag, NULL, "%s: unknown pass \"%s\" (valid: %s%s)", option, name,
                      allow_all ? "all, " : "", valid);
        return -1;
    }
    if (!in_pipeline(name, names, count)) {
        list_pipeline(valid, sizeof valid, names, count);
        ir_diag_error(ctx->diag, NULL, "%s: pass \"%s\" is not in the pipeline (%s)", option, name, valid);
        return -1;
    }
    return 0;
}

int pass_run_pipeline(IrGraph *g, PassContext *ctx)
{
    const char *const *names = ctx->pipeline;
    int count = ctx->npipeline;
    if (!names)
        count = pass_default_pipeline(&names);

    int bad = 0;
    for (int i = 0; i < count; i++)
        if (!pass_find(names[i])) {
            char valid[512];
            ir_diag_error(ctx->diag, NULL, "unknown pass \"%s\" (valid passes: %s)", names[i] ? names[i] : "",
                          pass_list_names(valid, sizeof valid));
            bad++;
        }
    if (bad)
        return -1;
    if (check_option(ctx, "dump after", ctx->dump_after, true, names, count) != 0 ||
        check_option(ctx, "stop after", ctx->stop_after, false, names, count) != 0)
        return -1;

    FILE *dump = ctx->dump_file ? ctx->dump_file : stdout;
    int dumps = 0;
    for (int i = 0; i < count; i++) {
        const Pass *p = pass_find(names[i]);
        ctx->current = p->name;
        PassResult r = p->run(g, ctx);
        ctx->current = NULL;
        ctx->passes_run++;
        if (r == PASS_ERROR)
            return -1;
        if (r == PASS_CHANGED)
            ctx->passes_changed++;
        if (ctx->verify && ir_verify(g, ctx->diag) != 0) {
            ir_diag_error(ctx->diag, NULL, "the graph fails verification after pass \"%s\" (%d of %d)", p->name,
                          i + 1, count);
            return -1;
        }
        if (ctx->dump_after && (!strcmp(ctx->dump_after, "all") || !strcmp(ctx->dump_after, p->name))) {
            if (dumps++)
                fputc('\n', dump);
            fprintf(dump, "; after %s\n", p->name);
            ir_print_text(g, dump, &ctx->dump_opt);
        }
        if (ctx->stop_after && !strcmp(ctx->stop_after, p->name))
            break;
    }
    return 0;
}
