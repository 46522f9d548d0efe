/* Frontend helpers: diagnostics with JSON paths, quoting, "did you mean", numbers, dtype names. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe_impl.h"

void fe_error(Fe *c, const char *where, const char *fmt, ...)
{
    if (c->stop)
        return;
    if (c->nerr >= FE_MAX_ERRORS) {
        ir_diag_error(c->d, NULL, "too many errors (%d); stopping", c->nerr);
        c->stop = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    ir_diag_verror(c->d, where, fmt, ap);
    va_end(ap);
    c->nerr++;
}

const char *fe_path_key(char *buf, const char *parent, const char *key)
{
    if (parent && *parent)
        snprintf(buf, FE_PATH_MAX, "%s.%s", parent, key);
    else
        snprintf(buf, FE_PATH_MAX, "%s", key);
    return buf;
}

const char *fe_path_idx(char *buf, const char *parent, int i)
{
    snprintf(buf, FE_PATH_MAX, "%s[%d]", parent ? parent : "", i);
    return buf;
}

const char *fe_quote(char *buf, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (o >= FE_QUOTE_MAX) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, 8, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}

const char *fe_describe(char *buf, const cJSON *item)
{
    if (!item)
        snprintf(buf, FE_QBUF, "nothing");
    else if (cJSON_IsNull(item))
        snprintf(buf, FE_QBUF, "null");
    else if (cJSON_IsTrue(item))
        snprintf(buf, FE_QBUF, "true");
    else if (cJSON_IsFalse(item))
        snprintf(buf, FE_QBUF, "false");
    else if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
            snprintf(buf, FE_QBUF, "%lld", (long long)v);
        else if (isfinite(v))
            fe_fmt_f64(buf, v);
        else
            snprintf(buf, FE_QBUF, "a number out of range");
    } else if (cJSON_IsString(item))
        fe_quote(buf, item->valuestring);
    else if (cJSON_IsArray(item))
        snprintf(buf, FE_QBUF, "an array");
    else if (cJSON_IsObject(item))
        snprintf(buf, FE_QBUF, "an object");
    else
        snprintf(buf, FE_QBUF, "an invalid item");
    return buf;
}

/* ---- "did you mean" ------------------------------------------------------------------ */

#define SUGGEST_MAXLEN 64

/* Optimal-string-alignment distance between a and b, ignoring case. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int d[SUGGEST_MAXLEN + 1][SUGGEST_MAXLEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

void fe_suggest_init(FeSuggest *s, const char *word)
{
    s->word = word;
    s->best = NULL;
    s->best_dist = 3;
}

void fe_suggest_try(FeSuggest *s, const char *cand)
{
    if (!s->word || !cand || !*cand || !strcmp(s->word, cand))
        return;
    size_t lw = strlen(s->word), lc = strlen(cand);
    if (lw > SUGGEST_MAXLEN || lc > SUGGEST_MAXLEN || (lw > lc ? lw - lc : lc - lw) > 2)
        return;
    int dist = edit_distance(s->word, cand);
    /* close: at most 2 edits, and fewer than half the word (so "x" does not suggest "y") */
    if (dist < s->best_dist && (size_t)dist * 2 <= lw) {
        s->best = cand;
        s->best_dist = dist;
    }
}

const char *fe_suggest_text(const FeSuggest *s, char *buf)
{
    char q[FE_QBUF];
    if (s->best)
        snprintf(buf, FE_SBUF, " (did you mean %s?)", fe_quote(q, s->best));
    else
        buf[0] = 0;
    return buf;
}

/* ---- numbers --------------------------------------------------------------------------- */

/* The number tokens of JSON text, in order (strings skipped): what cJSON's parse_number reads. */
typedef struct NumScan {
    const char *p, *end;
} NumScan;

static bool next_number(NumScan *s, const char **tok, size_t *n)
{
    while (s->p < s->end) {
        char c = *s->p;
        if (c == '"') {
            for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
                if (*s->p == '\\' && s->p + 1 < s->end)
                    s->p++;
            s->p++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            const char *b = s->p;
            while (s->p < s->end && (strchr("0123456789+-.eE", *s->p) && *s->p))
                s->p++;
            *tok = b;
            *n = (size_t)(s->p - b);
            return true;
        } else {
            s->p++;
        }
    }
    return false;
}

/* Pre-order walk: each number item takes the next token. false: the text and the tree disagree
 * (then the rest keeps doubles only). */
static bool keep_texts(cJSON *it, NumScan *s)
{
    for (; it; it = it->next) {
        if (cJSON_IsNumber(it) && !it->valuestring) {
            const char *tok;
            size_t n;
            if (!next_number(s, &tok, &n) || n > 64)
                return false;
            char buf[72];
            memcpy(buf, tok, n);
            buf[n] = 0;
            if (strtod(buf, NULL) != it->valuedouble && !(isnan(it->valuedouble)))
                return false;
            it->valuestring = cJSON_malloc(n + 1);
            if (!it->valuestring)
                return false;
            memcpy(it->valuestring, buf, n + 1);
        }
        if (it->child && !keep_texts(it->child, s))
            return false;
    }
    return true;
}

void fe_json_keep_number_text(cJSON *root, const char *text, size_t len)
{
    NumScan s = {text, text + len};
    keep_texts(root, &s);
}

bool fe_json_int(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item))
        return false;
    const char *t = item->valuestring;
    if (t && t[strspn(t, "-0123456789")] == '\0') {
        /* an integer as written: exact (strtoll saturates beyond the int64 range: the clamp) */
        errno = 0;
        char *e;
        long long v = strtoll(t, &e, 10);
        if (e != t && *e == '\0') {
            *out = (int64_t)v;
            return true;
        }
    }
    double v = item->valuedouble;
    if (!isfinite(v) || v != floor(v))
        return false;
    /* integers beyond +-2^53 arrive rounded; clamp to the int64 range (exports use
     * INT64_MAX for "to the end") */
    if (v >= 9223372036854775807.0)
        *out = INT64_MAX;
    else if (v <= -9223372036854775808.0)
        *out = INT64_MIN;
    else
        *out = (int64_t)v;
    return true;
}

bool fe_json_float(const cJSON *item, double *out)
{
    if (cJSON_IsNumber(item)) {
        *out = item->valuedouble;
        return true;
    }
    if (cJSON_IsString(item)) {
        const char *s = item->valuestring;
        if (!strcmp(s, "nan")) {
            *out = NAN;
            return true;
        }
        if (!strcmp(s, "inf")) {
            *out = INFINITY;
            return true;
        }
        if (!strcmp(s, "-inf")) {
            *out = -INFINITY;
            return true;
        }
    }
    return false;
}

/* ---- dtypes ------------------------------------------------------------------------------- */

bool fe_dtype_from_name(const char *s, IrDtype *out)
{
    SrtDtype t;
    if (!s || srt_dtype_from_name(s, &t) != SINTER_OK || t >= SRT_BF16)
        return false;
    *out = t;
    return true;
}

const char *fe_dtype_name(IrDtype t)
{
    return srt_dtype_name(t);
}

/* ---- shortest round-trip formatting ---------------------------------------------------- */

const char *fe_fmt_f32(char *buf, float v)
{
    for (int prec = 6; prec <= 9; prec++) {
        snprintf(buf, 32, "%.*g", prec, (double)v);
        float back = strtof(buf, NULL);
        if (!memcmp(&back, &v, sizeof v))
            break;
    }
    return buf;
}

const char *fe_fmt_f64(char *buf, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        double back = strtod(buf, NULL);
        if (!memcmp(&back, &v, sizeof v))
            break;
    }
    return buf;
}

/* ---- JSON access -------------------------------------------------------------------------- */

int64_t fe_count(const cJSON *arr)
{
    int64_t n = 0;
    for (const cJSON *it = arr ? arr->child : NULL; it; it = it->next)
        n++;
    return n;
}

void fe_check_keys_of(Fe *c, const cJSON *obj, const char *path, const char *const *keys, int nkeys,
                      const char *what)
{
    IR_ASSERT(nkeys <= 32);
    uint32_t seen = 0;
    for (const cJSON *it = obj->child; it && !c->stop; it = it->next) {
        const char *k = it->string ? it->string : "";
        int idx = -1;
        for (int i = 0; i < nkeys && idx < 0; i++)
            if (!strcmp(keys[i], k))
                idx = i;
        char q[FE_QBUF], sb[FE_SBUF];
        if (idx < 0) {
            FeSuggest s;
            fe_suggest_init(&s, k);
            for (int i = 0; i < nkeys; i++)
                fe_suggest_try(&s, keys[i]);
            if (s.best && c->ntypos < FE_MAX_ERRORS) {
                c->typos[c->ntypos].obj = obj;
                c->typos[c->ntypos++].key = s.best;
            }
            if (s.best || !what) {
                fe_error(c, path, "unknown key %s%s", fe_quote(q, k), fe_suggest_text(&s, sb));
            } else {
                char list[256] = "";
                for (int i = 0; i < nkeys; i++) {
                    size_t l = strlen(list);
                    snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", keys[i]);
                }
                fe_error(c, path, "unknown key %s for %s (keys: %s)", fe_quote(q, k), what, list);
            }
        } else if (seen & (1u << idx)) {
            fe_error(c, path, "duplicate key %s", fe_quote(q, k));
        } else {
            seen |= 1u << idx;
        }
    }
}

void fe_check_keys(Fe *c, const cJSON *obj, const char *path, const char *const *keys, int nkeys)
{
    fe_check_keys_of(c, obj, path, keys, nkeys, NULL);
}

bool fe_is_typo(const Fe *c, const cJSON *obj, const char *key)
{
    for (int i = 0; i < c->ntypos; i++)
        if (c->typos[i].obj == obj && !strcmp(c->typos[i].key, key))
            return true;
    return false;
}

const cJSON *fe_member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

const cJSON *fe_require(Fe *c, const cJSON *obj, const char *path, const char *key)
{
    const cJSON *it = fe_member(obj, key);
    if (!it && !fe_is_typo(c, obj, key))
        fe_error(c, path, "missing key \"%s\"", key);
    return it;
}

bool fe_get_number(Fe *c, const cJSON *it, const char *path, double *out)
{
    char q[FE_QBUF];
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) {
        fe_error(c, path, "expected a number, got %s", fe_describe(q, it));
        return false;
    }
    *out = it->valuedouble;
    return true;
}

bool fe_get_string(Fe *c, const cJSON *it, const char *path, const char **out)
{
    char q[FE_QBUF];
    if (!cJSON_IsString(it) || !it->valuestring) {
        fe_error(c, path, "expected a string, got %s", fe_describe(q, it));
        return false;
    }
    *out = it->valuestring;
    return true;
}

bool fe_get_bool(Fe *c, const cJSON *it, const char *path, bool *out)
{
    char q[FE_QBUF];
    if (!cJSON_IsBool(it)) {
        fe_error(c, path, "expected true or false, got %s", fe_describe(q, it));
        return false;
    }
    *out = cJSON_IsTrue(it);
    return true;
}
