namespace SharpTransformer.Alignment;

/// <summary>How <see cref="GrpoLoss"/> averages its per-token terms (TRL's <c>loss_type</c>).</summary>
public enum GrpoLossKind
{
    /// <summary>DeepSeekMath's GRPO: the mean over each completion's tokens, then the mean over the completions (1/G Σ 1/|oᵢ| Σₜ).</summary>
    Grpo,
    /// <summary>The mean over every completion token of the batch (TRL's <c>bnpo</c>): long completions weigh more.</summary>
    Bnpo,
}
