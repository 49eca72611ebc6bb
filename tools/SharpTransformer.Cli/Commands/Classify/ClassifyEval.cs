using SharpTransformer.Data;
using SharpTransformer.Evaluation;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify eval</c>: accuracy (and per-class figures) of a checkpoint on a labelled file.</summary>
internal static class ClassifyEval
{
    public static int Run(Args a)
    {
        string dir = a.Required("checkpoint"), data = a.Required("data");
        string textCol = a.String("text-column") ?? "sentence", labelCol = a.String("label-column") ?? "label";
        a.RejectUnknown();
        var model = ClassifierCheckpoint.Load(dir);
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
