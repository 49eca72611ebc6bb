namespace SharpTransformer.Training;

/// <summary>Options of <see cref="FineTuner{TExample}"/> (names after Hugging Face's <c>TrainingArguments</c>).</summary>
public sealed record FineTuneOptions
{
    /// <summary>Passes over the training set (num_train_epochs).</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Examples per step.</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak learning rate of the body (the pretrained part).</summary>
    public float LearningRate { get; init; } = 5e-4f;
    /// <summary>Peak learning rate of the new head; null: the same as the body.</summary>
    public float? HeadLearningRate { get; init; }
    /// <summary>Decoupled weight decay on matrices.</summary>
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Fraction of the run spent warming up linearly.</summary>
    public float WarmupFraction { get; init; } = 0.05f;
    /// <summary>Decay after warm-up, to zero at the end of the run (by steps or by <see cref="MaxTime"/>, whichever comes first).</summary>
    public DecayKind Decay { get; init; } = DecayKind.Linear;
    /// <summary>Global gradient-norm clip; 0 turns it off.</summary>
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>Wall-clock budget for the whole run, evaluations included; null for none.</summary>
    public TimeSpan? MaxTime { get; init; }
    /// <summary>Evaluate every this many steps as well as at the end of each epoch; 0: only at epoch ends.</summary>
    public int EvaluateEvery { get; init; }
    /// <summary>Put the best evaluated weights back at the end (load_best_model_at_end).</summary>
    public bool RestoreBest { get; init; } = true;
    /// <summary>Seed of the shuffling.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Throws when the options are out of range.</summary>
    public void Validate()
    {
        if (Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "FineTuneOptions: epochs must be positive.");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "FineTuneOptions: batch size must be positive.");
        if (!(LearningRate > 0f)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "FineTuneOptions: learning rate must be positive.");
        if (HeadLearningRate is { } h && !(h > 0f)) throw new ArgumentOutOfRangeException(nameof(HeadLearningRate), h, "FineTuneOptions: head learning rate must be positive.");
        if (WarmupFraction is < 0f or >= 1f) throw new ArgumentOutOfRangeException(nameof(WarmupFraction), WarmupFraction, "FineTuneOptions: warm-up fraction must be in [0, 1).");
    }
}

/// <summary>One report of <see cref="FineTuner{TExample}"/>.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="Epoch">Current epoch (1-based).</param>
/// <param name="Fraction">Part of the run done, by steps or time, in [0, 1].</param>
/// <param name="TrainLoss">Mean loss since the last report.</param>
/// <param name="Metric">The evaluation metric when this report follows an evaluation.</param>
/// <param name="BestMetric">Best metric so far, if any.</param>
/// <param name="LearningRate">Body learning rate at this step.</param>
/// <param name="Elapsed">Wall time since the start.</param>
public sealed record FineTuneProgress(int Step, int Epoch, double Fraction, float TrainLoss, double? Metric, double? BestMetric, float LearningRate, TimeSpan Elapsed);

/// <summary>What a fine-tuning run did.</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Epochs">Epochs started.</param>
/// <param name="BestMetric">Best evaluation metric (NaN when never evaluated).</param>
/// <param name="BestStep">Step of the best evaluation.</param>
/// <param name="Evaluations">Every evaluation as (step, metric).</param>
/// <param name="StoppedByTime">True when <see cref="FineTuneOptions.MaxTime"/> ended the run.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record FineTuneResult(int Steps, int Epochs, double BestMetric, int BestStep, IReadOnlyList<(int Step, double Metric)> Evaluations,
    bool StoppedByTime, TimeSpan Elapsed);
