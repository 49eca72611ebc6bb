using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd;

namespace SharpTransformer.Tests.Nn;

/// <summary>
/// <see cref="LatentAttention"/> (DeepSeek's multi-head latent attention) against a scalar double-precision reference written from
/// the fixtures README (adjacent-pair RoPE as complex multiplication, no permutation trick), cached decoding (absorbed and expanded)
/// against the full forward pass, <see cref="LatentKvCache"/>'s size and batch reordering, and gradients against finite differences.
/// </summary>
public sealed class LatentAttentionTests
{
    private static LatentAttentionOptions Options(int? qLora = null, bool absorb = true, bool bias = false) =>
        new(Dim: 16, Heads: 3, KvLoraRank: 10, QkNopeHeadDim: 4, QkRopeHeadDim: 6, ValueHeadDim: 5, QLoraRank: qLora, RopeTheta: 100f,
            Bias: bias, AbsorbWhenCached: absorb);

    // A layer with random weights, norm weights and biases included (so that every parameter matters).
    private static LatentAttention Layer(LatentAttentionOptions o, ulong seed = 5)
    {
        var attn = new LatentAttention(o, new Generator(seed));
        var g = new Generator(seed + 100);
        using var _ = TensorScope.Suspend();
        foreach (var (name, p) in attn.NamedParameters())
            p.CopyFrom(name.EndsWith("layernorm.weight", StringComparison.Ordinal)
                ? Tensor.Rand(p.Shape.ToArray(), g, 0.5f, 1.5f)
                : Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.3f));
        return attn;
    }

    private static double[] Row(float[] w, int row, int cols) => Enumerable.Range(0, cols).Select(c => (double)w[row * cols + c]).ToArray();

    // y = W x (+ b) for W (out, in) row-major.
    private static double[] Apply(ILinear l, double[] x)
    {
        var w = l.Weight!.ToArray();
        var bias = l.Bias?.ToArray();
        var y = new double[l.OutFeatures];
        for (int o = 0; o < y.Length; o++)
        {
            double s = bias?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) s += w[o * x.Length + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private static double[] RmsNorm(ILayer norm, double[] x, double eps)
    {
        var w = ((RmsNorm)norm).Weight.ToArray();
        double ms = x.Sum(v => v * v) / x.Length;
        double r = 1 / Math.Sqrt(ms + eps);
        return x.Select((v, i) => v * r * w[i]).ToArray();
    }

    // Adjacent pairs (2i, 2i+1) as one complex number, times exp(i·pos·theta^(-2i/d)).
    private static double[] RopePairs(double[] x, int pos, double theta)
    {
        var y = (double[])x.Clone();
        int d = x.Length;
        for (int i = 0; i < d / 2; i++)
        {
            double a = pos * Math.Pow(theta, -2.0 * i / d), c = Math.Cos(a), s = Math.Sin(a);
            y[2 * i] = x[2 * i] * c - x[2 * i + 1] * s;
            y[2 * i + 1] = x[2 * i] * s + x[2 * i + 1] * c;
        }
        return y;
    }

    // The fixtures README's DeepSeek-V2 attention, token by token, in double: x (B, T, C) → (B, T, C).
    private static float[] Reference(LatentAttention attn, float[] x, int b, int t)
    {
        var o = attn.Options;
        int c = o.Dim, h = o.Heads, dn = o.QkNopeHeadDim, dr = o.QkRopeHeadDim, dv = o.ValueHeadDim, dc = o.KvLoraRank, dq = dn + dr;
        var y = new float[b * t * c];
        for (int bi = 0; bi < b; bi++)
        {
            var q = new double[t][]; var kn = new double[t][]; var vv = new double[t][]; var kr = new double[t][];
            for (int i = 0; i < t; i++)
            {
                var xi = Row(x, bi * t + i, c);
                q[i] = attn.Query is { } qp ? Apply(qp, xi) : Apply(attn.QueryUp!, RmsNorm(attn.QueryNorm!, Apply(attn.QueryDown!, xi), o.LatentNormEps));
                var kvA = Apply(attn.KeyValueDown, xi);
                var kv = Apply(attn.KeyValueUp, RmsNorm(attn.KeyValueNorm, kvA[..dc], o.LatentNormEps));   // per head [k_nope | v]
                kn[i] = kv; vv[i] = kv;
                kr[i] = RopePairs(kvA[dc..], i, o.RopeTheta);
                for (int hi = 0; hi < h; hi++)
                {
                    var rot = RopePairs(q[i][(hi * dq + dn)..((hi + 1) * dq)], i, o.RopeTheta);
                    Array.Copy(rot, 0, q[i], hi * dq + dn, dr);
                }
            }
            for (int i = 0; i < t; i++)
            {
                var heads = new double[h * dv];
                for (int hi = 0; hi < h; hi++)
                {
                    var s = new double[i + 1];
                    for (int j = 0; j <= i; j++)
                    {
                        double dot = 0;
                        for (int e = 0; e < dn; e++) dot += q[i][hi * dq + e] * kn[j][hi * (dn + dv) + e];
                        for (int e = 0; e < dr; e++) dot += q[i][hi * dq + dn + e] * kr[j][e];
                        s[j] = dot / Math.Sqrt(dq);
                    }
                    double max = s.Max(), sum = s.Sum(v => Math.Exp(v - max));
                    for (int j = 0; j <= i; j++)
                        for (int e = 0; e < dv; e++) heads[hi * dv + e] += Math.Exp(s[j] - max) / sum * vv[j][hi * (dn + dv) + dn + e];
                }
                var outp = Apply(attn.Output, heads);
                for (int e = 0; e < c; e++) y[(bi * t + i) * c + e] = (float)outp[e];
            }
        }
        return y;
    }

    private static double MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b).Max(p => Math.Abs((double)p.First - p.Second));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData(7, false)]
    [InlineData(null, true)]
    public void MatchesTheScalarReference(int? qLora, bool bias)
    {
        using var _ = GradMode.NoGrad();
        var attn = Layer(Options(qLora, bias: bias));
        var x = Tensor.RandN([2, 6, 16], new Generator(9));
        var got = attn.Forward(x).ToArray();
        var want = Reference(attn, x.ToArray(), 2, 6);
        double diff = MaxDiff(want, got);
        Assert.True(diff < 2e-5, $"latent attention differs from the scalar reference by {diff}");
    }

    [Fact]
    public void RotateHalfOnTheStoredLayoutWouldDiffer()
    {
        // The reference must be able to tell the two RoPE layouts apart, or the test above proves nothing about them.
        using var _ = GradMode.NoGrad();
        var attn = Layer(Options() with { InterleavedRope = false });
        var x = Tensor.RandN([1, 6, 16], new Generator(9));
        double diff = MaxDiff(Reference(attn, x.ToArray(), 1, 6), attn.Forward(x).ToArray());
        Assert.True(diff > 1e-3, $"rotate-half and adjacent-pair RoPE agree to {diff}");
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, null)]
    [InlineData(true, 7)]
    public void CachedDecodingEqualsTheFullForward(bool absorb, int? qLora)
    {
        using var _ = GradMode.NoGrad();
        var attn = Layer(Options(qLora, absorb));
        int b = 2, t = 9;
        var x = Tensor.RandN([b, t, 16], new Generator(11));
        var full = attn.Forward(x).ToArray();
        var cache = attn.CreateCache(16);
        var parts = new List<float[]> { attn.Forward(x.Narrow(1, 0, 4).Contiguous(), cache).ToArray() };   // a prompt of 4, then one by one
        for (int i = 4; i < t; i++) parts.Add(attn.Forward(x.Narrow(1, i, 1).Contiguous(), cache).ToArray());
        Assert.Equal(t, cache.Length);
        var stepped = Tensor.Concat(parts.Select((p, i) => Tensor.FromArray(p, b, i == 0 ? 4 : 1, 16)).ToList(), 1).ToArray();
        double diff = MaxDiff(full, stepped);
        Assert.True(diff < 2e-5, $"cached decoding (absorbed: {absorb}) differs from the full forward pass by {diff}");
    }

    [Fact]
    public void AbsorbedAndExpandedDecodingAgree()
    {
        using var _ = GradMode.NoGrad();
        var absorbed = Layer(Options(absorb: true));
        var expanded = Layer(Options(absorb: false));
        var x = Tensor.RandN([1, 12, 16], new Generator(4));
        var ca = absorbed.CreateCache(12);
        var ce = expanded.CreateCache(12);
        for (int i = 0; i < 12; i++)
        {
            var xi = x.Narrow(1, i, 1).Contiguous();
            double diff = MaxDiff(expanded.Forward(xi, ce).ToArray(), absorbed.Forward(xi, ca).ToArray());
            Assert.True(diff < 1e-5, $"step {i}: absorbed and expanded decoding differ by {diff}");
        }
    }

    [Fact]
    public void TheCacheKeepsOnlyTheLatentAndTheRopeKey()
    {
        using var _ = GradMode.NoGrad();
        var o = Options();
        var attn = Layer(o);
        var cache = attn.CreateCache(20);
        attn.Forward(Tensor.RandN([3, 7, 16], new Generator(2)), cache);
        var (latent, rope) = cache.Stored();
        Assert.Equal([3, 1, 7, o.KvLoraRank], latent.Shape.ToArray());
        Assert.Equal([3, 1, 7, o.QkRopeHeadDim], rope.Shape.ToArray());
        Assert.Equal((o.KvLoraRank + o.QkRopeHeadDim) * 4, cache.BytesPerToken);
        Assert.Equal(cache.BytesPerToken, o.CacheBytesPerToken);
        // Stored bytes per token, measured from what the cache returns.
        Assert.Equal(cache.BytesPerToken, (latent.Count + rope.Count) * 4 / (3 * cache.Length));
        Assert.Equal([3, 1, 7, o.KvLoraRank + o.QkRopeHeadDim], cache.StoredLatent().Shape.ToArray());
        cache.Reset();
        Assert.Equal(0, cache.Length);
        Assert.Throws<InvalidOperationException>(() => cache.Stored());
    }

    [Fact]
    public void ReorderBatchMovesEveryRowAndDecodingContinues()
    {
        using var _ = GradMode.NoGrad();
        var attn = Layer(Options());
        var x = Tensor.RandN([3, 6, 16], new Generator(13));
        var cache = attn.CreateCache(10);
        attn.Forward(x.Narrow(1, 0, 5).Contiguous(), cache);
        var before = cache.StoredLatent().Contiguous().ToArray();
        int[] rows = [2, 0, 2, 1];
        cache.ReorderBatch(rows);
        var after = cache.StoredLatent().Contiguous().ToArray();
        int per = before.Length / 3;
        for (int i = 0; i < rows.Length; i++)
            Assert.Equal(before.AsSpan(rows[i] * per, per).ToArray(), after.AsSpan(i * per, per).ToArray());
        // The next step of the reordered batch equals a fresh run over the reordered inputs.
        var index = Tensor.FromArray(rows);
        var xr = x.IndexSelect(0, index).Contiguous();                               // (4, 6, C)
        var next = attn.Forward(xr.Narrow(1, 5, 1).Contiguous(), cache).ToArray();
        var want = attn.Forward(xr).Narrow(1, 5, 1).Contiguous().ToArray();
        double diff = MaxDiff(want, next);
        Assert.True(diff < 2e-5, $"decoding after ReorderBatch differs by {diff}");
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.ReorderBatch([4]));
    }

    [Fact]
    public void CacheErrorsNameTheProblem()
    {
        var cache = new LatentKvCache(4, 10, 6);
        var e = Assert.Throws<ArgumentException>(() => cache.Append(Tensor.Zeros(1, 1, 2, 8), Tensor.Zeros(1, 1, 2, 6)));
        Assert.Contains("(batch, 1, time, 10)", e.Message);
        cache.Append(Tensor.Zeros(1, 1, 3, 10), Tensor.Zeros(1, 1, 3, 6));
        var full = Assert.Throws<InvalidOperationException>(() => cache.Append(Tensor.Zeros(1, 1, 2, 10), Tensor.Zeros(1, 1, 2, 6)));
        Assert.Contains("capacity of 4", full.Message);
        Assert.Throws<ArgumentException>(() => new LatentAttention(Options() with { QkRopeHeadDim = 5 }));
    }

    [Fact]
    public void InputGradientMatchesFiniteDifferences()
    {
        var attn = Layer(Options(qLora: 7));
        var rng = new Random(3);
        var x = GradCheck.Param(rng, [2, 4, 16], -1, 1);
        GradCheck.Check(xs => attn.Forward(xs[0]), [x], what: "latent attention dx");
    }

    [Fact]
    public void ParameterGradientsMatchFiniteDifferences()
    {
        // Every parameter: a few elements of each, central differences on a double-accumulated loss L = Σ w ⊙ y.
        var attn = Layer(Options(qLora: 7, bias: true));
        var x = Tensor.RandN([2, 5, 16], new Generator(21));
        var w = Tensor.RandN([2, 5, 16], new Generator(22));
        var wd = w.ToArray();
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            var y = attn.Forward(x).ToArray();
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y[i] * wd[i];
            return s;
        }
        attn.ZeroGrad();
        attn.Forward(x).Mul(w).Sum().Backward();
        var rng = new Random(7);
        foreach (var (name, p) in attn.NamedParameters())
        {
            var grad = p.Grad!.ToArray();
            var values = p.ToArray();
            for (int n = 0; n < 4; n++)
            {
                int e = rng.Next(values.Length);
                const float h = 1e-2f;
                double Central(float step)
                {
                    var v = (float[])values.Clone();
                    v[e] = values[e] + step; p.CopyFrom(v); double up = Loss();
                    v[e] = values[e] - step; p.CopyFrom(v); double down = Loss();
                    p.CopyFrom(values);
                    return (up - down) / (2 * step);
                }
                double num = (4 * Central(h / 2) - Central(h)) / 3;
                Assert.True(Math.Abs(num - grad[e]) <= 2e-3 * (1 + Math.Abs(num)), $"{name}[{e}]: analytic {grad[e]}, numeric {num}");
            }
        }
    }
}
