using System.Globalization;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify predict</c>: one line of text per input line → label and probability.</summary>
internal static class ClassifyPredict
{
    public static int Run(Args a)
    {
        string dir = a.Required("checkpoint");
        a.RejectUnknown();
        var model = ClassifierCheckpoint.Load(dir);
        int lineNo = 0;
        for (string? line; (line = Console.In.ReadLine()) is not null;)
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
