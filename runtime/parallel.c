/* Threads of generated code: one OpenMP region per entry-point call (a team), and the
 * parallel-for its kernels call; srt_default_threads: the thread count of a new context. */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_COUNT_S */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "runtime/sinter_parallel.h"

/* A thread count from an environment variable: the leading decimal number (OMP_NUM_THREADS may
 * be a list of counts per nesting level, "4,2": the first applies here) if it is 1..max and
 * ends the string or is followed by a comma; else 0. */
static int env_threads(const char *name, bool list)
{
    const char *s = getenv(name);
    if (!s)
        return 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (errno || v < 1 || v > SRT_MAX_THREADS || !(*end == '\0' || (list && *end == ',')))
        return 0;
    return (int)v;
}

/* CPUs this process may run on (its affinity mask: taskset, cgroups cpusets, container limits);
 * 0 if unknown. */
static int affinity_cpus(void)
{
#ifdef __linux__
    /* the kernel refuses masks smaller than its own: grow until it fits */
    for (int ncpu = 1024; ncpu <= (1 << 20); ncpu *= 4) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        if (!set)
            return 0;
        size_t size = CPU_ALLOC_SIZE((size_t)ncpu);
        CPU_ZERO_S(size, set);
        int rc = sched_getaffinity(0, size, set);
        int count = rc == 0 ? CPU_COUNT_S(size, set) : 0;
        int err = errno;
        CPU_FREE(set);
        if (rc == 0)
            return count;
        if (err != EINVAL)
            return 0;
    }
#endif
    return 0;
}

int srt_default_threads(void)
{
    int t = env_threads("SINTER_NUM_THREADS", false);
    if (t == 0)
        t = env_threads("OMP_NUM_THREADS", true);
    if (t == 0)
        t = affinity_cpus();
    if (t == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        t = c >= 1 ? (c > SRT_MAX_THREADS ? SRT_MAX_THREADS : (int)c) : 1;
    }
    return t > SRT_MAX_THREADS ? SRT_MAX_THREADS : t;
}

/* Set while a thread runs the body of a loop of its own region: loops and teams it starts
 * then run on it alone (the batch chunks of an entry call run their kernels this way). */
static _Thread_local int in_loop_body;

/* Thread count of the calling thread's current call; >= 1. */
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
 * taken by the others instead of holding up the loop with its fixed share. */
#define CHUNKS_PER_THREAD 4

/* Below this much work (FLOPs or elements moved, the compiler's estimate) a call runs on the
 * calling thread alone: starting a team costs more than a second thread saves. */
#define TEAM_MIN_WORK 1000000

/* ---- the team --------------------------------------------------------------------------------
 * srt_team_run opens one OpenMP region. Thread 0 (the caller) runs the program: the kernels in
 * order, serial code between them included. The other threads wait for loops: when a kernel
 * calls srt_parallel_for, thread 0 publishes the loop in one of two slots (loop s in slot
 * s % 2), claims chunks with the workers from the slot's counter, and waits until every chunk
 * has finished. A worker joins loop s by registering in its slot and then seeing that s is
 * still the newest loop; thread 0 reuses a slot (for loop s + 2) only once no worker is
 * registered in it. So a worker that the OS has put to sleep never holds up a loop it had not
 * joined: on waking it finds the newest one. Waiting spins briefly, then yields the CPU.
 * Outside a team srt_parallel_for opens a region of its own. */

typedef struct Loop {
    SrtParallelBody body;
    void *closure;
    int64_t total, grain, per, chunks;
    int64_t next;                   /* next chunk to claim (atomic) */
    int64_t finished;               /* chunks done (atomic) */
    int users;                      /* workers registered in this slot (atomic) */
} Loop;

typedef struct Team {
    int nth;
    int64_t seq;                    /* loops published (atomic); loop s is in slot[s % 2] */
    int quit;                       /* set by thread 0 when the program is done (atomic) */
    Loop slot[2];
} Team;

static _Thread_local Team *current_team;

static void relax(unsigned *spins)
{
    if (++*spins < 4000) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
        return;
    }
    *spins = 0;
    sched_yield();
}

static void run_chunks(Loop *l)
{
    for (;;) {
        int64_t c = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
        if (c >= l->chunks)
            break;
        int64_t b = c * l->per * l->grain, e = (c + 1) * l->per * l->grain;
        l->body(l->closure, b, e < l->total ? e : l->total);
        __atomic_fetch_add(&l->finished, 1, __ATOMIC_RELEASE);
    }
}

static void worker(Team *t)
{
    int64_t mine = 0;
    unsigned spins = 0;
    for (;;) {
        int64_t s = __atomic_load_n(&t->seq, __ATOMIC_ACQUIRE);
        if (s == mine) {
            if (__atomic_load_n(&t->quit, __ATOMIC_ACQUIRE))
                return;
            relax(&spins);
            continue;
        }
        spins = 0;
        Loop *l = &t->slot[s % 2];
        __atomic_fetch_add(&l->users, 1, __ATOMIC_SEQ_CST);
        /* still the newest loop: its slot is not rewritten while we are registered */
        if (__atomic_load_n(&t->seq, __ATOMIC_SEQ_CST) == s) {
            run_chunks(l);
            mine = s;
        }
        __atomic_fetch_sub(&l->users, 1, __ATOMIC_RELEASE);
    }
}

void srt_team_run(void (*program)(void *ctx), void *ctx, int64_t work)
{
    int nth = current_threads;
#ifdef _OPENMP
    if (nth > 1 && work >= TEAM_MIN_WORK && !current_team && !in_loop_body) {
        Team t;
        memset(&t, 0, sizeof t);
        t.nth = nth;
#pragma omp parallel num_threads(nth)
        {
            if (omp_get_thread_num() == 0) {
                current_team = &t;
                program(ctx);
                current_team = NULL;
                __atomic_store_n(&t.quit, 1, __ATOMIC_RELEASE);
            } else {
                worker(&t);
            }
        }
        return;
    }
#endif
    /* one thread or little work: the program alone (its loops may still open regions of
     * their own when they are big) */
    program(ctx);
}

void srt_parallel_for(SrtParallelBody body, void *closure, int64_t total, int64_t grain)
{
    if (total <= 0)
        return;
    if (grain < 1)
        grain = 1;
    int64_t blocks = (total + grain - 1) / grain;
    int64_t t = in_loop_body ? 1 : current_threads;
    Team *team = current_team;
    if (team)
        t = team->nth;
    if (t > blocks)
        t = blocks;
    if (t <= 1) {
        body(closure, 0, total);
        return;
    }
    /* chunks of whole grains, claimed in order from a shared counter; chunk c covers blocks
     * [c*per, (c+1)*per) */
    int64_t chunks = t * CHUNKS_PER_THREAD < blocks ? t * CHUNKS_PER_THREAD : blocks;
    int64_t per = (blocks + chunks - 1) / chunks;
    chunks = (blocks + per - 1) / per;
    if (team) {
        /* the slot of loop seq + 1 held loop seq - 1: wait for its last registered worker */
        int64_t s = team->seq + 1;
        Loop *l = &team->slot[s % 2];
        unsigned spins = 0;
        while (__atomic_load_n(&l->users, __ATOMIC_SEQ_CST) != 0)
            relax(&spins);
        l->body = body;
        l->closure = closure;
        l->total = total;
        l->grain = grain;
        l->per = per;
        l->chunks = chunks;
        l->next = 0;
        l->finished = 0;
        __atomic_store_n(&team->seq, s, __ATOMIC_SEQ_CST);
        run_chunks(l);
        spins = 0;
        while (__atomic_load_n(&l->finished, __ATOMIC_ACQUIRE) != chunks)
            relax(&spins);
        return;
    }
#ifdef _OPENMP
    Loop l = {body, closure, total, grain, per, chunks, 0, 0, 0};
    int nth = (int)t;
#pragma omp parallel num_threads(nth)
    {
        in_loop_body++;
        run_chunks(&l);
        in_loop_body--;
    }
#else
    body(closure, 0, total);
#endif
}
