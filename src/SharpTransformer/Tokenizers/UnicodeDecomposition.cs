namespace SharpTransformer.Tokenizers;

/// <summary>
/// Canonical decomposition (NFD) of single code points, in managed code: BERT's accent stripping needs NFD, and
/// <see cref="string.Normalize(System.Text.NormalizationForm)"/> depends on ICU (it does nothing under invariant globalization).
/// Decomposing code point by code point is enough there because every combining mark is removed afterwards.
/// </summary>
internal static partial class UnicodeDecomposition
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, TCount = 28, NCount = 588, SCount = 11172;

    /// <summary>Writes the NFD of <paramref name="codePoint"/> into <paramref name="dst"/> (at least 18 chars); returns the number written.</summary>
    public static int Decompose(int codePoint, Span<char> dst)
    {
        int s = codePoint - SBase;
        if ((uint)s < SCount)
        {
            dst[0] = (char)(LBase + s / NCount);
            dst[1] = (char)(VBase + s % NCount / TCount);
            if (s % TCount == 0) return 2;
            dst[2] = (char)(TBase + s % TCount);
            return 3;
        }
        int i = codePoint >= 0xC0 ? Keys.BinarySearch(codePoint) : -1;
        if (i < 0) return new System.Text.Rune(codePoint).EncodeToUtf16(dst);
        var chars = Chars[Starts[i]..Starts[i + 1]];
        chars.CopyTo(dst);
        return chars.Length;
    }
}
