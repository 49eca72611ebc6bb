using System.CommandLine;
using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt eval-lm: mean cross-entropy and perplexity of a checkpoint over every token of a text file.</summary>
internal static class EvalLmCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.ExistingFile("--checkpoint", "a checkpoint written by train-lm", "checkpoint");
        var inputOption = CliOptions.ExistingFile("--input", "text file to score", "input file");
        var batchOption = CliOptions.Int("--batch", "windows per forward pass", 16, min: 1);
        var backendOption = CliBackend.CreateOption();
        var command = new Command("eval-lm", "loss and perplexity of a checkpoint over every token of a text file")
        {
            checkpoint, inputOption, batchOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) =>
            Run(r.GetValue(checkpoint)!, r.GetValue(inputOption)!, r.GetValue(batchOption), r.GetValue(backendOption)!, cancellation));
        return command;
    }

    public static int Run(string path, string input, int batch, string backendName, CancellationToken cancellation)
    {
        using var backend = CliBackend.Create(backendName);
        var (model, tok, _) = CheckpointFile.Load(path, LanguageModelCheckpoint.Load);
        backend.Place(model);
        var ids = tok.Encode(LmModels.ReadText(input));
        int block = model.ContextLength;
        if (ids.Length < 2) throw new CliException($"{input}: fewer than two tokens.");
        block = Math.Min(block, ids.Length - 1);
        var data = new TokenWindowDataset(ids, block, stride: block);   // non-overlapping windows cover the file
        double sum = 0;
        long count = 0;
        using (GradMode.NoGrad())
            for (int s = 0; s < data.Count; s += batch)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = TensorScope.Begin();
                int n = Math.Min(batch, data.Count - s);
                var (x, y) = data.Batch(Enumerable.Range(s, n).ToArray());
                (x, y) = (x.To(backend.Backend), y.To(backend.Backend));
                sum += Functional.CrossEntropy(model.Forward(x), y, reduction: Reduction.Sum).Item();
                count += (long)n * block;
            }
        double loss = sum / count;
        Console.WriteLine($"{input}: {count:N0} tokens scored in windows of {block}");
        Console.WriteLine($"loss: {loss:F4}");
        Console.WriteLine($"perplexity: {Math.Exp(loss):F4}");
        return 0;
    }
}
