using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>What one <see cref="SparseMoe"/> forward routed: the inputs of the auxiliary losses and of the load statistics.</summary>
/// <param name="Logits">Router logits (N, E), N the tokens of the forward (B·T).</param>
/// <param name="Probabilities">Their softmax over the experts (N, E).</param>
/// <param name="Experts">The chosen experts, token-major (N·k): entry n·k + s is token n's s-th choice (largest first).</param>
/// <param name="ExpertsPerToken">k.</param>
/// <param name="TokenCounts">Tokens routed to each expert (E): how many tokens chose it.</param>
public sealed record MoeRouting(Tensor Logits, Tensor Probabilities, int[] Experts, int ExpertsPerToken, int[] TokenCounts)
{
    /// <summary>Tokens N.</summary>
    public int Tokens => Logits.Size(0);
    /// <summary>Experts E.</summary>
    public int ExpertCount => Logits.Size(1);
}
