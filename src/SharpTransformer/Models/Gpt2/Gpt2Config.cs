namespace SharpTransformer.Models.Gpt2;

/// <summary>Hyper-parameters of a GPT-2 model (Hugging Face names in comments).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="ContextLength">Maximum positions (n_positions).</param>
/// <param name="Layers">Blocks (n_layer).</param>
/// <param name="Heads">Attention heads (n_head).</param>
/// <param name="Embedding">Width (n_embd).</param>
/// <param name="Dropout">Residual, attention-output and embedding dropout.</param>
/// <param name="LayerNormEps">LayerNorm epsilon (layer_norm_epsilon).</param>
public sealed record Gpt2Config(int VocabSize = 50257, int ContextLength = 1024, int Layers = 12, int Heads = 12, int Embedding = 768,
    float Dropout = 0f, float LayerNormEps = 1e-5f)
{
    /// <summary>GPT-2 124M.</summary>
    public static Gpt2Config Small => new();
    /// <summary>GPT-2 medium (350M).</summary>
    public static Gpt2Config Medium => new(Layers: 24, Heads: 16, Embedding: 1024);
    /// <summary>GPT-2 large (774M).</summary>
    public static Gpt2Config Large => new(Layers: 36, Heads: 20, Embedding: 1280);
    /// <summary>GPT-2 XL (1.5B).</summary>
    public static Gpt2Config XL => new(Layers: 48, Heads: 25, Embedding: 1600);
    /// <summary>Reads a Hugging Face GPT-2 <c>config.json</c>.</summary>
    public static Gpt2Config FromHuggingFace(IO.HuggingFace.HfConfigJson c) => new(
        VocabSize: c.Int(50257, "vocab_size"),
        ContextLength: c.Int(1024, "n_positions", "n_ctx"),
        Layers: c.Int(12, "n_layer"),
        Heads: c.Int(12, "n_head"),
        Embedding: c.Int(768, "n_embd"),
        Dropout: 0f,
        LayerNormEps: c.Float(1e-5f, "layer_norm_epsilon"));

    /// <summary>A tiny model for tests.</summary>
    public static Gpt2Config Tiny => new(VocabSize: 64, ContextLength: 32, Layers: 2, Heads: 2, Embedding: 16);
}
