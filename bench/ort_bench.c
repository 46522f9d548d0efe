/* bench/ort_bench.c: times ONNX Runtime's C API on one ONNX model, for bench/compare.py.
 *
 *   ort_bench LIBONNXRUNTIME.so MODEL.onnx THREADS SECONDS IN_NAME IN_SHAPE IN.bin OUT_NAME OUT_SHAPE OUT.bin
 *
 * SHAPE is comma-separated dims ("64,3,32,32"); IN.bin holds the float32 input, OUT.bin receives
 * the output of the first call (to be checked against sinter before the timings are used). The
 * session runs with all graph optimizations, THREADS intra-op threads and 1 inter-op thread (ORT's
 * defaults otherwise: intra-op threads spin). Input and output tensors wrap caller-owned buffers,
 * as sinter's NAME_infer does. Prints one JSON object with the latencies of Run in ms.
 *
 * libonnxruntime is loaded with dlopen and used through OrtGetApiBase: the npm package
 * onnxruntime-node ships the library without its C header, so the few entries of the OrtApi
 * function table used here are declared below by their slot in that table (ONNX Runtime only
 * appends to it, so the slots hold for every version since the ones listed). Not part of the
 * build or of ctest: bench/compare.py compiles it with cc when it finds the library. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void *Status;   /* OrtStatus *: NULL on success */

/* Slots of the OrtApi table (ORT_API_VERSION 1 and later). */
enum {
    SLOT_GET_ERROR_MESSAGE = 2,
    SLOT_CREATE_ENV = 3,
    SLOT_CREATE_SESSION = 7,
    SLOT_RUN = 9,
    SLOT_CREATE_SESSION_OPTIONS = 10,
    SLOT_SET_GRAPH_OPTIMIZATION_LEVEL = 23,
    SLOT_SET_INTRA_OP_THREADS = 24,
    SLOT_SET_INTER_OP_THREADS = 25,
    SLOT_CREATE_TENSOR_WITH_DATA = 49,
    SLOT_CREATE_CPU_MEMORY_INFO = 69,
    SLOT_RELEASE_ENV = 92,
    SLOT_RELEASE_STATUS = 93,
    SLOT_RELEASE_MEMORY_INFO = 94,
    SLOT_RELEASE_SESSION = 95,
    SLOT_RELEASE_VALUE = 96,
    SLOT_RELEASE_SESSION_OPTIONS = 100,
};

typedef struct ApiBase {
    void *const *(*get_api)(uint32_t version);
    const char *(*version_string)(void);
} ApiBase;

static void *const *api;

#define FN(slot, type) ((type)api[slot])

static void check(Status s, const char *what)
{
    if (!s)
        return;
    fprintf(stderr, "ort_bench: %s: %s\n", what, FN(SLOT_GET_ERROR_MESSAGE, const char *(*)(Status))(s));
    exit(1);
}

static int parse_shape(const char *text, int64_t *dims, int64_t *numel)
{
    int rank = 0;
    *numel = 1;
    for (const char *p = text; *p && rank < 8; rank++) {
        char *end;
        dims[rank] = strtoll(p, &end, 10);
        if (end == p || dims[rank] < 1)
            return -1;
        *numel *= dims[rank];
        p = *end == ',' ? end + 1 : end;
    }
    return rank;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 11) {
        fprintf(stderr, "usage: ort_bench LIBONNXRUNTIME.so MODEL.onnx THREADS SECONDS IN_NAME IN_SHAPE IN.bin "
                        "OUT_NAME OUT_SHAPE OUT.bin\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "ort_bench: %s\n", dlerror());
        return 1;
    }
    const ApiBase *(*get_base)(void) = (const ApiBase *(*)(void))dlsym(lib, "OrtGetApiBase");
    if (!get_base) {
        fprintf(stderr, "ort_bench: %s: no OrtGetApiBase\n", argv[1]);
        return 1;
    }
    const ApiBase *base = get_base();
    /* version 1 of the table suffices for the slots used; it is served by every release */
    api = base->get_api(1);
    if (!api) {
        fprintf(stderr, "ort_bench: %s: no API version 1\n", argv[1]);
        return 1;
    }
    int threads = atoi(argv[3]);
    double seconds = atof(argv[4]);
    int64_t in_dims[8], out_dims[8], in_n, out_n;
    int in_rank = parse_shape(argv[6], in_dims, &in_n), out_rank = parse_shape(argv[9], out_dims, &out_n);
    if (threads < 1 || !(seconds > 0) || in_rank < 1 || out_rank < 1) {
        fprintf(stderr, "ort_bench: bad THREADS, SECONDS or SHAPE\n");
        return 2;
    }
    float *in = aligned_alloc(64, (size_t)(in_n * 4 + 63) / 64 * 64);
    float *out = aligned_alloc(64, (size_t)(out_n * 4 + 63) / 64 * 64);
    FILE *f = fopen(argv[7], "rb");
    if (!in || !out || !f || fread(in, 4, (size_t)in_n, f) != (size_t)in_n) {
        fprintf(stderr, "ort_bench: %s: cannot read %lld floats\n", argv[7], (long long)in_n);
        return 1;
    }
    fclose(f);

    void *env, *opts, *session, *mem, *in_val, *out_val;
    check(FN(SLOT_CREATE_ENV, Status (*)(int, const char *, void **))(3 /* error */, "ort_bench", &env), "CreateEnv");
    check(FN(SLOT_CREATE_SESSION_OPTIONS, Status (*)(void **))(&opts), "CreateSessionOptions");
    check(FN(SLOT_SET_GRAPH_OPTIMIZATION_LEVEL, Status (*)(void *, int))(opts, 99 /* all */),
          "SetSessionGraphOptimizationLevel");
    check(FN(SLOT_SET_INTRA_OP_THREADS, Status (*)(void *, int))(opts, threads), "SetIntraOpNumThreads");
    check(FN(SLOT_SET_INTER_OP_THREADS, Status (*)(void *, int))(opts, 1), "SetInterOpNumThreads");
    check(FN(SLOT_CREATE_SESSION, Status (*)(void *, const char *, void *, void **))(env, argv[2], opts, &session),
          "CreateSession");
    check(FN(SLOT_CREATE_CPU_MEMORY_INFO, Status (*)(int, int, void **))(0 /* device allocator */, 0, &mem),
          "CreateCpuMemoryInfo");
    typedef Status (*CreateTensor)(void *, void *, size_t, const int64_t *, size_t, int, void **);
    check(FN(SLOT_CREATE_TENSOR_WITH_DATA, CreateTensor)(mem, in, (size_t)in_n * 4, in_dims, (size_t)in_rank,
                                                         1 /* float */, &in_val), "CreateTensorWithDataAsOrtValue");
    check(FN(SLOT_CREATE_TENSOR_WITH_DATA, CreateTensor)(mem, out, (size_t)out_n * 4, out_dims, (size_t)out_rank,
                                                         1, &out_val), "CreateTensorWithDataAsOrtValue");
    typedef Status (*Run)(void *, void *, const char *const *, void *const *, size_t, const char *const *, size_t,
                          void **);
    Run run = FN(SLOT_RUN, Run);
    const char *in_name = argv[5], *out_name = argv[8];

    check(run(session, NULL, &in_name, &in_val, 1, &out_name, 1, &out_val), "Run");
    if (!(f = fopen(argv[10], "wb")) || fwrite(out, 4, (size_t)out_n, f) != (size_t)out_n || fclose(f) != 0) {
        fprintf(stderr, "ort_bench: %s: cannot write the output\n", argv[10]);
        return 1;
    }
    /* warm-up: up to 10 calls or 0.5 s */
    double t0 = now();
    for (int i = 0; i < 10 && now() - t0 < 0.5; i++)
        check(run(session, NULL, &in_name, &in_val, 1, &out_name, 1, &out_val), "Run");
    size_t cap = 1024, k = 0;
    double *t = malloc(cap * sizeof *t);
    double start = now();
    while (k < 3 || now() - start < seconds) {
        double a = now();
        check(run(session, NULL, &in_name, &in_val, 1, &out_name, 1, &out_val), "Run");
        double b = now();
        if (k == cap && !(t = realloc(t, (cap *= 2) * sizeof *t))) {
            fprintf(stderr, "ort_bench: out of memory\n");
            return 1;
        }
        t[k++] = b - a;
    }
    qsort(t, k, sizeof *t, cmp);
    double sum = 0;
    for (size_t i = 0; i < k; i++)
        sum += t[i];
    double median = k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
    printf("{\"framework\": \"onnxruntime %s\", \"threads\": %d, \"calls\": %zu, \"median_ms\": %.6g, "
           "\"min_ms\": %.6g, \"mean_ms\": %.6g}\n",
           base->version_string(), threads, k, median * 1e3, t[0] * 1e3, sum / (double)k * 1e3);
    FN(SLOT_RELEASE_VALUE, void (*)(void *))(in_val);
    FN(SLOT_RELEASE_VALUE, void (*)(void *))(out_val);
    FN(SLOT_RELEASE_MEMORY_INFO, void (*)(void *))(mem);
    FN(SLOT_RELEASE_SESSION, void (*)(void *))(session);
    FN(SLOT_RELEASE_SESSION_OPTIONS, void (*)(void *))(opts);
    FN(SLOT_RELEASE_ENV, void (*)(void *))(env);
    free(t);
    free(in);
    free(out);
    return 0;
}
