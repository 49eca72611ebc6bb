using System.CommandLine;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify train|eval|predict</c>: text classification.</summary>
internal static class ClassifyCommand
{
    public static Command Create() => new("classify", "train, evaluate and run text classifiers")
    {
        ClassifyTrain.Create(),
        ClassifyEval.Create(),
        ClassifyPredict.Create(),
    };

    /// <summary><c>--checkpoint</c>: a folder written by <c>classify train</c>, or its model.safetensors.</summary>
    internal static Option<string> CheckpointOption() =>
        CliOptions.ExistingFile("--checkpoint", "folder written by classify train (or its model.safetensors)", "checkpoint", orDirectory: true);

    /// <summary><c>--text-column</c> and <c>--label-column</c> of a data file.</summary>
    internal static (Option<string> Text, Option<string> Label) ColumnOptions() => (
        CliOptions.Text("--text-column", "column (TSV/CSV header or JSONL key) of the text", "sentence", helpName: "name"),
        CliOptions.Text("--label-column", "column of the label", "label", helpName: "name"));
}
