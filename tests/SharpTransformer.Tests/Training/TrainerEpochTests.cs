using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary>
/// <see cref="Trainer"/> over epochs of examples (the former FineTuner): best-weights restoring, time budget, non-finite loss,
/// head learning rate, length bucketing.
/// </summary>
public sealed class TrainerEpochTests
{
    private static List<Example> Data(int n, int seed = 1) => TinyTask.Data(n, seed);
    private static Tensor Loss(TinyNet net, IReadOnlyList<Example> batch) => TinyTask.Loss(net, batch);
    private static Dictionary<string, float[]> Snapshot(Module m) => TinyTask.Snapshot(m);

    // The former FineTuneOptions defaults (learning rate 5e-4, 5% warm-up, best weights restored).
    private static TrainerOptions Options => new() { LearningRate = 5e-4f, WarmupFraction = 0.05f, RestoreBest = true };

    private static Trainer WithEvaluation(Trainer trainer, Func<double> evaluate)
    {
        trainer.Callbacks.Add(new EvaluationCallback("metric", evaluate, greaterIsBetter: true));
        return trainer;
    }

    /// <summary>Records the improving evaluations with the weights at that moment.</summary>
    private sealed class OnBest(Action<EvaluationRecord> record) : ITrainerCallback
    {
        public void OnEvaluate(TrainerState state, EvaluationRecord evaluation)
        {
            if (evaluation.Improved) record(evaluation);
        }
    }

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
        double[] script = [0.2, 0.6, 0.4, 0.6, 0.5];   // best at the 2nd evaluation; the 4th only ties it
        int calls = 0;
        var atEval = new List<Dictionary<string, float[]>>();
        var best = new List<(int Step, double Metric, Dictionary<string, float[]> Weights)>();
        var trainer = WithEvaluation(new Trainer(net, Options with { Epochs = 5, BatchSize = 8, LearningRate = 1e-2f, WarmupFraction = 0f }, net.Head.Parameters()),
            () => { atEval.Add(Snapshot(net)); return script[calls++]; });
        trainer.Callbacks.Add(new OnBest(e => best.Add((e.Step, e.Metric, Snapshot(net)))));
        var result = trainer.Train(Data(40), b => Loss(net, b));

        Assert.Equal(5, calls);
        Assert.Equal([0.2, 0.6], best.Select(b => b.Metric));
        Assert.Equal([5, 10], best.Select(b => b.Step));
        Assert.Equal(0.6, result.BestMetric);
        Assert.Equal(10, result.BestStep);
        Assert.Equal(script, result.Evaluations.Select(e => e.Metric));
        Assert.Equal([5, 10, 15, 20, 25], result.Evaluations.Select(e => e.Step));   // at each epoch end
        Assert.Equal([1.0, 2, 3, 4, 5], result.Evaluations.Select(e => e.Epoch));
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
        double[] script = [0.9, 0.1, 0.1];
        int calls = 0;
        var atEval = new List<Dictionary<string, float[]>>();
        var trainer = WithEvaluation(new Trainer(net, Options with { Epochs = 3, BatchSize = 8, LearningRate = 1e-2f, RestoreBest = false }, net.Head.Parameters()),
            () => { atEval.Add(Snapshot(net)); return script[calls++]; });
        var result = trainer.Train(Data(40), b => Loss(net, b));
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
        var trainer = WithEvaluation(new Trainer(net, Options with { Epochs = 1000, BatchSize = 8, MaxTime = budget }, net.Head.Parameters()), () => 0.5);
        var result = trainer.Train(Data(40), b => { Thread.Sleep(10); return Loss(net, b); });
        Assert.Equal(StopReason.TimeLimit, result.Reason);
        Assert.Equal(result.Steps, result.Evaluations[^1].Step);   // the run is evaluated once more when the time is up
        Assert.True(result.Steps < 5000, $"{result.Steps} steps");
        Assert.True(result.Steps > 0);
        Assert.True(result.Elapsed >= budget, $"elapsed {result.Elapsed}");
        Assert.True(result.Elapsed < budget + TimeSpan.FromSeconds(10), $"elapsed {result.Elapsed} for a budget of {budget}");
        Assert.True(result.Epoch < 1000);
    }

    [Fact]
    public void WithoutMaxTimeTheRunIsNotStoppedByTime()
    {
        var net = new TinyNet();
        var trainer = new Trainer(net, Options with { Epochs = 2, BatchSize = 16 }, net.Head.Parameters());
        var result = trainer.Train(Data(40), b => Loss(net, b));
        Assert.Equal(StopReason.Completed, result.Reason);
        Assert.Equal(6, result.Steps);
        Assert.Equal(2, result.Epoch);
        Assert.Empty(result.Evaluations);
        Assert.True(double.IsNaN(result.BestMetric));
    }

    [Fact]
    public void NonFiniteLossThrowsNamingTheStepAndLeavesTheWeights()
    {
        var net = new TinyNet();
        int calls = 0;
        Dictionary<string, float[]>? before = null;
        var trainer = new Trainer(net, Options with { Epochs = 2, BatchSize = 8, LearningRate = 1e-2f }, net.Head.Parameters());
        var e = Assert.Throws<ArithmeticException>(() => trainer.Train(Data(40), b =>
        {
            var l = Loss(net, b);
            if (++calls < 4) return l;
            before = Snapshot(net);
            return l.Mul(float.NaN);
        }));
        Assert.Contains("step 3 (epoch 1)", e.Message, StringComparison.Ordinal);
        Assert.Contains("NaN", e.Message, StringComparison.Ordinal);
        Assert.NotNull(before);
        AssertSameWeights(before!, net);
        Assert.Equal(3, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void HeadParametersMoveAtTheHeadLearningRate()
    {
        var net = new TinyNet();
        var before = Snapshot(net);
        var data = Data(16);
        const float lr = 1e-4f, headLr = 1e-2f;
        var trainer = new Trainer(net, Options with
        {
            Epochs = 1, BatchSize = data.Count, LearningRate = lr, HeadLearningRate = headLr, WarmupFraction = 0f, Decay = DecayKind.Constant,
            WeightDecay = 0f, MaxGradNorm = 0f,
        }, net.Head.Parameters());
        var result = trainer.Train(data, b => Loss(net, b));
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
        var trainer = new Trainer(net, Options with
        {
            Epochs = 1, BatchSize = data.Count, LearningRate = 1e-3f, WarmupFraction = 0f, Decay = DecayKind.Constant, WeightDecay = 0f, MaxGradNorm = 0f,
        }, net.Head.Parameters());
        trainer.Train(data, b => Loss(net, b));
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
        var trainer = new Trainer(net, Options with { Epochs = 3, BatchSize = batchSize }, net.Head.Parameters());
        trainer.Train(data, b =>
        {
            seen.Add(b.Select(e => (int)e.X[0]).ToArray());
            return net.Head.Weight.Sum().Mul(0f);
        }, lengthOf: e => (int)e.X[0]);   // every example has its own length
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
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Options with { Epochs = 0 }));
        Assert.Contains("Epochs", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(net, Options with { HeadLearningRate = 0f }));
        Assert.Throws<ArgumentException>(() => new Trainer(net, Options with { WarmupSteps = 3 }));   // and WarmupFraction: two warm-ups
        Assert.Throws<ArgumentException>(() => new Trainer(net, Options, new TinyNet().Head.Parameters()));   // a head of another model
        var ok = new Trainer(net, Options);
        Assert.Throws<ArgumentException>(() => ok.Train(Array.Empty<Example>(), b => Loss(net, b)));
        Assert.Throws<InvalidOperationException>(() => ok.Train(_ => (Loss(net, Data(4)), 4L)));   // sampled batches need MaxSteps
    }
}
