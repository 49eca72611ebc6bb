namespace SharpTransformer.Tokenizers;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and 256 printable characters, so that byte-level tokens can be
/// stored as strings: printable Latin-1 bytes map to themselves, the other 68 to U+0100 and up, in byte order
/// (space becomes <c>Ġ</c>, newline <c>Ċ</c>).
/// </summary>
public static class ByteLevel
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly short[] s_charToByte = BuildCharToByte(s_byteToChar);

    /// <summary>The character that stands for a byte.</summary>
    public static char ByteToChar(byte b) => s_byteToChar[b];

    /// <summary>The byte a character stands for, or -1 when it is not one of the 256.</summary>
    public static int CharToByte(char c) => c < s_charToByte.Length ? s_charToByte[c] : -1;

    /// <summary>The byte-level string of a text's UTF-8 bytes (lone surrogates become U+FFFD).</summary>
    public static string Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return BytesToString(bytes);
    }

    /// <summary>The byte-level string of raw bytes.</summary>
    public static string BytesToString(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = s_byteToChar[src[i]];
        });
    }

    /// <summary>
    /// The bytes of a byte-level string into <paramref name="bytes"/>; false (nothing appended) when a character is not
    /// one of the 256, as Hugging Face's byte-level decoder does for added tokens.
    /// </summary>
    public static bool TryStringToBytes(ReadOnlySpan<char> token, List<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        foreach (char c in token) if (CharToByte(c) < 0) return false;
        foreach (char c in token) bytes.Add((byte)CharToByte(c));
        return true;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var assigned = new bool[256];
        for (int b = '!'; b <= '~'; b++) { map[b] = (char)b; assigned[b] = true; }
        for (int b = 0xA1; b <= 0xAC; b++) { map[b] = (char)b; assigned[b] = true; }
        for (int b = 0xAE; b <= 0xFF; b++) { map[b] = (char)b; assigned[b] = true; }
        int n = 0;
        for (int b = 0; b < 256; b++)
            if (!assigned[b]) map[b] = (char)(256 + n++);
        return map;
    }

    private static short[] BuildCharToByte(char[] byteToChar)
    {
        var map = new short[256 + 68];
        Array.Fill(map, (short)-1);
        for (int b = 0; b < 256; b++) map[byteToChar[b]] = (short)b;
        return map;
    }

    /// <summary>GPT-2's byte order of the 256 base tokens (encoder.json ids 0 to 255): printable bytes first, then the rest.</summary>
    internal static byte[] Gpt2ByteOrder()
    {
        var order = new List<byte>(256);
        for (int b = '!'; b <= '~'; b++) order.Add((byte)b);
        for (int b = 0xA1; b <= 0xAC; b++) order.Add((byte)b);
        for (int b = 0xAE; b <= 0xFF; b++) order.Add((byte)b);
        for (int b = 0; b < 256; b++) if (!order.Contains((byte)b)) order.Add((byte)b);
        return order.ToArray();
    }
}
