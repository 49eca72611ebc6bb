namespace SharpTransformer.Tokenizers;

/// <summary>
/// How to encode: special tokens, truncation and padding. Lengths count every token, special tokens included,
/// as in Hugging Face tokenizers. The defaults add the model's special tokens and neither truncate nor pad.
/// </summary>
public sealed record EncodeOptions
{
    /// <summary>The defaults: add special tokens, no truncation, no padding.</summary>
    public static EncodeOptions Default { get; } = new();

    /// <summary>Adds the model's special tokens around the text (BERT: <c>[CLS] a [SEP]</c>, <c>[CLS] a [SEP] b [SEP]</c>; GPT-2: none).</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Puts the BOS token first (for example <c>&lt;|endoftext|&gt;</c> before a GPT-2 document); counts toward <see cref="MaxLength"/>.</summary>
    public bool PrependBos { get; init; }

    /// <summary>Puts the EOS token last (for example to mark the end of a GPT-2 training document); counts toward <see cref="MaxLength"/>.</summary>
    public bool AppendEos { get; init; }

    /// <summary>
    /// When set, special tokens written in the text (for example <c>&lt;|endoftext|&gt;</c>) are encoded as their special ids.
    /// By default they are ordinary text, so user input cannot inject control tokens.
    /// </summary>
    public bool AllowSpecialTokensInText { get; init; }

    /// <summary>Maximum length of an encoding, special tokens included; null for no limit. Needed by truncation and by <see cref="PaddingStrategy.MaxLength"/>.</summary>
    public int? MaxLength { get; init; }

    /// <summary>What to shorten when an encoding is longer than <see cref="MaxLength"/>. <see cref="TruncationStrategy.LongestFirst"/> when a max length is set.</summary>
    public TruncationStrategy Truncation { get; init; } = TruncationStrategy.LongestFirst;

    /// <summary>Which end truncation removes tokens from.</summary>
    public Side TruncationSide { get; init; } = Side.Right;

    /// <summary>How to pad.</summary>
    public PaddingStrategy Padding { get; init; } = PaddingStrategy.None;

    /// <summary>Which end padding goes to.</summary>
    public Side PaddingSide { get; init; } = Side.Right;

    /// <summary>When set, padded lengths are rounded up to a multiple of this (for example 8 for tensor cores).</summary>
    public int? PadToMultipleOf { get; init; }

    /// <summary>Also fill <see cref="TokenEncoding.Offsets"/> and <see cref="TokenEncoding.WordIds"/> (costs a little time; on by default).</summary>
    public bool ComputeOffsets { get; init; } = true;
}
