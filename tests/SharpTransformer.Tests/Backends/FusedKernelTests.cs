using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// The fused CPU kernels (softmax, norms, cross-entropy, AdamW) against <see cref="FunctionalReference"/> on every row length 1..67
/// (SIMD bodies and tails) and 1 and 2 threads. Tolerance: 1e-5 absolute + 1e-5 relative unless stated.
/// </summary>
public class FusedKernelTests
{
    private static float[] Rand(Random r, int n, double lo = -3, double hi = 3) => Enumerable.Range(0, n).Select(_ => (float)(lo + (hi - lo) * r.NextDouble())).ToArray();

    private static IStorage Up(IBackend b, float[] x) { var s = b.Allocate(DType.Float32, x.Length); b.Upload(x, 0, s, 0, x.Length); return s; }
    private static IStorage Up(IBackend b, int[] x) { var s = b.Allocate(DType.Int32, x.Length); b.Upload(x, 0, s, 0, x.Length); return s; }
    private static float[] Down(IBackend b, IStorage s, int n) { var r = new float[n]; b.Download(s, 0, r, 0, n); return r; }

    private static void Close(string what, double expected, float actual, double tol = 1e-5)
    {
        bool ok = double.IsNaN(expected) ? float.IsNaN(actual) : Math.Abs(expected - actual) <= tol + tol * Math.Abs(expected) || expected == actual;
        Assert.True(ok, $"{what}: reference {expected:G9}, kernel {actual:G9}");
    }

    public static TheoryData<int> Threads => new() { 1, 2 };

    [Theory]
    [MemberData(nameof(Threads))]
    public void SoftmaxNormsAndCrossEntropyOnEveryRowLength(int threads)
    {
        var b = new CpuBackend(threads);
        var r = new Random(6);
        for (int cols = 1; cols <= 67; cols++)
        {
            int rows = 3;
            var x = Rand(r, rows * cols, -4, 4);
            x[0] = 95f;                                            // large logits must not overflow (TensorPrimitives.SoftMax would)
            foreach (var log in new[] { false, true })
            {
                var y = b.Allocate(DType.Float32, rows * cols);
                b.Softmax(Up(b, x), rows, cols, y, log);
                var want = FunctionalReference.Softmax(x, rows, cols, log);
                var got = Down(b, y, rows * cols);
                for (int i = 0; i < got.Length; i++) Close($"softmax log={log} cols={cols}", want[i], got[i], 2e-6);
            }
            var w = Rand(r, cols); var bias = Rand(r, cols);
            foreach (var rms in new[] { false, true })
            {
                var y = b.Allocate(DType.Float32, rows * cols);
                var st = b.Allocate(DType.Float32, rows);
                if (rms) b.RmsNorm(Up(b, x), Up(b, w), rows, cols, 1e-5f, y, st);
                else b.LayerNorm(Up(b, x), Up(b, w), Up(b, bias), rows, cols, 1e-5f, y, b.Allocate(DType.Float32, rows), st);
                var want = rms ? FunctionalReference.RmsNorm(x, w, rows, cols, 1e-5) : FunctionalReference.LayerNorm(x, w, bias, rows, cols, 1e-5);
                var got = Down(b, y, rows * cols);
                for (int i = 0; i < got.Length; i++) Close($"{(rms ? "rms" : "layer")}_norm cols={cols}", want[i], got[i], 1e-4);
            }
            int[] targets = [cols - 1, -100, 0];
            foreach (var smoothing in new[] { 0f, 0.1f })
            {
                var loss = b.Allocate(DType.Float32, rows); var lse = b.Allocate(DType.Float32, rows); var valid = b.Allocate(DType.Float32, rows);
                b.CrossEntropy(Up(b, x), Up(b, targets), rows, cols, -100, smoothing, loss, lse, valid);
                var l = Down(b, loss, rows);
                Assert.Equal([1f, 0f, 1f], Down(b, valid, rows));
                var (want, _) = FunctionalReference.CrossEntropy(x, targets, rows, cols, -100, smoothing);
                Close($"cross_entropy cols={cols} row0", want[0], l[0], 1e-5);
                Assert.Equal(0f, l[1]);
                Close($"cross_entropy cols={cols} row2", want[2], l[2], 1e-5);
            }
        }
        var bad = Assert.Throws<ArgumentOutOfRangeException>(() => b.CrossEntropy(Up(b, new float[6]), Up(b, new[] { 0, 3 }), 2, 3, -100, 0f,
            b.Allocate(DType.Float32, 2), b.Allocate(DType.Float32, 2), b.Allocate(DType.Float32, 2)));
        Assert.Contains("target 3 in row 1", bad.Message);
    }

    [Fact]
    public void AdamWMatchesTheTorchFormula()
    {
        var b = new CpuBackend(2);
        var r = new Random(7);
        for (int n = 1; n <= 67; n++)
        {
            var p = Rand(r, n); var g = Rand(r, n); var m = Rand(r, n, 0, 0.1); var v = Rand(r, n, 0, 0.1);
            var ps = Up(b, p); var ms = Up(b, m); var vs = Up(b, v);
            var args = new AdamWArgs(1e-2f, 0.9f, 0.99f, 1e-8f, 0.1f, 3);
            b.AdamW(ps, Up(b, g), ms, vs, n, args);
            var gp = Down(b, ps, n);
            for (int i = 0; i < n; i++)
            {
                double pi = p[i] * (1 - 1e-2 * 0.1);
                double mi = 0.9 * m[i] + 0.1 * g[i], vi = 0.99 * v[i] + 0.01 * g[i] * g[i];
                double want = pi - 1e-2 * (mi / (1 - Math.Pow(0.9, 3))) / (Math.Sqrt(vi / (1 - Math.Pow(0.99, 3))) + 1e-8);
                Close($"adamw n={n} i={i}", want, gp[i], 1e-5);
            }
        }
    }
}
