namespace SharpTransformer.Tokenizers;

/// <summary>How <see cref="ITokenizer.EncodeBatch(IReadOnlyList{string}, EncodeOptions?)"/> pads sequences.</summary>
public enum PaddingStrategy
{
    /// <summary>No padding: sequences keep their own lengths.</summary>
    None,
    /// <summary>Pad every sequence of the batch to the longest one.</summary>
    Longest,
    /// <summary>Pad every sequence to <see cref="EncodeOptions.MaxLength"/>.</summary>
    MaxLength,
}
