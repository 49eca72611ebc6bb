using ILGPU;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Sizes and strides of a batched GEMM y = a @ b (+ y). Element (m, k) of batch z's A sits at batchA(z) + m·Sam + k·Sak.</summary>
internal struct GemmArgs
{
    public int M, N, K;
    public int Sam, Sak, Sbk, Sbn;
    /// <summary>1 when consecutive k of A are adjacent in memory (load A tiles k-fastest), else m-fastest.</summary>
    public int AKFast;
    /// <summary>1 when consecutive n of B are adjacent in memory (load B tiles n-fastest), else k-fastest.</summary>
    public int BNFast;
    public int Accumulate;
    /// <summary>Batch index of grid z = 0 (launches are split at the grid's z limit).</summary>
    public int BatchStart;
    /// <summary>Batch dimensions: operand A = a's batch strides and offset, B = b's.</summary>
    public Strided Batch;
    /// <summary>
    /// Register-tiled kernel only: the number of K slices (1 = none). With more, grid z runs over batch × slices, each group
    /// sums k in [slice·KSlice, (slice + 1)·KSlice) and writes its partial tile to slice's own matrix of the workspace y
    /// (y[(z·SplitK + slice)·M·N ..]), which <see cref="RegisterTiledGemmKernels.SplitKReduce"/> then sums into C.
    /// </summary>
    public int SplitK;
    /// <summary>K per slice (a multiple of the kernel's K step) when <see cref="SplitK"/> &gt; 1.</summary>
    public int KSlice;
}

/// <summary>
/// Tiled GEMM with shared memory. A group of T×T threads computes a 4T×4T tile of y, each thread a 4×4 register block
/// (rows ty + iT, columns tx + jT, so shared reads are conflict-free broadcasts). K advances in steps of T: the group loads
/// a 4T×T panel of A and a T×4T panel of B into shared memory (8T² floats, zero-padded at the edges), synchronises, and
/// accumulates. T is 16 on GPUs (64×64 tiles, 256 threads) and smaller on the CPU accelerator; any strides work, so
/// transposed operands need no copy.
/// </summary>
internal static class GemmKernels
{
    public static void Gemm(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, GemmArgs g)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int T = Group.DimX;
        int tx = Group.IdxX, ty = Group.IdxY;
        int tid = ty * T + tx, nt = T * T;
        int bm = 4 * T;                 // tile rows = tile columns
        int panel = bm * T;             // floats per panel
        int z = Grid.IdxZ + g.BatchStart;
        g.Batch.Offsets(z, out int aBase, out int bBase, out _);
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bm;
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        for (int k0 = 0; k0 < g.K; k0 += T)
        {
            for (int e = tid; e < panel; e += nt)
            {
                int mm, kk;
                if (g.AKFast != 0) { mm = e / T; kk = e - mm * T; }
                else { kk = e / bm; mm = e - kk * bm; }
                int m = m0 + mm, k = k0 + kk;
                sh[kk * bm + mm] = m < g.M && k < g.K ? a[aBase + m * g.Sam + k * g.Sak] : 0f;
            }
            for (int e = tid; e < panel; e += nt)
            {
                int nn, kk;
                if (g.BNFast != 0) { kk = e / bm; nn = e - kk * bm; }
                else { nn = e / T; kk = e - nn * T; }
                int n = n0 + nn, k = k0 + kk;
                sh[panel + kk * bm + nn] = n < g.N && k < g.K ? b[bBase + k * g.Sbk + n * g.Sbn] : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < T; kk++)
            {
                int ar = kk * bm + ty, br = panel + kk * bm + tx;
                float a0 = sh[ar], a1 = sh[ar + T], a2 = sh[ar + 2 * T], a3 = sh[ar + 3 * T];
                float b0 = sh[br], b1 = sh[br + T], b2 = sh[br + 2 * T], b3 = sh[br + 3 * T];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int yBase = z * g.M * g.N;
        int col = n0 + tx;
        StoreRow(y, g, yBase, m0 + ty, col, T, c00, c01, c02, c03);
        StoreRow(y, g, yBase, m0 + ty + T, col, T, c10, c11, c12, c13);
        StoreRow(y, g, yBase, m0 + ty + 2 * T, col, T, c20, c21, c22, c23);
        StoreRow(y, g, yBase, m0 + ty + 3 * T, col, T, c30, c31, c32, c33);
    }

    private static void StoreRow(ArrayView<float> y, GemmArgs g, int yBase, int m, int n, int T, float v0, float v1, float v2, float v3)
    {
        if (m >= g.M) return;
        int o = yBase + m * g.N;
        Store(y, g, o, n, v0);
        Store(y, g, o, n + T, v1);
        Store(y, g, o, n + 2 * T, v2);
        Store(y, g, o, n + 3 * T, v3);
    }

    private static void Store(ArrayView<float> y, GemmArgs g, int rowOffset, int n, float v)
    {
        if (n >= g.N) return;
        int i = rowOffset + n;
        y[i] = g.Accumulate != 0 ? y[i] + v : v;
    }
}
