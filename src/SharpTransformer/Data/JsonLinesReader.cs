using System.Collections;
using System.Text;
using System.Text.Json;

namespace SharpTransformer.Data;

/// <summary>
/// Reads a JSON-lines file: one JSON object per line, fields by name. Records are read lazily each time the reader
/// is enumerated; invalid JSON or a line that is not an object throws a <see cref="DataFormatException"/> naming the
/// file and line.
/// </summary>
public sealed class JsonLinesReader : IEnumerable<JsonRecord>
{
    private readonly DataReaderOptions _options;

    /// <summary>Creates a reader for a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="options">Empty-line policy and warning callback; null for <see cref="DataReaderOptions.Default"/>.</param>
    public JsonLinesReader(string path, DataReaderOptions? options = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"JSON-lines file '{path}' does not exist.", path);
        FileName = path;
        _options = options ?? DataReaderOptions.Default;
    }

    /// <summary>The file, as given.</summary>
    public string FileName { get; }

    /// <summary>Empty lines skipped by the latest enumeration (see <see cref="EmptyLinePolicy.Skip"/>).</summary>
    public int SkippedEmptyLines { get; private set; }

    /// <summary>Reads the records.</summary>
    /// <exception cref="DataFormatException">Invalid JSON, a value that is not an object, or an empty line under <see cref="EmptyLinePolicy.Throw"/>.</exception>
    public IEnumerator<JsonRecord> GetEnumerator()
    {
        SkippedEmptyLines = 0;
        using var reader = new StreamReader(FileName, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (_options.EmptyLines == EmptyLinePolicy.Throw)
                    throw new DataFormatException(FileName, lineNo, "empty line (EmptyLinePolicy.Throw); remove it or read with EmptyLinePolicy.Skip.");
                SkippedEmptyLines++;
                _options.OnWarning?.Invoke(new DataWarning(FileName, lineNo, "empty line skipped."));
                continue;
            }
            JsonElement root;
            try
            {
                using var doc = JsonDocument.Parse(line);
                root = doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new DataFormatException(FileName, lineNo, $"invalid JSON: {e.Message}", e);
            }
            if (root.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(FileName, lineNo, $"expected a JSON object per line, found {root.ValueKind}.");
            yield return new JsonRecord(FileName, lineNo, root);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
