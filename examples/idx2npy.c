/* idx2npy: converts (gzipped) IDX files such as Fashion-MNIST's to .npy tensors for `sinter run`. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "runtime/sinter_rt.h"

/* IDX layout (big-endian): two zero bytes, a type code (0x08 = unsigned byte, the only type
 * Fashion-MNIST uses), the number of dims, then one u32 per dim, then the items row-major.
 * Images: 3 dims [count, rows, cols]; labels: 1 dim [count]. */
#define IDX_UBYTE 0x08
#define IDX_MAX_ITEMS 100000000u   /* sanity cap on the count field */
#define IDX_MAX_PIXELS 65536u      /* sanity cap on rows*cols */

static const char usage_text[] =
    "usage: idx2npy [--count K] [--offset O] [--nchw] IN-idx-ubyte[.gz] OUT.npy\n"
    "Converts an IDX file (gzip or plain) to a NumPy .npy file:\n"
    "  images (idx3) -> float32 [K, rows*cols] scaled to [0, 1] ([K, 1, rows, cols] with --nchw)\n"
    "  labels (idx1) -> int64 [K]\n"
    "  --count K    convert K items (default: all from the offset on)\n"
    "  --offset O   skip the first O items (default 0)\n"
    "  --nchw       images as [K, 1, rows, cols] for convolutional models\n"
    "example: idx2npy --count 64 /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz x.npy\n";

/* Parsed command line. count < 0: all items after offset. */
typedef struct Options {
    int64_t count;
    int64_t offset;
    bool nchw;
    const char *in, *out;
} Options;

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "idx2npy: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\ntry 'idx2npy --help'\n");
    return 2;
}

/* Non-negative decimal integer; false on anything else. */
static bool parse_count(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || errno || v < 0 || s[0] == '-' || s[0] == '+')
        return false;
    *out = v;
    return true;
}

/* Returns 0, 2 (usage error, already reported) or -1 (--help printed). */
static int parse_args(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->count = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return -1;
        } else if (!strcmp(a, "--count") || !strcmp(a, "--offset")) {
            int64_t *dst = !strcmp(a, "--count") ? &o->count : &o->offset;
            if (i + 1 >= argc || !parse_count(argv[i + 1], dst))
                return usage_error("%s expects a non-negative integer", a);
            i++;
        } else if (!strcmp(a, "--nchw")) {
            o->nchw = true;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option %s", a);
        } else if (!o->in) {
            o->in = a;
        } else if (!o->out) {
            o->out = a;
        } else {
            return usage_error("unexpected argument %s (expects one input and one output file)", a);
        }
    }
    if (!o->in || !o->out)
        return usage_error("%s", "expects an input IDX file and an output .npy file");
    return 0;
}

/* Reads exactly len bytes; on failure prints "FILE: what: ..." and returns -1. */
static int read_exact(gzFile f, const char *path, void *buf, size_t len, const char *what)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (got < len) {
        size_t chunk = len - got > (1u << 30) ? (1u << 30) : len - got;
        int r = gzread(f, p + got, (unsigned)chunk);
        if (r < 0) {
            int errnum;
            const char *msg = gzerror(f, &errnum);
            fprintf(stderr, "idx2npy: %s: cannot read %s: %s\n", path, what,
                    errnum == Z_ERRNO ? strerror(errno) : msg);
            return -1;
        }
        if (r == 0) {
            fprintf(stderr, "idx2npy: %s: truncated: expected %zu bytes of %s, got %zu\n", path, len, what, got);
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Skips n bytes of item data (the --offset). */
static int skip_bytes(gzFile f, const char *path, uint64_t n)
{
    uint8_t buf[65536];
    while (n > 0) {
        size_t chunk = n > sizeof buf ? sizeof buf : (size_t)n;
        if (read_exact(f, path, buf, chunk, "the items before --offset") != 0)
            return -1;
        n -= chunk;
    }
    return 0;
}

/* Converts o->in to o->out; returns the process exit status. */
static int convert(const Options *o)
{
    gzFile f = gzopen(o->in, "rb");
    if (!f) {
        fprintf(stderr, "idx2npy: %s: cannot open: %s\n", o->in, errno ? strerror(errno) : "out of memory");
        return 1;
    }
    int status = 1;
    uint8_t *items = NULL;
    void *data = NULL;
    uint8_t head[4], dimbuf[12];
    if (read_exact(f, o->in, head, 4, "the IDX header") != 0)
        goto done;
    if (head[0] != 0 || head[1] != 0) {
        fprintf(stderr, "idx2npy: %s: not an IDX file (magic bytes %02x %02x, expected 00 00)\n",
                o->in, head[0], head[1]);
        goto done;
    }
    if (head[2] != IDX_UBYTE) {
        fprintf(stderr, "idx2npy: %s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)\n",
                o->in, head[2]);
        goto done;
    }
    int ndims = head[3];
    if (ndims != 1 && ndims != 3) {
        fprintf(stderr, "idx2npy: %s: IDX file has %d dims; expected 3 (images) or 1 (labels)\n", o->in, ndims);
        goto done;
    }
    if (read_exact(f, o->in, dimbuf, (size_t)ndims * 4, "the IDX dimensions") != 0)
        goto done;
    uint32_t total = be32(dimbuf);
    uint32_t rows = ndims == 3 ? be32(dimbuf + 4) : 1, cols = ndims == 3 ? be32(dimbuf + 8) : 1;
    if (total > IDX_MAX_ITEMS) {
        fprintf(stderr, "idx2npy: %s: item count %" PRIu32 " is implausibly large (corrupt header?)\n", o->in, total);
        goto done;
    }
    if (ndims == 3 && (rows == 0 || cols == 0 || (uint64_t)rows * cols > IDX_MAX_PIXELS)) {
        fprintf(stderr, "idx2npy: %s: image size %" PRIu32 "x%" PRIu32 " is not plausible (corrupt header?)\n",
                o->in, rows, cols);
        goto done;
    }
    if (ndims == 1 && o->nchw) {
        fprintf(stderr, "idx2npy: %s: --nchw applies to image files, this is a label file\n", o->in);
        status = 2;
        goto done;
    }
    if (o->offset > (int64_t)total) {
        fprintf(stderr, "idx2npy: %s: --offset %" PRId64 " is past the end (the file holds %" PRIu32 " items)\n",
                o->in, o->offset, total);
        goto done;
    }
    int64_t count = o->count < 0 ? (int64_t)total - o->offset : o->count;
    if (count > (int64_t)total - o->offset) {
        fprintf(stderr, "idx2npy: %s: --offset %" PRId64 " --count %" PRId64 " asks for more than the %" PRIu32
                " items the file holds\n", o->in, o->offset, count, total);
        goto done;
    }
    size_t item = (size_t)rows * cols;
    if (skip_bytes(f, o->in, (uint64_t)o->offset * item) != 0)
        goto done;
    size_t nbytes = (size_t)count * item;
    items = malloc(nbytes ? nbytes : 1);
    if (!items) {
        fprintf(stderr, "idx2npy: %s: out of memory for %zu bytes\n", o->in, nbytes);
        goto done;
    }
    if (read_exact(f, o->in, items, nbytes, ndims == 3 ? "the image data" : "the label data") != 0)
        goto done;

    SrtTensor t;
    memset(&t, 0, sizeof t);
    t.name = (char *)"";
    if (ndims == 3) {
        float *px = malloc((nbytes ? nbytes : 1) * sizeof *px);
        if (!px) {
            fprintf(stderr, "idx2npy: %s: out of memory\n", o->in);
            goto done;
        }
        for (size_t i = 0; i < nbytes; i++)
            px[i] = (float)items[i] / 255.0f;
        data = px;
        t.dtype = SRT_F32;
        t.nbytes = nbytes * sizeof *px;
        if (o->nchw) {
            t.rank = 4;
            t.dims[0] = count, t.dims[1] = 1, t.dims[2] = rows, t.dims[3] = cols;
        } else {
            t.rank = 2;
            t.dims[0] = count, t.dims[1] = (int64_t)item;
        }
    } else {
        int64_t *labels = malloc((nbytes ? nbytes : 1) * sizeof *labels);
        if (!labels) {
            fprintf(stderr, "idx2npy: %s: out of memory\n", o->in);
            goto done;
        }
        for (size_t i = 0; i < nbytes; i++)
            labels[i] = items[i];
        data = labels;
        t.dtype = SRT_I64;
        t.nbytes = nbytes * sizeof *labels;
        t.rank = 1;
        t.dims[0] = count;
    }
    t.data = data;
    char err[256];
    if (srt_npy_write(o->out, &t, err, sizeof err) != SINTER_OK) {
        fprintf(stderr, "idx2npy: %s: %s\n", o->out, err);
        goto done;
    }
    printf("idx2npy: wrote %s: %s [%" PRId64, o->out, ndims == 3 ? "float32" : "int64", t.dims[0]);
    for (int k = 1; k < t.rank; k++)
        printf(",%" PRId64, t.dims[k]);
    if (count > 0)
        printf("] (items %" PRId64 "..%" PRId64 " of %s)\n", o->offset, o->offset + count - 1, o->in);
    else
        printf("] (no items)\n");
    status = 0;
done:
    free(items);
    free(data);
    gzclose(f);
    return status;
}

int main(int argc, char **argv)
{
    Options o;
    int r = parse_args(argc, argv, &o);
    if (r == -1)
        return 0;
    if (r != 0)
        return r;
    return convert(&o);
}
