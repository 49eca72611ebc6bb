using System.Runtime.CompilerServices;
using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// GPT-2's byte-level BPE: GPT-2's pre-tokenization (<see cref="Gpt2PreTokenizer"/>), the UTF-8 bytes of each piece as
/// byte tokens (<see cref="ByteLevel"/>), then merges. Loads GPT-2's <c>encoder.json</c> + <c>vocab.bpe</c>, Hugging Face's
/// <c>vocab.json</c> + <c>merges.txt</c> or <c>tokenizer.json</c>, and tiktoken rank files. A lone surrogate is encoded as
/// the bytes of U+FFFD (as Hugging Face and tiktoken do), so <c>Decode(Encode(s)) == s</c> for every well-formed string.
/// </summary>
public sealed class ByteLevelBpeTokenizer : Tokenizer
{
    private readonly BpeModel _model;
    private readonly string?[] _idToToken;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly bool _lowercase;

    internal ByteLevelBpeTokenizer(BpeModel model, SpecialTokens? special, IEnumerable<AddedToken>? added, TokenTemplate? template, bool lowercase)
    {
        _model = model;
        _lowercase = lowercase;
        var addedList = (added ?? []).ToList();
        int size = model.IdToToken.Length;
        foreach (var t in addedList) size = Math.Max(size, t.Id + 1);
        _idToToken = new string?[size];
        model.IdToToken.CopyTo(_idToToken, 0);
        _tokenToId = new Dictionary<string, int>(model.TokenToId, StringComparer.Ordinal);
        foreach (var t in addedList)
        {
            _idToToken[t.Id] ??= t.Content;
            _tokenToId.TryAdd(t.Content, t.Id);
        }
        special ??= _tokenToId.ContainsKey(SpecialTokens.EndOfText) ? SpecialTokens.Gpt2 : SpecialTokens.None;
        Configure(special, template ?? TokenTemplate.Plain, addedList);
    }

    /// <inheritdoc />
    public override int VocabSize => _idToToken.Length;

    /// <summary>Number of merges (0 for a tokenizer loaded from tiktoken ranks).</summary>
    public int MergeCount => _model.Merges?.Length ?? 0;

    /// <summary>Whether text is lower-cased before pre-tokenization.</summary>
    public bool Lowercase => _lowercase;

    /// <summary>
    /// Loads GPT-2's <c>encoder.json</c> + <c>vocab.bpe</c>, or Hugging Face's <c>vocab.json</c> + <c>merges.txt</c>
    /// (the same two formats). Special tokens default to GPT-2's when the vocabulary has <c>&lt;|endoftext|&gt;</c>.
    /// </summary>
    /// <param name="vocabPath">JSON map from byte-level token to id.</param>
    /// <param name="mergesPath">Merges, one <c>a b</c> pair per line, after an optional <c>#version</c> line.</param>
    /// <param name="specialTokens">Special-token roles, or null for the default.</param>
    /// <param name="lowercase">Lower-case text before pre-tokenization.</param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="VocabularyFormatException">A file is corrupt; the message names the file and the line or key.</exception>
    public static ByteLevelBpeTokenizer FromFiles(string vocabPath, string mergesPath, SpecialTokens? specialTokens = null, bool lowercase = false)
    {
        var vocab = VocabularyFiles.ReadJsonVocab(vocabPath);
        var merges = VocabularyFiles.ReadMerges(mergesPath);
        return FromVocabulary(vocab, merges, mergesPath, specialTokens, lowercase);
    }

    internal static ByteLevelBpeTokenizer FromVocabulary(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B, int Line)> merges, string mergesPath,
        SpecialTokens? specialTokens, bool lowercase, IEnumerable<AddedToken>? added = null, TokenTemplate? template = null)
    {
        var model = BpeModel.FromMerges(vocab, merges, mergesPath);
        return new ByteLevelBpeTokenizer(model, specialTokens ?? DefaultSpecial(vocab), added, template, lowercase);
    }

    private static SpecialTokens DefaultSpecial(Dictionary<string, int> vocab) =>
        vocab.ContainsKey(SpecialTokens.EndOfText) ? SpecialTokens.Gpt2 : SpecialTokens.None;

    /// <summary>
    /// Loads a tiktoken rank file (<c>base64-of-token-bytes rank</c> per line, as <c>r50k_base.tiktoken</c>) with GPT-2's
    /// pre-tokenization. Special tokens default to <c>&lt;|endoftext|&gt;</c> right after the last rank (50256 for GPT-2).
    /// </summary>
    /// <param name="path">The rank file.</param>
    /// <param name="specialTokens">Special tokens and their ids, or null for the default.</param>
    /// <param name="lowercase">Lower-case text before pre-tokenization.</param>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="VocabularyFormatException">A line is corrupt; the message names the file and the line.</exception>
    public static ByteLevelBpeTokenizer FromTiktoken(string path, IReadOnlyDictionary<string, int>? specialTokens = null, bool lowercase = false)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var reader = new StreamReader(VocabularyFiles.OpenRead(path), Encoding.UTF8))
        {
            int lineNo = 0;
            while (reader.ReadLine() is { } line)
            {
                lineNo++;
                if (line.Length == 0) continue;
                int sp = line.IndexOf(' ');
                byte[] bytes;
                if (sp <= 0 || !int.TryParse(line.AsSpan(sp + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int rank))
                    throw new VocabularyFormatException(path, lineNo, null, "expected a base64 token, one space and a non-negative rank.");
                try { bytes = Convert.FromBase64String(line[..sp]); }
                catch (FormatException e) { throw new VocabularyFormatException(path, lineNo, line[..sp], "the token is not valid base64.", e); }
                if (bytes.Length == 0) throw new VocabularyFormatException(path, lineNo, line[..sp], "the token is empty.");
                if (!vocab.TryAdd(ByteLevel.BytesToString(bytes), rank))
                    throw new VocabularyFormatException(path, lineNo, line[..sp], "the token appears twice.");
            }
        }
        int next = vocab.Count == 0 ? 0 : vocab.Values.Max() + 1;
        specialTokens ??= new Dictionary<string, int> { [SpecialTokens.EndOfText] = next };
        var added = specialTokens.Select(kv => new AddedToken(kv.Key, kv.Value, Special: true)).ToList();
        var roles = specialTokens.ContainsKey(SpecialTokens.EndOfText) ? SpecialTokens.Gpt2 : SpecialTokens.None;
        return new ByteLevelBpeTokenizer(BpeModel.FromRanks(vocab), roles, added, null, lowercase);
    }

    /// <summary>
    /// Writes <c>vocab.json</c> and <c>merges.txt</c> in Hugging Face's format into <paramref name="directory"/>
    /// (created if needed); Hugging Face's and Microsoft.ML.Tokenizers' BPE loaders read them back.
    /// </summary>
    /// <exception cref="NotSupportedException">The tokenizer was loaded from tiktoken ranks, which have no merges list.</exception>
    public void Save(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var merges = _model.Merges ?? throw new NotSupportedException("A tokenizer loaded from tiktoken ranks has no merges list to save.");
        Directory.CreateDirectory(directory);
        VocabularyFiles.WriteJsonVocab(Path.Combine(directory, "vocab.json"), _idToToken);
        VocabularyFiles.WriteMerges(Path.Combine(directory, "merges.txt"), merges.Select(m => (_idToToken[m.A]!, _idToToken[m.B]!)));
    }

    /// <summary>The merges as token pairs in rank order (empty for tiktoken ranks).</summary>
    public IEnumerable<(string A, string B)> Merges() =>
        (_model.Merges ?? []).Select(m => (_idToToken[m.A]!, _idToToken[m.B]!));

    /// <inheritdoc />
    public override int? TokenToId(string token) => _tokenToId.TryGetValue(token, out int id) ? id : null;

    /// <inheritdoc />
    public override string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    internal override void EncodeText(string text, int start, int end, TokenSink sink)
    {
        ReadOnlySpan<char> s = text.AsSpan(start, end - start);
        if (_lowercase) s = Lower(s);
        int i = 0;
        if (!sink.TrackOffsets)
        {
            while (i < s.Length)
            {
                int j = Gpt2PreTokenizer.NextPiece(s, i);
                sink.AddRange(_model.EncodePiece(s[i..j]));
                i = j;
            }
            return;
        }
        while (i < s.Length)
        {
            int j = Gpt2PreTokenizer.NextPiece(s, i);
            sink.NextWord();
            AddWithOffsets(s, i, _model.EncodePiece(s[i..j]), start, sink);
            i = j;
        }
    }

    /// <summary>Maps each token's bytes back to the characters they came from; a token that covers part of a character gets all of it.</summary>
    private void AddWithOffsets(ReadOnlySpan<char> s, int i, int[] ids, int offset, TokenSink sink)
    {
        int c = i, used = 0;
        foreach (int id in ids)
        {
            int start = c;
            int nb = Math.Max(1, _model.TokenByteLength[id]);
            while (nb > 0 && c < s.Length)
            {
                int rem = Utf8Length(s, c, out _) - used;
                if (nb >= rem) { nb -= rem; c += Units(s, c); used = 0; }
                else { used += nb; nb = 0; }
            }
            int end = used > 0 ? c + Units(s, c) : c;
            sink.Add(id, offset + start, offset + end);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Units(ReadOnlySpan<char> s, int c) =>
        char.IsHighSurrogate(s[c]) && c + 1 < s.Length && char.IsLowSurrogate(s[c + 1]) ? 2 : 1;

    private static int Utf8Length(ReadOnlySpan<char> s, int c, out int units)
    {
        units = Units(s, c);
        char ch = s[c];
        return ch < 0x80 ? 1 : ch < 0x800 ? 2 : units == 2 ? 4 : 3;
    }

    private static string Lower(ReadOnlySpan<char> s)
    {
        var chars = s.ToArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1]))
            {
                var lower = Rune.ToLowerInvariant(new Rune(chars[i], chars[i + 1]));
                if (lower.Utf16SequenceLength == 2) lower.EncodeToUtf16(chars.AsSpan(i));
                i++;
            }
            else if (!char.IsSurrogate(chars[i])) chars[i] = char.ToLowerInvariant(chars[i]);
        }
        return new string(chars);
    }

    internal override string DecodeCore(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            if (skipSpecialTokens && IsSpecial(id)) continue;
            var token = _idToToken[id]!;
            if (!ByteLevel.TryStringToBytes(token, bytes)) bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }
}
