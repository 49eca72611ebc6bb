using System.CommandLine;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary><c>sharpt ner train|eval|predict</c>: named-entity recognition on CoNLL-format files.</summary>
internal static class NerCommand
{
    public static Command Create() => new("ner", "train, evaluate and run named-entity taggers on CoNLL files")
    {
        NerTrain.Create(),
        NerEval.Create(),
        NerPredict.Create(),
    };

    /// <summary><c>--checkpoint</c>: a folder written by <c>ner train</c>, or its model.safetensors.</summary>
    internal static Option<string> CheckpointOption() =>
        CliOptions.ExistingFile("--checkpoint", "folder written by ner train (or its model.safetensors)", "checkpoint", orDirectory: true);
}
