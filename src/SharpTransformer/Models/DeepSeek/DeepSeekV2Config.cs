using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;

namespace SharpTransformer.Models.DeepSeek;

/// <summary>Hyper-parameters of a DeepSeek-V2-style model (Hugging Face names in comments).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="Hidden">Width C (hidden_size).</param>
/// <param name="Intermediate">SwiGLU width of the dense layers (intermediate_size).</param>
/// <param name="Layers">Blocks (num_hidden_layers).</param>
/// <param name="Heads">Attention heads (num_attention_heads).</param>
/// <param name="KvLoraRank">Compressed key/value width (kv_lora_rank).</param>
/// <param name="QkNopeHeadDim">Query/key width without position per head (qk_nope_head_dim).</param>
/// <param name="QkRopeHeadDim">Query/key width with RoPE per head (qk_rope_head_dim).</param>
/// <param name="ValueHeadDim">Value width per head (v_head_dim).</param>
/// <param name="QLoraRank">Low-rank query width (q_lora_rank), or null for a plain q_proj.</param>
/// <param name="RoutedExperts">Routed experts per MoE layer (n_routed_experts), or null (every layer dense).</param>
/// <param name="ExpertsPerToken">Experts each token is routed to (num_experts_per_tok).</param>
/// <param name="SharedExperts">Shared experts, fused into one SwiGLU <c>MoeIntermediate × SharedExperts</c> wide (n_shared_experts).</param>
/// <param name="MoeIntermediate">SwiGLU width of one expert (moe_intermediate_size).</param>
/// <param name="FirstDenseLayers">Layers before the first MoE layer (first_k_dense_replace).</param>
/// <param name="MoeLayerFrequency">Every this many layers after those is MoE (moe_layer_freq).</param>
/// <param name="RoutedScalingFactor">Multiplies the routed experts' weights (routed_scaling_factor).</param>
/// <param name="NormTopKProbability">Renormalise the k chosen router probabilities to sum 1 (norm_topk_prob).</param>
/// <param name="ContextLength">Maximum positions (max_position_embeddings).</param>
/// <param name="RopeTheta">RoPE base (rope_theta).</param>
/// <param name="RmsNormEps">Epsilon of the block norms (rms_norm_eps); the latent norms use 1e-6.</param>
/// <param name="AttentionBias">Biases on q_a_proj, kv_a_proj_with_mqa and o_proj (attention_bias).</param>
/// <param name="TieEmbeddings">Output head shares the token embedding (tie_word_embeddings).</param>
/// <param name="InterleavedRope">RoPE on adjacent pairs (V2; V3's rope_interleave), else on halves.</param>
/// <param name="RouterAuxLossCoef">
/// Weight of the load-balancing loss the trainer adds (read from aux_loss_alpha; computed as Switch's token-level loss of
/// <see cref="MoeLosses"/>, not DeepSeek's per-sequence variant); 0 turns it off.
/// </param>
/// <param name="RopeScaling">RoPE scaling (rope_scaling), or null. With YaRN and <c>mscale_all_dim</c> the scores are also scaled by
/// mscale(factor, mscale_all_dim)², as transformers' DeepSeek-V2 does.</param>
/// <param name="RouterZLossCoef">Weight of the router z-loss the trainer adds; 0 (default) turns it off.</param>
public sealed record DeepSeekV2Config(int VocabSize = 102400, int Hidden = 2048, int Intermediate = 10944, int Layers = 27, int Heads = 16,
    int KvLoraRank = 512, int QkNopeHeadDim = 128, int QkRopeHeadDim = 64, int ValueHeadDim = 128, int? QLoraRank = null,
    int? RoutedExperts = 64, int ExpertsPerToken = 6, int SharedExperts = 2, int MoeIntermediate = 1408, int FirstDenseLayers = 1,
    int MoeLayerFrequency = 1, float RoutedScalingFactor = 1f, bool NormTopKProbability = false, int ContextLength = 4096,
    float RopeTheta = 10000f, float RmsNormEps = 1e-6f, bool AttentionBias = false, bool TieEmbeddings = false, bool InterleavedRope = true,
    float RouterAuxLossCoef = 0f, float RouterZLossCoef = 0f, RopeScaling? RopeScaling = null)
{
    /// <summary>True when layer <paramref name="i"/> has a mixture of experts (as transformers decides it), false for a dense SwiGLU.</summary>
    public bool IsMoeLayer(int i) => RoutedExperts is > 0 && i >= FirstDenseLayers && MoeLayerFrequency > 0 && i % MoeLayerFrequency == 0;

    /// <summary>The options of every layer's <see cref="LatentAttention"/>.</summary>
    public LatentAttentionOptions Attention => new(Hidden, Heads, KvLoraRank, QkNopeHeadDim, QkRopeHeadDim, ValueHeadDim, QLoraRank,
        RopeTheta, AttentionBias, LatentNormEps: 1e-6f, Scale: AttentionScale, InterleavedRope, RopeScaling: RopeScaling);

    /// <summary>
    /// The score scale: (qk_nope_head_dim + qk_rope_head_dim)^-0.5, times mscale(factor, mscale_all_dim)² under a YaRN
    /// <see cref="RopeScaling"/> with <c>mscale_all_dim</c> set.
    /// </summary>
    public float AttentionScale
    {
        get
        {
            double s = 1.0 / Math.Sqrt(QkNopeHeadDim + QkRopeHeadDim);
            if (RopeScaling is { Type: RopeType.Yarn, MscaleAllDim: { } all } r && all != 0)
            {
                double m = RotaryFrequencies.YarnMscale(r.Factor, all);
                s *= m * m;
            }
            return (float)s;
        }
    }

    /// <summary>The options of every MoE layer's <see cref="SparseMoe"/> (DeepSeek naming and routing).</summary>
    public MoeOptions Moe => MoeOptions.DeepSeek(Hidden, MoeIntermediate, RoutedExperts ?? 0, ExpertsPerToken, NormTopKProbability, RoutedScalingFactor,
        SharedExperts);

    /// <summary>Cache bytes per token over all layers in fp32: (KvLoraRank + QkRopeHeadDim) × Layers × 4.</summary>
    public long CacheBytesPerToken => (long)(KvLoraRank + QkRopeHeadDim) * Layers * sizeof(float);

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c> of model_type <c>deepseek_v2</c> (or <c>deepseek_v3</c>, whose names agree), with its
    /// <c>rope_scaling</c> (<see cref="RopeScaling.FromHuggingFace"/>: an unknown type is an error naming it). Settings this
    /// implementation does not compute are errors naming the field and value: a <c>topk_method</c>
    /// other than greedy (V3's noaux_tc), a <c>scoring_func</c> other than softmax, an activation other than silu.
    /// </summary>
    public static DeepSeekV2Config FromHuggingFace(IO.HuggingFace.HfConfigJson c)
    {
        ArgumentNullException.ThrowIfNull(c);
        string topk = c.String("greedy", "topk_method");
        if (topk != "greedy")
            throw new NotSupportedException($"{c.FileName}: topk_method '{topk}' is not supported (only 'greedy'; DeepSeek-V3's 'noaux_tc' and V2's 'group_limited_greedy' routing are not implemented).");
        string scoring = c.String("softmax", "scoring_func");
        if (scoring != "softmax")
            throw new NotSupportedException($"{c.FileName}: scoring_func '{scoring}' is not supported (only 'softmax').");
        string act = c.String("silu", "hidden_act");
        if (act != "silu") throw new NotSupportedException($"{c.FileName}: hidden_act '{act}' is not supported (only 'silu').");
        int hidden = c.Int(2048, "hidden_size");
        int context = c.Int(2048, "max_position_embeddings");
        int? routed = c.Has("n_routed_experts") ? c.Int(null, "n_routed_experts") : null;
        int perToken = c.Int(6, "num_experts_per_tok");
        if (routed is int e && (perToken < 1 || perToken > e))
            throw new ArgumentException($"{c.FileName}: num_experts_per_tok {perToken} must be between 1 and n_routed_experts ({e}).");
        return new(
            VocabSize: c.Int(102400, "vocab_size"),
            Hidden: hidden,
            Intermediate: c.Int(10944, "intermediate_size"),
            Layers: c.Int(27, "num_hidden_layers"),
            Heads: c.Int(16, "num_attention_heads"),
            KvLoraRank: c.Int(512, "kv_lora_rank"),
            QkNopeHeadDim: c.Int(128, "qk_nope_head_dim"),
            QkRopeHeadDim: c.Int(64, "qk_rope_head_dim"),
            ValueHeadDim: c.Int(128, "v_head_dim"),
            QLoraRank: c.Has("q_lora_rank") ? c.Int(null, "q_lora_rank") : null,
            RoutedExperts: routed,
            ExpertsPerToken: perToken,
            SharedExperts: c.Int(0, "n_shared_experts"),
            MoeIntermediate: c.Int(1408, "moe_intermediate_size"),
            FirstDenseLayers: c.Int(0, "first_k_dense_replace"),
            MoeLayerFrequency: c.Int(1, "moe_layer_freq"),
            RoutedScalingFactor: c.Float(1f, "routed_scaling_factor"),
            NormTopKProbability: c.Bool(false, "norm_topk_prob"),
            ContextLength: context,
            RopeTheta: c.Float(10000f, "rope_theta"),
            RmsNormEps: c.Float(1e-6f, "rms_norm_eps"),
            AttentionBias: c.Bool(false, "attention_bias"),
            TieEmbeddings: c.Bool(false, "tie_word_embeddings"),
            InterleavedRope: c.Bool(true, "rope_interleave"),
            RouterAuxLossCoef: c.Float(0f, "aux_loss_alpha"),
            RopeScaling: RopeScaling.FromHuggingFace(c, context));
    }

    /// <summary>A tiny model for tests: 2 layers (the first dense), 4 heads, 32 wide, latent 16, RoPE 8, 4 experts top-2, 1 shared.</summary>
    public static DeepSeekV2Config Tiny => new(VocabSize: 64, Hidden: 32, Intermediate: 64, Layers: 2, Heads: 4, KvLoraRank: 16, QkNopeHeadDim: 8,
        QkRopeHeadDim: 8, ValueHeadDim: 12, RoutedExperts: 4, ExpertsPerToken: 2, SharedExperts: 1, MoeIntermediate: 16, FirstDenseLayers: 1,
        RoutedScalingFactor: 1.5f, ContextLength: 64);
}
