using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>The live state of a <see cref="Trainer"/> run that callbacks read, and through which they ask it to stop.</summary>
public sealed class TrainerState
{
    private readonly Trainer _trainer;
    private readonly System.Diagnostics.Stopwatch _clock;

    internal TrainerState(Trainer trainer, System.Diagnostics.Stopwatch clock, int totalSteps)
    {
        _trainer = trainer;
        _clock = clock;
        TotalSteps = totalSteps;
    }

    /// <summary>The model being trained.</summary>
    public Module Model => _trainer.Model;
    /// <summary>The optimizer (its state goes into checkpoints).</summary>
    public IOptimizer Optimizer => _trainer.Optimizer;
    /// <summary>The batch-sampling generator (its state goes into checkpoints).</summary>
    public Generator Sampling => _trainer.Sampling;
    /// <summary>The settings.</summary>
    public TrainerOptions Options => _trainer.Options;
    /// <summary>Optimizer steps done (continuing a resumed count).</summary>
    public int Step => _trainer.Step;
    /// <summary>Steps planned for the run.</summary>
    public int TotalSteps { get; }
    /// <summary>Epochs done, fractional (NaN when unknown).</summary>
    public double Epoch { get; internal set; } = double.NaN;
    /// <summary>Wall time since the run started.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;
    /// <summary>Part of <see cref="TrainerOptions.MaxTime"/> spent (0 without a time budget).</summary>
    public double TimeFraction => Options.MaxTime is { } m ? Elapsed.TotalSeconds / m.TotalSeconds : 0;
    /// <summary>Part of the run done, by steps or by time, whichever is further, in [0, 1].</summary>
    public double Fraction => Math.Min(1.0, Math.Max((double)Step / Math.Max(1, TotalSteps), TimeFraction));
    /// <summary>The best value of the deciding evaluation metric so far; null before the first evaluation.</summary>
    public double? BestMetric { get; internal set; }
    /// <summary>The step of the best evaluation (0 before one).</summary>
    public int BestStep { get; internal set; }
    /// <summary>Set once a callback asked to stop.</summary>
    public StopReason? StopRequested { get; private set; }

    /// <summary>Asks the trainer to stop before the next step; the first request's reason is kept.</summary>
    public void RequestStop(StopReason reason = StopReason.Requested) => StopRequested ??= reason;
}
