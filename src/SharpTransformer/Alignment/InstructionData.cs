using System.Text.Json;

namespace SharpTransformer.Alignment;

/// <summary>
/// Reads Alpaca-style instruction data: a JSON array of objects (Alpaca's and rasbt's <c>instruction-data.json</c>) or JSON
/// lines (one object per line), each with the string fields <c>instruction</c>, <c>output</c> and optionally <c>input</c>
/// (missing or null reads as ""). Other fields (such as <c>chosen</c>/<c>rejected</c>) are ignored here.
/// </summary>
public static class InstructionData
{
    /// <summary>Reads every record of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InstructionDataException">Invalid JSON, a record that is not an object, or a required field missing or not a string; the message names the file, the record and the field.</exception>
    public static IReadOnlyList<InstructionRecord> Read(string path) =>
        ReadObjects(path).Select(o => new InstructionRecord(
            RequiredString(path, o.Index, o.Line, o.Value, "instruction"),
            OptionalString(path, o.Index, o.Line, o.Value, "input"),
            RequiredString(path, o.Index, o.Line, o.Value, "output"))).ToList();

    /// <summary>
    /// Splits records in file order: the first <paramref name="trainFraction"/> train, the next <paramref name="testFraction"/>
    /// test, the rest validate. The defaults are the book's 85% / 10% / 5% (rasbt's chapter 7: 935 / 110 / 55 of 1,100 records).
    /// </summary>
    public static InstructionSplit Split(IReadOnlyList<InstructionRecord> records, double trainFraction = 0.85, double testFraction = 0.10)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (!(trainFraction > 0 && testFraction >= 0 && trainFraction + testFraction <= 1))
            throw new ArgumentOutOfRangeException(nameof(trainFraction), $"InstructionData.Split: fractions train {trainFraction} and test {testFraction} must be positive and sum to at most 1.");
        int train = (int)(records.Count * trainFraction);
        int test = (int)(records.Count * testFraction);
        var list = records.ToList();
        return new InstructionSplit(list[..train], list[train..(train + test)], list[(train + test)..]);
    }

    /// <summary>
    /// The objects of a JSON array file or a JSON-lines file, with their 0-based record index and (for JSON lines) 1-based line.
    /// Shared by the preference readers.
    /// </summary>
    /// <exception cref="InstructionDataException">Invalid JSON or a record that is not an object.</exception>
    public static IEnumerable<(int Index, int? Line, JsonElement Value)> ReadObjects(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"instruction data file '{path}' does not exist.", path);
        string text = File.ReadAllText(path);
        var result = new List<(int, int?, JsonElement)>();
        if (text.TrimStart().StartsWith('['))
        {
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InstructionDataException(path, -1, null, $"invalid JSON at line {e.LineNumber + 1}: {e.Message}", null, e);
            }
            int i = 0;
            foreach (var item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                    throw new InstructionDataException(path, i, null, $"is a JSON {item.ValueKind}, not an object with instruction/input/output.");
                result.Add((i++, null, item));
            }
            return result;
        }
        int index = 0, lineNo = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement value;
            try
            {
                using var doc = JsonDocument.Parse(line);
                value = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InstructionDataException(path, index, null, $"invalid JSON: {e.Message}", lineNo, e);
            }
            if (value.ValueKind != JsonValueKind.Object)
                throw new InstructionDataException(path, index, null, $"is a JSON {value.ValueKind}, not an object with instruction/input/output.", lineNo);
            result.Add((index++, lineNo, value));
        }
        return result;
    }

    /// <summary>The string field <paramref name="field"/> of a record; throws naming file, record and field when it is missing or not a string.</summary>
    public static string RequiredString(string path, int index, int? line, JsonElement record, string field)
    {
        if (!record.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
            throw new InstructionDataException(path, index, field, $"missing the required field '{field}' (has: {FieldNames(record)}).", line);
        if (v.ValueKind != JsonValueKind.String)
            throw new InstructionDataException(path, index, field, $"field '{field}' is a JSON {v.ValueKind}, not a string.", line);
        return v.GetString()!;
    }

    /// <summary>The string field <paramref name="field"/>, or "" when missing or null; throws when it is another type.</summary>
    public static string OptionalString(string path, int index, int? line, JsonElement record, string field)
    {
        if (!record.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null) return "";
        if (v.ValueKind != JsonValueKind.String)
            throw new InstructionDataException(path, index, field, $"field '{field}' is a JSON {v.ValueKind}, not a string.", line);
        return v.GetString()!;
    }

    private static string FieldNames(JsonElement record)
    {
        var names = record.EnumerateObject().Select(p => p.Name).ToList();
        return names.Count == 0 ? "no fields" : string.Join(", ", names);
    }
}
