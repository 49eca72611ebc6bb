namespace SharpTransformer.Training;

/// <summary>
/// Settings of <see cref="Trainer"/>, one name per concept (Hugging Face's <c>TrainingArguments</c> and nanoGPT's names in
/// comments). The learning rate warms up, then decays to <see cref="MinLearningRate"/> at the end of the run.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over a training set (num_train_epochs); unused when batches are sampled (see <see cref="MaxSteps"/>).</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Optimizer steps at most (max_steps, nanoGPT's max_iters); required when batches are sampled rather than read in epochs.</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Examples per micro-batch (per_device_train_batch_size, batch_size).</summary>
    public int BatchSize { get; init; } = 32;
    /// <summary>Peak learning rate (of the body, when a head is named).</summary>
    public float LearningRate { get; init; } = 1e-3f;
    /// <summary>Peak learning rate of the head parameters named to the trainer; null: <see cref="LearningRate"/>.</summary>
    public float? HeadLearningRate { get; init; }
    /// <summary>Learning rate at the end of the decay (min_lr).</summary>
    public float MinLearningRate { get; init; }
    /// <summary>Linear warm-up, in optimizer steps (warmup_steps, warmup_iters); the rate climbs as (step + 1) / WarmupSteps.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>
    /// Linear warm-up as a fraction of the run (warmup_ratio) instead of <see cref="WarmupSteps"/>; with it, or with
    /// <see cref="MaxTime"/>, the schedule follows the part of the run done (by steps or by time, whichever is further).
    /// </summary>
    public float WarmupFraction { get; init; }
    /// <summary>Shape of the decay after warm-up (lr_scheduler_type).</summary>
    public DecayKind Decay { get; init; } = DecayKind.Linear;
    /// <summary>AdamW's decoupled weight decay, on matrices (rank ≥ 2) only.</summary>
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>AdamW beta1.</summary>
    public float Beta1 { get; init; } = 0.9f;
    /// <summary>AdamW beta2.</summary>
    public float Beta2 { get; init; } = 0.999f;
    /// <summary>Global gradient-norm clip (max_grad_norm, grad_clip); 0 turns it off.</summary>
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>Micro-batches per optimizer step (gradient_accumulation_steps); their losses are averaged.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>
    /// Evaluate every this many optimizer steps (eval_steps, eval_interval), as well as at each epoch end and at the last step;
    /// 0: only there.
    /// </summary>
    public int EvalEvery { get; init; }
    /// <summary>Stop after this many evaluations in a row without improvement (early_stopping_patience); 0: never.</summary>
    public int Patience { get; init; }
    /// <summary>Wall-clock budget of the run, evaluations included; null for none.</summary>
    public TimeSpan? MaxTime { get; init; }
    /// <summary>Put the best evaluated weights back into the model at the end (load_best_model_at_end).</summary>
    public bool RestoreBest { get; init; }
    /// <summary>Seed of the shuffling of epochs and of the sampling generator.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok) throw new ArgumentOutOfRangeException(name, value, $"TrainerOptions.{name} {rule}; got {value}.");
        }
        Check(Epochs > 0, nameof(Epochs), Epochs, "must be positive");
        Check(MaxSteps is null or > 0, nameof(MaxSteps), MaxSteps!, "must be positive");
        Check(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Check(LearningRate > 0f && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be positive");
        Check(HeadLearningRate is null || HeadLearningRate > 0f && float.IsFinite(HeadLearningRate.Value), nameof(HeadLearningRate), HeadLearningRate!, "must be positive");
        Check(MinLearningRate >= 0f && MinLearningRate <= LearningRate, nameof(MinLearningRate), MinLearningRate, "must be in [0, LearningRate]");
        Check(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, "must not be negative");
        Check(WarmupFraction is >= 0f and < 1f, nameof(WarmupFraction), WarmupFraction, "must be in [0, 1)");
        if (WarmupSteps > 0 && WarmupFraction > 0f)
            throw new ArgumentException($"TrainerOptions: give the warm-up in steps (WarmupSteps = {WarmupSteps}) or as a fraction (WarmupFraction = {WarmupFraction}), not both.");
        Check(WeightDecay >= 0f, nameof(WeightDecay), WeightDecay, "must not be negative");
        Check(Beta1 is >= 0f and < 1f, nameof(Beta1), Beta1, "must be in [0, 1)");
        Check(Beta2 is >= 0f and < 1f, nameof(Beta2), Beta2, "must be in [0, 1)");
        Check(MaxGradNorm >= 0f, nameof(MaxGradNorm), MaxGradNorm, "must not be negative (0 turns clipping off)");
        Check(GradientAccumulation > 0, nameof(GradientAccumulation), GradientAccumulation, "must be positive");
        Check(EvalEvery >= 0, nameof(EvalEvery), EvalEvery, "must not be negative (0: at epoch ends and the last step only)");
        Check(Patience >= 0, nameof(Patience), Patience, "must not be negative (0 turns early stopping off)");
        Check(MaxTime is null || MaxTime > TimeSpan.Zero, nameof(MaxTime), MaxTime!, "must be positive");
    }

    /// <summary>
    /// The learning rate before optimizer step <paramref name="step"/> (0-based) of a run of <paramref name="totalSteps"/> steps,
    /// <paramref name="timeFraction"/> of whose <see cref="MaxTime"/> is spent. With warm-up in steps and no time budget this is
    /// <see cref="WarmupDecaySchedule"/>; otherwise the schedule follows the part of the run done, p = max(step / total, time
    /// fraction): warm-up to p = <see cref="WarmupFraction"/> (from 1% of the peak), then the decay to the end of the run.
    /// </summary>
    public float LearningRateAt(int step, int totalSteps, double timeFraction = 0)
    {
        if (WarmupFraction == 0f && MaxTime is null)
            return new WarmupDecaySchedule(LearningRate, WarmupSteps, totalSteps, MinLearningRate, Decay).At(step);
        if (step < WarmupSteps) return LearningRate * (step + 1) / WarmupSteps;
        double fraction = Math.Min(1.0, Math.Max((double)step / Math.Max(1, totalSteps), timeFraction));
        double warm = WarmupFraction > 0f ? WarmupFraction : (double)WarmupSteps / Math.Max(1, totalSteps);
        if (WarmupFraction > 0f && fraction < warm) return (float)(LearningRate * Math.Max(fraction / warm, 0.01));
        double r = warm >= 1 ? 1 : Math.Max(0, fraction - warm) / (1 - warm);
        double c = Decay switch
        {
            DecayKind.Constant => 1,
            DecayKind.Cosine => 0.5 * (1 + Math.Cos(Math.PI * r)),
            _ => 1 - r,
        };
        return (float)(MinLearningRate + (LearningRate - MinLearningRate) * Math.Max(c, 0.0));
    }
}
