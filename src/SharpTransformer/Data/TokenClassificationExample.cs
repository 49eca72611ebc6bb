namespace SharpTransformer.Data;

/// <summary>One tokenized sentence of a token-classification (NER) dataset.</summary>
/// <param name="Ids">Token ids, special tokens included.</param>
/// <param name="Labels">Label id per token: the word's tag on its first sub-token, <see cref="WordLabelAlignment.IgnoreLabel"/> elsewhere.</param>
/// <param name="WordIds">Word index per token, -1 for added tokens.</param>
/// <param name="WordCount">Number of words of the sentence (all of them, also those cut off by truncation).</param>
/// <param name="Truncated">True when the sentence was longer than the maximum length and was cut.</param>
public sealed record TokenClassificationExample(int[] Ids, int[] Labels, int[] WordIds, int WordCount, bool Truncated);
