namespace SharpTransformer.Nn;

/// <summary>Names of the children of a <see cref="TransformerBlock"/>, so each family's module paths equal Hugging Face's.</summary>
/// <param name="Norm1">Norm before attention.</param>
/// <param name="Attention">Self-attention.</param>
/// <param name="Norm2">Norm before the feed-forward.</param>
/// <param name="Mlp">Feed-forward.</param>
public sealed record BlockNames(string Norm1, string Attention, string Norm2, string Mlp)
{
    /// <summary>norm1, attn, norm2, mlp (our own encoders).</summary>
    public static BlockNames Default { get; } = new("norm1", "attn", "norm2", "mlp");

    /// <summary>GPT-2: ln_1, attn, ln_2, mlp.</summary>
    public static BlockNames Gpt2 { get; } = new("ln_1", "attn", "ln_2", "mlp");

    /// <summary>Llama (and Mistral, Qwen): input_layernorm, self_attn, post_attention_layernorm, mlp.</summary>
    public static BlockNames Llama { get; } = new("input_layernorm", "self_attn", "post_attention_layernorm", "mlp");
}
