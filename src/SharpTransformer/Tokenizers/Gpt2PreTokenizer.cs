using System.Runtime.CompilerServices;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// GPT-2's pre-tokenization, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, as a
/// hand-written scanner that gives exactly the matches of .NET's <see cref="System.Text.RegularExpressions.Regex"/>
/// (which tiktoken-compatible .NET tokenizers use). Like that regex it classifies UTF-16 code units: a surrogate is
/// neither a letter nor a number, so a letter outside the Basic Multilingual Plane (𝐀, 𠀀) falls in the
/// <c>[^\s\p{L}\p{N}]+</c> class; Python's <c>regex</c> module, and so tiktoken and Hugging Face, would treat it as a letter.
/// </summary>
internal static class Gpt2PreTokenizer
{
    private const byte Letter = 0, Number = 1, Space = 2, Other = 3;

    private static readonly byte[] s_ascii = BuildAscii();

    /// <summary>End (exclusive) of the piece of <paramref name="s"/> that starts at <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextPiece(ReadOnlySpan<char> s, int i)
    {
        int n = s.Length;
        char c = s[i];
        if (c == '\'' && i + 1 < n)
        {
            char c1 = s[i + 1];
            if (c1 is 's' or 't' or 'm' or 'd') return i + 2;
            if (i + 2 < n)
            {
                char c2 = s[i + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
            }
        }
        int cls = Class(c);
        int j = i;
        if (c == ' ' && i + 1 < n)
        {
            int next = Class(s[i + 1]);
            if (next != Space) { j = i + 1; cls = next; }
        }
        if (cls != Space)
        {
            int k = j + 1;
            while (k < n && Class(s[k]) == cls) k++;
            return k;
        }
        // \s+(?!\S) backtracks to leave the last white-space character when a non-space follows; \s+ takes a single one.
        int e = i + 1;
        while (e < n && Class(s[e]) == Space) e++;
        if (e == n) return n;
        return e - i >= 2 ? e - 1 : e;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Class(char c) => c < 128 ? s_ascii[c] : ClassSlow(c);

    private static int ClassSlow(char c)
    {
        if (char.IsLetter(c)) return Letter;
        if (char.IsNumber(c)) return Number;
        if (char.IsWhiteSpace(c)) return Space;
        return Other;
    }

    private static byte[] BuildAscii()
    {
        var t = new byte[128];
        for (int c = 0; c < 128; c++) t[c] = (byte)ClassSlow((char)c);
        return t;
    }
}
