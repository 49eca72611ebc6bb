using System.Collections;

namespace SharpTransformer.Data;

/// <summary>
/// A text (or text-pair) classification dataset loaded from a TSV, CSV or JSON-lines file: texts with label ids and
/// the <see cref="LabelSet"/> that names them.
/// </summary>
/// <example><code>
/// var train = TextClassificationDataset.Load("sst2/train.tsv", "sentence", "label");
/// var dev = TextClassificationDataset.Load("sst2/dev.tsv", "sentence", "label", labels: train.Labels);
/// </code></example>
public sealed class TextClassificationDataset : IReadOnlyList<TextClassificationExample>
{
    private readonly TextClassificationExample[] _examples;

    private TextClassificationDataset(string fileName, TextClassificationExample[] examples, LabelSet labels)
    {
        FileName = fileName;
        _examples = examples;
        Labels = labels;
    }

    /// <summary>Loads a file (format by extension, see <see cref="DataFiles.Open"/>).</summary>
    /// <param name="path">The file.</param>
    /// <param name="textColumn">The column with the text.</param>
    /// <param name="labelColumn">The column with the label (any text; numbers are read as written).</param>
    /// <param name="textPairColumn">The column with the second text of a pair (for example NLI hypotheses), or null.</param>
    /// <param name="labels">
    /// The allowed labels and their ids (pass the training set's <see cref="Labels"/> when loading dev or test data);
    /// null to infer them from this file with <see cref="LabelSet.Infer"/>.
    /// </param>
    /// <param name="options">Reader options.</param>
    /// <exception cref="DataFormatException">
    /// A missing column (the message lists those present), a malformed line, or a label outside <paramref name="labels"/>
    /// (the message names the file, line, label and the allowed labels).
    /// </exception>
    public static TextClassificationDataset Load(string path, string textColumn, string labelColumn, string? textPairColumn = null,
        LabelSet? labels = null, DataReaderOptions? options = null)
    {
        var rows = new List<(DataRecord Record, string Text, string? Pair, string Label)>();
        foreach (var r in DataFiles.Open(path, options))
            rows.Add((r, r.Column(textColumn), textPairColumn is null ? null : r.Column(textPairColumn), r.Column(labelColumn)));
        if (rows.Count == 0) throw new DataFormatException(path, 1, "the file has no examples.");
        labels ??= LabelSet.Infer(rows.Select(r => r.Label));
        var examples = new TextClassificationExample[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            var (rec, text, pair, label) = rows[i];
            if (!labels.TryGetId(label, out int id))
                throw rec.Error($"label '{label}' (column '{labelColumn}') is not one of the allowed labels: {labels}.");
            examples[i] = new TextClassificationExample(text, pair, id, rec.FileName, rec.LineNumber);
        }
        return new TextClassificationDataset(path, examples, labels);
    }

    /// <summary>The file it was loaded from.</summary>
    public string FileName { get; }

    /// <summary>The label names and ids.</summary>
    public LabelSet Labels { get; }

    /// <summary>Number of examples.</summary>
    public int Count => _examples.Length;

    /// <summary>An example by index.</summary>
    public TextClassificationExample this[int index] => _examples[index];

    /// <summary>How many examples each label id has.</summary>
    public int[] LabelCounts()
    {
        var c = new int[Labels.Count];
        foreach (var e in _examples) c[e.Label]++;
        return c;
    }

    /// <inheritdoc />
    public IEnumerator<TextClassificationExample> GetEnumerator() => ((IEnumerable<TextClassificationExample>)_examples).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
