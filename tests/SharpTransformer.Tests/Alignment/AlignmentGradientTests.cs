using SharpTransformer.Alignment;
using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Alignment;

/// <summary>
/// Sequence log-probabilities against a direct log-softmax, batched against one at a time, and the gradient of each loss
/// (DPO sigmoid, cDPO, IPO, GRPO) through a tiny GPT-2 against central finite differences of its parameters.
/// </summary>
public sealed class AlignmentGradientTests
{
    internal static Gpt2 TinyModel(ulong seed = 3) => new(new Gpt2Config(VocabSize: 12, ContextLength: 16, Layers: 1, Heads: 2, Embedding: 16), seed);

    private static readonly PromptCompletion[] Rows =
    [
        new([1, 2, 3], [4, 5]),
        new([7], [8, 9, 10, 11]),
        new([2, 2, 6, 1, 0], [3]),
        new([5, 4], [6, 6, 7]),
    ];

    [Fact]
    public void SequenceLogProbsEqualADirectLogSoftmaxAndDoNotDependOnPadding()
    {
        var model = TinyModel();
        model.Eval();
        using var _ = GradMode.NoGrad();
        var batched = SequenceLogProbs.PerToken(model, Rows);
        Assert.Equal(new[] { 4, 5 }, new[] { batched.Batch, batched.Length });   // T = longest prompt + completion − 1
        var sums = batched.Sum().ToArray();
        for (int b = 0; b < Rows.Length; b++)
        {
            var (p, c) = Rows[b];
            int[] seq = [.. p, .. c];
            var logits = model.Forward(Tensor.FromArray(seq, 1, seq.Length)).ToArray();   // (1, L, V), unpadded
            int v = model.VocabSize;
            double expected = 0;
            for (int j = 0; j < c.Count; j++)
            {
                int pos = p.Count - 1 + j;
                var row = logits.AsSpan(pos * v, v);
                double max = double.NegativeInfinity;
                foreach (var x in row) max = Math.Max(max, x);
                double lse = 0;
                foreach (var x in row) lse += Math.Exp(x - max);
                expected += row[c[j]] - max - Math.Log(lse);
                Assert.Equal(1f, batched.Mask[b * batched.Length + pos]);
            }
            Assert.Equal(expected, sums[b], 4);
            Assert.Equal(c.Count, (int)batched.Mask.Skip(b * batched.Length).Take(batched.Length).Sum());
            var alone = SequenceLogProbs.Sum(model, [Rows[b]]).Item();
            Assert.Equal(alone, sums[b], 4);
        }
        var averaged = SequenceLogProbs.Sum(model, Rows, average: true).ToArray();
        for (int b = 0; b < Rows.Length; b++) Assert.Equal(sums[b] / Rows[b].Completion.Count, averaged[b], 5);
    }

    [Fact]
    public void SequenceLogProbsRejectEmptyAndOverlongRows()
    {
        var model = TinyModel();
        Assert.Contains("row 1 has an empty completion", Assert.Throws<ArgumentException>(() => SequenceLogProbs.PerToken(model, [Rows[0], new([1], [])])).Message);
        Assert.Contains("row 0 has an empty prompt", Assert.Throws<ArgumentException>(() => SequenceLogProbs.PerToken(model, [new([], [1])])).Message);
        var e = Assert.Throws<ArgumentException>(() => SequenceLogProbs.PerToken(model, [new(Enumerable.Repeat(1, 10).ToArray(), Enumerable.Repeat(2, 8).ToArray())]));
        Assert.Contains("10 prompt + 8 completion tokens; at most 17 fit", e.Message);
    }

    [Fact]
    public void LogSigmoidHasTheExactGradientAtZeroAndIsStableFarOut()
    {
        var x = Tensor.FromArray([0f, -200f, 200f, 1.5f]);
        x.RequiresGrad = true;
        var y = DpoLoss.LogSigmoid(x);
        y.Sum().Backward();
        var v = y.ToArray();
        Assert.Equal(-Math.Log(2), v[0], 6);
        Assert.Equal(-200f, v[1], 3);
        Assert.Equal(0f, v[2], 6);
        Assert.Equal(-Math.Log(1 + Math.Exp(-1.5)), v[3], 6);
        var g = x.Grad!.ToArray();
        Assert.Equal(0.5f, g[0], 6);
        Assert.Equal(1f, g[1], 6);
        Assert.Equal(0f, g[2], 6);
        Assert.Equal(1 / (1 + Math.Exp(1.5)), g[3], 6);
    }

    public static TheoryData<DpoLossKind, float> DpoKinds() => new() { { DpoLossKind.Sigmoid, 0f }, { DpoLossKind.Sigmoid, 0.2f }, { DpoLossKind.Ipo, 0f } };

    [Theory]
    [MemberData(nameof(DpoKinds))]
    public void DpoLossGradientMatchesFiniteDifferencesOnATinyModel(DpoLossKind kind, float smoothing)
    {
        var model = TinyModel();
        model.Eval();
        PromptCompletion[] chosen = [Rows[0], Rows[1]], rejected = [new([1, 2, 3], [6, 2, 2]), new([7], [0])];
        bool average = kind == DpoLossKind.Ipo;
        // Reference log-probabilities near the policy's but off them, so h is not 0 and the loss is of order 1.
        float[] pc0, pr0;
        using (GradMode.NoGrad())
        {
            pc0 = SequenceLogProbs.Sum(model, chosen, average).ToArray();
            pr0 = SequenceLogProbs.Sum(model, rejected, average).ToArray();
        }
        var rc = Tensor.FromArray([pc0[0] - 0.7f, pc0[1] + 0.4f]);
        var rr = Tensor.FromArray([pr0[0] + 0.3f, pr0[1] - 0.9f]);
        Tensor Loss() => DpoLoss.Compute(SequenceLogProbs.Sum(model, chosen, average), SequenceLogProbs.Sum(model, rejected, average), rc, rr,
            beta: 0.5f, kind, smoothing).Loss;
        CheckParameters(model, Loss, $"DPO {kind} smoothing {smoothing}");
    }

    [Theory]
    [InlineData(GrpoLossKind.Grpo, 0.04f)]
    [InlineData(GrpoLossKind.Bnpo, 0f)]
    public void GrpoLossGradientMatchesFiniteDifferencesOnATinyModel(GrpoLossKind kind, float beta)
    {
        var model = TinyModel();
        model.Eval();
        TokenLogProbs start;
        using (GradMode.NoGrad()) start = SequenceLogProbs.PerToken(model, Rows);
        var now = start.LogProbs.ToArray();
        var rng = new Random(5);
        float eps = 0.2f;
        var old = new float[now.Length];
        var reference = new float[now.Length];
        for (int i = 0; i < now.Length; i++)
        {
            if (start.Mask[i] == 0f) continue;
            // Ratios spread across the clip range, none within 0.05 of a kink (finite differences must not cross one).
            float d;
            do d = (float)(rng.NextDouble() - 0.5) * 0.8f;
            while (Math.Abs(Math.Exp(-d) - (1 - eps)) < 0.05 || Math.Abs(Math.Exp(-d) - (1 + eps)) < 0.05);
            old[i] = now[i] + d;
            reference[i] = now[i] + (float)(rng.NextDouble() - 0.5);
        }
        float[] advantages = [1.2f, -0.7f, 0.4f, -1.1f];
        Tensor Loss()
        {
            var per = SequenceLogProbs.PerToken(model, Rows);
            return GrpoLoss.Compute(per.LogProbs, per.Mask, old, beta > 0 ? reference : null, advantages, eps, beta, kind).Loss;
        }
        CheckParameters(model, Loss, $"GRPO {kind} beta {beta}");
    }

    // Analytic gradients of a few elements of every parameter against central differences (h = 1e-2, float32 loss).
    private static void CheckParameters(CausalLanguageModel model, Func<Tensor> loss, string what)
    {
        model.ZeroGrad();
        loss().Backward();
        var rng = new Random(11);
        int bad = 0, checkedCount = 0;
        double largest = 0;
        var report = new System.Text.StringBuilder();
        foreach (var (name, p) in model.NamedParameters())
        {
            var grad = p.Grad?.ToArray() ?? new float[p.Count];
            var x0 = p.ToArray();
            for (int k = 0; k < 3; k++)
            {
                int e = rng.Next(p.Count);
                const float h = 1e-2f;
                double Eval(float value)
                {
                    var x = (float[])x0.Clone();
                    x[e] = value;
                    p.CopyFrom(x);
                    using var _ = GradMode.NoGrad();
                    return loss().Item();
                }
                double numeric = (Eval(x0[e] + h) - Eval(x0[e] - h)) / (2 * h);
                p.CopyFrom(x0);
                largest = Math.Max(largest, Math.Abs(grad[e]));
                checkedCount++;
                if (Math.Abs(grad[e] - numeric) > 3e-2 * Math.Abs(numeric) + 3e-4)
                {
                    bad++;
                    report.Append($"\n  {name}[{e}]: analytic {grad[e]:G6}, numeric {numeric:G6}");
                }
            }
        }
        Assert.True(bad == 0, $"{what}: {bad} of {checkedCount} parameter gradients differ from central differences:{report}");
        Assert.True(largest > 1e-2, $"{what}: every checked gradient is tiny ({largest:G3}); the check would not see an error.");
    }
}
