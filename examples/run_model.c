/* run_model: runs any library made by `sinter compile` on .npy files, for targets without the sinter command (e.g. under qemu). */
/*
 * usage: run_model LIB.so [--threads T] [--weights FILE] IN.npy... OUT.npy...
 *        run_model LIB.so [--threads T] [--weights FILE] --grad IN.npy... LOSS.npy GRADS.npy
 *        run_model --compare GOT WANT TOL      (.npy files, or .safetensors files tensor by tensor)
 *
 * The first form dlopens LIB.so, reads its sinter_model_info descriptor, reads one .npy file
 * per graph input (declaration order; dtypes must be the declared ones, shapes agree on the
 * batch size N), runs inference and writes one .npy file per graph output. With --grad the
 * inputs are the graph inputs then the training inputs (labels); it runs the training
 * library's grad entry point (gradients without an update) and writes the loss and the flat
 * gradient buffer. --compare checks that two .npy files of floats agree: |got - want| <=
 * TOL * max(1, |want|) everywhere (exit 1 and the worst element otherwise); for two
 * .safetensors files (params, e.g. of two training runs) every float tensor of WANT is compared
 * with the tensor of the same name in GOT.
 *
 * It needs only the runtime archive (for .npy files) and libdl: build it for a target with
 * that target's C compiler and the runtime sinter built for it, e.g.
 *     aarch64-linux-gnu-gcc -O2 -I SRC examples/run_model.c BUILD/sinter-rt/aarch64-linux-gnu/libsinter_rt.a \
 *         -fopenmp -lm -ldl -o run_model
 *     qemu-aarch64 -L /usr/aarch64-linux-gnu ./run_model liblenet5.so x.npy logits.npy
 */
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/sinter_model.h"

/* Prints "run_model: MESSAGE" and returns 1. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "run_model: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static double value_at(const SrtTensor *t, size_t i)
{
    return t->dtype == SRT_F64 ? ((const double *)t->data)[i] : (double)((const float *)t->data)[i];
}

/* The worst difference so far of a --compare (|got - want| / max(1, |want|)) and where. */
typedef struct Worst {
    double scaled, abs, got, want;
    size_t count, at;
    const char *name;
} Worst;

/* Adds tensor pair (got, want) to w; -1 if they differ in dtype or size (or are not float). */
static int compare_tensors(const SrtTensor *got, const SrtTensor *want, const char *name, Worst *w)
{
    if ((got->dtype != SRT_F32 && got->dtype != SRT_F64) || got->dtype != want->dtype || got->nbytes != want->nbytes)
        return -1;
    size_t count = got->nbytes / srt_dtype_size(got->dtype);
    for (size_t i = 0; i < count; i++) {
        double a = value_at(got, i), b = value_at(want, i), diff = fabs(a - b);
        double scaled = isnan(diff) ? INFINITY : diff / (fabs(b) > 1 ? fabs(b) : 1);
        if (scaled > w->scaled || !w->name) {
            *w = (Worst){scaled, diff, a, b, w->count, i, name};
        }
    }
    w->count += count;
    return 0;
}

static bool is_safetensors(const char *path)
{
    size_t n = strlen(path);
    return n > 12 && !strcmp(path + n - 12, ".safetensors");
}

/* --compare: two .npy files, or every float tensor of two .safetensors files by name. */
static int compare(const char *got_path, const char *want_path, const char *tol_text)
{
    char err[512];
    char *end;
    double tol = strtod(tol_text, &end);
    if (*end || !(tol >= 0))
        return fail("--compare: TOL must be a number >= 0, got \"%s\"", tol_text);
    Worst w = {0};
    int rc = 0;
    if (is_safetensors(got_path) && is_safetensors(want_path)) {
        SrtTensorFile got = {0}, want = {0};
        if (srt_safetensors_read(got_path, &got, err, sizeof err) ||
            srt_safetensors_read(want_path, &want, err, sizeof err)) {
            srt_tensorfile_free(&got);
            return fail("%s", err);
        }
        for (int i = 0; i < want.count && !rc; i++) {
            const SrtTensor *b = &want.tensors[i], *a = srt_tensorfile_find(&got, b->name);
            if (b->dtype != SRT_F32 && b->dtype != SRT_F64)
                continue;   /* step counters and the like */
            if (!a || compare_tensors(a, b, b->name, &w) != 0)
                rc = fail("--compare: tensor \"%s\" of %s is missing from %s or differs in dtype or shape",
                          b->name, want_path, got_path);
        }
        if (!rc)
            printf("compare: %d tensors, %zu values, max difference %.3g (abs %.3g, %s[%zu]: %.9g vs %.9g)\n",
                   want.count, w.count, w.scaled, w.abs, w.name ? w.name : "-", w.at, w.got, w.want);
        srt_tensorfile_free(&got);
        srt_tensorfile_free(&want);
    } else {
        SrtTensor got = {0}, want = {0};
        if (srt_npy_read(got_path, &got, err, sizeof err) || srt_npy_read(want_path, &want, err, sizeof err)) {
            srt_tensor_free(&got);
            return fail("%s", err);
        }
        if (compare_tensors(&got, &want, "", &w) != 0)
            rc = fail("--compare: %s and %s differ in dtype or size (float32/float64 files expected)", got_path,
                      want_path);
        else
            printf("compare: %zu values, max difference %.3g (abs %.3g, at %zu: %.9g vs %.9g)\n", w.count, w.scaled,
                   w.abs, w.at, w.got, w.want);
        srt_tensor_free(&got);
        srt_tensor_free(&want);
    }
    if (!rc && w.scaled > tol)
        rc = fail("--compare: %s differs from %s by more than %s", got_path, want_path, tol_text);
    return rc;
}

/* Does file tensor f fit descriptor entry t, and what N does it imply (*n: -1 = not yet known)? */
static int fits(const SinterTensorInfo *t, const SrtTensor *f, int64_t *n, const char *path)
{
    if ((int64_t)f->dtype != t->dtype)
        return fail("%s: dtype %s, but tensor \"%s\" is %s", path, srt_dtype_name(f->dtype), t->name,
                    srt_dtype_name((SrtDtype)t->dtype));
    if (f->rank != t->rank)
        return fail("%s: rank does not match tensor \"%s\"", path, t->name);
    for (int64_t k = 0; k < t->rank; k++) {
        int64_t a = t->dims[k].a, b = t->dims[k].b, size = f->dims[k];
        if (a == 0 ? size != b
                   : size < b || (size - b) % a != 0 || (*n >= 0 && (size - b) / a != *n))
            return fail("%s: shape does not match tensor \"%s\" (or the batch size of the others)", path, t->name);
        if (a && *n < 0)
            *n = (size - b) / a;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "--compare"))
        return compare(argv[2], argv[3], argv[4]);
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: run_model LIB.so [--threads T] [--weights FILE] IN.npy... OUT.npy...\n"
                        "       run_model LIB.so [--threads T] [--weights FILE] --grad IN.npy... LOSS.npy GRADS.npy\n"
                        "       run_model --compare GOT WANT TOL   (.npy or .safetensors files)\n");
        return 2;
    }
    const char *lib = argv[1], *weights = NULL;
    int threads = 0, grad = 0, i = 2;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc)
            weights = argv[++i];
        else if (!strcmp(argv[i], "--grad"))
            grad = 1;
        else
            return fail("unknown option \"%s\"", argv[i]);
    }
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return fail("%s", dlerror());
    const SinterModelInfo *info = dlsym(h, "sinter_model_info");
    if (!info || info->version != SINTER_MODEL_INFO_VERSION || info->size != (int64_t)sizeof *info)
        return fail("%s: not a library of this sinter version (sinter_model_info)", lib);
    if (grad && !(info->flags & SINTER_MODEL_TRAINING))
        return fail("%s: --grad: the model has no training section", lib);
    int64_t nin = info->ninputs + (grad ? info->ntraining_inputs : 0), nout = grad ? 2 : info->noutputs;
    if (argc - i != nin + nout) {
        fprintf(stderr, "run_model: %s takes %lld input and %lld output files, got %d files\n", lib, (long long)nin,
                (long long)nout, argc - i);
        return 2;
    }
    void *m = info->create();
    if (!m)
        return fail("%s", info->error(NULL));
    int rc = 1;
    SrtTensor *in = calloc((size_t)nin + 1, sizeof *in);
    SrtTensor *out = calloc((size_t)nout + 1, sizeof *out);
    void **args = calloc((size_t)(nin + nout) + 1, sizeof *args);
    char err[512];
    int64_t n = -1;
    if (!in || !out || !args) {
        fail("out of memory");
        goto done;
    }
    if ((weights && info->load(m, weights)) || (threads > 0 && info->set_num_threads(m, threads))) {
        fail("%s", info->error(m));
        goto done;
    }
    for (int64_t k = 0; k < nin; k++) {
        const SinterTensorInfo *t = k < info->ninputs ? &info->inputs[k] : &info->training_inputs[k - info->ninputs];
        const char *path = argv[i + k];
        if (srt_npy_read(path, &in[k], err, sizeof err)) {
            fail("%s: %s", path, err);
            goto done;
        }
        if (fits(t, &in[k], &n, path))
            goto done;
        args[k] = in[k].data;
    }
    if (n < 0)
        n = 1;
    if (grad) {
        float loss;
        if (info->grad(m, n, args, &loss)) {
            fail("%s", info->error(m));
            goto done;
        }
        size_t count;
        float *g = info->grads(m, &count);
        out[0] = (SrtTensor){"", SRT_F32, 0, {0}, sizeof loss, &loss};
        out[1] = (SrtTensor){"", SRT_F32, 1, {(int64_t)count}, count * sizeof *g, g};
        for (int k = 0; k < 2; k++)
            if (srt_npy_write(argv[i + nin + k], &out[k], err, sizeof err)) {
                fail("%s: %s", argv[i + nin + k], err);
                memset(out, 0, 2 * sizeof *out);
                goto done;
            }
        memset(out, 0, 2 * sizeof *out);   /* not owned */
        printf("run_model: %s: grad at n=%lld: loss %.9g, %zu gradients\n", info->name, (long long)n, loss, count);
        rc = 0;
        goto done;
    }
    for (int64_t k = 0; k < nout; k++) {
        const SinterTensorInfo *t = &info->outputs[k];
        out[k].dtype = (SrtDtype)t->dtype;
        out[k].rank = (int)t->rank;
        for (int64_t d = 0; d < t->rank; d++)
            out[k].dims[d] = t->dims[d].a * n + t->dims[d].b;
        if (srt_tensor_nbytes(out[k].dtype, out[k].rank, out[k].dims, &out[k].nbytes) ||
            !(out[k].data = malloc(out[k].nbytes ? out[k].nbytes : 1))) {
            fail("output \"%s\": too large", t->name);
            goto done;
        }
        args[nin + k] = out[k].data;
    }
    if (info->infer(m, n, args)) {
        fail("%s", info->error(m));
        goto done;
    }
    for (int64_t k = 0; k < nout; k++)
        if (srt_npy_write(argv[i + nin + k], &out[k], err, sizeof err)) {
            fail("%s: %s", argv[i + nin + k], err);
            goto done;
        }
    printf("run_model: %s: infer at n=%lld on %s\n", info->name, (long long)n, info->target);
    rc = 0;
done:
    for (int64_t k = 0; in && k < nin; k++)
        srt_tensor_free(&in[k]);
    for (int64_t k = 0; out && k < nout; k++)
        free(out[k].data);
    free(in);
    free(out);
    free(args);
    info->destroy(m);
    return rc;
}
