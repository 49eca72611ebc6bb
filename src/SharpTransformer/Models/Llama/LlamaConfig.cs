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
public sealed record LlamaConfig(int VocabSize = 32000, int Hidden = 4096, int Intermediate = 11008, int Layers = 32, int Heads = 32,
    int KvHeads = 32, int ContextLength = 2048, float RopeTheta = 10000f, float RmsNormEps = 1e-6f, bool TieEmbeddings = false)
{
    /// <summary>Reads a Hugging Face Llama <c>config.json</c>.</summary>
    public static LlamaConfig FromHuggingFace(IO.HuggingFace.HfConfigJson c)
    {
        int heads = c.Int(32, "num_attention_heads");
        return new(
            VocabSize: c.Int(32000, "vocab_size"),
            Hidden: c.Int(4096, "hidden_size"),
            Intermediate: c.Int(11008, "intermediate_size"),
            Layers: c.Int(32, "num_hidden_layers"),
            Heads: heads,
            KvHeads: c.Int(heads, "num_key_value_heads"),
            ContextLength: c.Int(2048, "max_position_embeddings"),
            RopeTheta: c.Float(10000f, "rope_theta"),
            RmsNormEps: c.Float(1e-6f, "rms_norm_eps"),
            TieEmbeddings: c.Bool(false, "tie_word_embeddings"));
    }

    /// <summary>A tiny model for tests (grouped-query: 4 query heads, 2 key/value heads).</summary>
    public static LlamaConfig Tiny => new(VocabSize: 64, Hidden: 32, Intermediate: 88, Layers: 2, Heads: 4, KvHeads: 2, ContextLength: 64);
}
