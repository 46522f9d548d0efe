/* The sinter command: verbs, argument scanning and output helpers shared by the tools/ files. */
#ifndef SINTER_CLI_H
#define SINTER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ir/ir.h"

/* Exit statuses of every verb. */
enum {
    CLI_OK = 0,       /* success */
    CLI_EINPUT = 1,   /* bad input: model or tensor file errors (diagnostics on stderr) */
    CLI_EUSAGE = 2    /* bad usage: unknown verb/option, missing or malformed argument */
};

/* ---- verbs (one file each) --------------------------------------------------------
 * argv[0] is the verb itself; "--help" has already been handled by main. */
typedef struct CliVerb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;     /* full text of `sinter VERB --help` */
    const char *summary;  /* one line for `sinter --help` */
} CliVerb;

extern const CliVerb cli_verb_check, cli_verb_dump, cli_verb_opt, cli_verb_run;
extern const CliVerb cli_verb_compile, cli_verb_train, cli_verb_bench, cli_verb_import, cli_verb_eval;

/* ---- argument scanning ----------------------------------------------------------
 * Options and positionals may come in any order; "--opt VALUE", "--opt=VALUE", "-o VALUE"
 * and "-oVALUE" are accepted; "--" ends the options. Typical loop:
 *     CliArgs a; cli_args_init(&a, "run", argc, argv);
 *     while (cli_next(&a)) {
 *         if (cli_flag(&a, "--interp")) ...
 *         else if (cli_option(&a, "--n", "a positive integer", &v)) { if (!v) return CLI_EUSAGE; ... }
 *         else if (cli_positional(&a, &v)) ...
 *         else return cli_unknown(&a, known_options);
 *     } */
typedef struct CliArgs {
    const char *verb;     /* for messages: "sinter VERB: ..." */
    int argc;
    char **argv;          /* argv[0] is the verb */
    int i;                /* index of the current argument */
    bool options_done;    /* "--" seen: everything after is positional */
} CliArgs;

void cli_args_init(CliArgs *a, const char *verb, int argc, char **argv);
bool cli_next(CliArgs *a);        /* moves to the next argument; false at the end */
/* The current argument is the flag `name`. */
bool cli_flag(CliArgs *a, const char *name);
/* The current argument is option `name`; *val is its value, or NULL after a usage error
 * "sinter VERB: NAME expects WHAT" was printed (value missing). */
bool cli_option(CliArgs *a, const char *name, const char *what, const char **val);
/* The current argument is not an option: *val = it. */
bool cli_positional(CliArgs *a, const char **val);
/* Reports the current argument as an unknown option (suggesting the closest of the
 * NULL-terminated known[]); returns CLI_EUSAGE. */
int cli_unknown(const CliArgs *a, const char *const *known);

/* Prints "sinter VERB: message" and "try 'sinter VERB --help'" to stderr; returns CLI_EUSAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "sinter VERB: message" to stderr (no hint); returns CLI_EINPUT. */
int cli_input_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Edit distance of two short strings (for "did you mean"). */
int cli_edit_distance(const char *x, const char *y);
/* Parses a decimal integer in [lo, hi]; false on anything else. */
bool cli_parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out);
bool cli_has_suffix(const char *s, const char *suffix);
/* Is PATH compiled code rather than a model? By its contents: an ELF file is, a JSON text is not;
 * other contents and unreadable files go by the name (.so, .so.N), so the loader that gets them
 * reports why they do not load. */
bool cli_is_library(const char *path);

/* ---- models -------------------------------------------------------------------- */
/* Loads a model with the frontend; on error prints the diagnostics and returns NULL. */
IrGraph *cli_load_model(const char *path);
/* cli_load_model, then, when weights is not NULL, every param's values from that .safetensors
 * file (fe_apply_weights: a checkpoint of 'sinter train --save' works, its optimizer state and
 * step counter are ignored; a missing or mismatched tensor is an error naming the file). */
IrGraph *cli_load_model_weights(const char *path, const char *weights);

/* The compression options of the inference graph as a verb takes them: --quantize KIND
 * [--quantize-group G] [--calibrate DATA [--calibrate-samples K]] [--quantize-report]
 * [--quantize-tolerance X], and --sparse. */
#include "passes/passes.h"
typedef struct CliQuant {
    const char *kind, *group;     /* the values given; NULL when absent */
    const char *calibrate;        /* --calibrate DATA (as sinter train's --data; the train split) */
    const char *samples;          /* --calibrate-samples K */
    const char *tolerance;        /* --quantize-tolerance X */
    bool report;                  /* --quantize-report: each layer's error, on stderr */
    bool sparse;                  /* --sparse: sparsify on the inference graph */
    int64_t nsamples;             /* K, default CLI_CALIBRATE_SAMPLES */
    double tol;                   /* X; 0: none */
    int nkeep;
    char **keep;                  /* owned: the layers --quantize-tolerance keeps in float */
    PassQuantize pass;            /* parsed; kind NONE without --quantize. Its ranges are
                                     cli_quantize_calibrate's */
    PassRange *ranges;            /* owned: names and all (cli_quant_free) */
} CliQuant;
#define CLI_CALIBRATE_SAMPLES 512
/* The current argument is one of those options: 1 with its value stored in *q, -1 after a
 * usage error (value missing); 0 when it is none of them. */
int cli_quantize_option(CliArgs *a, CliQuant *q);
/* Parses what cli_quantize_option stored into q->pass. Returns CLI_OK or the status of the
 * usage error it printed (int8 without --calibrate, --calibrate without int8, ...). */
int cli_quantize_args(const char *verb, CliQuant *q);
void cli_quant_free(CliQuant *q);
struct CgOptions;
/* --quantize int8: the activation ranges of model g (after --prune, which prune gives; NULL:
 * none) from the float interpreter on the calibration samples, into q->pass (and its grid,
 * from the target of cg: NULL is the host). With --quantize-report or --quantize-tolerance,
 * each integer layer's output error against the float model on those samples (printed to
 * stderr), and the layers above the tolerance into q->pass.keep. 0 (also for other kinds), or
 * -1 with diagnostics. */
int cli_quantize_calibrate(const IrGraph *g, const PassPrune *prune, CliQuant *q, const struct CgOptions *cg,
                           IrDiag *d);
/* Quantization of model g for inference on the host as --quantize asks (calibration for int8,
 * the quantize pass, then qpack or qint8). 0 (also when q asks for nothing), or -1 with
 * diagnostics in d. */
int cli_quantize_model(IrGraph *g, CliQuant *q, IrDiag *d);
/* Prints the diagnostics (one line each) to stderr and frees them; returns CLI_EINPUT. */
int cli_report(IrDiag *d);

/* A --passes LIST of `verb`: its comma-separated names into names[] (at most max; pointers
 * into *buf, which the caller frees, also after an error), each a registered pass. Returns
 * CLI_OK with *count >= 1, or the status of the usage error it printed. */
int cli_pass_list(const char *verb, const char *list, const char **names, int max, int *count, char **buf);

/* write(arg, f) into stdout when path is NULL, else into memory and then path, replaced
 * atomically only when write returns CLI_OK (never a partial file). Returns write's status,
 * or CLI_EINPUT when the file cannot be written. */
int cli_write_output(const char *verb, const char *path, int (*write)(void *arg, FILE *f), void *arg);

/* ---- pictures (tools/render.c) ------------------------------------------------- */
/* Graphviz's dot on PATH, its path in path: CLI_OK, or CLI_EINPUT after a message saying that
 * --format FORMAT needs it and how to install it. */
int cli_find_dot(const char *verb, const char *format, char *path, size_t len);
/* The DOT text rendered by `dot -TFORMAT` (svg, png) into out. CLI_OK, or CLI_EINPUT after a
 * one-line message (dot missing: says how to install it; dot failed: its first complaint). */
int cli_render_dot(const char *verb, const char *dot_text, size_t len, const char *format, FILE *out);

/* ---- number formatting ----------------------------------------------------------- */
/* 203530 -> "203,530". */
const char *cli_fmt_count(int64_t v, char *buf, size_t len);
/* Bytes with binary prefixes: "812 B", "795.0 KiB", "3.1 MiB". */
const char *cli_fmt_bytes(double bytes, char *buf, size_t len);
/* Decimal prefixes with a space, for the caller to append a unit: "812 ", "407.1 K", "1.5 G". */
const char *cli_fmt_si(double v, char *buf, size_t len);

#endif
