namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Single-precision general matrix multiply: C = op(A) op(B) (+ C). Row-major storage; op(A) is M×K, op(B) is K×N.
/// A[i, p] is a[aOffset + i*lda + p], or a[aOffset + p*lda + i] when transposed; likewise B.
/// </summary>
/// <remarks>
/// Large problems run the packed, cache-blocked kernel (<see cref="PackedGemm"/>: AVX-512 12×32 micro-tiles, Vector256
/// and Vector128 fallbacks); M = 1 and other skinny shapes run unpacked streaming kernels (<see cref="SkinnyGemm"/>),
/// which are bound by memory bandwidth as a GEMV should be. Without SIMD acceleration a scalar loop is used.
/// </remarks>
public static class Sgemm
{
    // Below this much work per extra thread, waking a worker costs more than it saves.
    private const double MinFlopsPerThread = 3e6;

    /// <summary>C (M×N, row stride ldc) = op(A) op(B), plus the old C when <paramref name="accumulate"/>.</summary>
    public static unsafe void Multiply(bool transA, bool transB, int m, int n, int k,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float[] c, int cOffset, int ldc, bool accumulate, int threads)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        if (m < 0 || n < 0 || k < 0)
            throw new ArgumentOutOfRangeException(nameof(m), $"Sgemm: sizes must be >= 0, got M={m}, N={n}, K={k}.");
        if (m == 0 || n == 0) return;
        CheckExtent("C", c.Length, cOffset, ldc, m, n);
        if (k == 0)
        {
            if (!accumulate)
                for (int i = 0; i < m; i++) Array.Clear(c, cOffset + i * ldc, n);
            return;
        }
        if (transA) CheckExtent("A", a.Length, aOffset, lda, k, m); else CheckExtent("A", a.Length, aOffset, lda, m, k);
        if (transB) CheckExtent("B", b.Length, bOffset, ldb, n, k); else CheckExtent("B", b.Length, bOffset, ldb, k, n);

        double flops = 2.0 * m * n * k;
        threads = (int)Math.Clamp(Math.Min(threads, flops / MinFlopsPerThread), 1, Math.Max(1, threads));

        int level = PackedGemm.Level;
        if (level == 0)
        {
            Scalar(transA, transB, m, n, k, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc, accumulate);
            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            float* ap = pa + aOffset, bp = pb + bOffset, cp = pc + cOffset;
            if (SkinnyGemm.TryRun(level, transA, transB, m, n, k, ap, lda, bp, ldb, cp, ldc, accumulate, threads)) return;
            PackedGemm.Run(level, transA, transB, m, n, k, ap, lda, bp, ldb, cp, ldc, accumulate, threads);
        }
    }

    // A rows×cols matrix at `offset` with row stride `ld` must lie inside the array (the kernels use raw pointers).
    private static void CheckExtent(string name, int length, int offset, int ld, int rows, int cols)
    {
        if (offset < 0 || ld < 0)
            throw new ArgumentOutOfRangeException(name, $"Sgemm: {name} has offset {offset} and leading dimension {ld}; both must be >= 0.");
        long last = offset + (long)(rows - 1) * ld + cols - 1;
        if (last >= length)
            throw new ArgumentException($"Sgemm: {name} is a {rows}×{cols} view at offset {offset} with leading dimension {ld}, reaching element {last}, but the array has {length}.", name);
    }

    // Plain loops (i, p, j order so B and C rows stream); used only when no SIMD is accelerated.
    private static void Scalar(bool transA, bool transB, int m, int n, int k, float[] a, int aOffset, int lda,
        float[] b, int bOffset, int ldb, float[] c, int cOffset, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            int ci = cOffset + i * ldc;
            if (!accumulate) Array.Clear(c, ci, n);
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                if (transB)
                    for (int j = 0; j < n; j++) c[ci + j] += av * b[bOffset + j * ldb + p];
                else
                {
                    int bi = bOffset + p * ldb;
                    for (int j = 0; j < n; j++) c[ci + j] += av * b[bi + j];
                }
            }
        }
    }
}
