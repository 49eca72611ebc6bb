using System.Collections;
using System.Text;

namespace SharpTransformer.Data;

/// <summary>
/// Reads a TSV or CSV file whose first row names the columns. Records are read lazily each time the reader is
/// enumerated; each carries its file name and line number, and every format error names both.
/// </summary>
/// <example><code>
/// foreach (var row in new DelimitedReader("train.tsv"))
///     Console.WriteLine(row.Column("sentence"));
/// </code></example>
public sealed class DelimitedReader : IEnumerable<DelimitedRecord>
{
    private readonly DataReaderOptions _options;
    private readonly DelimitedHeader _header;
    private readonly char _separator;

    /// <summary>Opens a file and reads its header row.</summary>
    /// <param name="path">The file.</param>
    /// <param name="format">The dialect; null to choose it from the extension (<see cref="FormatFromExtension"/>).</param>
    /// <param name="options">Empty-line policy and warning callback; null for <see cref="DataReaderOptions.Default"/>.</param>
    /// <exception cref="DataFormatException">The file has no header row, or the header repeats a column name.</exception>
    public DelimitedReader(string path, DelimitedFormat? format = null, DataReaderOptions? options = null)
    {
        FileName = path;
        Format = format ?? FormatFromExtension(path);
        _separator = Format == DelimitedFormat.Tsv ? '\t' : ',';
        _options = options ?? DataReaderOptions.Default;
        string[]? names = null;
        int headerLine = 0;
        foreach (var (line, fields) in RawRecords(warn: false))
        {
            names = fields;
            headerLine = line;
            break;
        }
        if (names is null) throw new DataFormatException(path, 1, "the file is empty: a header row naming the columns is expected.");
        var dup = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new DataFormatException(path, headerLine, $"the header names column '{dup.Key}' more than once ({string.Join(", ", names)}).");
        HeaderLine = headerLine;
        _header = new DelimitedHeader(names);
    }

    /// <summary>The format for a file extension: <c>.tsv</c> and <c>.tab</c> are TSV, <c>.csv</c> is CSV.</summary>
    /// <exception cref="ArgumentException">Another extension; pass the format explicitly.</exception>
    public static DelimitedFormat FormatFromExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".tsv" or ".tab" => DelimitedFormat.Tsv,
        ".csv" => DelimitedFormat.Csv,
        var e => throw new ArgumentException($"Cannot tell the delimited format of '{path}' from its extension '{e}'; pass DelimitedFormat.Tsv or DelimitedFormat.Csv.", nameof(path)),
    };

    /// <summary>The file, as given.</summary>
    public string FileName { get; }

    /// <summary>The dialect in use.</summary>
    public DelimitedFormat Format { get; }

    /// <summary>The column names from the header row, in file order.</summary>
    public IReadOnlyList<string> Columns => _header.Names;

    /// <summary>The line of the header row.</summary>
    public int HeaderLine { get; }

    /// <summary>Empty lines skipped by the latest enumeration (see <see cref="EmptyLinePolicy.Skip"/>).</summary>
    public int SkippedEmptyLines { get; private set; }

    /// <summary>Reads the records after the header.</summary>
    /// <exception cref="DataFormatException">A row has the wrong number of fields, a quoted field is not closed, or an empty line is met under <see cref="EmptyLinePolicy.Throw"/>.</exception>
    public IEnumerator<DelimitedRecord> GetEnumerator()
    {
        SkippedEmptyLines = 0;
        bool header = true;
        foreach (var (line, fields) in RawRecords(warn: true))
        {
            if (header) { header = false; continue; }
            if (fields.Length != _header.Names.Length)
                throw new DataFormatException(FileName, line,
                    $"expected {_header.Names.Length} {Format} fields ({string.Join(", ", _header.Names)}) but found {fields.Length}.");
            yield return new DelimitedRecord(FileName, line, _header, fields);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private IEnumerable<(int Line, string[] Fields)> RawRecords(bool warn)
    {
        using var reader = new StreamReader(FileName, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (_options.EmptyLines == EmptyLinePolicy.Throw)
                    throw new DataFormatException(FileName, lineNo, "empty line (EmptyLinePolicy.Throw); remove it or read with EmptyLinePolicy.Skip.");
                if (warn)
                {
                    SkippedEmptyLines++;
                    _options.OnWarning?.Invoke(new DataWarning(FileName, lineNo, "empty line skipped."));
                }
                continue;
            }
            int start = lineNo;
            var fields = Format == DelimitedFormat.Tsv ? line.Split('\t') : ParseCsv(line, reader, ref lineNo);
            yield return (start, fields);
        }
    }

    // RFC 4180: fields separated by commas; a field that starts with a quote runs to the matching quote, may span
    // lines, and writes a quote as two quotes. Embedded line breaks are returned as '\n'.
    private string[] ParseCsv(string line, StreamReader reader, ref int lineNo)
    {
        int startLine = lineNo;
        var fields = new List<string>();
        var sb = new StringBuilder();
        int i = 0;
        while (true)
        {
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        var next = reader.ReadLine()
                            ?? throw new DataFormatException(FileName, startLine, $"field {fields.Count + 1} opens a quote that is never closed (end of file reached).");
                        lineNo++;
                        sb.Append('\n');
                        line = next;
                        i = 0;
                        continue;
                    }
                    char c = line[i];
                    if (c == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    sb.Append(c);
                    i++;
                }
                if (i < line.Length && line[i] != _separator)
                    throw new DataFormatException(FileName, lineNo, $"unexpected text after the closing quote of field {fields.Count + 1}: '{line[i..]}'.");
            }
            else
            {
                int j = line.IndexOf(_separator, i);
                if (j < 0) j = line.Length;
                sb.Append(line, i, j - i);
                i = j;
            }
            fields.Add(sb.ToString());
            sb.Clear();
            if (i >= line.Length) break;
            i++; // the separator
        }
        return fields.ToArray();
    }
}
