namespace SharpTransformer.Training;

/// <summary>One evaluation, as <see cref="ITrainerCallback.OnEvaluate"/> and <see cref="MetricsLog"/> see it.</summary>
/// <param name="Step">Optimizer steps done when it ran.</param>
/// <param name="Epoch">Epochs done, fractional (NaN when unknown).</param>
/// <param name="Metrics">Every metric the evaluation returned, by name.</param>
/// <param name="Metric">The value of the metric that decides the best model (<see cref="EvaluationCallback.Metric"/>).</param>
/// <param name="Improved">True when <paramref name="Metric"/> beats every earlier evaluation of the run.</param>
/// <param name="BestMetric">The best value so far, this evaluation included.</param>
/// <param name="BestStep">The step of the best evaluation.</param>
/// <param name="Elapsed">Wall time since the run started.</param>
public sealed record EvaluationRecord(int Step, double Epoch, IReadOnlyDictionary<string, double> Metrics, double Metric, bool Improved,
    double BestMetric, int BestStep, TimeSpan Elapsed);
