using System.Collections.Concurrent;
using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// BERT's tokenizer: the basic tokenizer (<see cref="BertNormalization"/>), then greedy longest-match-first WordPiece on
/// each word, with <c>##</c> marking a piece that continues a word; a word with no segmentation, or longer than
/// <see cref="MaxInputCharsPerWord"/> code points, becomes <c>[UNK]</c>. Words are cached.
/// Special tokens default to BERT's (<c>[CLS] a [SEP]</c>, <c>[CLS] a [SEP] b [SEP]</c>).
/// </summary>
public sealed class WordPieceTokenizer : Tokenizer
{
    private const int CacheMaxWordLength = 64;
    private const int CacheMaxEntries = 1 << 18;

    private readonly string?[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _initial;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuation;
    private readonly int _maxTokenChars;
    private readonly int _unkId;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;

    internal WordPieceTokenizer(string?[] idToToken, BertNormalization normalization, SpecialTokens? special,
        string unkToken, string prefix, int maxInputCharsPerWord, IEnumerable<AddedToken>? added, TokenTemplate? template, string source)
    {
        _idToToken = idToToken;
        Normalization = normalization;
        ContinuingSubwordPrefix = prefix;
        MaxInputCharsPerWord = maxInputCharsPerWord;
        _tokenToId = new Dictionary<string, int>(StringComparer.Ordinal);
        var initial = new Dictionary<string, int>(StringComparer.Ordinal);
        var continuation = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < idToToken.Length; id++)
        {
            var t = idToToken[id];
            if (t is null) continue;
            _tokenToId[t] = id;
            if (prefix.Length > 0 && t.StartsWith(prefix, StringComparison.Ordinal) && t.Length > prefix.Length)
            {
                continuation[t[prefix.Length..]] = id;
                _maxTokenChars = Math.Max(_maxTokenChars, t.Length - prefix.Length);
            }
            else
            {
                initial[t] = id;
                _maxTokenChars = Math.Max(_maxTokenChars, t.Length);
            }
        }
        if (!_tokenToId.TryGetValue(unkToken, out _unkId))
            throw new VocabularyFormatException(source, null, unkToken, "the unknown token is not in the vocabulary.");
        UnknownToken = unkToken;
        _initial = initial.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuation = continuation.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

        special ??= DefaultSpecial(_tokenToId, unkToken);
        if (template is null)
        {
            template = special.Cls is { } cls && special.Sep is { } sep && _tokenToId.TryGetValue(cls, out int c) && _tokenToId.TryGetValue(sep, out int s)
                ? TokenTemplate.Bert(c, s)
                : TokenTemplate.Plain;
        }
        Configure(special, template, added ?? []);
    }

    private static SpecialTokens DefaultSpecial(Dictionary<string, int> vocab, string unk)
    {
        string? Has(string t) => vocab.ContainsKey(t) ? t : null;
        return new SpecialTokens(Pad: Has("[PAD]"), Cls: Has("[CLS]"), Sep: Has("[SEP]"), Mask: Has("[MASK]"), Unk: unk);
    }

    /// <summary>The basic tokenizer's settings.</summary>
    public BertNormalization Normalization { get; }

    /// <summary>The prefix that marks a piece continuing a word (<c>##</c>).</summary>
    public string ContinuingSubwordPrefix { get; }

    /// <summary>Words longer than this many code points become the unknown token (100 in BERT).</summary>
    public int MaxInputCharsPerWord { get; }

    /// <summary>The unknown token (<c>[UNK]</c>).</summary>
    public string UnknownToken { get; }

    /// <inheritdoc />
    public override int VocabSize => _idToToken.Length;

    /// <summary>
    /// Loads a WordPiece <c>vocab.txt</c>: one token per line, the line index (from 0) is its id; trailing white space
    /// (a <c>\r</c>) is ignored.
    /// </summary>
    /// <param name="path">The vocabulary file.</param>
    /// <param name="normalization">The basic tokenizer's settings; null for BERT uncased.</param>
    /// <param name="specialTokens">Special-token roles; null for BERT's, as far as the vocabulary has them.</param>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="VocabularyFormatException">The file is not UTF-8, repeats a token, or lacks <c>[UNK]</c>; the message names the line or token.</exception>
    public static WordPieceTokenizer FromVocabFile(string path, BertNormalization? normalization = null, SpecialTokens? specialTokens = null)
    {
        var lines = ReadLines(path);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Count; i++)
        {
            if (lines[i].Length == 0) continue;
            if (!seen.TryAdd(lines[i], i))
                throw new VocabularyFormatException(path, i + 1, lines[i], $"the token already appears on line {seen[lines[i]] + 1}.");
        }
        var tokens = lines.Select(l => (string?)(l.Length == 0 ? null : l)).ToArray();
        return new WordPieceTokenizer(tokens, normalization ?? new BertNormalization(), specialTokens,
            specialTokens?.Unk ?? "[UNK]", "##", 100, null, null, path);
    }

    /// <summary>Creates a tokenizer from tokens in id order (the lines of a vocab.txt).</summary>
    /// <param name="tokens">Token of each id.</param>
    /// <param name="normalization">The basic tokenizer's settings; null for BERT uncased.</param>
    /// <param name="specialTokens">Special-token roles; null for BERT's, as far as the vocabulary has them.</param>
    public static WordPieceTokenizer FromVocabulary(IEnumerable<string> tokens, BertNormalization? normalization = null, SpecialTokens? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        return new WordPieceTokenizer(tokens.Select(t => (string?)t).ToArray(), normalization ?? new BertNormalization(), specialTokens,
            specialTokens?.Unk ?? "[UNK]", "##", 100, null, null, "the vocabulary");
    }

    private static List<string> ReadLines(string path)
    {
        byte[] bytes;
        using (var s = VocabularyFiles.OpenRead(path))
        {
            bytes = new byte[s.Length];
            s.ReadExactly(bytes);
        }
        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var lines = new List<string>();
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        while (start < bytes.Length)
        {
            int nl = Array.IndexOf(bytes, (byte)'\n', start);
            int end = nl < 0 ? bytes.Length : nl;
            string line;
            try { line = strict.GetString(bytes, start, end - start); }
            catch (DecoderFallbackException e) { throw new VocabularyFormatException(path, lines.Count + 1, null, "the line is not valid UTF-8.", e); }
            lines.Add(line.TrimEnd());
            start = end + 1;
        }
        return lines;
    }

    /// <summary>Writes <c>vocab.txt</c> (one token per line in id order) into <paramref name="directory"/>, created if needed.</summary>
    public void Save(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        using var w = new StreamWriter(Path.Combine(directory, "vocab.txt"), false, new UTF8Encoding(false)) { NewLine = "\n" };
        foreach (var t in _idToToken) w.WriteLine(t ?? "");
    }

    /// <summary>The vocabulary in id order.</summary>
    public IReadOnlyList<string?> Vocabulary => _idToToken;

    /// <inheritdoc />
    public override int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <inheritdoc />
    public override string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    internal override void EncodeText(string text, int start, int end, TokenSink sink) =>
        BertPreTokenizer.Scan(text.AsSpan(start, end - start), start, Normalization, sink.TrackOffsets, new WordSink(this, sink));

    private sealed class WordSink(WordPieceTokenizer owner, TokenSink sink) : IBertWordSink
    {
        public void Word(ReadOnlySpan<char> word, ReadOnlySpan<int> starts, ReadOnlySpan<int> ends)
        {
            var ids = owner.EncodeWord(word);
            if (!sink.TrackOffsets)
            {
                sink.AddRange(ids);
                return;
            }
            sink.NextWord();
            if (ids.Length == 1 && ids[0] == owner._unkId)
            {
                sink.Add(ids[0], starts[0], ends[^1]);
                return;
            }
            int p = 0;
            for (int k = 0; k < ids.Length; k++)
            {
                int len = owner._idToToken[ids[k]]!.Length - (k > 0 ? owner.ContinuingSubwordPrefix.Length : 0);
                sink.Add(ids[k], starts[p], ends[p + len - 1]);
                p += len;
            }
        }
    }

    /// <summary>Greedy longest-match-first segmentation of one normalized word, cached.</summary>
    internal int[] EncodeWord(ReadOnlySpan<char> word)
    {
        if (_cacheLookup.TryGetValue(word, out var cached)) return cached;
        var ids = Segment(word);
        if (word.Length <= CacheMaxWordLength && _cache.Count < CacheMaxEntries) _cacheLookup.TryAdd(word, ids);
        return ids;
    }

    private int[] Segment(ReadOnlySpan<char> word)
    {
        int codePoints = 0;
        foreach (var _ in word.EnumerateRunes()) codePoints++;
        if (codePoints > MaxInputCharsPerWord) return [_unkId];
        var ids = new List<int>(4);
        int start = 0;
        while (start < word.Length)
        {
            int end = Math.Min(word.Length, start + _maxTokenChars);
            int found = -1;
            var dict = start == 0 ? _initial : _continuation;
            while (end > start)
            {
                // Never cut a surrogate pair.
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) { end--; continue; }
                if (dict.TryGetValue(word[start..end], out int id)) { found = id; break; }
                end--;
            }
            if (found < 0) return [_unkId];
            ids.Add(found);
            start = end;
        }
        return ids.ToArray();
    }

    internal override string DecodeCore(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        // Hugging Face's WordPiece decoder: drop the ## of continuations, put a space before other tokens, then clean up.
        var sb = new StringBuilder();
        bool first = true;
        foreach (int id in ids)
        {
            if (skipSpecialTokens && IsSpecial(id)) continue;
            var token = _idToToken[id]!;
            string piece = first ? token
                : token.StartsWith(ContinuingSubwordPrefix, StringComparison.Ordinal) ? token[ContinuingSubwordPrefix.Length..]
                : " " + token;
            sb.Append(Cleanup(piece));
            first = false;
        }
        return sb.ToString();
    }

    private static string Cleanup(string s) => s
        .Replace(" .", ".", StringComparison.Ordinal)
        .Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal)
        .Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal)
        .Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal)
        .Replace(" do not", " don't", StringComparison.Ordinal)
        .Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal)
        .Replace(" 're", "'re", StringComparison.Ordinal);
}
