using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// The tiled attention kernel against a naive composition of primitive ops (full score matrix, softmax, matmul), forward and
/// backward, over tiles boundaries (T = 300 > 64/128 tiles), causal KV-cache alignment (Tq &lt; Tk), padding masks, a broadcast
/// additive bias that requires gradients, grouped-query heads, and fully masked rows. Tolerance 2e-4 absolute.
/// </summary>
public class AttentionKernelTests
{
    public static TheoryData<int, int, int, int, int, int, bool, bool, bool> Cases => new()
    {
        { 2, 4, 2, 7, 7, 8, true, false, false },
        { 1, 2, 2, 300, 300, 16, true, false, false },
        { 2, 4, 1, 5, 140, 8, true, true, false },
        { 2, 2, 2, 70, 130, 8, false, true, true },
        { 1, 6, 3, 65, 65, 4, true, true, true },
        { 2, 2, 1, 1, 200, 8, true, false, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesNaiveAttentionForwardAndBackward(int b, int h, int hkv, int tq, int tk, int d, bool causal, bool mask, bool bias)
    {
        var g = new Generator((ulong)(b * 1000 + tq * 10 + tk));
        Tensor P(params int[] s) { var t = Tensor.RandN(s, g); t.RequiresGrad = true; return t; }
        var q = P(b, h, tq, d); var k = P(b, hkv, tk, d); var v = P(b, hkv, tk, d);
        Tensor? km = null;
        if (mask)
        {
            var m = new float[b * tk];
            for (int i = 0; i < m.Length; i++) m[i] = g.NextFloat() < 0.25f ? 0f : 1f;
            m[0] = 1f;
            if (!causal) for (int j = 0; j < tk; j++) m[(b - 1) * tk + j] = j < 3 ? 1f : m[(b - 1) * tk + j];
            km = Tensor.FromArray(m, b, tk);
        }
        var bi = bias ? P(1, h, tq, tk) : null;
        var w = Tensor.RandN([b, h, tq, d], g);

        var y = Functional.ScaledDotProductAttention(q, k, v, causal, km, bi);
        y.Mul(w).Sum().Backward();
        var (gq, gk, gv, gb) = (q.Grad!.ToArray(), k.Grad!.ToArray(), v.Grad!.ToArray(), bi?.Grad?.ToArray());
        foreach (var t in new[] { q, k, v, bi }) if (t is not null) t.Grad = null;

        var yr = Naive(q, k, v, causal, km, bi);
        yr.Mul(w).Sum().Backward();
        Close("output", yr.ToArray(), y.ToArray());
        Close("dq", q.Grad!.ToArray(), gq);
        Close("dk", k.Grad!.ToArray(), gk);
        Close("dv", v.Grad!.ToArray(), gv);
        if (bi is not null) Close("dbias", bi.Grad!.ToArray(), gb!);
    }

    [Fact]
    public void FullyMaskedQueryRowGivesZeroOutputAndGradients()
    {
        var g = new Generator(3);
        var q = Tensor.RandN([1, 1, 2, 4], g); q.RequiresGrad = true;
        var k = Tensor.RandN([1, 1, 3, 4], g); k.RequiresGrad = true;
        var v = Tensor.RandN([1, 1, 3, 4], g); v.RequiresGrad = true;
        var bias = Tensor.FromArray([float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 0f, 0f, 0f], 1, 1, 2, 3);
        var y = Functional.ScaledDotProductAttention(q, k, v, bias: bias);
        Assert.All(y.Narrow(2, 0, 1).ToArray(), x => Assert.Equal(0f, x));
        y.Sum().Backward();
        Assert.All(q.Grad!.Narrow(2, 0, 1).ToArray(), x => Assert.Equal(0f, x));
        Assert.All(y.ToArray(), x => Assert.True(float.IsFinite(x)));
    }

    // softmax(Q Kᵀ · scale + bias + mask) V with the score matrix materialised; GQA by repeating key/value heads.
    private static Tensor Naive(Tensor q, Tensor k, Tensor v, bool causal, Tensor? keyMask, Tensor? bias)
    {
        int b = q.Size(0), h = q.Size(1), tq = q.Size(2), d = q.Size(3), hkv = k.Size(1), tk = k.Size(2), rep = h / hkv;
        var kk = k.Unsqueeze(2).Expand(b, hkv, rep, tk, d).Reshape(b, h, tk, d);
        var vv = v.Unsqueeze(2).Expand(b, hkv, rep, tk, d).Reshape(b, h, tk, d);
        var s = q.MatMul(kk.Transpose(-2, -1)).Mul(1f / MathF.Sqrt(d));
        if (bias is not null) s = s.Add(bias);
        var allowed = new float[b * tq * tk];
        for (int bb = 0; bb < b; bb++)
            for (int i = 0; i < tq; i++)
                for (int j = 0; j < tk; j++)
                {
                    bool ok = (!causal || j <= i + tk - tq) && (keyMask is null || keyMask[bb, j] != 0f);
                    allowed[(bb * tq + i) * tk + j] = ok ? 1f : 0f;
                }
        var hidden = Tensor.FromArray(allowed, b, 1, tq, tk).Equal(Tensor.Zeros(1));
        s = s.MaskedFill(hidden, -1e30f);
        return s.Softmax(-1).MatMul(vv);
    }

    private static void Close(string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 2e-4 + 2e-4 * Math.Abs(expected[i]), $"{what}[{i}]: naive {expected[i]}, tiled {actual[i]}");
    }
}
