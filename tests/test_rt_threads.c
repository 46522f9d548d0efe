/* Tests of the runtime's default thread count (srt_default_threads): SINTER_NUM_THREADS, then
 * OMP_NUM_THREADS, then the process's CPU affinity. Each test runs in its own process (Check
 * forks), so the environment and affinity changes stay inside it. */
#define _GNU_SOURCE   /* sched_getaffinity, CPU_* */
#include <check.h>
#include <sched.h>
#include <stdlib.h>

#include "runtime/sinter_parallel.h"

static void clear_env(void)
{
    unsetenv("SINTER_NUM_THREADS");
    unsetenv("OMP_NUM_THREADS");
}

/* CPUs in this process's affinity mask (the machine has fewer than 1024 here). */
static int mask_cpus(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
    return CPU_COUNT(&set);
}

/* Restricts the process to the first CPU of its mask. */
static void pin_to_one_cpu(void)
{
    cpu_set_t set, one;
    CPU_ZERO(&set);
    CPU_ZERO(&one);
    ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
        cpu++;
    ck_assert_int_lt(cpu, CPU_SETSIZE);
    CPU_SET(cpu, &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
}

START_TEST(default_is_the_affinity_mask)
{
    clear_env();
    ck_assert_int_eq(srt_default_threads(), mask_cpus());
}
END_TEST

START_TEST(affinity_of_one_cpu_gives_one_thread)
{
    clear_env();
    pin_to_one_cpu();
    ck_assert_int_eq(mask_cpus(), 1);
    ck_assert_int_eq(srt_default_threads(), 1);
    /* the variables still decide over the mask (the count is not capped by it) */
    setenv("OMP_NUM_THREADS", "3", 1);
    ck_assert_int_eq(srt_default_threads(), 3);
    setenv("SINTER_NUM_THREADS", "5", 1);
    ck_assert_int_eq(srt_default_threads(), 5);
}
END_TEST

START_TEST(omp_num_threads)
{
    clear_env();
    setenv("OMP_NUM_THREADS", "1", 1);
    ck_assert_int_eq(srt_default_threads(), 1);
    setenv("OMP_NUM_THREADS", "7", 1);
    ck_assert_int_eq(srt_default_threads(), 7);
    /* a list of counts per nesting level: the first one applies */
    setenv("OMP_NUM_THREADS", "3,2,1", 1);
    ck_assert_int_eq(srt_default_threads(), 3);
    setenv("OMP_NUM_THREADS", " 2 ", 1);
    ck_assert_int_eq(srt_default_threads(), 2);
}
END_TEST

START_TEST(sinter_num_threads_first)
{
    clear_env();
    setenv("OMP_NUM_THREADS", "1", 1);
    setenv("SINTER_NUM_THREADS", "6", 1);
    ck_assert_int_eq(srt_default_threads(), 6);
    setenv("SINTER_NUM_THREADS", "4096", 1);
    ck_assert_int_eq(srt_default_threads(), 4096);
    /* SINTER_NUM_THREADS is one count, not a list: "2,1" is ignored, OMP_NUM_THREADS applies */
    setenv("SINTER_NUM_THREADS", "2,1", 1);
    ck_assert_int_eq(srt_default_threads(), 1);
}
END_TEST

START_TEST(invalid_values_are_ignored)
{
    static const char *const bad[] = {"", "0", "-2", "+2", "abc", "2x", "4097", "99999999999999999999", ",2", "1.5",
                                      NULL};
    int mask = mask_cpus();
    for (int i = 0; bad[i]; i++) {
        clear_env();
        setenv("SINTER_NUM_THREADS", bad[i], 1);
        ck_assert_msg(srt_default_threads() == mask, "SINTER_NUM_THREADS=\"%s\" was not ignored", bad[i]);
        setenv("OMP_NUM_THREADS", bad[i], 1);
        ck_assert_msg(srt_default_threads() == mask, "OMP_NUM_THREADS=\"%s\" was not ignored", bad[i]);
        setenv("OMP_NUM_THREADS", "3", 1);
        ck_assert_msg(srt_default_threads() == 3, "SINTER_NUM_THREADS=\"%s\" hid OMP_NUM_THREADS", bad[i]);
    }
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("rt_threads");
    TCase *tc = tcase_create("default");
    tcase_add_test(tc, default_is_the_affinity_mask);
    tcase_add_test(tc, affinity_of_one_cpu_gives_one_thread);
    tcase_add_test(tc, omp_num_threads);
    tcase_add_test(tc, sinter_num_threads_first);
    tcase_add_test(tc, invalid_values_are_ignored);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(threads_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
