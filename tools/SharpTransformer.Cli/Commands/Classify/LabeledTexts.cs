using SharpTransformer.Data;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Loads labelled texts (TSV, CSV or JSONL with named columns), turning format errors into command-line errors.</summary>
internal static class LabeledTexts
{
    public static TextClassificationDataset Load(string path, string textColumn, string labelColumn, LabelSet? labels = null)
    {
        if (!File.Exists(path)) throw new CliException($"data file not found: {path}");
        int skipped = 0;
        try
        {
            var data = TextClassificationDataset.Load(path, textColumn, labelColumn, null, labels,
                new DataReaderOptions { OnWarning = _ => skipped++ });
            if (skipped > 0) Console.Error.WriteLine($"warning: {path}: skipped {skipped} empty line(s).");
            return data;
        }
        catch (DataFormatException e) { throw new CliException(e.Message); }
    }
}
