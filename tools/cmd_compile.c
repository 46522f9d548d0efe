/* `sinter compile`: runs the pass pipeline and compiles a model to a shared library + header (or .o/.s/.ll/.bc), or writes the model after it (.json). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <stdlib.h>
#include <string.h>

#include "codegen/codegen.h"
#include "frontend/frontend.h"
#include "passes/passes.h"
#include "tools/cli.h"

typedef struct CompileArgs {
    const char *model;
    const char *out;
    const char *emit;         /* NULL: by the extension of out */
    const char *dump_after;   /* a pass name, "plan" or "all"; NULL: no dumps */
    const char *weights;      /* --weights: params from this .safetensors file; NULL: the model's */
    PassPrune prune;          /* --prune SPEC */
    CliQuant quantize;        /* --quantize KIND [--quantize-group G] [--calibrate DATA] */
    bool json;                /* -o OUT.json / --emit json: the model after the pipeline */
    CgOptions cg;
    CgLinkOptions link;
} CompileArgs;

static int parse_args(int argc, char **argv, CompileArgs *o)
{
    static const char *const known[] = {"-o", "--emit", "-O0", "-O1", "-O2", "-O3", "--target", "--cpu",
                                        "--features", "--external-weights", "--dump-after", "--weights", "--soname",
                                        "--strip", "--prune", "--quantize", "--quantize-group", "--check-finite",
                                        "--calibrate", "--calibrate-samples",
                                        "--quantize-report", "--quantize-tolerance", "--sparse", "--help", NULL};
    memset(o, 0, sizeof *o);
    o->cg.opt_level = 2;
    CliArgs a;
    cli_args_init(&a, "compile", argc, argv);
    const char *v;
    int qr;
    while (cli_next(&a)) {
        if (cli_flag(&a, "-O0") || cli_flag(&a, "-O1") || cli_flag(&a, "-O2") || cli_flag(&a, "-O3")) {
            o->cg.opt_level = argv[a.i][2] - '0';
        } else if (cli_flag(&a, "--external-weights")) {
            o->cg.external_weights = true;
        } else if (cli_flag(&a, "--check-finite")) {
            o->cg.check_finite = true;
        } else if (cli_flag(&a, "--strip")) {
            o->link.strip = true;
        } else if (cli_option(&a, "--weights", "a .safetensors file", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->weights = v;
        } else if (cli_option(&a, "--prune", "magnitude:S, global-magnitude:S, channels:S or N:M", &v)) {
            if (!v)
                return CLI_EUSAGE;
            char err[256];
            if (pass_prune_parse(v, &o->prune, err, sizeof err) != 0)
                return cli_usage_error("compile", "--prune %s", err);
        } else if ((qr = cli_quantize_option(&a, &o->quantize)) != 0) {
            if (qr < 0)
                return CLI_EUSAGE;
        } else if (cli_option(&a, "--soname", "a file name such as libNAME.so.1", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->link.soname = v;
        } else if (cli_option(&a, "-o", "an output file (.so, .o, .ll, .bc or .s)", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->out = v;
        } else if (cli_option(&a, "--emit", "so, o, ll, bc, s or json", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->emit = v;
        } else if (cli_option(&a, "--target", "a target triple such as aarch64-linux-gnu", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->cg.triple = v;
        } else if (cli_option(&a, "--cpu", "a CPU name such as x86-64-v3 or neoverse-n1", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->cg.cpu = v;
        } else if (cli_option(&a, "--features", "a feature list such as +avx2,-avx512f", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->cg.features = v;
        } else if (cli_option(&a, "--dump-after", "a pass name, plan or all", &v)) {
            if (!v)
                return CLI_EUSAGE;
            o->dump_after = v;
        } else if (cli_positional(&a, &v)) {
            if (o->model)
                return cli_usage_error("compile", "expects one MODEL.json, got \"%s\" and \"%s\"", o->model, v);
            o->model = v;
        } else if (argv[a.i][0] == '-' && argv[a.i][1] == 'O') {
            return cli_usage_error("compile", "unknown optimization level %s (use -O0, -O1, -O2 or -O3)", argv[a.i]);
        } else {
            return cli_unknown(&a, known);
        }
    }
    if (!o->model)
        return cli_usage_error("compile", "expects a MODEL.json");
    if (!o->out)
        return cli_usage_error("compile", "expects an output file: -o OUT (e.g. -o lib%s.so)", "NAME");
    if (o->dump_after && strcmp(o->dump_after, "plan") && strcmp(o->dump_after, "all")) {
        const char *const *names;
        int count = pass_default_pipeline(&names);
        bool found = false;
        char list[512] = "";
        size_t len = 0;
        for (int i = 0; i < count; i++) {
            found |= !strcmp(names[i], o->dump_after);
            if (!strstr(list, names[i]) && len < sizeof list)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", len ? ", " : "", names[i]);
        }
        if (!found)
            return cli_usage_error("compile", "--dump-after expects a pass of the pipeline, plan or all, got \"%s\" "
                                   "(the pipeline runs %s)", o->dump_after, list);
    }
    o->json = o->emit ? !strcmp(o->emit, "json") : cli_has_suffix(o->out, ".json");
    qr = cli_quantize_args("compile", &o->quantize);
    if (qr != CLI_OK)
        return qr;
    if (o->json) {
        if (!cli_has_suffix(o->out, ".json"))
            return cli_usage_error("compile", "--emit json writes OUT.json and OUT.safetensors: -o must end in .json, "
                                   "got \"%s\"", o->out);
        if (o->dump_after && !strcmp(o->dump_after, "plan"))
            return cli_usage_error("compile", "--dump-after plan needs code; -o %s writes a model", o->out);
        return CLI_OK;
    }
    IrDiag d;
    ir_diag_init(&d, NULL);
    if (cg_target_check(&o->cg, o->out, o->emit, &d) != 0 || cg_link_check(&o->link, o->out, o->emit, &d) != 0) {
        int r = cli_usage_error("compile", "%s", ir_diag_first(&d));
        ir_diag_free(&d);
        return r;
    }
    ir_diag_free(&d);
    return CLI_OK;
}

/* The model after the pipeline as OUT.json, its params in OUT.safetensors beside it (which the
 * JSON names): a pruned model can be trained and inspected. */
static int write_model(IrGraph *g, const char *out, IrDiag *d)
{
    size_t len = strlen(out);
    char *wpath = srt_malloc(len + 16);
    SrtTensor *ts = srt_calloc((size_t)g->nvalues + 1, sizeof *ts);
    IR_ASSERT(wpath && ts);
    snprintf(wpath, len + 16, "%.*s.safetensors", (int)(len - 5), out);
    int n = 0;
    for (int id = 0; id < g->nvalues; id++) {
        IrValue *v = g->values[id];
        IrDim cnt;
        if (v->role != IR_ROLE_PARAM || v->opt_state || !v->data || !ir_shape_numel(&v->shape, &cnt) || cnt.a)
            continue;
        SrtTensor *t = &ts[n++];
        t->name = (char *)v->name;
        t->dtype = v->dtype;
        t->rank = v->shape.rank;
        for (int k = 0; k < v->shape.rank; k++)
            t->dims[k] = v->shape.d[k].b;
        t->nbytes = (size_t)cnt.b * srt_dtype_size(v->dtype);
        t->data = v->data;
    }
    char err[512];
    int rc = -1;
    if (srt_safetensors_write(wpath, ts, n, err, sizeof err) != SINTER_OK) {
        ir_diag_error(d, wpath, "%s", err);
        goto done;
    }
    for (int id = 0; id < g->nvalues; id++) {
        IrValue *v = g->values[id];
        if (v->role == IR_ROLE_PARAM && !v->opt_state && v->data) {
            v->from_weights = true;
            v->init_json = NULL;
        }
    }
    char *abs = realpath(wpath, NULL);
    g->weights = ir_arena_strdup(g->arena, abs ? abs : wpath);
    free(abs);
    for (int i = 0; i < g->nnodes; i++)
        g->nodes[i]->group = -1;   /* kernel groups are the compiler's, not the model's */
    char *json = fe_emit_json(g);
    if (!json) {
        ir_diag_error(d, out, "out of memory");
        remove(wpath);
        goto done;
    }
    if (srt_write_file_atomic(out, json, strlen(json), err, sizeof err) != SINTER_OK) {
        ir_diag_error(d, out, "%s", err);
        remove(wpath);
    } else {
        rc = 0;
    }
    free(json);
done:
    free(ts);
    free(wpath);
    return rc;
}

static int run_compile(int argc, char **argv)
{
    CompileArgs o;
    int r = parse_args(argc, argv, &o);
    if (r != CLI_OK)
        return r;
    IrGraph *g = cli_load_model_weights(o.model, o.weights);
    if (!g)
        return CLI_EINPUT;
    IrDiag d;
    ir_diag_init(&d, o.model);
    int status = CLI_OK;
    IrGraph *tg = NULL;
    PassContext ctx;
    pass_context_init(&ctx, &d);
    ctx.verify = true;
    ctx.prune = o.prune;
    if (cli_quantize_calibrate(g, &o.prune, &o.quantize, &o.cg, &d) != 0) {
        status = cli_report(&d);
        goto out;
    }
    ctx.quantize = o.quantize.pass;
    ctx.sparse = o.quantize.sparse;
    if (o.dump_after && strcmp(o.dump_after, "plan")) {
        ctx.dump_after = o.dump_after;
        ctx.dump_file = stdout;
    }
    /* -o OUT.json: the model after compression (quantized weights as float values on their grid
     * with their records), not packed; a library with packed weights is inference-only (the
     * training step would need the float params again) */
    int rc = 0;
    if (o.json && (rc = pass_compress(g, &ctx)) == 0) {
        ctx.prune.kind = PASS_PRUNE_NONE;
        ctx.quantize.kind = PASS_QUANT_NONE;
        ctx.sparse = false;   /* the model keeps its dense weights */
    }
    if (rc != 0 ||
        pass_prepare(g, &ctx, ctx.quantize.kind != PASS_QUANT_NONE || ctx.sparse ? NULL : &tg) != 0) {
        if (d.count == 0)
            ir_diag_error(&d, NULL, "the pass pipeline failed without a diagnostic (a bug in sinter)");
        status = cli_report(&d);
        goto out;
    }
    if (o.json) {
        d.file = NULL;
        if (write_model(g, o.out, &d) != 0)
            status = cli_report(&d);
        else
            ir_diag_free(&d);
        goto out;
    }
    if (o.dump_after && (!strcmp(o.dump_after, "plan") || !strcmp(o.dump_after, "all"))) {
        CgProgram *p;
        if (cg_lower(g, &p, &d) != 0) {
            status = cli_report(&d);
            goto out;
        }
        printf("; after plan\n");
        cg_print_program(p, stdout);
        cg_program_free(p);
    }
    if (cg_compile_with(g, tg, &o.cg, &o.link, o.out, o.emit, &d) != 0) {
        status = cli_report(&d);
        goto out;
    }
    ir_diag_free(&d);
out:
    if (tg)
        ir_graph_free(tg);
    ir_graph_free(g);
    cli_quant_free(&o.quantize);
    return status;
}

const CliVerb cli_verb_compile = {
    "compile", run_compile,
    "usage: sinter compile MODEL.json -o OUT [--emit so|o|ll|bc|s] [-O0..3] [--target TRIPLE]\n"
    "                      [--cpu NAME] [--features LIST] [--weights FILE] [--external-weights]\n"
    "                      [--soname NAME] [--strip] [--dump-after PASS] [--prune SPEC]\n"
    "                      [--quantize KIND [--quantize-group G] [--calibrate DATA]\n"
    "                      [--calibrate-samples K] [--quantize-report] [--quantize-tolerance X]]\n"
    "                      [--sparse] [--check-finite]\n"
    "\n"
    "Compiles a model ahead of time with LLVM: runs the inference pass pipeline (and, for a\n"
    "model with a training section, the training pipeline on a copy of it), emits one kernel\n"
    "per kernel group, plans the memory, and writes a self-contained shared library plus its\n"
    "C header NAME.h beside it (NAME is the model's name): NAME_create, NAME_infer,\n"
    "NAME_load/NAME_save (.safetensors), NAME_set_num_threads, NAME_error, the training entry\n"
    "points when the model trains, and the descriptor sinter_model_info that generic tools use. The library needs only libc, libm and the OpenMP runtime; one library serves every\n"
    "batch size.\n"
    "\n"
    "  -o OUT              output file; its extension picks the kind unless --emit says it:\n"
    "                      .so (shared library + header), .o (object + header; link it with\n"
    "                      the runtime libsinter_rt.a, libgomp and libm), .ll / .bc (LLVM IR),\n"
    "                      .s (assembly)\n"
    "                      .json: the model after the pipeline (pruned, say), its params in\n"
    "                      OUT.safetensors beside it, for 'sinter train OUT.json' or inspection\n"
    "  --emit KIND         so, o, ll, bc, s or json\n"
    "  -O0 .. -O3          optimization level (default -O2)\n"
    "  --target TRIPLE     cross-compile, e.g. aarch64-linux-gnu or riscv64-linux-gnu; a .so is\n"
    "                      linked with TRIPLE-gcc from PATH and the runtime built for it\n"
    "  --cpu NAME          CPU to select instructions for (default: this machine's; with\n"
    "                      --target: generic). x86-64-v3 is a portable AVX2 baseline\n"
    "  --features LIST     CPU features, e.g. +avx2,-avx512f (default: the CPU's)\n"
    "  --weights FILE      params from a .safetensors file instead of the model's weights or\n"
    "                      inits: every param by name, dtype and shape (a checkpoint of\n"
    "                      'sinter train --save' works; its optimizer state is ignored)\n"
    "  --prune SPEC        prune first: magnitude:S (zero each weight's fraction S of smallest\n"
    "                      values), global-magnitude:S (one ranking), N:M (2:4 along the last\n"
    "                      dim), channels:S (remove the output channels of lowest L2 norm and\n"
    "                      the next layer's inputs; not across residual Adds or Concats)\n"
    "  --quantize KIND     int8: int8 weights x uint8 activations, int32 sums (vpdpbusd,\n"
    "                      vpmaddubsw); int8-weights, int4-weights: integer weights widened in\n"
    "                      registers. The library is then inference-only\n"
    "  --quantize-group G  weights only: a scale per G of K (32, 64, 128; int4 default 32)\n"
    "  --calibrate DATA    int8: activation ranges from examples as 'sinter train --data'\n"
    "                      takes them (the training split); --calibrate-samples K (512)\n"
    "  --quantize-report   int8: each layer's error against float on those examples\n"
    "  --quantize-tolerance X  int8: layers with an error above X stay float\n"
    "  --sparse            store weights with <= 25% non-zeros as CSR\n"
    "  --external-weights  do not embed the weights: NAME_create starts with zero params and\n"
    "                      NAME_load reads them from a .safetensors file\n"
    "  --soname NAME       the shared library's SONAME (default: the file name of OUT)\n"
    "  --strip             leave out the symbol table beyond the library's exported ABI\n"
    "  --check-finite      a NaN/inf output (or loss) fails the call\n"
    "  --dump-after PASS   print the IR after a pass of the pipeline (or all of them), or the\n"
    "                      kernels and buffer plan with --dump-after plan\n"
    "\n"
    "Exit status: 0 success, 1 bad model (diagnostics name the file and the place), 2 bad\n"
    "usage. On failure no output file is left behind.\n",
    "compile a model to a shared library and C header (or .o/.s/.ll/.bc)",
};
