namespace SharpTransformer.Tokenizers;

/// <summary>Settings of <see cref="WordPieceTrainer"/>.</summary>
/// <param name="VocabSize">Size of the vocabulary to learn, special tokens and the alphabet included.</param>
public sealed record WordPieceTrainerOptions(int VocabSize)
{
    /// <summary>Stop when the most frequent pair occurs fewer times than this.</summary>
    public int MinFrequency { get; init; }

    /// <summary>Special tokens, given the first ids (Hugging Face's order: <c>[PAD] [UNK] [CLS] [SEP] [MASK]</c>).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>The basic tokenizer's settings, used on the corpus and kept by the trained tokenizer.</summary>
    public BertNormalization Normalization { get; init; } = new();

    /// <summary>Keep only this many most frequent characters in the alphabet (null keeps all).</summary>
    public int? LimitAlphabet { get; init; }
}
