namespace SharpTransformer.Tokenizers;

/// <summary>
/// BERT's basic tokenizer settings (Hugging Face's <c>BertNormalizer</c> + <c>BertPreTokenizer</c>). The pipeline, per
/// character: remove NUL, U+FFFD and control characters and map white space to a space (<see cref="CleanText"/>); make each
/// CJK ideograph a word of its own (<see cref="HandleChineseChars"/>); decompose (NFD) and drop non-spacing marks
/// (<see cref="StripAccents"/>); lower-case (<see cref="Lowercase"/>); then split on white space and make every
/// punctuation character (Unicode P*, and all ASCII symbols such as <c>$ + = ` ^</c>) a word of its own.
/// </summary>
/// <param name="Lowercase">Lower-case the text (BERT uncased).</param>
/// <param name="StripAccents">Strip accents; null follows <paramref name="Lowercase"/>, as in Hugging Face.</param>
/// <param name="HandleChineseChars">Treat each CJK ideograph as a word.</param>
/// <param name="CleanText">Remove control characters and normalize white space.</param>
public sealed record BertNormalization(bool Lowercase = true, bool? StripAccents = null, bool HandleChineseChars = true, bool CleanText = true)
{
    /// <summary>Whether accents are stripped, after resolving the null default.</summary>
    public bool StripsAccents => StripAccents ?? Lowercase;
}
