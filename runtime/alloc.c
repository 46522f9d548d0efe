/* The one allocation hook of sinter: every allocation of the compiler and of the runtime goes
 * through srt_malloc & co. With SINTER_FAULT_INJECTION (a CMake option for tests) the k-th
 * allocation fails when the environment says SINTER_FAIL_ALLOC=k (the sinter command's
 * allocations) or SINTER_FAIL_ALLOC_LIB=k (a generated library's), and SINTER_ALLOC_REPORT=FILE
 * appends the number of allocations made to FILE at exit (tests/cli/fault.sh sweeps k). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/sinter_rt.h"

/* Set once by the program (the sinter command) before any work; never by library code. */
static void (*oom_handler)(size_t bytes);

void srt_set_oom_handler(void (*handler)(size_t bytes))
{
    oom_handler = handler;
}

/* ---- temporary files the out-of-memory handler removes ------------------------------ */

#define SRT_MAX_TEMPS 8
/* The registered paths (the registrant owns the strings until it removes them); a folder is
 * removed after the files. ORDER: tmp_is_dir parallels tmp_paths. */
static const char *tmp_paths[SRT_MAX_TEMPS];
static bool tmp_is_dir[SRT_MAX_TEMPS];

void srt_temp_add(const char *path, bool is_dir)
{
    for (int i = 0; i < SRT_MAX_TEMPS; i++)
        if (!tmp_paths[i]) {
            tmp_paths[i] = path;
            tmp_is_dir[i] = is_dir;
            return;
        }
}

void srt_temp_remove(const char *path)
{
    for (int i = 0; i < SRT_MAX_TEMPS; i++)
        if (tmp_paths[i] == path)
            tmp_paths[i] = NULL;
}

void srt_temp_cleanup(void)
{
    for (int dir = 0; dir < 2; dir++)
        for (int i = 0; i < SRT_MAX_TEMPS; i++)
            if (tmp_paths[i] && tmp_is_dir[i] == (dir == 1)) {
                if (dir)
                    rmdir(tmp_paths[i]);
                else
                    unlink(tmp_paths[i]);
                tmp_paths[i] = NULL;
            }
}

/* ---- fault injection ----------------------------------------------------------------- */

#ifdef SINTER_FAULT_INJECTION
/* Each copy of this file counts on its own: the sinter command's (which has an out-of-memory
 * handler) obeys SINTER_FAIL_ALLOC, a generated library's (without one) SINTER_FAIL_ALLOC_LIB. */
static atomic_llong alloc_count;
static long long fail_at = -1;   /* -1: not read yet, 0: never */
static const char *report_path;
static bool report_lib;

static void report(void)
{
    FILE *f = fopen(report_path, "a");
    if (f) {
        fprintf(f, "%s %lld\n", report_lib ? "library" : "command", (long long)atomic_load(&alloc_count));
        fclose(f);
    }
}

/* Is this the allocation to fail? */
static bool inject(void)
{
    if (fail_at < 0) {
        report_lib = oom_handler == NULL;
        const char *k = getenv(report_lib ? "SINTER_FAIL_ALLOC_LIB" : "SINTER_FAIL_ALLOC");
        fail_at = k && *k ? atoll(k) : 0;
        if (fail_at < 0)
            fail_at = 0;
        report_path = getenv("SINTER_ALLOC_REPORT");
        if (report_path && *report_path)
            atexit(report);
    }
    long long n = atomic_fetch_add(&alloc_count, 1) + 1;
    return fail_at > 0 && n == fail_at;
}
#else
static inline bool inject(void)
{
    return false;
}
#endif

/* NULL after telling the handler, if there is one (the sinter command's does not return). */
static void *out_of_memory(size_t bytes)
{
    if (oom_handler)
        oom_handler(bytes);
    return NULL;
}

void *srt_malloc(size_t n)
{
    void *p = inject() ? NULL : malloc(n ? n : 1);
    return p ? p : out_of_memory(n);
}

void *srt_calloc(size_t count, size_t size)
{
    void *p = inject() ? NULL : calloc(count ? count : 1, size ? size : 1);
    return p ? p : out_of_memory(count * size);
}

void *srt_realloc(void *p, size_t n)
{
    void *q = inject() ? NULL : realloc(p, n ? n : 1);
    return q ? q : out_of_memory(n);
}

void *srt_aligned_alloc(size_t align, size_t n)
{
    void *p = inject() ? NULL : aligned_alloc(align, n);
    return p ? p : out_of_memory(n);
}

char *srt_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = srt_malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *srt_strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = srt_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
