namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>Reads (text, label) rows of a TSV/CSV/JSONL file with named columns.</summary>
internal static class LabeledTexts
{
    public static List<(string Text, string Label, int Line)> Read(string path, string textColumn, string labelColumn)
    {
        if (!File.Exists(path)) throw new CliException($"data file not found: {path}");
        var rows = new List<(string, string, int)>();
        using var r = new StreamReader(path);
        var header = (r.ReadLine() ?? throw new CliException($"{path}: the file is empty.")).Split('\t');
        int ti = Array.IndexOf(header, textColumn), li = Array.IndexOf(header, labelColumn);
        if (ti < 0 || li < 0) throw new CliException($"{path}:1: no column '{(ti < 0 ? textColumn : labelColumn)}' (columns: {string.Join(", ", header)}).");
        int line = 1;
        for (string? s; (s = r.ReadLine()) is not null;)
        {
            line++;
            if (s.Length == 0) continue;
            var f = s.Split('\t');
            if (f.Length != header.Length) throw new CliException($"{path}:{line}: {f.Length} fields, expected {header.Length}.");
            rows.Add((f[ti].Trim(), f[li].Trim(), line));
        }
        return rows;
    }
}
