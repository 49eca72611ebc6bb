using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// FsCheck properties: for random small shapes and values, every differentiable op's analytic gradient equals central finite
/// differences (h = 5e-3 in float32). Tolerance, unless stated beside a property: |analytic − numeric| ≤ 1e-2 + 1e-2·|numeric|.
/// Inputs are kept away from kinks (relu, abs, clamp, max ties) by the generators.
/// </summary>
public class GradientProperties
{
    private static int D(int x, int lo, int hi) => lo + Math.Abs(x) % (hi - lo + 1);
    private static Generator G(int seed) => new((ulong)(uint)seed);

    [Property(MaxTest = 12)]
    public void BinaryOpsWithBroadcasting(int seed, int m0, int n0, int kind)
    {
        int m = D(m0, 1, 4), n = D(n0, 1, 5);
        var g = G(seed);
        int[] bShape = (Math.Abs(kind) % 3) switch { 0 => [n], 1 => [m, 1], _ => [m, n] };
        var a = Rand(g, [m, n]);
        Check("add", t => t[0].Add(t[1]), [a, Rand(g, bShape)]);
        Check("sub", t => t[0].Sub(t[1]), [a, Rand(g, bShape)]);
        Check("mul", t => t[0].Mul(t[1]), [a, Rand(g, bShape)]);
        Check("div", t => t[0].Div(t[1]), [a, Rand(g, bShape, minAbs: 0.5f)]);
        Check("pow", t => t[0].Pow(t[1]), [Rand(g, [m, n], positive: true), Rand(g, bShape, scale: 0.5f)]);
        Check("maximum", t => t[0].Maximum(t[1]), [a, a.Detach().Add(Rand(g, [m, n], minAbs: 0.1f))]);
    }

    [Property(MaxTest = 10)]
    public void UnaryOps(int seed, int n0)
    {
        int n = D(n0, 1, 9);
        var g = G(seed);
        Check("neg", t => t[0].Neg(), [Rand(g, [2, n])]);
        Check("exp", t => t[0].Exp(), [Rand(g, [2, n])]);
        Check("log", t => t[0].Log(), [Rand(g, [2, n], positive: true)]);
        Check("sqrt", t => t[0].Sqrt(), [Rand(g, [2, n], positive: true)]);
        Check("tanh", t => t[0].Tanh(), [Rand(g, [2, n])]);
        Check("sigmoid", t => t[0].Sigmoid(), [Rand(g, [2, n])]);
        Check("relu", t => t[0].Relu(), [Rand(g, [2, n], minAbs: 0.05f)]);
        Check("gelu", t => t[0].Gelu(), [Rand(g, [2, n])]);
        Check("gelu_tanh", t => t[0].Gelu(tanhApproximation: true), [Rand(g, [2, n])]);
        Check("silu", t => t[0].Silu(), [Rand(g, [2, n])]);
        Check("abs", t => t[0].Abs(), [Rand(g, [2, n], minAbs: 0.05f)]);
        Check("square", t => t[0].Square(), [Rand(g, [2, n])]);
        Check("reciprocal", t => t[0].Reciprocal(), [Rand(g, [2, n], minAbs: 0.5f)]);
        Check("pow_scalar", t => t[0].Pow(2.5f), [Rand(g, [2, n], positive: true)]);
        Check("clamp", t => t[0].Clamp(-0.5f, 0.5f), [Rand(g, [2, n], minAbs: 0.6f, scale: 0.3f)]);
        Check("scalar_arith", t => (2f - t[0] * 3f + 1f) / 4f, [Rand(g, [2, n])]);
        Check("rdiv", t => 2f / t[0], [Rand(g, [2, n], minAbs: 0.5f)]);
    }

    [Property(MaxTest = 10)]
    public void MatMulAndLinear(int seed, int m0, int k0, int n0, int batch0)
    {
        int m = D(m0, 1, 4), k = D(k0, 1, 5), n = D(n0, 1, 4), b = D(batch0, 1, 3);
        var g = G(seed);
        Check("matmul", t => t[0].MatMul(t[1]), [Rand(g, [b, m, k]), Rand(g, [b, k, n])]);
        Check("matmul_broadcast_batch", t => t[0].MatMul(t[1]), [Rand(g, [b, m, k]), Rand(g, [k, n])]);
        Check("matmul_transposed", t => t[0].Transpose(-2, -1).MatMul(t[1].Transpose(-2, -1)), [Rand(g, [b, k, m]), Rand(g, [b, n, k])]);
        Check("matmul_vector", t => t[0].MatMul(t[1]), [Rand(g, [m, k]), Rand(g, [k])]);
        Check("linear", t => Tensor.Linear(t[0], t[1], t[2]), [Rand(g, [b, m, k]), Rand(g, [n, k]), Rand(g, [n])]);
        Check("linear_no_bias", t => Tensor.Linear(t[0], t[1]), [Rand(g, [m, k]), Rand(g, [n, k])]);
    }

    [Property(MaxTest = 10)]
    public void Reductions(int seed, int a0, int b0, int c0, int dim0)
    {
        int a = D(a0, 1, 3), b = D(b0, 2, 4), c = D(c0, 1, 4), dim = D(dim0, 0, 2);
        var g = G(seed);
        var distinct = Tensor.FromArray(Enumerable.Range(0, a * b * c).Select(i => (float)((i * 7919) % 97) / 10f - 4f).ToArray(), a, b, c);
        Check("sum", t => t[0].Sum(dim), [Rand(g, [a, b, c])]);
        Check("sum_keepdim", t => t[0].Sum(dim, keepDim: true), [Rand(g, [a, b, c])]);
        Check("sum_all", t => t[0].Sum(), [Rand(g, [a, b, c])]);
        Check("mean", t => t[0].Mean(dim), [Rand(g, [a, b, c])]);
        Check("mean_dims", t => t[0].Mean([0, 2]), [Rand(g, [a, b, c])]);
        Check("max", t => t[0].Max(dim), [distinct]);
        Check("min", t => t[0].Min(dim, keepDim: true), [distinct]);
        Check("var", t => t[0].Var(1), [Rand(g, [a, b, c])]);
        Check("var_biased", t => t[0].Var(1, unbiased: false), [Rand(g, [a, b, c])]);
    }

    [Property(MaxTest = 10)]
    public void SoftmaxAndNorms(int seed, int r0, int c0, int dim0)
    {
        int r = D(r0, 1, 3), c = D(c0, 2, 7), dim = D(dim0, 0, 1);
        var g = G(seed);
        Check("softmax", t => t[0].Softmax(dim), [Rand(g, [r, c], scale: 2f)]);
        Check("log_softmax", t => t[0].LogSoftmax(dim), [Rand(g, [r, c], scale: 2f)]);
        Check("softmax_large_logits", t => t[0].Softmax(-1), [Rand(g, [r, c]).Add(100f)]);
        Check("layer_norm", t => Functional.LayerNorm(t[0], t[1], t[2]), [Rand(g, [r, c]), Rand(g, [c]), Rand(g, [c])]);
        Check("layer_norm_plain", t => Functional.LayerNorm(t[0], null, null), [Rand(g, [r, c])]);
        Check("rms_norm", t => Functional.RmsNorm(t[0], t[1]), [Rand(g, [r, c]), Rand(g, [c])]);
    }

    [Property(MaxTest = 8)]
    public void EmbeddingCrossEntropyDropout(int seed, int r0, int c0)
    {
        int r = D(r0, 1, 4), c = D(c0, 2, 6);
        var g = G(seed);
        var ids = Tensor.FromArray(Enumerable.Range(0, r * 2).Select(i => (i * 3 + seed) % c is var x && x < 0 ? x + c : (i * 3 + seed) % c).ToArray(), r, 2);
        Check("embedding", t => Functional.Embedding(ids, t[0]), [Rand(g, [c, 3])]);
        var targets = Tensor.FromArray(Enumerable.Range(0, r).Select(i => i == 0 && r > 1 ? -100 : (i * 5 + 1) % c).ToArray());
        Check("cross_entropy_mean", t => Functional.CrossEntropy(t[0], targets), [Rand(g, [r, c])]);
        Check("cross_entropy_sum", t => Functional.CrossEntropy(t[0], targets, reduction: Reduction.Sum), [Rand(g, [r, c])]);
        Check("cross_entropy_none", t => Functional.CrossEntropy(t[0], targets, reduction: Reduction.None), [Rand(g, [r, c])]);
        Check("cross_entropy_smoothing", t => Functional.CrossEntropy(t[0], targets, labelSmoothing: 0.1f), [Rand(g, [r, c])]);
        Check("dropout", t => Functional.Dropout(t[0], 0.3f, training: true, new Generator(5)), [Rand(g, [r, c])]);
    }

    [Property(MaxTest = 8)]
    public void SelectionJoinsAndViews(int seed, int a0, int b0)
    {
        int a = D(a0, 2, 4), b = D(b0, 2, 4);
        var g = G(seed);
        var cond = Tensor.FromArray(Enumerable.Range(0, a * b).Select(i => (float)((i + seed) & 1)).ToArray(), a, b);
        Check("where", t => Tensor.Where(cond, t[0], t[1]), [Rand(g, [a, b]), Rand(g, [b])]);
        Check("masked_fill", t => t[0].MaskedFill(cond, -3f), [Rand(g, [a, b])]);
        Check("concat", t => Tensor.Concat([t[0], t[1]], 1), [Rand(g, [a, b]), Rand(g, [a, 2])]);
        Check("stack", t => Tensor.Stack([t[0], t[1]], 1), [Rand(g, [a, b]), Rand(g, [a, b])]);
        Check("split", t => t[0].Split([1, b - 1], 1)[1].Mul(t[0].Split([1, b - 1], 1)[0]), [Rand(g, [a, b])]);
        Check("chunk", t => t[0].Chunk(2, 0)[0].Sub(t[0].Chunk(2, 0)[1]), [Rand(g, [2 * a, b])]);
        var idx = Tensor.FromArray(Enumerable.Range(0, 5).Select(i => (i * 2 + 1) % b).ToArray());
        Check("index_select", t => t[0].IndexSelect(1, idx), [Rand(g, [a, b])]);
        Check("views", t => t[0].Reshape(b, a).Transpose(0, 1).Unsqueeze(0).Expand(2, a, b).Narrow(2, 1, b - 1).Select(0, 1).Unsqueeze(1).Squeeze(1).Contiguous().Slice(0, 0, -1),
            [Rand(g, [a, b])]);
        Check("permute", t => t[0].Permute(2, 0, 1).Flatten(), [Rand(g, [a, b, 2])]);
    }

    [Property(MaxTest = 6)]
    public void RotaryEmbedding(int seed, int t0, int h0)
    {
        int t = D(t0, 1, 5), h = D(h0, 1, 2);
        var g = G(seed);
        var pos = Tensor.FromArray(Enumerable.Range(0, 2 * t).Select(i => i * 3 % 17).ToArray(), 2, t);
        Check("rope", x => Functional.Rope(x[0], pos, 100f), [Rand(g, [2, h, t, 4])]);
    }

    // Attention: causal, key padding mask, broadcast additive bias that needs its gradient, grouped-query (Hkv < H), Tq < Tk.
    [Property(MaxTest = 6)]
    public void ScaledDotProductAttention(int seed, int tq0, int extra0, int mode)
    {
        int tq = D(tq0, 1, 4), tk = tq + D(extra0, 0, 3);
        var g = G(seed);
        var mask = Tensor.FromArray(Enumerable.Range(0, 2 * tk).Select(i => i % tk == tk - 1 && tk > 1 ? 0f : 1f).ToArray(), 2, tk);
        Check("attention_causal_gqa", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], causal: true),
            [Rand(g, [2, 4, tq, 4]), Rand(g, [2, 2, tk, 4]), Rand(g, [2, 2, tk, 4])]);
        Check("attention_mask_bias", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], causal: Math.Abs(mode) % 2 == 0, keyMask: mask, bias: x[3]),
            [Rand(g, [2, 2, tq, 4]), Rand(g, [2, 2, tk, 4]), Rand(g, [2, 2, tk, 4]), Rand(g, [1, 2, tq, tk])]);
    }
}
