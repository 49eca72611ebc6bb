using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// Conformance of the data primitives: strided Copy (with type conversion), Fill, Arange, RandomFill, Upload/Download, SumSquares.
/// </summary>
public abstract class PrimitiveDataConformance
{
    /// <summary>The backends under test.</summary>
    protected abstract IBackend[] Backends { get; }

    private void CheckCopy(IBackend be, int[] shape, LayoutKind kx, LayoutKind ky, Random rng)
    {
        var xl = MakeLayout(rng, shape, kx, out int lx);
        var yl = MakeLayout(rng, shape, ky, out int ly);
        var x = Uniform(rng, lx, -5, 5);
        var y = Uniform(rng, ly, -5, 5); // the elements yl does not address must survive
        var sx = Up(be, x); var sy = Up(be, y);
        be.Copy(sx, xl, sy, yl);
        Close(D(ScalarReference.Copy(x, xl, y, yl)), Down(be, sy, ly), 0, 0, $"Copy {Describe(xl, kx)} -> {Describe(yl, ky)} on {be.Name}");
        sx.Dispose(); sy.Dispose();
    }

    [Fact]
    public void Copy_EveryLength1To67_AndEveryLayoutPair()
    {
        // Exact: a copy moves bits.
        var rng = new Random(41);
        foreach (var be in Backends)
        {
            for (int n = 1; n <= 67; n++)
                foreach (var (kx, ky) in new[] { (LayoutKind.Contiguous, LayoutKind.Offset), (LayoutKind.Strided, LayoutKind.Contiguous),
                             (LayoutKind.Broadcast, LayoutKind.Strided), (LayoutKind.Offset, LayoutKind.Narrowed) })
                    CheckCopy(be, [n], kx, ky, rng);
            foreach (var kx in AllKinds)
                foreach (var ky in WritableKinds)
                    for (int t = 0; t < 3; t++) CheckCopy(be, RandomShape(rng, 0, 4, 6), kx, ky, rng);
            CheckCopy(be, [263, 259], LayoutKind.Transposed, LayoutKind.Contiguous, rng); // large: split across threads
            CheckCopy(be, [259, 263], LayoutKind.Strided, LayoutKind.Narrowed, rng);
        }
    }

    [Fact]
    public void Copy_ConvertsBetweenFloatAndInt()
    {
        var rng = new Random(42);
        foreach (var be in Backends)
            foreach (var kx in AllKinds)
                foreach (var ky in WritableKinds)
                {
                    var shape = RandomShape(rng, 1, 3, 5);
                    var xl = MakeLayout(rng, shape, kx, out int lx);
                    var yl = MakeLayout(rng, shape, ky, out int ly);
                    var xf = Uniform(rng, lx, -9, 9);
                    var yi0 = Enumerable.Range(0, ly).Select(i => -i).ToArray();
                    var sx = Up(be, xf); var sy = Up(be, yi0);
                    be.Copy(sx, xl, sy, yl); // float -> int truncates toward zero
                    Same(ScalarReference.Copy(xf, xl, yi0, yl), DownInt(be, sy, ly), $"Copy float->int {Describe(xl, kx)} -> {Describe(yl, ky)}");

                    var xi = Enumerable.Range(0, lx).Select(_ => rng.Next(-1000, 1000)).ToArray();
                    var yf0 = Uniform(rng, ly, -1, 1);
                    var sxi = Up(be, xi); var syf = Up(be, yf0);
                    be.Copy(sxi, xl, syf, yl);
                    Close(D(ScalarReference.Copy(xi, xl, yf0, yl)), Down(be, syf, ly), 0, 0, $"Copy int->float {Describe(xl, kx)} -> {Describe(yl, ky)}");

                    var syi = Up(be, yi0);
                    be.Copy(sxi, xl, syi, yl); // int -> int (transposed token ids)
                    var expectedInts = (int[])yi0.Clone();
                    foreach (var idx in ScalarReference.Indices(shape)) expectedInts[ScalarReference.At(yl, idx)] = xi[ScalarReference.At(xl, idx)];
                    Same(expectedInts, DownInt(be, syi, ly), $"Copy int->int {Describe(xl, kx)} -> {Describe(yl, ky)}");
                    syi.Dispose();
                    sx.Dispose(); sy.Dispose(); sxi.Dispose(); syf.Dispose();
                }
    }

    [Fact]
    public void Fill_EveryLength1To67_ContiguousAndStrided_FloatAndInt()
    {
        var rng = new Random(43);
        foreach (var be in Backends)
        {
            for (int n = 1; n <= 67; n++)
                foreach (var kind in WritableKinds)
                {
                    var shape = n % 2 == 0 ? new[] { n } : new[] { 2, n };
                    var yl = MakeLayout(rng, shape, kind, out int ly);
                    var y = Uniform(rng, ly, -1, 1);
                    var sy = Up(be, y);
                    be.Fill(sy, yl, 3.25f);
                    Close(D(ScalarReference.Fill(y, yl, 3.25f)), Down(be, sy, ly), 0, 0, $"Fill {Describe(yl, kind)}");
                    sy.Dispose();
                }
            var si = be.Allocate(DType.Int32, 10);
            be.Fill(si, new Layout([5], [2], 1), 7f);
            Same([0, 7, 0, 7, 0, 7, 0, 7, 0, 7], DownInt(be, si, 10), "Fill int strided");
        }
    }

    [Fact]
    public void Arange_FloatAndInt()
    {
        foreach (var be in Backends)
            foreach (int n in new[] { 1, 17, 67, 5000 })
            {
                var f = be.Allocate(DType.Float32, n, zero: false);
                var i = be.Allocate(DType.Int32, n, zero: false);
                be.Arange(f, n); be.Arange(i, n);
                Close(Enumerable.Range(0, n).Select(v => (double)v).ToArray(), Down(be, f, n), 0, 0, "Arange float");
                Same(Enumerable.Range(0, n).ToArray(), DownInt(be, i, n), "Arange int");
            }
    }

    [Fact]
    public void UploadDownload_RoundTripAndConvert()
    {
        foreach (var be in Backends)
        {
            var s = be.Allocate(DType.Float32, 8);
            be.Upload([1.5f, -2.5f, 3.75f], 0, s, 2, 3);
            Close([0, 0, 1.5, -2.5, 3.75, 0, 0, 0], Down(be, s, 8), 0, 0, "upload at offset");
            var ints = new int[3];
            be.Download(s, 2, ints, 0, 3);
            Same([1, -2, 3], ints, "download float as int truncates");
            var si = be.Allocate(DType.Int32, 4);
            be.Upload([1.9f, -1.9f, 2f, 0f], 0, si, 0, 4);
            Same([1, -1, 2, 0], DownInt(be, si, 4), "upload float into int storage truncates");
            var fl = new float[4];
            be.Download(si, 0, fl, 0, 4);
            Close([1, -1, 2, 0], fl, 0, 0, "download int as float");
        }
    }

    /// <summary>Element i of a draw is CounterRng.Sample(kind, a, b, seed, offset + i), bit for bit, on every thread split.</summary>
    [Fact]
    public void RandomFill_IsACounterBasedFunction_IndependentOfThreads()
    {
        foreach (var be in Backends)
            foreach (var kind in Enum.GetValues<RandomKind>())
                foreach (int n in new[] { 1, 7, 67, 9000 })
                {
                    var (a, b) = kind switch { RandomKind.Uniform => (-2f, 3f), RandomKind.Normal => (0.5f, 2f), _ => (0.7f, 1f / 0.7f) };
                    var s = be.Allocate(DType.Float32, n, zero: false);
                    be.RandomFill(s, n, kind, a, b, seed: 1234, offset: 99);
                    var got = Down(be, s, n);
                    Close(D(ScalarReference.RandomFill(n, kind, a, b, 1234, 99)), got, 0, 0, $"RandomFill {kind} n={n} on {be.Name}");
                    // The same (seed, offset) again gives the same values; a shifted offset gives the shifted stream.
                    be.RandomFill(s, n, kind, a, b, 1234, 99);
                    Assert.Equal(got, Down(be, s, n));
                    if (n > 3)
                    {
                        be.RandomFill(s, n - 3, kind, a, b, 1234, 102);
                        Assert.Equal(got[3..], Down(be, s, n - 3));
                    }
                    s.Dispose();
                }
    }

    [Fact]
    public void RandomFill_Distributions()
    {
        // 200 000 samples: standard errors are ~0.002 (mean) and ~0.0016 (std); tolerances are about 5 standard errors.
        var be = Backends[^1];
        const int n = 200_000;
        var s = be.Allocate(DType.Float32, n, zero: false);
        be.RandomFill(s, n, RandomKind.Normal, 1.5f, 2f, 7, 0);
        var x = Down(be, s, n);
        double mean = x.Average(v => (double)v), std = Math.Sqrt(x.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, 1.5 - 0.025, 1.5 + 0.025);
        Assert.InRange(std, 2 - 0.02, 2 + 0.02);

        be.RandomFill(s, n, RandomKind.Uniform, -1f, 3f, 8, 0);
        x = Down(be, s, n);
        Assert.All(x, v => Assert.InRange(v, -1f, 3f));
        Assert.True(x.All(v => v < 3f), "uniform draws must stay below the upper bound");
        Assert.InRange(x.Average(v => (double)v), 1 - 0.015, 1 + 0.015);

        be.RandomFill(s, n, RandomKind.Bernoulli, 0.3f, 2f, 9, 0);
        x = Down(be, s, n);
        Assert.All(x, v => Assert.True(v == 0f || v == 2f, $"bernoulli value {v}"));
        Assert.InRange(x.Count(v => v != 0f) / (double)n, 0.3 - 0.005, 0.3 + 0.005);
    }

    [Fact]
    public void SumSquares_AccumulatesIntoAcc()
    {
        // Tolerance 2e-5 relative: float accumulation of up to 70 001 non-negative terms; the sequential scalar loop that
        // TensorPrimitives falls back to without SIMD (DOTNET_EnableHWIntrinsic=0) drifts by ~7e-6 at that length.
        var rng = new Random(44);
        foreach (var be in Backends)
            foreach (int n in Enumerable.Range(1, 67).Append(70_001))
            {
                var x = Uniform(rng, n + 3, -2, 2);
                var sx = Up(be, x); var acc = Up(be, new[] { 0.5f });
                be.SumSquares(sx, n, acc);
                Close([ScalarReference.SumSquares(x, n, 0.5)], Down(be, acc, 1), 2e-5, 0, $"SumSquares n={n}");
                sx.Dispose(); acc.Dispose();
            }
    }
}
