using SharpTransformer.Tokenizers;

namespace SharpTransformer.Data;

/// <summary>
/// Aligns word-level labels (NER tags) with sub-word tokens, by Hugging Face's <c>word_ids</c> convention: the first
/// sub-token of each word carries the word's label, the other sub-tokens and every added token (CLS, SEP, padding)
/// get <see cref="IgnoreLabel"/>, which the loss skips.
/// </summary>
public static class WordLabelAlignment
{
    /// <summary>The label of tokens that do not count (PyTorch's and our cross-entropy <c>ignore_index</c>).</summary>
    public const int IgnoreLabel = -100;

    /// <summary>The word id of each sub-token, from the number of sub-tokens of each word: (2, 1, 3) → 0 0 1 2 2 2.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static int[] WordIdsFromCounts(ReadOnlySpan<int> subTokenCounts)
    {
        int total = 0;
        for (int w = 0; w < subTokenCounts.Length; w++)
        {
            if (subTokenCounts[w] < 0) throw new ArgumentOutOfRangeException(nameof(subTokenCounts), subTokenCounts[w], $"WordIdsFromCounts: word {w} has a negative sub-token count.");
            total += subTokenCounts[w];
        }
        var ids = new int[total];
        int i = 0;
        for (int w = 0; w < subTokenCounts.Length; w++)
            for (int c = 0; c < subTokenCounts[w]; c++) ids[i++] = w;
        return ids;
    }

    /// <summary>
    /// Token labels from word labels: <c>wordLabels[w]</c> on the first token of word w (a token whose word id differs
    /// from the previous token's), <see cref="IgnoreLabel"/> on later sub-tokens and on tokens with word id -1.
    /// </summary>
    /// <param name="wordIds">Word id of each token, -1 for added tokens (see <see cref="TokenEncoding.WordIds"/>).</param>
    /// <param name="wordLabels">Label id of each word.</param>
    /// <exception cref="ArgumentException">A word id outside the labelled words.</exception>
    public static int[] AlignLabels(ReadOnlySpan<int> wordIds, ReadOnlySpan<int> wordLabels)
    {
        var labels = new int[wordIds.Length];
        int previous = -1;
        for (int i = 0; i < wordIds.Length; i++)
        {
            int w = wordIds[i];
            if (w < -1 || w >= wordLabels.Length)
                throw new ArgumentException($"AlignLabels: token {i} has word id {w}, but only {wordLabels.Length} words are labelled.");
            labels[i] = w >= 0 && w != previous ? wordLabels[w] : IgnoreLabel;
            previous = w;
        }
        return labels;
    }

    /// <summary>
    /// Aligns labels from per-word sub-token counts and keeps at most <paramref name="maxTokens"/> tokens.
    /// </summary>
    /// <param name="subTokenCounts">Sub-tokens of each word (special tokens not included).</param>
    /// <param name="wordLabels">Label id of each word.</param>
    /// <param name="maxTokens">The most tokens to keep (leave room for special tokens the caller adds).</param>
    /// <param name="truncated">True when tokens were cut off.</param>
    /// <returns>The word id and label of each kept token.</returns>
    public static (int[] WordIds, int[] Labels) AlignFromCounts(ReadOnlySpan<int> subTokenCounts, ReadOnlySpan<int> wordLabels, int maxTokens, out bool truncated)
    {
        if (subTokenCounts.Length != wordLabels.Length)
            throw new ArgumentException($"AlignFromCounts: {subTokenCounts.Length} sub-token counts for {wordLabels.Length} word labels.");
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var wordIds = WordIdsFromCounts(subTokenCounts);
        truncated = wordIds.Length > maxTokens;
        if (truncated) wordIds = wordIds[..maxTokens];
        return (wordIds, AlignLabels(wordIds, wordLabels));
    }

    /// <summary>
    /// The word id of each token of <paramref name="encoding"/>, the encoding of <paramref name="words"/> joined by
    /// single spaces, found from the token offsets. This keeps the caller's word boundaries even when the tokenizer's
    /// pre-tokenizer splits a word further (BERT splits "1996-08-22" at the hyphens). Added tokens get -1.
    /// </summary>
    /// <exception cref="ArgumentException">The encoding has no offsets (they were not requested).</exception>
    public static int[] WordIdsFromOffsets(TokenEncoding encoding, IReadOnlyList<string> words)
    {
        var starts = new int[words.Count];
        int pos = 0;
        for (int w = 0; w < words.Count; w++) { starts[w] = pos; pos += words[w].Length + 1; }
        var ids = new int[encoding.Length];
        bool anyOffset = false;
        for (int i = 0; i < ids.Length; i++)
        {
            var span = encoding.Offsets[i];
            if (encoding.SequenceIds[i] != 0 || encoding.SpecialTokensMask[i] != 0) { ids[i] = -1; continue; }
            anyOffset |= span.End > span.Start;
            int w = Array.BinarySearch(starts, span.Start);
            ids[i] = w >= 0 ? w : ~w - 1;
        }
        if (!anyOffset && ids.Any(i => i >= 0))
            throw new ArgumentException("WordIdsFromOffsets: the encoding has no offsets; encode with ComputeOffsets = true.");
        return ids;
    }
}
