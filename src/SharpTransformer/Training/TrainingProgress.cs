namespace SharpTransformer.Training;

/// <summary>A progress report of <see cref="ProgressCallback"/>: one after each step, and one after each evaluation.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="TotalSteps">Steps planned.</param>
/// <param name="Epoch">Epochs done, fractional (NaN when unknown).</param>
/// <param name="Fraction">Part of the run done, by steps or by <see cref="TrainerOptions.MaxTime"/>, in [0, 1].</param>
/// <param name="Loss">Training loss of the last step.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="Metric">The deciding evaluation metric, when this report follows an evaluation.</param>
/// <param name="BestMetric">The best value of the deciding metric so far, if any.</param>
/// <param name="Elapsed">Wall time since the run started.</param>
/// <param name="TokensPerSecond">Training throughput (0 when the batches' lengths are unknown).</param>
public sealed record TrainingProgress(int Step, int TotalSteps, double Epoch, double Fraction, float Loss, float LearningRate, double? Metric,
    double? BestMetric, TimeSpan Elapsed, double TokensPerSecond);
