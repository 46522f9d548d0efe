/* classify_fmnist: classifies Fashion-MNIST test images with libfmnist_mlp.so through the generated fmnist_mlp.h. */
/*
 * A plain C program using a library made by
 *     sinter compile examples/fmnist_mlp.json -o DIR/libfmnist_mlp.so
 * (which also writes DIR/fmnist_mlp.h). Build it with
 *     cc -O2 -I DIR examples/classify_fmnist.c -L DIR -lfmnist_mlp -lz -Wl,-rpath,DIR -o classify_fmnist
 * It reads the gzip IDX files of the test set (Debian's dataset-fashion-mnist), scales the
 * pixels to [0, 1] as the model expects, runs one batch through fmnist_mlp_infer and prints
 * each image's predicted class next to its label. See examples/README.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fmnist_mlp.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist"
#define PIXELS 784   /* 28 x 28 */
#define CLASSES 10
#define TEST_IMAGES 10000

static const char *const class_names[CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

static void usage(FILE *f)
{
    fprintf(f, "usage: classify_fmnist [--count K] [--offset O] [--weights FILE.safetensors]\n"
               "                       [--data DIR] [--threads T]\n"
               "Classifies K (default 16) Fashion-MNIST test images starting at O (default 0) with\n"
               "the compiled fmnist_mlp model. --weights loads trained params (e.g. saved by\n"
               "'sinter train --save'); without it the weights embedded in the library are used.\n"
               "--data is the folder of t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz\n"
               "(default " DEFAULT_DATA ").\n");
}

/* Big-endian 32-bit integer from 4 bytes. */
static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads items [offset, offset + count) of a gzip IDX file of unsigned bytes with the given
 * number of dims; item_size is the product of the dims after the first. Returns a malloc'ed
 * buffer of count * item_size bytes, or NULL after printing why. */
static unsigned char *read_idx(const char *path, uint32_t magic, int ndims, long item_size, long offset,
                               long count)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "classify_fmnist: %s: cannot open: %s\n", path, errno ? strerror(errno) : "gzip error");
        return NULL;
    }
    unsigned char head[16];
    int hlen = 4 + 4 * ndims;
    unsigned char *data = NULL;
    if (gzread(f, head, (unsigned)hlen) != hlen || be32(head) != magic) {
        fprintf(stderr, "classify_fmnist: %s: not an IDX file of %d-dimensional unsigned bytes\n", path, ndims);
        goto out;
    }
    long items = (long)be32(head + 4), size = 1;
    for (int i = 1; i < ndims; i++)
        size *= (long)be32(head + 4 + 4 * i);
    if (size != item_size || offset + count > items) {
        fprintf(stderr, "classify_fmnist: %s: holds %ld items of %ld bytes; asked for items %ld..%ld of %ld "
                "bytes\n", path, items, size, offset, offset + count - 1, item_size);
        goto out;
    }
    if (gzseek(f, (z_off_t)(hlen + offset * item_size), SEEK_SET) < 0) {
        fprintf(stderr, "classify_fmnist: %s: cannot seek to item %ld\n", path, offset);
        goto out;
    }
    data = malloc((size_t)(count * item_size));
    if (!data) {
        fprintf(stderr, "classify_fmnist: out of memory\n");
        goto out;
    }
    if (gzread(f, data, (unsigned)(count * item_size)) != (int)(count * item_size)) {
        fprintf(stderr, "classify_fmnist: %s: truncated\n", path);
        free(data);
        data = NULL;
    }
out:
    gzclose(f);
    return data;
}

/* A whole number in [lo, hi] from a command-line argument, or -1. */
static long parse_count(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : -1;
    if (!s || end == s || *end || errno || v < lo || v > hi)
        return -1;
    return v;
}

int main(int argc, char **argv)
{
    long count = 16, offset = 0, threads = 0;
    const char *weights = NULL, *dir = DEFAULT_DATA;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--count") && (count = parse_count(v, 1, TEST_IMAGES)) > 0) {
            i++;
        } else if (!strcmp(a, "--offset") && (offset = parse_count(v, 0, TEST_IMAGES - 1)) >= 0) {
            i++;
        } else if (!strcmp(a, "--threads") && (threads = parse_count(v, 1, 4096)) > 0) {
            i++;
        } else if (!strcmp(a, "--weights") && v) {
            weights = argv[++i];
        } else if (!strcmp(a, "--data") && v) {
            dir = argv[++i];
        } else {
            fprintf(stderr, "classify_fmnist: bad argument \"%s\"%s\n", a,
                    v || a[0] != '-' ? "" : " (it needs a value)");
            usage(stderr);
            return 2;
        }
    }
    if (offset + count > TEST_IMAGES) {
        fprintf(stderr, "classify_fmnist: --offset %ld --count %ld goes past the %d test images\n", offset, count,
                TEST_IMAGES);
        return 2;
    }

    char images_path[4096], labels_path[4096];
    snprintf(images_path, sizeof images_path, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(labels_path, sizeof labels_path, "%s/t10k-labels-idx1-ubyte.gz", dir);
    unsigned char *pixels = read_idx(images_path, 0x00000803u, 3, PIXELS, offset, count);
    unsigned char *labels = read_idx(labels_path, 0x00000801u, 1, 1, offset, count);
    float *x = malloc((size_t)count * PIXELS * sizeof *x);
    float *logits = malloc((size_t)count * CLASSES * sizeof *logits);
    fmnist_mlp *m = NULL;
    int status = 1;
    if (!pixels || !labels || !x || !logits)
        goto out;
    for (long i = 0; i < count * PIXELS; i++)
        x[i] = (float)pixels[i] / 255.0f;   /* the model's input: pixels scaled to [0, 1] */

    m = fmnist_mlp_create();
    if (!m) {
        fprintf(stderr, "classify_fmnist: %s\n", fmnist_mlp_error(NULL));
        goto out;
    }
    if (weights && fmnist_mlp_load(m, weights) != SINTER_OK) {
        fprintf(stderr, "classify_fmnist: %s\n", fmnist_mlp_error(m));
        goto out;
    }
    if (threads && fmnist_mlp_set_num_threads(m, (int)threads) != SINTER_OK) {
        fprintf(stderr, "classify_fmnist: %s\n", fmnist_mlp_error(m));
        goto out;
    }
    if (fmnist_mlp_infer(m, count, x, logits) != SINTER_OK) {
        fprintf(stderr, "classify_fmnist: %s\n", fmnist_mlp_error(m));
        goto out;
    }

    printf("classify_fmnist: %ld test images from %s (first: %ld)\n", count, dir, offset);
    if (weights)
        printf("weights: %s\n", weights);
    else
        printf("weights: embedded in the library (untrained unless the model was compiled with trained weights:\n"
               "         initial values give about 10%% right; pass --weights FILE.safetensors to use trained ones)\n");
    long right = 0;
    for (long i = 0; i < count; i++) {
        const float *row = logits + i * CLASSES;
        int best = 0;
        for (int c = 1; c < CLASSES; c++)
            if (row[c] > row[best])
                best = c;
        int truth = labels[i] < CLASSES ? labels[i] : 0;
        right += best == truth;
        printf("%6ld  predicted %-11s (%d)  label %-11s (%d)%s\n", offset + i, class_names[best], best,
               class_names[truth], truth, best == truth ? "  ok" : "");
    }
    printf("accuracy: %ld of %ld (%.1f%%)\n", right, count, 100.0 * (double)right / (double)count);
    status = 0;
out:
    fmnist_mlp_destroy(m);
    free(pixels);
    free(labels);
    free(x);
    free(logits);
    return status;
}
