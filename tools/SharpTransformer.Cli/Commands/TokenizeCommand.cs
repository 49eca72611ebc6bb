using System.CommandLine;
using System.Text;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>sharpt tokenize --vocab FILE [--merges FILE] [--lowercase] --input FILE</c>: prints the ids of each line of the input
/// (split on <c>\n</c> only, so a <c>\r</c> stays in its line), separated by single spaces, one output line per input line.
/// Nothing else goes to stdout.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var vocabOption = CliOptions.ExistingFile("--vocab", "vocabulary: vocab.json (with --merges), tokenizer.json or vocab.txt", "vocabulary file");
        var mergesOption = CliOptions.ExistingFile("--merges", "BPE merges.txt", "merges file", required: false);
        var lowercaseOption = CliOptions.Flag("--lowercase", "lower-case the text before tokenizing");
        var inputOption = CliOptions.ExistingFile("--input", "text file; each line is encoded on its own", "input file");
        var command = new Command("tokenize", "encode a text file, one line of ids per input line") { vocabOption, mergesOption, lowercaseOption, inputOption };
        SharptCli.SetAction(command, (r, _) => Run(r.GetValue(vocabOption)!, r.GetValue(mergesOption), r.GetValue(lowercaseOption), r.GetValue(inputOption)!));
        return command;
    }

    public static int Run(string vocab, string? merges, bool lowercase, string input)
    {
        var tokenizer = Load(vocab, merges, lowercase);
        if (!File.Exists(input)) throw new CliException($"input file not found: {input}");
        string text;
        try { text = File.ReadAllText(input, Encoding.UTF8); }
        catch (IOException e) { throw new CliException($"cannot read {input}: {e.Message}"); }

        var lines = text.Split('\n');
        int count = lines.Length;
        if (count > 1 && lines[^1].Length == 0) count--; // a final "\n" ends the last line, it does not start a new one
        if (text.Length == 0) count = 0;

        var ids = new int[count][];
        Parallel.For(0, (count + 1023) / 1024, chunk =>
        {
            int end = Math.Min(count, (chunk + 1) * 1024);
            for (int i = chunk * 1024; i < end; i++) ids[i] = tokenizer.Encode(lines[i]);
        });

        using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16) { NewLine = "\n", AutoFlush = false };
        Span<char> buf = stackalloc char[16];
        foreach (var row in ids)
        {
            for (int k = 0; k < row.Length; k++)
            {
                if (k > 0) stdout.Write(' ');
                row[k].TryFormat(buf, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
                stdout.Write(buf[..n]);
            }
            stdout.Write('\n');
        }
        return 0;
    }

    internal static Tokenizer Load(string vocab, string? merges, bool lowercase)
    {
        try
        {
            return Tokenizer.FromFiles(vocab, merges, lowercase);
        }
        catch (FileNotFoundException e)
        {
            throw new CliException($"file not found: {e.FileName ?? e.Message}");
        }
        catch (Exception e) when (e is VocabularyFormatException or NotSupportedException or ArgumentException)
        {
            throw new CliException(e.Message);
        }
    }
}
