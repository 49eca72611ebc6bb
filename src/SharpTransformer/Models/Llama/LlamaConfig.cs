namespace SharpTransformer.Models.Llama;

/// <summary>Hyper-parameters of a Llama-style model (Hugging Face names in comments).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="Hidden">Width (hidden_size).</param>
/// <param name="Intermediate">SwiGLU width (intermediate_size).</param>
/// <param name="Layers">Blocks (num_hidden_layers).</param>
/// <param name="Heads">Query heads (num_attention_heads).</param>
/// <param name="KvHeads">Key/value heads (num_key_value_heads).</param>
/// <param name="ContextLength">Maximum positions (max_position_embeddings).</param>
/// <param name="RopeTheta">RoPE base (rope_theta).</param>
/// <param name="RmsNormEps">RMSNorm epsilon (rms_norm_eps).</param>
/// <param name="TieEmbeddings">Output head shares the token embedding (tie_word_embeddings).</param>
/// <param name="QkvBias">Biases on q_proj, k_proj and v_proj (Qwen2; Llama's attention_bias).</param>
/// <param name="OutputBias">Bias on o_proj (Llama's attention_bias; Qwen2 has none).</param>
/// <param name="SlidingWindow">
/// Sliding-window attention (Mistral's sliding_window; Qwen2's when use_sliding_window): a query sees itself and the
/// SlidingWindow - 1 positions before it, and those layers cache only the window (<see cref="Nn.SlidingWindowKvCache"/>). Null = full attention.
/// </param>
/// <param name="WindowFromLayer">The first layer with the window (Qwen2's max_window_layers: the layers below attend fully); 0 = every layer.</param>
/// <param name="RopeScaling">RoPE scaling for a longer context (rope_scaling), or null.</param>
/// <param name="HeadDim">Query/key/value head width (head_dim; default Hidden / Heads).</param>
public sealed record LlamaConfig(int VocabSize = 32000, int Hidden = 4096, int Intermediate = 11008, int Layers = 32, int Heads = 32,
    int KvHeads = 32, int ContextLength = 2048, float RopeTheta = 10000f, float RmsNormEps = 1e-6f, bool TieEmbeddings = false,
    bool QkvBias = false, bool OutputBias = false, int? SlidingWindow = null, int WindowFromLayer = 0, Nn.RopeScaling? RopeScaling = null,
    int? HeadDim = null)
{
    /// <summary>
    /// Reads a Hugging Face <c>config.json</c> of model_type <c>llama</c>, <c>mistral</c> or <c>qwen2</c> (the same tensors; see
    /// <see cref="FromHuggingFace(IO.HuggingFace.HfConfigJson, string)"/>).
    /// </summary>
    public static LlamaConfig FromHuggingFace(IO.HuggingFace.HfConfigJson c) => FromHuggingFace(c, c.String("llama", "model_type"));

    /// <summary>
    /// Reads a Hugging Face <c>config.json</c> as <paramref name="modelType"/>: <c>llama</c> (attention_bias on all four
    /// projections), <c>mistral</c> (sliding_window on every layer when set) or <c>qwen2</c> (q/k/v biases; sliding_window only when
    /// use_sliding_window, and only from layer max_window_layers on, as transformers' Qwen2). rope_scaling is read for all three.
    /// A window larger than max_position_embeddings is an error naming both fields (transformers would silently attend fully).
    /// An absent or null sliding_window means full attention (MistralConfig's constructor would default an absent one to 4096;
    /// saved configs always carry the key).
    /// </summary>
    public static LlamaConfig FromHuggingFace(IO.HuggingFace.HfConfigJson c, string modelType)
    {
        ArgumentNullException.ThrowIfNull(c);
        int heads = c.Int(32, "num_attention_heads");
        int context = c.Int(2048, "max_position_embeddings");
        bool bias = modelType == "llama" && c.Bool(false, "attention_bias");
        int? window = modelType switch
        {
            "mistral" => c.Has("sliding_window") ? c.Int(null, "sliding_window") : null,
            "qwen2" => c.Bool(false, "use_sliding_window") && c.Has("sliding_window") ? c.Int(null, "sliding_window") : null,
            "llama" => null,
            _ => throw new NotSupportedException($"LlamaConfig.FromHuggingFace: {c.FileName} has model_type '{modelType}'; supported: llama, mistral, qwen2."),
        };
        var config = new LlamaConfig(
            VocabSize: c.Int(32000, "vocab_size"),
            Hidden: c.Int(4096, "hidden_size"),
            Intermediate: c.Int(11008, "intermediate_size"),
            Layers: c.Int(32, "num_hidden_layers"),
            Heads: heads,
            KvHeads: c.Int(heads, "num_key_value_heads"),
            ContextLength: context,
            RopeTheta: c.Float(10000f, "rope_theta"),
            RmsNormEps: c.Float(1e-6f, "rms_norm_eps"),
            TieEmbeddings: c.Bool(false, "tie_word_embeddings"),
            QkvBias: bias || modelType == "qwen2",
            OutputBias: bias,
            SlidingWindow: window,
            WindowFromLayer: modelType == "qwen2" && window is not null ? c.Int(28, "max_window_layers") : 0,   // Qwen2Config's default
            RopeScaling: Nn.RopeScaling.FromHuggingFace(c, context),
            HeadDim: c.Has("head_dim") ? c.Int(null, "head_dim") : null);
        config.Validate(c.FileName);
        return config;
    }

    /// <summary>The window of layer <paramref name="layer"/>: <see cref="SlidingWindow"/> from <see cref="WindowFromLayer"/> on, else null.</summary>
    public int? WindowOf(int layer) => SlidingWindow is { } w && layer >= WindowFromLayer ? w : null;

    /// <summary>Checks the sizes; errors name <paramref name="source"/>, the Hugging Face field and its value.</summary>
    public void Validate(string source = "LlamaConfig")
    {
        if (SlidingWindow is { } w && (w <= 0 || w > ContextLength))
            throw new ArgumentException($"{source}: sliding_window {w} must be in [1, max_position_embeddings = {ContextLength}] (a window larger than the context is refused).");
        if (WindowFromLayer < 0) throw new ArgumentException($"{source}: max_window_layers must be non-negative, got {WindowFromLayer}.");
        if (HeadDim is { } d && (d <= 0 || d % 2 != 0)) throw new ArgumentException($"{source}: head_dim must be even and positive, got {d}.");
        RopeScaling?.Validate(source);
    }

    /// <summary>A tiny model for tests (grouped-query: 4 query heads, 2 key/value heads).</summary>
    public static LlamaConfig Tiny => new(VocabSize: 64, Hidden: 32, Intermediate: 88, Layers: 2, Heads: 4, KvHeads: 2, ContextLength: 64);
}
