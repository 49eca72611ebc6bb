using System.Text.Json;
using SharpTransformer.Models.Classification;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Everything needed to rebuild a trained classifier: stored as the checkpoint's config.</summary>
internal sealed record ClassifierSpec(string Architecture, int Vocab, int Dim, int Layers, int Heads, int Hidden, int MaxLength,
    PoolingKind Pooling, string[] Labels, float Dropout, string? Template = null, string[]? Verbalizers = null, string? EncoderConfigJson = null)
{
    public string ToJson() => JsonSerializer.Serialize(this);

    public static ClassifierSpec FromJson(string json) =>
        JsonSerializer.Deserialize<ClassifierSpec>(json) ?? throw new CliException("checkpoint: empty classifier configuration.");

    /// <summary>Architecture and sizes of a --model preset.</summary>
    public static (string Arch, int Dim, int Layers, int Heads, int Hidden, PoolingKind Pooling) Preset(string model) => model switch
    {
        "encoder-mini" => ("encoder", 128, 2, 4, 512, PoolingKind.Mean),
        "encoder-small" => ("encoder", 256, 4, 4, 1024, PoolingKind.Mean),
        "bert-mini" => ("bert", 256, 4, 4, 1024, PoolingKind.Pooler),
        "bert-small" => ("bert", 128, 2, 4, 512, PoolingKind.Pooler),
        "distilbert-mini" => ("distilbert", 256, 4, 4, 1024, PoolingKind.Cls),
        "roberta-mini" => ("roberta", 256, 4, 4, 1024, PoolingKind.Cls),
        "gpt-mini" => ("gpt2", 128, 2, 4, 512, PoolingKind.LastToken),
        "llama-mini" => ("llama", 128, 2, 4, 384, PoolingKind.LastToken),
        "prompt-gpt-mini" => ("prompt-gpt2", 128, 2, 4, 512, PoolingKind.LastToken),
        _ => throw new CliException($"--model must be one of {string.Join(", ", Presets)}; got '{model}'."),
    };

    public static readonly string[] Presets = ["encoder-mini", "encoder-small", "bert-mini", "bert-small", "distilbert-mini", "roberta-mini", "gpt-mini", "llama-mini", "prompt-gpt-mini"];
}
