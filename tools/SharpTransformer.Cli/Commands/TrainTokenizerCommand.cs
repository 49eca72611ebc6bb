using System.Diagnostics;
using System.Text;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>sharpt train-tokenizer --kind bpe|wordpiece --vocab-size N --input FILE --out DIR [--lowercase] [--min-frequency N]</c>:
/// learns a byte-level BPE vocabulary (writes <c>vocab.json</c> + <c>merges.txt</c>) or a WordPiece vocabulary (writes
/// <c>vocab.txt</c>). WordPiece keeps case unless <c>--lowercase</c> is given, so its vocabulary serves both
/// <c>sharpt tokenize</c> with and without <c>--lowercase</c>.
/// </summary>
internal static class TrainTokenizerCommand
{
    private enum Kind { Bpe, WordPiece }

    public static int Run(Args args)
    {
        string kindText = args.Required("kind");
        int vocabSize = args.Int("vocab-size", -1);
        string input = args.Required("input");
        string outDir = args.Required("out");
        bool lowercase = args.Flag("lowercase");
        int minFrequency = args.Int("min-frequency", 0);
        args.RejectUnknown();

        if (!Enum.TryParse<Kind>(kindText, ignoreCase: true, out var kind))
            throw new CliException($"--kind must be bpe or wordpiece, got '{kindText}'.");
        if (vocabSize <= 0) throw new CliException("--vocab-size must be a positive integer.");
        if (!File.Exists(input)) throw new CliException($"input file not found: {input}");
        var text = File.ReadAllText(input, Encoding.UTF8);

        var sw = Stopwatch.StartNew();
        try
        {
            if (kind == Kind.Bpe)
            {
                var tok = BpeTrainer.Train([text], new BpeTrainerOptions(vocabSize) { MinFrequency = minFrequency, Lowercase = lowercase });
                tok.Save(outDir);
                Console.WriteLine($"byte-level BPE: {tok.VocabSize} tokens ({tok.MergeCount} merges) in {sw.Elapsed.TotalSeconds:F2} s -> {Path.Combine(outDir, "vocab.json")}, {Path.Combine(outDir, "merges.txt")}");
            }
            else
            {
                var options = new WordPieceTrainerOptions(vocabSize)
                {
                    MinFrequency = minFrequency,
                    Normalization = new BertNormalization(Lowercase: lowercase),
                };
                var tok = WordPieceTrainer.Train(text.Split('\n'), options);
                tok.Save(outDir);
                Console.WriteLine($"WordPiece: {tok.VocabSize} tokens in {sw.Elapsed.TotalSeconds:F2} s -> {Path.Combine(outDir, "vocab.txt")}");
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new CliException(e.Message);
        }
        return 0;
    }
}
