using SharpTransformer.Tensors;
using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands;

/// <summary>Runs a <see cref="Trainer"/> over epochs under a progress bar, printing each evaluation.</summary>
internal static class FineTuneConsole
{
    public static TrainerResult Train<T>(Trainer trainer, IReadOnlyList<T> train, Func<IReadOnlyList<T>, Tensor> loss, Func<T, int>? lengthOf,
        string metric, CancellationToken cancellation = default)
    {
        TrainerResult result = null!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: 1.0);
                var progress = new ProgressCallback(new SyncProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Fraction;
                    task.Description = $"epoch {Math.Ceiling(p.Epoch)} step {p.Step} loss {p.Loss:F3}" + (p.BestMetric is { } b ? $" best dev {b:F4}" : "");
                    if (p.Metric is { } m) AnsiConsole.MarkupLine($"step {p.Step} (epoch {p.Epoch:0.##}, {p.Elapsed.TotalSeconds:F0} s): dev {metric} {m:F4}");
                }));
                trainer.Callbacks.Add(progress);
                try { result = trainer.Train(train, loss, lengthOf, cancellation); }
                finally { trainer.Callbacks.Remove(progress); }
                task.Value = 1.0;
            });
        return result;
    }

    /// <summary>After a run that Ctrl+C stopped: says that the best checkpoint (saved at the best evaluation) is kept.</summary>
    public static void ReportCancelled(TrainerResult result, string checkpoint)
    {
        if (result.Reason != StopReason.Cancelled) return;
        Console.WriteLine(double.IsNaN(result.BestMetric)
            ? $"Cancelled after {result.Steps} steps, before any evaluation: no best checkpoint was written."
            : $"Cancelled after {result.Steps} steps: stopped cleanly; kept the best checkpoint {checkpoint}.");
    }
}
