/* Graph passes: the pass interface, the registry, per-pass statistics and the pipeline runner. */
#ifndef SINTER_PASSES_H
#define SINTER_PASSES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"

/* What a pass did. PASS_ERROR comes with diagnostics in the context. */
typedef enum PassResult {
    PASS_ERROR = -1,
    PASS_UNCHANGED = 0,
    PASS_CHANGED = 1
} PassResult;

/* One statistic: "<pass>: <count> <what>", e.g. "const_fold: 3 nodes folded". Counts of the
 * same (pass, what) accumulate over the pipeline (dce runs twice in the default one). */
typedef struct PassStat {
    const char *pass;         /* registry name (static string) */
    const char *what;         /* plural noun phrase (static string): "nodes folded" */
    int64_t count;
} PassStat;

#define PASS_MAX_STATS 64

/* What the prune pass removes (sinter's --prune SPEC). */
typedef enum PassPruneKind {
    PASS_PRUNE_NONE,
    PASS_PRUNE_MAGNITUDE,     /* "magnitude:S": the fraction S of each weight's smallest |w| zeroed */
    PASS_PRUNE_GLOBAL,        /* "global-magnitude:S": the fraction S of all weights, one ranking */
    PASS_PRUNE_NM,            /* "N:M": at most N non-zeros in each run of M along the last dim */
    PASS_PRUNE_CHANNELS       /* "channels:S": the fraction S of each layer's output channels removed
                                 (lowest L2 norm) and the consumer's shape shrunk */
} PassPruneKind;

typedef struct PassPrune {
    PassPruneKind kind;
    double sparsity;          /* S in [0, 1) */
    int n, m;                 /* N:M, 1 <= N < M <= 64 */
} PassPrune;

/* Parses a --prune SPEC; -1 with a message ("expects ...") in err. */
int pass_prune_parse(const char *spec, PassPrune *out, char *err, size_t len);

/* What the quantize pass does (sinter's --quantize KIND [--quantize-group G]). */
typedef enum PassQuantKind {
    PASS_QUANT_NONE,
    PASS_QUANT_INT8_WEIGHTS,  /* "int8-weights": weight-only, 8 bits */
    PASS_QUANT_INT4_WEIGHTS,  /* "int4-weights": weight-only, 4 bits */
    PASS_QUANT_INT8           /* "int8": static, int8 weights and uint8 activations (qint8) */
} PassQuantKind;

/* The range of a float activation (calibration, --calibrate): its grid covers [lo, hi] and 0. */
typedef struct PassRange {
    const char *name;         /* the value's name */
    float lo, hi;
} PassRange;

typedef struct PassQuantize {
    PassQuantKind kind;
    int64_t group;            /* scales per group of this many K elements; 0: the default (int8:
                                 one per output channel, int4: 32) */
    /* int8 only */
    int act_qmax;             /* activations on 0..act_qmax: 255, or 127 for targets whose int8
                                 kernel sums pairs in int16 (cg_int8_activation_max); 0: 255 */
    int nranges;
    const PassRange *ranges;  /* the activation ranges (owned by the caller) */
    int nkeep;
    const char *const *keep;  /* names of Gemm/MatMul nodes to keep in float */
} PassQuantize;

/* The uint8 grid of range [lo, hi] (widened to include 0) on 0..qmax: scale = (hi - lo) / qmax
 * (1 for an empty range), zero point = rint(-lo / scale). */
void pass_act_grid(double lo, double hi, int qmax, float *scale, int32_t *zero_point);
/* The range of value `name` in q, or NULL. */
const PassRange *pass_quant_range(const PassQuantize *q, const char *name);
/* Whether node n, a Gemm/MatMul in a pass_quant_weight_slot form, is quantized to int8 by q:
 * its input has a range and it is not kept float. */
bool pass_int8_candidate(const IrGraph *g, const IrNode *n, const PassQuantize *q);

/* Parses --quantize KIND and --quantize-group G (NULL: none); -1 with a message in err. */
int pass_quantize_parse(const char *kind, const char *group, PassQuantize *out, char *err, size_t len);
/* Node n multiplies by a rank-2 float32 weight param in[1] that only it reads, in a form
 * DequantGemm computes (Gemm without transA, alpha 1, beta 1, a bias of n elements; MatMul of
 * matrices): true with the weight's output-channel and K axes. */
bool pass_quant_weight_slot(const IrGraph *g, const IrNode *n, int *out_axis, int *k_axis);

/* Options and results of a pipeline run. Initialize with pass_context_init; the runner and the
 * passes keep no state anywhere else, so contexts on different threads are independent. */
typedef struct PassContext {
    IrDiag *diag;             /* errors of passes and of the verifier go here (required) */

    /* options */
    const char *const *pipeline; /* pass names to run in order; NULL: the default pipeline */
    int npipeline;
    bool verify;              /* ir_verify after every pass (on in tests) */
    const char *dump_after;   /* a pass name or "all": print the graph after it; NULL: no dumps */
    FILE *dump_file;          /* where dumps go; NULL: stdout */
    IrPrintOptions dump_opt;  /* options of those dumps */
    const char *stop_after;   /* stop after the first run of this pass; NULL: run the whole pipeline */
    PassPrune prune;          /* the compression pipeline's prune pass (kind NONE: nothing to prune) */
    PassQuantize quantize;    /* its quantize pass, and qpack on the inference graph (NONE: neither) */
    bool sparse;              /* --sparse: sparsify on the inference graph */

    /* results */
    int passes_run;           /* pipeline entries that ran */
    int passes_changed;       /* of which reported PASS_CHANGED */
    const char *current;      /* name of the pass running now (for pass_stat_add) */
    int nstats;
    PassStat stats[PASS_MAX_STATS];
} PassContext;

typedef PassResult (*PassFn)(IrGraph *g, PassContext *ctx);

typedef struct Pass {
    const char *name;
    const char *summary;      /* one line */
    PassFn run;
} Pass;

/* Entry points of the registered passes: pass_shape_infer, pass_const_fold, ... */
#define PASS(name, summary) PassResult pass_##name(IrGraph *g, PassContext *ctx);
#include "passes/passes.def"
#undef PASS

/* ---- registry ----------------------------------------------------------------------- */
int pass_count(void);
const Pass *pass_get(int i);                   /* 0 <= i < pass_count(), in passes.def order */
const Pass *pass_find(const char *name);       /* NULL if no pass has that name */
/* "shape_infer, const_fold, dce, cse" into buf (for messages). */
const char *pass_list_names(char *buf, size_t len);

/* The named pipelines (see pipeline.c for why each entry sits where it does): "inference",
 * which the driver runs on a model before codegen, and "training", which builds a model's
 * training graph from a copy of it. Returns the count and sets *names, or -1 for an unknown
 * name. */
int pass_pipeline(const char *name, const char *const **names);
/* The inference pipeline. */
int pass_default_pipeline(const char *const **names);   /* returns the count */
/* The training graph of g (which has a training section and is no training graph itself): a
 * copy of g through the training pipeline, with ctx's options (verify, dumps, statistics); the
 * loss stays in training->loss as autodiff leaves it. NULL with diagnostics on error. */
IrGraph *pass_training_graph(const IrGraph *g, PassContext *ctx);
/* The compression pipeline (prune) on the model g itself, as ctx's compression options ask; nothing
 * when they ask for none. pass_prepare runs it first, so the training graph and the inference
 * program are built from the compressed model. Returns 0, or -1 with diagnostics. */
int pass_compress(IrGraph *g, PassContext *ctx);
/* qpack or qint8 (and sparsify with ctx->sparse) on the inference graph g alone, when ctx asks (the training graph keeps the
 * float params it trains): pass_prepare runs it after building the training graph. Returns 0,
 * or -1 with diagnostics. */
int pass_pack_quantized(IrGraph *g, PassContext *ctx);
/* What a compiler driver runs on a loaded model: pass_compress, then when train is not NULL and g
 * has a training section, *train = its training graph (built from the compressed g), then the
 * pipeline of ctx (the inference one by default) on g itself. Returns 0, or -1 with diagnostics
 * (*train NULL). */
int pass_prepare(IrGraph *g, PassContext *ctx, IrGraph **train);

/* ---- helpers for passes ----------------------------------------------------------------- */
/* A value whose id others hold outside the node list, so passes must neither replace it by
 * another value nor turn it into a constant: a graph output, or a value the training section
 * names apart from the loss (update sources and destinations, params with gradients and their
 * gradients, filled by autodiff). ir_graph_replace_uses does not rewrite those lists. */
bool pass_value_pinned(const IrGraph *g, int id);
/* Input slots of nodes reading value id (*only_node: the last such node), plus 2 for a use
 * outside the node list (the loss, a graph output or training value): 1 means one consumer. */
int pass_value_uses(const IrGraph *g, int id, int *only_node);
/* ir_graph_compact that also renumbers the training section's update and gradient lists. It
 * keeps every declared param, read or not: params are the model's interface (NAME_load and
 * NAME_save, the JSON dump, checkpoints), so dce or folding never drop one. */
void pass_compact(IrGraph *g, const bool *keep_node);
/* The same, but params no node reads go too: qpack, qint8 and sparsify, whose packed constants
 * replace the float weights. */
void pass_compact_drop_params(IrGraph *g, const bool *keep_node);

/* ---- running ------------------------------------------------------------------------ */
void pass_context_init(PassContext *ctx, IrDiag *d);
/* Runs ctx->pipeline (or the default) on g, with the verify/dump/stop options. Pass names are
 * checked before anything runs: an unknown name is a diagnostic listing the valid ones.
 * Returns 0, or -1 with diagnostics (the graph may then be partly transformed). */
int pass_run_pipeline(IrGraph *g, PassContext *ctx);

/* Adds count to the statistic (current pass, what); what is a static plural phrase. */
void pass_stat_add(PassContext *ctx, const char *what, int64_t count);
/* The count recorded for (pass, what), 0 if none. */
int64_t pass_stat_get(const PassContext *ctx, const char *pass, const char *what);
/* One line per statistic, in the order first recorded: "const_fold: 3 nodes folded" (with
 * the first word made singular for a count of 1: "dce: 1 node removed"). */
void pass_print_stats(const PassContext *ctx, FILE *f);

#endif
