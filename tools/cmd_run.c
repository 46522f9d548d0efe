/* `sinter run`: runs a model on .npy inputs (compiled code, or the reference interpreter) and summarizes its outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "passes/passes.h"
#include "tools/cli.h"
#include "runtime/sinter_parallel.h"
#include "tools/native.h"

/* NAME=FILE from --input/--output; id is the value it names once the model is loaded. */
typedef struct Binding {
    const char *name;
    const char *file;
    int id;
} Binding;

typedef struct RunArgs {
    const char *model;
    bool lib;                 /* model is a compiled library (.so) */
    bool interp;              /* reference interpreter only */
    bool compare;             /* compiled code and the interpreter, with their differences */
    bool random;              /* fill inputs not given with seeded values */
    bool check_finite;        /* --check-finite: a NaN or infinity in an output is an error */
    int threads;              /* --threads; 0: the library's default */
    int opt_level;            /* -O for a MODEL.json; -1: not given (2) */
    const char *weights;      /* --weights FILE.safetensors, or NULL */
    CliQuant quantize;        /* --quantize KIND [--quantize-group G] [--calibrate DATA] of a MODEL.json */
    bool have_n;
    int64_t n;                /* --n */
    int64_t show;             /* values / rows printed per output */
    int ninputs, noutputs;
    Binding *inputs;          /* argc entries each */
    Binding *outputs;
} RunArgs;

#define MAX_N ((int64_t)1 << 40)

/* Splits "NAME=FILE" at the first '=' (a usage error if either side is empty). */
static bool add_binding(const char *opt, const char *arg, Binding *b)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || eq[1] == '\0') {
        cli_usage_error("run", "%s expects NAME=FILE.npy, got \"%s\"", opt, arg);
        return false;
    }
    b->name = srt_strndup(arg, (size_t)(eq - arg));
    b->file = eq + 1;
    b->id = -1;
    if (!b->name) {
        cli_usage_error("run", "out of memory");
        return false;
    }
    return true;
}

static int parse_args(int argc, char **argv, RunArgs *o)
{
    static const char *const known[] = {"--interp", "--compare", "--input", "--output", "--n", "--random", "--show",
                                        "--threads", "--weights", "-O", "--quantize", "--quantize-group",
                                        "--check-finite", "--calibrate", "--calibrate-samples",
                                        "--quantize-report", "--quantize-tolerance", "--sparse", "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "run", argc, argv);
    const char *v;
    int qr;
    while (cli_next(&a)) {
        if ((qr = cli_quantize_option(&a, &o->quantize)) != 0) {
            if (qr < 0)
                return CLI_EUSAGE;
        } else if (cli_flag(&a, "--interp")) {
            o->interp = true;
        } else if (cli_flag(&a, "--compare")) {
            o->compare = true;
        } else if (cli_flag(&a, "--check-finite")) {
            o->check_finite = true;
        } else if (cli_option(&a, "--threads", "a thread count", &v)) {
            int64_t t;
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, 4096, &t))
                return cli_usage_error("run", "--threads expects a thread count (1 to 4096), got \"%s\"", v);
            o->threads = (int)t;
        } else if (cli_option(&a, "--weights", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->weights = v;
        } else if (cli_option(&a, "-O", "an optimization level 0..3", &v)) {
            int64_t l;
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, 3, &l))
                return cli_usage_error("run", "-O expects an optimization level 0..3, got \"%s\"", v);
            o->opt_level = (int)l;
        } else if (cli_flag(&a, "--random")) {
            o->random = true;
        } else if (cli_option(&a, "--input", "NAME=FILE.npy", &v)) {
            if (!v || !add_binding("--input", v, &o->inputs[o->ninputs++]))
                return CLI_EUSAGE;
        } else if (cli_option(&a, "--output", "NAME=FILE.npy", &v)) {
            if (!v || !add_binding("--output", v, &o->outputs[o->noutputs++]))
                return CLI_EUSAGE;
        } else if (cli_option(&a, "--n", "a positive integer (the batch symbol N)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 1, MAX_N, &o->n))
                return cli_usage_error("run", "--n expects a positive integer (the batch symbol N), got \"%s\"", v);
            o->have_n = true;
        } else if (cli_option(&a, "--show", "a number of values to print", &v)) {
            if (!v)
                return CLI_EUSAGE;
            if (!cli_parse_int(v, 0, 1000000, &o->show))
                return cli_usage_error("run", "--show expects a number of values to print (0 to 1000000), got \"%s\"", v);
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("run", "expects one model, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("run", "expects a MODEL.json (or LIB.so)");
    o->lib = cli_is_library(o->model);
    if (o->interp && o->compare)
        return cli_usage_error("run", "--interp and --compare exclude each other (--compare runs both)");
    if (o->lib && o->interp)
        return cli_usage_error("run", "--interp runs a MODEL.json on the reference interpreter; %s is compiled code",
                               o->model);
    if (o->lib && o->compare)
        return cli_usage_error("run", "--compare needs the MODEL.json (the interpreter runs the model, not %s)",
                               o->model);
    if (o->lib && o->check_finite)
        return cli_usage_error("run", "--check-finite applies when a MODEL.json is compiled; %s is compiled already "
                               "(compile it with --check-finite)", o->model);
    if (o->lib && o->opt_level >= 0)
        return cli_usage_error("run", "-O applies when a MODEL.json is compiled; %s is compiled already", o->model);
    if ((qr = cli_quantize_args("run", &o->quantize)) != CLI_OK)
        return qr;
    if (o->lib && (o->quantize.pass.kind != PASS_QUANT_NONE || o->quantize.sparse))
        return cli_usage_error("run", "%s applies when a MODEL.json is compiled; %s is compiled already",
                               o->quantize.sparse ? "--sparse" : "--quantize", o->model);
    if (o->interp && (o->threads || o->opt_level >= 0))
        return cli_usage_error("run", "%s applies to compiled code; the reference interpreter (--interp) runs the "
                               "model as written on one thread", o->threads ? "--threads" : "-O");
    return CLI_OK;
}

/* "x, y" or "(none)" */
static void list_names(const IrGraph *g, const int *ids, int n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", g->values[ids[i]]->name);
    if (n == 0)
        snprintf(buf, len, "(none)");
}

/* Which graph input (0..ninputs) or training input (ninputs..) value id is; -1 if neither. */
static int input_slot(const IrGraph *g, int id)
{
    for (int i = 0; i < g->ninputs; i++)
        if (g->inputs[i] == id)
            return i;
    int nt = g->training ? g->training->ninputs : 0;
    for (int i = 0; i < nt; i++)
        if (g->training->inputs[i] == id)
            return g->ninputs + i;
    return -1;
}

/* An output of the training loss node (computed only with the training inputs). */
static bool is_loss_output(const IrGraph *g, int id)
{
    if (!g->training || !g->training->loss)
        return false;
    for (int k = 0; k < g->training->loss->nout; k++)
        if (g->training->loss->out[k] == id)
            return true;
    return false;
}

/* Resolves the names of --input/--output against the model. Compiled code (native) takes the
 * graph inputs and returns the graph outputs only. Usage errors -> CLI_EUSAGE. */
static int bind_names(const IrGraph *g, RunArgs *o, bool native, bool *with_loss)
{
    char ins[256], labels[256], outs[256];
    int nt = g->training ? g->training->ninputs : 0;
    list_names(g, g->inputs, g->ninputs, ins, sizeof ins);
    list_names(g, nt ? g->training->inputs : NULL, nt, labels, sizeof labels);
    list_names(g, g->outputs, g->noutputs, outs, sizeof outs);
    int given_train = 0;
    for (int i = 0; i < o->ninputs; i++) {
        Binding *b = &o->inputs[i];
        b->id = ir_value_find(g, b->name);
        int slot = b->id >= 0 ? input_slot(g, b->id) : -1;
        if (slot < 0)
            return cli_usage_error("run", "--input %s: %s has no input \"%s\" (inputs: %s; training inputs: %s)",
                                   b->name, g->name, b->name, ins, labels);
        for (int j = 0; j < i; j++)
            if (o->inputs[j].id == b->id)
                return cli_usage_error("run", "--input %s is given twice", b->name);
        if (slot >= g->ninputs && native)
            return cli_usage_error("run", "--input %s: a training input, which compiled inference does not take; "
                                   "add --interp to compute the loss", b->name);
        if (slot >= g->ninputs)
            given_train++;
    }
    for (int i = 0; i < g->ninputs && !o->random; i++) {
        bool given = false;
        for (int j = 0; j < o->ninputs; j++)
            given = given || o->inputs[j].id == g->inputs[i];
        if (!given) {
            const char *name = g->values[g->inputs[i]]->name;
            return cli_usage_error("run", "input \"%s\" is not given; add --input %s=FILE.npy (or --random)", name, name);
        }
    }
    if (given_train > 0 && given_train < nt)
        return cli_usage_error("run", "computing the loss needs every training input (%s); add the missing ones "
                               "with --input NAME=FILE.npy", labels);
    *with_loss = nt > 0 && given_train == nt;
    for (int i = 0; i < o->noutputs; i++) {
        Binding *b = &o->outputs[i];
        b->id = ir_value_find(g, b->name);
        if (b->id < 0)
            return cli_usage_error("run", "--output %s: %s has no tensor \"%s\" (outputs: %s)", b->name, g->name,
                                   b->name, outs);
        if (native && !g->values[b->id]->is_output)
            return cli_usage_error("run", "--output %s: compiled code returns only the graph outputs (%s); add "
                                   "--interp to write other tensors", b->name, outs);
        if (!*with_loss && is_loss_output(g, b->id))
            return cli_usage_error("run", "--output %s: the loss is computed only when every training input is "
                                   "given (%s); add them with --input NAME=FILE.npy", b->name, labels);
    }
    return CLI_OK;
}

/* Sets *n from the dims of file tensor t for input v, or checks it against *n. Records a
 * diagnostic naming the file, the input, its declared type and the file's shape. */
static int match_input(const IrValue *v, const SrtTensor *t, const char *file, int64_t *n, const char **n_from,
                       IrDiag *d)
{
    char want[128], got[160];
    ir_type_format(v->dtype, &v->shape, want, sizeof want);
    size_t o = (size_t)snprintf(got, sizeof got, "[");
    for (int r = 0; r < t->rank; r++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%lld", r ? "," : "", (long long)t->dims[r]);
    snprintf(got + o, sizeof got - o, "]");
    if (t->dtype != v->dtype) {
        ir_diag_error(d, NULL, "input \"%s\" is declared %s but the file holds %s %s; convert the data to %s "
                      "(sinter does not convert silently)", v->name, want, srt_dtype_name(t->dtype), got,
                      srt_dtype_name(v->dtype));
        return -1;
    }
    if (t->rank != v->shape.rank) {
        ir_diag_error(d, NULL, "input \"%s\" is declared %s (rank %d) but the file has shape %s (rank %d)", v->name,
                      want, v->shape.rank, got, t->rank);
        return -1;
    }
    for (int r = 0; r < t->rank; r++) {
        IrDim dim = v->shape.d[r];
        if (ir_dim_is_const(dim)) {
            if (t->dims[r] != dim.b) {
                ir_diag_error(d, NULL, "input \"%s\" is declared %s but the file has shape %s (dim %d is %lld, "
                              "not %lld)", v->name, want, got, r, (long long)t->dims[r], (long long)dim.b);
                return -1;
            }
            continue;
        }
        int64_t rest = t->dims[r] - dim.b;
        if (rest < dim.a || rest % dim.a != 0) {
            char ds[48];
            ir_dim_format(dim, ds, sizeof ds);
            ir_diag_error(d, NULL, "input \"%s\" is declared %s but the file has shape %s (dim %d is %lld, which "
                          "is not %s for any N >= 1)", v->name, want, got, r, (long long)t->dims[r], ds);
            return -1;
        }
        int64_t this_n = rest / dim.a;
        if (*n_from == NULL) {
            *n = this_n;
            *n_from = file;
        } else if (this_n != *n) {
            ir_diag_error(d, NULL, "input \"%s\" has shape %s, which means N=%lld, but %s means N=%lld", v->name,
                          got, (long long)this_n, *n_from, (long long)*n);
            return -1;
        }
    }
    return 0;
}

/* splitmix64: the --random inputs' generator (deterministic across machines). */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Fills t (allocated with v's shape at n): floats uniform in [0, 1), ints and bools 0. */
static int random_input(const IrValue *v, int64_t n, int slot, IrTensor *t, IrDiag *d)
{
    int64_t dims[IR_MAX_RANK];
    if (!ir_shape_eval(&v->shape, n, dims) || ir_tensor_alloc(t, v->dtype, v->shape.rank, dims) != 0) {
        ir_diag_error(d, v->name, "cannot make a random input of this shape at N=%lld", (long long)n);
        return -1;
    }
    uint64_t state = 0x5eed0000u + (uint64_t)slot;
    if (ir_dtype_is_float(v->dtype))
        for (int64_t i = 0; i < t->numel; i++)
            ir_tensor_setf(t, i, (double)(splitmix64(&state) >> 11) * 0x1.0p-53);
    return 0;
}

/* Prints "  values: a b c ... (first K of M)" */
static void print_values(const IrTensor *t, int64_t show)
{
    int64_t k = t->numel < show ? t->numel : show;
    if (k == 0)
        return;
    printf("  values:");
    for (int64_t i = 0; i < k; i++) {
        if (ir_dtype_is_float(t->dtype))
            printf(" %.6g", ir_tensor_getf(t, i));
        else
            printf(" %lld", (long long)ir_tensor_geti(t, i));
    }
    if (k < t->numel)
        printf(" ... (first %lld of %lld)", (long long)k, (long long)t->numel);
    printf("\n");
}

static int64_t row_argmax(const IrTensor *t, int64_t row)
{
    int64_t c = t->dims[1], best = 0;
    double bv = ir_tensor_getf(t, row * c);
    for (int64_t j = 1; j < c; j++) {
        double x = ir_tensor_getf(t, row * c + j);
        if (x > bv || (isnan(x) && !isnan(bv))) {
            bv = x;
            best = j;
        }
    }
    return best;
}

/* "logits: f32[64,10]  min -1.2 max 3.4 mean 0.01" plus values and row argmaxes. */
static void print_tensor(const char *name, const IrTensor *t, int64_t show)
{
    char type[160];
    size_t o = (size_t)snprintf(type, sizeof type, "%s[", srt_dtype_short(t->dtype));
    for (int r = 0; r < t->rank; r++)
        o += (size_t)snprintf(type + o, sizeof type - o, "%s%lld", r ? "," : "", (long long)t->dims[r]);
    snprintf(type + o, sizeof type - o, "]");
    printf("%s: %s", name, type);
    if (t->numel == 0) {
        printf("  (empty)\n");
        return;
    }
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    int64_t nans = 0, infs = 0, finite = 0;
    for (int64_t i = 0; i < t->numel; i++) {
        double x = ir_tensor_getf(t, i);
        if (isnan(x)) {
            nans++;
            continue;
        }
        if (isinf(x))
            infs++;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        if (isfinite(x)) {
            sum += x;
            finite++;
        }
    }
    if (nans < t->numel)
        printf("  min %.6g  max %.6g", lo, hi);
    if (finite)
        printf("  mean %.6g", sum / (double)finite);
    if (nans || infs)
        printf("  (%lld NaN, %lld inf)", (long long)nans, (long long)infs);
    printf("\n");
    print_values(t, show);
    if (t->rank == 2 && ir_dtype_is_float(t->dtype) && t->dims[1] > 1 && show > 0) {
        int64_t rows = t->dims[0] < show ? t->dims[0] : show;
        printf("  argmax of rows 0..%lld:", (long long)rows - 1);
        for (int64_t r = 0; r < rows; r++)
            printf(" %lld", (long long)row_argmax(t, r));
        printf("\n");
    }
}

/* For a SoftmaxCrossEntropyLoss over [N,C] scores and [N] labels: rows whose argmax is the label. */
static void print_accuracy(const IrGraph *g, const IrTensor *vals)
{
    const IrNode *loss = g->training->loss;
    if (loss->op != IR_OP_SCELOSS || loss->nin < 2 || loss->in[0] < 0 || loss->in[1] < 0)
        return;
    const IrTensor *scores = &vals[loss->in[0]], *labels = &vals[loss->in[1]];
    if (scores->rank != 2 || labels->rank != 1 || labels->dims[0] != scores->dims[0] || scores->dims[0] == 0)
        return;
    int64_t hits = 0;
    for (int64_t r = 0; r < scores->dims[0]; r++)
        hits += row_argmax(scores, r) == ir_tensor_geti(labels, r);
    printf("accuracy: %lld of %lld rows (%.1f%%): argmax of %s vs %s\n", (long long)hits, (long long)scores->dims[0],
           100.0 * (double)hits / (double)scores->dims[0], g->values[loss->in[0]]->name,
           g->values[loss->in[1]]->name);
}

/* Writes vals[b->id] to b->file. */
static int write_output(const IrGraph *g, const Binding *b, const IrTensor *t, IrDiag *d)
{
    SrtTensor st;
    memset(&st, 0, sizeof st);
    st.name = (char *)"";
    st.dtype = t->dtype;
    st.rank = t->rank;
    memcpy(st.dims, t->dims, sizeof st.dims);
    st.nbytes = (size_t)t->numel * srt_dtype_size(t->dtype);
    st.data = t->data;
    char err[256];
    if (srt_npy_write(b->file, &st, err, sizeof err) != SINTER_OK) {
        ir_diag_error(d, NULL, "%s: %s", b->file, err);
        return -1;
    }
    return 0;
}

/* Max |a - b| and max |a - b| / |b| (over b != 0) of two tensors of the same type and shape, plus
 * the count of elements where exactly one is NaN (or, for integers, where they differ). */
static void print_difference(const IrTensor *a, const IrTensor *b)
{
    double abs_max = 0, rel_max = 0;
    int64_t mismatches = 0;
    bool is_float = ir_dtype_is_float(a->dtype);
    if (a->numel != b->numel || a->dtype != b->dtype) {
        printf("  vs interpreter: the interpreter's result is %s with %lld elements (a bug in sinter)\n",
               srt_dtype_short(b->dtype), (long long)b->numel);
        return;
    }
    for (int64_t i = 0; i < a->numel; i++) {
        if (!is_float) {
            int64_t x = ir_tensor_geti(a, i), y = ir_tensor_geti(b, i);
            mismatches += x != y;
            double diff = fabs((double)x - (double)y);
            abs_max = diff > abs_max ? diff : abs_max;
            continue;
        }
        double x = ir_tensor_getf(a, i), y = ir_tensor_getf(b, i);
        if (isnan(x) || isnan(y)) {
            mismatches += isnan(x) != isnan(y);
            continue;
        }
        if (x == y)   /* also equal infinities */
            continue;
        double diff = fabs(x - y);
        if (isinf(diff)) {
            mismatches++;
            continue;
        }
        abs_max = diff > abs_max ? diff : abs_max;
        if (y != 0 && diff / fabs(y) > rel_max)
            rel_max = diff / fabs(y);
    }
    if (is_float) {
        printf("  vs interpreter: max abs diff %.3g, max rel diff %.3g", abs_max, rel_max);
        if (mismatches)
            printf(", %lld elements NaN or inf in only one of them", (long long)mismatches);
    } else {
        printf("  vs interpreter: %lld of %lld elements differ (max abs diff %.0f)", (long long)mismatches,
               (long long)a->numel, abs_max);
    }
    printf("\n");
}

/* Inputs of one run: files read, tensors made by --random, and the interpreter's view of both. */
typedef struct RunInputs {
    int nslots;               /* graph inputs (+ training inputs when with_loss) */
    SrtTensor *files;         /* per --input */
    IrTensor *in;             /* per slot: borrowed from files or made */
    IrTensor *made;           /* per slot: --random tensors we own */
    int64_t n;
    const char *n_from;       /* what decided n; NULL if no input depends on N */
} RunInputs;

static void free_inputs(RunInputs *r, int ninputs)
{
    for (int i = 0; r->files && i < ninputs; i++)
        srt_tensor_free(&r->files[i]);
    for (int i = 0; r->made && i < r->nslots; i++)
        ir_tensor_free(&r->made[i]);
    free(r->files);
    free(r->in);
    free(r->made);
}

/* Reads and checks the --input files, decides N, makes the --random inputs. */
static int read_inputs(const IrGraph *g, const RunArgs *o, bool with_loss, RunInputs *r, IrDiag *d)
{
    int nt = with_loss ? g->training->ninputs : 0;
    r->nslots = g->ninputs + nt;
    r->files = srt_calloc((size_t)o->ninputs + 1, sizeof *r->files);
    r->in = srt_calloc((size_t)r->nslots + 1, sizeof *r->in);
    r->made = srt_calloc((size_t)r->nslots + 1, sizeof *r->made);
    if (!r->files || !r->in || !r->made) {
        ir_diag_error(d, NULL, "sinter run: out of memory");
        return -1;
    }
    r->n = o->n;
    r->n_from = o->have_n ? "--n" : NULL;
    char err[256];
    for (int i = 0; i < o->ninputs; i++) {
        const Binding *b = &o->inputs[i];
        if (srt_npy_read(b->file, &r->files[i], err, sizeof err) != SINTER_OK) {
            ir_diag_error(d, NULL, "%s: %s", b->file, err);
            return -1;
        }
        d->file = b->file;   /* "x.npy: input "x" is declared ..." */
        if (match_input(g->values[b->id], &r->files[i], b->file, &r->n, &r->n_from, d) != 0)
            return -1;
        d->file = NULL;
        int slot = input_slot(g, b->id);
        if (slot >= r->nslots)
            continue;
        IrTensor *t = &r->in[slot];
        t->dtype = r->files[i].dtype;
        t->rank = r->files[i].rank;
        memcpy(t->dims, r->files[i].dims, sizeof t->dims);
        t->numel = 1;
        for (int k = 0; k < t->rank; k++)
            t->numel *= t->dims[k];
        t->data = r->files[i].data;
    }
    if (!r->n_from) {
        r->n = 1;   /* no input file decides N: inputs without N, or only --random ones */
        for (int slot = 0; slot < r->nslots && !r->n_from; slot++) {
            int id = slot < g->ninputs ? g->inputs[slot] : g->training->inputs[slot - g->ninputs];
            if (!ir_shape_is_const(&g->values[id]->shape))
                r->n_from = "the default; --n sets it";
        }
    }
    for (int slot = 0; slot < g->ninputs; slot++) {
        bool given = false;
        for (int i = 0; i < o->ninputs; i++)
            given = given || input_slot(g, o->inputs[i].id) == slot;
        if (!given) {
            if (random_input(g->values[g->inputs[slot]], r->n, slot, &r->made[slot], d) != 0)
                return -1;
            r->in[slot] = r->made[slot];
        }
    }
    return 0;
}

/* " with N=4 (from x.npy)" */
static void print_n(const RunInputs *r)
{
    if (r->n_from)
        printf(" with N=%lld (from %s)", (long long)r->n, r->n_from);
    else
        printf(" (no input depends on N)");
}

/* The interpreter's results for g's outputs (and the loss when with_loss), printed. */
static void print_interp(const IrGraph *g, const RunArgs *o, bool with_loss, const RunInputs *r,
                         const IrTensor *vals)
{
    if (r->n_from)
        printf("%s: ran on the reference interpreter with N=%lld (from %s)\n", g->name, (long long)r->n, r->n_from);
    else
        printf("%s: ran on the reference interpreter (no input depends on N)\n", g->name);
    for (int i = 0; i < g->noutputs; i++)
        print_tensor(g->values[g->outputs[i]]->name, &vals[g->outputs[i]], o->show);
    if (with_loss) {
        const IrNode *loss = g->training->loss;
        const IrTensor *lt = &vals[loss->out[0]];
        if (lt->numel == 1)
            printf("%s: %.6g (%s)\n", g->values[loss->out[0]]->name, ir_tensor_getf(lt, 0), ir_op_name(loss->op));
        else   /* reduction "none" */
            print_tensor(g->values[loss->out[0]]->name, lt, o->show);
        print_accuracy(g, vals);
    }
}

/* Runs the compiled model x on the inputs; outs[i] receives descriptor output i. */
static int run_native(CliNative *x, const IrGraph *g, const RunArgs *o, const RunInputs *r, IrTensor *outs,
                      IrDiag *d)
{
    const SinterModelInfo *info = x->info;
    if (info->ninputs != g->ninputs || info->noutputs != g->noutputs) {
        ir_diag_error(d, NULL, "internal error: the compiled model has %lld inputs and %lld outputs, the graph %d "
                      "and %d", (long long)info->ninputs, (long long)info->noutputs, g->ninputs, g->noutputs);
        return -1;
    }
    /* a MODEL.json was compiled with the weights already */
    if (cli_native_prepare(x, o->threads, o->lib ? o->weights : NULL, d) != 0)
        return -1;
    void **args = srt_calloc((size_t)(info->ninputs + info->noutputs) + 1, sizeof *args);
    if (!args) {
        ir_diag_error(d, NULL, "sinter run: out of memory");
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < g->ninputs && rc == 0; i++) {
        if (strcmp(info->inputs[i].name, g->values[g->inputs[i]]->name) != 0) {
            ir_diag_error(d, NULL, "internal error: compiled input %d is \"%s\", the graph's \"%s\"", i,
                          info->inputs[i].name, g->values[g->inputs[i]]->name);
            rc = -1;
        }
        args[i] = r->in[i].data;
    }
    for (int i = 0; i < g->noutputs && rc == 0; i++) {
        const SinterTensorInfo *t = &info->outputs[i];
        int64_t dims[SRT_MAX_RANK];
        if (!cli_native_dims(t, r->n, dims) || ir_tensor_alloc(&outs[i], (IrDtype)t->dtype, (int)t->rank, dims) != 0) {
            ir_diag_error(d, NULL, "output \"%s\": cannot allocate it at N=%lld", t->name, (long long)r->n);
            rc = -1;
        }
        args[info->ninputs + i] = outs[i].data;
    }
    if (rc == 0)
        rc = cli_native_infer(x, r->n, args, d);
    free(args);
    return rc;
}

/* Everything after argument parsing. */
static int run_model(RunArgs *o)
{
    bool native = !o->interp;
    CliNative x;
    memset(&x, 0, sizeof x);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrGraph *g;
    if (o->lib) {
        if (cli_native_open(&x, o->model, &d) != 0)
            return cli_report(&d);
        g = cli_native_graph(x.info);
    } else if (!(g = cli_load_model_weights(o->model, o->weights))) {
        ir_diag_free(&d);
        return CLI_EINPUT;
    } else if (o->quantize.pass.kind != PASS_QUANT_NONE || o->quantize.sparse) {
        d.file = o->model;
        if (cli_quantize_model(g, &o->quantize, &d) != 0) {
            ir_graph_free(g);
            return cli_report(&d);
        }
        d.file = NULL;
    }
    bool with_loss = false;
    int status = bind_names(g, o, native, &with_loss);
    if (status != CLI_OK) {
        ir_diag_free(&d);
        cli_native_close(&x);
        ir_graph_free(g);
        return status;
    }
    RunInputs r;
    memset(&r, 0, sizeof r);
    IrTensor *vals = srt_calloc((size_t)g->nvalues + 1, sizeof *vals);
    IrTensor *outs = srt_calloc((size_t)g->noutputs + 1, sizeof *outs);
    if (!vals || !outs) {
        ir_diag_error(&d, NULL, "sinter run: out of memory");
        goto fail;
    }
    if (read_inputs(g, o, with_loss, &r, &d) != 0)
        goto fail;
    if (native) {
        d.file = o->model;
        if (!o->lib && cli_native_compile(&x, g, o->opt_level < 0 ? 2 : o->opt_level, false, o->check_finite, &d) != 0)
            goto fail;
        if (run_native(&x, g, o, &r, outs, &d) != 0)
            goto fail;
        d.file = NULL;
    }
    if (!native || o->compare) {
        d.file = o->model;
        if (ir_interp_eval(g, r.n, r.in, with_loss, vals, &d) != 0)
            goto fail;
        if (o->check_finite && ir_interp_check_finite(g, vals, &d) != 0)
            goto fail;
        d.file = NULL;
    }
    if (native) {
        int threads = o->threads ? o->threads : srt_default_threads();
        if (o->lib)
            printf("%s: ran %s", g->name, o->model);
        else
            printf("%s: ran native code compiled in memory (-O%d, %.2f s)", g->name,
                   o->opt_level < 0 ? 2 : o->opt_level, x.compile_seconds);
        print_n(&r);
        printf(" on %d thread%s\n", threads, threads == 1 ? "" : "s");
        for (int i = 0; i < g->noutputs; i++) {
            print_tensor(x.info->outputs[i].name, &outs[i], o->show);
            if (o->compare)
                print_difference(&outs[i], &vals[g->outputs[i]]);
        }
    } else {
        print_interp(g, o, with_loss, &r, vals);
    }
    for (int i = 0; i < o->noutputs; i++) {
        const Binding *b = &o->outputs[i];
        const IrTensor *t = &vals[b->id];
        for (int k = 0; native && k < g->noutputs; k++)
            if (g->outputs[k] == b->id)
                t = &outs[k];
        if (t->rank == 0 && t->numel == 0) {   /* still the zeroed entry */
            ir_diag_error(&d, NULL, "sinter run: --output %s: the tensor was not computed in this run", b->name);
            goto fail;
        }
        if (write_output(g, b, t, &d) != 0)
            goto fail;
        printf("wrote %s to %s\n", b->name, b->file);
    }
    status = CLI_OK;
    goto done;
fail:
    status = cli_report(&d);
done:
    ir_diag_free(&d);
    free_inputs(&r, o->ninputs);
    for (int i = 0; vals && i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    for (int i = 0; outs && i < g->noutputs; i++)
        ir_tensor_free(&outs[i]);
    free(vals);
    free(outs);
    cli_native_close(&x);
    ir_graph_free(g);
    return status;
}

static int run_run(int argc, char **argv)
{
    RunArgs o;
    memset(&o, 0, sizeof o);
    o.show = 8;
    o.opt_level = -1;
    o.inputs = srt_calloc((size_t)argc, sizeof *o.inputs);
    o.outputs = srt_calloc((size_t)argc, sizeof *o.outputs);
    int status;
    if (!o.inputs || !o.outputs)
        status = cli_input_error("run", "out of memory");
    else if ((status = parse_args(argc, argv, &o)) == CLI_OK)
        status = run_model(&o);
    for (int i = 0; o.inputs && i < o.ninputs; i++)
        free((char *)o.inputs[i].name);
    for (int i = 0; o.outputs && i < o.noutputs; i++)
        free((char *)o.outputs[i].name);
    free(o.inputs);
    free(o.outputs);
    return status;
}

const CliVerb cli_verb_run = {
    "run", run_run,
    "usage: sinter run MODEL.json|LIB.so --input NAME=FILE.npy ... [--output NAME=FILE.npy ...]\n"
    "                  [--n N] [--random] [--show K] [--threads T] [--weights FILE] [-O0..3]\n"
    "                  [--interp | --compare] [--quantize KIND [--quantize-group G]] [--check-finite]\n"
    "                  [--calibrate DATA [--calibrate-samples K]]\n"
    "\n"
    "Runs inference and prints for each graph output its type, min/max/mean and first values\n"
    "(and for a [N,C] float output the argmax of the first rows).\n"
    "  LIB.so       a library made by 'sinter compile': loaded and driven through its\n"
    "               sinter_model_info descriptor\n"
    "  MODEL.json   compiled in memory for this machine (the default passes, then LLVM's\n"
    "               ORC JIT) and run; no file is left behind\n"
    "  MODEL.json --interp   the reference interpreter (the plain-C oracle every compiled\n"
    "               kernel is tested against) on the model as written; given the training\n"
    "               inputs (labels) as well, it also prints the loss and, for\n"
    "               SoftmaxCrossEntropyLoss, the accuracy\n"
    "\n"
    "  --input NAME=FILE     a graph input (or, with --interp, a training input) from a .npy\n"
    "                        file; the dtype must be the declared one (no silent conversion),\n"
    "                        and N is taken from the shapes, which must agree with each other\n"
    "  --output NAME=FILE    write a tensor to a .npy file: a graph output, or with --interp\n"
    "                        any other tensor of the model (activations, params, the loss)\n"
    "  --n N                 the batch symbol when no input file decides it (checked otherwise)\n"
    "  --random              inputs without --input get seeded values: uniform [0, 1) for\n"
    "                        floats, 0 for integers\n"
    "  --show K              values and rows to print per output (default 8)\n"
    "  --threads T           threads of compiled code (default: SINTER_NUM_THREADS, else\n"
    "                        OMP_NUM_THREADS, else the CPUs this process may run on)\n"
    "  --weights FILE        the params from a .safetensors file (a checkpoint of 'sinter train\n"
    "                        --save' works; its optimizer state is ignored), also with --interp\n"
    "                        and --compare; needed for a library built with --external-weights\n"
    "  -O0 .. -O3            optimization level when compiling a MODEL.json (default -O2)\n"
    "  --quantize KIND       int8, int8-weights or int4-weights, as 'sinter compile --quantize'\n"
    "                        (the interpreter then runs its reference DequantGemm or IntGemm)\n"
    "  --quantize-group G    its group size (32, 64 or 128)\n"
    "  --calibrate DATA      int8: calibration examples, as 'sinter compile --calibrate'\n"
    "  --calibrate-samples K how many (default 512)\n"
    "  --quantize-report     int8: each layer's output error against float (calibration examples)\n"
    "  --quantize-tolerance X  int8: layers whose error is above X stay float\n"
    "  --sparse              weights with <= 25% non-zeros as CSR, as 'sinter compile --sparse'\n"
    "  --interp              run on the reference interpreter only\n"
    "  --compare             run compiled code and the interpreter on the same inputs; prints\n"
    "                        the compiled outputs and, per output, the max abs difference and\n"
    "                        the max rel difference |a-b|/|b| (over b != 0)\n"
    "  --check-finite        a NaN or an infinity in an output is an error naming it (compiled\n"
    "                        code as 'sinter compile --check-finite', and the interpreter)\n"
    "\n"
    "Exit status: 0 success, 1 bad model, library or tensor file, or a failed inference\n"
    "(diagnostics on stderr), 2 bad usage.\n",
    "run inference on .npy inputs (compiled, or --interp) and summarize outputs",
};
