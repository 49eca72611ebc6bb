namespace SharpTransformer.Data;

/// <summary>
/// One record of a data file (a row of a TSV or CSV file, an object of a JSON-lines file) with named columns and
/// the file and line it came from, so that every later error can point back to its source.
/// </summary>
public abstract class DataRecord
{
    /// <summary>Creates a record read from <paramref name="fileName"/> at <paramref name="lineNumber"/>.</summary>
    protected DataRecord(string fileName, int lineNumber)
    {
        FileName = fileName;
        LineNumber = lineNumber;
    }

    /// <summary>The file, as given to the reader.</summary>
    public string FileName { get; }

    /// <summary>The 1-based line the record starts on.</summary>
    public int LineNumber { get; }

    /// <summary>The names of the columns (fields) this record has, in file order.</summary>
    public abstract IReadOnlyList<string> ColumnNames { get; }

    /// <summary>The value of a column as text, or false when the record has no such column.</summary>
    public abstract bool TryGetColumn(string name, out string value);

    /// <summary>The value of a column as text.</summary>
    /// <exception cref="DataFormatException">The record has no such column; the message lists the columns present.</exception>
    public string Column(string name)
    {
        if (TryGetColumn(name, out var value)) return value;
        throw Error($"no column '{name}'; the columns present are: {string.Join(", ", ColumnNames)}.");
    }

    /// <summary>An exception about this record, prefixed with its file and line.</summary>
    public DataFormatException Error(string message) => new(FileName, LineNumber, message);

    /// <inheritdoc />
    public override string ToString() => $"{FileName}:{LineNumber}: " + string.Join(", ", ColumnNames.Select(c => TryGetColumn(c, out var v) ? $"{c}={v}" : c));
}
