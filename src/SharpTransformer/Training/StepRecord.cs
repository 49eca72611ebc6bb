namespace SharpTransformer.Training;

/// <summary>What one optimizer step did, as <see cref="ITrainerCallback.OnStepEnd"/> and <see cref="MetricsLog"/> see it.</summary>
/// <param name="Step">Optimizer steps done, this one included (1 after the first).</param>
/// <param name="Epoch">Epochs done, fractional (1.5: half-way through the second); NaN when batches are sampled from a source of unknown size.</param>
/// <param name="Loss">Mean training loss of the step's micro-batches.</param>
/// <param name="LearningRate">Learning rate of the step (of the body, when a head has its own).</param>
/// <param name="Tokens">Tokens trained on since the run started (0 when the batches' lengths are unknown).</param>
/// <param name="TokensPerSecond">Tokens over the run's wall time so far.</param>
/// <param name="Elapsed">Wall time since the run started.</param>
public sealed record StepRecord(int Step, double Epoch, float Loss, float LearningRate, long Tokens, double TokensPerSecond, TimeSpan Elapsed)
{
    /// <summary>Further training metrics of the step reported through <see cref="Trainer.Report"/> (mean over its micro-batches), or null.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }
}
