using System.Text.Json;

namespace SharpTransformer.Models.Tagging;

/// <summary>
/// Word, casing and character ids of sentences for <see cref="WordCharTagger"/>: a lower-cased word vocabulary and a
/// character vocabulary built from training sentences (id 0 padding, 1 unknown in both).
/// </summary>
public sealed class WordFeaturizer
{
    private readonly Dictionary<string, int> _words;
    private readonly Dictionary<char, int> _chars;

    private WordFeaturizer(Dictionary<string, int> words, Dictionary<char, int> chars, int maxChars)
    {
        _words = words; _chars = chars; MaxChars = maxChars;
    }

    /// <summary>Word vocabulary size.</summary>
    public int WordCount => _words.Count + 2;
    /// <summary>Character vocabulary size.</summary>
    public int CharCount => _chars.Count + 2;
    /// <summary>Characters kept per word (longer words are cut).</summary>
    public int MaxChars { get; }

    /// <summary>Builds the vocabularies: words seen at least <paramref name="minCount"/> times, every character.</summary>
    public static WordFeaturizer Build(IEnumerable<IReadOnlyList<string>> sentences, int minCount = 1, int maxChars = 20)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var chars = new Dictionary<char, int>();
        foreach (var s in sentences)
            foreach (var w in s)
            {
                var l = w.ToLowerInvariant();
                counts[l] = counts.GetValueOrDefault(l) + 1;
                foreach (char c in w) chars.TryAdd(c, chars.Count + 2);
            }
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (w, c) in counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
            if (c >= minCount) words[w] = words.Count + 2;
        return new WordFeaturizer(words, chars, maxChars);
    }

    /// <summary>The id of a word (1 when unknown).</summary>
    public int WordId(string word) => _words.GetValueOrDefault(word.ToLowerInvariant(), 1);

    /// <summary>The id of a character (1 when unknown).</summary>
    public int CharId(char c) => _chars.GetValueOrDefault(c, 1);

    /// <summary>Serialises the vocabularies.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Snapshot(
        _words.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray(),
        new string(_chars.OrderBy(kv => kv.Value).Select(kv => kv.Key).ToArray()), MaxChars));

    /// <summary>Restores vocabularies saved by <see cref="ToJson"/>.</summary>
    public static WordFeaturizer FromJson(string json)
    {
        var s = JsonSerializer.Deserialize<Snapshot>(json) ?? throw new FormatException("WordFeaturizer: empty snapshot.");
        return new WordFeaturizer(s.Words.Select((w, i) => (w, i)).ToDictionary(x => x.w, x => x.i + 2, StringComparer.Ordinal),
            s.Chars.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i + 2), s.MaxChars);
    }

    private sealed record Snapshot(string[] Words, string Chars, int MaxChars);
}
