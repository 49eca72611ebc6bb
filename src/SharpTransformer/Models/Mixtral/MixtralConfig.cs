using SharpTransformer.Nn.MoE;

namespace SharpTransformer.Models.Mixtral;

/// <summary>Hyper-parameters of a Mixtral model (Hugging Face names in comments).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="Hidden">Width (hidden_size).</param>
/// <param name="Intermediate">SwiGLU width of each expert (intermediate_size).</param>
/// <param name="Layers">Blocks (num_hidden_layers).</param>
/// <param name="Heads">Query heads (num_attention_heads).</param>
/// <param name="KvHeads">Key/value heads (num_key_value_heads).</param>
/// <param name="Experts">Experts per layer (num_local_experts).</param>
/// <param name="ExpertsPerToken">Experts each token is routed to (num_experts_per_tok).</param>
/// <param name="ContextLength">Maximum positions (max_position_embeddings).</param>
/// <param name="RopeTheta">RoPE base (rope_theta).</param>
/// <param name="RmsNormEps">RMSNorm epsilon (rms_norm_eps).</param>
/// <param name="TieEmbeddings">Output head shares the token embedding (tie_word_embeddings).</param>
/// <param name="SlidingWindow">Sliding-window attention width (sliding_window), or null for full causal attention.</param>
/// <param name="RouterAuxLossCoef">Weight of the load-balancing loss in training (router_aux_loss_coef).</param>
/// <param name="RouterZLossCoef">Weight of the router z-loss in training (not in Hugging Face's config; 0 = off).</param>
/// <param name="HeadDim">Attention head width (head_dim; null = Hidden / Heads).</param>
public sealed record MixtralConfig(int VocabSize = 32000, int Hidden = 4096, int Intermediate = 14336, int Layers = 32, int Heads = 32,
    int KvHeads = 8, int Experts = 8, int ExpertsPerToken = 2, int ContextLength = 32768, float RopeTheta = 1e6f, float RmsNormEps = 1e-5f,
    bool TieEmbeddings = false, int? SlidingWindow = null, float RouterAuxLossCoef = 0.001f, float RouterZLossCoef = 0f, int? HeadDim = null)
{
    /// <summary>Reads a Hugging Face Mixtral <c>config.json</c>; inconsistent values are errors naming the field and value.</summary>
    public static MixtralConfig FromHuggingFace(IO.HuggingFace.HfConfigJson c)
    {
        int heads = c.Int(32, "num_attention_heads");
        var cfg = new MixtralConfig(
            VocabSize: c.Int(32000, "vocab_size"),
            Hidden: c.Int(4096, "hidden_size"),
            Intermediate: c.Int(14336, "intermediate_size"),
            Layers: c.Int(32, "num_hidden_layers"),
            Heads: heads,
            KvHeads: c.Int(heads, "num_key_value_heads"),
            Experts: c.Int(8, "num_local_experts"),
            ExpertsPerToken: c.Int(2, "num_experts_per_tok"),
            ContextLength: c.Int(32768, "max_position_embeddings"),
            RopeTheta: c.Float(1e6f, "rope_theta"),
            RmsNormEps: c.Float(1e-5f, "rms_norm_eps"),
            TieEmbeddings: c.Bool(false, "tie_word_embeddings"),
            SlidingWindow: c.Has("sliding_window") ? c.Int(null, "sliding_window") : null,
            RouterAuxLossCoef: c.Float(0.001f, "router_aux_loss_coef"),
            HeadDim: c.Has("head_dim") ? c.Int(null, "head_dim") : null);
        cfg.Validate(c.FileName);
        return cfg;
    }

    /// <summary>Throws naming the config field and value when the hyper-parameters are inconsistent.</summary>
    public void Validate(string where = "MixtralConfig")
    {
        if (Experts <= 0) throw new ArgumentException($"{where}: num_local_experts must be positive, got {Experts}.");
        if (ExpertsPerToken <= 0 || ExpertsPerToken > Experts)
            throw new ArgumentException($"{where}: num_experts_per_tok is {ExpertsPerToken}, but it must be between 1 and num_local_experts ({Experts}).");
        if (Heads <= 0 || KvHeads <= 0 || Heads % KvHeads != 0)
            throw new ArgumentException($"{where}: num_attention_heads ({Heads}) must be a positive multiple of num_key_value_heads ({KvHeads}).");
        if (HeadDim is null && Hidden % Heads != 0)
            throw new ArgumentException($"{where}: hidden_size ({Hidden}) is not a multiple of num_attention_heads ({Heads}).");
        if (SlidingWindow is { } w && (w <= 0 || w > ContextLength))
            throw new ArgumentException($"{where}: sliding_window is {w}, but it must be between 1 and max_position_embeddings ({ContextLength}).");
    }

    /// <summary>The MoE options of each layer.</summary>
    public MoeOptions Moe => MoeOptions.Mixtral(Hidden, Intermediate, Experts, ExpertsPerToken);

    /// <summary>A tiny model for tests (4 experts, top-2, grouped-query attention).</summary>
    public static MixtralConfig Tiny => new(VocabSize: 64, Hidden: 32, Intermediate: 40, Layers: 2, Heads: 4, KvHeads: 2, Experts: 4,
        ExpertsPerToken: 2, ContextLength: 64, RouterAuxLossCoef: 0.02f);
}
