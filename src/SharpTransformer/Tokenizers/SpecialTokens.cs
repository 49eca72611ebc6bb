namespace SharpTransformer.Tokenizers;

/// <summary>
/// The roles special tokens play, by their text in the vocabulary (for example <c>[CLS]</c> or <c>&lt;|endoftext|&gt;</c>).
/// A role the tokenizer does not have is <see langword="null"/>.
/// </summary>
/// <param name="Bos">Beginning of sequence.</param>
/// <param name="Eos">End of sequence.</param>
/// <param name="Pad">Padding.</param>
/// <param name="Cls">Classification token that starts a BERT input.</param>
/// <param name="Sep">Separator that ends each BERT segment.</param>
/// <param name="Mask">Masked-language-model mask.</param>
/// <param name="Unk">Unknown token, used for text the vocabulary cannot express.</param>
public sealed record SpecialTokens(
    string? Bos = null,
    string? Eos = null,
    string? Pad = null,
    string? Cls = null,
    string? Sep = null,
    string? Mask = null,
    string? Unk = null)
{
    /// <summary>No special tokens at all.</summary>
    public static SpecialTokens None { get; } = new();

    /// <summary>BERT's: <c>[CLS] [SEP] [PAD] [MASK] [UNK]</c>.</summary>
    public static SpecialTokens Bert { get; } = new(Pad: "[PAD]", Cls: "[CLS]", Sep: "[SEP]", Mask: "[MASK]", Unk: "[UNK]");

    /// <summary>GPT-2's: <c>&lt;|endoftext|&gt;</c> is BOS, EOS and UNK; there is no PAD token.</summary>
    public static SpecialTokens Gpt2 { get; } = new(Bos: EndOfText, Eos: EndOfText, Unk: EndOfText);

    /// <summary>The text of GPT-2's end-of-text token.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Every non-null role's token text, without duplicates, in the order BOS, EOS, PAD, CLS, SEP, MASK, UNK.</summary>
    public IEnumerable<string> All()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in new[] { Bos, Eos, Pad, Cls, Sep, Mask, Unk })
            if (t is not null && seen.Add(t)) yield return t;
    }
}
