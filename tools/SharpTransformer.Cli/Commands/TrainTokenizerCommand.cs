using System.CommandLine;
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

    public static Command Create()
    {
        var kindOption = CliOptions.Choice("--kind", "byte-level BPE (vocab.json + merges.txt) or WordPiece (vocab.txt)", null, "bpe", "wordpiece");
        kindOption.Required = true;
        var vocabSizeOption = new Option<int>("--vocab-size") { Description = "tokens in the vocabulary", HelpName = "int", Required = true };
        vocabSizeOption.Validators.Add(r => { if (CliOptions.Value<int>(r) is (true, var v) && v <= 0) r.AddError($"--vocab-size must be >= 1; got {v}."); });
        var inputOption = CliOptions.ExistingFile("--input", "training text", "input file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for the vocabulary files");
        var lowercaseOption = CliOptions.Flag("--lowercase", "lower-case the text first");
        var minFrequencyOption = CliOptions.Int("--min-frequency", "ignore pairs or pieces seen fewer times", 0, min: 0);
        var command = new Command("train-tokenizer", "learn a BPE or WordPiece vocabulary")
        {
            kindOption, vocabSizeOption, inputOption, outOption, lowercaseOption, minFrequencyOption,
        };
        SharptCli.SetAction(command, (r, _) => Run(r.GetValue(kindOption) == "bpe" ? Kind.Bpe : Kind.WordPiece, r.GetValue(vocabSizeOption),
            r.GetValue(inputOption)!, r.GetValue(outOption)!, r.GetValue(lowercaseOption), r.GetValue(minFrequencyOption)));
        return command;
    }

    private static int Run(Kind kind, int vocabSize, string input, string outDir, bool lowercase, int minFrequency)
    {
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
