using System.CommandLine;
using System.Globalization;
using SharpTransformer.Models.Classification;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify predict</c>: one line of text per input line → label and probability.</summary>
internal static class ClassifyPredict
{
    public static Command Create()
    {
        var checkpoint = ClassifyCommand.CheckpointOption();
        var backendOption = CliBackend.CreateOption();
        var command = new Command("predict", "read lines on stdin; print the label and its probability for each") { checkpoint, backendOption };
        SharptCli.SetAction(command, (r, cancellation) => Run(r.GetValue(checkpoint)!, r.GetValue(backendOption)!, cancellation));
        return command;
    }

    private static int Run(string dir, string backendName, CancellationToken cancellation)
    {
        using var backend = CliBackend.Create(backendName);
        var model = CheckpointFile.Load(dir, TextClassifier.Load);
        backend.Place(model.Module);
        int lineNo = 0;
        for (string? line; !cancellation.IsCancellationRequested && (line = Console.In.ReadLine()) is not null;)
        {
            lineNo++;
            if (line.Trim().Length == 0)
            {
                Console.Error.WriteLine($"stdin:{lineNo}: empty line skipped.");
                Console.WriteLine();
                continue;
            }
            var (pred, probs) = model.Predict([model.Encode(line, out _)], 1);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model.Spec.Labels[pred[0]]}\t{probs[0][pred[0]]:F4}"));
        }
        return 0;
    }
}
