namespace SharpTransformer.Tokenizers;

/// <summary>Which sequence of a pair loses tokens when an encoding is longer than <see cref="EncodeOptions.MaxLength"/>.</summary>
public enum TruncationStrategy
{
    /// <summary>Never truncate.</summary>
    None,
    /// <summary>Shorten the longer sequence first, as Hugging Face's <c>longest_first</c>.</summary>
    LongestFirst,
    /// <summary>Shorten only the first sequence.</summary>
    OnlyFirst,
    /// <summary>Shorten only the second sequence.</summary>
    OnlySecond,
}
