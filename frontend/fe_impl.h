/* Private to frontend/: the parse context and the helpers its files share. */
#ifndef SINTER_FE_IMPL_H
#define SINTER_FE_IMPL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "frontend/frontend.h"

#define FE_PATH_MAX 256        /* JSON paths are built from fixed keys, indices and spec names */
#define FE_MAX_ERRORS 50       /* then "too many errors" and the parse stops */
#define FE_QUOTE_MAX 96        /* user strings in messages are cut to about this length */

/* ---- parameter initializers (init.c) ---------------------------------------------- */
typedef enum FeInitKind {
    FE_INIT_NONE,             /* no "init": the weights file must provide the param */
    FE_INIT_ZEROS,
    FE_INIT_ONES,
    FE_INIT_CONSTANT,         /* value */
    FE_INIT_UNIFORM,          /* U[lo, hi) */
    FE_INIT_NORMAL,           /* N(mean, sd^2) */
    FE_INIT_DATA              /* format extension: "data" list parsed at declaration */
} FeInitKind;

/* A resolved init spec: kaiming/xavier are reduced to uniform/normal with the bound or
 * standard deviation PyTorch would compute from the fans. */
typedef struct FeInit {
    FeInitKind kind;
    double value;             /* CONSTANT */
    double lo, hi;            /* UNIFORM */
    double mean, sd;          /* NORMAL */
} FeInit;

/* ---- the parse context -------------------------------------------------------------- */
typedef struct FeParam {
    int id;                   /* value id of the param */
    FeInit init;
    bool in_file;             /* the weights file has a tensor of this name (matching or not) */
} FeParam;

/* An unknown key reported as a typo of a valid one: a later "missing key" for the valid
 * one would only repeat the same mistake. */
typedef struct FeTypo {
    const cJSON *obj;
    const char *key;          /* the valid key it was taken for */
} FeTypo;

typedef struct Fe {
    IrGraph *g;
    IrDiag *d;
    int nerr;                 /* errors recorded by this parse */
    bool stop;                /* FE_MAX_ERRORS reached: unwind */
    size_t max_data_bytes;
    int max_nodes;
    const SrtTensorFile *mem_weights; /* FeOptions.weights: the params' values instead of a file */
    const char *mem_label;            /* what messages call them */
    size_t data_bytes;        /* params + constants + tensor attributes declared so far */
    FeParam *params;          /* malloc'ed, one per declared param */
    int nparams, cap_params;
    bool lost_names;          /* a declaration or node was too broken to register its tensor
                                 names: "unknown tensor" errors would be consequences */
    int ntypos;
    FeTypo typos[FE_MAX_ERRORS];
} Fe;

/* A parse's state with the limits and in-memory weights of opt (NULL: defaults), reporting
 * into d. */
void fe_init(Fe *c, const FeOptions *opt, IrDiag *d);

/* Records "FILE: where: message" and counts it; stops the parse after FE_MAX_ERRORS. */
void fe_error(Fe *c, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* "parent.key" / "parent[i]" into buf[FE_PATH_MAX]; returns buf. */
const char *fe_path_key(char *buf, const char *parent, const char *key);
const char *fe_path_idx(char *buf, const char *parent, int i);

/* A user string as a quoted, escaped, length-limited message fragment. buf[FE_QUOTE_MAX + 16]. */
#define FE_QBUF (FE_QUOTE_MAX + 16)
const char *fe_quote(char *buf, const char *s);
/* What a JSON item is, for "got ..." ("-3", "\"M\"", "an object", "true"). buf[FE_QBUF]. */
const char *fe_describe(char *buf, const cJSON *item);

/* "did you mean" search: feed candidates, then read best (NULL if none is close). */
typedef struct FeSuggest {
    const char *word;
    const char *best;
    int best_dist;
} FeSuggest;
void fe_suggest_init(FeSuggest *s, const char *word);
void fe_suggest_try(FeSuggest *s, const char *cand);
/* " (did you mean \"X\"?)" or "" into buf[FE_QBUF + 32]; returns buf. */
#define FE_SBUF (FE_QBUF + 32)
const char *fe_suggest_text(const FeSuggest *s, char *buf);

/* Number parsing shared by data, attributes and inits. */
/* integral finite number, clamped to int64; exact over the whole int64 range when the item
 * carries its source text (fe_json_keep_number_text) */
bool fe_json_int(const cJSON *item, int64_t *out);
/* cJSON keeps numbers only as doubles (1.7.15: valueint is a clamped int, nothing else), which
 * rounds integers beyond 2^53. After cJSON parsed text[0..len) into root, this gives every
 * number item its source text in valuestring (unused for numbers by cJSON, freed by
 * cJSON_Delete): numbers are matched in document order with the number tokens of the text. */
void fe_json_keep_number_text(cJSON *root, const char *text, size_t len);
bool fe_json_float(const cJSON *item, double *out);      /* number or "nan" / "inf" / "-inf" */

/* JSON access with diagnostics. fe_check_keys reports unknown (with "did you mean") and
 * duplicated keys of obj; keys has at most 32 entries. */
int64_t fe_count(const cJSON *arr);
void fe_check_keys(Fe *c, const cJSON *obj, const char *path, const char *const *keys, int nkeys);
/* Like fe_check_keys; what (e.g. "adam") names the object in messages that list its keys. */
void fe_check_keys_of(Fe *c, const cJSON *obj, const char *path, const char *const *keys, int nkeys,
                      const char *what);
/* Was key reported missing-by-typo in obj (see FeTypo)? */
bool fe_is_typo(const Fe *c, const cJSON *obj, const char *key);
/* obj[key] (NULL-safe) / the same or a "missing key" error (unless a typo of it was reported). */
const cJSON *fe_member(const cJSON *obj, const char *key);
const cJSON *fe_require(Fe *c, const cJSON *obj, const char *path, const char *key);
bool fe_get_number(Fe *c, const cJSON *it, const char *path, double *out);   /* finite number */
bool fe_get_string(Fe *c, const cJSON *it, const char *path, const char **out);
bool fe_get_bool(Fe *c, const cJSON *it, const char *path, bool *out);
#define FE_NKEYS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Model-format dtype names (the 7 model dtypes; bf16/f16 are file-only). */
bool fe_dtype_from_name(const char *s, IrDtype *out);
const char *fe_dtype_name(IrDtype t);

/* Dtypes, shapes and data (tensor.c). A shape's dims are non-negative integers, or "N" (at
 * most once) where allow_n. fe_field_* read obj.dtype / obj.shape (missing -> error). */
bool fe_parse_dtype(Fe *c, const cJSON *it, const char *path, IrDtype *out);
bool fe_parse_shape(Fe *c, const cJSON *it, const char *path, bool allow_n, IrShape *out);
bool fe_field_dtype(Fe *c, const cJSON *obj, const char *path, IrDtype *out);
bool fe_field_shape(Fe *c, const cJSON *obj, const char *path, bool allow_n, IrShape *out);
/* Bytes of a constant-shaped tensor, charged to the model's data budget (error if over). */
bool fe_charge_bytes(Fe *c, const char *path, IrDtype dtype, const IrShape *shape, size_t *bytes);
/* A flat row-major list of exactly numel items of dtype (bytes = numel * size, charged):
 * arena memory, or NULL after an error (only the first bad item is reported). */
void *fe_parse_data(Fe *c, const cJSON *arr, const char *path, IrDtype dtype, int64_t numel, size_t bytes);

/* The "quant" and "sparse" objects of a param or constant declaration obj (path "params[i]") into
 * v's records (records.c; checked against the data once params have it). False after errors. */
bool fe_parse_records(Fe *c, const cJSON *obj, const char *path, IrValue *v);

/* A node's "attrs" (obj may be NULL; path is the node's) checked against op's spec: fills
 * out[IR_MAX_ATTRS] in written order. False after errors. (attrs.c) */
bool fe_parse_attrs(Fe *c, const cJSON *obj, const char *path, IrOp op, IrAttr *out, int *nattrs);

/* Shortest "%.Ng" that reads back to the same float / double (finite values). buf[32]. */
const char *fe_fmt_f32(char *buf, float v);
const char *fe_fmt_f64(char *buf, double v);

/* Finds the first JSON syntax error of text: its byte offset and a reason; false if the text
 * is valid JSON. */
bool fe_json_locate_error(const char *text, size_t len, size_t *off, char *msg, size_t msglen);

/* Parses an "init" object for a param of dtype/shape (path is "params[i].init"); false after
 * recording errors. */
bool fe_init_parse(Fe *c, const cJSON *init, const char *path, IrDtype dtype, const IrShape *shape, FeInit *out);
/* Fills numel elements of dtype at data from a resolved spec, with the stream of
 * (seed, name). Deterministic and independent of other params. */
void fe_init_fill(const FeInit *init, int64_t seed, const char *name, IrDtype dtype, int64_t numel, void *data);

/* Loads g->weights (if any) and gives every param its data (weights first, else init).
 * Returns false after recording errors. */
bool fe_materialize_params(Fe *c);

#endif
