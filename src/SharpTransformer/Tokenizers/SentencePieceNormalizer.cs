using System.Buffers.Binary;
using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// SentencePiece's normaliser: the precompiled charsmap (a darts-clone double-array trie over UTF-8 whose values point
/// into a blob of NUL-terminated replacement strings; the longest matching prefix is replaced, else one UTF-8 character is
/// copied, an invalid byte becoming U+FFFD), user-defined symbols passed through unchanged, leading, trailing and repeated
/// spaces removed, a dummy <c>▁</c> prefix and spaces escaped as <c>▁</c>, all as the model's <c>NormalizerSpec</c> says.
/// Also the Hugging Face <c>Precompiled</c> normaliser, which holds the same blob.
/// </summary>
internal sealed class SentencePieceNormalizer
{
    public const char Space = '\u2581';
    private const string SpaceString = "\u2581";

    private readonly uint[] _trie;
    private readonly byte[] _replacements;
    private readonly SentencePieceNormalizerSpec _spec;
    private readonly string[] _userDefined;   // longest first

    public SentencePieceNormalizer(SentencePieceNormalizerSpec spec, IEnumerable<string> userDefined, string source)
    {
        _spec = spec;
        _userDefined = userDefined.Where(u => u.Length > 0).OrderByDescending(u => u.Length).ToArray();
        (_trie, _replacements) = ParseCharsMap(spec.PrecompiledCharsMap, source);
    }

    public SentencePieceNormalizerSpec Spec => _spec;

    /// <summary>Splits a precompiled charsmap into its trie units and its replacement blob.</summary>
    public static (uint[] Trie, byte[] Replacements) ParseCharsMap(byte[] map, string source)
    {
        if (map.Length == 0) return ([], []);
        if (map.Length < 4) throw new VocabularyFormatException(source, null, "precompiled_charsmap", "shorter than its 4-byte header.");
        uint trieSize = BinaryPrimitives.ReadUInt32LittleEndian(map);
        if (trieSize % 4 != 0 || trieSize > map.Length - 4)
            throw new VocabularyFormatException(source, null, "precompiled_charsmap", $"trie size {trieSize} does not fit the {map.Length} bytes.");
        var trie = new uint[trieSize / 4];
        for (int i = 0; i < trie.Length; i++) trie[i] = BinaryPrimitives.ReadUInt32LittleEndian(map.AsSpan(4 + 4 * i));
        return (trie, map.AsSpan(4 + (int)trieSize).ToArray());
    }

    /// <summary>
    /// Longest prefix of <paramref name="key"/> in the trie (darts-clone's commonPrefixSearch): its length in bytes and its
    /// value, or length 0.
    /// </summary>
    private (int Length, int Value) LongestMatch(ReadOnlySpan<byte> key)
    {
        if (_trie.Length == 0) return (0, 0);
        int bestLen = 0, bestValue = 0;
        uint nodePos = 0;
        uint unit = _trie[0];
        nodePos ^= Offset(unit);
        for (int i = 0; i < key.Length; i++)
        {
            nodePos ^= key[i];
            if (nodePos >= (uint)_trie.Length) break;
            unit = _trie[nodePos];
            if ((unit & ((1u << 31) | 0xFF)) != key[i]) break;   // label
            nodePos ^= Offset(unit);
            if (nodePos >= (uint)_trie.Length) break;
            if (((unit >> 8) & 1) != 0)                            // has leaf
            {
                bestLen = i + 1;
                bestValue = (int)(_trie[nodePos] & 0x7FFFFFFF);
            }
        }
        return (bestLen, bestValue);

        static uint Offset(uint u) => (u >> 10) << (int)((u & (1u << 9)) >> 6);
    }

    /// <summary>
    /// Normalises <paramref name="text"/>. <paramref name="origin"/> receives, for each UTF-16 unit of the result, the span
    /// [start, end) of the input it came from (the dummy prefix maps to an empty span at the first kept character).
    /// </summary>
    public string Normalize(ReadOnlySpan<char> text, List<(int Start, int End)>? origin)
    {
        // UTF-8 of the input, with the UTF-16 index each byte came from.
        byte[] input = Encoding.UTF8.GetBytes(text.ToArray());
        var byteToChar = new int[input.Length + 1];
        for (int c = 0, b = 0; c < text.Length;)
        {
            bool pair = char.IsHighSurrogate(text[c]) && c + 1 < text.Length && char.IsLowSurrogate(text[c + 1]);
            int n = pair ? 4 : text[c] < 0x80 ? 1 : text[c] < 0x800 ? 2 : 3;   // a lone surrogate becomes EF BF BD
            for (int k = 0; k < n; k++) byteToChar[b++] = c;
            c += pair ? 2 : 1;
        }
        byteToChar[input.Length] = text.Length;

        var sb = new StringBuilder(text.Length + 4);
        int pos = 0;
        var chunk = new StringBuilder();

        // Leading spaces (after normalisation) go.
        if (_spec.RemoveExtraWhitespaces)
        {
            while (pos < input.Length)
            {
                int consumed = Prefix(input, pos, chunk);
                if (chunk.ToString() != " ") break;
                pos += consumed;
            }
        }
        if (pos >= input.Length) return "";
        int firstChar = byteToChar[pos];
        if (_spec.AddDummyPrefix)
        {
            sb.Append(_spec.EscapeWhitespaces ? Space : ' ');
            origin?.Add((firstChar, firstChar));
        }
        bool prevSpace = _spec.RemoveExtraWhitespaces;
        while (pos < input.Length)
        {
            int consumed = Prefix(input, pos, chunk);
            int s = 0;
            while (prevSpace && s < chunk.Length && chunk[s] == ' ') s++;
            if (s < chunk.Length)
            {
                int oStart = byteToChar[pos], oEnd = byteToChar[pos + consumed];
                for (int i = s; i < chunk.Length; i++)
                {
                    sb.Append(_spec.EscapeWhitespaces && chunk[i] == ' ' ? Space : chunk[i]);
                    origin?.Add((oStart, oEnd));
                }
                prevSpace = chunk[^1] == ' ';
            }
            pos += consumed;
            if (!_spec.RemoveExtraWhitespaces) prevSpace = false;
        }
        if (_spec.RemoveExtraWhitespaces)
        {
            char sp = _spec.EscapeWhitespaces ? Space : ' ';
            while (sb.Length > 0 && sb[^1] == sp)
            {
                sb.Length--;
                if (origin is not null) origin.RemoveAt(origin.Count - 1);
            }
        }
        return sb.ToString();
    }

    /// <summary>Normalises one prefix of input[pos..] into <paramref name="chunk"/>; returns the bytes consumed.</summary>
    private int Prefix(byte[] input, int pos, StringBuilder chunk)
    {
        chunk.Clear();
        var rest = input.AsSpan(pos);
        foreach (var u in _userDefined)
        {
            int n = Encoding.UTF8.GetByteCount(u);
            if (n <= rest.Length && Encoding.UTF8.GetString(rest[..n]) == u)
            {
                chunk.Append(u);
                return n;
            }
        }
        var (len, value) = LongestMatch(rest);
        if (len > 0)
        {
            int end = value;
            while (end < _replacements.Length && _replacements[end] != 0) end++;
            chunk.Append(Encoding.UTF8.GetString(_replacements, value, end - value));
            return len;
        }
        int cl = Utf8CharLength(rest);
        if (cl == 0)
        {
            chunk.Append('\uFFFD');
            return 1;
        }
        chunk.Append(Encoding.UTF8.GetString(rest[..cl]));
        return cl;
    }

    /// <summary>Length of the valid UTF-8 character at the start of <paramref name="s"/>, or 0 if it is malformed.</summary>
    private static int Utf8CharLength(ReadOnlySpan<byte> s)
    {
        var status = System.Text.Rune.DecodeFromUtf8(s, out _, out int consumed);
        return status == System.Buffers.OperationStatus.Done ? consumed : 0;
    }

    /// <summary>Writes <c>▁</c> for spaces, as <see cref="Normalize"/> would (for callers that build pieces from raw text).</summary>
    public static string Escape(string s) => s.Replace(" ", SpaceString);
}
