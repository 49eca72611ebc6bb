using System.CommandLine;
using System.Diagnostics;
using System.Text;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>sharpt train-tokenizer --kind bpe|wordpiece|unigram|spm-bpe --vocab-size N --input FILE --out DIR [--lowercase] [--min-frequency N] [--byte-fallback]</c>:
/// learns a byte-level BPE vocabulary (writes <c>vocab.json</c> + <c>merges.txt</c>), a WordPiece vocabulary (writes
/// <c>vocab.txt</c>) or a SentencePiece Unigram or BPE model (writes <c>spiece.model</c>, one sentence per line). WordPiece keeps case unless <c>--lowercase</c> is given, so its vocabulary serves both
/// <c>sharpt tokenize</c> with and without <c>--lowercase</c>.
/// </summary>
internal static class TrainTokenizerCommand
{
    private enum Kind { Bpe, WordPiece, Unigram, SpmBpe }

    public static Command Create()
    {
        var kindOption = CliOptions.Choice("--kind", "byte-level BPE (vocab.json + merges.txt), WordPiece (vocab.txt), SentencePiece Unigram or BPE (spiece.model)", null, "bpe", "wordpiece", "unigram", "spm-bpe");
        kindOption.Required = true;
        var vocabSizeOption = new Option<int>("--vocab-size") { Description = "tokens in the vocabulary", HelpName = "int", Required = true };
        vocabSizeOption.Validators.Add(r => { if (CliOptions.Value<int>(r) is (true, var v) && v <= 0) r.AddError($"--vocab-size must be >= 1; got {v}."); });
        var inputOption = CliOptions.ExistingFile("--input", "training text", "input file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for the vocabulary files");
        var lowercaseOption = CliOptions.Flag("--lowercase", "lower-case the text first");
        var minFrequencyOption = CliOptions.Int("--min-frequency", "ignore pairs or pieces seen fewer times", 0, min: 0);
        var byteFallbackOption = CliOptions.Flag("--byte-fallback", "SentencePiece: unknown characters become <0xXX> byte pieces");
        var command = new Command("train-tokenizer", "learn a BPE or WordPiece vocabulary")
        {
            kindOption, vocabSizeOption, inputOption, outOption, lowercaseOption, minFrequencyOption, byteFallbackOption,
        };
        SharptCli.SetAction(command, (r, _) => Run(r.GetValue(kindOption) switch { "bpe" => Kind.Bpe, "unigram" => Kind.Unigram, "spm-bpe" => Kind.SpmBpe, _ => Kind.WordPiece },
            r.GetValue(vocabSizeOption), r.GetValue(inputOption)!, r.GetValue(outOption)!, r.GetValue(lowercaseOption), r.GetValue(minFrequencyOption),
            r.GetValue(byteFallbackOption)));
        return command;
    }

    private static int Run(Kind kind, int vocabSize, string input, string outDir, bool lowercase, int minFrequency, bool byteFallback)
    {
        if (!File.Exists(input)) throw new CliException($"input file not found: {input}");
        var text = File.ReadAllText(input, Encoding.UTF8);

        var sw = Stopwatch.StartNew();
        try
        {
            if (kind is Kind.Unigram or Kind.SpmBpe)
            {
                var lines = text.Split('\n').Select(l => lowercase ? l.ToLowerInvariant() : l);
                var tok = SentencePieceTrainer.Train(lines, new SentencePieceTrainerOptions(vocabSize)
                {
                    ModelType = kind == Kind.Unigram ? SentencePieceModelType.Unigram : SentencePieceModelType.Bpe,
                    ByteFallback = byteFallback,
                });
                tok.Save(outDir);
                Console.WriteLine($"SentencePiece {(kind == Kind.Unigram ? "Unigram" : "BPE")}: {tok.VocabSize} pieces in {sw.Elapsed.TotalSeconds:F2} s -> {Path.Combine(outDir, "spiece.model")}");
            }
            else if (kind == Kind.Bpe)
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
