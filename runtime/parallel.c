/* srt_parallel_for: OpenMP-based parallel loop used by generated kernels (1 thread: no OpenMP). */
#include "runtime/sinter_parallel.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Thread count of the calling thread's current inference call; >= 1. */
static _Thread_local int current_threads = 1;

void srt_set_current_threads(int threads)
{
    current_threads = threads < 1 ? 1 : threads;
}

int srt_current_threads(void)
{
    return current_threads;
}

/* Chunk ith of nth: [*b, *e), boundaries rounded to multiples of grain, empty if nothing left. */
static void chunk_range(int64_t total, int64_t grain, int64_t ith, int64_t nth, int64_t *b, int64_t *e)
{
    int64_t blocks = (total + grain - 1) / grain;
    int64_t per = blocks / nth, extra = blocks % nth;
    int64_t first = ith * per + (ith < extra ? ith : extra);
    int64_t count = per + (ith < extra ? 1 : 0);
    int64_t lo = first * grain, hi = (first + count) * grain;
    *b = lo < total ? lo : total;
    *e = hi < total ? hi : total;
}

void srt_parallel_for(SrtParallelBody body, void *closure, int64_t total, int64_t grain)
{
    if (total <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t blocks = (total + grain - 1) / grain;
    int64_t t = current_threads;
    if (t > blocks)
        t = blocks;
#ifdef _OPENMP
    if (t > 1) {
        int nth = (int)t;
#pragma omp parallel num_threads(nth)
        {
            int64_t ith = omp_get_thread_num(), n = omp_get_num_threads();
            int64_t b, e;
            chunk_range(total, grain, ith, n, &b, &e);
            if (b < e)
                body(closure, b, e);
        }
        return;
    }
#endif
    body(closure, 0, total);
}
