namespace SharpTransformer.Training;

/// <summary>Reports a <see cref="TrainingProgress"/> after every step and after every evaluation.</summary>
/// <param name="progress">Receives the reports on the training thread.</param>
public sealed class ProgressCallback(IProgress<TrainingProgress> progress) : ITrainerCallback
{
    private StepRecord? _last;

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerState state) => _last = null;

    /// <inheritdoc/>
    public void OnStepEnd(TrainerState state, StepRecord step)
    {
        _last = step;
        progress.Report(new TrainingProgress(step.Step, state.TotalSteps, step.Epoch, state.Fraction, step.Loss, step.LearningRate, null,
            state.BestMetric, step.Elapsed, step.TokensPerSecond));
    }

    /// <inheritdoc/>
    public void OnEvaluate(TrainerState state, EvaluationRecord evaluation) =>
        progress.Report(new TrainingProgress(evaluation.Step, state.TotalSteps, evaluation.Epoch, state.Fraction, _last?.Loss ?? float.NaN,
            _last?.LearningRate ?? state.Optimizer.LearningRate, evaluation.Metric, evaluation.BestMetric, evaluation.Elapsed, _last?.TokensPerSecond ?? 0));
}
