/* NumPy .npy files: a strict reader (format 1.0-3.0, little-endian, C order) and an atomic writer (1.0). */
#include "runtime/sinter_rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* File layout: "\x93NUMPY", major, minor, header length (u16 LE for 1.0, u32 LE for 2.0/3.0),
 * then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ended by '\n', then the raw elements in C order. */

#define DIMS_MAX 200 /* buffer for "(d0, d1, ...)": 8 dims of <= 20 digits */

static const char npy_magic[6] = "\x93NUMPY";

/* descr of each dtype, as numpy writes it. ORDER: follows SrtDtype; NULL: no numpy type. */
static const char *const npy_descr[] = {"<f4", "<f8", "<i8", "<i4", "|i1", "|u1", "|b1", NULL, "<f2"};
_Static_assert(sizeof npy_descr / sizeof npy_descr[0] == SRT_DTYPE_COUNT,
               "npy_descr must have one row per SrtDtype");

/* Shape as numpy prints it: (), (3,), (3, 4). */
static const char *format_shape(char buf[DIMS_MAX], int rank, const int64_t *dims)
{
    size_t o = 0;
    buf[o++] = '(';
    for (int i = 0; i < rank; i++)
        o += (size_t)snprintf(buf + o, DIMS_MAX - o, "%s%lld", i ? ", " : "", (long long)dims[i]);
    snprintf(buf + o, DIMS_MAX - o, rank == 1 ? ",)" : ")");
    return buf;
}

/* ---- header scanner: the Python literal subset numpy writes ------------------------ */

typedef struct Scan {
    const uint8_t *start, *p, *end; /* the header text; p is the read position */
    char *err;
    size_t errlen;
} Scan;

/* Fails with "header byte N: MSG". */
__attribute__((format(printf, 2, 3)))
static int scan_fail(Scan *s, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return srt_errorf(s->err, s->errlen, SINTER_EFORMAT, "header byte %zu: %s", (size_t)(s->p - s->start), msg);
}

static void skip_ws(Scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

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

/* Skips whitespace; consumes c and returns 1 if it is next, else returns 0. */
static int accept(Scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == (uint8_t)c) {
        s->p++;
        return 1;
    }
    return 0;
}

static int expect(Scan *s, char c)
{
    char f[8];
    if (accept(s, c))
        return SINTER_OK;
    return scan_fail(s, "expected '%c', found %s", c, found(s, f));
}

/* A quoted Python string of printable ASCII without escapes, copied into out[outlen]. */
static int scan_string(Scan *s, char *out, size_t outlen)
{
    char f[8];
    skip_ws(s);
    if (s->p >= s->end || (*s->p != '\'' && *s->p != '"'))
        return scan_fail(s, "expected a quoted string, found %s", found(s, f));
    uint8_t quote = *s->p++;
    size_t o = 0;
    while (s->p < s->end && *s->p != quote) {
        if (*s->p < 0x20 || *s->p >= 0x7f || *s->p == '\\')
            return scan_fail(s, "unexpected character %s in a string", found(s, f));
        if (o + 1 < outlen)
            out[o++] = (char)*s->p;
        s->p++;
    }
    if (s->p >= s->end)
        return scan_fail(s, "unterminated string");
    s->p++;
    out[o] = 0;
    return SINTER_OK;
}

/* A word such as True or False. */
static int scan_word(Scan *s, char *out, size_t outlen)
{
    skip_ws(s);
    size_t o = 0;
    while (s->p < s->end && ((*s->p >= 'a' && *s->p <= 'z') || (*s->p >= 'A' && *s->p <= 'Z'))) {
        if (o + 1 < outlen)
            out[o++] = (char)*s->p;
        s->p++;
    }
    out[o] = 0;
    return SINTER_OK;
}

/* A non-negative decimal integer; Python 2 numpy wrote a trailing L (3L). */
static int scan_dim(Scan *s, int index, int64_t *out)
{
    char f[8];
    skip_ws(s);
    const uint8_t *begin = s->p;
    if (s->p < s->end && *s->p == '-')
        return scan_fail(s, "shape[%d] is negative", index);
    if (s->p >= s->end || *s->p < '0' || *s->p > '9')
        return scan_fail(s, "expected a dim (an integer), found %s", found(s, f));
    if (*s->p == '0' && s->end - s->p > 1 && s->p[1] >= '0' && s->p[1] <= '9')
        return scan_fail(s, "shape[%d] has a leading zero", index);
    uint64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*s->p - '0'), &v) ||
            v > (uint64_t)INT64_MAX) {
            s->p = begin;
            return scan_fail(s, "shape[%d] is too large", index);
        }
        s->p++;
    }
    if (s->p < s->end && (*s->p == 'L' || *s->p == 'l'))
        s->p++;
    *out = (int64_t)v;
    return SINTER_OK;
}

/* A tuple of dims: (), (3,), (3, 4), (3, 4,). */
static int scan_shape(Scan *s, SrtTensor *t)
{
    char f[8];
    int rc = expect(s, '(');
    if (rc != SINTER_OK)
        return rc;
    if (accept(s, ')'))
        return SINTER_OK;
    for (;;) {
        if (t->rank == SRT_MAX_RANK)
            return scan_fail(s, "shape has more than %d dims", SRT_MAX_RANK);
        if ((rc = scan_dim(s, t->rank, &t->dims[t->rank])) != SINTER_OK)
            return rc;
        t->rank++;
        if (accept(s, ')')) {
            if (t->rank == 1)
                return scan_fail(s, "shape (%lld) is not a tuple; write (%lld,)", (long long)t->dims[0],
                                 (long long)t->dims[0]);
            return SINTER_OK;
        }
        if (!accept(s, ','))
            return scan_fail(s, "expected ',' or ')' in the shape, found %s", found(s, f));
        if (accept(s, ')'))
            return SINTER_OK;
    }
}

/* Maps a descr to a dtype; 1-byte types take any byte-order mark. */
static int parse_descr(const char *d, SrtDtype *out, char *err, size_t errlen)
{
    if (strlen(d) == 3 && d[2] == '1' && strchr("<>|=", d[0])) {
        const char *kinds = "iub";
        const char *k = strchr(kinds, d[1]);
        if (d[1] && k) {
            static const SrtDtype one_byte[] = {SRT_I8, SRT_U8, SRT_BOOL}; /* ORDER: kinds */
            *out = one_byte[k - kinds];
            return SINTER_OK;
        }
    }
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        if (npy_descr[i] && strcmp(d, npy_descr[i]) == 0) {
            *out = (SrtDtype)i;
            return SINTER_OK;
        }
    }
    if (d[0] == '>') {
        for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
            if (npy_descr[i] && npy_descr[i][0] == '<' && strcmp(d + 1, npy_descr[i] + 1) == 0)
                return srt_errorf(err, errlen, SINTER_EFORMAT,
                                  "descr '%s' is big-endian; only little-endian data is supported "
                                  "(save arr.astype('<%s'))",
                                  d, d + 1);
        }
    }
    return srt_errorf(err, errlen, SINTER_EFORMAT,
                      "descr '%s' is not supported (expected '<f4', '<f8', '<i8', '<i4', '|i1', '|u1', '|b1' or "
                      "'<f2')",
                      d);
}

/* Parses the header dict into t->dtype, rank, dims. */
static int parse_header(const uint8_t *hdr, size_t n, SrtTensor *t, char *err, size_t errlen)
{
    enum { DESCR = 1, FORTRAN = 2, SHAPE = 4 };
    Scan s = {hdr, hdr, hdr + n, err, errlen};
    char f[8], key[32], val[32];
    int seen = 0, rc;
    if ((rc = expect(&s, '{')) != SINTER_OK)
        return rc;
    while (!accept(&s, '}')) {
        const uint8_t *key_at = s.p;
        if ((rc = scan_string(&s, key, sizeof key)) != SINTER_OK)
            return rc;
        int which = !strcmp(key, "descr") ? DESCR : !strcmp(key, "fortran_order") ? FORTRAN
                                                  : !strcmp(key, "shape")         ? SHAPE
                                                                                  : 0;
        if (!which || (seen & which)) {
            s.p = key_at;
            skip_ws(&s);
            return scan_fail(&s, which ? "duplicate key '%s'" : "unknown key '%s' (expected descr, fortran_order, shape)",
                             key);
        }
        seen |= which;
        if ((rc = expect(&s, ':')) != SINTER_OK)
            return rc;
        if (which == DESCR) {
            skip_ws(&s);
            if (s.p < s.end && *s.p == '[')
                return scan_fail(&s, "structured dtypes are not supported");
            if ((rc = scan_string(&s, val, sizeof val)) != SINTER_OK)
                return rc;
            if ((rc = parse_descr(val, &t->dtype, err, errlen)) != SINTER_OK)
                return rc;
        } else if (which == FORTRAN) {
            skip_ws(&s);
            const uint8_t *at = s.p;
            scan_word(&s, val, sizeof val);
            if (strcmp(val, "True") == 0)
                return srt_errorf(err, errlen, SINTER_EFORMAT,
                                  "fortran_order is True; only C-order arrays are supported "
                                  "(save np.ascontiguousarray(arr))");
            if (strcmp(val, "False") != 0) {
                s.p = at;
                return scan_fail(&s, "fortran_order must be True or False, found %s", found(&s, f));
            }
        } else {
            if ((rc = scan_shape(&s, t)) != SINTER_OK)
                return rc;
        }
        if (accept(&s, '}'))
            break;
        if (!accept(&s, ','))
            return scan_fail(&s, "expected ',' or '}', found %s", found(&s, f));
    }
    skip_ws(&s);
    if (s.p != s.end)
        return scan_fail(&s, "expected the end of the header, found %s", found(&s, f));
    if (!(seen & DESCR))
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header has no 'descr'");
    if (!(seen & FORTRAN))
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header has no 'fortran_order'");
    if (!(seen & SHAPE))
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header has no 'shape'");
    return SINTER_OK;
}

/* BOOL arrays must hold only 0 and 1 (generated code treats them as C _Bool). */
static int check_bools(const SrtTensor *t, int status, char *err, size_t errlen)
{
    const uint8_t *b = t->data;
    if (t->dtype != SRT_BOOL)
        return SINTER_OK;
    for (size_t i = 0; i < t->nbytes; i++) {
        if (b[i] > 1)
            return srt_errorf(err, errlen, status, "bool element %zu is %u (must be 0 or 1)", i, b[i]);
    }
    return SINTER_OK;
}

int srt_npy_parse(const uint8_t *buf, size_t len, SrtTensor *out, char *err, size_t errlen)
{
    if (!out || (!buf && len > 0))
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_npy_parse");
    memset(out, 0, sizeof *out);
    if (len < 8 || memcmp(buf, npy_magic, sizeof npy_magic) != 0) {
        if (len >= sizeof npy_magic && memcmp(buf, npy_magic, sizeof npy_magic) != 0)
            return srt_errorf(err, errlen, SINTER_EFORMAT, "not a .npy file (it does not start with \\x93NUMPY)");
        return srt_errorf(err, errlen, SINTER_EFORMAT, "truncated: file has %zu bytes, the .npy preamble needs 10",
                          len);
    }
    uint8_t major = buf[6], minor = buf[7];
    if (major < 1 || major > 3 || minor != 0)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "unsupported .npy version %u.%u (1.0, 2.0 and 3.0 are read)",
                          major, minor);
    size_t pre = major == 1 ? 10 : 12; /* magic, version, header length */
    if (len < pre)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "truncated: file has %zu bytes, the .npy preamble needs %zu",
                          len, pre);
    uint64_t hlen = (uint64_t)buf[8] | (uint64_t)buf[9] << 8;
    if (major > 1)
        hlen |= (uint64_t)buf[10] << 16 | (uint64_t)buf[11] << 24;
    if (hlen > len - pre)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "header length %llu exceeds file size %zu",
                          (unsigned long long)hlen, len);

    SrtTensor t = {0};
    int rc = parse_header(buf + pre, (size_t)hlen, &t, err, errlen);
    if (rc != SINTER_OK)
        return rc;
    char shape[DIMS_MAX];
    if (srt_tensor_nbytes(t.dtype, t.rank, t.dims, &t.nbytes) != SINTER_OK)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "shape %s of %s is too large",
                          format_shape(shape, t.rank, t.dims), npy_descr[t.dtype]);
    size_t have = len - pre - (size_t)hlen;
    if (have < t.nbytes)
        return srt_errorf(err, errlen, SINTER_EFORMAT, "truncated: data has %zu bytes but shape %s of %s needs %zu",
                          have, format_shape(shape, t.rank, t.dims), npy_descr[t.dtype], t.nbytes);
    if (have > t.nbytes)
        return srt_errorf(err, errlen, SINTER_EFORMAT,
                          "data has %zu bytes but shape %s of %s needs %zu (extra bytes after the array)", have,
                          format_shape(shape, t.rank, t.dims), npy_descr[t.dtype], t.nbytes);
    t.name = srt_calloc(1, 1);
    t.data = srt_malloc(t.nbytes ? t.nbytes : 1);
    if (!t.name || !t.data) {
        srt_tensor_free(&t);
        return srt_errorf(err, errlen, SINTER_ENOMEM, "out of memory for %zu bytes", t.nbytes);
    }
    if (t.nbytes)
        memcpy(t.data, buf + pre + hlen, t.nbytes);
    if ((rc = check_bools(&t, SINTER_EFORMAT, err, errlen)) != SINTER_OK) {
        srt_tensor_free(&t);
        return rc;
    }
    *out = t;
    return SINTER_OK;
}

int srt_npy_read(const char *path, SrtTensor *out, char *err, size_t errlen)
{
    if (!path || !out)
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_npy_read");
    memset(out, 0, sizeof *out);
    uint8_t *buf;
    size_t len;
    int rc = srt_read_file(path, SIZE_MAX, &buf, &len, err, errlen);
    if (rc != SINTER_OK)
        return rc;
    rc = srt_npy_parse(buf, len, out, err, errlen);
    free(buf);
    return rc;
}

int srt_npy_write(const char *path, const SrtTensor *t, char *err, size_t errlen)
{
    if (!path || !t)
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad argument to srt_npy_write");
    if ((int)t->dtype < 0 || t->dtype >= SRT_DTYPE_COUNT)
        return srt_errorf(err, errlen, SINTER_EINVAL, "bad dtype %d", (int)t->dtype);
    if (!npy_descr[t->dtype])
        return srt_errorf(err, errlen, SINTER_EINVAL, "%s has no .npy type (use .safetensors or convert to float32)",
                          srt_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > SRT_MAX_RANK)
        return srt_errorf(err, errlen, SINTER_EINVAL, "rank %d is outside 0..%d", t->rank, SRT_MAX_RANK);
    char shape[DIMS_MAX];
    size_t need;
    int rc = srt_tensor_nbytes(t->dtype, t->rank, t->dims, &need);
    if (rc != SINTER_OK)
        return srt_errorf(err, errlen, rc, "shape %s is invalid or too large", format_shape(shape, t->rank, t->dims));
    if (t->nbytes != need)
        return srt_errorf(err, errlen, SINTER_EINVAL, "nbytes is %zu but shape %s of %s needs %zu", t->nbytes,
                          format_shape(shape, t->rank, t->dims), npy_descr[t->dtype], need);
    if (t->nbytes > 0 && !t->data)
        return srt_errorf(err, errlen, SINTER_EINVAL, "data is NULL");
    if ((rc = check_bools(t, SINTER_EINVAL, err, errlen)) != SINTER_OK)
        return rc;

    /* Preamble and header padded so the data starts at a multiple of 64, as numpy does. */
    char hdr[10 + 64 + DIMS_MAX + 64];
    int n = snprintf(hdr + 10, sizeof hdr - 10, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                     npy_descr[t->dtype], format_shape(shape, t->rank, t->dims));
    size_t total = 10 + (size_t)n + 1; /* + '\n' */
    size_t padded = (total + 63) / 64 * 64;
    memcpy(hdr, npy_magic, sizeof npy_magic);
    hdr[6] = 1;
    hdr[7] = 0;
    hdr[8] = (char)((padded - 10) & 0xff);
    hdr[9] = (char)((padded - 10) >> 8);
    memset(hdr + 10 + n, ' ', padded - total);
    hdr[padded - 1] = '\n';
    SrtSlice parts[2] = {{hdr, padded}, {t->data, t->nbytes}};
    return srt_write_parts_atomic(path, parts, 2, err, errlen);
}
