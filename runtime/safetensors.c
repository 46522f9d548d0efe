/* .safetensors files: a strict reader for untrusted input and an atomic, aligned writer. */
#include "runtime/sinter_rt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* File layout: u64 little-endian N, then N bytes of JSON header, then the data section.
 * Header: {"NAME": {"dtype": "F32", "shape": [2, 3], "data_offsets": [BEGIN, END]}, ...,
 *          "__metadata__": {"key": "value", ...}} with offsets relative to the data section.
 * Like the reference implementation, the tensors must tile the data section exactly:
 * no overlaps, no gaps, no trailing bytes. */

#define MAX_HEADER_LEN 100000000u /* bytes, the limit of the reference implementation */
#define QUOTE_MAX 80              /* buffer for a tensor name quoted in a message */
#define DIMS_MAX 200              /* buffer for "[d0, d1, ...]": 8 dims of <= 20 digits */

/* ORDER: follows SrtDtype. */
static const char *const st_dtype_names[] = {"F32", "F64", "I64", "I32", "I8", "U8", "BOOL", "BF16", "F16"};
_Static_assert(sizeof st_dtype_names / sizeof st_dtype_names[0] == SRT_DTYPE_COUNT,
               "st_dtype_names must have one row per SrtDtype");

/* ---- message helpers ------------------------------------------------------ */

/* name in double quotes for a one-line message: quotes, backslashes and control bytes
 * escaped, cut with "..." when long. Returns buf. */
static const char *quoted(char buf[QUOTE_MAX], const char *name)
{
    size_t o = 0;
    buf[o++] = '"';
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (o > QUOTE_MAX - 10 && (*p & 0xC0) != 0x80) { /* cut between UTF-8 sequences */
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(buf + o, 5, "\\x%02x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}

static const char *format_dims(char buf[DIMS_MAX], int rank, const int64_t *dims)
{
    size_t o = 0;
    buf[o++] = '[';
    for (int i = 0; i < rank; i++)
        o += (size_t)snprintf(buf + o, DIMS_MAX - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    snprintf(buf + o, DIMS_MAX - o, "]");
    return buf;
}

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if it is malformed
 * (overlong, surrogate, above U+10FFFF or cut off by end). */
static size_t utf8_seq_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t c = p[0];
    size_t n;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    else if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    }
    return n;
}

static size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ---- header scanner: strict JSON for the subset safetensors uses ------------------ */

typedef struct Scan {
    const uint8_t *start, *p, *end; /* the header bytes; p is the read position */
    const char *tensor;             /* name of the entry being read, for messages, or NULL */
    char *err;
    size_t errlen;
} Scan;

/* Fails with "[tensor "NAME": ]header byte N: MSG". */
__attribute__((format(printf, 2, 3)))
static int scan_fail(Scan *s, const char *fmt, ...)
{
    char msg[160], q[QUOTE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t at = (size_t)(s->p - s->start);
    if (s->tensor)
        return srt_errorf(s->err, s->errlen, SINTER_EFORMAT, "tensor %s: header byte %zu: %s",
                          quoted(q, s->tensor), at, msg);
    return srt_errorf(s->err, s->errlen, SINTER_EFORMAT, "header byte %zu: %s", at, msg);
}

/* Fails with "[tensor "NAME": ]MSG" (semantic errors, no position). */
__attribute__((format(printf, 2, 3)))
static int entry_fail(Scan *s, const char *fmt, ...)
{
    char msg[512], q[QUOTE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->tensor)
        return srt_errorf(s->err, s->errlen, SINTER_EFORMAT, "tensor %s: %s", quoted(q, s->tensor), msg);
    return srt_errorf(s->err, s->errlen, SINTER_EFORMAT, "%s", msg);
}

static void skip_ws(Scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* Describes what is at the read position, for "expected X, found Y". */
static const char *found(const Scan *s, char buf[8])
{
    if (s->p >= s->end)
        return "the end of the header";
    if (*s->p >= 0x20 && *s->p < 0x7f)
        snprintf(buf, 8, "'%c'", *s->p);
    else
        snprintf(buf, 8, "0x%02x", *s->p);
    return buf;
}

/* Skips whitespace and consumes c. */
static int expect(Scan *s, char c)
{
    char f[8];
    skip_ws(s);
    if (s->p < s->end && *s->p == (uint8_t)c) {
        s->p++;
        return SINTER_OK;
    }
    return scan_fail(s, "expected '%c', found %s", c, found(s, f));
}

/* Skips whitespace and consumes ',' (returns 1) or close (returns 0); -1 on error. */
static int comma_or(Scan *s, char close)
{
    char f[8];
    skip_ws(s);
    if (s->p < s->end && *s->p == ',') {
        s->p++;
        return 1;
    }
    if (s->p < s->end && *s->p == (uint8_t)close) {
        s->p++;
        return 0;
    }
    scan_fail(s, "expected ',' or '%c', found %s", close, found(s, f));
    return -1;
}

static int hex4(Scan *s, uint32_t *out)
{
    if (s->end - s->p < 4)
        return scan_fail(s, "\\u escape needs 4 hex digits");
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = s->p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return scan_fail(s, "\\u escape needs 4 hex digits");
    }
    s->p += 4;
    *out = v;
    return SINTER_OK;
}

/* Skips whitespace and reads a JSON string into a malloc'ed, NUL-terminated UTF-8 buffer.
 * *len excludes the terminator (the string itself may hold NULs from \u0000). */
static int scan_string(Scan *s, char **out, size_t *len)
{
    char f[8];
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return scan_fail(s, "expected a string, found %s", found(s, f));
    s->p++;
    /* Decoding never lengthens the text, so the raw string bounds the size. */
    const uint8_t *q = s->p;
    while (q < s->end && *q != '"')
        q += *q == '\\' && s->end - q > 1 ? 2 : 1;
    char *buf = srt_malloc((size_t)(q - s->p) + 1);
    if (!buf)
        return srt_errorf(s->err, s->errlen, SINTER_ENOMEM, "out of memory reading the header");
    size_t o = 0;
    int rc = SINTER_OK;
    for (;;) {
        if (s->p >= s->end) {
            rc = scan_fail(s, "unterminated string");
            break;
        }
        uint8_t c = *s->p;
        if (c == '"') {
            s->p++;
            break;
        }
        if (c < 0x20) {
            rc = scan_fail(s, "control character 0x%02x in a string (escape it)", c);
            break;
        }
        if (c != '\\') {
            size_t n = utf8_seq_len(s->p, s->end);
            if (n == 0) {
                rc = scan_fail(s, "invalid UTF-8 in a string");
                break;
            }
            memcpy(buf + o, s->p, n);
            o += n;
            s->p += n;
            continue;
        }
        s->p++; /* the backslash */
        if (s->p >= s->end) {
            rc = scan_fail(s, "unterminated string");
            break;
        }
        char e = (char)*s->p++;
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buf[o++] = decoded[simple - "\"\\/bfnrt"];
            continue;
        }
        if (e != 'u') {
            s->p--;
            rc = scan_fail(s, "invalid escape '\\%c'", e >= 0x20 && e < 0x7f ? e : '?');
            break;
        }
        uint32_t cp;
        if ((rc = hex4(s, &cp)) != SINTER_OK)
            break;
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
            rc = scan_fail(s, "\\u%04X is a low surrogate without a high surrogate before it", (unsigned)cp);
            break;
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u') {
                rc = scan_fail(s, "\\u%04X is a high surrogate without a low surrogate after it", (unsigned)cp);
                break;
            }
            s->p += 2;
            if ((rc = hex4(s, &lo)) != SINTER_OK)
                break;
            if (lo < 0xDC00 || lo > 0xDFFF) {
                rc = scan_fail(s, "\\u%04X is a high surrogate without a low surrogate after it", (unsigned)cp);
                break;
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        o += utf8_encode(cp, buf + o);
    }
    if (rc != SINTER_OK) {
        free(buf);
        return rc;
    }
    buf[o] = 0;
    *out = buf;
    *len = o;
    return SINTER_OK;
}

/* Skips whitespace and reads a JSON integer (no fraction, no exponent) that fits int64_t. */
static int scan_int(Scan *s, int64_t *out)
{
    char f[8];
    skip_ws(s);
    const uint8_t *begin = s->p;
    int neg = 0;
    if (s->p < s->end && *s->p == '-') {
        neg = 1;
        s->p++;
    }
    if (s->p >= s->end || *s->p < '0' || *s->p > '9') {
        s->p = begin;
        return scan_fail(s, "expected an integer, found %s", found(s, f));
    }
    if (*s->p == '0' && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
        return scan_fail(s, "leading zeros are not allowed in JSON numbers");
    uint64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s->p - '0'), &v) ||
            v > (uint64_t)INT64_MAX) {
            s->p = begin;
            return scan_fail(s, "integer too large");
        }
        s->p++;
    }
    if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E')) {
        s->p = begin;
        return scan_fail(s, "expected an integer, found a number with a fraction or exponent");
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return SINTER_OK;
}

/* "__metadata__": an object of string -> string; the values are checked and dropped. */
static int skip_metadata(Scan *s)
{
    int rc = expect(s, '{');
    if (rc != SINTER_OK)
        return rc;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return SINTER_OK;
    }
    for (;;) {
        char *str;
        size_t len;
        if ((rc = scan_string(s, &str, &len)) != SINTER_OK)
            return rc;
        free(str);
        if ((rc = expect(s, ':')) != SINTER_OK)
            return rc;
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"')
            return scan_fail(s, "__metadata__ values must be strings");
        if ((rc = scan_string(s, &str, &len)) != SINTER_OK)
            return rc;
        free(str);
        int more = comma_or(s, '}');
        if (more < 0)
            return SINTER_EFORMAT;
        if (!more)
            return SINTER_OK;
    }
}

/* One tensor of the header, before its data is read. */
typedef struct Entry {
    SrtTensor t;         /* name, dtype, rank, dims, nbytes; data NULL */
    uint64_t begin, end; /* data_offsets, relative to the data section */
} Entry;

/* Reads {"dtype": ..., "shape": [...], "data_offsets": [b, e]} for the tensor e->t.name and
 * checks it against a data section of data_len bytes. */
static int scan_entry(Scan *s, Entry *e, uint64_t data_len)
{
    enum { DTYPE = 1, SHAPE = 2, OFFSETS = 4 };
    int seen = 0, rc;
    char f[8];
    s->tensor = e->t.name;
    if ((rc = expect(s, '{')) != SINTER_OK)
        return rc;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}')
        return scan_fail(s, "missing \"dtype\", \"shape\" and \"data_offsets\"");
    for (;;) {
        char *key;
        size_t klen;
        if ((rc = scan_string(s, &key, &klen)) != SINTER_OK)
            return rc;
        int which = klen == 5 && !memcmp(key, "dtype", 5)          ? DTYPE
                    : klen == 5 && !memcmp(key, "shape", 5)        ? SHAPE
                    : klen == 12 && !memcmp(key, "data_offsets", 12) ? OFFSETS
                                                                     : 0;
        if (!which) {
            char q[QUOTE_MAX];
            rc = entry_fail(s, "unknown key %s (expected \"dtype\", \"shape\" and \"data_offsets\")",
                            quoted(q, key));
            free(key);
            return rc;
        }
        if (seen & which) {
            rc = entry_fail(s, "duplicate key \"%s\"", key);
            free(key);
            return rc;
        }
        free(key);
        seen |= which;
        if ((rc = expect(s, ':')) != SINTER_OK)
            return rc;

        if (which == DTYPE) {
            char *name;
            size_t nlen;
            if ((rc = scan_string(s, &name, &nlen)) != SINTER_OK)
                return rc;
            int found_dtype = -1;
            for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
                if (strlen(st_dtype_names[i]) == nlen && !memcmp(name, st_dtype_names[i], nlen))
                    found_dtype = i;
            }
            if (found_dtype < 0) {
                char q[QUOTE_MAX];
                rc = entry_fail(s, "dtype %s is not supported (expected F32, F64, I64, I32, I8, U8, BOOL, BF16 or F16)",
                                quoted(q, name));
                free(name);
                return rc;
            }
            free(name);
            e->t.dtype = (SrtDtype)found_dtype;
        } else if (which == SHAPE) {
            if ((rc = expect(s, '[')) != SINTER_OK)
                return rc;
            skip_ws(s);
            if (s->p < s->end && *s->p == ']') {
                s->p++;
            } else {
                for (;;) {
                    int64_t d;
                    if ((rc = scan_int(s, &d)) != SINTER_OK)
                        return rc;
                    if (e->t.rank == SRT_MAX_RANK)
                        return entry_fail(s, "shape has more than %d dims", SRT_MAX_RANK);
                    if (d < 0)
                        return entry_fail(s, "shape[%d] is %lld; dims must be >= 0", e->t.rank, (long long)d);
                    e->t.dims[e->t.rank++] = d;
                    int more = comma_or(s, ']');
                    if (more < 0)
                        return SINTER_EFORMAT;
                    if (!more)
                        break;
                }
            }
        } else {
            int64_t off[2];
            if ((rc = expect(s, '[')) != SINTER_OK)
                return rc;
            for (int i = 0; i < 2; i++) {
                if ((rc = scan_int(s, &off[i])) != SINTER_OK)
                    return rc;
                if (off[i] < 0)
                    return entry_fail(s, "data_offsets[%d] is %lld; offsets must be >= 0", i, (long long)off[i]);
                skip_ws(s);
                if (s->p >= s->end || *s->p != (i == 0 ? ',' : ']'))
                    return scan_fail(s, "data_offsets must be [begin, end], found %s", found(s, f));
                s->p++;
            }
            e->begin = (uint64_t)off[0];
            e->end = (uint64_t)off[1];
        }
        int more = comma_or(s, '}');
        if (more < 0)
            return SINTER_EFORMAT;
        if (!more)
            break;
    }
    if (!(seen & DTYPE))
        return entry_fail(s, "missing \"dtype\"");
    if (!(seen & SHAPE))
        return entry_fail(s, "missing \"shape\"");
    if (!(seen & OFFSETS))
        return entry_fail(s, "missing \"data_offsets\"");

    char dims[DIMS_MAX];
    const char *dt = st_dtype_names[e->t.dtype];
    if (e->end < e->begin)
        return entry_fail(s, "data_offsets [%llu, %llu] end before they begin", (unsigned long long)e->begin,
                          (unsigned long long)e->end);
    if (e->end > data_len)
        return entry_fail(s, "data_offsets [%llu, %llu] go past the end of the data section (%llu bytes)",
                          (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)data_len);
    if (srt_tensor_nbytes(e->t.dtype, e->t.rank, e->t.dims, &e->t.nbytes) != SINTER_OK)
        return entry_fail(s, "shape %s of %s is too large", format_dims(dims, e->t.rank, e->t.dims), dt);
    if (e->end - e->begin != e->t.nbytes)
        return entry_fail(s, "data_offsets [%llu, %llu] hold %llu bytes but shape %s of %s needs %zu",
                          (unsigned long long)e->begin, (unsigned long long)e->end,
                          (unsigned long long)(e->end - e->begin), format_dims(dims, e->t.rank, e->t.dims), dt,
                          e->t.nbytes);
    s->tensor = NULL;
    return SINTER_OK;
}

static int cmp_entry_name(const void *a, const void *b)
{
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    return strcmp(x->t.name, y->t.name);
}

static int cmp_entry_offsets(const void *a, const void *b)
{
    const Entry *x = *(const Entry *const *)a, *y = *(const Entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Names are unique; the ranges tile [0, data_len) exactly. */
static int check_layout(Entry *entries, int count, uint64_t data_len, char *err, size_t errlen)
{
    char q1[QUOTE_MAX], q2[QUOTE_MAX];
    const Entry **order = srt_malloc(sizeof *order * (size_t)(count > 0 ? count : 1));
    if (!order)
        return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory checking the header");
    for (int i = 0; i < count; i++)
        order[i] = &entries[i];
    int rc = SINTER_OK;

    qsort(order, (size_t)count, sizeof *order, cmp_entry_name);
    for (int i = 1; i < count && rc == SINTER_OK; i++) {
        if (strcmp(order[i - 1]->t.name, order[i]->t.name) == 0)
            rc = srt_errorf(err, errlen, SINTER_EFORMAT, "duplicate tensor name %s", quoted(q1, order[i]->t.name));
    }

    qsort(order, (size_t)count, sizeof *order, cmp_entry_offsets);
    uint64_t at = 0; /* end of the tensors checked so far */
    for (int i = 0; i < count && rc == SINTER_OK; i++) {
        const Entry *e = order[i];
        if (e->begin < at) {
            const Entry *prev = order[i - 1]; /* at > 0, so i > 0 and prev ends at `at` */
            rc = srt_errorf(err, errlen, SINTER_EFORMAT,
                            "tensor %s: data_offsets [%llu, %llu] overlap tensor %s at [%llu, %llu]",
                            quoted(q1, e->t.name), (unsigned long long)e->begin, (unsigned long long)e->end,
                            quoted(q2, prev->t.name), (unsigned long long)prev->begin, (unsigned long long)prev->end);
        } else if (e->begin > at) {
            rc = srt_errorf(err, errlen, SINTER_EFORMAT,
                            "data bytes [%llu, %llu) before tensor %s belong to no tensor", (unsigned long long)at,
                            (unsigned long long)e->begin, quoted(q1, e->t.name));
        }
        at = e->end;
    }
    if (rc == SINTER_OK && at != data_len)
        rc = srt_errorf(err, errlen, SINTER_EFORMAT, "data bytes [%llu, %llu) at the end belong to no tensor",
                        (unsigned long long)at, (unsigned long long)data_len);
    free(order);
    return rc;
}

static void free_entries(Entry *entries, int count)
{
    for (int i = 0; i < count; i++)
        free(entries[i].t.name);
    free(entries);
}

/* Parses and checks the header hdr[0..n) of a file whose data section has data_len bytes.
 * On success *entries (count of them, in header order) is malloc'ed. */
static int parse_header(const uint8_t *hdr, size_t n, uint64_t data_len, Entry **entries_out, int *count_out,
                        char *err, size_t errlen)
{
    Scan s = {hdr, hdr, hdr + n, NULL, err, errlen};
    Entry *entries = NULL;
    int count = 0, cap = 0, seen_metadata = 0, rc;

    if (n == 0 || hdr[0] != '{')
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header does not start with '{'");
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
        goto done;
    }
    for (;;) {
        char *name;
        size_t nlen;
        if ((rc = scan_string(&s, &name, &nlen)) != SINTER_OK)
            goto fail;
        if ((rc = expect(&s, ':')) != SINTER_OK) {
            free(name);
            goto fail;
        }
        if (strcmp(name, "__metadata__") == 0 && nlen == 12) {
            free(name);
            if (seen_metadata) {
                rc = srt_errorf(err, errlen, SINTER_EFORMAT, "duplicate key \"__metadata__\"");
                goto fail;
            }
            seen_metadata = 1;
            if ((rc = skip_metadata(&s)) != SINTER_OK)
                goto fail;
        } else {
            if (strlen(name) != nlen) {
                char q[QUOTE_MAX];
                rc = srt_errorf(err, errlen, SINTER_EFORMAT, "tensor name %s contains a NUL character",
                                quoted(q, name));
                free(name);
                goto fail;
            }
            if (count == cap) {
                int ncap = cap ? cap * 2 : 16;
                Entry *ne = cap > INT_MAX / 2 ? NULL : srt_realloc(entries, sizeof *ne * (size_t)ncap);
                if (!ne) {
                    free(name);
                    rc = srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory reading the header");
                    goto fail;
                }
                entries = ne;
                cap = ncap;
            }
            Entry *e = &entries[count++];
            memset(e, 0, sizeof *e);
            e->t.name = name;
            if ((rc = scan_entry(&s, e, data_len)) != SINTER_OK)
                goto fail;
        }
        int more = comma_or(&s, '}');
        if (more < 0) {
            rc = SINTER_EFORMAT;
            goto fail;
        }
        if (!more)
            break;
    }
done:
    skip_ws(&s);
    if (s.p != s.end) {
        char f[8];
        rc = scan_fail(&s, "expected the end of the header, found %s", found(&s, f));
        goto fail;
    }
    if ((rc = check_layout(entries, count, data_len, err, errlen)) != SINTER_OK)
        goto fail;
    *entries_out = entries;
    *count_out = count;
    return SINTER_OK;
fail:
    free_entries(entries, count);
    return rc;
}

/* ---- reading ------------------------------------------------------------------- */

/* Checks the 8-byte length prefix of a file of file_len bytes (first holds its first
 * min(8, file_len) bytes) and returns the header length. */
static int check_prefix(const uint8_t *first, uint64_t file_len, uint64_t *hdr_len, char *err, size_t errlen)
{
    if (file_len < 8)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "truncated: file has %llu bytes, header needs 8",
                          (unsigned long long)file_len);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | first[i];
    if (n > file_len - 8)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header length %llu exceeds file size %llu",
                          (unsigned long long)n, (unsigned long long)file_len);
    if (n > MAX_HEADER_LEN)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header length %llu exceeds the limit of %u bytes",
                          (unsigned long long)n, MAX_HEADER_LEN);
    *hdr_len = n;
    return SINTER_OK;
}

/* Where tensor data comes from: a buffer, or else a file descriptor. */
typedef struct Source {
    const uint8_t *buf; /* the whole file, or NULL */
    int fd;
    uint64_t data_start; /* file offset of the data section */
} Source;

static int read_at(const Source *src, uint64_t off, uint8_t *dst, size_t n, char *err, size_t errlen)
{
    off += src->data_start;
    if (src->buf) {
        memcpy(dst, src->buf + off, n);
        return SINTER_OK;
    }
    while (n > 0) {
        if (off > (uint64_t)INT64_MAX)
            return srt_errorf(err, errlen, SINTER_EIO, "offset %llu out of range", (unsigned long long)off);
        ssize_t got = pread(src->fd, dst, n < ((size_t)1 << 30) ? n : ((size_t)1 << 30), (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return srt_errorf(err, errlen, SINTER_EIO, "cannot read: %s", strerror(errno));
        if (got == 0)
            return srt_errorf(err, errlen, SINTER_EIO, "file ended early (was it changed while being read?)");
        dst += got;
        off += (uint64_t)got;
        n -= (size_t)got;
    }
    return SINTER_OK;
}

/* BOOL tensors must hold only 0 and 1 (generated code treats them as C _Bool). */
static int check_bools(const SrtTensor *t, char *err, size_t errlen)
{
    const uint8_t *b = t->data;
    char q[QUOTE_MAX];
    if (t->dtype != SRT_BOOL)
        return SINTER_OK;
    for (size_t i = 0; i < t->nbytes; i++) {
        if (b[i] > 1)
            return srt_errorf(err, errlen, SINTER_EFORMAT, "tensor %s: BOOL element %zu is %u (must be 0 or 1)",
                              quoted(q, t->name), i, b[i]);
    }
    return SINTER_OK;
}

/* Moves the entries into out and reads their data. Frees entries in every case. */
static int load_tensors(Entry *entries, int count, const Source *src, SrtTensorFile *out, char *err, size_t errlen)
{
    SrtTensor *ts = srt_calloc((size_t)(count > 0 ? count : 1), sizeof *ts);
    if (!ts) {
        free_entries(entries, count);
        return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory");
    }
    for (int i = 0; i < count; i++)
        ts[i] = entries[i].t; /* takes the name */
    SrtTensorFile f = {count, ts};
    int rc = SINTER_OK;
    for (int i = 0; i < count && rc == SINTER_OK; i++) {
        ts[i].data = srt_malloc(ts[i].nbytes ? ts[i].nbytes : 1);
        if (!ts[i].data)
            rc = srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory for %zu bytes", ts[i].nbytes);
        else if ((rc = read_at(src, entries[i].begin, ts[i].data, ts[i].nbytes, err, errlen)) == SINTER_OK)
            rc = check_bools(&ts[i], err, errlen);
    }
    free(entries);
    if (rc != SINTER_OK) {
        srt_tensorfile_free(&f);
        return rc;
    }
    *out = f;
    return SINTER_OK;
}

int srt_safetensors_parse(const uint8_t *buf, size_t len, SrtTensorFile *out, char *err, size_t errlen)
{
    if (!out || (!buf && len > 0))
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_safetensors_parse");
    out->count = 0;
    out->tensors = NULL;
    uint64_t n;
    int rc = check_prefix(buf, len, &n, err, errlen);
    if (rc != SINTER_OK)
        return rc;
    Entry *entries;
    int count;
    if ((rc = parse_header(buf + 8, (size_t)n, len - 8 - n, &entries, &count, err, errlen)) != SINTER_OK)
        return rc;
    Source src = {buf, -1, 8 + n};
    return load_tensors(entries, count, &src, out, err, errlen);
}

int srt_safetensors_read(const char *path, SrtTensorFile *out, char *err, size_t errlen)
{
    if (!path || !out)
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_safetensors_read");
    out->count = 0;
    out->tensors = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return srt_errorf(err, errlen, SINTER_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    uint8_t first[8];
    uint8_t *hdr = NULL;
    uint64_t n = 0;
    Entry *entries = NULL;
    int count = 0, rc;
    if (fstat(fd, &st) != 0) {
        rc = srt_errorf(err, errlen, SINTER_EIO, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = srt_errorf(err, errlen, SINTER_EIO, "not a regular file");
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    Source src = {NULL, fd, 0};
    if (size >= 8 && (rc = read_at(&src, 0, first, 8, err, errlen)) != SINTER_OK)
        goto out;
    if ((rc = check_prefix(first, size, &n, err, errlen)) != SINTER_OK)
        goto out;
    hdr = srt_malloc(n ? (size_t)n : 1);
    if (!hdr) {
        rc = srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory for the header");
        goto out;
    }
    if ((rc = read_at(&src, 8, hdr, (size_t)n, err, errlen)) != SINTER_OK)
        goto out;
    if ((rc = parse_header(hdr, (size_t)n, size - 8 - n, &entries, &count, err, errlen)) != SINTER_OK)
        goto out;
    src.data_start = 8 + n;
    rc = load_tensors(entries, count, &src, out, err, errlen);
out:
    free(hdr);
    close(fd);
    return rc;
}

void srt_tensorfile_free(SrtTensorFile *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->count; i++)
        srt_tensor_free(&f->tensors[i]);
    free(f->tensors);
    f->count = 0;
    f->tensors = NULL;
}

const SrtTensor *srt_tensorfile_find(const SrtTensorFile *f, const char *name)
{
    if (!f || !name)
        return NULL;
    for (int i = 0; i < f->count; i++) {
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    }
    return NULL;
}

/* ---- writing ------------------------------------------------------------------- */

/* A growing byte buffer; oom latches the first allocation failure. */
typedef struct Buf {
    char *p;
    size_t len, cap;
    int oom;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->len < n) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap - b->len < n) {
            if (ncap > SIZE_MAX / 2) {
                b->oom = 1;
                return;
            }
            ncap *= 2;
        }
        char *np = srt_realloc(b->p, ncap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void buf_str(Buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static void buf_u64(Buf *b, uint64_t v)
{
    char tmp[24];
    buf_add(b, tmp, (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v));
}

/* Appends s as a JSON string (valid UTF-8 passes through; quotes, backslashes and control
 * characters are escaped). */
static void buf_json_string(Buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            buf_add(b, esc, 2);
        } else if (*p < 0x20) {
            buf_add(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p));
        } else {
            buf_add(b, (const char *)p, 1);
        }
    }
    buf_add(b, "\"", 1);
}

static int cmp_tensor_name(const void *a, const void *b)
{
    const SrtTensor *x = *(const SrtTensor *const *)a, *y = *(const SrtTensor *const *)b;
    return strcmp(x->name, y->name);
}

/* Data order: larger elements first, so every tensor starts at a multiple of its element
 * size without padding (the format allows no gaps); then by name. */
static int cmp_tensor_layout(const void *a, const void *b)
{
    const SrtTensor *x = *(const SrtTensor *const *)a, *y = *(const SrtTensor *const *)b;
    size_t sx = srt_dtype_size(x->dtype), sy = srt_dtype_size(y->dtype);
    if (sx != sy)
        return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Checks one tensor given to the writer. */
static int check_tensor_arg(const SrtTensor *t, int i, char *err, size_t errlen)
{
    char q[QUOTE_MAX], dims[DIMS_MAX];
    size_t need;
    if (!t->name)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %d has no name", i);
    const uint8_t *p = (const uint8_t *)t->name, *end = p + strlen(t->name);
    while (p < end) {
        size_t n = utf8_seq_len(p, end);
        if (n == 0)
            return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %s: name is not valid UTF-8", quoted(q, t->name));
        p += n;
    }
    if (strcmp(t->name, "__metadata__") == 0)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor name \"__metadata__\" is reserved");
    if ((int)t->dtype < 0 || t->dtype >= SRT_DTYPE_COUNT)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %s: bad dtype %d", quoted(q, t->name), (int)t->dtype);
    if (t->rank < 0 || t->rank > SRT_MAX_RANK)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %s: rank %d is outside 0..%d", quoted(q, t->name),
                          t->rank, SRT_MAX_RANK);
    int rc = srt_tensor_nbytes(t->dtype, t->rank, t->dims, &need);
    if (rc != SINTER_OK)
        return srt_errorf(err, errlen, rc, "tensor %s: shape %s of %s is invalid or too large", quoted(q, t->name),
                          format_dims(dims, t->rank, t->dims), st_dtype_names[t->dtype]);
    if (t->nbytes != need)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %s: nbytes is %zu but shape %s of %s needs %zu",
                          quoted(q, t->name), t->nbytes, format_dims(dims, t->rank, t->dims),
                          st_dtype_names[t->dtype], need);
    if (t->nbytes > 0 && !t->data)
        return srt_errorf(err, errlen, SINTER_EINVAL, "tensor %s: data is NULL", quoted(q, t->name));
    if ((rc = check_bools(t, err, errlen)) != SINTER_OK)
        return SINTER_EINVAL;
    return SINTER_OK;
}

int srt_safetensors_write(const char *path, const SrtTensor *tensors, int count, char *err, size_t errlen)
{
    if (!path || count < 0 || count == INT_MAX || (count > 0 && !tensors))
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_safetensors_write");
    for (int i = 0; i < count; i++) {
        int rc = check_tensor_arg(&tensors[i], i, err, errlen);
        if (rc != SINTER_OK)
            return rc;
    }
    size_t slots = (size_t)(count > 0 ? count : 1);
    const SrtTensor **by_name = srt_malloc(sizeof *by_name * slots);
    const SrtTensor **by_layout = srt_malloc(sizeof *by_layout * slots);
    uint64_t *begin = srt_malloc(sizeof *begin * slots); /* ORDER: by_name */
    SrtSlice *parts = srt_malloc(sizeof *parts * (slots + 1));
    Buf b = {0};
    int rc = SINTER_OK;
    if (!by_name || !by_layout || !begin || !parts) {
        rc = srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < count; i++)
        by_name[i] = by_layout[i] = &tensors[i];
    qsort(by_name, (size_t)count, sizeof *by_name, cmp_tensor_name);
    qsort(by_layout, (size_t)count, sizeof *by_layout, cmp_tensor_layout);
    for (int i = 1; i < count; i++) {
        if (strcmp(by_name[i - 1]->name, by_name[i]->name) == 0) {
            char q[QUOTE_MAX];
            rc = srt_errorf(err, errlen, SINTER_EINVAL, "duplicate tensor name %s", quoted(q, by_name[i]->name));
            goto out;
        }
    }

    /* Data offsets in layout order, stored by name order (binary search by name). */
    uint64_t at = 0;
    int nparts = 1;
    for (int i = 0; i < count; i++) {
        const SrtTensor *t = by_layout[i];
        const SrtTensor **slot = bsearch(&t, by_name, (size_t)count, sizeof *by_name, cmp_tensor_name);
        begin[slot - by_name] = at;
        if (__builtin_add_overflow(at, (uint64_t)t->nbytes, &at)) {
            rc = srt_errorf(err, errlen, SINTER_ENOMEM, "tensors are too large for one file");
            goto out;
        }
        if (t->nbytes > 0)
            parts[nparts++] = (SrtSlice){t->data, t->nbytes};
    }

    buf_add(&b, "\0\0\0\0\0\0\0\0", 8); /* the length, filled in below */
    buf_str(&b, "{");
    for (int i = 0; i < count; i++) {
        const SrtTensor *t = by_name[i];
        if (i)
            buf_str(&b, ",");
        buf_json_string(&b, t->name);
        buf_str(&b, ":{\"dtype\":\"");
        buf_str(&b, st_dtype_names[t->dtype]);
        buf_str(&b, "\",\"shape\":[");
        for (int d = 0; d < t->rank; d++) {
            if (d)
                buf_str(&b, ",");
            buf_u64(&b, (uint64_t)t->dims[d]);
        }
        buf_str(&b, "],\"data_offsets\":[");
        buf_u64(&b, begin[i]);
        buf_str(&b, ",");
        buf_u64(&b, begin[i] + t->nbytes);
        buf_str(&b, "]}");
    }
    buf_str(&b, "}");
    while (!b.oom && b.len % 8 != 0)
        buf_str(&b, " "); /* data section starts 8-byte aligned */
    if (b.oom) {
        rc = srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory building the header");
        goto out;
    }
    uint64_t n = b.len - 8;
    if (n > MAX_HEADER_LEN) {
        rc = srt_errorf(err, errlen, SINTER_EINVAL, "header of %llu bytes exceeds the limit of %u bytes",
                        (unsigned long long)n, MAX_HEADER_LEN);
        goto out;
    }
    for (int i = 0; i < 8; i++)
        b.p[i] = (char)(n >> (8 * i));
    parts[0] = (SrtSlice){b.p, b.len};
    rc = srt_write_parts_atomic(path, parts, nparts, err, errlen);
out:
    free(by_name);
    free(by_layout);
    free(begin);
    free(parts);
    free(b.p);
    return rc;
}
