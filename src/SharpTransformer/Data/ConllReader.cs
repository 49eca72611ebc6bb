using System.Text;

namespace SharpTransformer.Data;

/// <summary>
/// Reads CoNLL-style token files (CoNLL-2003: <c>word POS chunk NER</c> or <c>word POS NER</c>): one token per line,
/// columns separated by spaces or tabs, the first column the word and the last the tag; a blank line ends a sentence,
/// and <c>-DOCSTART-</c> lines (document separators) are skipped. Repeated blank lines never make empty sentences.
/// </summary>
public static class ConllReader
{
    private static readonly char[] Separators = [' ', '\t'];

    /// <summary>Reads every sentence of a file.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="DataFormatException">
    /// A token line with fewer than two columns, or with a different number of columns than the file's first token line.
    /// </exception>
    public static List<ConllSentence> Read(string path)
    {
        var sentences = new List<ConllSentence>();
        var words = new List<string>();
        var tags = new List<string>();
        int start = 0, columns = 0, columnsLine = 0;
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int lineNo = 0;

        void Flush()
        {
            if (words.Count > 0) sentences.Add(new ConllSentence(words.ToArray(), tags.ToArray(), path, start));
            words.Clear();
            tags.Clear();
        }

        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) { Flush(); continue; }
            var cols = line.Split(Separators, StringSplitOptions.RemoveEmptyEntries);
            if (cols[0] == "-DOCSTART-") { Flush(); continue; }
            if (cols.Length < 2)
                throw new DataFormatException(path, lineNo, $"expected 'word ... tag' (at least two columns separated by spaces or tabs), found one column: '{line}'.");
            if (columns == 0) { columns = cols.Length; columnsLine = lineNo; }
            else if (cols.Length != columns)
                throw new DataFormatException(path, lineNo, $"found {cols.Length} columns where line {columnsLine} has {columns}: '{line}'.");
            if (words.Count == 0) start = lineNo;
            words.Add(cols[0]);
            tags.Add(cols[^1]);
        }
        Flush();
        return sentences;
    }
}
