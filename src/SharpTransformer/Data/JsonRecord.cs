using System.Globalization;
using System.Text.Json;

namespace SharpTransformer.Data;

/// <summary>One object of a JSON-lines file: its fields, by name.</summary>
public sealed class JsonRecord : DataRecord
{
    private readonly string[] _names;

    internal JsonRecord(string fileName, int lineNumber, JsonElement root) : base(fileName, lineNumber)
    {
        Root = root;
        _names = root.EnumerateObject().Select(p => p.Name).ToArray();
    }

    /// <summary>The parsed object.</summary>
    public JsonElement Root { get; }

    /// <inheritdoc />
    public override IReadOnlyList<string> ColumnNames => _names;

    /// <summary>The raw value of a field.</summary>
    /// <exception cref="DataFormatException">No such field; the message lists the fields present.</exception>
    public JsonElement Field(string name)
    {
        if (Root.TryGetProperty(name, out var v)) return v;
        throw Error($"no field '{name}'; the fields present are: {string.Join(", ", _names)}.");
    }

    /// <summary>
    /// The value of a field as text: a string as is, a number as written in the file, <c>true</c>/<c>false</c>.
    /// Null, object and array fields are reported as errors by <see cref="DataRecord.Column"/>.
    /// </summary>
    public override bool TryGetColumn(string name, out string value)
    {
        value = "";
        if (!Root.TryGetProperty(name, out var v)) return false;
        value = v.ValueKind switch
        {
            JsonValueKind.String => v.GetString()!,
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => throw Error($"field '{name}' is {v.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture)}, not a string, number or boolean."),
        };
        return true;
    }
}
