using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using Xunit;

namespace SharpTransformer.Conformance;

public abstract partial class BackendConformance
{
    [Fact]
    public void Conformance_UploadDownload_RoundTripsWithOffsetsAndTypeConversion()
    {
        var f = New(10);
        B.Upload(new float[] { 9, 1.5f, 2.5f, -3.75f, 9 }, 1, f, 4, 3);
        var back = new float[5];
        B.Download(f, 4, back, 1, 3);
        Assert.Equal(new float[] { 0, 1.5f, 2.5f, -3.75f, 0 }, back);

        var i = New(4, DType.Int32);
        B.Upload(new[] { 7, -2, 3, 4 }, 0, i, 0, 4);
        Assert.Equal(new[] { 7, -2, 3, 4 }, GetI(i));
        Assert.Equal(new float[] { 7, -2, 3, 4 }, Get(i));                     // Int32 storage read as floats
        B.Upload(new float[] { 1.9f, -2.9f }, 0, i, 0, 2);                      // floats into Int32 storage truncate
        Assert.Equal(new[] { 1, -2, 3, 4 }, GetI(i));
        var fi = new int[3];
        B.Download(f, 4, fi, 0, 3);                                             // Float32 read as ints truncates
        Assert.Equal(new[] { 1, 2, -3 }, fi);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(10, f.Length);
        Assert.Same(B, f.Backend);
        Assert.All(Get(New(33)), v => Assert.Equal(0f, v));                       // zero-filled allocation
    }

    [Fact]
    public void Conformance_FillCopyArange_OnStridedLayouts()
    {
        var rng = new Random(1);
        for (int trial = 0; trial < 6; trial++)
        {
            var shape = RandShape(rng);
            var yl = RandLayout(rng, shape, out int ylen);
            var y = Put(Rand(rng, ylen));
            var before = Get(y);
            B.Fill(y, yl, 2.5f);
            var expect = (float[])before.Clone();
            for (int i = 0; i < yl.Count; i++) expect[yl.IndexOfLinear(i)] = 2.5f;
            Assert.Equal(expect, Get(y));

            var xl = RandLayout(rng, shape, out int xlen);
            var xd = Rand(rng, xlen);
            var x = Put(xd);
            B.Copy(x, xl, y, yl);
            for (int i = 0; i < yl.Count; i++) expect[yl.IndexOfLinear(i)] = xd[xl.IndexOfLinear(i)];
            Assert.Equal(expect, Get(y));

            // Float -> Int32 (truncating) and back.
            var yi = New(Layout.Numel(shape), DType.Int32);
            B.Copy(x, xl, yi, Layout.Contiguous(shape));
            var ints = GetI(yi);
            for (int i = 0; i < ints.Length; i++) Assert.Equal((int)xd[xl.IndexOfLinear(i)], ints[i]);
            var yf = New(Layout.Numel(shape));
            B.Copy(yi, Layout.Contiguous(shape), yf, Layout.Contiguous(shape));
            Assert.Equal(ints.Select(v => (float)v).ToArray(), Get(yf));
        }
        var iy = New(5, DType.Int32);
        B.Fill(iy, Layout.Contiguous(5), 3.7f);
        Assert.Equal(new[] { 3, 3, 3, 3, 3 }, GetI(iy));
        var a = New(7);
        B.Arange(a, 7);
        Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5, 6 }, Get(a));
        var ai = New(7, DType.Int32);
        B.Arange(ai, 7);
        Assert.Equal(new[] { 0, 1, 2, 3, 4, 5, 6 }, GetI(ai));
    }

    [Fact]
    public void Conformance_RandomFill_IsBitIdenticalToCounterRng()
    {
        const int n = 3000;
        foreach (var (kind, a, b) in new[] { (RandomKind.Uniform, -0.5f, 1.5f), (RandomKind.Normal, 0.25f, 0.02f), (RandomKind.Normal, 0f, 1f), (RandomKind.Bernoulli, 0.9f, 1f / 0.9f) })
        {
            var y = New(n, zero: false);
            B.RandomFill(y, n, kind, a, b, seed: 1234567, offset: 98765);
            var got = Get(y);
            for (int i = 0; i < n; i++)
            {
                float e = CounterRng.Sample(kind, a, b, 1234567, 98765 + (ulong)i);
                Assert.True(BitConverter.SingleToInt32Bits(e) == BitConverter.SingleToInt32Bits(got[i]),
                    $"{kind} element {i}: expected {e:R}, got {got[i]:R}");
            }
        }
    }

    private static float ArgFor(UnaryOp op) => op switch
    {
        UnaryOp.AddScalar => 0.75f,
        UnaryOp.MulScalar => -1.5f,
        UnaryOp.PowScalar => 1.7f,
        UnaryOp.RDivScalar => 2f,
        UnaryOp.ClampMin => -0.3f,
        UnaryOp.ClampMax => 0.4f,
        _ => 0f,
    };

    // Inputs in the op's domain, away from kinks (relu at 0, clamp edges) where a tolerance means nothing.
    private static float[] DomainFor(UnaryOp op, Random rng, int n) => op switch
    {
        UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.PowScalar or UnaryOp.Reciprocal or UnaryOp.RDivScalar => Rand(rng, n, 0.2f, 3f),
        UnaryOp.Exp => Rand(rng, n, -20f, 20f),
        _ => Rand(rng, n, -4f, 4f),
    };

    [Fact]
    public void Conformance_Unary_EveryOpMatchesReferenceOnStridedInputs()
    {
        var rng = new Random(2);
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            var shape = RandShape(rng, 1, 4, 6);
            var xl = RandLayout(rng, shape, out int len, allowBroadcast: true);
            var xd = DomainFor(op, rng, len);
            var x = Put(xd);
            var y = New(xl.Count);
            float arg = ArgFor(op);
            B.Unary(op, x, xl, y, arg);
            var expect = Enumerable.Range(0, xl.Count).Select(i => Reference.Unary(op, Reference.At(xd, xl, i), arg)).ToArray();
            Close(expect, Get(y), 2e-6f * 8, 2e-6f, $"{op}");
        }
    }

    [Fact]
    public void Conformance_Unary_EveryLengthFrom1To67()
    {
        var rng = new Random(3);
        for (int n = 1; n <= 67; n += B.Name == "cpu" ? 1 : 11)
        {
            var xd = Rand(rng, n, -3f, 3f);
            var x = Put(xd);
            var y = New(n);
            B.Unary(UnaryOp.GeluTanh, x, Layout.Contiguous(n), y);
            Close(xd.Select(v => Reference.Unary(UnaryOp.GeluTanh, v, 0)).ToArray(), Get(y), 1e-5f, 1e-6f, $"gelu_tanh n={n}");
        }
    }

    [Fact]
    public void Conformance_UnaryBackward_EveryOpMatchesReference()
    {
        var rng = new Random(4);
        foreach (var op in Enum.GetValues<UnaryOp>())
        {
            int n = rng.Next(1, 40);
            var xd = DomainFor(op, rng, n);
            float arg = ArgFor(op);
            var yd = xd.Select(v => Reference.Unary(op, v, arg)).ToArray();
            var gd = Rand(rng, n);
            var dx = New(n);
            B.UnaryBackward(op, Put(xd), Put(yd), Put(gd), dx, n, arg);
            var expect = Enumerable.Range(0, n).Select(i => gd[i] * Reference.UnaryGrad(op, xd[i], yd[i], arg)).ToArray();
            Close(expect, Get(dx), 2e-5f, 2e-6f, $"d{op}");
        }
    }

    [Fact]
    public void Conformance_Binary_EveryOpWithBroadcastAndStridedLayouts()
    {
        var rng = new Random(5);
        foreach (var op in Enum.GetValues<BinaryOp>())
            for (int trial = 0; trial < 2; trial++)
            {
                var shape = RandShape(rng, 1, 4, 5);
                var al = RandLayout(rng, shape, out int alen, allowBroadcast: true);
                var bl = RandLayout(rng, shape, out int blen, allowBroadcast: true);
                float lo = op == BinaryOp.Pow ? 0.3f : -3f;
                var ad = Rand(rng, alen, lo, 3f);
                var bd = Rand(rng, blen, op == BinaryOp.Div ? 0.5f : -2f, 2f);
                if (op is BinaryOp.Equal or BinaryOp.Max or BinaryOp.Min)
                    for (int i = 0; i < Math.Min(alen, blen); i += 2) ad[i] = bd[i];      // ties
                var y = New(al.Count);
                B.Binary(op, Put(ad), al, Put(bd), bl, y);
                var expect = Enumerable.Range(0, al.Count).Select(i => Reference.Binary(op, Reference.At(ad, al, i), Reference.At(bd, bl, i))).ToArray();
                Close(expect, Get(y), 1e-5f, 1e-6f, $"{op}");
            }
    }

    [Fact]
    public void Conformance_Binary_OutputMayAliasContiguousA_AndNaNPropagatesThroughMax()
    {
        var a = Put([1, 2, 3, 4, 5, 6]);
        var b = Put([10, 20, 30]);
        var al = Layout.Contiguous(2, 3);
        var bl = new Layout([2, 3], [0, 1]);           // row broadcast
        B.Binary(BinaryOp.Add, a, al, b, bl, a);
        Assert.Equal(new float[] { 11, 22, 33, 14, 25, 36 }, Get(a));
        var x = Put([float.NaN, 1f, -0f, 3f]);
        var z = Put([0f, float.NaN, 0f, 2f]);
        var y = New(4);
        B.Binary(BinaryOp.Max, x, Layout.Contiguous(4), z, Layout.Contiguous(4), y);
        var r = Get(y);
        Assert.True(float.IsNaN(r[0]) && float.IsNaN(r[1]));
        Assert.Equal(0f, r[2]);
        Assert.Equal(3f, r[3]);
    }

    [Fact]
    public void Conformance_Where_SelectsThroughBroadcastLayouts()
    {
        var rng = new Random(6);
        for (int trial = 0; trial < 4; trial++)
        {
            var shape = RandShape(rng, 1, 4, 4);
            var cl = RandLayout(rng, shape, out int clen, allowBroadcast: true);
            var al = RandLayout(rng, shape, out int alen, allowBroadcast: true);
            var bl = RandLayout(rng, shape, out int blen, allowBroadcast: true);
            var cd = Enumerable.Range(0, clen).Select(_ => (float)rng.Next(2)).ToArray();
            var ad = Rand(rng, alen);
            var bd = Rand(rng, blen);
            var y = New(cl.Count);
            B.Where(Put(cd), cl, Put(ad), al, Put(bd), bl, y);
            var expect = Enumerable.Range(0, cl.Count).Select(i => Reference.At(cd, cl, i) != 0 ? Reference.At(ad, al, i) : Reference.At(bd, bl, i)).ToArray();
            Assert.Equal(expect, Get(y));
        }
    }
}
