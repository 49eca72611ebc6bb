using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>Receives the words of <see cref="BertPreTokenizer"/>.</summary>
internal interface IBertWordSink
{
    /// <summary>One normalized word; <paramref name="starts"/> and <paramref name="ends"/> give, for each of its chars, the original span (empty when not tracking).</summary>
    void Word(ReadOnlySpan<char> word, ReadOnlySpan<int> starts, ReadOnlySpan<int> ends);
}

/// <summary>
/// BERT's basic tokenizer (see <see cref="BertNormalization"/>), one pass over the text that normalizes each character
/// and cuts words as it goes, keeping for every normalized character the span of the original character it came from.
/// Classifies by code point (Rune), as Hugging Face does.
/// </summary>
internal static class BertPreTokenizer
{
    // ASCII classes: 0 word character, 1 white space, 2 punctuation, 3 removed (controls and NUL).
    private const byte Word = 0, White = 1, Punct = 2, Removed = 3;
    private static readonly byte[] s_ascii = BuildAscii();

    public static void Scan<TSink>(ReadOnlySpan<char> text, int offset, BertNormalization options, bool track, TSink sink)
        where TSink : IBertWordSink
    {
        var wb = new WordBuffer<TSink>(sink, track, Math.Min(Math.Max(16, text.Length + 8), 1 << 12));
        bool lower = options.Lowercase, strip = options.StripsAccents, clean = options.CleanText, cjk = options.HandleChineseChars;
        Span<char> tmp = stackalloc char[24];
        Span<char> pair = stackalloc char[2];

        int i = 0;
        while (i < text.Length)
        {
            char ch = text[i];
            if (ch < 128)
            {
                byte cls = s_ascii[ch];
                int s0 = offset + i;
                i++;
                if (cls == Word)
                {
                    wb.Push(lower && (uint)(ch - 'A') <= 'Z' - 'A' ? (char)(ch | 0x20) : ch, s0, s0 + 1);
                    // The common case: a run of ASCII letters and digits.
                    while (i < text.Length && text[i] < 128 && s_ascii[text[i]] == Word)
                    {
                        char c2 = text[i];
                        wb.Push(lower && (uint)(c2 - 'A') <= 'Z' - 'A' ? (char)(c2 | 0x20) : c2, offset + i, offset + i + 1);
                        i++;
                    }
                }
                else if (cls == White) wb.Flush();
                else if (cls == Punct) { wb.Flush(); wb.Push(ch, s0, s0 + 1); wb.Flush(); }
                else if (!clean) { if (ch is '\v' or '\f') wb.Flush(); else wb.Push(ch, s0, s0 + 1); }
                continue;
            }

            // Non-ASCII: one code point at a time.
            int start = offset + i;
            int cp;
            if (char.IsHighSurrogate(ch) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { cp = char.ConvertToUtf32(ch, text[i + 1]); i += 2; }
            else { cp = ch; i++; }
            int end = offset + i;

            if (clean)
            {
                if (cp == 0xFFFD || IsControl(cp)) continue;
                if (IsWhiteSpace(cp)) { wb.Flush(); continue; }
            }
            if (cp <= 0xFFFF && char.IsSurrogate((char)cp))
            {
                wb.Push((char)cp, start, end); // a lone surrogate, kept only when CleanText is off
                continue;
            }
            bool chinese = cjk && IsChineseChar(cp);
            if (chinese) wb.Flush();

            int m = strip ? UnicodeDecomposition.Decompose(cp, tmp) : new Rune(cp).EncodeToUtf16(tmp);
            for (int k = 0; k < m;)
            {
                Rune.DecodeFromUtf16(tmp[k..m], out var rune, out int used);
                k += used;
                if (strip && Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark) continue;
                if (lower)
                {
                    if (rune.Value == 0x130) { wb.Emit('i', start, end); wb.Emit('\u0307', start, end); continue; }
                    rune = Rune.ToLowerInvariant(rune);
                }
                if (rune.IsBmp) { wb.Emit((char)rune.Value, start, end); continue; }
                rune.EncodeToUtf16(pair);
                if (IsPunctuation(rune.Value)) { wb.Flush(); wb.Push(pair[0], start, end); wb.Push(pair[1], start, end); wb.Flush(); }
                else { wb.Push(pair[0], start, end); wb.Push(pair[1], start, end); }
            }
            if (chinese) wb.Flush();
        }
        wb.Flush();
    }

    /// <summary>The word being built and where it goes: a struct so the hot loop keeps its fields in locals.</summary>
    private struct WordBuffer<TSink>(TSink sink, bool track, int capacity) where TSink : IBertWordSink
    {
        private char[] _buf = new char[capacity];
        private int[] _starts = track ? new int[capacity] : [];
        private int[] _ends = track ? new int[capacity] : [];
        private int _n;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Push(char c, int s, int e)
        {
            if (_n == _buf.Length) Grow();
            _buf[_n] = c;
            if (track) { _starts[_n] = s; _ends[_n] = e; }
            _n++;
        }

        public void Flush()
        {
            if (_n > 0) sink.Word(_buf.AsSpan(0, _n), _starts.AsSpan(0, track ? _n : 0), _ends.AsSpan(0, track ? _n : 0));
            _n = 0;
        }

        /// <summary>Adds one normalized BMP character: white space ends the word, punctuation is a word of its own.</summary>
        public void Emit(char c, int s, int e)
        {
            if (c < 128)
            {
                byte cls = s_ascii[c];
                if (cls == White) Flush();
                else if (cls == Punct) { Flush(); Push(c, s, e); Flush(); }
                else Push(c, s, e);
                return;
            }
            if (IsWhiteSpace(c)) Flush();
            else if (IsPunctuation(c)) { Flush(); Push(c, s, e); Flush(); }
            else Push(c, s, e);
        }

        private void Grow()
        {
            Array.Resize(ref _buf, _n * 2);
            if (track) { Array.Resize(ref _starts, _n * 2); Array.Resize(ref _ends, _n * 2); }
        }
    }

    /// <summary>Hugging Face's <c>is_control</c>: categories Cc, Cf, Co, Cn and Cs, except tab, newline and carriage return.</summary>
    internal static bool IsControl(int cp)
    {
        if (cp is '\t' or '\n' or '\r') return false;
        var cat = CharUnicodeInfo.GetUnicodeCategory(cp);
        return cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate;
    }

    /// <summary>Tab, newline, carriage return and Unicode White_Space.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsWhiteSpace(int cp) => cp is '\t' or '\n' or '\r' or ' ' || (cp <= 0xFFFF ? char.IsWhiteSpace((char)cp) : false);

    /// <summary>BERT's punctuation: every ASCII non-alphanumeric printable character, and Unicode categories P*.</summary>
    internal static bool IsPunctuation(int cp)
    {
        if (cp < 128) return cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126;
        if (cp <= 0xFFFF && char.IsSurrogate((char)cp)) return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>The CJK ideograph blocks of Hugging Face's <c>is_chinese_char</c>.</summary>
    internal static bool IsChineseChar(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);

    private static byte[] BuildAscii()
    {
        var t = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            t[c] = c is '\t' or '\n' or '\r' or ' ' ? White
                : IsControl(c) || c == 0 ? Removed
                : IsPunctuation(c) ? Punct
                : Word;
        }
        // \v and \f are controls (removed) in Hugging Face's cleanup even though they are white space.
        return t;
    }
}
