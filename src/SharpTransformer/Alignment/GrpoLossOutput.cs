using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>A GRPO loss and what it saw (TRL's <c>kl</c> and <c>clip_ratio</c> metrics).</summary>
/// <param name="Loss">The loss: a differentiable scalar.</param>
/// <param name="Kl">Mean of the k3 estimate of KL(π ‖ π_ref) over the completion tokens (0 without a reference).</param>
/// <param name="ClipRatio">Share of completion tokens whose policy ratio was clipped (ratio below 1 − ε with a negative advantage, or above 1 + ε with a positive one).</param>
public sealed record GrpoLossOutput(Tensor Loss, double Kl, double ClipRatio);
