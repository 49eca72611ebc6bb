using System.Text.Json;

namespace SharpTransformer.IO.HuggingFace;

/// <summary>Typed reads of a Hugging Face <c>config.json</c>, with errors that name the file and the key.</summary>
public sealed class HfConfigJson
{
    private readonly JsonElement _root;

    /// <summary>Parses the JSON text; <paramref name="fileName"/> is used in messages.</summary>
    public HfConfigJson(string json, string fileName = "config.json")
    {
        FileName = fileName;
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{fileName}: the top level is not a JSON object.");
            _root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{fileName}: invalid JSON ({e.Message}).", e);
        }
    }

    /// <summary>Reads and parses a config file.</summary>
    public static HfConfigJson Load(string path) => new(File.ReadAllText(path), path);

    /// <summary>The file name used in messages.</summary>
    public string FileName { get; }

    /// <summary>True when a key is present and not null.</summary>
    public bool Has(string key) => _root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>The first present key among <paramref name="keys"/> as an integer, else <paramref name="fallback"/> (or an error when null).</summary>
    public int Int(int? fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (_root.TryGetProperty(k, out var v) && v.ValueKind != JsonValueKind.Null)
                return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : throw Bad(k, "an integer", v);
        return fallback ?? throw Missing(keys);
    }

    /// <summary>The first present key among <paramref name="keys"/> as a float, else <paramref name="fallback"/>.</summary>
    public float Float(float? fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (_root.TryGetProperty(k, out var v) && v.ValueKind != JsonValueKind.Null)
                return v.ValueKind == JsonValueKind.Number ? v.GetSingle() : throw Bad(k, "a number", v);
        return fallback ?? throw Missing(keys);
    }

    /// <summary>The first present key among <paramref name="keys"/> as a boolean, else <paramref name="fallback"/>.</summary>
    public bool Bool(bool? fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (_root.TryGetProperty(k, out var v) && v.ValueKind != JsonValueKind.Null)
                return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Bad(k, "true or false", v);
        return fallback ?? throw Missing(keys);
    }

    /// <summary>A string value, else <paramref name="fallback"/>.</summary>
    public string String(string? fallback, params string[] keys)
    {
        foreach (var k in keys)
            if (_root.TryGetProperty(k, out var v) && v.ValueKind != JsonValueKind.Null)
                return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad(k, "a string", v);
        return fallback ?? throw Missing(keys);
    }

    /// <summary>A list of strings (e.g. <c>architectures</c>), empty when absent.</summary>
    public IReadOnlyList<string> Strings(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return [];
        if (v.ValueKind != JsonValueKind.Array) throw Bad(key, "a list of strings", v);
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(key, "a list of strings", v)).ToList();
    }

    /// <summary>The number of entries of an object or list value (e.g. <c>id2label</c>), or null when the key is absent.</summary>
    public int? EntryCount(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.Object => v.EnumerateObject().Count(),
            JsonValueKind.Array => v.GetArrayLength(),
            _ => throw Bad(key, "an object or a list", v),
        };
    }

    /// <summary>
    /// An object of strings (e.g. <c>id2label</c>: <c>{"0": "NEGATIVE", "1": "POSITIVE"}</c>) as a dictionary, or null when the key
    /// is absent.
    /// </summary>
    public IReadOnlyDictionary<string, string>? StringMap(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(key, "an object of strings", v);
        var r = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
            r[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw Bad(key, "an object of strings", v);
        return r;
    }

    /// <summary>
    /// A nested object (e.g. <c>rope_scaling</c>) read the same way, its messages naming "file key", or null when the key is absent
    /// or null.
    /// </summary>
    public HfConfigJson? Section(string key)
    {
        if (!_root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(key, "an object", v);
        return new HfConfigJson(v.GetRawText(), $"{FileName} {key}");
    }

    private InvalidDataException Missing(string[] keys) => new($"{FileName}: missing key '{string.Join("' / '", keys)}'.");
    private InvalidDataException Bad(string key, string what, JsonElement v) => new($"{FileName}: key '{key}' should be {what}, got {v.GetRawText()}.");
}
