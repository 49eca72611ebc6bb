using System.CommandLine;
using SharpTransformer.Generation;
using SharpTransformer.Models;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt generate: samples text from a checkpoint, streaming tokens as they come; Ctrl+C stops it after the current token.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = CliOptions.ExistingFile("--checkpoint", "a checkpoint written by train-lm", "checkpoint");
        var promptOption = CliOptions.Text("--prompt", "text to continue (default: a newline)");
        var maxNew = CliOptions.Int("--max-new-tokens", "tokens to generate", 200, min: 1);
        var greedy = CliOptions.Flag("--greedy", "take the most likely token (no sampling)");
        var temperature = CliOptions.Float("--temperature", "sampling temperature", 0.8f, 0f, minExclusive: true);
        var topK = CliOptions.Int("--top-k", "sample among the k most likely tokens (0 = all)", 0, min: 0);
        var topP = CliOptions.Float("--top-p", "nucleus sampling: the smallest set of tokens with this much probability", 1f, 0f, 1f, minExclusive: true);
        var repetition = CliOptions.Float("--repetition-penalty", "divides the logits of tokens already seen (1 = off)", 1f, 0f, minExclusive: true);
        var seedOption = CliOptions.Seed(0);
        var truncate = CliOptions.Flag("--truncate", "keep the last context-length tokens of a longer prompt instead of failing");
        var backendOption = CliBackend.CreateOption();
        var command = new Command("generate", "sample text from a checkpoint")
        {
            checkpoint, promptOption, maxNew, greedy, temperature, topK, topP, repetition, seedOption, truncate, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(r.GetValue(checkpoint)!, r.GetValue(promptOption) ?? "\n", new GenerationOptions(
            MaxNewTokens: r.GetValue(maxNew),
            Greedy: r.GetValue(greedy),
            Temperature: r.GetValue(temperature),
            TopK: r.GetValue(topK),
            TopP: r.GetValue(topP),
            RepetitionPenalty: r.GetValue(repetition),
            Seed: (ulong)r.GetValue(seedOption),
            TruncatePrompt: r.GetValue(truncate)), r.GetValue(backendOption)!, cancellation));
        return command;
    }

    public static int Run(string path, string prompt, GenerationOptions o, string backendName, CancellationToken cancellation)
    {
        using var backend = CliBackend.Create(backendName);
        var (model, tok, _) = CheckpointFile.Load(path, LanguageModelCheckpoint.Load);
        backend.Place(model);
        var ids = tok.Encode(prompt);
        if (ids.Length == 0) throw new CliException("the prompt encodes to no tokens.");
        var gen = new TextGenerator(model);
        Console.Write(prompt);
        var stream = gen.StreamTextAsync(ids, o, x => tok.Decode(x.ToArray()), cancellation);
        var e = stream.GetAsyncEnumerator(cancellation);
        try
        {
            while (!cancellation.IsCancellationRequested && e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) Console.Write(e.Current);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        Console.WriteLine();
        if (cancellation.IsCancellationRequested)
        {
            Console.Error.WriteLine("sharpt generate: cancelled.");
            return SharptCli.Cancelled;
        }
        return 0;
    }
}
