namespace SharpTransformer.Data;

/// <summary>A row of a TSV or CSV file: its fields, named by the header row.</summary>
public sealed class DelimitedRecord : DataRecord
{
    private readonly DelimitedHeader _header;
    private readonly string[] _values;

    internal DelimitedRecord(string fileName, int lineNumber, DelimitedHeader header, string[] values) : base(fileName, lineNumber)
    {
        _header = header;
        _values = values;
    }

    /// <inheritdoc />
    public override IReadOnlyList<string> ColumnNames => _header.Names;

    /// <summary>The fields in column order.</summary>
    public IReadOnlyList<string> Values => _values;

    /// <summary>The field in column <paramref name="index"/> (0-based).</summary>
    public string this[int index] => _values[index];

    /// <inheritdoc />
    public override bool TryGetColumn(string name, out string value)
    {
        if (_header.Index.TryGetValue(name, out int i)) { value = _values[i]; return true; }
        value = "";
        return false;
    }
}

/// <summary>The column names of a delimited file and their positions.</summary>
internal sealed class DelimitedHeader
{
    public DelimitedHeader(string[] names)
    {
        Names = names;
        Index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++) Index.TryAdd(names[i], i);
    }

    public string[] Names { get; }
    public Dictionary<string, int> Index { get; }
}
