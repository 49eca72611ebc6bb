using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Skinny shapes, where packing B would cost as much as the multiply (BLIS calls these "sup"):
/// <list type="bullet">
/// <item>B stored N×K and small M (decoding is M = 1: a GEMV over the Linear weight): dot-product tiles straight from
/// A's and B's rows, each B row read once from memory, so the call runs at memory bandwidth.</item>
/// <item>Narrow N (a few output columns) with A row-major: the same dot tiles with the roles of the rows swapped.</item>
/// <item>B stored K×N and small M: the packed driver, but its micro-kernels read B in place instead of packing it.</item>
/// </list>
/// </summary>
internal static unsafe class SkinnyGemm
{
    /// <summary>With B stored N×K, up to this many rows of op(A) use dot tiles instead of packing B.</summary>
    private const int DotMaxM = 32;

    /// <summary>With B stored K×N, up to this many rows of op(A) read B in place instead of packing it.</summary>
    private const int DirectMaxM = 64;

    /// <summary>Tests set this to run every shape through the packed driver.</summary>
    internal static bool Disabled;

    /// <summary>Up to this many output columns (with A row-major) use dot tiles over A's rows.</summary>
    private const int DotMaxN = 6;

    [ThreadStatic] private static PinnedBuffer? t_copy;
    [ThreadStatic] private static DotGemm? t_job;
    [ThreadStatic] private static GemvRowMajorB? t_gemv;
    private const int GemvPrefetchRows = 4;

    public static bool TryRun(int level, bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb,
        float* c, nint ldc, bool accumulate, int threads)
    {
        if (level < 2 || Disabled) return false;
        if (m == 1 && !transB && level == 3)
        {
            float* x = a;
            if (transA && lda != 1)
            {
                x = PinnedBuffer.Get(ref t_copy, k);
                for (int p = 0; p < k; p++) x[p] = a[p * lda];
            }
            var g = t_gemv ??= new GemvRowMajorB();
            g.Set(n, k, x, b, ldb, c, accumulate);
            GemmThreads.Run(g, Math.Max(1, Math.Min(threads, (n + 255) / 256)));
            g.Set(0, 0, null, null, 0, null, false);
            return true;
        }
        if (transB && m <= DotMaxM)
        {
            float* x = a;
            nint ldx = lda;
            if (transA)
            {
                // Rows of op(A) must be contiguous: copy A^T (m×k, small) once.
                x = PinnedBuffer.Get(ref t_copy, m * k);
                ldx = k;
                for (int p = 0; p < k; p++)
                {
                    float* s = a + p * lda;
                    for (int i = 0; i < m; i++) x[i * k + p] = s[i];
                }
            }
            Dot(level, m, n, k, x, ldx, b, ldb, c, ldc, accumulate, threads);
            return true;
        }
        if (!transA && n <= DotMaxN && m > n)
        {
            float* y = b;
            nint ldy = ldb;
            if (!transB)
            {
                y = PinnedBuffer.Get(ref t_copy, n * k);
                ldy = k;
                for (int p = 0; p < k; p++)
                {
                    float* s = b + p * ldb;
                    for (int j = 0; j < n; j++) y[j * k + p] = s[j];
                }
            }
            Dot(level, m, n, k, a, lda, y, ldy, c, ldc, accumulate, threads);
            return true;
        }
        if (!transB && m <= DirectMaxM)
        {
            PackedGemm.Run(level, transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, threads, directB: true);
            return true;
        }
        return false;
    }

    private static void Dot(int level, int m, int n, int k, float* x, nint ldx, float* y, nint ldy, float* c, nint ldc,
        bool accumulate, int threads)
    {
        var job = t_job ??= new DotGemm();
        job.Set(level, m, n, k, x, ldx, y, ldy, c, ldc, accumulate);
        int nr = level == 3 ? 6 : 3;
        job.SplitN = (n + nr - 1) / nr >= (m + 3) / 4;
        int parts = job.SplitN ? (n + nr - 1) / nr : (m + 3) / 4;
        GemmThreads.Run(job, Math.Max(1, Math.Min(threads, parts)));
        job.Set(level, 0, 0, 0, null, 0, null, 0, null, 0, false);
    }

    /// <summary>C[i, j] (+)= dot(x_i, y_j): x has M rows, y has N rows, both contiguous along K.</summary>
    private sealed class DotGemm : GemmJob
    {
        private int _level, _m, _n, _k;
        private float* _x, _y, _c;
        private nint _ldx, _ldy, _ldc;
        private bool _accumulate;

        public bool SplitN { get; set; }

        public void Set(int level, int m, int n, int k, float* x, nint ldx, float* y, nint ldy, float* c, nint ldc, bool accumulate)
        {
            _level = level; _m = m; _n = n; _k = k;
            _x = x; _ldx = ldx; _y = y; _ldy = ldy; _c = c; _ldc = ldc;
            _accumulate = accumulate;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(int worker)
        {
            int nr = _level == 3 ? 6 : 3;
            int jGroups = (_n + nr - 1) / nr, iGroups = (_m + 3) / 4;
            int jg0 = 0, jg1 = jGroups, ig0 = 0, ig1 = iGroups;
            if (SplitN) { jg0 = jGroups * worker / Workers; jg1 = jGroups * (worker + 1) / Workers; }
            else { ig0 = iGroups * worker / Workers; ig1 = iGroups * (worker + 1) / Workers; }

            // Each group of nr y rows (a few KiB) stays in L1 while every x row passes over it.
            for (int jg = jg0; jg < jg1; jg++)
            {
                int j0 = jg * nr, cols = Math.Min(nr, _n - j0);
                float* y = _y + j0 * _ldy;
                for (int ig = ig0; ig < ig1; ig++)
                {
                    int i0 = ig * 4, rows = Math.Min(4, _m - i0);
                    float* x = _x + i0 * _ldx;
                    float* c = _c + i0 * _ldc + j0;
                    if (cols == nr) Tile(rows, x, y, c);
                    else Edge(rows, cols, x, y, c);
                }
            }
        }

        private void Tile(int rows, float* x, float* y, float* c)
        {
            nint k = _k;
            if (_level == 3)
            {
                switch (rows)
                {
                    case 4: GemmDotKernels.Dot512x4(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    case 3: GemmDotKernels.Dot512x3(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    case 2: GemmDotKernels.Dot512x2(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    default: GemmDotKernels.Dot512x1(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                }
            }
            else
            {
                switch (rows)
                {
                    case 4: GemmDotKernels.Dot256x4(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    case 3: GemmDotKernels.Dot256x3(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    case 2: GemmDotKernels.Dot256x2(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                    default: GemmDotKernels.Dot256x1(k, x, _ldx, y, _ldy, c, _ldc, 1, _accumulate); break;
                }
            }
        }

        // The last few columns: one dot product at a time.
        private void Edge(int rows, int cols, float* x, float* y, float* c)
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++)
                {
                    float s = DotProduct(_k, x + i * _ldx, y + j * _ldy);
                    float* d = c + i * _ldc + j;
                    *d = _accumulate ? *d + s : s;
                }
        }

        private static float DotProduct(int k, float* x, float* y)
        {
            int p = 0;
            float s = 0f;
            if (Vector512.IsHardwareAccelerated && k >= 16)
            {
                var acc = Vector512<float>.Zero;
                for (; p <= k - 16; p += 16) acc = Vector512.MultiplyAddEstimate(Vector512.Load(x + p), Vector512.Load(y + p), acc);
                s = Vector512.Sum(acc);
            }
            else if (Vector256.IsHardwareAccelerated && k >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; p <= k - 8; p += 8) acc = Vector256.MultiplyAddEstimate(Vector256.Load(x + p), Vector256.Load(y + p), acc);
                s = Vector256.Sum(acc);
            }
            for (; p < k; p++) s += x[p] * y[p];
            return s;
        }
    }

    /// <summary>
    /// y (+)= x B for one row x and B stored K×N (row-major, read in place): strips of 256 columns held in 16 zmm
    /// accumulators walk down all K rows, so each B row is read as 1 KiB runs with software prefetch a few rows ahead.
    /// </summary>
    private sealed class GemvRowMajorB : GemmJob
    {
        private int _n, _k;
        private float* _x, _b, _y;
        private nint _ldb;
        private bool _accumulate;

        public void Set(int n, int k, float* x, float* b, nint ldb, float* y, bool accumulate)
        {
            _n = n; _k = k; _x = x; _b = b; _ldb = ldb; _y = y; _accumulate = accumulate;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void Execute(int worker)
        {
            int strips = (_n + 255) / 256;
            int s0 = strips * worker / Workers, s1 = strips * (worker + 1) / Workers;
            int j0 = s0 * 256, j1 = Math.Min(_n, s1 * 256);
            int j = j0;
            for (; j + 256 <= j1; j += 256)
                GemmKernels.Gemv512x256(_k, _x, _b + j, _ldb, _y + j, _accumulate, GemvPrefetchRows);
            for (; j + 64 <= j1; j += 64)
            {
                // Eight independent accumulator chains, two rows at a time (one chain would wait on the FMA latency).
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default;
                float* b = _b + j;
                int p = 0;
                for (; p + 2 <= _k; p += 2, b += 2 * _ldb)
                {
                    var x = Vector512.Create(_x[p]);
                    a0 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b), a0);
                    a1 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 16), a1);
                    a2 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 32), a2);
                    a3 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 48), a3);
                    var x1 = Vector512.Create(_x[p + 1]);
                    float* b1 = b + _ldb;
                    e0 = Vector512.MultiplyAddEstimate(x1, Vector512.Load(b1), e0);
                    e1 = Vector512.MultiplyAddEstimate(x1, Vector512.Load(b1 + 16), e1);
                    e2 = Vector512.MultiplyAddEstimate(x1, Vector512.Load(b1 + 32), e2);
                    e3 = Vector512.MultiplyAddEstimate(x1, Vector512.Load(b1 + 48), e3);
                }
                if (p < _k)
                {
                    var x = Vector512.Create(_x[p]);
                    a0 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b), a0);
                    a1 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 16), a1);
                    a2 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 32), a2);
                    a3 = Vector512.MultiplyAddEstimate(x, Vector512.Load(b + 48), a3);
                }
                a0 += e0; a1 += e1; a2 += e2; a3 += e3;
                float* y = _y + j;
                if (_accumulate)
                {
                    a0 += Vector512.Load(y); a1 += Vector512.Load(y + 16); a2 += Vector512.Load(y + 32); a3 += Vector512.Load(y + 48);
                }
                Vector512.Store(a0, y); Vector512.Store(a1, y + 16); Vector512.Store(a2, y + 32); Vector512.Store(a3, y + 48);
            }
            for (; j < j1; j += 16)
            {
                // 16 columns at a time, the last few with AVX-512 masked loads (masked-off lanes never fault); two chains.
                var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(j1 - j)).AsSingle();
                Vector512<float> a0 = default, a1 = default;
                float* b = _b + j;
                int p = 0;
                for (; p + 2 <= _k; p += 2, b += 2 * _ldb)
                {
                    a0 = Vector512.MultiplyAddEstimate(Vector512.Create(_x[p]), Avx512F.MaskLoad(b, mask, default), a0);
                    a1 = Vector512.MultiplyAddEstimate(Vector512.Create(_x[p + 1]), Avx512F.MaskLoad(b + _ldb, mask, default), a1);
                }
                if (p < _k) a0 = Vector512.MultiplyAddEstimate(Vector512.Create(_x[p]), Avx512F.MaskLoad(b, mask, default), a0);
                a0 += a1;
                if (_accumulate) a0 += Avx512F.MaskLoad(_y + j, mask, default);
                Avx512F.MaskStore(_y + j, mask, a0);
            }
        }
    }
}
