namespace SharpTransformer.Training;

/// <summary>
/// Stops a run after <see cref="Patience"/> evaluations in a row that do not improve the deciding metric (Hugging Face's
/// <c>EarlyStoppingCallback</c>). The trainer adds one by itself when <see cref="TrainerOptions.Patience"/> is positive.
/// </summary>
public sealed class EarlyStoppingCallback : ITrainerCallback
{
    private int _bad;

    /// <summary>Creates the callback.</summary>
    public EarlyStoppingCallback(int patience)
    {
        if (patience <= 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "EarlyStoppingCallback: patience must be positive.");
        Patience = patience;
    }

    /// <summary>Evaluations without improvement that end the run.</summary>
    public int Patience { get; }

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerState state) => _bad = 0;

    /// <inheritdoc/>
    public void OnEvaluate(TrainerState state, EvaluationRecord evaluation)
    {
        if (evaluation.Improved) _bad = 0;
        else if (++_bad >= Patience) state.RequestStop(StopReason.EarlyStopped);
    }
}
