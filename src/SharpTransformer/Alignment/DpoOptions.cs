namespace SharpTransformer.Alignment;

/// <summary>Settings of <see cref="DpoTrainer"/> beyond the training loop's (TRL's <c>DPOConfig</c> names in comments).</summary>
public sealed record DpoOptions
{
    /// <summary>β (beta): how far the policy may move from the reference; TRL's default 0.1.</summary>
    public float Beta { get; init; } = 0.1f;
    /// <summary>The loss (loss_type): sigmoid (DPO) or IPO.</summary>
    public DpoLossKind Loss { get; init; } = DpoLossKind.Sigmoid;
    /// <summary>cDPO's label smoothing (label_smoothing) in [0, 0.5), sigmoid loss only.</summary>
    public float LabelSmoothing { get; init; }
    /// <summary>
    /// Compute the reference log-probabilities of every pair once, before training, and keep them (precompute_ref_log_probs);
    /// without a reference model they always are, from the policy as it is at the start.
    /// </summary>
    public bool PrecomputeReference { get; init; }
    /// <summary>
    /// Batch pairs of similar length (group_by_length; off by default, as in TRL): less padding, but when lengths follow the
    /// kind of task each batch holds one kind. Off, the steps count no tokens.
    /// </summary>
    public bool GroupByLength { get; init; }
    /// <summary>Run the policy without dropout (disable_dropout), so its log-probabilities match the reference's.</summary>
    public bool DisableDropout { get; init; } = true;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (!(Beta > 0f) || !float.IsFinite(Beta)) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, $"DpoOptions.Beta must be positive; got {Beta}.");
        if (!(LabelSmoothing >= 0f && LabelSmoothing < 0.5f))
            throw new ArgumentOutOfRangeException(nameof(LabelSmoothing), LabelSmoothing, $"DpoOptions.LabelSmoothing must be in [0, 0.5); got {LabelSmoothing}.");
        if (Loss == DpoLossKind.Ipo && LabelSmoothing > 0f)
            throw new ArgumentException($"DpoOptions: label smoothing ({LabelSmoothing}) applies to the sigmoid loss only, not to IPO.");
    }
}
