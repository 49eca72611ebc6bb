using System.Runtime.Intrinsics;
using MathNet.Numerics.LinearAlgebra;
using SharpTransformer.Backends.Cpu;
using Xunit.Abstractions;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// Sgemm against MathNet.Numerics' double-precision matrix product on random shapes: every transpose combination, sizes 1..67 (SIMD
/// and tile tails), accumulate, offsets and padded leading dimensions, 1 and 2 threads, plus shapes that cross the
/// packed kernel's K, M, NC and K-group block boundaries and the skinny (M = 1, small M) paths.
/// The fallback kernels run when the same tests run with the runtime's ISA switches off:
/// <code>
/// DOTNET_EnableAVX512=0  dotnet test -c Release --filter FullyQualifiedName~Sgemm     # Vector256 kernels
/// DOTNET_EnableAVX2=0    dotnet test -c Release --filter FullyQualifiedName~Sgemm     # Vector128 kernels
/// DOTNET_EnableHWIntrinsic=0 dotnet test -c Release --filter FullyQualifiedName~Sgemm # scalar loop
/// </code>
/// (.NET 10 groups AVX-512 F/BW/CD/DQ/VL under one switch: <c>DOTNET_EnableAVX512F=0</c> is ignored and leaves
/// the AVX-512 kernels on.) <see cref="ReportsKernelLevel"/> prints which kernel set ran (run with
/// <c>--logger "console;verbosity=detailed"</c> to see it).
/// </summary>
public class SgemmTests(ITestOutputHelper output)
{
    [Fact]
    public void ReportsKernelLevel()
    {
        output.WriteLine($"Sgemm kernel level {PackedGemm.Level} (3 = AVX-512, 2 = Vector256, 1 = Vector128, 0 = scalar); " +
            $"V512 {Vector512.IsHardwareAccelerated}, V256 {Vector256.IsHardwareAccelerated}, V128 {Vector128.IsHardwareAccelerated}");
        Assert.InRange(PackedGemm.Level, 0, 3);
    }

    public static TheoryData<bool, bool, int> Combos()
    {
        var d = new TheoryData<bool, bool, int>();
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int t in new[] { 1, 2 })
                    d.Add(ta, tb, t);
        return d;
    }

    public static TheoryData<bool, bool, int, bool> CombosAndPaths()
    {
        var d = new TheoryData<bool, bool, int, bool>();
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
                foreach (int t in new[] { 1, 2 })
                    foreach (bool packedOnly in new[] { false, true })
                        d.Add(ta, tb, t, packedOnly);
        return d;
    }

    // packedOnly: the skinny paths (GEMV, dot tiles, in-place B) would take most of these shapes; switch them off so
    // the packed driver's tails are covered too. Tests of one class run sequentially, so the static switch is safe.
    private static void WithPaths(bool packedOnly, Action body)
    {
        SkinnyGemm.Disabled = packedOnly;
        try { body(); }
        finally { SkinnyGemm.Disabled = false; }
    }

    [Theory]
    [MemberData(nameof(CombosAndPaths))]
    public void EverySizeOneTo67(bool transA, bool transB, int threads, bool packedOnly) =>
        WithPaths(packedOnly, () => EverySize(transA, transB, threads));

    private static void EverySize(bool transA, bool transB, int threads)
    {
        var rng = new Random(1000 + (transA ? 4 : 0) + (transB ? 2 : 0) + threads);
        for (int s = 1; s <= 67; s++)
        {
            // Each size once as M, N and K, with the other two random, and a cube.
            Check(rng, transA, transB, s, rng.Next(1, 68), rng.Next(1, 68), threads, s % 2 == 0, s % 3 == 0);
            Check(rng, transA, transB, rng.Next(1, 68), s, rng.Next(1, 68), threads, s % 2 == 1, s % 5 == 0);
            Check(rng, transA, transB, rng.Next(1, 68), rng.Next(1, 68), s, threads, s % 3 == 1, s % 2 == 0);
            Check(rng, transA, transB, s, s, s, threads, s % 2 == 0, s % 4 == 1);
        }
    }

    [Theory]
    [MemberData(nameof(Combos))]
    public void BlockBoundaries(bool transA, bool transB, int threads)
    {
        var rng = new Random(7 + (transA ? 4 : 0) + (transB ? 2 : 0) + threads);
        (int m, int n, int k)[] shapes =
        [
            (100, 97, 300),   // two K blocks, N tail
            (525, 70, 40),    // two M blocks, M tail
            (37, 700, 513),   // several NC chunks, K blocks not a multiple of 16
            (24, 33, 1),      // K = 1
            (13, 600, 64),    // small M, wide N
            (260, 64, 17),    // N narrow: workers split M
        ];
        foreach (var (m, n, k) in shapes) Check(rng, transA, transB, m, n, k, threads, true, false);
        foreach (var (m, n, k) in shapes) Check(rng, transA, transB, m, n, k, threads, false, true);
    }

    [Fact]
    public void ManyKGroups()
    {
        // M block × K beyond the shared Ã buffer (4 MiB), so Ã is packed in several K groups with barriers between.
        var rng = new Random(3);
        Check(rng, false, true, 520, 40, 2100, 2, false, false);
        Check(rng, true, false, 520, 40, 2100, 1, true, true);
    }

    [Theory]
    [MemberData(nameof(CombosAndPaths))]
    public void Skinny(bool transA, bool transB, int threads, bool packedOnly) =>
        WithPaths(packedOnly, () => SkinnyShapes(transA, transB, threads));

    private static void SkinnyShapes(bool transA, bool transB, int threads)
    {
        var rng = new Random(11 + (transA ? 4 : 0) + (transB ? 2 : 0) + threads);
        foreach (int m in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 64 })
            foreach (var (n, k) in new[] { (1, 1), (1, 300), (17, 5), (300, 1), (1000, 77), (129, 768), (2000, 300) })
                Check(rng, transA, transB, m, n, k, threads, m % 2 == 0, n % 2 == 0);
        foreach (var (m, k) in new[] { (5, 7), (40, 300), (300, 40) })
            Check(rng, transA, transB, m, 1, k, threads, true, false); // N = 1
    }

    [Fact]
    public void OverwritesNaNWhenNotAccumulating()
    {
        foreach (var (m, n, k) in new[] { (1, 50, 20), (3, 40, 20), (30, 70, 20) })
        {
            var a = Fill(new Random(1), m * k);
            var b = Fill(new Random(2), k * n);
            var c = new float[m * n];
            Array.Fill(c, float.NaN);
            Sgemm.Multiply(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, accumulate: false, threads: 1);
            Assert.All(c, v => Assert.False(float.IsNaN(v)));
        }
    }

    [Fact]
    public void ZeroSizes()
    {
        var c = new float[] { 5, 5, 5, 5 };
        Sgemm.Multiply(false, false, 2, 2, 0, [], 0, 0, [], 0, 2, c, 0, 2, accumulate: true, threads: 1);
        Assert.Equal(new float[] { 5, 5, 5, 5 }, c);
        Sgemm.Multiply(false, false, 2, 2, 0, [], 0, 0, [], 0, 2, c, 0, 2, accumulate: false, threads: 1);
        Assert.Equal(new float[4], c);
        Sgemm.Multiply(false, false, 0, 2, 3, [], 0, 3, new float[6], 0, 2, [], 0, 2, accumulate: false, threads: 1);
    }

    [Fact]
    public void RejectsViewsOutsideTheArrays()
    {
        Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 4, 4, 4, new float[15], 0, 4, new float[16], 0, 4, new float[16], 0, 4, false, 1));
        Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, true, 4, 4, 4, new float[16], 0, 4, new float[16], 1, 4, new float[16], 0, 4, false, 1));
        Assert.Throws<ArgumentException>(() =>
            Sgemm.Multiply(false, false, 4, 4, 4, new float[16], 0, 4, new float[16], 0, 4, new float[16], 0, 5, false, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Sgemm.Multiply(false, false, 4, 4, 4, new float[16], -1, 4, new float[16], 0, 4, new float[16], 0, 4, false, 1));
    }

    [Fact]
    public void ConcurrentCallersAgree()
    {
        // The worker pool serves one caller at a time; the others must still be correct (they run single-threaded).
        const int m = 70, n = 90, k = 130;
        var a = Fill(new Random(5), m * k);
        var b = Fill(new Random(6), k * n);
        var expected = new float[m * n];
        Sgemm.Multiply(false, false, m, n, k, a, 0, k, b, 0, n, expected, 0, n, false, 1);
        Parallel.For(0, 8, _ =>
        {
            for (int r = 0; r < 20; r++)
            {
                var c = new float[m * n];
                Sgemm.Multiply(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n, false, 2);
                Assert.Equal(expected, c);
            }
        });
    }

    [Fact]
    public void BackToBackTwoThreadCallsMatchOneThread()
    {
        // Many consecutive 2-worker calls (GEMV, dot tiles, packed) catch hand-off races in the worker pool, and the
        // result must not depend on the thread count (every C tile is computed the same way whoever computes it).
        (bool transB, int m, int n, int k)[] cases = [(false, 1, 50000, 64), (true, 1, 50000, 64), (true, 8, 9000, 64), (false, 100, 600, 64)];
        foreach (var (transB, m, n, k) in cases)
        {
            var rng = new Random(m + n);
            var a = Fill(rng, m * k);
            var b = Fill(rng, k * n);
            int ldb = transB ? k : n;
            var expected = new float[m * n];
            Sgemm.Multiply(false, transB, m, n, k, a, 0, k, b, 0, ldb, expected, 0, n, false, 1);
            var c = new float[m * n];
            for (int r = 0; r < 100; r++)
            {
                Sgemm.Multiply(false, transB, m, n, k, a, 0, k, b, 0, ldb, c, 0, n, false, 2);
                if (!c.AsSpan().SequenceEqual(expected)) Assert.Fail($"transB={transB} M={m} N={n} K={k}: call {r} on 2 threads differs from 1 thread.");
            }
        }
    }

    private static void Check(Random rng, bool transA, bool transB, int m, int n, int k, int threads, bool accumulate, bool padded)
    {
        // Leading dimensions and offsets: tight, or padded with junk around the views.
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        int lda = aCols + (padded ? rng.Next(1, 9) : 0);
        int ldb = bCols + (padded ? rng.Next(1, 9) : 0);
        int ldc = n + (padded ? rng.Next(1, 9) : 0);
        int aOff = padded ? rng.Next(0, 17) : 0, bOff = padded ? rng.Next(0, 17) : 0, cOff = padded ? rng.Next(0, 17) : 0;
        var a = Fill(rng, aOff + (aRows - 1) * lda + aCols + (padded ? 5 : 0));
        var b = Fill(rng, bOff + (bRows - 1) * ldb + bCols + (padded ? 5 : 0));
        var c = Fill(rng, cOff + (m - 1) * ldc + n + (padded ? 5 : 0));
        var before = (float[])c.Clone();

        Sgemm.Multiply(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, threads);

        // The oracle: the same views as double matrices, multiplied by MathNet.Numerics; |A| |B| scales the rounding error.
        var ma = Matrix<double>.Build.Dense(m, k, (i, p) => transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p]);
        var mb = Matrix<double>.Build.Dense(k, n, (p, j) => transB ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]);
        var product = ma * mb;
        var magnitude = ma.PointwiseAbs() * mb.PointwiseAbs();
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = product[i, j], mag = magnitude[i, j];
                int ci = cOff + i * ldc + j;
                if (accumulate) { s += before[ci]; mag += Math.Abs(before[ci]); }
                double tol = 2e-6 * (k + 4) * (mag + 1e-3);
                if (Math.Abs(c[ci] - s) > tol)
                    Assert.Fail($"transA={transA} transB={transB} M={m} N={n} K={k} threads={threads} accumulate={accumulate} padded={padded}: C[{i},{j}] = {c[ci]}, expected {s} (tol {tol:g3}).");
                before[ci] = c[ci];
            }
        // Nothing outside the C view was touched.
        for (int x = 0; x < c.Length; x++)
            if (before[x] != c[x] && !float.IsNaN(c[x]))
                Assert.Fail($"transA={transA} transB={transB} M={m} N={n} K={k}: wrote outside C at element {x}.");
    }

    private static float[] Fill(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
