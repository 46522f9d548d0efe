/* bench/fma_peak.c: the single-core float32 FMA peak, for bench/compare.py's sgemm table.
 * Runs 12 independent chains of vector FMAs (enough to cover the FMA latency on current x86
 * cores) in bursts of 120,000 FMAs for about 0.3 s and prints the fastest burst's rate as
 * {"gflops": G, "kind": "..."} (2 FLOP per lane per FMA): on a shared machine a burst that was
 * not preempted shows what the core does, as a GEMM call's median does.
 * Build with -march=native: AVX-512 (16 lanes) when the compiler targets it, else AVX2+FMA (8).
 * Not part of the build or of ctest. */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 V;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
#define KIND "AVX-512 FMA, 16 lanes"
#elif defined(__FMA__)
typedef __m256 V;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
#define KIND "AVX2 FMA, 8 lanes"
#else
#error "needs FMA (build with -march=native on an x86-64 CPU with FMA)"
#endif

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void)
{
    V a = SET1(0.999999f), b = SET1(1e-7f);
    V c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4), c5 = SET1(5);
    V c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9), c10 = SET1(10), c11 = SET1(11);
    double t0 = now(), t = t0, best = 1e30;
    do {
        double b0 = now();
        for (int i = 0; i < 10000; i++) {
            c0 = FMA(c0, a, b); c1 = FMA(c1, a, b); c2 = FMA(c2, a, b); c3 = FMA(c3, a, b);
            c4 = FMA(c4, a, b); c5 = FMA(c5, a, b); c6 = FMA(c6, a, b); c7 = FMA(c7, a, b);
            c8 = FMA(c8, a, b); c9 = FMA(c9, a, b); c10 = FMA(c10, a, b); c11 = FMA(c11, a, b);
        }
        t = now();
        if (t - b0 < best)
            best = t - b0;
    } while (t - t0 < 0.3);
    V s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));
    s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));
    float out[LANES];
    STORE(out, s);
    double gflops = 10000.0 * 12 * LANES * 2 / best * 1e-9;
    printf("{\"gflops\": %.4g, \"kind\": \"%s\", \"check\": %g}\n", gflops, KIND, (double)out[0]);
    return 0;
}
