/* mpi_train: data-parallel training of the compiled fmnist_mlp across MPI ranks through its grad/grads/apply entry points. */
/*
 * usage: mpirun -np R mpi_train IMAGES.npy LABELS.npy --batch B --steps K [--threads T] [--save OUT.safetensors]
 *
 * IMAGES.npy: float32 [M, 784], LABELS.npy: int64 [M] (idx2npy makes both from Fashion-MNIST).
 * Step s trains on the global batch of examples [s*B, s*B + B) (wrapping around M, no
 * shuffling). Rank r of R takes its contiguous share of it (B / R examples, one more for the
 * first B % R ranks), fmnist_mlp_grad computes the gradients of its share's mean loss, each rank
 * scales them by share / B, MPI_Allreduce sums them into the gradient of the global batch's
 * mean loss, and fmnist_mlp_apply makes the same update on every rank, so the params stay
 * identical everywhere. Rank 0 prints the loss and saves. With R = 1 this is plain training
 * with batch B, and R ranks give the same params up to rounding (tests/cli/mpi.sh).
 *
 * Build (after `sinter compile examples/fmnist_mlp.json -o DIR/libfmnist_mlp.so`):
 *     mpicc -O2 -I DIR -I SRC examples/mpi_train.c -L DIR -lfmnist_mlp BUILD/libsinter_rt.a \
 *         -fopenmp -lm -Wl,-rpath,DIR -o mpi_train
 * (the runtime archive only reads the .npy files).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the runtime's header first: it defines SINTER_STATUS_DEFINED, so the generated one skips its
 * copy of the status codes */
#include "runtime/sinter_model.h"
#include "fmnist_mlp.h"

#define PIXELS 784

static int rank;

/* Prints on rank 0 only; errors are printed by the rank that has them. */
#define say(...) (rank == 0 ? printf(__VA_ARGS__) : 0)

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "mpi_train: rank %d: %s: %s\n", rank, what, msg);
    MPI_Abort(MPI_COMM_WORLD, 1);   /* the other ranks would wait in MPI_Allreduce */
    return 1;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *images = NULL, *labels = NULL, *save = NULL;
    long batch = 0, steps = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atol(argv[++i]);
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
            steps = atol(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atol(argv[++i]);
        else if (!strcmp(argv[i], "--save") && i + 1 < argc)
            save = argv[++i];
        else if (!images && argv[i][0] != '-')
            images = argv[i];
        else if (!labels && argv[i][0] != '-')
            labels = argv[i];
        else
            return die("bad argument", argv[i]);
    }
    if (!images || !labels || batch < 1 || steps < 1)
        return die("usage", "mpi_train IMAGES.npy LABELS.npy --batch B --steps K [--threads T] [--save FILE]");

    /* every rank reads the whole data set; each uses its own part of every batch */
    SrtTensor x = {0}, y = {0};
    char err[512];
    if (srt_npy_read(images, &x, err, sizeof err) != 0)
        return die(images, err);
    if (srt_npy_read(labels, &y, err, sizeof err) != 0)
        return die(labels, err);
    if (x.dtype != SRT_F32 || x.rank != 2 || x.dims[1] != PIXELS || y.dtype != SRT_I64 || y.rank != 1 ||
        y.dims[0] != x.dims[0] || x.dims[0] < 1)
        return die(images, "expected float32 images [M, 784] and int64 labels [M]");
    long m_count = (long)x.dims[0];

    fmnist_mlp *m = fmnist_mlp_create();
    if (!m)
        return die("fmnist_mlp_create", fmnist_mlp_error(NULL));
    if (threads > 0 && fmnist_mlp_set_num_threads(m, (int)threads) != SINTER_OK)
        return die("fmnist_mlp_set_num_threads", fmnist_mlp_error(m));
    long share = batch / size, extra = batch % size;
    long mine = share + (rank < extra), start = rank * share + (rank < extra ? rank : extra);
    float *bx = malloc((size_t)(mine ? mine : 1) * PIXELS * sizeof *bx);
    int64_t *by = malloc((size_t)(mine ? mine : 1) * sizeof *by);
    if (!bx || !by)
        return die("malloc", "out of memory");
    size_t count;
    float *g = fmnist_mlp_grads(m, &count);
    say("mpi_train: %d rank%s, global batch %ld (this rank: %ld from offset %ld), %ld steps, %zu gradients\n", size,
        size == 1 ? "" : "s", batch, mine, start, steps, count);

    for (long s = 0; s < steps; s++) {
        for (long r = 0; r < mine; r++) {
            long e = (s * batch + start + r) % m_count;
            memcpy(bx + r * PIXELS, (const float *)x.data + e * PIXELS, PIXELS * sizeof *bx);
            by[r] = ((const int64_t *)y.data)[e];
        }
        float loss = 0;
        if (mine > 0) {
            if (fmnist_mlp_grad(m, mine, bx, by, &loss) != SINTER_OK)
                return die("fmnist_mlp_grad", fmnist_mlp_error(m));
        } else {
            memset(g, 0, count * sizeof *g);
        }
        /* the global batch's mean loss: shares weighted by their size */
        float scale = (float)mine / (float)batch;
        for (size_t i = 0; i < count; i++)
            g[i] *= scale;
        double weighted = (double)loss * mine / batch;
        MPI_Allreduce(MPI_IN_PLACE, g, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        MPI_Allreduce(MPI_IN_PLACE, &weighted, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (fmnist_mlp_apply(m) != SINTER_OK)
            return die("fmnist_mlp_apply", fmnist_mlp_error(m));
        if ((s + 1) % 20 == 0 || s + 1 == steps)
            say("step %ld: loss %.4f\n", s + 1, weighted);
    }
    if (save && rank == 0 && fmnist_mlp_save(m, save) != SINTER_OK)
        return die("fmnist_mlp_save", fmnist_mlp_error(m));
    if (save)
        say("saved %s (step %lld)\n", save, (long long)fmnist_mlp_get_step(m));
    fmnist_mlp_destroy(m);
    free(bx);
    free(by);
    srt_tensor_free(&x);
    srt_tensor_free(&y);
    MPI_Finalize();
    return 0;
}
