/* Data-parallel training across MPI ranks for `sinter train --mpi` (tools/dist.c; MPI is optional at build time). */
#ifndef SINTER_TOOLS_DIST_H
#define SINTER_TOOLS_DIST_H

#include <stdbool.h>
#include <stddef.h>

/* This process's place among the ranks of MPI_COMM_WORLD. */
typedef struct CliDist {
    int rank, size;
} CliDist;

/* Was this sinter built with MPI (CMake found it)? Without it every other call fails. */
bool cli_dist_built(void);
/* MPI_Init (once per process) and the rank/size; 0, or -1 with a message in err. */
int cli_dist_init(CliDist *w, char *err, size_t len);
/* In-place sum across all ranks (MPI_Allreduce); every rank calls it with the same count. 0 or -1. */
int cli_dist_sum_floats(float *buf, size_t count);
int cli_dist_sum_double(double *v);
/* MPI_Finalize (after cli_dist_init). */
void cli_dist_finalize(void);
/* Ends every rank with status (MPI_Abort): a rank that fails alone would leave the others waiting. */
void cli_dist_abort(int status);

#endif
