using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary><see cref="FineTuner{TExample}"/>: best-weights restoring, time budget, non-finite loss, head learning rate, bucketing.</summary>
public sealed class FineTunerTests
{
    /// <summary>A body Linear(4→8) and a head Linear(8→2).</summary>
    private sealed class TinyNet : Module
    {
        public TinyNet(ulong seed = 1)
        {
            var g = new Generator(seed);
            Body = RegisterModule("body", new Linear(4, 8, true, g));
            Head = RegisterModule("head", new Linear(8, 2, true, g));
        }

        public Linear Body { get; }
        public Linear Head { get; }
        public Tensor Forward(Tensor x) => Head.Forward(Body.Forward(x).Tanh());
    }

    private sealed record Example(float[] X, int Y);

    private static List<Example> Data(int n, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ =>
        {
            var x = Enumerable.Range(0, 4).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            return new Example(x, x[0] + x[1] > 0 ? 1 : 0);
        }).ToList();
    }

    private static Tensor Loss(TinyNet net, IReadOnlyList<Example> batch) =>
        Functional.CrossEntropy(net.Forward(Tensor.FromArray(batch.SelectMany(e => e.X).ToArray(), batch.Count, 4)),
            Tensor.FromArray(batch.Select(e => e.Y).ToArray()));

    private static Dictionary<string, float[]> Snapshot(Module m) => m.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

    private static void AssertSameWeights(Dictionary<string, float[]> want, Module m)
    {
        var got = Snapshot(m);
        Assert.Equal(want.Keys.Order(), got.Keys.Order());
        foreach (var (name, w) in want) Assert.True(w.SequenceEqual(got[name]), $"{name} differs");
    }

    [Fact]
    public void BestEvaluatedWeightsAreRestoredAndOnBestSeesOnlyImprovements()
    {
        var net = new TinyNet();
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => Loss(net, b),
            new FineTuneOptions { Epochs = 5, BatchSize = 8, LearningRate = 1e-2f, WarmupFraction = 0f });
        double[] script = [0.2, 0.6, 0.4, 0.6, 0.5];   // best at the 2nd evaluation; the 4th only ties it
        int calls = 0;
        var atEval = new List<Dictionary<string, float[]>>();
        var best = new List<(int Step, double Metric, Dictionary<string, float[]> Weights)>();
        tuner.OnBest = (step, metric) => best.Add((step, metric, Snapshot(net)));
        var result = tuner.Train(Data(40), () => { atEval.Add(Snapshot(net)); return script[calls++]; });

        Assert.Equal(5, calls);
        Assert.Equal([0.2, 0.6], best.Select(b => b.Metric));
        Assert.Equal([5, 10], best.Select(b => b.Step));
        Assert.Equal(0.6, result.BestMetric);
        Assert.Equal(10, result.BestStep);
        Assert.Equal(script, result.Evaluations.Select(e => e.Metric));
        Assert.Equal(25, result.Steps);
        AssertSameWeights(best[^1].Weights, net);
        AssertSameWeights(atEval[1], net);
        // Training went on after the best evaluation, so restoring really changed the weights.
        Assert.False(atEval[^1]["head.weight"].SequenceEqual(best[^1].Weights["head.weight"]));
    }

    [Fact]
    public void WithoutRestoreBestTheLastWeightsStay()
    {
        var net = new TinyNet();
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => Loss(net, b),
            new FineTuneOptions { Epochs = 3, BatchSize = 8, LearningRate = 1e-2f, RestoreBest = false });
        double[] script = [0.9, 0.1, 0.1];
        int calls = 0;
        var atEval = new List<Dictionary<string, float[]>>();
        var result = tuner.Train(Data(40), () => { atEval.Add(Snapshot(net)); return script[calls++]; });
        Assert.Equal(0.9, result.BestMetric);
        Assert.Equal(15, result.Steps);
        AssertSameWeights(atEval[^1], net);   // the last evaluation follows the last step
        Assert.False(atEval[0]["head.weight"].SequenceEqual(Snapshot(net)["head.weight"]));
    }

    [Fact]
    public void MaxTimeStopsTheRun()
    {
        var net = new TinyNet();
        var budget = TimeSpan.FromMilliseconds(300);
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => { Thread.Sleep(10); return Loss(net, b); },
            new FineTuneOptions { Epochs = 1000, BatchSize = 8, MaxTime = budget });
        var result = tuner.Train(Data(40), () => 0.5);
        Assert.True(result.StoppedByTime);
        Assert.True(result.Steps < 5000, $"{result.Steps} steps");
        Assert.True(result.Steps > 0);
        Assert.True(result.Elapsed >= budget, $"elapsed {result.Elapsed}");
        Assert.True(result.Elapsed < budget + TimeSpan.FromSeconds(10), $"elapsed {result.Elapsed} for a budget of {budget}");
        Assert.True(result.Epochs < 1000);
    }

    [Fact]
    public void WithoutMaxTimeTheRunIsNotStoppedByTime()
    {
        var net = new TinyNet();
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => Loss(net, b), new FineTuneOptions { Epochs = 2, BatchSize = 16 });
        var result = tuner.Train(Data(40), null);
        Assert.False(result.StoppedByTime);
        Assert.Equal(6, result.Steps);
        Assert.Equal(2, result.Epochs);
        Assert.True(double.IsNaN(result.BestMetric));
    }

    [Fact]
    public void NonFiniteLossThrowsNamingTheStepAndLeavesTheWeights()
    {
        var net = new TinyNet();
        int calls = 0;
        Dictionary<string, float[]>? before = null;
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b =>
        {
            var l = Loss(net, b);
            if (++calls < 4) return l;
            before = Snapshot(net);
            return l.Mul(float.NaN);
        }, new FineTuneOptions { Epochs = 2, BatchSize = 8, LearningRate = 1e-2f });
        var e = Assert.Throws<ArithmeticException>(() => tuner.Train(Data(40), null));
        Assert.Contains("step 3", e.Message, StringComparison.Ordinal);
        Assert.NotNull(before);
        AssertSameWeights(before!, net);
        Assert.Equal(3, tuner.Optimizer.StepCount);
    }

    [Fact]
    public void HeadParametersMoveAtTheHeadLearningRate()
    {
        var net = new TinyNet();
        var before = Snapshot(net);
        var data = Data(16);
        const float lr = 1e-4f, headLr = 1e-2f;
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => Loss(net, b), new FineTuneOptions
        {
            Epochs = 1, BatchSize = data.Count, LearningRate = lr, HeadLearningRate = headLr, WarmupFraction = 0f, Decay = DecayKind.Constant,
            WeightDecay = 0f, MaxGradNorm = 0f,
        });
        var result = tuner.Train(data, null);
        Assert.Equal(1, result.Steps);
        var after = Snapshot(net);
        // The first AdamW step moves each parameter by lr·g/(|g|+eps), i.e. by lr where the gradient is not tiny.
        foreach (var (name, w0) in before)
        {
            float want = name.StartsWith("head.", StringComparison.Ordinal) ? headLr : lr;
            var moves = w0.Zip(after[name], (a, b) => Math.Abs(b - a)).ToArray();
            Assert.True(moves.All(m => m <= want * 1.001f), $"{name}: a move of {moves.Max()} exceeds the learning rate {want}");
            Assert.True(moves.Count(m => m > want * 0.9f) >= moves.Length / 2, $"{name}: moves {string.Join(", ", moves)} (learning rate {want})");
        }
    }

    [Fact]
    public void HeadLearningRateDefaultsToTheBodyRate()
    {
        var net = new TinyNet();
        var before = Snapshot(net);
        var data = Data(16);
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b => Loss(net, b), new FineTuneOptions
        {
            Epochs = 1, BatchSize = data.Count, LearningRate = 1e-3f, WarmupFraction = 0f, Decay = DecayKind.Constant, WeightDecay = 0f, MaxGradNorm = 0f,
        });
        tuner.Train(data, null);
        var after = Snapshot(net);
        foreach (var (name, w0) in before)
            Assert.True(w0.Zip(after[name], (a, b) => Math.Abs(b - a)).Max() is > 0.9e-3f and <= 1.001e-3f, name);
    }

    [Theory]
    [InlineData(900, 8)]
    [InlineData(803, 8)]
    [InlineData(37, 5)]
    [InlineData(800, 8)]
    public void LengthBucketingVisitsEveryExampleOncePerEpochInLengthHomogeneousBatches(int n, int batchSize)
    {
        var net = new TinyNet();
        var seen = new List<int[]>();
        var data = Enumerable.Range(0, n).Select(i => new Example([i, 0, 0, 0], 0)).ToList();
        var tuner = new FineTuner<Example>(net, net.Head.Parameters(), b =>
        {
            seen.Add(b.Select(e => (int)e.X[0]).ToArray());
            return net.Head.Weight.Sum().Mul(0f);
        }, new FineTuneOptions { Epochs = 3, BatchSize = batchSize })
        {
            LengthOf = e => (int)e.X[0],   // every example has its own length
        };
        tuner.Train(data, null);
        int perEpoch = (n + batchSize - 1) / batchSize;
        Assert.Equal(3 * perEpoch, seen.Count);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var ids = seen.Skip(epoch * perEpoch).Take(perEpoch).SelectMany(b => b).Order().ToArray();
            Assert.Equal(Enumerable.Range(0, n), ids);
        }
        // Batches come from sorted pools of 50 batches: the lengths inside a batch are close together
        // (a shuffled batch of 8 out of 900 spreads over ~700).
        int pool = Math.Min(n, 50 * batchSize);
        double typical = (double)n / pool * batchSize;   // spread of `batchSize` consecutive lengths of a sorted pool
        // (The last batch of an epoch is left out: it may be the whole of a last pool of a few random examples.)
        var spreads = seen.Where((_, i) => i % perEpoch != perEpoch - 1).Select(b => b.Max() - b.Min()).ToArray();
        Assert.True(spreads.Max() <= 6 * typical, $"the widest batch spans {spreads.Max()} lengths (typical {typical:F0})");
        // And the order of batches is shuffled, not sorted.
        Assert.False(seen.Take(perEpoch).Select(b => b.Min()).Order().SequenceEqual(seen.Take(perEpoch).Select(b => b.Min())));
    }

    [Fact]
    public void InvalidOptionsAreRejected()
    {
        var net = new TinyNet();
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuner<Example>(net, [], b => Loss(net, b), new FineTuneOptions { Epochs = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FineTuner<Example>(net, [], b => Loss(net, b), new FineTuneOptions { HeadLearningRate = 0f }));
        var ok = new FineTuner<Example>(net, [], b => Loss(net, b), new FineTuneOptions());
        Assert.Throws<ArgumentException>(() => ok.Train([], null));
    }
}
