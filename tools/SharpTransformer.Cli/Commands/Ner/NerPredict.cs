using System.CommandLine;
using SharpTransformer.Data;
using SharpTransformer.Models.Tagging;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary>
/// <c>sharpt ner predict</c>: one sentence per input line (words separated by spaces) → its tags, separated by spaces,
/// one output line per input line.
/// </summary>
internal static class NerPredict
{
    public static Command Create()
    {
        var checkpoint = NerCommand.CheckpointOption();
        var backendOption = CliBackend.CreateOption();
        var command = new Command("predict", "read sentences on stdin (words separated by spaces); print one tag per word") { checkpoint, backendOption };
        SharptCli.SetAction(command, (r, cancellation) => Run(r.GetValue(checkpoint)!, r.GetValue(backendOption)!, cancellation));
        return command;
    }

    private static int Run(string dir, string backendName, CancellationToken cancellation)
    {
        using var backend = CliBackend.Create(backendName);
        var model = CheckpointFile.Load(dir, TaggerCheckpoint.Load);
        backend.Place(model.Tagger);
        int lineNo = 0;
        for (string? line; !cancellation.IsCancellationRequested && (line = Console.In.ReadLine()) is not null;)
        {
            lineNo++;
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                Console.WriteLine();
                continue;
            }
            var tags = model.Predict([new ConllSentence(words, new string[words.Length], "stdin", lineNo)], 1)[0];
            Console.WriteLine(string.Join(' ', tags));
        }
        return 0;
    }
}
