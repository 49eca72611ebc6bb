namespace SharpTransformer.Training;

/// <summary>Why a <see cref="Trainer"/> run ended.</summary>
public enum StopReason
{
    /// <summary>All planned steps or epochs are done.</summary>
    Completed,
    /// <summary>The evaluation metric stopped improving (<see cref="EarlyStoppingCallback"/>).</summary>
    EarlyStopped,
    /// <summary>The caller's cancellation token fired; the run stopped before the next step.</summary>
    Cancelled,
    /// <summary><see cref="TrainerOptions.MaxTime"/> ran out.</summary>
    TimeLimit,
    /// <summary>A callback asked to stop (<see cref="TrainerState.RequestStop"/>).</summary>
    Requested,
}
