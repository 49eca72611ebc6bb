namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Single-precision general matrix multiply: C = op(A) op(B) (+ C). Row-major storage; op(A) is M×K, op(B) is K×N.
/// A[i, p] is a[aOffset + i*lda + p], or a[aOffset + p*lda + i] when transposed; likewise B.
/// </summary>
public static class Sgemm
{
    /// <summary>C (M×N, row stride ldc) = op(A) op(B), plus the old C when <paramref name="accumulate"/>.</summary>
    public static void Multiply(bool transA, bool transB, int m, int n, int k,
        float[] a, int aOffset, int lda, float[] b, int bOffset, int ldb,
        float[] c, int cOffset, int ldc, bool accumulate, int threads)
    {
        // Reference loop; replaced by the packed, register-tiled kernel.
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[aOffset + p * lda + i] : a[aOffset + i * lda + p];
                    float bv = transB ? b[bOffset + j * ldb + p] : b[bOffset + p * ldb + j];
                    s += av * bv;
                }
                int ci = cOffset + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }
}
