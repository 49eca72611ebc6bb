namespace SharpTransformer.Tokenizers;

/// <summary>Settings of <see cref="SentencePieceTrainer"/> (the names of <c>spm_train</c>'s flags in brackets).</summary>
/// <param name="VocabSize">Pieces in the model, meta pieces (<c>&lt;unk&gt;</c>, <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>), user-defined and byte pieces included (<c>vocab_size</c>).</param>
public sealed record SentencePieceTrainerOptions(int VocabSize)
{
    /// <summary>Unigram or BPE (<c>model_type</c>).</summary>
    public SentencePieceModelType ModelType { get; init; } = SentencePieceModelType.Unigram;

    /// <summary>Add the 256 <c>&lt;0xXX&gt;</c> byte pieces and use them for unknown characters (<c>byte_fallback</c>).</summary>
    public bool ByteFallback { get; init; }

    /// <summary>Longest piece in characters (<c>max_sentencepiece_length</c>).</summary>
    public int MaxPieceLength { get; init; } = 16;

    /// <summary>Share of the corpus's characters the vocabulary must cover; rarer characters are unknown (<c>character_coverage</c>).</summary>
    public double CharacterCoverage { get; init; } = 0.9995;

    /// <summary>Unigram: the most seed pieces kept from the substring counts (<c>seed_sentencepiece_size</c>).</summary>
    public int SeedSize { get; init; } = 1_000_000;

    /// <summary>Unigram: the share of pieces each pruning round keeps (<c>shrinking_factor</c>).</summary>
    public double ShrinkingFactor { get; init; } = 0.75;

    /// <summary>Unigram: EM iterations per pruning round (<c>num_sub_iterations</c>).</summary>
    public int SubIterations { get; init; } = 2;

    /// <summary>Pieces that are always one piece where they occur (<c>user_defined_symbols</c>).</summary>
    public IReadOnlyList<string> UserDefinedSymbols { get; init; } = [];

    /// <summary>The normaliser written into the model and applied to the corpus; null for <see cref="SentencePieceNormalizerSpec.Identity"/>.</summary>
    public SentencePieceNormalizerSpec? Normalizer { get; init; }
}
