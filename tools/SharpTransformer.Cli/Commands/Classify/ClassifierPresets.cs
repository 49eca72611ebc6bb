using SharpTransformer.Models.Classification;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>The <c>--model</c> presets of <c>sharpt classify train</c>: architectures and sizes of a <see cref="TextClassifierSpec"/>.</summary>
internal static class ClassifierPresets
{
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
