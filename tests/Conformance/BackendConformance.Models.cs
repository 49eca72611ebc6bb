using SharpTransformer.Autograd;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;
using Xunit;

namespace SharpTransformer.Conformance;

public abstract partial class BackendConformance
{
    /// <summary>Where figures (loss agreement) are written; subclasses may route it to xunit's output.</summary>
    protected virtual void Log(string line) { }

    // A small graph that touches the main backward kernels: layer norm, matmul (both transposes), broadcast add,
    // GELU, causal attention, log-softmax, cross-entropy with an ignored target.
    private static Tensor SmallGraph(Tensor x, Tensor w, Tensor b, Tensor lnw, Tensor targets)
    {
        var h = Functional.LayerNorm(x, lnw, null);                                 // (2, 4, 8)
        var q = h.Reshape(2, 4, 2, 4).Transpose(1, 2);                              // (2, 2, 4, 4)
        var att = Functional.ScaledDotProductAttention(q, q, q, causal: true);     // (2, 2, 4, 4)
        var merged = att.Transpose(1, 2).Reshape(2, 4, 8).Add(h);
        var y = Tensor.Linear(merged.Gelu(tanhApproximation: true), w, b);           // (2, 4, 5)
        return Functional.CrossEntropy(y, targets).Add(y.LogSoftmax().Square().Mean().Mul(0.1f));
    }

    private (Tensor X, Tensor W, Tensor B, Tensor Lnw, Tensor Targets) SmallInputs(IBackend backend)
    {
        var g = new Generator(77);
        var x = Tensor.RandN([2, 4, 8], g).To(backend);
        var w = Tensor.RandN([5, 8], g, 0f, 0.5f).To(backend);
        var b = Tensor.RandN([5], g, 0f, 0.5f).To(backend);
        var lnw = Tensor.RandN([8], g, 1f, 0.2f).To(backend);
        foreach (var t in new[] { x, w, b, lnw }) t.RequiresGrad = true;
        var targets = Tensor.FromArray(new[] { 1, 4, 0, -100, 2, 3, 3, 1 }, 2, 4).To(backend);
        return (x, w, b, lnw, targets);
    }

    [Fact]
    public void Conformance_Gradients_MatchCentralFiniteDifferences()
    {
        var (x, w, b, lnw, targets) = SmallInputs(B);
        var loss = SmallGraph(x, w, b, lnw, targets);
        loss.Backward();
        var rng = new Random(3);
        // Central differences in float with step 1e-2: truncation ~1e-4, rounding ~1e-5 / 1e-2; tolerance 3e-3 + 3% relative.
        foreach (var p in new[] { x, w, b, lnw })
        {
            var values = p.Detach().ToArray();
            var grad = p.Grad!.ToArray();
            for (int trial = 0; trial < 3; trial++)
            {
                int i = rng.Next(values.Length);
                float old = values[i];
                const float h = 1e-2f;
                float Eval(float v)
                {
                    values[i] = v;
                    p.CopyFrom(values);
                    using (GradMode.NoGrad()) return SmallGraph(x, w, b, lnw, targets).Item();
                }
                float fd = (Eval(old + h) - Eval(old - h)) / (2 * h);
                Eval(old);
                Assert.True(Math.Abs(fd - grad[i]) <= 3e-3f + 0.03f * Math.Abs(fd),
                    $"{p.ShapeString}[{i}]: autograd {grad[i]}, finite difference {fd}");
            }
        }
    }

    [Fact]
    public void Conformance_Gradients_AgreeWithCpuBackendAndAreLinear()
    {
        var (x, w, b, lnw, targets) = SmallInputs(B);
        SmallGraph(x, w, b, lnw, targets).Backward();
        var (cx, cw, cb, clnw, ct) = SmallInputs(CpuBackend.Default);
        SmallGraph(cx, cw, cb, clnw, ct).Backward();
        foreach (var (p, c) in new[] { (x, cx), (w, cw), (b, cb), (lnw, clnw) })
            Close(c.Grad!.ToArray(), p.Grad!.ToArray(), 1e-3f, 1e-5f, $"grad of {p.ShapeString}");

        // Linearity: the gradient of 3·f is three times the gradient of f, and gradients accumulate over two backwards.
        var g1 = w.Grad!.ToArray();
        w.ZeroGrad();
        SmallGraph(x, w, b, lnw, targets).Mul(3f).Backward();
        SmallGraph(x, w, b, lnw, targets).Backward();
        Close(g1.Select(v => 4f * v).ToArray(), w.Grad!.ToArray(), 1e-4f, 1e-6f, "4·grad");
    }

    /// <summary>Loss curve of the tiny GPT trained for <paramref name="steps"/> AdamW steps on <paramref name="backend"/>.</summary>
    public static float[] TrainTinyGpt(IBackend backend, int steps)
    {
        var config = Gpt2Config.Tiny;                                    // 2 layers, 2 heads, width 16, vocab 64
        var model = new Gpt2(config, seed: 5);
        model.To(backend);
        var opt = new AdamW(model.Parameters(), new AdamWOptions(LearningRate: 3e-3f, WeightDecay: 0.1f));
        var g = new Generator(21);
        int batch = 2, t = 8;
        var tokens = Enumerable.Range(0, batch * (t + 1)).Select(_ => g.NextInt(config.VocabSize)).ToArray();
        var ids = new int[batch * t];
        var next = new int[batch * t];
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < t; i++)
            {
                ids[r * t + i] = tokens[r * (t + 1) + i];
                next[r * t + i] = tokens[r * (t + 1) + i + 1];
            }
        var x = Tensor.FromArray(ids, batch, t).To(backend);
        var y = Tensor.FromArray(next, batch, t).To(backend);
        return Train(opt, steps, () => Functional.CrossEntropy(model.Forward(x), y));
    }

    [Fact]
    public void Conformance_TinyGpt_50StepsMatchTheCpuBackendWithin1e3Relative()
    {
        var mine = TrainTinyGpt(B, 50);
        var cpu = TrainTinyGpt(CpuBackend.Default, 50);
        double worst = WorstRelativeDifference(mine, cpu, 1e-3);
        Log($"tiny GPT, 50 steps on {B.Name}: loss {mine[0]:F5} -> {mine[49]:F5} (cpu {cpu[0]:F5} -> {cpu[49]:F5}); " +
            $"max relative difference {worst:E2}, final {Math.Abs(mine[49] - cpu[49]) / cpu[49]:E2}");
        Assert.True(mine[49] < mine[0] * 0.8f, $"the loss should fall: {mine[0]} -> {mine[49]}");
    }

    /// <summary>
    /// Loss curve of a tiny BERT (post-LN, erf GELU, segments, pooler, tied MLM head, NSP) trained with masked-LM and
    /// next-sentence losses on a padded batch for <paramref name="steps"/> AdamW steps on <paramref name="backend"/>.
    /// </summary>
    public static float[] TrainTinyBert(IBackend backend, int steps)
    {
        var config = BertConfig.Tiny with { HiddenDropout = 0f, AttentionDropout = 0f };
        var model = new BertForPreTraining(config, seed: 9);
        model.To(backend);
        var opt = new AdamW(model.Parameters(), new AdamWOptions(LearningRate: 3e-3f, WeightDecay: 0.01f));
        var g = new Generator(31);
        int batch = 3, t = 10;
        int[] lengths = [10, 7, 4];
        var ids = new int[batch * t];
        var types = new int[batch * t];
        var mask = new int[batch * t];
        var labels = Enumerable.Repeat(-100, batch * t).ToArray();
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < lengths[r]; i++)
            {
                int k = r * t + i;
                ids[k] = 5 + g.NextInt(config.VocabSize - 5);
                types[k] = i < lengths[r] / 2 ? 0 : 1;
                mask[k] = 1;
                if (i % 3 == 1) { labels[k] = ids[k]; ids[k] = 4; }            // masked positions predict the original token
            }
        var x = Tensor.FromArray(ids, batch, t).To(backend);
        var tt = Tensor.FromArray(types, batch, t).To(backend);
        var m = Tensor.FromArray(mask, batch, t).To(backend);
        var y = Tensor.FromArray(labels, batch, t).To(backend);
        var nsp = Tensor.FromArray(new[] { 0, 1, 0 }).To(backend);
        return Train(opt, steps, () => model.Loss(x, y, nsp, m, tt));
    }

    [Fact]
    public void Conformance_TinyBert_20StepsMatchTheCpuBackendWithin1e3Relative()
    {
        var mine = TrainTinyBert(B, 20);
        var cpu = TrainTinyBert(CpuBackend.Default, 20);
        double worst = WorstRelativeDifference(mine, cpu, 1e-3);
        Log($"tiny BERT (MLM + NSP, padded), 20 steps on {B.Name}: loss {mine[0]:F5} -> {mine[^1]:F5}; max relative difference {worst:E2}");
        Assert.True(mine[^1] < mine[0] * 0.8f, $"the loss should fall: {mine[0]} -> {mine[^1]}");
    }

    // Asserts that two loss curves agree step by step within a relative tolerance; returns the largest difference.
    private double WorstRelativeDifference(float[] mine, float[] cpu, double tolerance)
    {
        double worst = 0;
        for (int s = 0; s < mine.Length; s++)
        {
            double rel = Math.Abs(mine[s] - cpu[s]) / Math.Abs(cpu[s]);
            worst = Math.Max(worst, rel);
            Assert.True(rel <= tolerance, $"step {s}: {B.Name} loss {mine[s]}, cpu loss {cpu[s]} (relative difference {rel:E2})");
        }
        return worst;
    }

    // Runs AdamW steps on a loss and returns the loss of each step.
    private static float[] Train(AdamW optimizer, int steps, Func<Tensor> loss)
    {
        var losses = new float[steps];
        for (int s = 0; s < steps; s++)
        {
            using var scope = TensorScope.Begin();
            var l = loss();
            optimizer.ZeroGrad();
            l.Backward();
            optimizer.Step();
            losses[s] = l.Item();
        }
        return losses;
    }
}
