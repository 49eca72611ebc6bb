using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// Every CPU kernel against <see cref="ScalarReference"/> on random data, with every length 1..67 (SIMD bodies and tails),
/// non-contiguous and broadcast layouts, and 1 and 2 threads. Tolerance: 1e-5 absolute + 1e-5 relative unless stated.
/// </summary>
public class PrimitiveKernelTests
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
    public void UnaryAndUnaryBackwardOnEveryTailLength(int threads)
    {
        var b = new CpuBackend(threads);
        var r = new Random(1);
        foreach (UnaryOp op in Enum.GetValues<UnaryOp>())
            for (int n = 1; n <= 67; n++)
            {
                bool positive = op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.PowScalar;
                var x = Rand(r, n, positive ? 0.1 : -3, 3);
                if (op is UnaryOp.Reciprocal or UnaryOp.RDivScalar) for (int i = 0; i < n; i++) x[i] = x[i] >= 0 ? x[i] + 0.3f : x[i] - 0.3f;
                float arg = op == UnaryOp.PowScalar ? 1.7f : 0.4f;
                var xs = Up(b, x);
                var ys = b.Allocate(DType.Float32, n);
                b.Unary(op, xs, Layout.Contiguous(n), ys, arg);
                var y = Down(b, ys, n);
                var g = Rand(r, n);
                var dx = b.Allocate(DType.Float32, n);
                b.UnaryBackward(op, xs, ys, Up(b, g), dx, n, arg);
                var d = Down(b, dx, n);
                for (int i = 0; i < n; i++)
                {
                    Close($"{op} n={n} i={i} x={x[i]}", ScalarReference.Unary(op, x[i], arg), y[i], 2e-6);
                    bool kink = op is UnaryOp.Relu or UnaryOp.Abs or UnaryOp.ClampMin or UnaryOp.ClampMax && Math.Abs(x[i] - (op is UnaryOp.ClampMin or UnaryOp.ClampMax ? arg : 0)) < 1e-3;
                    if (!kink) Close($"{op}' n={n} i={i} x={x[i]}", g[i] * ScalarReference.UnaryDerivative(op, x[i], arg), d[i], 1e-4);
                }
            }
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void BinaryWithBroadcastAndStrides(int threads)
    {
        var b = new CpuBackend(threads);
        var r = new Random(2);
        foreach (BinaryOp op in Enum.GetValues<BinaryOp>())
            for (int n = 1; n <= 67; n += (n < 20 ? 1 : 7))
            {
                int m = 3;
                var a = Rand(r, m * n, 0.5, 3);
                var bv = Rand(r, n, 0.5, 2);
                if (op is BinaryOp.Equal) for (int i = 0; i < n; i += 2) a[i] = bv[i];
                var y = b.Allocate(DType.Float32, m * n);
                // a: (m, n) read transposed from an (n, m) buffer; b: (n,) broadcast over rows by stride 0.
                var at = new float[m * n];
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) at[j * m + i] = a[i * n + j];
                b.Binary(op, Up(b, at), new Layout([m, n], [1, m]), Up(b, bv), new Layout([m, n], [0, 1]), y);
                var got = Down(b, y, m * n);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++)
                        Close($"{op} n={n} [{i},{j}]", ScalarReference.Binary(op, a[i * n + j], bv[j]), got[i * n + j], 2e-6);
            }
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void ReduceAlongEveryAxis(int threads)
    {
        var b = new CpuBackend(threads);
        var r = new Random(3);
        foreach (var shape in new[] { new[] { 67 }, new[] { 3, 41 }, new[] { 5, 2, 33 }, new[] { 2, 17, 3 } })
            for (int axis = 0; axis < shape.Length; axis++)
                foreach (var op in new[] { ReduceOp.Sum, ReduceOp.Max, ReduceOp.Min, ReduceOp.ArgMax })
                {
                    int count = shape.Aggregate(1, (x, y) => x * y);
                    var x = Rand(r, count);
                    var outShape = (int[])shape.Clone();
                    outShape[axis] = 1;
                    int outCount = count / shape[axis];
                    var y = b.Allocate(op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32, outCount);
                    b.Reduce(op, Up(b, x), Layout.Contiguous(shape), axis, y);
                    var got = Down(b, y, outCount);
                    int outer = shape[..axis].Aggregate(1, (p, q) => p * q), inner = shape[(axis + 1)..].Aggregate(1, (p, q) => p * q), len = shape[axis];
                    for (int o = 0; o < outer; o++)
                        for (int i = 0; i < inner; i++)
                        {
                            var vals = Enumerable.Range(0, len).Select(a => (double)x[(o * len + a) * inner + i]).ToList();
                            double want = op switch
                            {
                                ReduceOp.Sum => vals.Sum(),
                                ReduceOp.Max => vals.Max(),
                                ReduceOp.Min => vals.Min(),
                                _ => vals.IndexOf(vals.Max()),
                            };
                            Close($"{op} shape [{string.Join(",", shape)}] axis {axis}", want, got[o * inner + i], 1e-5);
                        }
                }
    }

    [Theory]
    [MemberData(nameof(Threads))]
    public void BatchedMatMulWithTransposesAndBroadcastBatch(int threads)
    {
        var b = new CpuBackend(threads);
        var r = new Random(4);
        foreach (var (m, k, n) in new[] { (1, 1, 1), (3, 5, 7), (17, 33, 9), (1, 67, 40), (40, 3, 1) })
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                {
                    int batch = 2;
                    var a = Rand(r, batch * m * k);
                    var bm = Rand(r, k * n);                        // shared by both batch entries (stride 0)
                    var al = ta ? new Layout([batch, m, k], [m * k, 1, m]) : new Layout([batch, m, k], [m * k, k, 1]);
                    var bl = tb ? new Layout([batch, k, n], [0, 1, k]) : new Layout([batch, k, n], [0, n, 1]);
                    var y = b.Allocate(DType.Float32, batch * m * n);
                    b.MatMul(Up(b, a), al, Up(b, bm), bl, y);
                    var got = Down(b, y, batch * m * n);
                    for (int i = 0; i < batch; i++)
                    {
                        var want = ScalarReference.MatMul(a[(i * m * k)..((i + 1) * m * k)], bm, m, k, n, ta, tb);
                        for (int j = 0; j < m * n; j++) Close($"matmul {m}x{k}x{n} tA={ta} tB={tb} batch {i}", want[j], got[i * m * n + j], 1e-4);
                    }
                }
    }

    [Fact]
    public void GatherScatterCopyFillWhereArange()
    {
        var b = new CpuBackend(2);
        var r = new Random(5);
        int outer = 2, dim = 7, inner = 5, count = 9;
        var src = Rand(r, outer * dim * inner);
        int[] idx = [3, 0, 6, 3, 3, 1, 2, 5, 0];
        var y = b.Allocate(DType.Float32, outer * count * inner);
        b.Gather(Up(b, src), outer, dim, inner, Up(b, idx), count, y);
        var g = Down(b, y, outer * count * inner);
        for (int o = 0; o < outer; o++) for (int i = 0; i < count; i++) for (int c = 0; c < inner; c++)
                    Assert.Equal(src[(o * dim + idx[i]) * inner + c], g[(o * count + i) * inner + c]);
        var acc = b.Allocate(DType.Float32, outer * dim * inner);
        b.ScatterAdd(y, outer, dim, inner, Up(b, idx), count, acc);
        var s = Down(b, acc, outer * dim * inner);
        for (int o = 0; o < outer; o++) for (int d = 0; d < dim; d++) for (int c = 0; c < inner; c++)
                {
                    double want = 0;
                    for (int i = 0; i < count; i++) if (idx[i] == d) want += src[(o * dim + d) * inner + c];
                    Close("scatter_add", want, s[(o * dim + d) * inner + c]);
                }
        Assert.Throws<IndexOutOfRangeException>(() => b.Gather(Up(b, src), outer, dim, inner, Up(b, new[] { 7 }), 1, y));

        // Strided copy: a transposed (4, 6) view into a narrowed destination.
        var x = Rand(r, 24);
        var dst = b.Allocate(DType.Float32, 6 * 8);
        b.Fill(dst, Layout.Contiguous(48), -1f);
        b.Copy(Up(b, x), new Layout([6, 4], [1, 6]), dst, new Layout([6, 4], [8, 1], 2));
        var dv = Down(b, dst, 48);
        for (int i = 0; i < 6; i++) for (int j = 0; j < 8; j++)
                Assert.Equal(j >= 2 && j < 6 ? x[(j - 2) * 6 + i] : -1f, dv[i * 8 + j]);

        var cond = Up(b, new[] { 1f, 0f, 1f });
        var w = b.Allocate(DType.Float32, 6);
        b.Where(cond, new Layout([2, 3], [0, 1]), Up(b, new[] { 1f, 2f, 3f, 4f, 5f, 6f }), Layout.Contiguous(2, 3), Up(b, new[] { -7f }), new Layout([2, 3], [0, 0]), w);
        Assert.Equal([1f, -7f, 3f, 4f, -7f, 6f], Down(b, w, 6));
        var ar = b.Allocate(DType.Int32, 5);
        b.Arange(ar, 5);
        Assert.Equal([0f, 1f, 2f, 3f, 4f], Down(b, ar, 5));
    }

    [Fact]
    public void RandomFillIsCounterBasedAndHasTheRightMoments()
    {
        var b = new CpuBackend(2);
        var s1 = b.Allocate(DType.Float32, 100_000);
        b.RandomFill(s1, 100_000, RandomKind.Normal, 1f, 2f, 42, 0);
        var v = Down(b, s1, 100_000);
        double mean = v.Average(x => (double)x), sd = Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, 0.97, 1.03);
        Assert.InRange(sd, 1.97, 2.03);
        var s2 = new CpuBackend(1).Allocate(DType.Float32, 10);
        b.RandomFill(s2, 10, RandomKind.Normal, 1f, 2f, 42, 5);           // offset 5 continues the same stream
        Assert.Equal(v[5..15], Down(b, s2, 10));
        var u = b.Allocate(DType.Float32, 1000);
        b.RandomFill(u, 1000, RandomKind.Uniform, -2f, 3f, 7, 0);
        Assert.All(Down(b, u, 1000), x => Assert.InRange(x, -2f, 3f));
    }

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
                var want = ScalarReference.Softmax(x, rows, cols, log);
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
                var want = ScalarReference.LayerNorm(x, w, bias, rows, cols, 1e-5, rms);
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
                Close($"cross_entropy cols={cols} row0", ScalarReference.CrossEntropyRow(x, 0, cols, targets[0], smoothing), l[0], 1e-5);
                Assert.Equal(0f, l[1]);
                Close($"cross_entropy cols={cols} row2", ScalarReference.CrossEntropyRow(x, 2, cols, 0, smoothing), l[2], 1e-5);
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
