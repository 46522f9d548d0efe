/* srt_parallel_for: OpenMP-based parallel loop used by generated kernels (1 thread: no OpenMP). */
#include "runtime/sinter_parallel.h"

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

/* Chunks per thread: a thread that starts late (the machine is busy) finds the chunks already
 * taken by the others instead of holding up the region with its fixed share. */
#define CHUNKS_PER_THREAD 4

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
        /* chunks of whole grains, claimed in order from a shared counter; chunk c covers
         * blocks [c*per, (c+1)*per) */
        int64_t chunks = t * CHUNKS_PER_THREAD < blocks ? t * CHUNKS_PER_THREAD : blocks;
        int64_t per = (blocks + chunks - 1) / chunks;
        chunks = (blocks + per - 1) / per;
        int64_t next = 0;
        int nth = (int)t;
#pragma omp parallel num_threads(nth)
        {
            for (;;) {
                int64_t c = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
                if (c >= chunks)
                    break;
                int64_t b = c * per * grain, e = (c + 1) * per * grain;
                body(closure, b, e < total ? e : total);
            }
        }
        return;
    }
#endif
    body(closure, 0, total);
}
