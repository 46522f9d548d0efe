/* Tests of the runtime's tensor files: dtypes, atomic file I/O, .safetensors and .npy. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/sinter_rt.h"

/* ---- helpers ----------------------------------------------------------------------- */

static char tmpdir[64]; /* fresh per test (checked fixture) */
static char err[512];

static void setup(void)
{
    strcpy(tmpdir, "/tmp/sinter_rt_test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    err[0] = 0;
}

/* Removes the per-test folder and everything in it (files and one level of folders). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            remove_tree(p);
    }
    closedir(d);
    rmdir(dir);
}

static void teardown(void)
{
    remove_tree(tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char buf[4][256];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

/* Names in tmpdir, "." and ".." excluded. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    }
    closedir(d);
    return n;
}

static void write_raw(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A .safetensors image: 8-byte length, the JSON header as given, then dlen bytes (data, or
 * zeros if data is NULL). *len receives the size; free() the result. */
static uint8_t *st_image(const char *json, const void *data, size_t dlen, size_t *len)
{
    size_t n = strlen(json);
    uint8_t *b = calloc(1, 8 + n + dlen + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)n >> (8 * i));
    memcpy(b + 8, json, n);
    if (data)
        memcpy(b + 8 + n, data, dlen);
    *len = 8 + n + dlen;
    return b;
}

/* Parses a header with dlen data bytes and checks that it fails with status and message. */
static void st_expect_error(const char *json, size_t dlen, int status, const char *message)
{
    size_t len;
    uint8_t *b = st_image(json, NULL, dlen, &len);
    SrtTensorFile f = {7, (SrtTensor *)b}; /* garbage that must be overwritten */
    int rc = srt_safetensors_parse(b, len, &f, err, sizeof err);
    ck_assert_str_eq(err, message);
    ck_assert_int_eq(rc, status);
    ck_assert_int_eq(f.count, 0);
    ck_assert_ptr_null(f.tensors);
    free(b);
}

static void npy_expect_error(const void *buf, size_t len, const char *message)
{
    SrtTensor t;
    int rc = srt_npy_parse(buf, len, &t, err, sizeof err);
    ck_assert_str_eq(err, message);
    ck_assert_int_eq(rc, SINTER_EFORMAT);
    ck_assert_ptr_null(t.data);
    ck_assert_ptr_null(t.name);
}

/* A .npy version-1.0 image with the given header text (padded to 64) and dlen data bytes. */
static uint8_t *npy_image(const char *header, const void *data, size_t dlen, size_t *len)
{
    size_t h = strlen(header), total = (10 + h + 1 + 63) / 64 * 64;
    uint8_t *b = calloc(1, total + dlen + 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)((total - 10) & 0xff);
    b[9] = (uint8_t)((total - 10) >> 8);
    memset(b + 10, ' ', total - 10);
    memcpy(b + 10, header, h);
    b[total - 1] = '\n';
    if (data)
        memcpy(b + total, data, dlen);
    *len = total + dlen;
    return b;
}

/* A tensor over caller-owned data: pattern bytes i*7+seed. */
static SrtTensor make_tensor(const char *name, SrtDtype dt, int rank, const int64_t *dims, uint8_t *storage,
                             uint8_t seed)
{
    SrtTensor t = {(char *)name, dt, rank, {0}, 0, storage};
    for (int i = 0; i < rank; i++)
        t.dims[i] = dims[i];
    ck_assert_int_eq(srt_tensor_nbytes(dt, rank, dims, &t.nbytes), SINTER_OK);
    for (size_t i = 0; i < t.nbytes; i++)
        storage[i] = dt == SRT_BOOL ? (uint8_t)((i + seed) & 1) : (uint8_t)(i * 7 + seed);
    return t;
}

static void assert_same_tensor(const SrtTensor *a, const SrtTensor *b)
{
    ck_assert_str_eq(a->name, b->name);
    ck_assert_int_eq(a->dtype, b->dtype);
    ck_assert_int_eq(a->rank, b->rank);
    for (int i = 0; i < a->rank; i++)
        ck_assert_int_eq(a->dims[i], b->dims[i]);
    ck_assert_uint_eq(a->nbytes, b->nbytes);
    ck_assert_ptr_nonnull(b->data);
    ck_assert(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
}

/* ---- dtypes and sizes ------------------------------------------------------------------ */

/* Every dtype's size, name and short name; names parse back; unknown names fail. */
START_TEST(dtype_tables)
{
    static const size_t sizes[] = {4, 8, 8, 4, 1, 1, 1, 2, 2};
    static const char *shorts[] = {"f32", "f64", "i64", "i32", "i8", "u8", "bool", "bf16", "f16"};
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        SrtDtype back;
        ck_assert_uint_eq(srt_dtype_size((SrtDtype)i), sizes[i]);
        ck_assert_str_eq(srt_dtype_short((SrtDtype)i), shorts[i]);
        ck_assert_int_eq(srt_dtype_from_name(srt_dtype_name((SrtDtype)i), &back), SINTER_OK);
        ck_assert_int_eq(back, i);
    }
    ck_assert_str_eq(srt_dtype_name(SRT_BF16), "bfloat16");
    SrtDtype d;
    ck_assert_int_eq(srt_dtype_from_name("float", &d), SINTER_EINVAL);
    ck_assert_int_eq(srt_dtype_from_name("f32", &d), SINTER_EINVAL);
    ck_assert_uint_eq(srt_dtype_size(SRT_DTYPE_COUNT), 0);
    ck_assert_str_eq(srt_status_name(SINTER_OK), "SINTER_OK");
    ck_assert_str_eq(srt_status_name(SINTER_EFORMAT), "SINTER_EFORMAT");
    ck_assert_str_eq(srt_status_name(SINTER_EINTERNAL), "SINTER_EINTERNAL");
    ck_assert_str_eq(srt_status_name(99), "SINTER_E?");
}
END_TEST

/* Byte sizes: scalars, zero dims, negative dims, rank limits and overflow. */
START_TEST(tensor_nbytes)
{
    size_t n;
    int64_t d[SRT_MAX_RANK + 1] = {10, 784};
    ck_assert_int_eq(srt_tensor_nbytes(SRT_F32, 2, d, &n), SINTER_OK);
    ck_assert_uint_eq(n, 31360);
    ck_assert_int_eq(srt_tensor_nbytes(SRT_F64, 0, NULL, &n), SINTER_OK);
    ck_assert_uint_eq(n, 8);
    int64_t z[] = {3, 0, 5};
    ck_assert_int_eq(srt_tensor_nbytes(SRT_I64, 3, z, &n), SINTER_OK);
    ck_assert_uint_eq(n, 0);
    int64_t neg[] = {3, -1};
    ck_assert_int_eq(srt_tensor_nbytes(SRT_F32, 2, neg, &n), SINTER_EINVAL);
    ck_assert_int_eq(srt_tensor_nbytes(SRT_F32, SRT_MAX_RANK + 1, d, &n), SINTER_EINVAL);
    int64_t big[] = {(int64_t)1 << 40, (int64_t)1 << 40, 0}; /* 0 elements, but sub-products overflow */
    ck_assert_int_eq(srt_tensor_nbytes(SRT_U8, 3, big, &n), SINTER_ENOMEM);
    int64_t huge[] = {(int64_t)1 << 62};
    ck_assert_int_eq(srt_tensor_nbytes(SRT_F32, 1, huge, &n), SINTER_ENOMEM);
}
END_TEST

/* ---- file I/O ------------------------------------------------------------------------------- */

/* srt_read_file returns the bytes plus a NUL, also for empty files. */
START_TEST(read_file_roundtrip)
{
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(srt_write_file_atomic(tmp_path("a.txt"), "hello", 5, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_read_file(tmp_path("a.txt"), 5, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq((char *)buf, "hello");
    free(buf);
    ck_assert_int_eq(srt_write_file_atomic(tmp_path("empty"), NULL, 0, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_read_file(tmp_path("empty"), 0, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(buf[0], 0);
    free(buf);
}
END_TEST

/* Files over the limit, missing files and folders are refused with a message. */
START_TEST(read_file_errors)
{
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 3;
    write_raw(tmp_path("ten"), "0123456789", 10);
    ck_assert_int_eq(srt_read_file(tmp_path("ten"), 9, &buf, &len, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "file has 10 bytes, more than the limit of 9");
    ck_assert_ptr_null(buf);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(srt_read_file(tmp_path("missing"), 100, &buf, &len, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "cannot open: No such file or directory");
    ck_assert_int_eq(srt_read_file(tmpdir, 100, &buf, &len, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "is a directory, not a file");
    ck_assert_int_eq(srt_read_file(NULL, 100, &buf, &len, NULL, 0), SINTER_EINVAL); /* err may be NULL */
}
END_TEST

/* Writing into a folder that does not exist fails and creates nothing. */
START_TEST(atomic_write_missing_dir)
{
    int rc = srt_write_file_atomic(tmp_path("nodir/x.bin"), "abc", 3, err, sizeof err);
    ck_assert_int_eq(rc, SINTER_EIO);
    ck_assert_str_eq(err, "cannot create temporary file: No such file or directory");
    ck_assert_int_eq(count_entries(tmpdir), 0);
}
END_TEST

/* Overwriting replaces the whole file (no tail of the longer old content), keeps its
 * permission bits and leaves no temporary file. */
START_TEST(atomic_write_replaces)
{
    const char *p = tmp_path("w.bin");
    ck_assert_int_eq(srt_write_file_atomic(p, "a long first version", 20, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(chmod(p, 0640), 0);
    SrtSlice parts[3] = {{"sh", 2}, {NULL, 0}, {"ort", 3}};
    ck_assert_int_eq(srt_write_parts_atomic(p, parts, 3, err, sizeof err), SINTER_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(srt_read_file(p, 100, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_str_eq((char *)buf, "short");
    free(buf);
    struct stat st;
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
    ck_assert_int_eq(count_entries(tmpdir), 1);
}
END_TEST

/* A new file gets 0666 & ~umask, not mkstemp's 0600. */
START_TEST(atomic_write_new_file_mode)
{
    mode_t old = umask(027);
    int rc = srt_write_file_atomic(tmp_path("m.bin"), "x", 1, err, sizeof err);
    umask(old);
    ck_assert_int_eq(rc, SINTER_OK);
    struct stat st;
    ck_assert_int_eq(stat(tmp_path("m.bin"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0640);
}
END_TEST

/* When the final rename fails (the target is a folder), the temporary file is removed and
 * the target is untouched. */
START_TEST(atomic_write_rename_fails)
{
    const char *d = tmp_path("target");
    ck_assert_int_eq(mkdir(d, 0755), 0);
    int rc = srt_write_file_atomic(d, "abc", 3, err, sizeof err);
    ck_assert_int_eq(rc, SINTER_EIO);
    ck_assert_str_eq(err, "cannot rename temporary file over the target: Is a directory");
    ck_assert_int_eq(count_entries(tmpdir), 1);
    ck_assert_int_eq(count_entries(d), 0);
}
END_TEST

/* ---- safetensors: round trips ------------------------------------------------------------ */

/* One tensor of every dtype in one file: written, read back equal, in name order. */
START_TEST(st_roundtrip_all_dtypes)
{
    static const char *names[] = {"w.f32", "w.f64", "w.i64", "w.i32", "w.i8", "w.u8", "w.bool", "w.bf16", "w.f16"};
    static uint8_t storage[SRT_DTYPE_COUNT][8 * 3 * 5];
    SrtTensor ts[SRT_DTYPE_COUNT];
    int64_t dims[] = {3, 5};
    /* Reverse order on input: the writer sorts by name. */
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        int k = SRT_DTYPE_COUNT - 1 - i;
        ts[i] = make_tensor(names[k], (SrtDtype)k, 1 + k % 2, dims, storage[k], (uint8_t)k);
    }
    const char *p = tmp_path("all.safetensors");
    ck_assert_int_eq(srt_safetensors_write(p, ts, SRT_DTYPE_COUNT, err, sizeof err), SINTER_OK);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_read(p, &f, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(f.count, SRT_DTYPE_COUNT);
    for (int i = 1; i < f.count; i++)
        ck_assert(strcmp(f.tensors[i - 1].name, f.tensors[i].name) < 0);
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        const SrtTensor *t = srt_tensorfile_find(&f, ts[i].name);
        ck_assert_ptr_nonnull(t);
        assert_same_tensor(&ts[i], t);
    }
    ck_assert_ptr_null(srt_tensorfile_find(&f, "w"));
    srt_tensorfile_free(&f);
    ck_assert_int_eq(f.count, 0);
}
END_TEST

/* Rank-0 scalars, zero-size dims and a file without tensors round-trip. */
START_TEST(st_roundtrip_scalar_and_empty)
{
    uint8_t s1[8], s2[1], s3[1];
    int64_t zero[] = {3, 0, 2}, zero1[] = {0};
    SrtTensor ts[3] = {make_tensor("scalar", SRT_F64, 0, NULL, s1, 1),
                       make_tensor("empty3d", SRT_F32, 3, zero, s2, 2),
                       make_tensor("empty1d", SRT_I8, 1, zero1, s3, 3)};
    ts[1].data = NULL; /* allowed when nbytes == 0 */
    const char *p = tmp_path("s.safetensors");
    ck_assert_int_eq(srt_safetensors_write(p, ts, 3, err, sizeof err), SINTER_OK);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_read(p, &f, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(f.count, 3);
    assert_same_tensor(&ts[0], srt_tensorfile_find(&f, "scalar"));
    assert_same_tensor(&ts[1], srt_tensorfile_find(&f, "empty3d"));
    assert_same_tensor(&ts[2], srt_tensorfile_find(&f, "empty1d"));
    srt_tensorfile_free(&f);

    ck_assert_int_eq(srt_safetensors_write(p, NULL, 0, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_safetensors_read(p, &f, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(f.count, 0);
    srt_tensorfile_free(&f);
}
END_TEST

/* Writer layout: header length a multiple of 8, entries sorted by name, each tensor's data
 * aligned to its element size, tensors tiling the data section. */
START_TEST(st_writer_layout)
{
    static uint8_t a[3], b[16], c[12], d[2];
    int64_t three[] = {3}, two[] = {2};
    SrtTensor ts[4] = {make_tensor("b_i64", SRT_I64, 1, two, b, 1), make_tensor("a_u8", SRT_U8, 1, three, a, 2),
                       make_tensor("d_f16", SRT_F16, 0, NULL, d, 3), make_tensor("c_f32", SRT_F32, 1, three, c, 4)};
    const char *p = tmp_path("l.safetensors");
    ck_assert_int_eq(srt_safetensors_write(p, ts, 4, err, sizeof err), SINTER_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(srt_read_file(p, 1 << 20, &buf, &len, err, sizeof err), SINTER_OK);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | buf[i];
    ck_assert_uint_eq(n % 8, 0);
    ck_assert_uint_eq(len, 8 + n + 3 + 16 + 12 + 2);
    const char *h = (const char *)buf + 8;
    const char *expect = "{\"a_u8\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[30,33]},"
                         "\"b_i64\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                         "\"c_f32\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[16,28]},"
                         "\"d_f16\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[28,30]}}";
    ck_assert(strncmp(h, expect, strlen(expect)) == 0);
    for (size_t i = strlen(expect); i < n; i++)
        ck_assert_int_eq(h[i], ' ');
    free(buf);
}
END_TEST

/* A file as the reference implementation writes it (its test vector), with __metadata__. */
START_TEST(st_reference_vector)
{
    int32_t data[4] = {1, -2, 3, -4};
    size_t len;
    uint8_t *b = st_image("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"},"
                          "\"test\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}  ",
                          data, sizeof data, &len);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse(b, len, &f, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(f.count, 1);
    ck_assert_str_eq(f.tensors[0].name, "test");
    ck_assert_int_eq(f.tensors[0].dtype, SRT_I32);
    ck_assert_int_eq(f.tensors[0].rank, 2);
    ck_assert(memcmp(f.tensors[0].data, data, sizeof data) == 0);
    srt_tensorfile_free(&f);
    free(b);
}
END_TEST

/* Names with JSON escapes, \u escapes, surrogate pairs and raw UTF-8 decode to UTF-8; the
 * writer escapes them back. */
START_TEST(st_string_escapes)
{
    size_t len;
    uint8_t *b = st_image("{\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\\u20ac\xc3\xa9\":"
                          "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
                          "\x05", 1, &len);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse(b, len, &f, err, sizeof err), SINTER_OK);
    const char *want = "a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac\xc3\xa9";
    ck_assert_str_eq(f.tensors[0].name, want);
    const char *p = tmp_path("e.safetensors");
    ck_assert_int_eq(srt_safetensors_write(p, f.tensors, 1, err, sizeof err), SINTER_OK);
    SrtTensorFile g;
    ck_assert_int_eq(srt_safetensors_read(p, &g, err, sizeof err), SINTER_OK);
    assert_same_tensor(&f.tensors[0], &g.tensors[0]);
    srt_tensorfile_free(&f);
    srt_tensorfile_free(&g);
    free(b);
}
END_TEST

/* ---- safetensors: validation messages ---------------------------------------------------- */

START_TEST(st_err_truncated)
{
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse((const uint8_t *)"\x10\0\0\0\0", 5, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "truncated: file has 5 bytes, header needs 8");
    ck_assert_int_eq(srt_safetensors_parse(NULL, 0, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "truncated: file has 0 bytes, header needs 8");
}
END_TEST

/* The header length is checked against the file size and the 100 MB limit. */
START_TEST(st_err_header_length)
{
    uint8_t b[120] = {0x7f, 0x96, 0x98}; /* 9999999 */
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse(b, sizeof b, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "header length 9999999 exceeds file size 120");
    memset(b, 0xff, 8);
    ck_assert_int_eq(srt_safetensors_parse(b, sizeof b, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "header length 18446744073709551615 exceeds file size 120");
    size_t big = 100000001 + 8;
    uint8_t *h = calloc(1, big);
    ck_assert_ptr_nonnull(h);
    h[0] = 0x01, h[1] = 0xe1, h[2] = 0xf5, h[3] = 0x05; /* 100000001 */
    ck_assert_int_eq(srt_safetensors_parse(h, big, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "header length 100000001 exceeds the limit of 100000000 bytes");
    free(h);
}
END_TEST

/* Malformed JSON is reported with the byte position in the header. */
START_TEST(st_err_json_syntax)
{
    st_expect_error("", 0, SINTER_EFORMAT, "header does not start with '{'");
    st_expect_error(" {}", 0, SINTER_EFORMAT, "header does not start with '{'");
    st_expect_error("{", 0, SINTER_EFORMAT, "header byte 1: expected a string, found the end of the header");
    st_expect_error("{\"a\" {}}", 0, SINTER_EFORMAT, "header byte 5: expected ':', found '{'");
    st_expect_error("{\"a\":{\"dtype\":\"U8\" \"shape\":[]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": header byte 19: expected ',' or '}', found '\"'");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, SINTER_EFORMAT,
                    "tensor \"a\": header byte 28: expected an integer, found a number with a fraction or exponent");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[01],\"data_offsets\":[0,1]}}", 1, SINTER_EFORMAT,
                    "tensor \"a\": header byte 28: leading zeros are not allowed in JSON numbers");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": header byte 28: integer too large");
    st_expect_error("{},", 0, SINTER_EFORMAT, "header byte 2: expected the end of the header, found ','");
    st_expect_error("{\"__metadata__\":{},}", 0, SINTER_EFORMAT,
                    "header byte 19: expected a string, found '}'"); /* trailing comma */
    st_expect_error("{\"__metadata__\":{\"k\":1}}", 0, SINTER_EFORMAT,
                    "header byte 21: __metadata__ values must be strings");
    st_expect_error("{\"__metadata__\":{},\"__metadata__\":{}}", 0, SINTER_EFORMAT,
                    "duplicate key \"__metadata__\"");
}
END_TEST

/* Bad strings: escapes, lone surrogates, raw control characters, invalid UTF-8, NUL in names. */
START_TEST(st_err_strings)
{
    st_expect_error("{\"a\\x\":{}}", 0, SINTER_EFORMAT, "header byte 4: invalid escape '\\x'");
    st_expect_error("{\"\\ud800\":{}}", 0, SINTER_EFORMAT,
                    "header byte 8: \\uD800 is a high surrogate without a low surrogate after it");
    st_expect_error("{\"\\ud800\\u0041\":{}}", 0, SINTER_EFORMAT,
                    "header byte 14: \\uD800 is a high surrogate without a low surrogate after it");
    st_expect_error("{\"\\udc00\":{}}", 0, SINTER_EFORMAT,
                    "header byte 8: \\uDC00 is a low surrogate without a high surrogate before it");
    st_expect_error("{\"\\u12g4\":{}}", 0, SINTER_EFORMAT, "header byte 4: \\u escape needs 4 hex digits");
    st_expect_error("{\"a\tb\":{}}", 0, SINTER_EFORMAT,
                    "header byte 3: control character 0x09 in a string (escape it)");
    st_expect_error("{\"\xc0\xaf\":{}}", 0, SINTER_EFORMAT, "header byte 2: invalid UTF-8 in a string");
    st_expect_error("{\"\xed\xa0\x80\":{}}", 0, SINTER_EFORMAT, "header byte 2: invalid UTF-8 in a string");
    st_expect_error("{\"ab", 0, SINTER_EFORMAT, "header byte 4: unterminated string");
    st_expect_error("{\"a\\u0000b\":{}}", 0, SINTER_EFORMAT, "tensor name \"a\" contains a NUL character");
}
END_TEST

/* Entries need exactly dtype, shape and data_offsets; supported dtypes only. */
START_TEST(st_err_entry_keys)
{
    st_expect_error("{\"a\":{}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": header byte 6: missing \"dtype\", \"shape\" and \"data_offsets\"");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": missing \"data_offsets\"");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\"}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": duplicate key \"dtype\"");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"strides\":[1]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": unknown key \"strides\" (expected \"dtype\", \"shape\" and \"data_offsets\")");
    st_expect_error("{\"emb\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, SINTER_EFORMAT,
                    "tensor \"emb\": dtype \"I16\" is not supported "
                    "(expected F32, F64, I64, I32, I8, U8, BOOL, BF16 or F16)");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": header byte 47: data_offsets must be [begin, end], found ']'");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[0,1,2]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\": header byte 49: data_offsets must be [begin, end], found ','");
}
END_TEST

/* Shapes: negative dims, rank above 8, sizes that overflow. */
START_TEST(st_err_shapes)
{
    st_expect_error("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,-3],\"data_offsets\":[0,0]}}", 0, SINTER_EFORMAT,
                    "tensor \"x\": shape[1] is -3; dims must be >= 0");
    st_expect_error("{\"x\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
                    SINTER_EFORMAT, "tensor \"x\": shape has more than 8 dims");
    st_expect_error("{\"x\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0,
                    SINTER_EFORMAT, "tensor \"x\": shape [4294967296, 4294967296] of F32 is too large");
    st_expect_error("{\"x\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", 0,
                    SINTER_EFORMAT, "tensor \"x\": shape [4611686018427387904] of F32 is too large");
}
END_TEST

/* Offsets: order, bounds, size against the shape. */
START_TEST(st_err_offsets)
{
    st_expect_error("{\"fc1.weight\":{\"dtype\":\"F32\",\"shape\":[10,784],\"data_offsets\":[0,100]}}", 100,
                    SINTER_EFORMAT,
                    "tensor \"fc1.weight\": data_offsets [0, 100] hold 100 bytes but shape [10, 784] of F32 needs 31360");
    st_expect_error("{\"x\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[100,50]}}", 100, SINTER_EFORMAT,
                    "tensor \"x\": data_offsets [100, 50] end before they begin");
    st_expect_error("{\"x\":{\"dtype\":\"U8\",\"shape\":[400],\"data_offsets\":[0,400]}}", 120, SINTER_EFORMAT,
                    "tensor \"x\": data_offsets [0, 400] go past the end of the data section (120 bytes)");
    st_expect_error("{\"x\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[-1,0]}}", 1, SINTER_EFORMAT,
                    "tensor \"x\": data_offsets[0] is -1; offsets must be >= 0");
    st_expect_error("{\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[18446744073709551615,0]}}", 1,
                    SINTER_EFORMAT, "tensor \"x\": header byte 47: integer too large");
}
END_TEST

/* The tensors must tile the data section: no duplicates, overlaps, gaps or trailing bytes. */
START_TEST(st_err_layout)
{
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                    "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}",
                    4, SINTER_EFORMAT, "duplicate tensor name \"a\"");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[100],\"data_offsets\":[0,100]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[100],\"data_offsets\":[50,150]}}",
                    150, SINTER_EFORMAT, "tensor \"b\": data_offsets [50, 150] overlap tensor \"a\" at [0, 100]");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[100],\"data_offsets\":[0,100]},"
                    "\"b\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[50,50]}}",
                    100, SINTER_EFORMAT, "tensor \"b\": data_offsets [50, 50] overlap tensor \"a\" at [0, 100]");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", 8, SINTER_EFORMAT,
                    "data bytes [0, 4) before tensor \"a\" belong to no tensor");
    st_expect_error("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 6, SINTER_EFORMAT,
                    "data bytes [4, 6) at the end belong to no tensor");
    st_expect_error("{}", 3, SINTER_EFORMAT, "data bytes [0, 3) at the end belong to no tensor");
}
END_TEST

/* BOOL data other than 0/1 is refused when read and when written. */
START_TEST(st_err_bool_values)
{
    size_t len;
    uint8_t *b = st_image("{\"m\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[0,3]}}", "\1\0\2", 3, &len);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse(b, len, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "tensor \"m\": BOOL element 2 is 2 (must be 0 or 1)");
    ck_assert_int_eq(f.count, 0);
    free(b);
    SrtTensor t = {"m", SRT_BOOL, 1, {3}, 3, "\1\0\2"};
    ck_assert_int_eq(srt_safetensors_write(tmp_path("b.safetensors"), &t, 1, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "tensor \"m\": BOOL element 2 is 2 (must be 0 or 1)");
    ck_assert_int_eq(count_entries(tmpdir), 0);
}
END_TEST

/* Messages quote names safely: control characters escaped, long names cut. */
START_TEST(st_err_name_quoting)
{
    st_expect_error("{\"a\\nb\":{\"dtype\":\"X\",\"shape\":[],\"data_offsets\":[0,0]}}", 0, SINTER_EFORMAT,
                    "tensor \"a\\x0ab\": dtype \"X\" is not supported "
                    "(expected F32, F64, I64, I32, I8, U8, BOOL, BF16 or F16)");
    char json[400];
    snprintf(json, sizeof json, "{\"%0200d\":{\"dtype\":\"X\"}}", 0);
    size_t len;
    uint8_t *b = st_image(json, NULL, 0, &len);
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_parse(b, len, &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "0000...\": dtype \"X\" is not supported"));
    ck_assert(strlen(err) < 200);
    free(b);
}
END_TEST

/* Reading from a file: same checks, plus I/O errors. */
START_TEST(st_read_file_errors)
{
    SrtTensorFile f;
    ck_assert_int_eq(srt_safetensors_read(tmp_path("none.safetensors"), &f, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "cannot open: No such file or directory");
    size_t len;
    uint8_t *b = st_image("{\"x\":{\"dtype\":\"F32\",\"shape\":[10,784],\"data_offsets\":[0,100]}}", NULL, 100, &len);
    write_raw(tmp_path("bad.safetensors"), b, len);
    ck_assert_int_eq(srt_safetensors_read(tmp_path("bad.safetensors"), &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "tensor \"x\": data_offsets [0, 100] hold 100 bytes but shape [10, 784] of F32 needs 31360");
    write_raw(tmp_path("short.safetensors"), b, 7);
    ck_assert_int_eq(srt_safetensors_read(tmp_path("short.safetensors"), &f, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "truncated: file has 7 bytes, header needs 8");
    ck_assert_int_eq(srt_safetensors_read(tmpdir, &f, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "not a regular file");
    free(b);
}
END_TEST

/* The writer refuses bad tensors before touching the file system. */
START_TEST(st_writer_arg_errors)
{
    uint8_t d[8] = {0};
    int64_t two[] = {2};
    SrtTensor ts[2] = {make_tensor("w", SRT_F32, 1, two, d, 0), make_tensor("w", SRT_U8, 0, NULL, d, 0)};
    const char *p = tmp_path("x.safetensors");
    ck_assert_int_eq(srt_safetensors_write(p, ts, 2, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "duplicate tensor name \"w\"");
    ts[0].nbytes = 7;
    ck_assert_int_eq(srt_safetensors_write(p, ts, 1, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "tensor \"w\": nbytes is 7 but shape [2] of F32 needs 8");
    ts[0].nbytes = 8;
    ts[0].name = "__metadata__";
    ck_assert_int_eq(srt_safetensors_write(p, ts, 1, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "tensor name \"__metadata__\" is reserved");
    ts[0].name = "bad\xff";
    ck_assert_int_eq(srt_safetensors_write(p, ts, 1, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "tensor \"bad\xff\": name is not valid UTF-8");
    ts[0].name = "w";
    ts[0].dims[0] = -2;
    ck_assert_int_eq(srt_safetensors_write(p, ts, 1, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "tensor \"w\": shape [-2] of F32 is invalid or too large");
    ck_assert_int_eq(count_entries(tmpdir), 0);
}
END_TEST

/* ---- npy ------------------------------------------------------------------------------------ */

/* Every dtype numpy has, plus rank 0 and zero-size, round-trips through a file. */
START_TEST(npy_roundtrip_all_dtypes)
{
    static uint8_t storage[8 * 2 * 3 * 4];
    int64_t dims[] = {2, 3, 4}, zero[] = {4, 0};
    for (int i = 0; i < SRT_DTYPE_COUNT; i++) {
        if (i == SRT_BF16)
            continue;
        for (int shape = 0; shape < 3; shape++) {
            SrtTensor t = shape == 0   ? make_tensor("", (SrtDtype)i, 3, dims, storage, (uint8_t)i)
                          : shape == 1 ? make_tensor("", (SrtDtype)i, 0, NULL, storage, (uint8_t)i)
                                       : make_tensor("", (SrtDtype)i, 2, zero, storage, (uint8_t)i);
            const char *p = tmp_path("t.npy");
            ck_assert_int_eq(srt_npy_write(p, &t, err, sizeof err), SINTER_OK);
            SrtTensor back;
            ck_assert_int_eq(srt_npy_read(p, &back, err, sizeof err), SINTER_OK);
            assert_same_tensor(&t, &back);
            srt_tensor_free(&back);
        }
    }
}
END_TEST

/* The writer's bytes: version 1.0, numpy's dict text, padded to 64 and ended by '\n'. */
START_TEST(npy_writer_format)
{
    uint8_t d[24];
    int64_t dims[] = {2, 3}, one[] = {5};
    SrtTensor t = make_tensor("", SRT_F32, 2, dims, d, 0);
    const char *p = tmp_path("f.npy");
    ck_assert_int_eq(srt_npy_write(p, &t, err, sizeof err), SINTER_OK);
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(srt_read_file(p, 1000, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_uint_eq(len, 128 + 24); /* 10 + 60 + '\n' does not fit in 64 */
    ck_assert(memcmp(buf, "\x93NUMPY\x01\x00\x76\x00", 10) == 0);
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    ck_assert(memcmp(buf + 10, dict, strlen(dict)) == 0);
    for (size_t i = 10 + strlen(dict); i < 127; i++)
        ck_assert_int_eq(buf[i], ' ');
    ck_assert_int_eq(buf[127], '\n');
    free(buf);
    SrtTensor u = make_tensor("", SRT_BOOL, 1, one, d, 0);
    ck_assert_int_eq(srt_npy_write(p, &u, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_read_file(p, 1000, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_ptr_nonnull(strstr((char *)buf + 10, "{'descr': '|b1', 'fortran_order': False, 'shape': (5,), }"));
    free(buf);
    SrtTensor s = make_tensor("", SRT_I64, 0, NULL, d, 0);
    ck_assert_int_eq(srt_npy_write(p, &s, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(srt_read_file(p, 1000, &buf, &len, err, sizeof err), SINTER_OK);
    ck_assert_ptr_nonnull(strstr((char *)buf + 10, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }"));
    free(buf);
}
END_TEST

/* Header variants numpy (or Python 2 numpy) may write: versions 2.0/3.0, key order,
 * double quotes, trailing commas, 3L dims, '<u1' and '|i1' spellings. */
START_TEST(npy_header_variants)
{
    float v[3] = {1, 2, 3};
    size_t len;
    uint8_t *b = npy_image("{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"<f4\"}", v, sizeof v, &len);
    SrtTensor t;
    ck_assert_int_eq(srt_npy_parse(b, len, &t, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(t.rank, 1);
    ck_assert_int_eq(t.dims[0], 3);
    ck_assert_str_eq(t.name, "");
    ck_assert(memcmp(t.data, v, sizeof v) == 0);
    srt_tensor_free(&t);
    free(b);

    /* Version 2.0: 4-byte header length. */
    const char *h = "{'descr': '<u1', 'fortran_order': False, 'shape': (2, 1, ), }";
    uint8_t img[128];
    size_t hl = strlen(h);
    memcpy(img, "\x93NUMPY\x02\x00", 8);
    img[8] = (uint8_t)hl, img[9] = img[10] = img[11] = 0;
    memcpy(img + 12, h, hl);
    img[12 + hl] = 7, img[13 + hl] = 9;
    ck_assert_int_eq(srt_npy_parse(img, 14 + hl, &t, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(t.dtype, SRT_U8);
    ck_assert_int_eq(t.rank, 2);
    ck_assert_int_eq(((uint8_t *)t.data)[1], 9);
    srt_tensor_free(&t);
    img[6] = 3; /* 3.0 has the same layout */
    ck_assert_int_eq(srt_npy_parse(img, 14 + hl, &t, err, sizeof err), SINTER_OK);
    srt_tensor_free(&t);

    b = npy_image("{'descr': '<i1', 'fortran_order': False, 'shape': ()}", "\xff", 1, &len);
    ck_assert_int_eq(srt_npy_parse(b, len, &t, err, sizeof err), SINTER_OK);
    ck_assert_int_eq(t.dtype, SRT_I8);
    ck_assert_int_eq(t.rank, 0);
    ck_assert_int_eq(((int8_t *)t.data)[0], -1);
    srt_tensor_free(&t);
    free(b);
}
END_TEST

/* Preamble errors: magic, version, lengths. */
START_TEST(npy_err_preamble)
{
    npy_expect_error("\x93NUM", 4, "truncated: file has 4 bytes, the .npy preamble needs 10");
    npy_expect_error("PK\x03\x04\x14\0\0\0\0\0", 10, "not a .npy file (it does not start with \\x93NUMPY)");
    npy_expect_error("\x93NUMPY\x04\x00\x00\x00", 10, "unsupported .npy version 4.0 (1.0, 2.0 and 3.0 are read)");
    npy_expect_error("\x93NUMPY\x01\x01\x00\x00", 10, "unsupported .npy version 1.1 (1.0, 2.0 and 3.0 are read)");
    npy_expect_error("\x93NUMPY\x02\x00\x00\x00", 10, "truncated: file has 10 bytes, the .npy preamble needs 12");
    npy_expect_error("\x93NUMPY\x01\x00\x76\x00{", 11, "header length 118 exceeds file size 11");
    npy_expect_error("\x93NUMPY\x02\x00\x00\x00\x00\x80{", 13, "header length 2147483648 exceeds file size 13");
}
END_TEST

/* Header errors: dtypes, byte order, Fortran order, shapes, keys, syntax. */
START_TEST(npy_err_header)
{
    static const struct {
        const char *header, *message;
    } cases[] = {
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }",
         "descr '>f4' is big-endian; only little-endian data is supported (save arr.astype('<f4'))"},
        {"{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }",
         "descr '<c8' is not supported (expected '<f4', '<f8', '<i8', '<i4', '|i1', '|u1', '|b1' or '<f2')"},
        {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (3,), }",
         "header byte 10: structured dtypes are not supported"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }",
         "fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(arr))"},
        {"{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }",
         "header byte 34: fortran_order must be True or False, found '0'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
         "header byte 53: shape (3) is not a tuple; write (3,)"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, -1), }", "header byte 54: shape[1] is negative"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }",
         "header byte 67: shape has more than 8 dims"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }",
         "header byte 51: shape[0] is too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}",
         "header byte 56: unknown key 'extra' (expected descr, fortran_order, shape)"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
         "header byte 17: duplicate key 'descr'"},
        {"{'descr': '<f4', 'shape': (3,), }", "header has no 'fortran_order'"},
        {"{'descr': '<f4' 'fortran_order': False, 'shape': (3,), }",
         "header byte 16: expected ',' or '}', found '''"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } x", "header byte 58: expected the end of the header, found 'x'"},
        {"('descr', '<f4')", "header byte 0: expected '{', found '('"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *b = npy_image(cases[i].header, NULL, 12, &len);
        npy_expect_error(b, len, cases[i].message);
        free(b);
    }
}
END_TEST

/* Data length must match the shape exactly; bools must be 0/1. */
START_TEST(npy_err_data)
{
    size_t len;
    uint8_t *b = npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", NULL, 10, &len);
    npy_expect_error(b, len, "truncated: data has 10 bytes but shape (3, 4) of <f4 needs 48");
    free(b);
    b = npy_image("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", NULL, 52, &len);
    npy_expect_error(b, len, "data has 52 bytes but shape (3, 4) of <f4 needs 48 (extra bytes after the array)");
    free(b);
    b = npy_image("{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", NULL, 0, &len);
    npy_expect_error(b, len, "shape (4294967296, 4294967296) of <i8 is too large");
    free(b);
    b = npy_image("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", "\1\3", 2, &len);
    npy_expect_error(b, len, "bool element 1 is 3 (must be 0 or 1)");
    free(b);
}
END_TEST

/* The writer: bfloat16 has no numpy type; bad sizes are refused; nothing is left behind. */
START_TEST(npy_writer_errors)
{
    uint8_t d[8];
    int64_t two[] = {2};
    SrtTensor t = make_tensor("", SRT_BF16, 1, two, d, 0);
    ck_assert_int_eq(srt_npy_write(tmp_path("x.npy"), &t, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "bfloat16 has no .npy type (use .safetensors or convert to float32)");
    t = make_tensor("", SRT_I32, 1, two, d, 0);
    t.nbytes = 4;
    ck_assert_int_eq(srt_npy_write(tmp_path("x.npy"), &t, err, sizeof err), SINTER_EINVAL);
    ck_assert_str_eq(err, "nbytes is 4 but shape (2,) of <i4 needs 8");
    t.nbytes = 8;
    ck_assert_int_eq(srt_npy_write(tmp_path("nodir/x.npy"), &t, err, sizeof err), SINTER_EIO);
    ck_assert_str_eq(err, "cannot create temporary file: No such file or directory");
    ck_assert_int_eq(count_entries(tmpdir), 0);
}
END_TEST

#ifdef SINTER_SOURCE_DIR
static SrtTensor read_vector(const char *name)
{
    char p[512];
    SrtTensor t;
    snprintf(p, sizeof p, "%s/tests/data/npy/%s", SINTER_SOURCE_DIR, name);
    int rc = srt_npy_read(p, &t, err, sizeof err);
    ck_assert_msg(rc == SINTER_OK, "%s: %s", name, err);
    ck_assert_str_eq(t.name, "");
    return t;
}

/* Files written by numpy itself (tests/data/npy/gen.py) read with the right values. */
START_TEST(npy_numpy_vectors)
{
    SrtTensor t = read_vector("f32_2x3.npy");
    ck_assert_int_eq(t.dtype, SRT_F32);
    ck_assert_int_eq(t.rank, 2);
    ck_assert_int_eq(t.dims[0], 2);
    ck_assert_int_eq(t.dims[1], 3);
    for (int i = 0; i < 6; i++)
        ck_assert(((float *)t.data)[i] == 0.5f * (float)i);
    srt_tensor_free(&t);

    t = read_vector("f64_scalar.npy");
    ck_assert_int_eq(t.rank, 0);
    ck_assert(((double *)t.data)[0] == -1.25);
    srt_tensor_free(&t);

    t = read_vector("i64_4.npy");
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(((int64_t *)t.data)[i], i - 2);
    srt_tensor_free(&t);

    t = read_vector("i32_0x3.npy");
    ck_assert_int_eq(t.dtype, SRT_I32);
    ck_assert_int_eq(t.dims[0], 0);
    ck_assert_int_eq(t.dims[1], 3);
    ck_assert_uint_eq(t.nbytes, 0);
    srt_tensor_free(&t);

    t = read_vector("i8_5.npy");
    ck_assert_int_eq(t.dtype, SRT_I8);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(((int8_t *)t.data)[i], i - 3);
    srt_tensor_free(&t);

    t = read_vector("u8_2x2x2.npy");
    ck_assert_int_eq(t.rank, 3);
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(((uint8_t *)t.data)[i], 30 * i);
    srt_tensor_free(&t);

    t = read_vector("bool_3.npy");
    ck_assert_int_eq(t.dtype, SRT_BOOL);
    ck_assert(memcmp(t.data, "\1\0\1", 3) == 0);
    srt_tensor_free(&t);

    t = read_vector("f16_3.npy");
    ck_assert_int_eq(t.dtype, SRT_F16);
    ck_assert(memcmp(t.data, "\x00\x3c\x00\xc0\x00\x38", 6) == 0); /* 1.0, -2.0, 0.5 */
    srt_tensor_free(&t);

    for (int v = 2; v <= 3; v++) {
        t = read_vector(v == 2 ? "f32_3_v2.npy" : "f32_3_v3.npy");
        ck_assert_int_eq(t.dims[0], 3);
        ck_assert(((float *)t.data)[2] == 2.0f);
        srt_tensor_free(&t);
    }

    char p[512];
    snprintf(p, sizeof p, "%s/tests/data/npy/f32_2x2_fortran.npy", SINTER_SOURCE_DIR);
    ck_assert_int_eq(srt_npy_read(p, &t, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(arr))");
    snprintf(p, sizeof p, "%s/tests/data/npy/f32_3_bigendian.npy", SINTER_SOURCE_DIR);
    ck_assert_int_eq(srt_npy_read(p, &t, err, sizeof err), SINTER_EFORMAT);
    ck_assert_str_eq(err, "descr '>f4' is big-endian; only little-endian data is supported (save arr.astype('<f4'))");
}
END_TEST
#endif

static Suite *tensorfile_suite(void)
{
    Suite *s = suite_create("rt_tensorfile");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, dtype_tables);
    tcase_add_test(tc, tensor_nbytes);
    tcase_add_test(tc, read_file_roundtrip);
    tcase_add_test(tc, read_file_errors);
    tcase_add_test(tc, atomic_write_missing_dir);
    tcase_add_test(tc, atomic_write_replaces);
    tcase_add_test(tc, atomic_write_new_file_mode);
    tcase_add_test(tc, atomic_write_rename_fails);
    tcase_add_test(tc, st_roundtrip_all_dtypes);
    tcase_add_test(tc, st_roundtrip_scalar_and_empty);
    tcase_add_test(tc, st_writer_layout);
    tcase_add_test(tc, st_reference_vector);
    tcase_add_test(tc, st_string_escapes);
    tcase_add_test(tc, st_err_truncated);
    tcase_add_test(tc, st_err_header_length);
    tcase_add_test(tc, st_err_json_syntax);
    tcase_add_test(tc, st_err_strings);
    tcase_add_test(tc, st_err_entry_keys);
    tcase_add_test(tc, st_err_shapes);
    tcase_add_test(tc, st_err_offsets);
    tcase_add_test(tc, st_err_layout);
    tcase_add_test(tc, st_err_bool_values);
    tcase_add_test(tc, st_err_name_quoting);
    tcase_add_test(tc, st_read_file_errors);
    tcase_add_test(tc, st_writer_arg_errors);
    tcase_add_test(tc, npy_roundtrip_all_dtypes);
    tcase_add_test(tc, npy_writer_format);
    tcase_add_test(tc, npy_header_variants);
    tcase_add_test(tc, npy_err_preamble);
    tcase_add_test(tc, npy_err_header);
    tcase_add_test(tc, npy_err_data);
    tcase_add_test(tc, npy_writer_errors);
#ifdef SINTER_SOURCE_DIR
    tcase_add_test(tc, npy_numpy_vectors);
#endif
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tensorfile_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
