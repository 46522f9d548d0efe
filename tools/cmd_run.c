/* `sinter run`: runs a model on .npy inputs with the reference interpreter and summarizes its outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

/* NAME=FILE from --input/--output; id is the value it names once the model is loaded. */
typedef struct Binding {
    const char *name;
    const char *file;
    int id;
} Binding;

typedef struct RunArgs {
    const char *model;
    bool interp;
    bool random;              /* fill inputs not given with seeded values */
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
    b->name = strndup(arg, (size_t)(eq - arg));
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
    static const char *const known[] = {"--interp", "--input", "--output", "--n", "--random", "--show",
                                        "--help", NULL};
    CliArgs a;
    cli_args_init(&a, "run", argc, argv);
    const char *v;
    while (cli_next(&a)) {
        if (cli_flag(&a, "--interp")) {
            o->interp = true;
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
    if (cli_has_suffix(o->model, ".so"))
        return cli_usage_error("run", "%s: running a compiled library needs native code generation, which is not in "
                               "this build yet; run the MODEL.json with --interp", o->model);
    if (!o->interp) {
        fprintf(stderr, "sinter run: native execution of a .json model arrives with the compiler (not in this "
                        "build yet); add --interp to run %s on the reference interpreter\n", o->model);
        return CLI_EUSAGE;
    }
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

/* Resolves the names of --input/--output against the model. Usage errors -> CLI_EUSAGE. */
static int bind_names(const IrGraph *g, RunArgs *o, bool *with_loss)
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

/* Everything after argument parsing. */
static int run_model(RunArgs *o)
{
    IrGraph *g = cli_load_model(o->model);
    if (!g)
        return CLI_EINPUT;
    bool with_loss = false;
    int status = bind_names(g, o, &with_loss);
    if (status != CLI_OK) {
        ir_graph_free(g);
        return status;
    }
    int nt = with_loss ? g->training->ninputs : 0;
    int nslots = g->ninputs + nt;
    SrtTensor *files = calloc((size_t)o->ninputs + 1, sizeof *files);
    IrTensor *in = calloc((size_t)nslots + 1, sizeof *in);
    IrTensor *made = calloc((size_t)nslots + 1, sizeof *made);   /* --random inputs we own */
    IrTensor *vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
    IrDiag d;
    ir_diag_init(&d, NULL);
    if (!files || !in || !made || !vals) {
        ir_diag_error(&d, NULL, "sinter run: out of memory");
        goto fail;
    }
    int64_t n = o->n;
    const char *n_from = o->have_n ? "--n" : NULL;
    char err[256];
    for (int i = 0; i < o->ninputs; i++) {
        Binding *b = &o->inputs[i];
        if (srt_npy_read(b->file, &files[i], err, sizeof err) != SINTER_OK) {
            ir_diag_error(&d, NULL, "%s: %s", b->file, err);
            goto fail;
        }
        d.file = b->file;   /* "x.npy: input "x" is declared ..." */
        if (match_input(g->values[b->id], &files[i], b->file, &n, &n_from, &d) != 0)
            goto fail;
        d.file = NULL;
        int slot = input_slot(g, b->id);
        if (slot >= nslots)
            continue;
        IrTensor *t = &in[slot];
        t->dtype = files[i].dtype;
        t->rank = files[i].rank;
        memcpy(t->dims, files[i].dims, sizeof t->dims);
        t->numel = 1;
        for (int k = 0; k < t->rank; k++)
            t->numel *= t->dims[k];
        t->data = files[i].data;
    }
    if (!n_from) {
        n = 1;   /* no input file decides N: inputs without N, or only --random ones */
        for (int slot = 0; slot < nslots && !n_from; slot++) {
            int id = slot < g->ninputs ? g->inputs[slot] : g->training->inputs[slot - g->ninputs];
            if (!ir_shape_is_const(&g->values[id]->shape))
                n_from = "the default; --n sets it";
        }
    }
    for (int slot = 0; slot < g->ninputs; slot++) {
        bool given = false;
        for (int i = 0; i < o->ninputs; i++)
            given = given || input_slot(g, o->inputs[i].id) == slot;
        if (!given) {
            if (random_input(g->values[g->inputs[slot]], n, slot, &made[slot], &d) != 0)
                goto fail;
            in[slot] = made[slot];
        }
    }
    d.file = o->model;
    if (ir_interp_eval(g, n, in, with_loss, vals, &d) != 0)
        goto fail;
    d.file = NULL;
    if (n_from)
        printf("%s: ran on the reference interpreter with N=%lld (from %s)\n", g->name, (long long)n, n_from);
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
    for (int i = 0; i < o->noutputs; i++) {
        const Binding *b = &o->outputs[i];
        if (vals[b->id].rank == 0 && vals[b->id].numel == 0) {   /* still the zeroed entry */
            ir_diag_error(&d, NULL, "sinter run: --output %s: the tensor was not computed in this run", b->name);
            goto fail;
        }
        if (write_output(g, b, &vals[b->id], &d) != 0)
            goto fail;
        printf("wrote %s to %s\n", b->name, b->file);
    }
    status = CLI_OK;
    goto done;
fail:
    status = cli_report(&d);
done:
    ir_diag_free(&d);
    for (int i = 0; files && i < o->ninputs; i++)
        srt_tensor_free(&files[i]);
    for (int i = 0; made && i < nslots; i++)
        ir_tensor_free(&made[i]);
    for (int i = 0; vals && i < g->nvalues; i++)
        ir_tensor_free(&vals[i]);
    free(files);
    free(in);
    free(made);
    free(vals);
    ir_graph_free(g);
    return status;
}

static int run_run(int argc, char **argv)
{
    RunArgs o;
    memset(&o, 0, sizeof o);
    o.show = 8;
    o.inputs = calloc((size_t)argc, sizeof *o.inputs);
    o.outputs = calloc((size_t)argc, sizeof *o.outputs);
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
    "usage: sinter run MODEL.json --interp --input NAME=FILE.npy ... [--output NAME=FILE.npy ...]\n"
    "                  [--n N] [--random] [--show K]\n"
    "\n"
    "Runs inference on the reference interpreter (the plain-C oracle every compiled kernel\n"
    "is tested against) on the model as written, and prints for each graph output its\n"
    "type, min/max/mean and first values (and for a [N,C] float output the argmax of the\n"
    "first rows). Given the training inputs (labels) as well, it also prints the loss and,\n"
    "for SoftmaxCrossEntropyLoss, the accuracy.\n"
    "\n"
    "  --interp              use the reference interpreter (required until the compiler lands)\n"
    "  --input NAME=FILE     a graph input (or training input) from a .npy file; the dtype\n"
    "                        must be the declared one (no silent conversion), and N is\n"
    "                        taken from the shapes, which must agree with each other\n"
    "  --output NAME=FILE    write a tensor to a .npy file: a graph output or any other\n"
    "                        tensor of the model (activations, params, the loss)\n"
    "  --n N                 the batch symbol when no input file decides it (checked otherwise)\n"
    "  --random              inputs without --input get seeded values: uniform [0, 1) for\n"
    "                        floats, 0 for integers\n"
    "  --show K              values and rows to print per output (default 8)\n"
    "\n"
    "Running a compiled LIB.so, or a .json without --interp, needs native code generation,\n"
    "which is not in this build yet (exit status 2).\n"
    "Exit status: 0 success, 1 bad model or tensor file (diagnostics on stderr), 2 bad usage.\n",
    "run inference on .npy inputs (--interp: the reference interpreter) and summarize outputs",
};
