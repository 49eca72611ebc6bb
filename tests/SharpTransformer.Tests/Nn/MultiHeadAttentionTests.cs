using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Nn;

/// <summary>
/// <see cref="MultiHeadAttention"/>'s options against a scalar reference in double precision: cross-attention, an additive bias
/// with its gradient, a scale override, separate value head width, grouped-query heads and the sliding window.
/// </summary>
public sealed class MultiHeadAttentionTests
{
    // softmax(q kᵀ·scale + bias, hidden where causal or outside the window) v; q (B, H, Tq, D), k (B, Hkv, Tk, D), v (B, Hkv, Tk, Dv),
    // bias (B, H, Tq, Tk) or null; query i sits at position i + Tk - Tq. Returns (B, H, Tq, Dv).
    internal static float[] Reference(float[] q, float[] k, float[] v, int b, int h, int hkv, int tq, int tk, int d, int dv,
        bool causal, int? window, float[]? bias, float scale)
    {
        var y = new float[b * h * tq * dv];
        var s = new double[tk];
        for (int bi = 0; bi < b; bi++)
            for (int hi = 0; hi < h; hi++)
            {
                int kh = hi / (h / hkv);
                for (int i = 0; i < tq; i++)
                {
                    int pos = i + tk - tq;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < tk; j++)
                    {
                        bool seen = (!causal || j <= pos) && (window is not { } w || pos - j < w);
                        if (!seen) { s[j] = double.NegativeInfinity; continue; }
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double)q[((bi * h + hi) * tq + i) * d + c] * k[((bi * hkv + kh) * tk + j) * d + c];
                        s[j] = dot * scale + (bias?[((bi * h + hi) * tq + i) * tk + j] ?? 0f);
                        max = Math.Max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < tk; j++) { s[j] = double.IsNegativeInfinity(s[j]) ? 0 : Math.Exp(s[j] - max); sum += s[j]; }
                    for (int c = 0; c < dv; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < tk; j++) acc += s[j] / sum * v[((bi * hkv + kh) * tk + j) * dv + c];
                        y[((bi * h + hi) * tq + i) * dv + c] = (float)acc;
                    }
                }
            }
        return y;
    }

    // The module's own projections, split into heads: (B, n, T, w) as an array.
    private static float[] Heads(ILinear proj, Tensor x, int n, int w) =>
        proj.Forward(x).Reshape(x.Size(0), x.Size(1), n, w).Transpose(1, 2).Contiguous().ToArray();

    // Runs the module and the reference (projections by the module's layers, attention by the reference, then o_proj).
    private static void CheckAgainstReference(AttentionOptions o, int b, int t, int s, Tensor? bias = null, float tolerance = 2e-5f)
    {
        using var _ = GradMode.NoGrad();
        var g = new Generator(3);
        var attn = new MultiHeadAttention(o, g);
        var x = Tensor.RandN([b, t, o.Dim], g);
        var src = s > 0 ? Tensor.RandN([b, s, o.KvDim ?? o.Dim], g) : null;
        var got = attn.Forward(x, kvSource: src, bias: bias).ToArray();
        int h = o.Heads, hkv = attn.KvHeads, d = attn.HeadDim, dv = attn.ValueHeadDim;
        var kvIn = src ?? x;
        int tk = kvIn.Size(1);
        float[] q, k, v;
        if (attn.Qkv is { } qkv)
        {
            var all = qkv.Forward(x);
            q = all.Narrow(-1, 0, h * d).Reshape(b, t, h, d).Transpose(1, 2).Contiguous().ToArray();
            k = all.Narrow(-1, h * d, hkv * d).Reshape(b, t, hkv, d).Transpose(1, 2).Contiguous().ToArray();
            v = all.Narrow(-1, (h + hkv) * d, hkv * dv).Reshape(b, t, hkv, dv).Transpose(1, 2).Contiguous().ToArray();
        }
        else (q, k, v) = (Heads(attn.Query!, x, h, d), Heads(attn.Key!, kvIn, hkv, d), Heads(attn.Value!, kvIn, hkv, dv));
        var fullBias = bias?.Expand(b, h, t, tk).Contiguous().ToArray();
        var y = Reference(q, k, v, b, h, hkv, t, tk, d, dv, o.Causal && src is null, o.Window, fullBias, o.Scale ?? 1f / MathF.Sqrt(d));
        var want = attn.Output.Forward(Tensor.FromArray(y, b, h, t, dv).Transpose(1, 2).Reshape(b, t, h * dv)).ToArray();
        Assert.Equal(want.Length, got.Length);
        double worst = want.Zip(got).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(worst < tolerance, $"attention differs from the reference by {worst}");
    }

    [Fact]
    public void FusedSelfAttentionMatchesTheReference() => CheckAgainstReference(new AttentionOptions(16, 4), 2, 5, 0);

    [Fact]
    public void SeparateGroupedQueryAttentionMatchesTheReference() =>
        CheckAgainstReference(new AttentionOptions(16, 4, KvHeads: 2, FusedQkv: false, Bias: false), 2, 6, 0);

    [Fact]
    public void CrossAttentionReadsKeysAndValuesFromTheSource() =>
        CheckAgainstReference(new AttentionOptions(16, 4, Causal: false, FusedQkv: false, KvDim: 12), 2, 3, 7);

    [Fact]
    public void ScoreBiasAndScaleOverrideMatchTheReference()
    {
        var bias = Tensor.RandN([1, 4, 5, 5], new Generator(8));
        CheckAgainstReference(new AttentionOptions(16, 4, Causal: false, Scale: 1f), 2, 5, 0, bias);
    }

    [Fact]
    public void ValueHeadWidthMayDifferFromTheQueryKeyWidth() =>
        CheckAgainstReference(new AttentionOptions(16, 4, KvHeads: 2, FusedQkv: false, HeadDim: 6, ValueHeadDim: 3), 2, 5, 0);

    [Fact]
    public void FusedProjectionWithAnotherValueWidthSplitsItsRowsAccordingly() =>
        CheckAgainstReference(new AttentionOptions(16, 2, HeadDim: 4, ValueHeadDim: 10), 1, 4, 0);

    [Fact]
    public void SlidingWindowHidesKeysThatSlidOut() =>
        CheckAgainstReference(new AttentionOptions(16, 4, FusedQkv: false, Window: 3), 2, 9, 0);

    [Fact]
    public void SlidingWindowWithCachedDecodingEqualsTheFullPass()
    {
        using var _ = GradMode.NoGrad();
        var g = new Generator(4);
        var attn = new MultiHeadAttention(new AttentionOptions(16, 4, KvHeads: 2, FusedQkv: false, Window: 3, RopeTheta: 10000f), g);
        var x = Tensor.RandN([2, 8, 16], g);
        var full = attn.Forward(x).ToArray();
        var cache = new KvCache(16);
        var parts = new List<float>();
        parts.AddRange(attn.Forward(x.Narrow(1, 0, 4), cache).Transpose(0, 1).Contiguous().ToArray());
        for (int t = 4; t < 8; t++) parts.AddRange(attn.Forward(x.Narrow(1, t, 1), cache).Transpose(0, 1).Contiguous().ToArray());
        var stepwise = Tensor.FromArray(parts.ToArray(), 8, 2, 16).Transpose(0, 1).Contiguous().ToArray();
        Assert.True(full.Zip(stepwise).Max(p => Math.Abs(p.First - p.Second)) < 1e-5);
    }

    [Fact]
    public void TheScoreBiasReceivesItsGradient()
    {
        var g = new Generator(5);
        var attn = new MultiHeadAttention(new AttentionOptions(8, 2, Causal: false, FusedQkv: false), g);
        var x = Tensor.RandN([1, 3, 8], g);
        var bias = Tensor.RandN([1, 2, 3, 3], g);
        bias.RequiresGrad = true;
        var w = Tensor.RandN([1, 3, 8], g);
        attn.Forward(x, bias: bias).Mul(w).Sum().Backward();
        var grad = bias.Grad!.ToArray();
        // Central differences (fp32: step 1e-2, tolerance 2e-3).
        using var _ = GradMode.NoGrad();
        float Loss(float[] bv) => attn.Forward(x, bias: Tensor.FromArray(bv, 1, 2, 3, 3)).Mul(w).Sum().ToArray()[0];
        var b0 = bias.ToArray();
        for (int i = 0; i < b0.Length; i++)
        {
            var plus = (float[])b0.Clone(); plus[i] += 1e-2f;
            var minus = (float[])b0.Clone(); minus[i] -= 1e-2f;
            float fd = (Loss(plus) - Loss(minus)) / 2e-2f;
            Assert.True(Math.Abs(fd - grad[i]) < 2e-3f + 0.05f * Math.Abs(fd), $"bias gradient {i}: analytic {grad[i]}, numeric {fd}");
        }
        Assert.Contains(grad, v => Math.Abs(v) > 1e-3f);
    }

    [Fact]
    public void BadOptionsAndInputsAreNamed()
    {
        Assert.Contains("Window", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(new AttentionOptions(16, 4, Window: 0))).Message);
        Assert.Contains("Causal", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(new AttentionOptions(16, 4, Causal: false, Window: 4))).Message);
        Assert.Contains("Scale", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(new AttentionOptions(16, 4, Scale: -1f))).Message);
        Assert.Contains("divisible", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(new AttentionOptions(15, 4))).Message);
        Assert.Contains("KvDim", Assert.Throws<ArgumentException>(() => new MultiHeadAttention(new AttentionOptions(16, 4, KvDim: 8))).Message);
        var fused = new MultiHeadAttention(new AttentionOptions(16, 4));
        Assert.Contains("FusedQkv", Assert.Throws<InvalidOperationException>(() => fused.Forward(Tensor.Zeros(1, 2, 16), kvSource: Tensor.Zeros(1, 3, 16))).Message);
        var cross = new MultiHeadAttention(new AttentionOptions(16, 4, Causal: false, FusedQkv: false, KvDim: 12));
        Assert.Contains("(1, time, 12)", Assert.Throws<ArgumentException>(() => cross.Forward(Tensor.Zeros(1, 2, 16), kvSource: Tensor.Zeros(1, 3, 16))).Message);
    }
}
