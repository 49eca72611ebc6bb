using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands;

/// <summary>Runs a <see cref="FineTuner{TExample}"/> under a progress bar, printing each evaluation.</summary>
internal static class FineTuneConsole
{
    public static FineTuneResult Train<T>(FineTuner<T> tuner, IReadOnlyList<T> train, Func<double> evaluate, string metric,
        CancellationToken cancellation = default)
    {
        FineTuneResult result = null!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: 1.0);
                result = tuner.Train(train, evaluate, new SyncProgress<FineTuneProgress>(p =>
                {
                    task.Value = p.Fraction;
                    task.Description = $"epoch {p.Epoch} step {p.Step} loss {p.TrainLoss:F3}" + (p.BestMetric is { } b ? $" best dev {b:F4}" : "");
                    if (p.Metric is { } m) AnsiConsole.MarkupLine($"step {p.Step} (epoch {p.Epoch}, {p.Elapsed.TotalSeconds:F0} s): dev {metric} {m:F4}");
                }), cancellation);
                task.Value = 1.0;
            });
        return result;
    }

    /// <summary>After a run that Ctrl+C stopped: says that the best checkpoint (saved at the best evaluation) is kept.</summary>
    public static void ReportCancelled(CancellationToken cancellation, FineTuneResult result, string checkpoint)
    {
        if (!cancellation.IsCancellationRequested) return;
        Console.WriteLine(double.IsNaN(result.BestMetric)
            ? $"Cancelled after {result.Steps} steps, before any evaluation: no checkpoint was written."
            : $"Cancelled after {result.Steps} steps: stopped cleanly after a last evaluation; kept the best checkpoint {checkpoint}.");
    }
}
