namespace SharpTransformer.Tokenizers;

/// <summary>Which end of a sequence padding is added to, or truncation removes tokens from.</summary>
public enum Side
{
    /// <summary>The end of the sequence (the default for both padding and truncation).</summary>
    Right,
    /// <summary>The start of the sequence (decoder-only models usually pad on the left for batched generation).</summary>
    Left,
}
