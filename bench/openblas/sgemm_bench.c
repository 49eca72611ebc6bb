/* OpenBLAS sgemm reference harness for SharpTransformer's GEMM (a measuring tool only; never built by CI or tests).
 *
 *   ./sgemm_bench M K N [t|n|AB] [threads] [min_seconds]   AB: two letters for A and B, e.g. tn = A stored KxM
 *   ./sgemm_bench all [threads]          every issue shape, both B layouts
 *
 * Row-major C(MxN) = A(MxK) * op(B); 't' means B is stored N x K (the Linear weight layout), 'n' means K x N.
 * Each sample runs the multiply repeatedly for ~0.1 s; samples are taken for at least min_seconds (default 1)
 * and the median GFLOP/s is printed as the last line "GFLOP/s: <median>", like `sharpt bench gemm`.
 * On Zen 5 run with OPENBLAS_CORETYPE=SkylakeX (0.3.21 would pick Haswell kernels). */
#define _POSIX_C_SOURCE 199309L
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmp(const void *x, const void *y) { double a = *(const double *)x, b = *(const double *)y; return (a > b) - (a < b); }

static double bench(int m, int k, int n, int transA, int transB, double minSeconds, int gemv)
{
    float *a = aligned_alloc(64, ((size_t)m * k * 4 + 63) / 64 * 64);
    float *b = aligned_alloc(64, ((size_t)k * n * 4 + 63) / 64 * 64);
    float *c = aligned_alloc(64, ((size_t)m * n * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    memset(c, 0, (size_t)m * n * 4);
    int ldb = transB ? k : n;
    double flop = 2.0 * m * n * k;
    int lda = transA ? m : k;
    /* gemv (M = 1): c = a op(B) as sgemv: B stored NxK is y = B a; B stored KxN is y = B^T a. */
#define RUN() do { \
        if (gemv) cblas_sgemv(CblasRowMajor, transB ? CblasNoTrans : CblasTrans, transB ? n : k, transB ? k : n, 1.0f, b, ldb, a, 1, 0.0f, c, 1); \
        else cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, n); \
    } while (0)
    /* warm up and size one sample to ~0.1 s */
    double t0 = now(); int reps = 0;
    do { RUN(); reps++; } while (now() - t0 < 0.1);
    double samples[1000]; int ns = 0;
    double start = now();
    while ((now() - start < minSeconds || ns < 5) && ns < 1000)
    {
        double s = now();
        for (int r = 0; r < reps; r++) RUN();
        samples[ns++] = flop * reps / (now() - s) / 1e9;
    }
    qsort(samples, ns, sizeof(double), cmp);
    free(a); free(b); free(c);
    return samples[ns / 2];
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "all") == 0)
    {
        int threads = argc >= 3 ? atoi(argv[2]) : 1;
        openblas_set_num_threads(threads);
        static const int shapes[][3] = { {256, 768, 768}, {256, 768, 3072}, {256, 3072, 768}, {256, 768, 50257} };
        printf("OpenBLAS core %s, threads %d\n", openblas_get_corename(), threads);
        for (int s = 0; s < 4; s++)
            for (int t = 0; t < 2; t++)
                printf("M=%d K=%d N=%d B=%s threads=%d GFLOP/s: %.1f\n", shapes[s][0], shapes[s][1], shapes[s][2],
                       t ? "NxK" : "KxN", threads, bench(shapes[s][0], shapes[s][1], shapes[s][2], 0, t, 1.0, 0));
        return 0;
    }
    if (argc < 4) { fprintf(stderr, "usage: %s M K N [t|n] [threads] [min_seconds] | all [threads]\n", argv[0]); return 2; }
    int m = atoi(argv[1]), k = atoi(argv[2]), n = atoi(argv[3]);
    int transA = argc >= 5 && strlen(argv[4]) == 2 && argv[4][0] == 't';
    int transB = argc >= 5 && argv[4][strlen(argv[4]) - 1] == 't';
    int threads = argc >= 6 ? atoi(argv[5]) : 1;
    double minSeconds = argc >= 7 ? atof(argv[6]) : 1.0;
    openblas_set_num_threads(threads);
    if (m == 1)
    {
        /* The GEMV: sgemm with M = 1 is not how BLAS users multiply a vector; report sgemv as the result. */
        double viaGemm = bench(m, k, n, transA, transB, minSeconds, 0);
        fprintf(stderr, "sgemm with M = 1: %.1f GFLOP/s (%.1f GB/s)\n", viaGemm, viaGemm * 2.0);
    }
    double g = bench(m, k, n, transA, transB, minSeconds, m == 1 && !transA);
    fprintf(stderr, "OpenBLAS core %s, M=%d K=%d N=%d A=%s B=%s threads=%d\n", openblas_get_corename(), m, k, n,
            transA ? "KxM" : "MxK", transB ? "NxK" : "KxN", threads);
    if (m == 1) printf("sgemv GB/s (B matrix stream): %.1f\n", g / 2.0 * 4.0); /* each B element (4 bytes) feeds 2 flops */
    printf("GFLOP/s: %.1f\n", g);
    return 0;
}
