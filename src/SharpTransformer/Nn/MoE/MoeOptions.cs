namespace SharpTransformer.Nn.MoE;

/// <summary>
/// Shape and routing of a sparse mixture-of-experts feed-forward (<see cref="SparseMoe"/>). The router takes the softmax of
/// <c>gate(x)</c> over all <paramref name="Experts"/>, picks <paramref name="ExpertsPerToken"/> experts per token by
/// <paramref name="TopK"/>, renormalises their weights to sum 1 when <paramref name="NormalizeTopK"/> is set (Mixtral; DeepSeek's
/// <c>norm_topk_prob</c>), and multiplies them by <paramref name="RoutedScalingFactor"/> (DeepSeek's <c>routed_scaling_factor</c>).
/// </summary>
/// <param name="Dim">Model width C (hidden_size).</param>
/// <param name="ExpertHidden">SwiGLU width of each routed expert (Mixtral intermediate_size, DeepSeek moe_intermediate_size).</param>
/// <param name="Experts">Routed experts (num_local_experts, n_routed_experts).</param>
/// <param name="ExpertsPerToken">Experts per token k (num_experts_per_tok).</param>
/// <param name="NormalizeTopK">Renormalise the k weights to sum 1.</param>
/// <param name="RoutedScalingFactor">Multiplies the routed weights.</param>
/// <param name="SharedExperts">Shared experts (n_shared_experts): one SwiGLU <c>shared_experts</c> of width ExpertHidden × SharedExperts, added for every token; 0 for none.</param>
/// <param name="Naming">Names of the expert linears.</param>
/// <param name="TopK">Selection method (topk_method).</param>
public sealed record MoeOptions(int Dim, int ExpertHidden, int Experts, int ExpertsPerToken, bool NormalizeTopK = true, float RoutedScalingFactor = 1f,
    int SharedExperts = 0, ExpertNaming Naming = ExpertNaming.Mixtral, TopKMethod TopK = TopKMethod.Greedy)
{
    /// <summary>Mixtral's routing: softmax over all experts, top k, renormalised, no shared experts.</summary>
    public static MoeOptions Mixtral(int dim, int expertHidden, int experts, int expertsPerToken) =>
        new(dim, expertHidden, experts, expertsPerToken, NormalizeTopK: true, RoutedScalingFactor: 1f, SharedExperts: 0, ExpertNaming.Mixtral);

    /// <summary>DeepSeek's routing (V2/V3 with <c>topk_method</c> greedy): <c>norm_topk_prob</c>, <c>routed_scaling_factor</c>, <c>n_shared_experts</c>.</summary>
    public static MoeOptions DeepSeek(int dim, int moeIntermediate, int routedExperts, int expertsPerToken, bool normTopKProb, float routedScalingFactor,
        int sharedExperts) =>
        new(dim, moeIntermediate, routedExperts, expertsPerToken, normTopKProb, routedScalingFactor, sharedExperts, ExpertNaming.DeepSeek);

    /// <summary>Throws naming the field and value when the options are inconsistent (<paramref name="where"/> names the caller).</summary>
    public void Validate(string where = "MoeOptions")
    {
        if (Dim <= 0) throw new ArgumentException($"{where}: hidden_size must be positive, got {Dim}.");
        if (ExpertHidden <= 0) throw new ArgumentException($"{where}: the expert width (intermediate_size / moe_intermediate_size) must be positive, got {ExpertHidden}.");
        if (Experts <= 0) throw new ArgumentException($"{where}: the number of experts (num_local_experts / n_routed_experts) must be positive, got {Experts}.");
        if (ExpertsPerToken <= 0 || ExpertsPerToken > Experts)
            throw new ArgumentException($"{where}: num_experts_per_tok is {ExpertsPerToken}, but it must be between 1 and the {Experts} experts.");
        if (SharedExperts < 0) throw new ArgumentException($"{where}: n_shared_experts must not be negative, got {SharedExperts}.");
        if (!float.IsFinite(RoutedScalingFactor)) throw new ArgumentException($"{where}: routed_scaling_factor must be finite, got {RoutedScalingFactor}.");
    }
}
