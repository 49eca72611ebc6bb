using SharpTransformer.Generation;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt generate: samples text from a checkpoint, streaming tokens as they come.</summary>
internal static class GenerateCommand
{
    public static int Run(Args a)
    {
        string path = a.Required("checkpoint");
        string prompt = a.String("prompt") ?? "\n";
        var o = new GenerationOptions(
            MaxNewTokens: a.Int("max-new-tokens", 200),
            Greedy: a.Flag("greedy"),
            Temperature: a.Float("temperature", 0.8f),
            TopK: a.Int("top-k", 0),
            TopP: a.Float("top-p", 1f),
            RepetitionPenalty: a.Float("repetition-penalty", 1f),
            Seed: (ulong)a.Int("seed", 0),
            TruncatePrompt: a.Flag("truncate"));
        a.RejectUnknown();
        var (_, model, tok, _) = LmModels.Load(path);
        var ids = tok.Encode(prompt);
        if (ids.Length == 0) throw new CliException("the prompt encodes to no tokens.");
        var gen = new TextGenerator(model);
        Console.Write(prompt);
        var stream = gen.StreamTextAsync(ids, o, x => tok.Decode(x.ToArray()));
        var e = stream.GetAsyncEnumerator();
        try
        {
            while (e.MoveNextAsync().AsTask().GetAwaiter().GetResult()) Console.Write(e.Current);
        }
        finally { e.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
        Console.WriteLine();
        return 0;
    }
}
