namespace SharpTransformer.Nn;

/// <summary>Options of <see cref="MultiHeadAttention"/>.</summary>
/// <param name="Dim">Model width C (of the queries and of the output).</param>
/// <param name="Heads">Query heads H.</param>
/// <param name="KvHeads">Key/value heads (H for multi-head, 1 for multi-query, in between for grouped-query).</param>
/// <param name="Causal">Mask future positions (decoders). Ignored when a key/value source is given (cross-attention sees it all).</param>
/// <param name="Bias">Biases on the projections.</param>
/// <param name="RopeTheta">Rotary embedding base, or null for no RoPE.</param>
/// <param name="Dropout">Dropout on the output projection (residual dropout).</param>
/// <param name="FusedQkv">
/// One fused query/key/value projection <c>c_attn</c> (GPT-2's layout: one GEMM) with output <c>c_proj</c>; false gives separate
/// <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c> and <c>o_proj</c> (Llama's, and every family PEFT targets by those names).
/// Cross-attention needs separate projections.
/// </param>
/// <param name="HeadDim">Query/key head width D (default C / H).</param>
/// <param name="ValueHeadDim">Value head width Dv (default D; DeepSeek's latent attention uses another).</param>
/// <param name="Scale">Score scale (default 1/√D; T5 uses 1).</param>
/// <param name="Window">Sliding-window causal attention (Mistral): a query sees itself and the Window - 1 positions before it.</param>
/// <param name="KvDim">Width of the key/value source (default C; an encoder of another width for cross-attention).</param>
/// <param name="RopeScaling">Rescaled RoPE frequencies for a longer context (linear, dynamic NTK, YaRN, Llama 3); null = plain RoPE.</param>
/// <param name="OutputBias">Bias on the output projection; null = as <paramref name="Bias"/> (Qwen2 has q/k/v biases only).</param>
public sealed record AttentionOptions(int Dim, int Heads, int? KvHeads = null, bool Causal = true, bool Bias = true,
    float? RopeTheta = null, float Dropout = 0f, bool FusedQkv = true, int? HeadDim = null, int? ValueHeadDim = null,
    float? Scale = null, int? Window = null, int? KvDim = null, RopeScaling? RopeScaling = null, bool? OutputBias = null);
