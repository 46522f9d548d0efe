/* Datasets for `sinter train`: Fashion-MNIST IDX files (gzip or plain) and .npy files, bound to a model's tensors. */
#ifndef SINTER_CLI_DATA_H
#define SINTER_CLI_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"
#include "runtime/sinter_model.h"
#include "runtime/sinter_rt.h"

#define CLI_DATA_MAX_FILES 16

/* Where a dataset comes from, as written after --data / --eval-data:
 *   fmnist                      the IDX directory $SINTER_FMNIST_DIR, else CLI_DATA_FMNIST_DIR
 *   DIR                         an IDX directory: train-images-idx3-ubyte[.gz] and
 *                               train-labels-idx1-ubyte[.gz] (t10k-... for the test split)
 *   FILE,FILE,...               .npy or IDX files bound by position: the graph inputs in
 *                               declaration order, then the training inputs (labels)
 *   NAME=FILE,NAME=FILE,...     bound by name to graph inputs and training inputs
 * A file is .npy or IDX by its first bytes, gzip-compressed or not. */
#define CLI_DATA_FMNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct CliDataSpec {
    char *dir;                            /* an IDX directory, or NULL (then files) */
    int nfiles;
    char *names[CLI_DATA_MAX_FILES];      /* NAME= of each file; all NULL when bound by position */
    char *files[CLI_DATA_MAX_FILES];
} CliDataSpec;

/* The two halves of an IDX directory. */
typedef enum CliDataSplit {
    CLI_DATA_TRAIN,   /* train-images-idx3-ubyte, train-labels-idx1-ubyte */
    CLI_DATA_TEST     /* t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte */
} CliDataSplit;

/* One tensor of a dataset; dims[0] counts the examples. */
typedef struct CliColumn {
    char *name;        /* NAME= from the spec, or NULL: bound by position */
    char *file;        /* the file it was read from (for messages) */
    bool from_idx;     /* read from an IDX file (sinter chose its dtype) */
    SrtTensor t;       /* owned. IDX images (unsigned bytes, rank >= 2): float32 scaled to
                          [0, 1] with the file's dims; IDX labels (rank 1): int64 */
    size_t row_bytes;  /* bytes of one example: nbytes / dims[0] (0 if dims[0] is 0) */
} CliColumn;

typedef struct CliDataset {
    int ncols;
    CliColumn cols[CLI_DATA_MAX_FILES];
    int64_t count;     /* examples: dims[0] of every column */
} CliDataset;

/* Parses a --data spec (syntax only; a word without ',' or '=' naming a directory is an IDX
 * directory, "fmnist" the default one). Returns 0, or -1 with a usage message in err. */
int cli_data_parse_spec(const char *text, CliDataSpec *spec, char *err, size_t errlen);
void cli_data_spec_free(CliDataSpec *spec);
/* The IDX files an IDX directory spec reads for split (images, labels), the ".gz" name when
 * neither exists. Malloc'ed into paths[0..2). Returns 0, or -1 when out of memory. */
int cli_data_idx_paths(const char *dir, CliDataSplit split, char **paths);
/* True if both files of split exist in dir (as .gz or plain). */
bool cli_data_idx_present(const char *dir, CliDataSplit split);

/* Reads the files of spec (split picks the files of an IDX directory). limit > 0 keeps only
 * the first limit examples (and reads no further into IDX files). Every column must hold the
 * same number of examples. Returns 0, or -1 with one diagnostic "FILE: message". */
int cli_data_load(const CliDataSpec *spec, CliDataSplit split, int64_t limit, CliDataset *ds, IrDiag *d);
void cli_data_free(CliDataset *ds);

/* Matches the dataset's columns with the model's tensors ts[0..n): the ninputs graph inputs, then
 * the training inputs (labels). By NAME= where the spec names the files, else by position. Each
 * tensor must be shaped [N, constant dims...]; a column fits when its dtype is the declared one
 * (IDX labels are converted to the declared integer dtype; nothing else is converted) and one of
 * its examples has as many elements as one of the tensor's (so [K,28,28] images feed [N,784] or
 * [N,1,28,28]). col_of[i] receives the column of ts[i]. what ("--data" or "--eval-data") and
 * model name the messages. Returns 0, or -1 with one diagnostic. */
int cli_data_bind(CliDataset *ds, const SinterTensorInfo *const *ts, int n, int ninputs, const char *model,
                  const char *what, int *col_of, IrDiag *d);

#endif
