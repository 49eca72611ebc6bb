using System.CommandLine;
using SharpTransformer.Data;
using SharpTransformer.Evaluation;
using SharpTransformer.Models.Classification;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify eval</c>: accuracy (and per-class figures) of a checkpoint on a labelled file.</summary>
internal static class ClassifyEval
{
    public static Command Create()
    {
        var checkpoint = ClassifyCommand.CheckpointOption();
        var dataOption = CliOptions.ExistingFile("--data", "labelled TSV, CSV or JSONL file", "data file");
        var (textColumn, labelColumn) = ClassifyCommand.ColumnOptions();
        var backendOption = CliBackend.CreateOption();
        var command = new Command("eval", "accuracy, per-class report and confusion matrix of a checkpoint; prints accuracy last")
        {
            checkpoint, dataOption, textColumn, labelColumn, backendOption,
        };
        SharptCli.SetAction(command, (r, _) => Run(r.GetValue(checkpoint)!, r.GetValue(dataOption)!, r.GetValue(textColumn)!, r.GetValue(labelColumn)!,
            r.GetValue(backendOption)!));
        return command;
    }

    private static int Run(string dir, string data, string textCol, string labelCol, string backendName)
    {
        using var backend = CliBackend.Create(backendName);
        var model = CheckpointFile.Load(dir, TextClassifier.Load);
        backend.Place(model.Module);
        var labels = model.Spec.Labels;
        var rows = LabeledTexts.Load(data, textCol, labelCol, new LabelSet(labels));
        int truncated = 0;
        var ids = rows.Select(r => { var x = model.Encode(r.Text, out bool cut); if (cut) truncated++; return x; }).ToList();
        var gold = rows.Select(r => r.Label).ToArray();
        if (truncated > 0) Console.Error.WriteLine($"warning: {truncated} of {rows.Count} rows of {data} were truncated to {model.Spec.MaxLength} tokens.");
        var (pred, _) = model.Predict(ids);
        int correct = pred.Zip(gold).Count(p => p.First == p.Second);
        Console.WriteLine($"{data}: {rows.Count} rows");
        var metrics = new ClassificationMetrics(pred, gold, labels);
        Console.WriteLine(metrics.ToString(4));
        Console.WriteLine("confusion matrix (rows gold, columns predicted):");
        for (int i = 0; i < labels.Length; i++)
            Console.WriteLine($"  {labels[i],-12} " + string.Join(" ", Enumerable.Range(0, labels.Length).Select(j => $"{metrics.ConfusionMatrix[i, j],7}")));
        Console.WriteLine($"accuracy: {correct / (double)rows.Count:F4}");
        return 0;
    }
}
