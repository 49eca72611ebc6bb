namespace SharpTransformer.Training;

/// <summary>
/// Hooks into a <see cref="Trainer"/> run (as Hugging Face's <c>TrainerCallback</c>). The trainer calls every callback in list
/// order: <see cref="OnTrainBegin"/> once, <see cref="OnStepEnd"/> after each optimizer step, <see cref="OnEvaluate"/> after
/// each evaluation (which follows the step it belongs to), and <see cref="OnTrainEnd"/> once when the run ends without an
/// exception. A callback stops the run with <see cref="TrainerState.RequestStop"/>; the trainer stops before the next step.
/// Every method has an empty default body, so a callback implements only what it needs.
/// </summary>
public interface ITrainerCallback
{
    /// <summary>Before the first step of a run.</summary>
    void OnTrainBegin(TrainerState state) { }

    /// <summary>After an optimizer step.</summary>
    void OnStepEnd(TrainerState state, StepRecord step) { }

    /// <summary>After an evaluation (the model is back in training mode).</summary>
    void OnEvaluate(TrainerState state, EvaluationRecord evaluation) { }

    /// <summary>When the run ends (completed, early-stopped, cancelled, out of time or stopped by a callback).</summary>
    void OnTrainEnd(TrainerState state, TrainerResult result) { }
}
