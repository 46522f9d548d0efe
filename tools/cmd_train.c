/* `sinter train`: trains a compiled model on IDX or .npy data with its training step, with progress and per-epoch evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tools/cli.h"
#include "tools/data.h"
#include "tools/dist.h"
#include "runtime/sinter_parallel.h"
#include "tools/native.h"

typedef struct TrainArgs {
    const char *model;
    bool lib;                 /* a compiled library (.so) */
    const char *data_text;    /* --data as given */
    const char *eval_text;    /* --eval-data as given, or NULL */
    CliDataSpec data, eval;
    bool no_eval;
    int64_t epochs, batch;    /* batch 0: not given */
    bool have_epochs;         /* epochs 0: only evaluate */
    bool have_lr;
    double lr;
    const char *save, *load;
    int threads;              /* 0: srt_default_threads() */
    uint64_t seed;
    int64_t limit;            /* 0: all examples */
    bool drop_last;
    int opt_level;            /* -1: not given (2) */
    bool check_finite;        /* --check-finite: a non-finite loss stops training with an error */
    PassPrune prune;          /* --prune SPEC, applied to a MODEL.json before it is compiled */
    bool mpi;                 /* --mpi: data-parallel across the MPI ranks (dist set) */
    CliDist dist;             /* rank 0 of 1 without --mpi */
} TrainArgs;

#define MAX_EPOCHS 1000000
#define MAX_BATCH ((int64_t)1 << 30)
#define EVAL_BATCH 1000       /* examples per inference call when evaluating (at least --batch) */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- arguments ------------------------------------------------------------------------------ */

static int parse_count(const char *opt, const char *v, int64_t lo, int64_t hi, const char *what, int64_t *out)
{
    if (!v)
        return CLI_EUSAGE;
    if (!cli_parse_int(v, lo, hi, out))
        return cli_usage_error("train", "%s expects %s, got \"%s\"", opt, what, v);
    return CLI_OK;
}

static int parse_args(int argc, char **argv, TrainArgs *o)
{
    static const char *const known[] = {"--data", "--eval-data", "--no-eval", "--epochs", "--batch", "--lr",
                                        "--save", "--load", "--threads", "--seed", "--limit", "--drop-last", "-O",
                                        "--mpi", "--prune", "--check-finite", "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "train", argc, argv);
    const char *v;
    int64_t k;
    int rc;
    while (cli_next(&a)) {
        if (cli_flag(&a, "--no-eval")) {
            o->no_eval = true;
        } else if (cli_flag(&a, "--check-finite")) {
            o->check_finite = true;
        } else if (cli_flag(&a, "--drop-last")) {
            o->drop_last = true;
        } else if (cli_flag(&a, "--mpi")) {
            if (!cli_dist_built())
                return cli_usage_error("train", "--mpi: this sinter was built without MPI (Debian: install "
                                       "libopenmpi-dev and build it again)");
            o->mpi = true;
        } else if (cli_option(&a, "--data", "fmnist, an IDX directory or FILE,FILE (or NAME=FILE,...)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->data_text = v;
        } else if (cli_option(&a, "--eval-data", "fmnist, an IDX directory or FILE,FILE (or NAME=FILE,...)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->eval_text = v;
        } else if (cli_option(&a, "--epochs", "a number of epochs", &v)) {
            if ((rc = parse_count("--epochs", v, 0, MAX_EPOCHS, "a number of epochs (0 or more)", &o->epochs)))
                return rc;
            o->have_epochs = true;
        } else if (cli_option(&a, "--batch", "a batch size", &v)) {
            if ((rc = parse_count("--batch", v, 1, MAX_BATCH, "a batch size (1 or more)", &o->batch)))
                return rc;
        } else if (cli_option(&a, "--limit", "a number of examples", &v)) {
            if ((rc = parse_count("--limit", v, 1, INT64_MAX, "a number of examples (1 or more)", &o->limit)))
                return rc;
        } else if (cli_option(&a, "--threads", "a thread count", &v)) {
            if ((rc = parse_count("--threads", v, 1, 4096, "a thread count (1 to 4096)", &k)))
                return rc;
            o->threads = (int)k;
        } else if (cli_option(&a, "--seed", "an integer", &v)) {
            if ((rc = parse_count("--seed", v, 0, INT64_MAX, "a non-negative integer", &k)))
                return rc;
            o->seed = (uint64_t)k;
        } else if (cli_option(&a, "-O", "an optimization level 0..3", &v)) {
            if ((rc = parse_count("-O", v, 0, 3, "an optimization level 0..3", &k)))
                return rc;
            o->opt_level = (int)k;
        } else if (cli_option(&a, "--lr", "a learning rate", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char *end;
            o->lr = strtod(v, &end);
            if (end == v || *end || !(o->lr >= 0) || !isfinite(o->lr) || (float)o->lr > 1e30f)
                return cli_usage_error("train", "--lr expects a learning rate (a number, 0 or more), got \"%s\"", v);
            o->have_lr = true;
        } else if (cli_option(&a, "--prune", "magnitude:S, global-magnitude:S, channels:S or N:M", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char err[256];
            if (pass_prune_parse(v, &o->prune, err, sizeof err) != 0)
                return cli_usage_error("train", "--prune %s", err);
        } else if (cli_option(&a, "--save", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->save = v;
        } else if (cli_option(&a, "--load", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->load = v;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("train", "expects one model, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("train", "expects a MODEL.json or LIB.so");
    o->lib = cli_is_library(o->model);
    if (!o->data_text)
        return cli_usage_error("train", "expects --data (fmnist, an IDX directory or FILE,FILE)");
    if (!o->have_epochs)
        return cli_usage_error("train", "expects --epochs E (passes over the training data)");
    if (!o->batch && o->epochs > 0)
        return cli_usage_error("train", "expects --batch B (examples per training step)");
    if (o->epochs == 0 && o->no_eval && !o->save)
        return cli_usage_error("train", "--epochs 0 only evaluates (and saves with --save), and --no-eval leaves "
                               "nothing to do");
    if (o->no_eval && o->eval_text)
        return cli_usage_error("train", "--no-eval and --eval-data exclude each other");
    if (o->lib && o->check_finite)
        return cli_usage_error("train", "--check-finite applies when a MODEL.json is compiled; %s is compiled "
                               "already (compile it with --check-finite)", o->model);
    if (o->lib && o->opt_level >= 0)
        return cli_usage_error("train", "-O applies when a MODEL.json is compiled; %s is compiled already", o->model);
    if (o->lib && o->prune.kind != PASS_PRUNE_NONE)
        return cli_usage_error("train", "--prune applies when a MODEL.json is compiled; %s is compiled already",
                               o->model);
    if (o->save && !cli_has_suffix(o->save, ".safetensors"))
        return cli_usage_error("train", "--save expects a .safetensors file, got \"%s\"", o->save);
    char err[256];
    if (cli_data_parse_spec(o->data_text, &o->data, err, sizeof err) != 0)
        return cli_usage_error("train", "--data %s", err);
    if (o->eval_text && cli_data_parse_spec(o->eval_text, &o->eval, err, sizeof err) != 0)
        return cli_usage_error("train", "--eval-data %s", err);
    return CLI_OK;
}

/* ---- the training entry points ------------------------------------------------------------- */

/* What sinter train calls besides inference; taken from the descriptor. */
typedef struct TrainEntries {
    int64_t ntrain_inputs;
    const SinterTensorInfo *train_inputs;   /* labels etc., after the graph inputs in train_step's args */
    int (*train_step)(void *m, int64_t n, void *const *args, float *loss);
    int (*grad)(void *m, int64_t n, void *const *args, float *loss);   /* --mpi: grad, allreduce, apply */
    int (*apply)(void *m);
    float *(*grads)(void *m, size_t *count);
    int (*set_lr)(void *m, float lr);
    int64_t (*get_step)(const void *m);
    int64_t max_n;                          /* largest n train_step accepts */
} TrainEntries;

/* Fills e from info; false if the library has no training entry points. */
static bool find_entries(const SinterModelInfo *info, TrainEntries *e)
{
    memset(e, 0, sizeof *e);
    if (!(info->flags & SINTER_MODEL_TRAINING) || !info->train_step || !info->set_lr || !info->get_step ||
        info->ntraining_inputs < 0 || info->ntraining_inputs > 4096 ||
        (info->ntraining_inputs > 0 && !info->training_inputs) || info->train_max_n < 1)
        return false;
    for (int64_t i = 0; i < info->ntraining_inputs; i++) {
        const SinterTensorInfo *t = &info->training_inputs[i];
        if (!t->name || t->dtype < 0 || t->dtype >= SRT_BF16 || t->rank < 0 || t->rank > SRT_MAX_RANK)
            return false;
    }
    e->ntrain_inputs = info->ntraining_inputs;
    e->train_inputs = info->training_inputs;
    e->train_step = info->train_step;
    e->grad = info->grad;
    e->apply = info->apply;
    e->grads = info->grads;
    e->set_lr = info->set_lr;
    e->get_step = info->get_step;
    e->max_n = info->train_max_n;
    return true;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

/* How the per-epoch evaluation scores the model's outputs against the training inputs. */
typedef enum EvalKind {
    EVAL_NONE,
    EVAL_CLASSES,   /* an output [N,C] of scores and int labels [N]: accuracy and cross-entropy */
    EVAL_MSE        /* a float target shaped like an output: mean squared error */
} EvalKind;

typedef struct Eval {
    EvalKind kind;
    int out;            /* the scored output (descriptor index); the target is the one training input */
    int64_t classes;    /* EVAL_CLASSES: C */
    bool know_loss;     /* the model's loss node is known (a MODEL.json; a library does not describe it) */
    bool has_ignore;    /* EVAL_CLASSES: labels equal to ignore_index are not scored (the model's loss says) */
    int64_t ignore;
} Eval;

static bool is_n_dim(SinterDim d)
{
    return d.a == 1 && d.b == 0;
}

static bool same_decl(const SinterTensorInfo *x, const SinterTensorInfo *y)
{
    if (x->rank != y->rank)
        return false;
    for (int64_t k = 0; k < x->rank; k++)
        if (x->dims[k].a != y->dims[k].a || x->dims[k].b != y->dims[k].b)
            return false;
    return true;
}

/* Decides what to evaluate. g (a MODEL.json's graph, or NULL for a library) says which output the
 * loss scores and its ignore_index. */
static Eval choose_eval(const SinterModelInfo *info, const TrainEntries *e, const IrGraph *g)
{
    Eval ev;
    memset(&ev, 0, sizeof ev);
    if (e->ntrain_inputs != 1)
        return ev;
    const SinterTensorInfo *t = &e->train_inputs[0];
    int preferred = -1;
    const IrNode *loss = g && g->training ? g->training->loss : NULL;
    for (int i = 0; loss && loss->nin > 0 && i < g->noutputs; i++)
        if (g->outputs[i] == loss->in[0])
            preferred = i;
    bool int_labels = t->dtype == SRT_I64 || t->dtype == SRT_I32 || t->dtype == SRT_I8 || t->dtype == SRT_U8;
    for (int pass = 0; pass < 2 && ev.kind == EVAL_NONE; pass++) {
        for (int i = 0; i < info->noutputs && ev.kind == EVAL_NONE; i++) {
            if (pass == 0 && preferred >= 0 && i != preferred)
                continue;
            const SinterTensorInfo *o = &info->outputs[i];
            if (o->dtype != SRT_F32)
                continue;
            if (int_labels && t->rank == 1 && is_n_dim(t->dims[0]) && o->rank == 2 && is_n_dim(o->dims[0]) &&
                o->dims[1].a == 0 && o->dims[1].b >= 2) {
                ev.kind = EVAL_CLASSES;
                ev.classes = o->dims[1].b;
                ev.out = i;
            } else if (t->dtype == SRT_F32 && same_decl(o, t)) {
                ev.kind = EVAL_MSE;
                ev.out = i;
            }
        }
    }
    ev.know_loss = loss != NULL;
    if (ev.kind == EVAL_CLASSES && loss && loss->op == IR_OP_SCELOSS) {
        const IrAttr *ig = ir_attr_get(loss, "ignore_index");
        if (ig) {
            ev.has_ignore = true;
            ev.ignore = ir_attr_int(loss, "ignore_index");
        }
    }
    return ev;
}

static int64_t label_at(const SrtTensor *t, int64_t i)
{
    switch (t->dtype) {
    case SRT_I64: return ((const int64_t *)t->data)[i];
    case SRT_I32: return ((const int32_t *)t->data)[i];
    case SRT_I8: return ((const int8_t *)t->data)[i];
    default: return ((const uint8_t *)t->data)[i];
    }
}

/* Every label of a classifier is a class (or the loss's ignore_index), checked before training so the
 * message names the file (the library checks each batch too). A library does not say its loss's
 * ignore_index: negative labels are left to its own check. */
static int check_labels(const Eval *ev, const CliColumn *c, const char *model, const char *out_name, IrDiag *d)
{
    for (int64_t i = 0; i < c->t.dims[0]; i++) {
        int64_t y = label_at(&c->t, i);
        if (y < 0 && !ev->know_loss)
            continue;
        if ((y < 0 || y >= ev->classes) && !(ev->has_ignore && y == ev->ignore)) {
            ir_diag_error(d, c->file, "label %lld (example %lld) is not a class: %s's output \"%s\" scores %lld "
                          "classes, 0 to %lld%s", (long long)y, (long long)i, model, out_name,
                          (long long)ev->classes, (long long)ev->classes - 1,
                          ev->has_ignore ? " (or the loss's ignore_index)" : "");
            return -1;
        }
    }
    return 0;
}

/* Results of one evaluation pass. */
typedef struct EvalResult {
    int64_t examples;   /* scored (labels equal to ignore_index are not) */
    int64_t correct;    /* EVAL_CLASSES */
    double loss;        /* mean cross-entropy per example, or mean squared error per element */
} EvalResult;

/* ---- batches ----------------------------------------------------------------------------------- */

/* One buffer per bound tensor (graph inputs, then training inputs), batch rows each. */
typedef struct Batch {
    int nslots;
    const CliDataset *ds;
    const int *col_of;
    void **buf;        /* nslots buffers */
} Batch;

static void batch_free(Batch *b)
{
    for (int i = 0; b->buf && i < b->nslots; i++)
        free(b->buf[i]);
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static int batch_alloc(Batch *b, const CliDataset *ds, const int *col_of, int nslots, int64_t rows, IrDiag *d)
{
    memset(b, 0, sizeof *b);
    b->nslots = nslots;
    b->ds = ds;
    b->col_of = col_of;
    b->buf = srt_calloc((size_t)nslots + 1, sizeof *b->buf);
    for (int i = 0; b->buf && i < nslots; i++) {
        size_t rb = ds->cols[col_of[i]].row_bytes;
        if (!(b->buf[i] = srt_malloc(rb * (size_t)rows + 1))) {
            batch_free(b);
            break;
        }
    }
    if (!b->buf) {
        ir_diag_error(d, NULL, "out of memory for a batch of %lld examples", (long long)rows);
        return -1;
    }
    return 0;
}

/* Copies examples order[0..n) of the dataset into the batch buffers. */
static void batch_fill(Batch *b, const int64_t *order, int64_t n)
{
    for (int i = 0; i < b->nslots; i++) {
        const CliColumn *c = &b->ds->cols[b->col_of[i]];
        size_t rb = c->row_bytes;
        const uint8_t *src = c->t.data;
        uint8_t *dst = b->buf[i];
        for (int64_t r = 0; r < n; r++)
            memcpy(dst + (size_t)r * rb, src + (size_t)order[r] * rb, rb);
    }
}

/* Runs inference over the whole dataset and scores it. */
static int evaluate(CliNative *x, const Eval *ev, const CliDataset *ds, const int *col_of, int64_t eval_n,
                    EvalResult *res, IrDiag *d)
{
    const SinterModelInfo *info = x->info;
    int nin = (int)info->ninputs;
    memset(res, 0, sizeof *res);
    Batch b;
    if (batch_alloc(&b, ds, col_of, nin + 1, eval_n, d) != 0)
        return -1;
    int64_t *order = srt_malloc((size_t)eval_n * sizeof *order);
    void **args = srt_calloc((size_t)(nin + info->noutputs) + 1, sizeof *args);
    void **outs = srt_calloc((size_t)info->noutputs + 1, sizeof *outs);
    int rc = order && args && outs ? 0 : -1;
    if (rc != 0)
        ir_diag_error(d, NULL, "out of memory");
    for (int i = 0; rc == 0 && i < info->noutputs; i++) {
        int64_t dims[SRT_MAX_RANK], bytes;
        const SinterTensorInfo *t = &info->outputs[i];
        if (!cli_native_dims(t, eval_n, dims) || __builtin_mul_overflow(t->bytes.a, eval_n, &bytes) ||
            !(outs[i] = srt_malloc((size_t)(bytes + t->bytes.b) + 1))) {
            ir_diag_error(d, NULL, "out of memory for output \"%s\" at N=%lld", t->name, (long long)eval_n);
            rc = -1;
        }
    }
    double loss_sum = 0;
    int64_t elems = 0;
    const CliColumn *target = &ds->cols[col_of[nin]];
    for (int64_t start = 0; rc == 0 && start < ds->count; start += eval_n) {
        int64_t n = ds->count - start < eval_n ? ds->count - start : eval_n;
        for (int64_t r = 0; r < n; r++)
            order[r] = start + r;
        batch_fill(&b, order, n);
        for (int i = 0; i < nin; i++)
            args[i] = b.buf[i];
        for (int i = 0; i < info->noutputs; i++)
            args[nin + i] = outs[i];
        if ((rc = cli_native_infer(x, n, args, d)) != 0)
            break;
        const float *o = outs[ev->out];
        if (ev->kind == EVAL_CLASSES) {
            int64_t c = ev->classes;
            for (int64_t r = 0; r < n; r++) {
                int64_t y = label_at(&target->t, start + r);
                if (y < 0 || y >= c)
                    continue;   /* ignore_index */
                const float *row = o + r * c;
                int64_t best = 0;
                double mx = row[0];
                for (int64_t j = 1; j < c; j++)
                    if (row[j] > mx || (isnan(row[j]) && !isnan(mx))) {
                        mx = row[j];
                        best = j;
                    }
                double se = 0;
                for (int64_t j = 0; j < c; j++)
                    se += exp((double)row[j] - mx);
                loss_sum += log(se) + mx - (double)row[y];
                res->correct += best == y && !isnan(mx);
                res->examples++;
            }
        } else {
            const float *t = (const float *)target->t.data + (size_t)start * (target->row_bytes / sizeof(float));
            int64_t m = n * (int64_t)(target->row_bytes / sizeof(float));
            for (int64_t k = 0; k < m; k++) {
                double diff = (double)o[k] - (double)t[k];
                loss_sum += diff * diff;
            }
            elems += m;
            res->examples += n;
        }
    }
    if (rc == 0)
        res->loss = ev->kind == EVAL_CLASSES ? (res->examples ? loss_sum / (double)res->examples : NAN)
                                             : (elems ? loss_sum / (double)elems : NAN);
    for (int i = 0; outs && i < info->noutputs; i++)
        free(outs[i]);
    free(outs);
    free(args);
    free(order);
    batch_free(&b);
    return rc;
}

static void print_eval(const Eval *ev, const EvalResult *r)
{
    if (ev->kind == EVAL_CLASSES)
        printf("test accuracy %.2f%% (%lld/%lld), test loss %.4f\n",
               r->examples ? 100.0 * (double)r->correct / (double)r->examples : 0.0, (long long)r->correct,
               (long long)r->examples, r->loss);
    else
        printf("test MSE %.6g (%lld examples)\n", r->loss, (long long)r->examples);
}

/* ---- progress ---------------------------------------------------------------------------------- */

/* The progress line on stderr: rewritten in place on a terminal (at most 10 times a second),
 * else one line per tenth of an epoch. */
typedef struct Progress {
    bool quiet;           /* nothing (MPI ranks other than 0) */
    bool tty;
    double last;          /* time of the last terminal update */
    int width;            /* characters of the line on the terminal */
} Progress;

/* Seconds as "1:02:03" or "2:03" (rounded up to whole seconds). */
static void format_eta(char *buf, size_t len, double seconds)
{
    long long t = seconds > 0 ? (long long)ceil(seconds) : 0;
    if (t >= 3600)
        snprintf(buf, len, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%lld:%02lld", t / 60, t % 60);
}

/* step of steps done in this epoch (samples examples), since t0; the ETA counts the training
 * steps left in all epochs at this epoch's rate (evaluation not included). */
static void progress_step(Progress *p, int64_t epoch, int64_t epochs, int64_t step, int64_t steps, int64_t samples,
                          double t0, double loss_mean)
{
    double now = now_seconds();
    bool last = step == steps;
    if (p->quiet)
        return;
    if (p->tty ? (now - p->last < 0.1 && !last) : (!last && step % ((steps + 9) / 10) != 0))
        return;
    double rate = now > t0 ? (double)step / (now - t0) : 0;
    double srate = now > t0 ? (double)samples / (now - t0) : 0;
    char line[200], eta[32];
    int64_t left = (epochs - epoch) * steps + (steps - step);
    if (rate > 0)
        format_eta(eta, sizeof eta, (double)left / rate);
    else
        snprintf(eta, sizeof eta, "?");
    int len = snprintf(line, sizeof line, "epoch %lld/%lld  step %lld/%lld  %.1f steps/s  %.0f samples/s  ETA %s  "
                       "loss %.4f", (long long)epoch, (long long)epochs, (long long)step, (long long)steps, rate, srate,
                       eta, loss_mean);
    if (p->tty) {
        fprintf(stderr, "\r%s%*s", line, p->width > len ? p->width - len : 0, "");
        p->width = len;
        p->last = now;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

static void progress_end(Progress *p)
{
    if (p->tty && p->width > 0)
        fprintf(stderr, "\r%*s\r", p->width, "");
    p->width = 0;
}

/* ---- data-parallel steps (--mpi) ----------------------------------------------------------------- */

/* One step on the global batch order[0..n) across the ranks: rank r takes its contiguous share
 * (n / size examples, one more for the first n % size ranks), computes the gradients of its
 * share's mean loss, scales them by share / n, and the sum over the ranks (MPI_Allreduce) is
 * the gradient of the global batch's mean loss; every rank then applies the same update, so the
 * params stay identical. *loss: the global batch's loss, weighted the same way. Returns a
 * SINTER_* status of the library, or -1 after a diagnostic for an MPI failure. */
static int mpi_step(CliNative *x, const TrainEntries *e, Batch *b, const CliDist *w, const int64_t *order, int64_t n,
                    float *loss, IrDiag *d)
{
    int64_t share = n / w->size, extra = n % w->size;
    int64_t mine = share + (w->rank < extra), start = w->rank * share + (w->rank < extra ? w->rank : extra);
    size_t count = 0;
    float *g = e->grads(x->m, &count);
    if (!g && count) {
        ir_diag_error(d, NULL, "the library returned no gradient buffer");
        return -1;
    }
    float local = 0;
    int rc = SINTER_OK;
    if (mine > 0) {
        batch_fill(b, order + start, mine);
        void **args = b->buf;
        if ((rc = e->grad(x->m, mine, (void *const *)args, &local)) != SINTER_OK)
            return rc;
    } else {
        memset(g, 0, count * sizeof *g);   /* a global batch smaller than the ranks: nothing from this one */
    }
    float scale = (float)((double)mine / (double)n);
    for (size_t i = 0; i < count; i++)
        g[i] *= scale;
    double weighted = (double)local * (double)mine / (double)n;
    if (cli_dist_sum_floats(g, count) != 0 || cli_dist_sum_double(&weighted) != 0) {
        ir_diag_error(d, NULL, "MPI_Allreduce of the gradients failed");
        return -1;
    }
    *loss = (float)weighted;
    return e->apply(x->m);
}

/* ---- the run ------------------------------------------------------------------------------------ */

/* splitmix64: the shuffle's generator (deterministic across machines). */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* order = a permutation of 0..count-1 determined by (seed, epoch): Fisher-Yates. */
static void shuffle(int64_t *order, int64_t count, uint64_t seed, int64_t epoch)
{
    uint64_t s = seed * 0x100000001b3ull ^ (uint64_t)epoch * 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < count; i++)
        order[i] = i;
    for (int64_t i = count - 1; i > 0; i--) {
        int64_t j = (int64_t)(splitmix64(&s) % (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" or "x=x.npy, y=y.npy" */
static void describe_files(const CliDataset *ds, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < ds->ncols && o < len; i++) {
        const char *f = ds->cols[i].file, *slash = strrchr(f, '/');
        if (ds->cols[i].name)
            o += (size_t)snprintf(buf + o, len - o, "%s%s=%s", i ? ", " : "", ds->cols[i].name, f);
        else
            o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", slash ? slash + 1 : f);
    }
}

static int call_failed(CliNative *x, int rc, const char *what, IrDiag *d)
{
    const char *msg = x->info->error(x->m);
    ir_diag_error(d, NULL, "%s: %s: %s", what, srt_status_name(rc), msg && *msg ? msg : "no message");
    return -1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* NAME_save (atomic replace): params, optimizer state, step counter. */
static int save_checkpoint(CliNative *x, const char *path, IrDiag *d)
{
    int rc = x->info->save(x->m, path);
    if (rc == SINTER_OK)
        return 0;
    const char *msg = x->info->error(x->m);
    ir_diag_error(d, path, "cannot save the checkpoint: %s: %s", srt_status_name(rc), msg && *msg ? msg : "no message");
    return -1;
}

/* Everything after argument parsing and loading the data. */
static int train(TrainArgs *o, CliDataset *train_ds, CliDataset *eval_ds, bool have_eval)
{
    CliNative x;
    memset(&x, 0, sizeof x);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = NULL;
    int status = CLI_EINPUT;
    int *col_of = NULL, *eval_col_of = NULL;
    int64_t *order = NULL;
    double *step_times = NULL;   /* seconds of each full-batch step of an epoch */
    void **args = NULL;
    Batch b;
    memset(&b, 0, sizeof b);
    char buf[512], cnt[32];

    if (o->lib) {
        if (cli_native_open(&x, o->model, &d) != 0)
            goto fail;
    } else {
        if (!(g = cli_load_model(o->model))) {
            ir_diag_free(&d);
            return CLI_EINPUT;
        }
        if (!g->training) {
            ir_diag_error(&d, o->model, "the model has no \"training\" section (training inputs, loss and "
                          "optimizer); sinter train needs one");
            goto fail;
        }
        d.file = o->model;
        PassContext pc;
        pass_context_init(&pc, &d);
        pc.prune = o->prune;
        if (o->prune.kind != PASS_PRUNE_NONE && o->load) {
            /* prune the loaded params (the optimizer state of a checkpoint no longer fits: it starts fresh) */
            if (fe_apply_weights(g, o->load, &d) != 0)
                goto fail;
            o->load = NULL;
        }
        if (pass_compress(g, &pc) != 0)
            goto fail;
        if (cli_native_compile(&x, g, o->opt_level < 0 ? 2 : o->opt_level, true, o->check_finite, &d) != 0)
            goto fail;
        d.file = NULL;
    }
    const SinterModelInfo *info = x.info;
    TrainEntries e;
    if (!find_entries(info, &e)) {
        if (o->lib)
            ir_diag_error(&d, o->model, "the library has no training entry points: its model has no \"training\" "
                          "section (training inputs, loss and optimizer); add one and compile it again");
        else
            ir_diag_error(&d, o->model, "this build of sinter compiled the model without training entry points "
                          "(it cannot generate the training step yet)");
        goto fail;
    }
    if (o->mpi && (!e.grad || !e.apply || !e.grads)) {
        ir_diag_error(&d, o->model, "--mpi: the library has no grad/apply/grads entry points");
        goto fail;
    }
    if (o->batch > e.max_n) {
        status = cli_usage_error("train", "--batch %lld is larger than %s's training step accepts (at most %lld)",
                                 (long long)o->batch, info->name, (long long)e.max_n);
        goto done;
    }
    int threads = o->threads ? o->threads : srt_default_threads();
    if ((info->flags & SINTER_MODEL_EXTERNAL_WEIGHTS) && info->nparams > 0 && !o->load) {
        ir_diag_error(&d, o->model, "the library was built with --external-weights: give its params with --load "
                      "FILE.safetensors");
        goto fail;
    }
    d.file = o->load;
    if (cli_native_prepare(&x, o->threads, o->load, &d) != 0)
        goto fail;
    d.file = NULL;
    int rc;
    if (o->have_lr && (rc = e.set_lr(x.m, (float)o->lr)) != SINTER_OK) {
        call_failed(&x, rc, "setting the learning rate", &d);
        goto fail;
    }

    /* bind the data: graph inputs, then training inputs */
    int nin = (int)info->ninputs, nslots = nin + (int)e.ntrain_inputs;
    const SinterTensorInfo **ts = srt_calloc((size_t)nslots + 1, sizeof *ts);
    col_of = srt_calloc((size_t)nslots + 1, sizeof *col_of);
    eval_col_of = srt_calloc((size_t)nslots + 1, sizeof *eval_col_of);
    if (!ts || !col_of || !eval_col_of) {
        free(ts);
        ir_diag_error(&d, NULL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nin; i++)
        ts[i] = &info->inputs[i];
    for (int i = 0; i < e.ntrain_inputs; i++)
        ts[nin + i] = &e.train_inputs[i];
    bool training = o->epochs > 0;   /* else only evaluate: the training data is not read */
    rc = training ? cli_data_bind(train_ds, ts, nslots, nin, info->name, "--data", col_of, &d) : 0;
    if (rc == 0 && have_eval)
        rc = cli_data_bind(eval_ds, ts, nslots, nin, info->name, "--eval-data", eval_col_of, &d);
    free(ts);
    if (rc != 0)
        goto fail;
    Eval ev = choose_eval(info, &e, g);
    const char *out_name = info->noutputs ? info->outputs[ev.out].name : "";
    if (ev.kind == EVAL_CLASSES &&   /* then the labels are the one training input, slot nin */
        ((training && check_labels(&ev, &train_ds->cols[col_of[nin]], info->name, out_name, &d) != 0) ||
         (have_eval && check_labels(&ev, &eval_ds->cols[eval_col_of[nin]], info->name, out_name, &d) != 0)))
        goto fail;
    if (training && train_ds->count == 0) {
        ir_diag_error(&d, train_ds->cols[0].file, "holds no examples");
        goto fail;
    }

    /* the plan */
    int64_t count = train_ds->count, batch = o->batch ? o->batch : 1;
    int64_t steps = o->drop_last ? count / batch : (count + batch - 1) / batch;
    int64_t rest = count % batch;
    if (steps == 0 && o->epochs > 0) {
        status = cli_usage_error("train", "--drop-last with --batch %lld leaves no step: the data holds %lld "
                                 "examples", (long long)o->batch, (long long)count);
        goto done;
    }
    if (o->lib)
        printf("%s: %s, %d thread%s\n", info->name, o->model, threads, threads == 1 ? "" : "s");
    else
        printf("%s: compiled in memory (-O%d, %.2f s), %d thread%s\n", info->name, o->opt_level < 0 ? 2 : o->opt_level,
               x.compile_seconds, threads, threads == 1 ? "" : "s");
    int64_t step0 = e.get_step(x.m);
    if (o->load)
        printf("loaded %s (step %lld)\n", o->load, (long long)step0);
    if (training) {
        describe_files(train_ds, buf, sizeof buf);
        printf("training data: %s examples (%s)\n", cli_fmt_count(count, cnt, sizeof cnt), buf);
    }
    if (have_eval) {
        describe_files(eval_ds, buf, sizeof buf);
        printf("test data: %s examples (%s)\n", cli_fmt_count(eval_ds->count, cnt, sizeof cnt), buf);
    }
    if (o->epochs > 0) {
        printf("%lld epoch%s of %lld steps, batch %lld", (long long)o->epochs, o->epochs == 1 ? "" : "s",
               (long long)steps, (long long)o->batch);
        if (rest && !o->drop_last)
            printf(" (the last step of an epoch trains on the %lld remaining examples)", (long long)rest);
        else if (rest)
            printf(" (--drop-last: %lld examples left out of each epoch)", (long long)rest);
        if (o->have_lr)
            printf(", lr %g", o->lr);
        printf(", shuffle seed %llu\n", (unsigned long long)o->seed);
        if (o->mpi)
            printf("data-parallel on %d MPI rank%s: each takes its contiguous share of every batch; gradients "
                   "averaged by MPI_Allreduce; rank 0 evaluates and saves\n", o->dist.size,
                   o->dist.size == 1 ? "" : "s");
    }
    fflush(stdout);

    int64_t eval_n = o->batch > EVAL_BATCH ? o->batch : EVAL_BATCH;
    if (have_eval && eval_n > eval_ds->count)
        eval_n = eval_ds->count > 0 ? eval_ds->count : 1;
    if (eval_n > info->max_n)
        eval_n = info->max_n;
    bool evaluating = have_eval && ev.kind != EVAL_NONE && eval_ds->count > 0;
    if (!have_eval && !o->no_eval)
        printf("no test data: the epochs are not evaluated (--eval-data gives test data)\n");
    if (have_eval && ev.kind == EVAL_NONE)
        printf("no evaluation: the model is neither a classifier (an output [N,C] and integer labels [N]) nor a "
               "regression (a float target shaped like an output)\n");
    EvalResult er;
    if (evaluating) {
        if (evaluate(&x, &ev, eval_ds, eval_col_of, eval_n, &er, &d) != 0)
            goto fail;
        printf("%s: ", o->load ? "loaded" : "before training");
        print_eval(&ev, &er);
    }

    /* train */
    if (training) {
        order = srt_malloc((size_t)count * sizeof *order);
        args = srt_calloc((size_t)nslots + 1, sizeof *args);
        step_times = srt_malloc((size_t)steps * sizeof *step_times);
        if (!order || !args || !step_times || batch_alloc(&b, train_ds, col_of, nslots, batch, &d) != 0) {
            if (d.count == 0)
                ir_diag_error(&d, NULL, "out of memory");
            goto fail;
        }
        for (int i = 0; i < nslots; i++)
            args[i] = b.buf[i];
    }
    Progress p;
    memset(&p, 0, sizeof p);
    p.tty = isatty(2);
    p.quiet = o->dist.rank != 0;
    int64_t epoch0 = steps > 0 ? step0 / steps : 0;   /* shuffles continue where a loaded checkpoint stopped */
    double train_seconds = 0;
    for (int64_t ep = 1; ep <= o->epochs; ep++) {
        shuffle(order, count, o->seed, epoch0 + ep - 1);
        double t0 = now_seconds(), loss_sum = 0;
        int64_t timed = 0, samples = 0;
        for (int64_t s = 0; s < steps; s++) {
            int64_t n = s == steps - 1 && rest && !o->drop_last ? rest : batch;
            float loss = 0;
            double t_step = now_seconds();
            if (o->mpi) {
                rc = mpi_step(&x, &e, &b, &o->dist, order + s * batch, n, &loss, &d);
            } else {
                batch_fill(&b, order + s * batch, n);
                rc = e.train_step(x.m, n, args, &loss);
            }
            if (rc != SINTER_OK) {
                progress_end(&p);
                snprintf(buf, sizeof buf, "training step %lld of epoch %lld failed", (long long)s + 1,
                         (long long)ep);
                if (rc > 0)
                    call_failed(&x, rc, buf, &d);
                goto fail;
            }
            if (n == batch)
                step_times[timed++] = now_seconds() - t_step;
            if (!isfinite(loss)) {
                progress_end(&p);
                ir_diag_error(&d, o->model, "training diverged: the loss is %g at step %lld of epoch %lld; try a "
                              "smaller --lr", (double)loss, (long long)s + 1, (long long)ep);
                goto fail;
            }
            loss_sum += loss;
            samples += n;
            progress_step(&p, ep, o->epochs, s + 1, steps, samples, t0, loss_sum / (double)(s + 1));
        }
        double secs = now_seconds() - t0;
        train_seconds += secs;
        progress_end(&p);
        qsort(step_times, (size_t)timed, sizeof *step_times, cmp_double);
        printf("epoch %lld/%lld: train loss %.4f, %lld steps in %.2f s (%.1f steps/s, %.0f samples/s, median step "
               "%.3f ms)", (long long)ep, (long long)o->epochs, loss_sum / (double)steps, (long long)steps, secs,
               (double)steps / secs, (double)samples / secs, timed ? 1e3 * step_times[timed / 2] : 0.0);
        if (evaluating) {
            if (evaluate(&x, &ev, eval_ds, eval_col_of, eval_n, &er, &d) != 0) {
                printf("\n");
                goto fail;
            }
            printf("; ");
            print_eval(&ev, &er);
        } else {
            printf("\n");
        }
        if (o->save && save_checkpoint(&x, o->save, &d) != 0)
            goto fail;
        fflush(stdout);
    }
    if (o->epochs > 0)
        printf("trained %lld epoch%s in %.2f s (step %lld)", (long long)o->epochs, o->epochs == 1 ? "" : "s",
               train_seconds, (long long)e.get_step(x.m));
    if (o->save && o->epochs == 0 && save_checkpoint(&x, o->save, &d) != 0)
        goto fail;
    if (o->save)
        printf("%ssaved params, optimizer state and step counter to %s", o->epochs > 0 ? "; " : "", o->save);
    if (o->save || o->epochs > 0)
        printf("\n");
    status = CLI_OK;
    goto done;
fail:
    status = cli_report(&d);
    if (o->dist.size > 1)
        cli_dist_abort(status);   /* the other ranks would wait for this one forever */
done:
    ir_diag_free(&d);
    batch_free(&b);
    free(args);
    free(order);
    free(step_times);
    free(col_of);
    free(eval_col_of);
    cli_native_close(&x);
    ir_graph_free(g);
    return status;
}

/* Loads the datasets, then trains. */
static int run_train(int argc, char **argv)
{
    TrainArgs o;
    memset(&o, 0, sizeof o);
    o.opt_level = -1;
    int status = parse_args(argc, argv, &o);
    if (status != CLI_OK) {
        cli_data_spec_free(&o.data);
        cli_data_spec_free(&o.eval);
        return status;
    }
    if (o.mpi) {
        char err[256];
        if (cli_dist_init(&o.dist, err, sizeof err) != 0) {
            cli_data_spec_free(&o.data);
            cli_data_spec_free(&o.eval);
            fprintf(stderr, "sinter train: --mpi: %s\n", err);
            return CLI_EINPUT;
        }
        if (o.dist.rank != 0) {
            /* rank 0 reports, evaluates and saves; the others train in silence */
            if (!freopen("/dev/null", "w", stdout))
                fprintf(stderr, "sinter train: rank %d: cannot silence stdout\n", o.dist.rank);
            o.no_eval = true;
            o.eval_text = NULL;
            o.save = NULL;
        }
    } else {
        o.dist.size = 1;
    }
    /* the test split of an IDX directory evaluates unless told otherwise */
    bool have_eval = !o.no_eval && (o.eval_text || (o.data.dir && cli_data_idx_present(o.data.dir, CLI_DATA_TEST)));
    const CliDataSpec *eval_spec = o.eval_text ? &o.eval : &o.data;
    if (!have_eval && o.epochs == 0 && !o.save && o.dist.rank == 0) {
        cli_data_spec_free(&o.data);
        if (o.mpi)
            cli_dist_finalize();
        return cli_usage_error("train", "--epochs 0 only evaluates (and saves with --save), but there is no test "
                               "data (give --eval-data)");
    }
    CliDataset train_ds, eval_ds;
    memset(&train_ds, 0, sizeof train_ds);
    memset(&eval_ds, 0, sizeof eval_ds);
    IrDiag d;
    ir_diag_init(&d, NULL);
    if ((o.epochs > 0 && cli_data_load(&o.data, CLI_DATA_TRAIN, o.limit, &train_ds, &d) != 0) ||
        (have_eval && cli_data_load(eval_spec, CLI_DATA_TEST, o.limit, &eval_ds, &d) != 0))
        status = cli_report(&d);
    else
        status = train(&o, &train_ds, &eval_ds, have_eval);
    ir_diag_free(&d);
    cli_data_free(&train_ds);
    cli_data_free(&eval_ds);
    cli_data_spec_free(&o.data);
    cli_data_spec_free(&o.eval);
    if (o.mpi)
        cli_dist_finalize();
    return status;
}

const CliVerb cli_verb_train = {
    "train", run_train,
    "usage: sinter train MODEL.json|LIB.so --data DATA --epochs E --batch B [--lr X]\n"
    "                    [--eval-data DATA | --no-eval] [--save FILE.safetensors] [--load FILE]\n"
    "                    [--threads T] [--seed S] [--limit K] [--drop-last] [-O0..3] [--prune SPEC]\n"
    "                    [--check-finite]"
#ifdef SINTER_HAVE_MPI
    " [--mpi]"
#endif
    "\n"
    "\n"
    "Trains a model with its compiled training step (forward, the loss and the optimizer of the\n"
    "model's \"training\" section, backward and update in one call), printing progress on stderr\n"
    "(step, steps/s, samples/s, the ETA of the training steps left, the mean loss) and, after\n"
    "every epoch, the mean training loss and an evaluation on the test data.\n"
    "  LIB.so       a library made by 'sinter compile' from a model with a training section\n"
    "  MODEL.json   compiled in memory for this machine (LLVM's ORC JIT); no file is written\n"
    "\n"
    "DATA is one of:\n"
    "  fmnist                 Fashion-MNIST from $SINTER_FMNIST_DIR or " CLI_DATA_FMNIST_DIR "\n"
    "                         (Debian's package dataset-fashion-mnist)\n"
    "  DIR                    a folder of IDX files: train-images-idx3-ubyte.gz and\n"
    "                         train-labels-idx1-ubyte.gz for training, t10k-... for testing\n"
    "  FILE,FILE,...          .npy or IDX files (gzip-compressed or not) for the graph inputs in\n"
    "                         declaration order, then the training inputs (labels)\n"
    "  NAME=FILE,NAME=FILE    the same, bound by tensor name\n"
    "Dim 0 of every file counts the examples; an example must have as many elements as the\n"
    "model's tensor (IDX images [K,28,28] feed [N,784] or [N,1,28,28]). IDX images become\n"
    "float32 scaled to [0, 1], IDX labels int64 (or the declared integer type); .npy files must\n"
    "have the declared dtype.\n"
    "\n"
    "  --data DATA        training data\n"
    "  --eval-data DATA   test data, evaluated after every epoch through the inference entry\n"
    "                     point (default: the t10k files when --data is an IDX directory);\n"
    "                     classifiers report accuracy and mean cross-entropy, models with a\n"
    "                     float target the mean squared error\n"
    "  --no-eval          no evaluation\n"
    "  --epochs E         passes over the training data; 0 only evaluates (a checkpoint given by\n"
    "                     --load, say) and writes --save\n"
    "  --batch B          examples per training step (the model's N)\n"
    "  --lr X             learning rate (default: the optimizer's lr in the model)\n"
    "  --save FILE        after every epoch, write params, optimizer state and step counter to\n"
    "                     a .safetensors file (atomic replace)\n"
    "  --load FILE        start from a .safetensors file: params only, or a checkpoint written by\n"
    "                     --save, which resumes exactly (optimizer state, step counter, and the\n"
    "                     shuffle continues with the next epoch)\n"
    "  --threads T        threads (default: SINTER_NUM_THREADS, else OMP_NUM_THREADS, else\n"
    "                     the CPUs this process may run on)\n"
    "  --seed S           seed of the shuffle (default 0); epoch e's order depends on S and e\n"
    "  --limit K          only the first K examples of the training and test data\n"
    "  --drop-last        leave out the last incomplete batch of every epoch (by default the\n"
    "                     last step trains on the remaining examples)\n"
    "  -O0 .. -O3         optimization level when compiling a MODEL.json (default -O2)\n"
    "  --prune SPEC       prune a MODEL.json first, as 'sinter compile --prune' does\n"
    "  --check-finite     a NaN/inf loss fails the step\n"
#ifdef SINTER_HAVE_MPI
    "  --mpi              data-parallel across the ranks of an MPI job (mpirun -np R sinter train\n"
    "                     ... --mpi): --batch stays the global batch, rank r trains on its\n"
    "                     contiguous share of it, the gradients are averaged with MPI_Allreduce\n"
    "                     before every update; rank 0 prints, evaluates and saves. Equals one\n"
    "                     process for losses with the mean reduction (BatchNormalization\n"
    "                     normalizes each share with its own statistics)\n"
#endif
    "\n"
    "Exit status: 0 success, 1 bad model, library or data file, or a failed or diverging\n"
    "training step (one line on stderr naming the file), 2 bad usage.\n",
    "train a model with its compiled training step, with per-epoch evaluation",
};

/* ---- sinter eval: the test-set evaluation on its own ---------------------------------------------- */

typedef struct EvalArgs {
    const char *model;
    bool lib;
    const char *data_text;
    CliDataSpec data;
    const char *weights;      /* --weights FILE.safetensors, or NULL */
    int64_t limit;            /* 0: all examples */
    int64_t batch;            /* examples per inference call; 0: EVAL_BATCH */
    bool json;
    int threads;
    int opt_level;            /* -1: not given (2) */
    CliQuant quantize;        /* --quantize KIND [--quantize-group G] [--calibrate DATA] of a MODEL.json */
} EvalArgs;

static int parse_eval_args(int argc, char **argv, EvalArgs *o)
{
    static const char *const known[] = {"--data", "--weights", "--limit", "--batch", "--json", "--threads", "-O",
                                        "--quantize", "--quantize-group",
                                        "--calibrate", "--calibrate-samples",
                                        "--quantize-report", "--quantize-tolerance", "--sparse", "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "eval", argc, argv);
    const char *v;
    int64_t k;
    int qr;
    while (cli_next(&a)) {
        if ((qr = cli_quantize_option(&a, &o->quantize)) != 0) {
            if (qr < 0)
                return CLI_EUSAGE;
        } else if (cli_flag(&a, "--json")) {
            o->json = true;
        } else if (cli_option(&a, "--data", "fmnist, an IDX directory or FILE,FILE (or NAME=FILE,...)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->data_text = v;
        } else if (cli_option(&a, "--weights", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->weights = v;
        } else if (cli_option(&a, "--limit", "a number of examples", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, INT64_MAX, &o->limit))
                return cli_usage_error("eval", "--limit expects a number of examples (1 or more), got \"%s\"", v);
        } else if (cli_option(&a, "--batch", "a batch size", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, MAX_BATCH, &o->batch))
                return cli_usage_error("eval", "--batch expects a batch size (1 or more), got \"%s\"", v);
        } else if (cli_option(&a, "--threads", "a thread count", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, 4096, &k))
                return cli_usage_error("eval", "--threads expects a thread count (1 to 4096), got \"%s\"", v);
            o->threads = (int)k;
        } else if (cli_option(&a, "-O", "an optimization level 0..3", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, 3, &k))
                return cli_usage_error("eval", "-O expects an optimization level 0..3, got \"%s\"", v);
            o->opt_level = (int)k;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("eval", "expects one model, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("eval", "expects a MODEL.json or LIB.so");
    o->lib = cli_has_suffix(o->model, ".so");
    if (!o->data_text)
        return cli_usage_error("eval", "expects --data (fmnist, an IDX directory or FILE,FILE)");
    if (o->lib && o->opt_level >= 0)
        return cli_usage_error("eval", "-O applies when a MODEL.json is compiled; %s is compiled already", o->model);
    if ((qr = cli_quantize_args("eval", &o->quantize)) != CLI_OK)
        return qr;
    if (o->lib && (o->quantize.pass.kind != PASS_QUANT_NONE || o->quantize.sparse))
        return cli_usage_error("eval", "%s applies when a MODEL.json is compiled; %s is compiled already",
                               o->quantize.sparse ? "--sparse" : "--quantize", o->model);
    if (o->weights && !cli_has_suffix(o->weights, ".safetensors"))
        return cli_usage_error("eval", "--weights expects a .safetensors file, got \"%s\"", o->weights);
    char err[256];
    if (cli_data_parse_spec(o->data_text, &o->data, err, sizeof err) != 0)
        return cli_usage_error("eval", "--data %s", err);
    return CLI_OK;
}

/* The descriptor entry of graph value id (a model's training input), for binding and scoring. */
static void value_info(const IrGraph *g, int id, SinterTensorInfo *t)
{
    const IrValue *v = g->values[id];
    memset(t, 0, sizeof *t);
    t->name = v->name;
    t->dtype = v->dtype;
    t->rank = v->shape.rank;
    for (int k = 0; k < v->shape.rank; k++)
        t->dims[k] = (SinterDim){v->shape.d[k].a, v->shape.d[k].b};
}

static void print_eval_json(const Eval *ev, const EvalResult *r, const char *model)
{
    char *name = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&name, &len);
    if (!m) {
        printf("{}\n");
        return;
    }
    /* the model path as a JSON string */
    fputc('"', m);
    for (const unsigned char *s = (const unsigned char *)model; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(m, "\\%c", *s);
        else if (*s < 0x20)
            fprintf(m, "\\u%04x", *s);
        else
            fputc(*s, m);
    }
    fputc('"', m);
    fclose(m);
    printf("{\"model\": %s, \"examples\": %lld, ", name ? name : "\"\"", (long long)r->examples);
    if (ev->kind == EVAL_CLASSES)
        printf("\"accuracy\": %.6f, \"correct\": %lld, \"loss\": %.6f}\n",
               r->examples ? (double)r->correct / (double)r->examples : 0.0, (long long)r->correct, r->loss);
    else
        printf("\"accuracy\": null, \"loss\": %.9g}\n", r->loss);
    free(name);
}

/* Opens or compiles the model, binds the data and scores it once. */
static int eval_model(EvalArgs *o, CliDataset *ds)
{
    CliNative x;
    memset(&x, 0, sizeof x);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g = NULL;
    int status = CLI_EINPUT;
    int *col_of = NULL;
    const SinterTensorInfo **ts = NULL;
    SinterTensorInfo *labels = NULL;
    SinterTensorInfo class_labels = {.name = "labels", .dtype = SRT_I64, .rank = 1, .dims = {{1, 0}}};
    TrainEntries e;
    memset(&e, 0, sizeof e);
    if (o->lib) {
        if (cli_native_open(&x, o->model, &d) != 0)
            goto fail;
        if (!find_entries(x.info, &e)) {
            /* an inference-only library (compile --quantize or --sparse builds no training step, a
             * model without a training section none either): scored as a classifier, with integer
             * labels [N] given after the inputs (named "labels" in NAME=FILE data) */
            memset(&e, 0, sizeof e);
            e.ntrain_inputs = 1;
            e.train_inputs = &class_labels;
        }
    } else {
        if (!(g = cli_load_model_weights(o->model, o->weights))) {
            ir_diag_free(&d);
            return CLI_EINPUT;
        }
        if (!g->training) {
            ir_diag_error(&d, o->model, "the model has no \"training\" section: sinter eval takes the labels from "
                          "its training inputs and the scored output from its loss");
            goto fail;
        }
        d.file = o->model;
        if (cli_quantize_model(g, &o->quantize, &d) != 0)
            goto fail;
        d.file = o->model;
        if (cli_native_compile(&x, g, o->opt_level < 0 ? 2 : o->opt_level, false, false, &d) != 0)
            goto fail;
        d.file = NULL;
        e.ntrain_inputs = g->training->ninputs;
        labels = srt_calloc((size_t)e.ntrain_inputs + 1, sizeof *labels);
        if (!labels) {
            ir_diag_error(&d, NULL, "out of memory");
            goto fail;
        }
        for (int i = 0; i < g->training->ninputs; i++)
            value_info(g, g->training->inputs[i], &labels[i]);
        e.train_inputs = labels;
    }
    const SinterModelInfo *info = x.info;
    if ((info->flags & SINTER_MODEL_EXTERNAL_WEIGHTS) && info->nparams > 0 && !o->weights) {
        ir_diag_error(&d, o->model, "the library was built with --external-weights: give its params with --weights "
                      "FILE.safetensors");
        goto fail;
    }
    d.file = o->lib ? o->weights : NULL;
    if (cli_native_prepare(&x, o->threads, o->lib ? o->weights : NULL, &d) != 0)
        goto fail;
    d.file = NULL;
    int nin = (int)info->ninputs, nslots = nin + (int)e.ntrain_inputs;
    ts = srt_calloc((size_t)nslots + 1, sizeof *ts);
    col_of = srt_calloc((size_t)nslots + 1, sizeof *col_of);
    if (!ts || !col_of) {
        ir_diag_error(&d, NULL, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nin; i++)
        ts[i] = &info->inputs[i];
    for (int i = 0; i < e.ntrain_inputs; i++)
        ts[nin + i] = &e.train_inputs[i];
    if (cli_data_bind(ds, ts, nslots, nin, info->name, "--data", col_of, &d) != 0)
        goto fail;
    Eval ev = choose_eval(info, &e, g);
    if (ev.kind == EVAL_NONE) {
        ir_diag_error(&d, o->model, "nothing to evaluate: the model is neither a classifier (an output [N,C] and "
                      "integer labels [N]) nor a regression (a float target shaped like an output)");
        goto fail;
    }
    if (ds->count == 0) {
        ir_diag_error(&d, ds->cols[0].file, "holds no examples");
        goto fail;
    }
    if (ev.kind == EVAL_CLASSES &&
        check_labels(&ev, &ds->cols[col_of[nin]], info->name, info->outputs[ev.out].name, &d) != 0)
        goto fail;
    int64_t eval_n = o->batch ? o->batch : EVAL_BATCH;
    if (eval_n > ds->count)
        eval_n = ds->count;
    if (eval_n > info->max_n)
        eval_n = info->max_n;
    EvalResult er;
    if (evaluate(&x, &ev, ds, col_of, eval_n, &er, &d) != 0)
        goto fail;
    if (o->json) {
        print_eval_json(&ev, &er, o->model);
    } else {
        char buf[512], cnt[32];
        describe_files(ds, buf, sizeof buf);
        printf("%s: %s examples (%s)\n", info->name, cli_fmt_count(ds->count, cnt, sizeof cnt), buf);
        print_eval(&ev, &er);
    }
    status = CLI_OK;
    goto done;
fail:
    status = cli_report(&d);
done:
    ir_diag_free(&d);
    free(ts);
    free(col_of);
    free(labels);
    cli_native_close(&x);
    ir_graph_free(g);
    return status;
}

static int run_eval(int argc, char **argv)
{
    EvalArgs o;
    memset(&o, 0, sizeof o);
    o.opt_level = -1;
    int status = parse_eval_args(argc, argv, &o);
    if (status == CLI_OK) {
        CliDataset ds;
        memset(&ds, 0, sizeof ds);
        IrDiag d;
        ir_diag_init(&d, NULL);
        if (cli_data_load(&o.data, CLI_DATA_TEST, o.limit, &ds, &d) != 0)
            status = cli_report(&d);
        else
            status = eval_model(&o, &ds);
        ir_diag_free(&d);
        cli_data_free(&ds);
    }
    cli_data_spec_free(&o.data);
    return status;
}

const CliVerb cli_verb_eval = {
    "eval", run_eval,
    "usage: sinter eval MODEL.json|LIB.so --data DATA [--weights FILE.safetensors] [--limit K]\n"
    "                   [--json] [--batch B] [--threads T] [-O0..3]\n"
    "                   [--quantize KIND [--quantize-group G]] [--calibrate DATA [--calibrate-samples K]]\n"
    "\n"
    "Evaluates a model on test data through its inference entry point, as 'sinter train' does\n"
    "after every epoch: classifiers (an output [N,C] and integer labels [N]) report accuracy and\n"
    "mean cross-entropy, models with a float target the mean squared error. The labels are the\n"
    "model's training inputs and the scored output is the one its loss reads, so a MODEL.json needs\n"
    "a \"training\" section.\n"
    "  LIB.so       a library made by 'sinter compile'; one without training entry points\n"
    "               (--quantize, --sparse) is scored as a classifier, labels after the inputs\n"
    "  MODEL.json   compiled in memory for this machine (inference entry points only)\n"
    "\n"
    "DATA is as for 'sinter train' (fmnist, an IDX directory, FILE,FILE or NAME=FILE,...); of an\n"
    "IDX directory the test split (t10k-...) is read.\n"
    "\n"
    "  --data DATA        the test data\n"
    "  --weights FILE     params from a .safetensors file (a checkpoint of 'sinter train --save'\n"
    "                     works; its optimizer state is ignored)\n"
    "  --limit K          only the first K examples\n"
    "  --json             print one JSON object: \"examples\", \"accuracy\" (a fraction in [0, 1];\n"
    "                     null for a regression), \"correct\" (classifiers) and \"loss\"\n"
    "  --batch B          examples per inference call (default 1000)\n"
    "  --threads T        threads (default: SINTER_NUM_THREADS or all cores)\n"
    "  -O0 .. -O3         optimization level when compiling a MODEL.json (default -O2)\n"
    "  --quantize KIND    int8, int8-weights or int4-weights: evaluate the MODEL.json compiled\n"
    "                     with quantization, as 'sinter compile --quantize' makes it\n"
    "  --quantize-group G as 'sinter compile --quantize-group' (32, 64 or 128)\n"
    "  --calibrate DATA   int8: calibration examples, as 'sinter compile --calibrate' (the\n"
    "                     training split of an IDX directory: not the examples evaluated)\n"
    "  --calibrate-samples K  how many (default 512)\n"
    "  --quantize-report     int8: each layer's output error against float (calibration examples)\n"
    "  --quantize-tolerance X  int8: layers whose error is above X stay float\n"
    "  --sparse              weights with <= 25% non-zeros as CSR, as 'sinter compile --sparse'\n"
    "\n"
    "Exit status: 0 success, 1 bad model, library, weights or data file, 2 bad usage.\n",
    "evaluate a model on test data (accuracy and loss)",
};
