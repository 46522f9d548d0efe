/* The .sir text IR parser: what ir_print_text writes, read back into a graph (docs/ir.md). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"

#define SIR_MAX_LIST (1 << 16)    /* inputs/outputs of one node, dims of a sym list */

/* What a line declared for a node output, checked against shape inference afterwards. */
typedef struct SirDeclType {
    bool typed;
    IrDtype dtype;
    IrShape shape;
    int nsym;                 /* -1: no "= sym[...]" written */
    IrDim *sym;               /* arena */
    int line;
} SirDeclType;

typedef struct IntList {
    int n, cap;
    int *v;
} IntList;

typedef struct Sir {
    Fe fe;                    /* graph, diagnostics, budgets, params (frontend/fe_impl.h) */
    int line;                 /* current line number (1-based) */
    char *buf;                /* the current line, NUL-terminated (malloc'ed) */
    const char *p;            /* cursor into buf */
    bool failed;              /* an error was recorded: stop */
    bool have_model;
    bool have_optimizer;
    bool backward;            /* "training update" / "training grad" lines: a training graph */
    SirDeclType *decl;        /* by value id (grown with the graph) */
    int ndecl;
    int *need_data;           /* value ids printed as summaries: a "data" line must follow */
    int nneed, capneed;
    /* id lists, copied into the graph's arena at the end */
    IntList inputs, tinputs, outputs, upd_dst, upd_src, grad_param, grad_value;
} Sir;

static void list_add(IntList *l, int id)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = srt_realloc(l->v, (size_t)l->cap * sizeof *l->v);
        IR_ASSERT(l->v);
    }
    l->v[l->n++] = id;
}

static int *list_copy(IrGraph *g, const IntList *l)
{
    return ir_arena_memdup(g->arena, l->v ? l->v : (const int[]){0}, (size_t)(l->n ? l->n : 1) * sizeof(int));
}

/* ---- errors and the cursor ------------------------------------------------------------------ */

static void sir_verror(Sir *s, const char *p, const char *fmt, va_list ap)
{
    if (s->failed)
        return;
    char where[48], msg[512];
    long col = p && p >= s->buf ? (long)(p - s->buf) + 1 : 1;
    snprintf(where, sizeof where, "%d:%ld", s->line, col);
    vsnprintf(msg, sizeof msg, fmt, ap);
    fe_error(&s->fe, where, "%s", msg);
    s->failed = true;
}

static bool sir_error_at(Sir *s, const char *p, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool sir_error_at(Sir *s, const char *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sir_verror(s, p, fmt, ap);
    va_end(ap);
    return false;
}

#define ERR(...) sir_error_at(s, s->p, __VA_ARGS__)

static void skip_ws(Sir *s)
{
    while (*s->p == ' ' || *s->p == '\t' || *s->p == '\r')
        s->p++;
}

static bool at_end(Sir *s)
{
    skip_ws(s);
    return *s->p == 0;
}

/* What is at the cursor, for "expected X, got Y" messages. */
static const char *got(Sir *s, char *buf, size_t len)
{
    skip_ws(s);
    if (!*s->p)
        return "the end of the line";
    size_t n = 0;
    while (s->p[n] && s->p[n] != ' ' && n < 24)
        n++;
    snprintf(buf, len, "\"%.*s\"", (int)n, s->p);
    return buf;
}

static bool accept_char(Sir *s, char c)
{
    skip_ws(s);
    if (*s->p != c)
        return false;
    s->p++;
    return true;
}

static bool expect_char(Sir *s, char c)
{
    char g[48];
    if (accept_char(s, c))
        return true;
    return ERR("expected '%c', got %s", c, got(s, g, sizeof g));
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The keyword w (not followed by a word character). */
static bool accept_word(Sir *s, const char *w)
{
    skip_ws(s);
    size_t n = strlen(w);
    if (strncmp(s->p, w, n) != 0 || is_word_char(s->p[n]))
        return false;
    s->p += n;
    return true;
}

static bool expect_word(Sir *s, const char *w)
{
    char g[48];
    if (accept_word(s, w))
        return true;
    return ERR("expected \"%s\", got %s", w, got(s, g, sizeof g));
}

/* [A-Za-z_][A-Za-z0-9_]* into buf. */
static bool parse_ident(Sir *s, char *buf, size_t len, const char *what)
{
    char g[48];
    skip_ws(s);
    size_t n = 0;
    if (!((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z') || *s->p == '_'))
        return ERR("expected %s, got %s", what, got(s, g, sizeof g));
    while (is_word_char(s->p[n]))
        n++;
    if (n >= len)
        return ERR("%s is too long", what);
    memcpy(buf, s->p, n);
    buf[n] = 0;
    s->p += n;
    return true;
}

static bool parse_int(Sir *s, int64_t *out)
{
    char g[48];
    skip_ws(s);
    const char *q = s->p;
    if (*q == '-' || *q == '+')
        q++;
    if (!(*q >= '0' && *q <= '9'))
        return ERR("expected an integer, got %s", got(s, g, sizeof g));
    errno = 0;
    char *end;
    long long v = strtoll(s->p, &end, 10);
    if (errno == ERANGE)
        return ERR("integer out of range");
    *out = v;
    s->p = end;
    return true;
}

/* A real: decimal (as %g prints it), nan, inf or -inf. */
static bool parse_real(Sir *s, double *out)
{
    char g[48];
    skip_ws(s);
    if (accept_word(s, "nan")) {
        *out = NAN;
        return true;
    }
    if (accept_word(s, "inf")) {
        *out = INFINITY;
        return true;
    }
    if (s->p[0] == '-' && !strncmp(s->p + 1, "inf", 3) && !is_word_char(s->p[4])) {
        s->p += 4;
        *out = -INFINITY;
        return true;
    }
    /* only the characters of a decimal number: strtod alone would also take hex and "infinity" */
    size_t n = 0;
    while (s->p[n] && strchr("0123456789+-.eE", s->p[n]))
        n++;
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return ERR("expected a number, got %s", got(s, g, sizeof g));
    memcpy(tmp, s->p, n);
    tmp[n] = 0;
    char *end;
    double v = strtod(tmp, &end);
    if (end != tmp + n)
        return ERR("expected a number, got %s", got(s, g, sizeof g));
    *out = v;
    s->p += n;
    return true;
}

/* A double-quoted string with \" \\ \n \t \xNN escapes; malloc'ed into *out. */
static bool parse_string(Sir *s, char **out)
{
    skip_ws(s);
    if (*s->p != '"')
        return ERR("expected a quoted string");
    const char *start = s->p;
    s->p++;
    size_t cap = strlen(s->p) + 1, n = 0;
    char *r = srt_malloc(cap);
    IR_ASSERT(r);
    while (*s->p && *s->p != '"') {
        char c = *s->p++;
        if (c == '\\') {
            char e = *s->p++;
            if (e == '"' || e == '\\')
                c = e;
            else if (e == 'n')
                c = '\n';
            else if (e == 't')
                c = '\t';
            else if (e == 'x' && s->p[0] && s->p[1] && strchr("0123456789abcdefABCDEF", s->p[0]) &&
                     strchr("0123456789abcdefABCDEF", s->p[1])) {
                char hex[3] = {s->p[0], s->p[1], 0};
                c = (char)strtol(hex, NULL, 16);
                s->p += 2;
            } else {
                free(r);
                s->p -= 2;
                return ERR("unknown escape in a string (use \\\" \\\\ \\n \\t or \\xNN)");
            }
            if (c == 0) {
                free(r);
                return ERR("a string cannot contain \\x00");
            }
        }
        r[n++] = c;
    }
    if (*s->p != '"') {
        free(r);
        return sir_error_at(s, start, "unterminated string");
    }
    s->p++;
    r[n] = 0;
    *out = r;
    return true;
}

/* A value name after '%': [A-Za-z0-9_.]+ or a quoted string; malloc'ed. */
static bool parse_name(Sir *s, char **out)
{
    char g[48];
    skip_ws(s);
    if (*s->p != '%')
        return ERR("expected a value (%%name), got %s", got(s, g, sizeof g));
    s->p++;
    if (*s->p == '"') {
        if (!parse_string(s, out))
            return false;
        if (!**out) {
            free(*out);
            return ERR("a value name cannot be empty");
        }
        return true;
    }
    size_t n = 0;
    while (is_word_char(s->p[n]) || s->p[n] == '.')
        n++;
    if (n == 0)
        return ERR("expected a name after '%%' (quote names with other characters: %%\"a/b\")");
    char *r = srt_malloc(n + 1);
    IR_ASSERT(r);
    memcpy(r, s->p, n);
    r[n] = 0;
    s->p += n;
    *out = r;
    return true;
}

/* A reference to a value already declared: its id. */
static bool parse_use(Sir *s, int *id)
{
    const char *at = (skip_ws(s), s->p);
    char *name;
    if (!parse_name(s, &name))
        return false;
    *id = ir_value_find(s->fe.g, name);
    if (*id < 0) {
        char q[FE_QBUF];
        sir_error_at(s, at, "unknown value %s (values are declared before their uses)", fe_quote(q, name));
        free(name);
        return false;
    }
    free(name);
    return true;
}

/* ---- types, dims and data ------------------------------------------------------------------- */

/* "784", "N", "4N", "N+1", "2N-3", "-N" */
static bool parse_dim(Sir *s, IrDim *d)
{
    char g[48];
    skip_ws(s);
    int64_t a = 0, b = 0;
    if (*s->p == 'N' && !is_word_char(s->p[1])) {
        s->p++;
        a = 1;
    } else if (s->p[0] == '-' && s->p[1] == 'N' && !is_word_char(s->p[2])) {
        s->p += 2;
        a = -1;
    } else {
        if (!((*s->p >= '0' && *s->p <= '9') || *s->p == '-'))
            return ERR("expected a dimension (784, N, 2N+1), got %s", got(s, g, sizeof g));
        int64_t v;
        if (!parse_int(s, &v))
            return false;
        if (*s->p == 'N' && !is_word_char(s->p[1])) {
            s->p++;
            a = v;
        } else {
            *d = ir_dim_const(v);
            return true;
        }
    }
    if (*s->p == '+' || *s->p == '-') {
        if (!parse_int(s, &b))
            return false;
    }
    d->a = a;
    d->b = b;
    return true;
}

static bool parse_dtype(Sir *s, IrDtype *t)
{
    char w[16], g[48];
    const char *at = (skip_ws(s), s->p);
    if (!parse_ident(s, w, sizeof w, "a dtype (f32, i64, ...)"))
        return false;
    for (int i = 0; i < SRT_DTYPE_COUNT; i++)
        if (!strcmp(w, srt_dtype_short((SrtDtype)i))) {
            *t = (SrtDtype)i;
            return true;
        }
    s->p = at;
    return ERR("unknown dtype %s (f32, f64, i64, i32, i8, u8, bool)", got(s, g, sizeof g));
}

/* "f32[N,784]"; "?" (untyped) only where allow_untyped: *typed = false. */
static bool parse_type(Sir *s, bool allow_untyped, bool *typed, IrDtype *t, IrShape *sh)
{
    memset(sh, 0, sizeof *sh);
    *typed = true;
    if (allow_untyped && accept_char(s, '?')) {
        *typed = false;
        *t = SRT_F32;
        return true;
    }
    if (!parse_dtype(s, t) || !expect_char(s, '['))
        return false;
    if (accept_char(s, ']'))
        return true;
    do {
        if (sh->rank == IR_MAX_RANK)
            return ERR("more than %d dimensions", IR_MAX_RANK);
        if (!parse_dim(s, &sh->d[sh->rank++]))
            return false;
    } while (accept_char(s, ','));
    return expect_char(s, ']');
}

/* Element i of a tensor of dtype t. */
static bool parse_elem(Sir *s, IrDtype t, void *data, int64_t i)
{
    if (t == SRT_BOOL) {
        char g[48];
        if (accept_word(s, "true"))
            ((uint8_t *)data)[i] = 1;
        else if (accept_word(s, "false"))
            ((uint8_t *)data)[i] = 0;
        else
            return ERR("expected true or false, got %s", got(s, g, sizeof g));
        return true;
    }
    if (t == SRT_F32 || t == SRT_F64) {
        double v;
        const char *at = (skip_ws(s), s->p);
        if (!parse_real(s, &v))
            return false;
        if (t == SRT_F64) {
            ((double *)data)[i] = v;
            return true;
        }
        if (isinf((float)v) && !isinf(v))
            return sir_error_at(s, at, "out of range for f32");
        ((float *)data)[i] = (float)v;
        return true;
    }
    int64_t v, lo = INT64_MIN, hi = INT64_MAX;
    const char *at = (skip_ws(s), s->p);
    if (!parse_int(s, &v))
        return false;
    if (t == SRT_I32)
        lo = INT32_MIN, hi = INT32_MAX;
    else if (t == SRT_I8)
        lo = INT8_MIN, hi = INT8_MAX;
    else if (t == SRT_U8)
        lo = 0, hi = UINT8_MAX;
    if (v < lo || v > hi)
        return sir_error_at(s, at, "%lld is out of range for %s", (long long)v, srt_dtype_short(t));
    IrTensor tt = {.dtype = t, .numel = i + 1, .data = data};
    ir_tensor_seti(&tt, i, v);
    return true;
}

/* "[e, e, ...]" with exactly numel elements into data. */
static bool parse_list(Sir *s, IrDtype t, int64_t numel, void *data)
{
    if (!expect_char(s, '['))
        return false;
    int64_t k = 0;
    if (!accept_char(s, ']')) {
        do {
            if (k == numel)
                return ERR("more than the %lld values of the type", (long long)numel);
            if (!parse_elem(s, t, data, k++))
                return false;
        } while (accept_char(s, ','));
        if (!expect_char(s, ']'))
            return false;
    }
    if (k != numel)
        return ERR("%lld values for a type of %lld", (long long)k, (long long)numel);
    return true;
}

/* Value data after "= ": a bare scalar, a list, "<N values, all X>" (every element X) or a
 * summary "<N values, min A max B[, K nan]>" whose data follows in a "data" line (*deferred). */
static bool parse_data(Sir *s, IrDtype t, const IrShape *sh, void **out, bool *deferred)
{
    *deferred = false;
    *out = NULL;
    if (t >= SRT_BF16)
        return ERR("%s data cannot be written in the text IR", srt_dtype_short(t));
    if (!ir_shape_is_const(sh))
        return ERR("only values of a constant shape have data");
    size_t bytes;
    if (!fe_charge_bytes(&s->fe, "data", t, sh, &bytes)) {
        s->failed = true;
        return false;
    }
    IrDim numel;
    ir_shape_numel(sh, &numel);
    void *data = ir_arena_alloc(s->fe.g->arena, bytes ? bytes : 1);
    skip_ws(s);
    if (*s->p == '[') {
        if (!parse_list(s, t, numel.b, data))
            return false;
    } else if (accept_char(s, '<')) {
        int64_t n;
        const char *at = s->p;
        if (!parse_int(s, &n) || !expect_word(s, "values"))
            return false;
        if (n != numel.b)
            return sir_error_at(s, at, "%lld values for a type of %lld", (long long)n, (long long)numel.b);
        if (!expect_char(s, ','))
            return false;
        if (accept_word(s, "all")) {
            size_t esz = srt_dtype_size(t);
            if (numel.b > 0) {
                if (!parse_elem(s, t, data, 0))
                    return false;
                for (int64_t i = 1; i < numel.b; i++)
                    memcpy((char *)data + (size_t)i * esz, data, esz);
            }
        } else {
            /* the summary only describes: the data line gives the values */
            *deferred = true;
            while (*s->p && *s->p != '>')
                s->p++;
        }
        if (!expect_char(s, '>'))
            return false;
    } else {
        if (sh->rank != 0)
            return ERR("expected a list [...] of %lld values, or <... values, all X>", (long long)numel.b);
        if (!parse_elem(s, t, data, 0))
            return false;
    }
    *out = data;
    return true;
}

/* "sym[N, 784]": the compile-time content of an integer value of numel entries. */
static bool parse_sym(Sir *s, const IrShape *sh, int *nsym, IrDim **sym)
{
    if (!expect_word(s, "sym") || !expect_char(s, '['))
        return false;
    IrDim numel;
    if (!ir_shape_numel(sh, &numel) || numel.a != 0 || numel.b > SIR_MAX_LIST)
        return ERR("sym[...] needs a small constant shape");
    IrDim *d = ir_arena_alloc(s->fe.g->arena, (size_t)(numel.b ? numel.b : 1) * sizeof *d);
    int k = 0;
    if (!accept_char(s, ']')) {
        do {
            if (k == numel.b)
                return ERR("more than the %lld entries of the type", (long long)numel.b);
            if (!parse_dim(s, &d[k++]))
                return false;
        } while (accept_char(s, ','));
        if (!expect_char(s, ']'))
            return false;
    }
    if (k != numel.b)
        return ERR("%d entries for a type of %lld", k, (long long)numel.b);
    *nsym = k;
    *sym = d;
    return true;
}

/* ---- declarations ---------------------------------------------------------------------------- */

static void need_data(Sir *s, int id)
{
    if (s->nneed == s->capneed) {
        s->capneed = s->capneed ? 2 * s->capneed : 16;
        s->need_data = srt_realloc(s->need_data, (size_t)s->capneed * sizeof *s->need_data);
        IR_ASSERT(s->need_data);
    }
    s->need_data[s->nneed++] = id;
}

static const char *line_where(Sir *s)
{
    char w[32];
    snprintf(w, sizeof w, "line %d", s->line);
    return ir_arena_strdup(s->fe.g->arena, w);
}

/* A new value named at the cursor; -1 after an error. */
static int declare(Sir *s, IrRole role, IrDtype t, const IrShape *sh, char *name, const char *at)
{
    int id = ir_value_new(s->fe.g, name, t, sh, role);
    if (id < 0) {
        char q[FE_QBUF];
        int old = ir_value_find(s->fe.g, name);
        sir_error_at(s, at, "%s is already defined (%s)", fe_quote(q, name), s->fe.g->values[old]->where);
    } else {
        s->fe.g->values[id]->where = line_where(s);
    }
    free(name);
    return id;
}

/* "%name : TYPE" that starts a declaration: *name malloc'ed (NULL after an error), *at where it
 * stands. */
static bool parse_decl_head(Sir *s, const char **at, char **name, IrDtype *t, IrShape *sh)
{
    bool typed;
    *at = (skip_ws(s), s->p);
    if (!parse_name(s, name))
        return false;
    if (!expect_char(s, ':') || !parse_type(s, false, &typed, t, sh)) {
        free(*name);
        *name = NULL;
        return false;
    }
    return true;
}

/* "%x : f32[N,784]" of an input or training input. */
static bool parse_input(Sir *s, bool training)
{
    const char *at;
    char *name;
    IrDtype t;
    IrShape sh;
    if (!parse_decl_head(s, &at, &name, &t, &sh))
        return false;
    int n = 0;
    for (int i = 0; i < sh.rank; i++)
        if (sh.d[i].a != 0) {
            if (sh.d[i].a != 1 || sh.d[i].b != 0 || n++) {
                free(name);
                return ERR("an input's dims are constants or one N");
            }
        }
    int id = declare(s, IR_ROLE_INPUT, t, &sh, name, at);
    if (id < 0)
        return false;
    if (training) {
        list_add(&s->tinputs, id);
        s->fe.g->values[id]->training_input = true;
    } else {
        list_add(&s->inputs, id);
    }
    return true;
}

/* An init option value: a quoted string, a number, or any other JSON value. */
static cJSON *parse_init_value(Sir *s)
{
    skip_ws(s);
    if (*s->p == '"') {
        char *str;
        if (!parse_string(s, &str))
            return NULL;
        cJSON *it = cJSON_CreateString(str);
        free(str);
        return it;
    }
    if ((*s->p >= '0' && *s->p <= '9') || *s->p == '-' || *s->p == '+' || *s->p == '.' ||
        !strncmp(s->p, "nan", 3) || !strncmp(s->p, "inf", 3)) {
        double v;
        if (!parse_real(s, &v))
            return NULL;
        return cJSON_CreateNumber(v);
    }
    const char *end = NULL;
    cJSON *it = cJSON_ParseWithOpts(s->p, &end, false);
    if (!it || !end) {
        cJSON_Delete(it);
        ERR("expected a string, a number or a JSON value");
        return NULL;
    }
    s->p = end;
    return it;
}

/* "init KIND key=value ..." -> a cJSON object {"kind": KIND, key: value, ...}. */
static cJSON *parse_init(Sir *s)
{
    char kind[64], key[64];
    if (!parse_ident(s, kind, sizeof kind, "an init kind"))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    IR_ASSERT(o);
    cJSON_AddStringToObject(o, "kind", kind);
    for (;;) {
        skip_ws(s);
        const char *save = s->p;
        /* an option is "key=": anything else ends the init */
        if (!((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z') || *s->p == '_'))
            break;
        if (!parse_ident(s, key, sizeof key, "an option")) {
            cJSON_Delete(o);
            return NULL;
        }
        if (*s->p != '=') {   /* "key=value" has no blanks around '=' */
            s->p = save;
            break;
        }
        s->p++;
        cJSON *v = parse_init_value(s);
        if (!v) {
            cJSON_Delete(o);
            return NULL;
        }
        cJSON_AddItemToObject(o, key, v);
    }
    return o;
}

/* " quant{k=v, ...}" and " sparse{k=v, ...}" after a param's flags or a constant's type: the model
 * JSON's "quant" and "sparse" objects in attribute syntax (ir_print_quant, ir_print_sparse), read
 * by fe_parse_records; the verifier checks them against the data. */
static bool parse_records(Sir *s, IrValue *v)
{
    char key[32];
    for (;;) {
        skip_ws(s);
        const char *at = s->p;
        const char *kind = accept_word(s, "quant") ? "quant" : accept_word(s, "sparse") ? "sparse" : NULL;
        if (!kind)
            return true;
        if (!expect_char(s, '{'))
            return false;
        cJSON *rec = cJSON_CreateObject(), *obj = cJSON_CreateObject();
        IR_ASSERT(rec && obj);
        cJSON_AddItemToObject(obj, kind, rec);
        bool ok = true;
        do {
            cJSON *val = NULL;
            ok = parse_ident(s, key, sizeof key, "a record field") && expect_char(s, '=') &&
                 (val = parse_init_value(s)) != NULL;
            if (ok)
                cJSON_AddItemToObject(rec, key, val);
        } while (ok && accept_char(s, ','));
        ok = ok && expect_char(s, '}');
        if (ok) {
            char where[48];
            snprintf(where, sizeof where, "%d:%ld", s->line, (long)(at - s->buf) + 1);
            if (!fe_parse_records(&s->fe, obj, where, v)) {
                s->failed = true;
                ok = false;
            }
        }
        cJSON_Delete(obj);
        if (!ok)
            return false;
    }
}

/* "%w : f32[256,784] [from weights] [init KIND k=v ...] [optimizer state | frozen] [= DATA]" */
static bool parse_param(Sir *s)
{
    const char *at;
    char *name;
    IrDtype t;
    IrShape sh;
    if (!parse_decl_head(s, &at, &name, &t, &sh))
        return false;
    if (!ir_shape_is_const(&sh)) {
        free(name);
        return ERR("a param's shape is constant");
    }
    int id = declare(s, IR_ROLE_PARAM, t, &sh, name, at);
    if (id < 0)
        return false;
    IrGraph *g = s->fe.g;
    IrValue *v = g->values[id];
    bool from_weights = false;
    if (accept_word(s, "from")) {
        if (!expect_word(s, "weights"))
            return false;
        from_weights = true;
    }
    FeInit fi = {.kind = FE_INIT_NONE};
    if (accept_word(s, "init")) {
        const char *iat = s->p;
        cJSON *init = parse_init(s);
        if (!init)
            return false;
        char where[48];
        snprintf(where, sizeof where, "%d:%ld: init", s->line, (long)(iat - s->buf) + 1);
        bool ok = fe_init_parse(&s->fe, init, where, t, &sh, &fi);
        char *text = cJSON_PrintUnformatted(init);
        IR_ASSERT(text);
        v->init_json = ir_arena_strdup(g->arena, text);
        cJSON_free(text);
        cJSON_Delete(init);
        if (!ok) {
            s->failed = true;
            return false;
        }
    }
    v->trainable = ir_dtype_is_float(t);
    if (accept_word(s, "optimizer")) {
        if (!expect_word(s, "state"))
            return false;
        v->opt_state = true;
        v->trainable = false;
    } else if (accept_word(s, "frozen")) {
        v->trainable = false;
    }
    if (!parse_records(s, v))
        return false;
    if (accept_char(s, '=')) {
        bool deferred;
        if (!parse_data(s, t, &sh, &v->data, &deferred))
            return false;
        if (deferred)
            need_data(s, id);
        fi.kind = FE_INIT_DATA;
    } else if (fi.kind == FE_INIT_NONE && !from_weights) {
        return ERR("the param has no data: give \"from weights\", \"init KIND\" or \"= DATA\"");
    } else if (from_weights && !g->weights) {
        return ERR("\"from weights\" but no \"weights\" line names the file");
    }
    /* from weights: the file gives the data (fe_materialize_params), the init if it lacks it */
    FeParam *fp;
    if (s->fe.nparams == s->fe.cap_params) {
        s->fe.cap_params = s->fe.cap_params ? 2 * s->fe.cap_params : 16;
        s->fe.params = srt_realloc(s->fe.params, (size_t)s->fe.cap_params * sizeof *s->fe.params);
        IR_ASSERT(s->fe.params);
    }
    fp = &s->fe.params[s->fe.nparams++];
    fp->id = id;
    fp->init = fi;
    fp->in_file = false;
    if (from_weights && v->data)
        v->from_weights = true;
    return true;
}

/* "%c : i64[2] [= DATA | = sym[...]]" */
static bool parse_const(Sir *s)
{
    const char *at;
    char *name;
    IrDtype t;
    IrShape sh;
    if (!parse_decl_head(s, &at, &name, &t, &sh))
        return false;
    int id = declare(s, IR_ROLE_CONST, t, &sh, name, at);
    if (id < 0)
        return false;
    IrValue *v = s->fe.g->values[id];
    if (!parse_records(s, v))
        return false;
    if (accept_char(s, '=')) {
        skip_ws(s);
        if (!strncmp(s->p, "sym", 3) && !is_word_char(s->p[3])) {
            int nsym;
            return parse_sym(s, &sh, &nsym, &v->sym);
        }
        bool deferred;
        if (!parse_data(s, t, &sh, &v->data, &deferred))
            return false;
        if (deferred)
            need_data(s, id);
    }
    return true;
}

/* "data %c = [...]": the values of a param or constant printed as a summary. */
static bool parse_data_line(Sir *s)
{
    int id;
    const char *at = (skip_ws(s), s->p);
    if (!parse_use(s, &id))
        return false;
    int k = 0;
    while (k < s->nneed && s->need_data[k] != id)
        k++;
    if (k == s->nneed)
        return sir_error_at(s, at, "%s was not declared with a summary <...> of its data",
                            s->fe.g->values[id]->name);
    s->need_data[k] = -1;
    IrValue *v = s->fe.g->values[id];
    IrDim numel;
    ir_shape_numel(&v->shape, &numel);
    return expect_char(s, '=') && parse_list(s, v->dtype, numel.b, v->data);
}

/* ---- nodes ---------------------------------------------------------------------------------- */

/* Attribute values in the text syntax -> the JSON the frontend's attribute checker reads. */
static cJSON *parse_attr_value(Sir *s, IrAttrKind kind)
{
    switch (kind) {
    case IR_ATTR_INT: {
        int64_t v;
        return parse_int(s, &v) ? cJSON_CreateNumber((double)v) : NULL;
    }
    case IR_ATTR_FLOAT: {
        double v;
        if (!parse_real(s, &v))
            return NULL;
        if (isnan(v))
            return cJSON_CreateString("nan");
        if (isinf(v))
            return cJSON_CreateString(v > 0 ? "inf" : "-inf");
        return cJSON_CreateNumber(v);
    }
    case IR_ATTR_STRING: {
        char *str;
        if (!parse_string(s, &str))
            return NULL;
        cJSON *it = cJSON_CreateString(str);
        free(str);
        return it;
    }
    case IR_ATTR_INTS:
    case IR_ATTR_FLOATS: {
        if (!expect_char(s, '['))
            return NULL;
        cJSON *arr = cJSON_CreateArray();
        if (!accept_char(s, ']')) {
            do {
                cJSON *e = parse_attr_value(s, kind == IR_ATTR_INTS ? IR_ATTR_INT : IR_ATTR_FLOAT);
                if (!e || cJSON_GetArraySize(arr) >= SIR_MAX_LIST) {
                    if (e)
                        ERR("too many elements");
                    cJSON_Delete(e);
                    cJSON_Delete(arr);
                    return NULL;
                }
                cJSON_AddItemToArray(arr, e);
            } while (accept_char(s, ','));
            if (!expect_char(s, ']')) {
                cJSON_Delete(arr);
                return NULL;
            }
        }
        return arr;
    }
    case IR_ATTR_TENSOR: {
        /* tensor<f32[1]>[0.5] */
        bool typed;
        IrDtype t;
        IrShape sh;
        if (!expect_word(s, "tensor") || !expect_char(s, '<') || !parse_type(s, false, &typed, &t, &sh) ||
            !expect_char(s, '>'))
            return NULL;
        IrDim numel;
        if (!ir_shape_is_const(&sh) || !ir_shape_numel(&sh, &numel) || numel.b > SIR_MAX_LIST) {
            ERR("a tensor attribute has a small constant shape");
            return NULL;
        }
        void *data = srt_malloc((size_t)(numel.b ? numel.b : 1) * srt_dtype_size(t));
        IR_ASSERT(data);
        if (t >= SRT_BF16 || !parse_list(s, t, numel.b, data)) {
            if (t >= SRT_BF16)
                ERR("tensor attributes of %s cannot be written", srt_dtype_short(t));
            free(data);
            return NULL;
        }
        cJSON *o = cJSON_CreateObject(), *dims = cJSON_CreateArray(), *vals = cJSON_CreateArray();
        IrTensor tt = {.dtype = t, .numel = numel.b, .data = data};
        for (int64_t i = 0; i < numel.b; i++) {
            if (t == SRT_BOOL)
                cJSON_AddItemToArray(vals, cJSON_CreateBool(ir_tensor_geti(&tt, i) != 0));
            else if (ir_dtype_is_float(t)) {
                double x = ir_tensor_getf(&tt, i);
                cJSON_AddItemToArray(vals, isnan(x) ? cJSON_CreateString("nan")
                                           : isinf(x) ? cJSON_CreateString(x > 0 ? "inf" : "-inf")
                                                      : cJSON_CreateNumber(x));
            } else
                cJSON_AddItemToArray(vals, cJSON_CreateNumber((double)ir_tensor_geti(&tt, i)));
        }
        free(data);
        for (int i = 0; i < sh.rank; i++)
            cJSON_AddItemToArray(dims, cJSON_CreateNumber((double)sh.d[i].b));
        cJSON_AddStringToObject(o, "dtype", srt_dtype_name(t));
        cJSON_AddItemToObject(o, "shape", dims);
        cJSON_AddItemToObject(o, "data", vals);
        return o;
    }
    }
    return NULL;
}

/* "{name=value, ...}" checked against op's spec by the frontend. */
static bool parse_attrs(Sir *s, IrOp op, IrAttr *attrs, int *nattrs)
{
    *nattrs = 0;
    skip_ws(s);
    const char *at = s->p;
    if (!accept_char(s, '{'))
        return true;
    cJSON *obj = cJSON_CreateObject();
    IR_ASSERT(obj);
    bool ok = true;
    if (!accept_char(s, '}')) {
        do {
            char name[64];
            const char *nat = (skip_ws(s), s->p);
            if (!parse_ident(s, name, sizeof name, "an attribute name") || !expect_char(s, '=')) {
                ok = false;
                break;
            }
            const IrAttrSpec *spec = ir_op_attr_spec(op, name);
            if (!spec) {
                char q[FE_QBUF];
                sir_error_at(s, nat, "unknown attribute %s for %s", fe_quote(q, name), ir_op_name(op));
                ok = false;
                break;
            }
            if (cJSON_GetObjectItemCaseSensitive(obj, name)) {
                sir_error_at(s, nat, "duplicate attribute \"%s\"", name);
                ok = false;
                break;
            }
            cJSON *v = parse_attr_value(s, spec->kind);
            if (!v) {
                ok = false;
                break;
            }
            cJSON_AddItemToObject(obj, name, v);
        } while (accept_char(s, ','));
        ok = ok && expect_char(s, '}');
    }
    if (ok) {
        char where[48];
        snprintf(where, sizeof where, "%d:%ld", s->line, (long)(at - s->buf) + 1);
        if (!fe_parse_attrs(&s->fe, obj, where, op, attrs, nattrs)) {
            s->failed = true;
            ok = false;
        }
        /* strings point into obj */
        for (int i = 0; ok && i < *nattrs; i++)
            if (attrs[i].kind == IR_ATTR_STRING)
                attrs[i].s = ir_arena_strdup(s->fe.g->arena, attrs[i].s);
    }
    cJSON_Delete(obj);
    return ok;
}

/* Arity of op's inputs or outputs as the frontend checks it. */
static bool check_arity(Sir *s, const char *at, IrOp op, bool inputs, int n)
{
    const IrOpInfo *info = ir_op_info(op);
    int lo = inputs ? info->min_in : info->min_out, hi = inputs ? info->max_in : info->max_out;
    if (n >= lo && (hi < 0 || n <= hi))
        return true;
    const char *what = inputs ? "inputs" : "outputs";
    if (hi < 0)
        return sir_error_at(s, at, "%s takes at least %d %s, got %d", info->name, lo, what, n);
    return sir_error_at(s, at, "%s takes %d to %d %s, got %d", info->name, lo, hi, what, n);
}

static bool optional_slot(IrOp op, bool inputs, int k)
{
    const IrOpInfo *info = ir_op_info(op);
    int lo = inputs ? info->min_in : info->min_out, hi = inputs ? info->max_in : info->max_out;
    return k >= lo && hi >= 0;
}

static void remember_type(Sir *s, int id, const SirDeclType *dt)
{
    if (id >= s->ndecl) {
        int n = s->fe.g->nvalues + 16;
        s->decl = srt_realloc(s->decl, (size_t)n * sizeof *s->decl);
        IR_ASSERT(s->decl);
        memset(s->decl + s->ndecl, 0, (size_t)(n - s->ndecl) * sizeof *s->decl);
        s->ndecl = n;
    }
    s->decl[id] = *dt;
}

/* "%a, _ = Op(%x, _) {attrs} : T, _ [group=K] [# name]"; loss: the training loss node. */
static bool parse_node(Sir *s, bool loss)
{
    IrGraph *g = s->fe.g;
    const char *start = (skip_ws(s), s->p);
    /* outputs: names first, created once the op is known */
    char *onames[64];
    const char *oat[64];
    int nout = 0;
    bool ok = true;
    do {
        skip_ws(s);
        if (nout == 64) {
            ok = ERR("more than 64 outputs");
            break;
        }
        oat[nout] = s->p;
        if (accept_char(s, '_')) {
            onames[nout++] = NULL;
            continue;
        }
        if (!parse_name(s, &onames[nout])) {
            ok = false;
            break;
        }
        nout++;
    } while (accept_char(s, ','));
    char opname[64];
    IrOp op = IR_OP_COUNT;
    const char *opat = NULL;
    if (ok && expect_char(s, '=') && (opat = (skip_ws(s), s->p)) &&
        parse_ident(s, opname, sizeof opname, "an op name")) {
        if (!ir_op_from_name(opname, &op)) {
            char q[FE_QBUF];
            ok = sir_error_at(s, opat, "unknown op %s", fe_quote(q, opname));
        } else if (loss && !(ir_op_info(op)->flags & IR_OPF_LOSS)) {
            ok = sir_error_at(s, opat, "%s is not a training loss", opname);
        } else {
            ok = check_arity(s, start, op, false, nout);
        }
    } else {
        ok = false;
    }
    for (int k = 0; ok && k < nout; k++)
        if (!onames[k] && !optional_slot(op, false, k))
            ok = sir_error_at(s, oat[k], "%s output %d is required (\"_\" marks an unused optional output)",
                              opname, k);
    /* inputs */
    int in[SIR_MAX_LIST > 256 ? 256 : SIR_MAX_LIST], nin = 0;
    if (ok && expect_char(s, '(') && !accept_char(s, ')')) {
        do {
            skip_ws(s);
            if (nin == 256) {
                ok = ERR("more than 256 inputs");
                break;
            }
            const char *iat = s->p;
            if (accept_char(s, '_')) {
                if (!optional_slot(op, true, nin)) {
                    ok = sir_error_at(s, iat, "%s input %d is required (\"_\" marks an absent optional input)",
                                      opname, nin);
                    break;
                }
                in[nin++] = -1;
                continue;
            }
            if (!parse_use(s, &in[nin])) {
                ok = false;
                break;
            }
            if (!loss && !s->backward && g->values[in[nin]]->training_input) {
                ok = sir_error_at(s, iat, "%%%s is a training input; only the training loss can use it",
                                  g->values[in[nin]]->name);
                break;
            }
            nin++;
        } while (accept_char(s, ','));
        ok = ok && expect_char(s, ')');
    } else if (!ok || s->failed) {
        ok = false;
    }
    ok = ok && check_arity(s, start, op, true, nin);
    IrAttr attrs[IR_MAX_ATTRS];
    int nattrs = 0;
    ok = ok && parse_attrs(s, op, attrs, &nattrs);
    /* the output values */
    int out[64];
    for (int k = 0; k < nout; k++) {
        out[k] = -1;
        if (!onames[k])
            continue;
        if (ok)
            ok = (out[k] = declare(s, IR_ROLE_ACT, SRT_F32, NULL, onames[k], oat[k])) >= 0;
        else
            free(onames[k]);
    }
    /* the types */
    ok = ok && expect_char(s, ':');
    for (int k = 0; ok && k < nout; k++) {
        if (k && !expect_char(s, ',')) {
            ok = false;
            break;
        }
        if (out[k] < 0) {
            ok = expect_char(s, '_');
            continue;
        }
        SirDeclType dt = {.nsym = -1, .line = s->line};
        if (!parse_type(s, true, &dt.typed, &dt.dtype, &dt.shape)) {
            ok = false;
            break;
        }
        if (dt.typed && accept_char(s, '='))
            ok = parse_sym(s, &dt.shape, &dt.nsym, &dt.sym);
        remember_type(s, out[k], &dt);
    }
    int group = -1;
    if (ok && !loss && accept_word(s, "group")) {
        int64_t gi = -1;
        ok = expect_char(s, '=') && parse_int(s, &gi);
        if (ok && (gi < 0 || gi > INT_MAX))
            ok = ERR("a group is a number >= 0");
        group = (int)gi;
    }
    char *name = NULL;
    if (ok && accept_char(s, '#')) {
        skip_ws(s);
        if (*s->p == '"') {
            ok = parse_string(s, &name);
        } else {
            size_t n = strlen(s->p);
            while (n && (s->p[n - 1] == ' ' || s->p[n - 1] == '\t' || s->p[n - 1] == '\r'))
                n--;
            name = srt_malloc(n + 1);
            IR_ASSERT(name);
            memcpy(name, s->p, n);
            name[n] = 0;
            s->p += strlen(s->p);
        }
    }
    if (!ok) {
        free(name);
        return false;
    }
    if (loss) {
        IrNode *n = ir_arena_alloc(g->arena, sizeof *n);
        n->id = -1;
        n->op = op;
        n->group = -1;
        n->name = ir_arena_strdup(g->arena, name ? name : "");
        n->where = line_where(s);
        n->nin = nin;
        n->in = ir_arena_memdup(g->arena, in, (size_t)(nin ? nin : 1) * sizeof(int));
        n->nout = nout;
        n->out = ir_arena_memdup(g->arena, out, (size_t)(nout ? nout : 1) * sizeof(int));
        ir_node_set_attrs(g, n, nattrs, attrs);
        g->training->loss = n;
    } else {
        if (g->nnodes >= s->fe.max_nodes) {
            free(name);
            return ERR("more than %d nodes", s->fe.max_nodes);
        }
        int id = ir_node_new(g, op, name ? name : "", nin, in, nout, out);
        IrNode *n = g->nodes[id];
        n->where = line_where(s);
        n->group = group;
        ir_node_set_attrs(g, n, nattrs, attrs);
    }
    free(name);
    return true;
}

/* ---- the other lines ------------------------------------------------------------------------ */


/* "model NAME (seed S[, opset K])" */
static bool parse_model_line(Sir *s)
{
    char name[128];
    int64_t seed, opset = 17;   /* the only opset sinter implements */
    if (!parse_ident(s, name, sizeof name, "the model name (a C identifier)") || !expect_char(s, '(') ||
        !expect_word(s, "seed") || !parse_int(s, &seed))
        return false;
    if (accept_char(s, ',')) {
        const char *at = (skip_ws(s), s->p);
        if (!expect_word(s, "opset") || !parse_int(s, &opset))
            return false;
        if (opset != 17)
            return sir_error_at(s, at, "opset %lld is not supported; sinter implements ONNX opset 17",
                                (long long)opset);
    }
    if (!expect_char(s, ')'))
        return false;
    const char *why = ir_model_name_problem(name);
    if (why)
        return ERR("the model name \"%s\" %s", name, why);
    s->fe.g = ir_graph_new(name);
    s->fe.g->seed = seed;
    s->fe.g->opset = (int)opset;
    return true;
}

static bool parse_optimizer(Sir *s)
{
    IrOptimizer *o = &s->fe.g->training->opt;
    char kind[16], key[32];
    const char *at = (skip_ws(s), s->p);
    if (!parse_ident(s, kind, sizeof kind, "an optimizer (sgd, adam, adamw)"))
        return false;
    memset(o, 0, sizeof *o);
    if (!strcmp(kind, "sgd"))
        o->kind = IR_OPTIM_SGD;
    else if (!strcmp(kind, "adam"))
        o->kind = IR_OPTIM_ADAM;
    else if (!strcmp(kind, "adamw"))
        o->kind = IR_OPTIM_ADAMW;
    else
        return sir_error_at(s, at, "unknown optimizer \"%s\" (sgd, adam, adamw)", kind);
    /* every hyperparameter is written; the frontend's defaults and ranges applied when the model
     * was read */
    static const char *const sgd[] = {"lr", "momentum", "dampening", "nesterov", "weight_decay"};
    static const char *const adam[] = {"lr", "beta1", "beta2", "eps", "weight_decay"};
    const char *const *keys = o->kind == IR_OPTIM_SGD ? sgd : adam;
    for (int i = 0; i < 5; i++) {
        const char *kat = (skip_ws(s), s->p);
        if (!parse_ident(s, key, sizeof key, "a hyperparameter") || !expect_char(s, '='))
            return false;
        if (strcmp(key, keys[i]) != 0)
            return sir_error_at(s, kat, "expected %s=, got %s= (%s takes %s, %s, %s, %s, %s in this order)", keys[i],
                                key, kind, keys[0], keys[1], keys[2], keys[3], keys[4]);
        if (!strcmp(key, "nesterov")) {
            if (accept_word(s, "true"))
                o->nesterov = true;
            else if (!accept_word(s, "false"))
                return ERR("expected true or false");
            continue;
        }
        double v;
        const char *vat = (skip_ws(s), s->p);
        if (!parse_real(s, &v))
            return false;
        if (!isfinite(v) || (v < 0 && strcmp(key, "dampening") != 0))
            return sir_error_at(s, vat, "%s must be a finite number >= 0", key);
        if (!strcmp(key, "lr"))
            o->lr = v;
        else if (!strcmp(key, "momentum"))
            o->momentum = v;
        else if (!strcmp(key, "dampening"))
            o->dampening = v;
        else if (!strcmp(key, "weight_decay"))
            o->weight_decay = v;
        else if (!strcmp(key, "beta1"))
            o->beta1 = v;
        else if (!strcmp(key, "beta2"))
            o->beta2 = v;
        else
            o->eps = v;
        if ((!strcmp(key, "beta1") || !strcmp(key, "beta2")) && v >= 1)
            return sir_error_at(s, vat, "%s must be in [0, 1)", key);
    }
    s->have_optimizer = true;
    return true;
}

static bool need_training(Sir *s)
{
    if (!s->fe.g->training)
        s->fe.g->training = ir_arena_alloc(s->fe.g->arena, sizeof(IrTraining));
    return true;
}

/* One line. Pass 1 declares inputs, params, constants, training inputs and data; pass 2 reads
 * nodes, outputs and the rest of the training section (so nodes may use training inputs, which
 * the printer writes after them). A line of the other pass is skipped. */
static bool parse_line(Sir *s, int pass)
{
    char g[48];
    skip_ws(s);
    if (!*s->p || *s->p == ';' || (s->p[0] == '/' && s->p[1] == '/'))
        return true;
    bool p1 = pass == 1, p2 = pass == 2, ok = true;
    if (!s->have_model) {
        if (!accept_word(s, "model"))
            return ERR("expected \"model NAME (seed S)\" first");
        s->have_model = true;
        if (p2)
            return true;
        ok = parse_model_line(s);
    } else if (accept_word(s, "model")) {
        return ERR("a second \"model\" line: a .sir file holds one graph (split a --after all dump at its "
                   "\"; after\" lines)");
    } else if (accept_word(s, "weights")) {
        if (p2)
            return true;
        char *w;
        if (!parse_string(s, &w))
            return false;
        if (s->fe.g->weights)
            ok = ERR("a second \"weights\" line");
        else if (!*w)
            ok = ERR("an empty weights path");
        else
            s->fe.g->weights = ir_arena_strdup(s->fe.g->arena, w);
        free(w);
    } else if (accept_word(s, "input")) {
        if (p2)
            return true;
        ok = parse_input(s, false);
    } else if (accept_word(s, "param")) {
        if (p2)
            return true;
        ok = parse_param(s);
    } else if (accept_word(s, "const")) {
        if (p2)
            return true;
        ok = parse_const(s);
    } else if (accept_word(s, "data")) {
        if (p2)
            return true;
        ok = parse_data_line(s);
    } else if (accept_word(s, "output")) {
        if (p1)
            return true;
        int id;
        const char *at = (skip_ws(s), s->p);
        if (!parse_use(s, &id))
            return false;
        IrValue *v = s->fe.g->values[id];
        if (v->is_output)
            return sir_error_at(s, at, "%%%s is listed as an output twice", v->name);
        if (v->training_input)
            return sir_error_at(s, at, "a training input cannot be a graph output");
        v->is_output = true;
        list_add(&s->outputs, id);
    } else if (accept_word(s, "training")) {
        need_training(s);
        if (accept_word(s, "input")) {
            if (p2)
                return true;
            ok = parse_input(s, true);
        } else if (accept_word(s, "loss")) {
            if (p1)
                return true;
            if (s->fe.g->training->loss)
                return ERR("a second training loss");
            ok = parse_node(s, true);
        } else if (accept_word(s, "optimizer")) {
            if (p1)
                return true;
            if (s->have_optimizer)
                return ERR("a second training optimizer");
            ok = parse_optimizer(s);
        } else if (accept_word(s, "update")) {
            s->backward = true;
            if (p1)
                return true;
            int dst, src;
            ok = parse_use(s, &dst) && expect_char(s, '<') && expect_char(s, '-') && parse_use(s, &src);
            if (ok) {
                list_add(&s->upd_dst, dst);
                list_add(&s->upd_src, src);
            }
        } else if (accept_word(s, "grad")) {
            s->backward = true;
            if (p1)
                return true;
            int param, grad;
            ok = parse_use(s, &param) && expect_char(s, ':') && parse_use(s, &grad);
            if (ok) {
                list_add(&s->grad_param, param);
                list_add(&s->grad_value, grad);
            }
        } else {
            return ERR("expected training input, loss, optimizer, update or grad, got %s", got(s, g, sizeof g));
        }
    } else if (*s->p == '%' || *s->p == '_') {
        if (p1)
            return true;
        ok = parse_node(s, false);
    } else {
        return ERR("expected a declaration (input, param, const, output, training, data) or a node, got %s",
                   got(s, g, sizeof g));
    }
    if (!ok)
        return false;
    if (!at_end(s))
        return ERR("unexpected %s", got(s, g, sizeof g));
    return true;
}

/* ---- the whole file ------------------------------------------------------------------------- */

static bool same_sym(int n, const IrDim *x, const IrDim *y)
{
    for (int i = 0; i < n; i++)
        if (!x || !y || !ir_dim_eq(x[i], y[i]))
            return false;
    return true;
}

/* Node outputs as written against shape inference. */
static bool check_types(Sir *s, const IrNode *n)
{
    IrGraph *g = s->fe.g;
    for (int k = 0; k < n->nout; k++) {
        int id = n->out[k];
        if (id < 0 || id >= s->ndecl || !s->decl[id].line)
            continue;
        const SirDeclType *dt = &s->decl[id];
        const IrValue *v = g->values[id];
        char where[32], want[256], have[256];
        snprintf(where, sizeof where, "line %d", dt->line);
        if (dt->typed && (v->dtype != dt->dtype || !ir_shape_eq(&v->shape, &dt->shape))) {
            ir_type_format(dt->dtype, &dt->shape, want, sizeof want);
            ir_type_format(v->dtype, &v->shape, have, sizeof have);
            fe_error(&s->fe, where, "%%%s is written %s but %s gives %s", v->name, want, ir_op_name(n->op), have);
            return false;
        }
        IrDim numel;
        if (dt->nsym >= 0 && !(v->sym && ir_shape_numel(&v->shape, &numel) && numel.a == 0 && numel.b == dt->nsym &&
                               same_sym(dt->nsym, dt->sym, v->sym))) {
            fe_error(&s->fe, where, "%%%s: the sym[...] written is not what %s computes", v->name, ir_op_name(n->op));
            return false;
        }
    }
    return true;
}

static bool finish(Sir *s, const char *model_dir)
{
    IrGraph *g = s->fe.g;
    for (int k = 0; k < s->nneed; k++)
        if (s->need_data[k] >= 0) {
            const IrValue *v = g->values[s->need_data[k]];
            fe_error(&s->fe, v->where, "%%%s has a summary <...> of its data but no \"data %%%s = [...]\" line",
                     v->name, v->name);
            return false;
        }
    g->model_dir = ir_arena_strdup(g->arena, model_dir && *model_dir ? model_dir : ".");
    g->ninputs = s->inputs.n;
    g->inputs = list_copy(g, &s->inputs);
    g->noutputs = s->outputs.n;
    g->outputs = list_copy(g, &s->outputs);
    IrTraining *t = g->training;
    if (t) {
        if (!t->loss || !s->have_optimizer) {
            fe_error(&s->fe, NULL, "the training section has no \"training %s\" line", t->loss ? "optimizer" : "loss");
            return false;
        }
        t->ninputs = s->tinputs.n;
        t->inputs = list_copy(g, &s->tinputs);
        t->has_backward = s->backward;
        if (s->backward) {
            t->nupdates = s->upd_dst.n;
            t->update_dst = list_copy(g, &s->upd_dst);
            t->update_src = list_copy(g, &s->upd_src);
            t->ngrads = s->grad_param.n;
            t->grad_param = list_copy(g, &s->grad_param);
            t->grad_value = list_copy(g, &s->grad_value);
        }
    } else if (s->tinputs.n || s->backward) {
        fe_error(&s->fe, NULL, "training lines without a training loss");
        return false;
    }
    if (!fe_materialize_params(&s->fe) || s->fe.nerr)
        return false;
    if (ir_infer_shapes(g, s->fe.d) != 0)
        return false;
    for (int i = 0; i < g->nnodes; i++)
        if (!check_types(s, g->nodes[i]))
            return false;
    if (t && !check_types(s, t->loss))
        return false;
    return ir_verify(g, s->fe.d) == 0;
}

/* Runs one pass over the lines of text. */
static bool run_pass(Sir *s, const char *text, size_t len, int pass)
{
    s->line = 0;
    s->have_model = false;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        s->line++;
        if (memchr(text + pos, 0, n)) {
            s->buf[0] = 0;
            s->p = s->buf;
            return ERR("a NUL byte in the line");
        }
        char *b = srt_realloc(s->buf, n + 1);
        IR_ASSERT(b);
        s->buf = b;
        memcpy(b, text + pos, n);
        b[n] = 0;
        s->p = b;
        if (!parse_line(s, pass))
            return false;
        pos += n + 1;
    }
    if (!s->have_model) {
        fe_error(&s->fe, NULL, "empty: a .sir file starts with \"model NAME (seed S)\"");
        s->failed = true;
        return false;
    }
    return true;
}

IrGraph *fe_parse_sir(const char *text, size_t len, const char *file_label, const char *model_dir,
                      const FeOptions *opt, IrDiag *d)
{
    IrDiag scratch;
    if (!d) {
        ir_diag_init(&scratch, NULL);
        d = &scratch;
    }
    const char *saved_file = d->file;
    if (file_label)
        d->file = file_label;
    Sir s;
    memset(&s, 0, sizeof s);
    fe_init(&s.fe, opt, d);
    s.buf = srt_malloc(1);
    IR_ASSERT(s.buf);
    s.buf[0] = 0;
    bool ok = text && run_pass(&s, text, len, 1) && run_pass(&s, text, len, 2) && !s.fe.nerr && finish(&s, model_dir);
    if (!text)
        fe_error(&s.fe, NULL, "no model text");
    IrGraph *g = s.fe.g;
    if (!ok) {
        ir_graph_free(g);
        g = NULL;
    }
    free(s.buf);
    free(s.decl);
    free(s.need_data);
    free(s.fe.params);
    IntList *lists[] = {&s.inputs, &s.tinputs, &s.outputs, &s.upd_dst, &s.upd_src, &s.grad_param, &s.grad_value};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++)
        free(lists[i]->v);
    d->file = saved_file;
    if (d == &scratch)
        ir_diag_free(&scratch);
    return g;
}
