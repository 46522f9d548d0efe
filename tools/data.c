/* Datasets for `sinter train`: reads IDX and .npy files (gzip or plain) and binds them to a model's tensors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tools/data.h"

/* IDX (big-endian): two zero bytes, a type code, the number of dims, one u32 per dim, then the
 * items row-major. Fashion-MNIST uses type 0x08 (unsigned byte): images [K, 28, 28], labels [K]. */
#define IDX_UBYTE 0x08
#define FIRST_CHUNK ((size_t)64 << 20)     /* buffers grow as data arrives: a lying header costs nothing */
#define MAX_FILE_BYTES ((size_t)1 << 36)   /* 64 GiB: beyond this a size is taken as corrupt */

/* ---- the spec ---------------------------------------------------------------------------- */

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

void cli_data_spec_free(CliDataSpec *spec)
{
    free(spec->dir);
    for (int i = 0; i < spec->nfiles; i++) {
        free(spec->names[i]);
        free(spec->files[i]);
    }
    memset(spec, 0, sizeof *spec);
}

int cli_data_parse_spec(const char *text, CliDataSpec *spec, char *err, size_t errlen)
{
    memset(spec, 0, sizeof *spec);
    if (!*text) {
        snprintf(err, errlen, "expects fmnist, an IDX directory or FILE,FILE (or NAME=FILE,...), got \"\"");
        return -1;
    }
    const char *dir = NULL;
    if (!strcmp(text, "fmnist")) {
        const char *env = getenv("SINTER_FMNIST_DIR");
        dir = env && *env ? env : CLI_DATA_FMNIST_DIR;
    } else if (!strchr(text, ',') && !strchr(text, '=') && is_dir(text)) {
        dir = text;
    }
    if (dir) {
        if (!(spec->dir = srt_strdup(dir))) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    int named = -1;   /* unknown until the first part */
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (len == 0 || (eq && (eq == p || eq == p + len - 1))) {
            snprintf(err, errlen, "expects FILE,FILE or NAME=FILE,NAME=FILE with nothing empty, got \"%s\"", text);
            cli_data_spec_free(spec);
            return -1;
        }
        if (named >= 0 && named != (eq != NULL)) {
            snprintf(err, errlen, "name every file (NAME=FILE,...) or none (FILE,... in the model's order), "
                     "got \"%s\"", text);
            cli_data_spec_free(spec);
            return -1;
        }
        named = eq != NULL;
        if (spec->nfiles == CLI_DATA_MAX_FILES) {
            snprintf(err, errlen, "names more than %d files", CLI_DATA_MAX_FILES);
            cli_data_spec_free(spec);
            return -1;
        }
        int i = spec->nfiles++;
        spec->names[i] = eq ? srt_strndup(p, (size_t)(eq - p)) : NULL;
        spec->files[i] = eq ? srt_strndup(eq + 1, len - (size_t)(eq - p) - 1) : srt_strndup(p, len);
        if (!spec->files[i] || (eq && !spec->names[i])) {
            snprintf(err, errlen, "out of memory");
            cli_data_spec_free(spec);
            return -1;
        }
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    return 0;
}

/* DIR/BASE.gz if it exists, else DIR/BASE if that exists, else DIR/BASE.gz (for the message). */
static char *idx_path(const char *dir, const char *base)
{
    size_t len = strlen(dir) + strlen(base) + 6;
    char *p = srt_malloc(len);
    if (!p)
        return NULL;
    snprintf(p, len, "%s/%s.gz", dir, base);
    if (access(p, F_OK) == 0)
        return p;
    p[strlen(p) - 3] = '\0';   /* the plain file, if only it exists */
    if (access(p, F_OK) == 0)
        return p;
    snprintf(p, len, "%s/%s.gz", dir, base);
    return p;
}

int cli_data_idx_paths(const char *dir, CliDataSplit split, char **paths)
{
    const char *prefix = split == CLI_DATA_TRAIN ? "train" : "t10k";
    char images[64], labels[64];
    snprintf(images, sizeof images, "%s-images-idx3-ubyte", prefix);
    snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte", prefix);
    paths[0] = idx_path(dir, images);
    paths[1] = idx_path(dir, labels);
    if (!paths[0] || !paths[1]) {
        free(paths[0]);
        free(paths[1]);
        return -1;
    }
    return 0;
}

bool cli_data_idx_present(const char *dir, CliDataSplit split)
{
    char *paths[2];
    if (cli_data_idx_paths(dir, split, paths) != 0)
        return false;
    bool ok = access(paths[0], R_OK) == 0 && access(paths[1], R_OK) == 0;
    free(paths[0]);
    free(paths[1]);
    return ok;
}

/* ---- reading files --------------------------------------------------------------------------- */

/* Reads up to len bytes; *got < len only at the end of the data. Returns 0, or -1 with a diagnostic. */
static int read_upto(gzFile f, const char *path, void *buf, size_t len, size_t *got, IrDiag *d)
{
    *got = 0;
    while (*got < len) {
        size_t chunk = len - *got > ((size_t)1 << 30) ? ((size_t)1 << 30) : len - *got;
        int r = gzread(f, (uint8_t *)buf + *got, (unsigned)chunk);
        int errnum = Z_OK;
        const char *msg = r <= 0 ? gzerror(f, &errnum) : NULL;
        if (r > 0) {
            *got += (size_t)r;
            continue;
        }
        if (errnum == Z_OK)   /* the end of the data */
            return 0;
        if (errnum == Z_BUF_ERROR)
            ir_diag_error(d, path, "truncated gzip data (the file ends inside the compressed stream)");
        else if (errnum == Z_ERRNO)
            ir_diag_error(d, path, "cannot read: %s", strerror(errno));
        else
            ir_diag_error(d, path, "damaged gzip data: %s", msg ? msg : "unknown error");
        return -1;
    }
    return 0;
}

/* Reads want bytes into a malloc'ed buffer that grows as data arrives; *got < want means the data
 * ended early. Returns the buffer, or NULL with a diagnostic. */
static uint8_t *read_grow(gzFile f, const char *path, size_t want, size_t *got, IrDiag *d)
{
    size_t cap = want < FIRST_CHUNK ? want : FIRST_CHUNK;
    uint8_t *buf = srt_malloc(cap ? cap : 1);
    *got = 0;
    while (buf) {
        size_t n;
        if (read_upto(f, path, buf + *got, cap - *got, &n, d) != 0) {
            free(buf);
            return NULL;
        }
        *got += n;
        if (*got < cap || cap == want)
            return buf;
        size_t ncap = cap > want / 2 ? want : 2 * cap;
        uint8_t *nb = srt_realloc(buf, ncap);
        if (!nb)
            break;
        buf = nb;
        cap = ncap;
    }
    free(buf);
    ir_diag_error(d, path, "out of memory reading %zu bytes", want);
    return NULL;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The IDX file f after its 4 magic bytes head[]: items [0, min(count, limit)) into out.
 * *total = the item count of the header. */
static int read_idx(gzFile f, const char *path, const uint8_t *head, int64_t limit, SrtTensor *out,
                    int64_t *total, IrDiag *d)
{
    if (head[2] != IDX_UBYTE) {
        ir_diag_error(d, path, "IDX element type 0x%02x is not supported (only 0x08, unsigned bytes, as "
                      "Fashion-MNIST uses)", head[2]);
        return -1;
    }
    int ndims = head[3];
    if (ndims < 1 || ndims > SRT_MAX_RANK) {
        ir_diag_error(d, path, "IDX header gives %d dims (expected 1 to %d)", ndims, SRT_MAX_RANK);
        return -1;
    }
    uint8_t dimbuf[4 * SRT_MAX_RANK];
    size_t got;
    if (read_upto(f, path, dimbuf, (size_t)ndims * 4, &got, d) != 0)
        return -1;
    if (got < (size_t)ndims * 4) {
        ir_diag_error(d, path, "truncated IDX header (%d dims announced, the file ends after %zu bytes of them)",
                      ndims, got);
        return -1;
    }
    int64_t dims[SRT_MAX_RANK];
    for (int k = 0; k < ndims; k++)
        dims[k] = be32(dimbuf + 4 * k);
    *total = dims[0];
    size_t item = 1;
    for (int k = 1; k < ndims; k++) {
        if (dims[k] == 0 || __builtin_mul_overflow(item, (size_t)dims[k], &item) || item > MAX_FILE_BYTES) {
            ir_diag_error(d, path, "IDX item size is not plausible (dim %d is %lld; a corrupt header?)", k,
                          (long long)dims[k]);
            return -1;
        }
    }
    int64_t want_items = limit > 0 && limit < dims[0] ? limit : dims[0];
    size_t want;
    if (__builtin_mul_overflow((size_t)want_items, item, &want) || want > MAX_FILE_BYTES) {
        ir_diag_error(d, path, "IDX header announces %lld items of %zu bytes: not plausible (a corrupt header?)",
                      (long long)dims[0], item);
        return -1;
    }
    uint8_t *raw = read_grow(f, path, want, &got, d);
    if (!raw)
        return -1;
    if (got < want) {
        ir_diag_error(d, path, "truncated IDX file: the header announces %lld items of %zu bytes, the data ends "
                      "after %lld of them", (long long)dims[0], item, (long long)(got / item));
        free(raw);
        return -1;
    }
    memset(out, 0, sizeof *out);
    out->rank = ndims;
    memcpy(out->dims, dims, sizeof dims[0] * (size_t)ndims);
    out->dims[0] = want_items;
    size_t esize = ndims == 1 ? sizeof(int64_t) : sizeof(float);
    out->data = srt_malloc(want ? want * esize : 1);
    out->name = srt_strdup("");
    if (!out->data || !out->name) {
        free(raw);
        srt_tensor_free(out);
        ir_diag_error(d, path, "out of memory for %zu bytes", want * esize);
        return -1;
    }
    out->nbytes = want * esize;
    if (ndims == 1) {
        out->dtype = SRT_I64;
        for (size_t i = 0; i < want; i++)
            ((int64_t *)out->data)[i] = raw[i];
    } else {
        out->dtype = SRT_F32;
        for (size_t i = 0; i < want; i++)
            ((float *)out->data)[i] = (float)raw[i] / 255.0f;
    }
    free(raw);
    return 0;
}

/* A .npy file read through zlib (it may be gzip-compressed); head[] holds its first 4 bytes. */
static int read_npy_gz(gzFile f, const char *path, const uint8_t *head, SrtTensor *out, IrDiag *d)
{
    size_t cap = 1 << 20, len = 4;
    uint8_t *buf = srt_malloc(cap);
    if (buf)
        memcpy(buf, head, 4);
    while (buf) {
        size_t got;
        if (read_upto(f, path, buf + len, cap - len, &got, d) != 0) {
            free(buf);
            return -1;
        }
        len += got;
        if (len < cap)
            break;
        if (cap >= MAX_FILE_BYTES) {
            free(buf);
            ir_diag_error(d, path, "larger than %zu bytes", MAX_FILE_BYTES);
            return -1;
        }
        uint8_t *nb = srt_realloc(buf, 2 * cap);
        if (!nb)
            break;
        buf = nb;
        cap *= 2;
    }
    if (!buf) {
        ir_diag_error(d, path, "out of memory");
        return -1;
    }
    char err[256];
    int rc = srt_npy_parse(buf, len, out, err, sizeof err);
    free(buf);
    if (rc != SINTER_OK) {
        ir_diag_error(d, path, "%s", err);
        return -1;
    }
    return 0;
}

/* Reads one data file into c->t (IDX or .npy by its first bytes). */
static int read_column(CliColumn *c, int64_t limit, int64_t *total, IrDiag *d)
{
    const char *path = c->file;
    if (is_dir(path)) {
        ir_diag_error(d, path, "is a directory (a directory of IDX files is given alone, not in a list)");
        return -1;
    }
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        ir_diag_error(d, path, "cannot open: %s", errno ? strerror(errno) : "out of memory");
        return -1;
    }
    uint8_t head[4];
    size_t got;
    int rc = read_upto(f, path, head, 4, &got, d);
    if (rc == 0 && got < 4) {
        ir_diag_error(d, path, "%s: not an IDX or .npy file", got == 0 ? "empty" : "too short");
        rc = -1;
    }
    bool npy = rc == 0 && !memcmp(head, "\x93NUM", 4);
    if (rc == 0 && npy && gzdirect(f)) {   /* a plain .npy: the runtime reads it */
        char err[256];
        if (srt_npy_read(path, &c->t, err, sizeof err) != SINTER_OK) {
            ir_diag_error(d, path, "%s", err);
            rc = -1;
        }
    } else if (rc == 0 && npy) {
        rc = read_npy_gz(f, path, head, &c->t, d);
    } else if (rc == 0 && (head[0] != 0 || head[1] != 0)) {
        ir_diag_error(d, path, "not an IDX or .npy file (it starts with bytes %02x %02x %02x %02x)", head[0],
                      head[1], head[2], head[3]);
        rc = -1;
    } else if (rc == 0) {
        rc = read_idx(f, path, head, limit, &c->t, total, d);
        c->from_idx = true;
    }
    gzclose(f);
    if (rc != 0)
        return -1;
    if (npy) {
        if (c->t.rank == 0) {
            ir_diag_error(d, path, "holds a scalar; a dataset file holds one example per row (dim 0)");
            return -1;
        }
        *total = c->t.dims[0];
        if (limit > 0 && c->t.dims[0] > limit) {
            c->t.nbytes = c->t.nbytes / (size_t)c->t.dims[0] * (size_t)limit;
            c->t.dims[0] = limit;
        }
    }
    c->row_bytes = c->t.dims[0] > 0 ? c->t.nbytes / (size_t)c->t.dims[0] : 0;
    return 0;
}

void cli_data_free(CliDataset *ds)
{
    for (int i = 0; i < ds->ncols; i++) {
        free(ds->cols[i].name);
        free(ds->cols[i].file);
        srt_tensor_free(&ds->cols[i].t);
    }
    memset(ds, 0, sizeof *ds);
}

int cli_data_load(const CliDataSpec *spec, CliDataSplit split, int64_t limit, CliDataset *ds, IrDiag *d)
{
    memset(ds, 0, sizeof *ds);
    char *paths[2] = {NULL, NULL};
    int nfiles = spec->nfiles;
    if (spec->dir) {
        if (cli_data_idx_paths(spec->dir, split, paths) != 0) {
            ir_diag_error(d, spec->dir, "out of memory");
            return -1;
        }
        nfiles = 2;
    }
    int64_t totals[CLI_DATA_MAX_FILES];
    for (int i = 0; i < nfiles; i++) {
        CliColumn *c = &ds->cols[ds->ncols++];
        c->file = spec->dir ? paths[i] : srt_strdup(spec->files[i]);
        c->name = !spec->dir && spec->names[i] ? srt_strdup(spec->names[i]) : NULL;
        if (spec->dir)
            paths[i] = NULL;
        if (!c->file || (!spec->dir && spec->names[i] && !c->name)) {
            ir_diag_error(d, NULL, "out of memory");
            goto fail;
        }
        if (spec->dir && access(c->file, R_OK) != 0) {
            const char *pre = split == CLI_DATA_TRAIN ? "train" : "t10k";
            ir_diag_error(d, c->file, "cannot open: %s (an IDX directory holds %s-images-idx3-ubyte.gz and "
                          "%s-labels-idx1-ubyte.gz%s)", strerror(errno), pre, pre,
                          strcmp(spec->dir, CLI_DATA_FMNIST_DIR) ? ""
                          : "; Debian's package dataset-fashion-mnist installs them");
            goto fail;
        }
        if (read_column(c, limit, &totals[i], d) != 0)
            goto fail;
        if (i > 0 && totals[i] != totals[0]) {
            ir_diag_error(d, c->file, "holds %lld examples, but %s holds %lld (the files must hold the same "
                          "examples in the same order)", (long long)totals[i], ds->cols[0].file,
                          (long long)totals[0]);
            goto fail;
        }
    }
    ds->count = ds->ncols ? ds->cols[0].t.dims[0] : 0;
    return 0;
fail:
    free(paths[0]);
    free(paths[1]);
    cli_data_free(ds);
    return -1;
}

/* ---- binding --------------------------------------------------------------------------------- */

/* "f32[N,1,28,28]" */
static void format_decl(const SinterTensorInfo *t, char *buf, size_t len)
{
    IrShape s;
    memset(&s, 0, sizeof s);
    s.rank = (int)t->rank;
    for (int k = 0; k < s.rank; k++) {
        s.d[k].a = t->dims[k].a;
        s.d[k].b = t->dims[k].b;
    }
    ir_type_format((IrDtype)t->dtype, &s, buf, len);
}

/* "[28,28]": the dims of one example of c. */
static void format_example(const SrtTensor *t, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (int k = 1; k < t->rank && o < len; k++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", k > 1 ? "," : "", (long long)t->dims[k]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

static const char *kind(int i, int ninputs)
{
    return i < ninputs ? "input" : "training input";
}

/* Converts IDX labels (int64) to another integer dtype. */
static int convert_labels(CliColumn *c, SrtDtype to, IrDiag *d)
{
    int64_t n = c->t.dims[0];
    size_t es = srt_dtype_size(to);
    void *nd = srt_malloc(n ? (size_t)n * es : 1);
    if (!nd) {
        ir_diag_error(d, c->file, "out of memory");
        return -1;
    }
    const int64_t *src = c->t.data;
    for (int64_t i = 0; i < n; i++) {
        switch (to) {
        case SRT_I32: ((int32_t *)nd)[i] = (int32_t)src[i]; break;
        case SRT_I8: ((int8_t *)nd)[i] = (int8_t)src[i]; break;
        default: ((uint8_t *)nd)[i] = (uint8_t)src[i]; break;
        }
    }
    free(c->t.data);
    c->t.data = nd;
    c->t.dtype = to;
    c->t.nbytes = (size_t)n * es;
    c->row_bytes = es;
    return 0;
}

/* Column c can feed tensor t (i-th of the model's). */
static int check_fit(CliColumn *c, const SinterTensorInfo *t, int i, int ninputs, IrDiag *d)
{
    char decl[160], ex[160];
    format_decl(t, decl, sizeof decl);
    format_example(&c->t, ex, sizeof ex);
    if ((SrtDtype)t->dtype != c->t.dtype) {
        bool int_to = t->dtype == SRT_I32 || t->dtype == SRT_I8 || t->dtype == SRT_U8;
        if (c->from_idx && c->t.rank == 1 && int_to)
            return convert_labels(c, (SrtDtype)t->dtype, d);
        ir_diag_error(d, c->file, "%s \"%s\" is declared %s, the file holds %s examples of %s%s; convert the data "
                      "to %s (sinter does not convert silently)", kind(i, ninputs), t->name, decl,
                      srt_dtype_name(c->t.dtype), ex, c->from_idx ? " (IDX images become float32 in [0, 1], "
                      "IDX labels int64)" : "", srt_dtype_name((SrtDtype)t->dtype));
        return -1;
    }
    int64_t want = 1, have = 1;
    for (int k = 1; k < t->rank; k++)
        want *= t->dims[k].b;
    for (int k = 1; k < c->t.rank; k++)
        have *= c->t.dims[k];
    if (want != have) {
        ir_diag_error(d, c->file, "an example is %s (%lld value%s) but %s \"%s\" (declared %s) takes %lld per "
                      "example", ex, (long long)have, have == 1 ? "" : "s", kind(i, ninputs), t->name, decl,
                      (long long)want);
        return -1;
    }
    return 0;
}

/* "x; training inputs: y" */
static void list_tensors(const SinterTensorInfo *const *ts, int n, int ninputs, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i == 0 ? "" : i == ninputs ? "; training inputs: " : ", ",
                              ts[i]->name);
    if (ninputs == 0 && o < len)
        snprintf(buf + o, len - o, " (training inputs)");
}

int cli_data_bind(CliDataset *ds, const SinterTensorInfo *const *ts, int n, int ninputs, const char *model,
                  const char *what, int *col_of, IrDiag *d)
{
    char decl[160], names[512];
    list_tensors(ts, n, ninputs, names, sizeof names);
    for (int i = 0; i < n; i++) {
        const SinterTensorInfo *t = ts[i];
        bool ok = t->rank >= 1 && t->dims[0].a == 1 && t->dims[0].b == 0;
        for (int k = 1; ok && k < t->rank; k++)
            ok = t->dims[k].a == 0;
        if (!ok) {
            format_decl(t, decl, sizeof decl);
            ir_diag_error(d, model, "%s \"%s\" is declared %s; sinter train feeds tensors shaped [N, ...] "
                          "(one example per row, fixed other dims)", kind(i, ninputs), t->name, decl);
            return -1;
        }
        col_of[i] = -1;
    }
    bool named = ds->ncols > 0 && ds->cols[0].name;
    if (!named && ds->ncols != n) {
        ir_diag_error(d, NULL, "%s gives %d file%s but %s takes %d tensor%s (inputs: %s), in this order", what,
                      ds->ncols, ds->ncols == 1 ? "" : "s", model, n, n == 1 ? "" : "s", names);
        return -1;
    }
    for (int c = 0; c < ds->ncols; c++) {
        int i = c;
        if (named) {
            for (i = 0; i < n && strcmp(ts[i]->name, ds->cols[c].name) != 0; i++)
                ;
            if (i == n) {
                ir_diag_error(d, NULL, "%s %s=%s: %s has no input \"%s\" (inputs: %s)", what, ds->cols[c].name,
                              ds->cols[c].file, model, ds->cols[c].name, names);
                return -1;
            }
            if (col_of[i] >= 0) {
                ir_diag_error(d, NULL, "%s gives \"%s\" twice", what, ds->cols[c].name);
                return -1;
            }
        }
        col_of[i] = c;
    }
    for (int i = 0; i < n; i++) {
        if (col_of[i] < 0) {
            ir_diag_error(d, NULL, "%s has no data for %s \"%s\"; add %s=FILE to %s", what, kind(i, ninputs),
                          ts[i]->name, ts[i]->name, what);
            return -1;
        }
        if (check_fit(&ds->cols[col_of[i]], ts[i], i, ninputs, d) != 0)
            return -1;
    }
    return 0;
}
