using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary>
/// <see cref="Trainer"/>'s callbacks: call order, early stopping, the metrics log, cancellation with the best checkpoint kept,
/// gradient accumulation, and frozen parameters.
/// </summary>
public sealed class TrainerCallbackTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-trainer-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static TrainerOptions Options => new() { LearningRate = 1e-2f, BatchSize = 8, Epochs = 1 };

    /// <summary>Writes "name:event" for every call.</summary>
    private sealed class Recorder(string name, List<string> log) : ITrainerCallback
    {
        public void OnTrainBegin(TrainerState state) => log.Add($"{name}:begin@{state.Step}");
        public void OnStepEnd(TrainerState state, StepRecord step) => log.Add($"{name}:step{step.Step}");
        public void OnEvaluate(TrainerState state, EvaluationRecord evaluation) => log.Add($"{name}:eval{evaluation.Step}");
        public void OnTrainEnd(TrainerState state, TrainerResult result) => log.Add($"{name}:end{result.Steps}");
    }

    /// <summary>Runs an action on every evaluation.</summary>
    private sealed class OnEvaluation(Action<TrainerState, EvaluationRecord> action) : ITrainerCallback
    {
        public void OnEvaluate(TrainerState state, EvaluationRecord evaluation) => action(state, evaluation);
    }

    [Fact]
    public void CallbacksAreCalledInListOrderStepThenEvaluation()
    {
        var net = new TinyNet();
        var log = new List<string>();
        var trainer = new Trainer(net, Options with { EvalEvery = 2 });
        trainer.Callbacks.Add(new Recorder("a", log));
        trainer.Callbacks.Add(new EvaluationCallback("metric", () => 0.5, greaterIsBetter: true));
        trainer.Callbacks.Add(new Recorder("b", log));
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b));   // 5 steps: evaluations at 2, 4 and the epoch end 5
        Assert.Equal(5, result.Steps);
        Assert.Equal(
        [
            "a:begin@0", "b:begin@0",
            "a:step1", "b:step1", "a:step2", "b:step2", "a:eval2", "b:eval2",
            "a:step3", "b:step3", "a:step4", "b:step4", "a:eval4", "b:eval4",
            "a:step5", "b:step5", "a:eval5", "b:eval5",
            "a:end5", "b:end5",
        ], log);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EarlyStoppingEndsTheRunAfterPatienceEvaluationsWithoutImprovement(bool throughOptions)
    {
        var net = new TinyNet();
        double[] script = [0.5, 0.6, 0.55, 0.6, 0.9, 0.95];   // best at step 2; 3 and 4 do not beat it (a tie is no improvement)
        int calls = 0;
        var trainer = new Trainer(net, Options with { Epochs = 3, EvalEvery = 1, Patience = throughOptions ? 2 : 0 });
        trainer.Callbacks.Add(new EvaluationCallback("accuracy", () => script[calls++], greaterIsBetter: true));
        if (!throughOptions) trainer.Callbacks.Add(new EarlyStoppingCallback(2));
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b));
        Assert.Equal(StopReason.EarlyStopped, result.Reason);
        Assert.Equal(4, result.Steps);
        Assert.Equal(4, calls);
        Assert.Equal(0.6, result.BestMetric);
        Assert.Equal(2, result.BestStep);
        Assert.Equal([true, true, false, false], result.Evaluations.Select(e => e.Improved));
        Assert.Equal(4, trainer.Optimizer.StepCount);
    }

    [Fact]
    public void LowerIsBetterForALossMetric()
    {
        var net = new TinyNet();
        double[] script = [2.0, 1.5, 1.7, 1.2];
        int calls = 0;
        var trainer = new Trainer(net, Options with { EvalEvery = 1, MaxSteps = 4 });
        trainer.Callbacks.Add(new EvaluationCallback("loss", () => script[calls++], greaterIsBetter: false));
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b));
        Assert.Equal([true, true, false, true], result.Evaluations.Select(e => e.Improved));
        Assert.Equal(1.2, result.BestMetric);
        Assert.Equal(1.2, result.FinalMetric);
        Assert.Equal(4, result.BestStep);
    }

    [Fact]
    public void MetricsLogWritesOneParseableLinePerLoggedStepAndEvaluationAsItGoes()
    {
        var net = new TinyNet();
        var trainer = new Trainer(net, Options with { Epochs = 2, EvalEvery = 2 });   // 5 steps an epoch: 10 steps
        var steps = new List<StepRecord>();
        var linesAtStep3 = -1;
        var log = new MetricsLog(_dir, every: 2);
        trainer.Callbacks.Add(new EvaluationCallback(() => new Dictionary<string, double> { ["accuracy"] = 0.5, ["f1"] = 0.25 }, "accuracy", true));
        trainer.Callbacks.Add(log);
        trainer.Callbacks.Add(new StepSpy(s =>
        {
            steps.Add(s);
            if (s.Step == 3) linesAtStep3 = File.ReadAllLines(log.Path).Length;   // written while the run goes on
        }));
        File.WriteAllText(Path.Combine(_dir, MetricsLog.FileName), "{\"old\":1}\n");   // a fresh run replaces an old log
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b), e => 3);

        Assert.Equal(Path.Combine(_dir, "metrics.jsonl"), log.Path);
        Assert.Equal(2, linesAtStep3);   // step 2 and the evaluation at step 2
        var lines = File.ReadAllLines(log.Path).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var stepLines = lines.Where(l => l.GetProperty("type").GetString() == "step").ToList();
        var evalLines = lines.Where(l => l.GetProperty("type").GetString() == "evaluation").ToList();
        Assert.Equal(lines.Count, stepLines.Count + evalLines.Count);
        Assert.Equal([2, 4, 6, 8, 10], stepLines.Select(l => l.GetProperty("step").GetInt32()));           // every 2nd step
        Assert.Equal([2, 4, 5, 6, 8, 10], evalLines.Select(l => l.GetProperty("step").GetInt32()));       // every 2nd step and the epoch end
        Assert.Equal(result.Evaluations.Count, evalLines.Count);
        foreach (var l in stepLines)
        {
            Assert.Equal(["type", "step", "epoch", "loss", "learning_rate", "tokens", "tokens_per_second", "wall_seconds"],
                l.EnumerateObject().Select(p => p.Name));
            var s = steps[l.GetProperty("step").GetInt32() - 1];
            Assert.Equal(s.Loss, l.GetProperty("loss").GetSingle());
            Assert.Equal(s.LearningRate, l.GetProperty("learning_rate").GetSingle());
            Assert.Equal(s.Epoch, l.GetProperty("epoch").GetDouble());
            Assert.Equal(8L * 3 * s.Step, l.GetProperty("tokens").GetInt64());   // 8 examples of 3 tokens a step
            Assert.True(l.GetProperty("tokens_per_second").GetDouble() > 0);
            Assert.True(l.GetProperty("wall_seconds").GetDouble() >= 0);
        }
        Assert.Equal(1.0, stepLines.Single(l => l.GetProperty("step").GetInt32() == 10).GetProperty("epoch").GetDouble() / 2);
        foreach (var l in evalLines)
        {
            Assert.Equal(["type", "step", "epoch", "eval_accuracy", "eval_f1", "is_best", "best_metric", "wall_seconds"],
                l.EnumerateObject().Select(p => p.Name));
            Assert.Equal(0.5, l.GetProperty("eval_accuracy").GetDouble());
            Assert.Equal(0.25, l.GetProperty("eval_f1").GetDouble());
        }
        Assert.Equal([true, false, false, false, false, false], evalLines.Select(l => l.GetProperty("is_best").GetBoolean()));
        var wall = lines.Select(l => l.GetProperty("wall_seconds").GetDouble()).ToList();
        Assert.Equal(wall.Order(), wall);
    }

    private sealed class StepSpy(Action<StepRecord> onStep) : ITrainerCallback
    {
        public void OnStepEnd(TrainerState state, StepRecord step) => onStep(step);
    }

    [Fact]
    public void CancellationStopsBeforeTheNextStepAndKeepsTheBestCheckpoint()
    {
        var net = new TinyNet();
        using var cts = new CancellationTokenSource();
        double[] script = [0.3, 0.8, 0.5, 0.9];
        int calls = 0;
        Dictionary<string, float[]>? atBest = null, atCancel = null;
        var trainer = new Trainer(net, Options with { Epochs = 3, EvalEvery = 1 });
        var checkpoints = new CheckpointCallback(_dir, "tiny", "{}");
        trainer.Callbacks.Add(new EvaluationCallback("accuracy", () => script[calls++], greaterIsBetter: true));
        trainer.Callbacks.Add(checkpoints);
        trainer.Callbacks.Add(new OnEvaluation((state, e) =>
        {
            if (e.Step == 2) atBest = TinyTask.Snapshot(net);
            if (e.Step == 3) { atCancel = TinyTask.Snapshot(net); cts.Cancel(); }
        }));
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b), cancellation: cts.Token);

        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.Equal(3, result.Steps);
        Assert.Equal(3, trainer.Optimizer.StepCount);
        Assert.Equal(0.8, result.BestMetric);
        Assert.Equal(2, result.BestStep);
        var best = Checkpoint.Load(checkpoints.BestPath!);
        Assert.Equal(2, best.Step);
        var restored = new TinyNet(seed: 7);
        best.RestoreModel(restored);
        AssertWeights(atBest!, restored);
        var last = Checkpoint.Load(checkpoints.LastPath!);
        Assert.Equal(3, last.Step);
        last.RestoreModel(restored);
        AssertWeights(atCancel!, restored);
        AssertWeights(atCancel!, net);   // no step after the cancellation
    }

    [Fact]
    public void AlreadyCancelledRunTakesNoStep()
    {
        var net = new TinyNet();
        var before = TinyTask.Snapshot(net);
        var trainer = new Trainer(net, Options);
        var result = trainer.Train(TinyTask.Data(16), b => TinyTask.Loss(net, b), cancellation: new CancellationToken(canceled: true));
        Assert.Equal(StopReason.Cancelled, result.Reason);
        Assert.Equal(0, result.Steps);
        AssertWeights(before, net);
    }

    [Fact]
    public void ACallbackCanStopTheRun()
    {
        var net = new TinyNet();
        var trainer = new Trainer(net, Options with { Epochs = 5 });
        trainer.Callbacks.Add(new StopAt(3));
        var result = trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b));
        Assert.Equal(StopReason.Requested, result.Reason);
        Assert.Equal(3, result.Steps);
    }

    private sealed class StopAt(int step) : ITrainerCallback
    {
        public void OnStepEnd(TrainerState state, StepRecord s)
        {
            if (s.Step == step) state.RequestStop();
        }
    }

    [Fact]
    public void GradientAccumulationAveragesTheMicroBatchLossesOfAStep()
    {
        var net = new TinyNet();
        var data = TinyTask.Data(64);
        var micro = new List<float>();
        var steps = new List<StepRecord>();
        var trainer = new Trainer(net, Options with { MaxSteps = 3, GradientAccumulation = 2, BatchSize = 4 });
        trainer.Callbacks.Add(new StepSpy(steps.Add));
        trainer.Train(g =>
        {
            var batch = Enumerable.Range(0, 4).Select(_ => data[g.NextInt(data.Count)]).ToList();
            var loss = TinyTask.Loss(net, batch);
            micro.Add(loss.Item());
            return (loss, 4L);
        });
        Assert.Equal(6, micro.Count);
        Assert.Equal(3, trainer.Optimizer.StepCount);
        for (int s = 0; s < 3; s++) Assert.Equal((micro[2 * s] + micro[2 * s + 1]) / 2, steps[s].Loss);
        Assert.Equal(24, steps[^1].Tokens);
        Assert.True(double.IsNaN(steps[^1].Epoch));   // sampled without a pass length: the epoch is unknown
    }

    [Fact]
    public void FrozenParametersGetNoOptimizerStateAndStayUnchanged()
    {
        var net = new TinyNet();
        foreach (var p in net.Body.Parameters()) p.RequiresGrad = false;   // what Freeze() does
        var before = TinyTask.Snapshot(net);
        var trainer = new Trainer(net, Options with { Epochs = 2 });
        trainer.Train(TinyTask.Data(40), b => TinyTask.Loss(net, b));

        var head = net.Head.Parameters().ToList();
        Assert.Equal(head, trainer.Optimizer.Parameters);
        var state = trainer.Optimizer.StateDict();
        Assert.Equal(10, state.StepCount);
        Assert.Equal(head, state.Parameters.Select(s => s.Parameter));   // state for the two head tensors only
        Assert.All(state.Parameters, s => Assert.Equal(["m", "v"], s.Buffers.Keys));
        var after = TinyTask.Snapshot(net);
        Assert.Equal(before["body.weight"], after["body.weight"]);
        Assert.Equal(before["body.bias"], after["body.bias"]);
        Assert.NotEqual(before["head.weight"], after["head.weight"]);
    }

    [Fact]
    public void AModelWithEveryParameterFrozenIsRejected()
    {
        var net = new TinyNet();
        foreach (var p in net.Parameters()) p.RequiresGrad = false;
        var e = Assert.Throws<ArgumentException>(() => new Trainer(net, Options));
        Assert.Contains("frozen", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheStepScheduleIsNanoGptsAndTheFractionScheduleWarmsUpFromOnePercent()
    {
        var steps = new TrainerOptions { LearningRate = 1e-3f, MinLearningRate = 1e-4f, WarmupSteps = 10, Decay = DecayKind.Cosine };
        var reference = new WarmupDecaySchedule(1e-3f, 10, 100, 1e-4f, DecayKind.Cosine);
        for (int s = 0; s < 120; s++) Assert.Equal(reference.At(s), steps.LearningRateAt(s, 100));

        var fraction = new TrainerOptions { LearningRate = 1e-3f, WarmupFraction = 0.1f, Decay = DecayKind.Linear };
        Assert.Equal(1e-5f, fraction.LearningRateAt(0, 100), 9);          // 1% of the peak at the start
        Assert.Equal(5e-4f, fraction.LearningRateAt(5, 100), 9);          // half-way up the warm-up
        Assert.Equal(1e-3f, fraction.LearningRateAt(10, 100), 9);         // the peak at the end of the warm-up
        Assert.Equal(5e-4f, fraction.LearningRateAt(55, 100), 9);         // half-way down
        Assert.Equal(5e-4f, (fraction with { MaxTime = TimeSpan.FromMinutes(1) }).LearningRateAt(1, 100, timeFraction: 0.55), 9);   // time is further than steps
        Assert.Equal(0f, fraction.LearningRateAt(100, 100), 9);
    }

    private static void AssertWeights(Dictionary<string, float[]> want, TinyNet net)
    {
        var got = TinyTask.Snapshot(net);
        foreach (var (name, w) in want) Assert.True(w.SequenceEqual(got[name]), $"{name} differs");
    }
}
