namespace SharpTransformer.Tokenizers;

/// <summary>
/// The characters of the input string a token came from: <c>text[Start..End]</c>, in UTF-16 code units.
/// Tokens the tokenizer added (special tokens, padding) have the empty span (0, 0).
/// Byte-level tokens that cover only part of a character get the whole character's span.
/// </summary>
/// <param name="Start">Index of the first character.</param>
/// <param name="End">Index one past the last character.</param>
public readonly record struct TokenSpan(int Start, int End)
{
    /// <summary>Number of characters covered.</summary>
    public int Length => End - Start;

    /// <summary>The span as a <see cref="System.Range"/>.</summary>
    public Range ToRange() => Start..End;
}
