/* Data-parallel training across MPI ranks for `sinter train --mpi`: a thin layer over MPI, or refusals without it. */
#include <limits.h>
#include <stdio.h>

#include "tools/dist.h"

#ifdef SINTER_HAVE_MPI
#include <mpi.h>

bool cli_dist_built(void)
{
    return true;
}

int cli_dist_init(CliDist *w, char *err, size_t len)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        snprintf(err, len, "MPI_Init failed");
        return -1;
    }
    if (MPI_Comm_rank(MPI_COMM_WORLD, &w->rank) != MPI_SUCCESS ||
        MPI_Comm_size(MPI_COMM_WORLD, &w->size) != MPI_SUCCESS) {
        snprintf(err, len, "cannot tell this process's MPI rank");
        return -1;
    }
    return 0;
}

int cli_dist_sum_floats(float *buf, size_t count)
{
    /* MPI counts are int: large buffers go in pieces */
    for (size_t done = 0; done < count;) {
        size_t n = count - done > (size_t)INT_MAX ? (size_t)INT_MAX : count - done;
        if (MPI_Allreduce(MPI_IN_PLACE, buf + done, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return -1;
        done += n;
    }
    return 0;
}

int cli_dist_sum_double(double *v)
{
    return MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

void cli_dist_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

void cli_dist_abort(int status)
{
    fflush(stdout);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, status);
}

#else

bool cli_dist_built(void)
{
    return false;
}

int cli_dist_init(CliDist *w, char *err, size_t len)
{
    w->rank = 0;
    w->size = 1;
    snprintf(err, len, "this sinter was built without MPI (Debian: install libopenmpi-dev and build it again)");
    return -1;
}

int cli_dist_sum_floats(float *buf, size_t count)
{
    return -1;
}

int cli_dist_sum_double(double *v)
{
    return -1;
}

void cli_dist_finalize(void)
{
}

void cli_dist_abort(int status)
{
}

#endif
