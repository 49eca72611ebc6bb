namespace SharpTransformer.Tokenizers;

/// <summary>Settings of <see cref="BpeTrainer"/>.</summary>
/// <param name="VocabSize">Size of the vocabulary to learn: 256 byte tokens, the merges, and the special tokens.</param>
public sealed record BpeTrainerOptions(int VocabSize)
{
    /// <summary>Stop when the most frequent pair occurs fewer times than this.</summary>
    public int MinFrequency { get; init; }

    /// <summary>Special tokens, given the last ids (GPT-2 puts <c>&lt;|endoftext|&gt;</c> last).</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [Tokenizers.SpecialTokens.EndOfText];

    /// <summary>Lower-case the corpus (and, later, the text to encode).</summary>
    public bool Lowercase { get; init; }
}
