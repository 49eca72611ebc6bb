using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// One token per character (Unicode code point), for small demos such as nanoGPT's Shakespeare model.
/// The vocabulary is the sorted set of a corpus's characters; characters it lacks become U+FFFD when that is in the
/// vocabulary (see <see cref="FromText"/>) and are dropped otherwise.
/// </summary>
public sealed class CharTokenizer : Tokenizer
{
    private readonly string[] _idToToken;
    private readonly Dictionary<int, int> _runeToId = [];
    private readonly int[] _ascii = new int[128];
    private readonly int _unkId = -1;

    /// <summary>Creates a tokenizer whose id i is <paramref name="characters"/>[i]; each entry must be one code point.</summary>
    /// <exception cref="ArgumentException">An entry is not exactly one code point, or appears twice.</exception>
    public CharTokenizer(IEnumerable<string> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        _idToToken = characters.ToArray();
        Array.Fill(_ascii, -1);
        for (int id = 0; id < _idToToken.Length; id++)
        {
            var t = _idToToken[id];
            if (t is null || Rune.DecodeFromUtf16(t, out var r, out int used) != System.Buffers.OperationStatus.Done || used != t.Length)
                throw new ArgumentException($"Entry {id} ('{t}') is not exactly one code point.", nameof(characters));
            if (!_runeToId.TryAdd(r.Value, id)) throw new ArgumentException($"Character '{t}' appears twice (ids {_runeToId[r.Value]} and {id}).", nameof(characters));
            if (r.Value < 128) _ascii[r.Value] = id;
        }
        if (_runeToId.TryGetValue(0xFFFD, out int unk)) _unkId = unk;
        Configure(new SpecialTokens(Unk: _unkId >= 0 ? "\uFFFD" : null), TokenTemplate.Plain, []);
    }

    /// <summary>The sorted set of the corpus's code points (a lone surrogate counts as U+FFFD), plus U+FFFD for unknown characters when <paramref name="addUnknown"/> is set.</summary>
    public static CharTokenizer FromText(string corpus, bool addUnknown = true)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var set = new SortedSet<int>();
        foreach (var r in corpus.EnumerateRunes()) set.Add(r.Value);
        if (addUnknown) set.Add(0xFFFD);
        return new CharTokenizer(set.Select(cp => new Rune(cp).ToString()));
    }

    /// <inheritdoc />
    public override int VocabSize => _idToToken.Length;

    /// <inheritdoc />
    public override int? TokenToId(string token) =>
        token is not null && Rune.DecodeFromUtf16(token, out var r, out int used) == System.Buffers.OperationStatus.Done && used == token.Length && _runeToId.TryGetValue(r.Value, out int id) ? id : null;

    /// <inheritdoc />
    public override string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    internal override void EncodeText(string text, int start, int end, TokenSink sink)
    {
        int i = start;
        while (i < end)
        {
            int s = i;
            char c = text[i];
            int id;
            if (c < 128) { id = _ascii[c]; i++; }
            else
            {
                Rune.DecodeFromUtf16(text.AsSpan(i, end - i), out var r, out int used);
                i += used;
                id = _runeToId.TryGetValue(r.Value, out int x) ? x : -1;
            }
            if (id < 0) id = _unkId;
            if (id < 0) continue;
            sink.NextWord();
            sink.Add(id, s, i);
        }
    }

    internal override string DecodeCore(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var sb = new StringBuilder(ids.Length);
        foreach (int id in ids) sb.Append(_idToToken[id]);
        return sb.ToString();
    }
}
