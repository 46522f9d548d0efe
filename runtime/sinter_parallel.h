/* Parallel-for of the sinter runtime: splits a loop across the calling context's thread count. */
#ifndef SINTER_PARALLEL_H
#define SINTER_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

/* Largest thread count a context accepts. */
#define SRT_MAX_THREADS 4096

/* Loop body called on the half-open range [begin, end) of a parallel loop; closure is the
 * pointer given to srt_parallel_for (generated code passes a struct of the loop's live values). */
typedef void (*SrtParallelBody)(void *closure, int64_t begin, int64_t end);

/* Runs body over [0, total) on the CURRENT thread count (srt_set_current_threads): inside
 * srt_team_run on its team, else in an OpenMP region of its own. The range is cut into a few chunks per thread (boundaries at multiples of grain, so a
 * body sees whole blocks of grain iterations) that the threads claim in order. Each index is
 * visited exactly once; which thread runs a chunk does not change results as long as chunks
 * are independent. With 1 thread, or total <= grain, it calls body(closure, 0, total)
 * directly: no OpenMP region, no start-up cost. total <= 0 runs nothing; grain <= 0 counts
 * as 1. Called from generated kernels. */
void srt_parallel_for(SrtParallelBody body, void *closure, int64_t total, int64_t grain);

/* Runs program(ctx), the kernels of one entry-point call, with a team of the CURRENT thread
 * count in one OpenMP region: the calling thread runs the program, the others wait for the
 * loops its kernels hand to srt_parallel_for. work is the compiler's estimate of the call's
 * work (FLOPs or elements); below a threshold, and with 1 thread, program runs alone on the
 * calling thread. Called from generated entry points. */
void srt_team_run(void (*program)(void *ctx), void *ctx, int64_t work);

/* Sets the thread count used by srt_parallel_for in the calling thread (thread-local; values
 * < 1 count as 1). Entry points call it with their context's thread count before any kernel. */
void srt_set_current_threads(int threads);

/* The calling thread's current thread count (1 until srt_set_current_threads is called). */
int srt_current_threads(void);

/* The thread count of a new context: SINTER_NUM_THREADS if it holds a count 1..SRT_MAX_THREADS;
 * else OMP_NUM_THREADS (its first entry, as OpenMP reads "4,2"); else the number of CPUs in the
 * process's affinity mask (sched_getaffinity: 1 under `taskset -c 0`, the cpuset of a
 * container); else the online processors. Invalid values of the variables are ignored. */
int srt_default_threads(void);

#endif
