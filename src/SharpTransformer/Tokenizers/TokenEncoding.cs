namespace SharpTransformer.Tokenizers;

/// <summary>
/// One encoded sequence (or sentence pair): the ids and, aligned with them, everything a model or a token-classification
/// head needs. Every array has <see cref="Length"/> elements.
/// </summary>
public sealed class TokenEncoding
{
    internal TokenEncoding(int[] ids, int[] typeIds, int[] attentionMask, int[] specialTokensMask, TokenSpan[] offsets, int[] wordIds, int[] sequenceIds)
    {
        Ids = ids;
        TypeIds = typeIds;
        AttentionMask = attentionMask;
        SpecialTokensMask = specialTokensMask;
        Offsets = offsets;
        WordIds = wordIds;
        SequenceIds = sequenceIds;
    }

    /// <summary>Token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Segment (token type) ids: 0 for the first sequence, 1 for the second of a BERT pair; padding gets 0.</summary>
    public int[] TypeIds { get; }

    /// <summary>1 for real tokens (special tokens included), 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>1 for tokens the tokenizer added (special tokens and padding), 0 for tokens of the text.</summary>
    public int[] SpecialTokensMask { get; }

    /// <summary>
    /// For each token, the characters of its own input string it came from (of the first or the second text of a pair,
    /// see <see cref="SequenceIds"/>); added tokens get (0, 0). Empty spans when offsets were not requested.
    /// </summary>
    public TokenSpan[] Offsets { get; }

    /// <summary>
    /// For each token, the index of the pre-tokenized word it belongs to within its sequence, or -1 for added tokens,
    /// so word-level labels can be aligned to tokens. All -1 when offsets were not requested.
    /// </summary>
    public int[] WordIds { get; }

    /// <summary>For each token, 0 when it comes from the first text, 1 from the second, -1 when the tokenizer added it.</summary>
    public int[] SequenceIds { get; }

    /// <summary>Number of tokens, padding included.</summary>
    public int Length => Ids.Length;

    /// <inheritdoc />
    public override string ToString() => $"TokenEncoding[{Length}]: {string.Join(' ', Ids)}";
}
