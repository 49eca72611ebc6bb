namespace SharpTransformer.Nn.MoE;

/// <summary>How a <see cref="SparseMoe"/> picks each token's experts from the router probabilities (DeepSeek's <c>topk_method</c>).</summary>
public enum TopKMethod
{
    /// <summary>The k largest probabilities over all experts (Mixtral; DeepSeek's <c>greedy</c>). Ties go to the lower expert index.</summary>
    Greedy,
}
