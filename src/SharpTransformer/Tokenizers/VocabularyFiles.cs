using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SharpTransformer.Tokenizers;

/// <summary>Reading and writing the plain vocabulary formats: a JSON map from token to id, a merges list, a token-per-line list.</summary>
internal static class VocabularyFiles
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"Vocabulary file not found: {path}", path);
        return File.OpenRead(path);
    }

    /// <summary>Reads <c>{"token": id, ...}</c> (GPT-2's encoder.json, Hugging Face's vocab.json).</summary>
    public static Dictionary<string, int> ReadJsonVocab(string path)
    {
        byte[] bytes;
        using (var s = OpenRead(path))
        {
            bytes = new byte[s.Length];
            s.ReadExactly(bytes);
        }
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            return ReadJsonVocab(doc.RootElement, path, "the file");
        }
        catch (JsonException e)
        {
            throw new VocabularyFormatException(path, (int?)(e.LineNumber + 1), null, $"invalid JSON ({e.Message}).", e);
        }
    }

    /// <summary>Reads a JSON object of token to id.</summary>
    public static Dictionary<string, int> ReadJsonVocab(JsonElement obj, string path, string what)
    {
        if (obj.ValueKind != JsonValueKind.Object)
            throw new VocabularyFormatException(path, null, null, $"{what} must be a JSON object mapping tokens to ids.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
                throw new VocabularyFormatException(path, null, p.Name, $"the id must be a non-negative integer, got {p.Value.GetRawText()}.");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    /// <summary>Reads merges (<c>a b</c> per line, an optional <c>#version</c> first line) as token pairs with their 1-based line numbers.</summary>
    public static List<(string A, string B, int Line)> ReadMerges(string path)
    {
        var merges = new List<(string, string, int)>();
        using var reader = new StreamReader(OpenRead(path), Encoding.UTF8);
        int lineNo = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            if (line.Length == 0) continue;
            int sp = line.IndexOf(' ');
            if (sp <= 0 || sp == line.Length - 1 || line.IndexOf(' ', sp + 1) >= 0)
                throw new VocabularyFormatException(path, lineNo, null, $"expected two tokens separated by one space, got '{line}'.");
            merges.Add((line[..sp], line[(sp + 1)..], lineNo));
        }
        return merges;
    }

    /// <summary>Writes a vocabulary as a JSON object ordered by id.</summary>
    public static void WriteJsonVocab(string path, IReadOnlyList<string?> idToToken)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, s_writerOptions);
        w.WriteStartObject();
        for (int i = 0; i < idToToken.Count; i++)
            if (idToToken[i] is { } t) w.WriteNumber(t, i);
        w.WriteEndObject();
    }

    /// <summary>Writes merges in Hugging Face's format: a <c>#version: 0.2</c> line, then <c>a b</c> per line.</summary>
    public static void WriteMerges(string path, IEnumerable<(string A, string B)> merges)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" };
        w.WriteLine("#version: 0.2");
        foreach (var (a, b) in merges) w.WriteLine($"{a} {b}");
    }
}
