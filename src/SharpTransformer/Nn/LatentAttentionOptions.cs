namespace SharpTransformer.Nn;

/// <summary>Options of <see cref="LatentAttention"/> (DeepSeek-V2/V3 multi-head latent attention; Hugging Face names in comments).</summary>
/// <param name="Dim">Model width C (hidden_size).</param>
/// <param name="Heads">Query heads H (num_attention_heads).</param>
/// <param name="KvLoraRank">Width Dc of the compressed key/value vector (kv_lora_rank), the part of a token the cache keeps.</param>
/// <param name="QkNopeHeadDim">Per-head query/key width without position (qk_nope_head_dim).</param>
/// <param name="QkRopeHeadDim">Per-head query/key width that RoPE rotates (qk_rope_head_dim); the key part is one head shared by all.</param>
/// <param name="ValueHeadDim">Per-head value width (v_head_dim), may differ from the query/key width.</param>
/// <param name="QLoraRank">Width of the low-rank query path (q_lora_rank: <c>q_a_proj</c>, <c>q_a_layernorm</c>, <c>q_b_proj</c>), or null for one <c>q_proj</c>.</param>
/// <param name="RopeTheta">RoPE base (rope_theta).</param>
/// <param name="Bias">Biases on <c>q_a_proj</c>, <c>kv_a_proj_with_mqa</c> and <c>o_proj</c> (attention_bias); <c>q_proj</c>, <c>q_b_proj</c> and <c>kv_b_proj</c> never have one.</param>
/// <param name="LatentNormEps">Epsilon of <c>q_a_layernorm</c> and <c>kv_a_layernorm</c> (transformers builds them with 1e-6 whatever rms_norm_eps says).</param>
/// <param name="Scale">Score scale (default (QkNopeHeadDim + QkRopeHeadDim)^-0.5).</param>
/// <param name="InterleavedRope">
/// RoPE on adjacent pairs (2i, 2i + 1) as DeepSeek-V2 (and V3's <c>rope_interleave</c>: true); false rotates the halves (i, i + Dr/2)
/// as Llama.
/// </param>
/// <param name="RopeScaling">RoPE frequency scaling for a longer context (rope_scaling), or null. DeepSeek's YaRN also scales the
/// scores: give that in <paramref name="Scale"/> (<see cref="Models.DeepSeek.DeepSeekV2Config"/> does).</param>
/// <param name="AbsorbWhenCached">
/// With a cache and no gradient, absorb <c>kv_b_proj</c> into the query and output (attention over the cached latents directly,
/// no per-head keys or values); equal to the expanded path up to rounding.
/// </param>
public sealed record LatentAttentionOptions(int Dim, int Heads, int KvLoraRank, int QkNopeHeadDim, int QkRopeHeadDim, int ValueHeadDim,
    int? QLoraRank = null, float RopeTheta = 10000f, bool Bias = false, float LatentNormEps = 1e-6f, float? Scale = null,
    bool InterleavedRope = true, bool AbsorbWhenCached = true, RopeScaling? RopeScaling = null)
{
    /// <summary>Per-head query/key width: QkNopeHeadDim + QkRopeHeadDim.</summary>
    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Cache bytes per token and layer in fp32: (KvLoraRank + QkRopeHeadDim) × 4.</summary>
    public int CacheBytesPerToken => (KvLoraRank + QkRopeHeadDim) * sizeof(float);
}
