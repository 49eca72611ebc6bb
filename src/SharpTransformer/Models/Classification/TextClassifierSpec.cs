using System.Text.Json;

namespace SharpTransformer.Models.Classification;

/// <summary>
/// Everything needed to rebuild a text classifier that <c>sharpt classify train</c> trained: stored as the checkpoint's config
/// (model kind <c>classifier</c>), with these property names.
/// </summary>
/// <param name="Architecture">encoder, bert, distilbert, roberta, hf-encoder, gpt2, prompt-gpt2 or llama.</param>
/// <param name="Vocab">Vocabulary size.</param>
/// <param name="Dim">Width.</param>
/// <param name="Layers">Layers.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Hidden">Feed-forward width.</param>
/// <param name="MaxLength">Longest input in tokens.</param>
/// <param name="Pooling">Pooling of the sequence classifier.</param>
/// <param name="Labels">Label names by class id.</param>
/// <param name="Dropout">Dropout.</param>
/// <param name="Template">Prompt template (prompt-gpt2).</param>
/// <param name="Verbalizers">Verbalizers (prompt-gpt2).</param>
/// <param name="EncoderConfigJson">The Hugging Face config.json text of a fine-tuned pretrained encoder (hf-encoder).</param>
public sealed record TextClassifierSpec(string Architecture, int Vocab, int Dim, int Layers, int Heads, int Hidden, int MaxLength,
    PoolingKind Pooling, string[] Labels, float Dropout, string? Template = null, string[]? Verbalizers = null, string? EncoderConfigJson = null)
{
    /// <summary>The JSON stored in the checkpoint.</summary>
    public string ToJson() => JsonSerializer.Serialize(this);

    /// <summary>Parses the stored JSON.</summary>
    public static TextClassifierSpec FromJson(string json) =>
        JsonSerializer.Deserialize<TextClassifierSpec>(json) ?? throw new InvalidDataException("TextClassifierSpec: empty classifier configuration.");
}
