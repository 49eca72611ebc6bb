namespace SharpTransformer.Training;

/// <summary>What a <see cref="Trainer"/> run did.</summary>
/// <param name="Steps">Optimizer steps done (continuing a resumed count).</param>
/// <param name="Epoch">Epochs done, fractional (NaN when unknown).</param>
/// <param name="FinalLoss">Training loss of the last step (NaN when no step ran).</param>
/// <param name="FinalMetric">The deciding metric of the last evaluation (NaN without one).</param>
/// <param name="BestMetric">The best value of the deciding metric (NaN without evaluation).</param>
/// <param name="BestStep">The step of the best evaluation (0 without one).</param>
/// <param name="Evaluations">Every evaluation of the run, in order.</param>
/// <param name="Reason">Why the run ended.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record TrainerResult(int Steps, double Epoch, float FinalLoss, double FinalMetric, double BestMetric, int BestStep,
    IReadOnlyList<EvaluationRecord> Evaluations, StopReason Reason, TimeSpan Elapsed);
