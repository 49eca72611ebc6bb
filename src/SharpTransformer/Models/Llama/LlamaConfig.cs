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
    /// <summary>A tiny model for tests (grouped-query: 4 query heads, 2 key/value heads).</summary>
    public static LlamaConfig Tiny => new(VocabSize: 64, Hidden: 32, Intermediate: 88, Layers: 2, Heads: 4, KvHeads: 2, ContextLength: 64);
}
