/* `sinter bench`: latency and throughput of a compiled model's inference entry point, or of its
 * training step (--train), on random inputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "passes/passes.h"
#include "tools/cli.h"
#include "runtime/sinter_parallel.h"
#include "tools/native.h"

typedef struct BenchArgs {
    const char *model;
    bool lib;                 /* a compiled library (.so) */
    int64_t batch;            /* the batch symbol N */
    int threads;              /* 0: srt_default_threads() */
    int64_t warmup;           /* -1: default (up to 10 calls, at most ~0.5 s) */
    int64_t iters;            /* 0: run for `seconds` */
    double seconds;           /* 0: default 1 s (when iters is 0) */
    int opt_level;            /* -1: not given (2) */
    const char *weights;
    bool json;
    bool train;               /* time NAME_train_step instead of NAME_infer */
    CliQuant quantize;        /* --quantize KIND [--quantize-group G] [--calibrate DATA] of a MODEL.json */
} BenchArgs;

#define MAX_BATCH ((int64_t)1 << 40)
#define DEFAULT_SECONDS 1.0
#define DEFAULT_WARMUP 10
#define DEFAULT_WARMUP_SECONDS 0.5

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_args(int argc, char **argv, BenchArgs *o)
{
    static const char *const known[] = {"--batch", "--threads", "--warmup", "--iters", "--seconds", "--weights",
                                        "-O", "--json", "--train", "--quantize", "--quantize-group",
                                        "--calibrate", "--calibrate-samples",
                                        "--quantize-report", "--quantize-tolerance", "--sparse", "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "bench", argc, argv);
    const char *v;
    int64_t k;
    int qr;
    while (cli_next(&a)) {
        if ((qr = cli_quantize_option(&a, &o->quantize)) != 0) {
            if (qr < 0)
                return CLI_EUSAGE;
        } else if (cli_flag(&a, "--json")) {
            o->json = true;
        } else if (cli_flag(&a, "--train")) {
            o->train = true;
        } else if (cli_option(&a, "--batch", "a positive integer (the batch symbol N)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, MAX_BATCH, &o->batch))
                return cli_usage_error("bench", "--batch expects a positive integer (the batch symbol N), got \"%s\"",
                                       v);
        } else if (cli_option(&a, "--threads", "a thread count", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, 4096, &k))
                return cli_usage_error("bench", "--threads expects a thread count (1 to 4096), got \"%s\"", v);
            o->threads = (int)k;
        } else if (cli_option(&a, "--warmup", "a number of calls", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, 1000000000, &o->warmup))
                return cli_usage_error("bench", "--warmup expects a number of calls (0 or more), got \"%s\"", v);
        } else if (cli_option(&a, "--iters", "a number of calls", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, 1000000000, &o->iters))
                return cli_usage_error("bench", "--iters expects a number of calls (1 or more), got \"%s\"", v);
        } else if (cli_option(&a, "--seconds", "a duration in seconds", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char *end;
            o->seconds = strtod(v, &end);
            if (end == v || *end || !(o->seconds > 0) || o->seconds > 1e6)
                return cli_usage_error("bench", "--seconds expects a duration in seconds (more than 0), got \"%s\"",
                                       v);
        } else if (cli_option(&a, "--weights", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->weights = v;
        } else if (cli_option(&a, "-O", "an optimization level 0..3", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, 3, &k))
                return cli_usage_error("bench", "-O expects an optimization level 0..3, got \"%s\"", v);
            o->opt_level = (int)k;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("bench", "expects one model, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("bench", "expects a MODEL.json or LIB.so");
    o->lib = cli_is_library(o->model);
    if (o->iters && o->seconds > 0)
        return cli_usage_error("bench", "--iters and --seconds exclude each other (give a number of calls or a "
                               "duration)");
    if (o->lib && o->opt_level >= 0)
        return cli_usage_error("bench", "-O applies when a MODEL.json is compiled; %s is compiled already", o->model);
    if ((qr = cli_quantize_args("bench", &o->quantize)) != CLI_OK)
        return qr;
    if ((o->quantize.pass.kind != PASS_QUANT_NONE || o->quantize.sparse) && (o->lib || o->train))
        return cli_usage_error("bench", "%s applies to the inference of a MODEL.json compiled here%s",
                               o->quantize.sparse ? "--sparse" : "--quantize",
                               o->train ? " (a quantized model has no training step)" : "");
    return CLI_OK;
}

/* splitmix64: the inputs' generator (deterministic across machines). */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Integer inputs must hold valid values where the model says what is valid: an input used as
 * Gather indices gets values in [0, size of the gathered axis). Else 0 (no bound known). */
static int64_t int_bound(const IrGraph *g, const char *name)
{
    int id = g ? ir_value_find(g, name) : -1;
    int64_t bound = 0;
    for (int i = 0; id >= 0 && i < g->nnodes; i++) {
        const IrNode *nd = g->nodes[i];
        if (nd->op != IR_OP_GATHER || nd->nin < 2 || nd->in[1] != id || nd->in[0] < 0)
            continue;
        const IrShape *s = &g->values[nd->in[0]]->shape;
        int axis;
        if (!ir_norm_axis(ir_attr_int(nd, "axis"), s->rank, &axis) || !ir_dim_is_const(s->d[axis]))
            continue;
        if (bound == 0 || s->d[axis].b < bound)
            bound = s->d[axis].b;
    }
    return bound;
}

/* Class labels (an integer training input of a classification loss) must lie in [0, classes):
 * for a model file, classes is axis 1 of the loss's first input (the scores); for a library,
 * whose descriptor does not name the loss, axis 1 of the first output of rank 2 or more.
 * 0 if unknown. */
static int64_t label_bound(const IrGraph *g, const SinterModelInfo *info)
{
    if (g && g->training) {
        const IrNode *loss = g->training->loss;
        if (!loss || loss->nin < 1 || loss->in[0] < 0)
            return 0;
        const IrShape *s = &g->values[loss->in[0]]->shape;
        return s->rank >= 2 && ir_dim_is_const(s->d[1]) ? s->d[1].b : 0;
    }
    for (int64_t i = 0; i < info->noutputs; i++) {
        const SinterTensorInfo *t = &info->outputs[i];
        if (t->rank >= 2)
            return t->dims[1].a == 0 && t->dims[1].b > 0 ? t->dims[1].b : 0;
    }
    return 0;
}

/* Fills t's bytes at batch n: floats uniform in [0, 1), integers uniform in [0, bound) (0 if
 * bound is 0), bools 0. */
static void fill_random(void *data, SrtDtype dt, int64_t numel, int64_t bound, uint64_t seed)
{
    uint64_t s = seed;
    for (int64_t i = 0; i < numel; i++) {
        uint64_t r = splitmix64(&s);
        double u = (double)(r >> 11) * 0x1.0p-53;
        int64_t k = bound > 0 ? (int64_t)(r % (uint64_t)bound) : 0;
        switch (dt) {
        case SRT_F32: ((float *)data)[i] = (float)u; break;
        case SRT_F64: ((double *)data)[i] = u; break;
        case SRT_I64: ((int64_t *)data)[i] = k; break;
        case SRT_I32: ((int32_t *)data)[i] = (int32_t)k; break;
        case SRT_I8: ((int8_t *)data)[i] = (int8_t)(k > 127 ? 127 : k); break;
        case SRT_U8: ((uint8_t *)data)[i] = (uint8_t)(k > 255 ? 255 : k); break;
        default: ((uint8_t *)data)[i] = 0; break;
        }
    }
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Latencies of the measured calls, in seconds. */
typedef struct Samples {
    double *t;
    int64_t count, cap;
} Samples;

static bool push_sample(Samples *s, double v)
{
    if (s->count == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 1024;
        double *t = srt_realloc(s->t, (size_t)cap * sizeof *t);
        if (!t)
            return false;
        s->t = t;
        s->cap = cap;
    }
    s->t[s->count++] = v;
    return true;
}

/* Progress on stderr for runs longer than a few seconds: a line rewritten in place on a terminal,
 * one line every 10 s otherwise. */
typedef struct Progress {
    bool tty;
    double start, next;
    bool shown;
} Progress;

static void progress(Progress *p, const char *what, int64_t calls, double now)
{
    if (now < p->next)
        return;
    char c[32];
    cli_fmt_count(calls, c, sizeof c);
    if (p->tty)
        fprintf(stderr, "\rsinter bench: %s: %.0f s, %s calls ", what, now - p->start, c);
    else
        fprintf(stderr, "sinter bench: %s: %.0f s, %s calls\n", what, now - p->start, c);
    p->shown = true;
    p->next = now + (p->tty ? 0.5 : 10.0);
}

static void progress_end(Progress *p)
{
    if (p->shown && p->tty)
        fprintf(stderr, "\r%60s\r", "");
}

/* Floating-point operations of one call at batch n from the model's cost table; -1 if unknown. */
static double model_flops(const IrGraph *g, int64_t n)
{
    if (!g || g->nnodes == 0)
        return -1;
    double total = 0;
    for (int i = 0; i < g->nnodes; i++) {
        IrDim f;
        if (!ir_node_flops(g, g->nodes[i], &f))
            return -1;
        total += (double)f.a * (double)n + (double)f.b;
    }
    return total;
}

/* "1.234 ms", "56.7 us", "2.50 s" */
static const char *fmt_time(double s, char *buf, size_t len)
{
    if (s >= 1.0)
        snprintf(buf, len, "%.3g s", s);
    else if (s >= 1e-3)
        snprintf(buf, len, "%.4g ms", s * 1e3);
    else
        snprintf(buf, len, "%.4g us", s * 1e6);
    return buf;
}

/* JSON string contents (names may hold quotes or backslashes). */
static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

typedef struct BenchResult {
    int64_t warmup, calls;
    double total;             /* seconds of the measured calls, wall clock */
    double median, p90, min, mean;
} BenchResult;

static void print_result(const BenchArgs *o, const CliNative *x, const IrGraph *g, int threads,
                         const BenchResult *r)
{
    double per_s = (double)o->batch / r->median;
    /* the cost table counts the inference graph only */
    double flops = o->train ? -1 : model_flops(g, o->batch);
    const char *entry = o->train ? "train_step" : "infer";
    int opt = o->opt_level < 0 ? 2 : o->opt_level;
    if (o->json) {
        printf("{\"model\": ");
        json_string(x->info->name);
        printf(", \"source\": ");
        json_string(o->model);
        printf(", \"batch\": %lld, \"threads\": %d, \"warmup\": %lld, \"calls\": %lld, \"median_ms\": %.6g, "
               "\"p90_ms\": %.6g, \"min_ms\": %.6g, \"mean_ms\": %.6g, \"samples_per_s\": %.6g",
               (long long)o->batch, threads, (long long)r->warmup, (long long)r->calls, r->median * 1e3,
               r->p90 * 1e3, r->min * 1e3, r->mean * 1e3, per_s);
        printf(", \"entry\": \"%s\"", entry);
        if (flops >= 0)
            printf(", \"gflops\": %.6g", flops / r->median * 1e-9);
        printf("}\n");
        return;
    }
    char a[32], b[32], c[32], e[32], cnt[32], si[32];
    const char *what = o->train ? " train_step" : "";
    if (o->lib)
        printf("%s%s: %s, batch %lld, %d thread%s\n", x->info->name, what, o->model, (long long)o->batch, threads,
               threads == 1 ? "" : "s");
    else
        printf("%s%s: compiled in memory (-O%d, %.2f s), batch %lld, %d thread%s\n", x->info->name, what, opt,
               x->compile_seconds, (long long)o->batch, threads, threads == 1 ? "" : "s");
    printf("  calls:      %s measured in %.2f s, after %lld warm-up\n", cli_fmt_count(r->calls, cnt, sizeof cnt),
           r->total, (long long)r->warmup);
    printf("  latency:    median %s  p90 %s  min %s  mean %s\n", fmt_time(r->median, a, sizeof a),
           fmt_time(r->p90, b, sizeof b), fmt_time(r->min, c, sizeof c), fmt_time(r->mean, e, sizeof e));
    printf("  throughput: %ssamples/s (batch / median latency)\n", cli_fmt_si(per_s, si, sizeof si));
    if (flops >= 0)
        printf("  compute:    %sFLOP/s at the median (%sFLOP per call)\n", cli_fmt_si(flops / r->median, a, sizeof a),
               cli_fmt_si(flops, b, sizeof b));
}

/* One call of the timed entry point. */
static int call(const BenchArgs *o, CliNative *x, void *const *args, IrDiag *d)
{
    float loss;
    return o->train ? cli_native_train_step(x, o->batch, args, &loss, d) : cli_native_infer(x, o->batch, args, d);
}

/* Warm-up and measured calls. Returns 0, or -1 with a diagnostic when a call fails. */
static int measure(const BenchArgs *o, CliNative *x, void *const *args, BenchResult *r, IrDiag *d)
{
    Samples s = {NULL, 0, 0};
    Progress p = {isatty(2) != 0, now_seconds(), now_seconds() + 3.0, false};
    int64_t warm = o->warmup >= 0 ? o->warmup : DEFAULT_WARMUP;
    double t0 = now_seconds();
    for (r->warmup = 0; r->warmup < warm; r->warmup++) {
        if (call(o, x, args, d) != 0)
            return -1;
        double t = now_seconds();
        if (o->warmup < 0 && t - t0 > DEFAULT_WARMUP_SECONDS) {
            r->warmup++;
            break;
        }
        progress(&p, "warm-up", r->warmup + 1, t);
    }
    double seconds = o->iters ? 0 : o->seconds > 0 ? o->seconds : DEFAULT_SECONDS;
    double start = now_seconds(), t = start;
    int rc = 0;
    while (rc == 0 && (o->iters ? s.count < o->iters : (t - start < seconds || s.count == 0))) {
        double a = now_seconds();
        if (call(o, x, args, d) != 0) {
            rc = -1;
            break;
        }
        t = now_seconds();
        if (!push_sample(&s, t - a)) {
            ir_diag_error(d, NULL, "sinter bench: out of memory");
            rc = -1;
        }
        progress(&p, "measuring", s.count, t);
    }
    progress_end(&p);
    if (rc == 0) {
        r->calls = s.count;
        r->total = t - start;
        qsort(s.t, (size_t)s.count, sizeof *s.t, cmp_double);
        int64_t k = s.count;
        r->median = k % 2 ? s.t[k / 2] : 0.5 * (s.t[k / 2 - 1] + s.t[k / 2]);
        int64_t i90 = (int64_t)ceil(0.9 * (double)k) - 1;   /* nearest rank */
        r->p90 = s.t[i90 < 0 ? 0 : i90];
        r->min = s.t[0];
        double sum = 0;
        for (int64_t i = 0; i < k; i++)
            sum += s.t[i];
        r->mean = sum / (double)k;
    }
    free(s.t);
    return rc;
}

static int bench(BenchArgs *o)
{
    CliNative x;
    memset(&x, 0, sizeof x);
    IrDiag d;
    ir_diag_init(&d, o->model);
    IrGraph *g = NULL;
    int status = CLI_EINPUT;
    int64_t nargs = 0;
    void **args = NULL;
    if (o->lib) {
        d.file = NULL;
        if (cli_native_open(&x, o->model, &d) != 0)
            goto fail;
        d.file = o->model;
    } else {
        if (!(g = cli_load_model_weights(o->model, o->weights)))
            goto done;
        if (cli_quantize_model(g, &o->quantize, &d) != 0)
            goto fail;
        if (o->train && !g->training) {
            ir_diag_error(&d, NULL, "the model has no \"training\" section (training inputs, loss and optimizer); "
                          "bench --train times its training step");
            goto fail;
        }
        if (cli_native_compile(&x, g, o->opt_level < 0 ? 2 : o->opt_level, o->train, false, &d) != 0)
            goto fail;
    }
    const SinterModelInfo *info = x.info;
    if (o->train && (!(info->flags & SINTER_MODEL_TRAINING) || !info->train_step || info->ntraining_inputs < 0 ||
                     info->ntraining_inputs > 4096 || (info->ntraining_inputs > 0 && !info->training_inputs))) {
        ir_diag_error(&d, NULL, "the library has no training entry points: its model has no \"training\" section; "
                      "bench --train times the training step");
        goto fail;
    }
    int64_t max_n = o->train ? info->train_max_n : info->max_n;
    /* infer: graph inputs, then outputs; train_step: graph inputs, then training inputs */
    int64_t nsecond = o->train ? info->ntraining_inputs : info->noutputs;
    const SinterTensorInfo *second = o->train ? info->training_inputs : info->outputs;
    int threads = o->threads ? o->threads : srt_default_threads();
    /* a MODEL.json was compiled with the weights already */
    if (cli_native_prepare(&x, threads, o->lib ? o->weights : NULL, &d) != 0)
        goto fail;
    if (o->batch > max_n) {
        ir_diag_error(&d, NULL, "--batch %lld is larger than the model accepts (%lld)", (long long)o->batch,
                      (long long)max_n);
        goto fail;
    }
    nargs = info->ninputs + nsecond;
    args = srt_calloc((size_t)nargs + 1, sizeof *args);
    if (!args) {
        ir_diag_error(&d, NULL, "sinter bench: out of memory");
        goto fail;
    }
    for (int64_t i = 0; i < nargs; i++) {
        bool in = i < info->ninputs;
        const SinterTensorInfo *t = in ? &info->inputs[i] : &second[i - info->ninputs];
        int64_t dims[SRT_MAX_RANK];
        size_t bytes = 0;
        if (!cli_native_dims(t, o->batch, dims) ||
            srt_tensor_nbytes((SrtDtype)t->dtype, (int)t->rank, dims, &bytes) != SINTER_OK ||
            !(args[i] = srt_aligned_alloc(64, (bytes + 63) / 64 * 64 + 64))) {
            ir_diag_error(&d, NULL, "%s \"%s\": cannot allocate it at batch %lld",
                          in ? "input" : o->train ? "training input" : "output", t->name, (long long)o->batch);
            goto fail;
        }
        if (in || o->train)
            fill_random(args[i], (SrtDtype)t->dtype, (int64_t)(bytes / srt_dtype_size((SrtDtype)t->dtype)),
                        in ? int_bound(g, t->name) : label_bound(g, info), 0x5eed0000u + (uint64_t)i);
    }
    BenchResult r;
    memset(&r, 0, sizeof r);
    if (measure(o, &x, args, &r, &d) != 0)
        goto fail;
    print_result(o, &x, g, threads, &r);
    status = CLI_OK;
    goto done;
fail:
    status = cli_report(&d);
done:
    ir_diag_free(&d);
    for (int64_t i = 0; args && i < nargs; i++)
        free(args[i]);
    free(args);
    cli_native_close(&x);
    ir_graph_free(g);
    return status;
}

static int run_bench(int argc, char **argv)
{
    BenchArgs o;
    memset(&o, 0, sizeof o);
    o.batch = 1;
    o.warmup = -1;
    o.opt_level = -1;
    int status = parse_args(argc, argv, &o);
    return status == CLI_OK ? bench(&o) : status;
}

const CliVerb cli_verb_bench = {
    "bench", run_bench,
    "usage: sinter bench MODEL.json|LIB.so [--train] [--batch B] [--threads T] [--warmup W]\n"
    "                    [--iters I | --seconds S] [--weights FILE] [-O0..3] [--json]\n"
    "                    [--quantize KIND [--quantize-group G]] [--calibrate DATA [--calibrate-samples K]]\n"
    "\n"
    "Measures the latency and throughput of a compiled model's inference entry point on\n"
    "random inputs (floats uniform in [0, 1); integers 0, or within the gathered axis for\n"
    "Gather indices). A MODEL.json is compiled in memory first (as 'sinter run' does);\n"
    "a LIB.so made by 'sinter compile' is loaded as it is. Each call is timed with the\n"
    "monotonic clock; prints the median, 90th percentile, minimum and mean latency and the\n"
    "throughput (batch / median latency), and FLOP/s for a MODEL.json.\n"
    "\n"
    "  --train           time the training step (NAME_train_step: forward, loss, backward and\n"
    "                    the optimizer update) instead of inference; the model needs a\n"
    "                    \"training\" section. Training inputs get random values too: class\n"
    "                    labels within the classes, floats uniform in [0, 1)\n"
    "  --batch B         batch size (the model's N; default 1)\n"
    "  --threads T       worker threads (default: SINTER_NUM_THREADS, else OMP_NUM_THREADS,\n"
    "                    else the CPUs this process may run on)\n"
    "  --warmup W        untimed calls first (default: 10, stopping early after 0.5 s)\n"
    "  --iters I         measure exactly I calls\n"
    "  --seconds S       measure calls for S seconds (default 1; at least one call)\n"
    "  --weights FILE    the params from a .safetensors file (a checkpoint of 'sinter train\n"
    "                    --save' works; needed for a library built with --external-weights;\n"
    "                    float weights do not change the timing)\n"
    "  -O0 .. -O3        optimization level when compiling a MODEL.json (default -O2)\n"
    "  --quantize KIND   int8, int8-weights or int4-weights, as 'sinter compile --quantize'\n"
    "  --quantize-group G  its group size (32, 64 or 128)\n"
    "  --calibrate DATA  int8: calibration examples, as 'sinter compile --calibrate'\n"
    "  --calibrate-samples K  how many (default 512)\n"
    "  --quantize-report     int8: each layer's output error against float (calibration examples)\n"
    "  --quantize-tolerance X  int8: layers whose error is above X stay float\n"
    "  --sparse              weights with <= 25% non-zeros as CSR, as 'sinter compile --sparse'\n"
    "  --json            print the results as one JSON object (for scripts)\n"
    "\n"
    "Runs longer than a few seconds report progress on stderr.\n"
    "Exit status: 0 success, 1 bad model or library, or a failed call, 2 bad usage.\n",
    "measure latency and throughput of a compiled model (inference or the training step)",
};
