namespace SharpTransformer.Models.Encoder;

/// <summary>
/// A pre-LN transformer encoder (PyTorch's <c>nn.TransformerEncoder</c> with <c>norm_first=True</c>, plus learned token
/// and position embeddings and a final LayerNorm): the encoder that trains most stably from scratch.
/// </summary>
/// <param name="VocabSize">Token ids are in [0, VocabSize).</param>
/// <param name="Dim">Width C.</param>
/// <param name="Layers">Number of blocks.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Hidden">Feed-forward width (usually 4·C).</param>
/// <param name="MaxPositions">Longest sequence.</param>
/// <param name="Dropout">Dropout on embeddings, attention output and feed-forward.</param>
/// <param name="PadTokenId">Id of the padding token.</param>
public sealed record TransformerEncoderConfig(int VocabSize, int Dim = 128, int Layers = 2, int Heads = 4, int Hidden = 512,
    int MaxPositions = 128, float Dropout = 0.1f, int PadTokenId = 0)
{
    /// <summary>Throws when the sizes do not fit together.</summary>
    public void Validate()
    {
        if (VocabSize <= 0 || Dim <= 0 || Layers <= 0 || Heads <= 0 || Hidden <= 0 || MaxPositions <= 0)
            throw new ArgumentException($"TransformerEncoderConfig: sizes must be positive ({this}).");
        if (Dim % Heads != 0) throw new ArgumentException($"TransformerEncoderConfig: width {Dim} is not divisible by {Heads} heads.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new ArgumentException($"TransformerEncoderConfig: pad id {PadTokenId} is outside the vocabulary of {VocabSize}.");
    }
}
