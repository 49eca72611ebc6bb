using System.Text.Json;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary>Trainer.Report: metrics reported from the loss reach StepRecord.Metrics and metrics.jsonl, averaged per step.</summary>
public sealed class TrainerReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Steps(List<StepRecord> log) : ITrainerCallback
    {
        public void OnStepEnd(TrainerState state, StepRecord step) => log.Add(step);
    }

    [Fact]
    public void ReportedMetricsAreAveragedOverTheMicroBatchesOfAStepAndLogged()
    {
        var net = new TinyNet();
        var records = new List<StepRecord>();
        var trainer = new Trainer(net, new TrainerOptions { LearningRate = 1e-2f, BatchSize = 4, Epochs = 1, GradientAccumulation = 2 });
        trainer.Callbacks.Add(new Steps(records));
        trainer.Callbacks.Add(new MetricsLog(_dir));
        int call = 0;
        trainer.Report("stale", 99);                    // reported outside a step: dropped when the first step begins
        trainer.Train(TinyTask.Data(24), b =>
        {
            call++;
            trainer.Report("call", call);
            if (call <= 2) trainer.Report("early/only", 7);
            return TinyTask.Loss(net, b);
        });
        Assert.Equal(3, records.Count);                  // 6 micro-batches, 2 per step
        Assert.Equal(1.5, records[0].Metrics!["call"]);
        Assert.Equal(5.5, records[2].Metrics!["call"]);
        Assert.Equal(7, records[0].Metrics!["early/only"]);
        Assert.False(records[1].Metrics!.ContainsKey("early/only"));
        Assert.False(records[0].Metrics!.ContainsKey("stale"));
        var lines = File.ReadAllLines(Path.Combine(_dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3.5, lines[1].GetProperty("call").GetDouble());
        Assert.Equal(7, lines[0].GetProperty("early/only").GetDouble());
        Assert.False(lines[1].TryGetProperty("early/only", out _));
    }
}
