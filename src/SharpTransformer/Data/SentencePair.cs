namespace SharpTransformer.Data;

/// <summary>A next-sentence-prediction example: [CLS] a [SEP] b [SEP].</summary>
/// <param name="InputIds">The ids.</param>
/// <param name="TokenTypeIds">0 on [CLS] a [SEP], 1 on b [SEP].</param>
/// <param name="NextSentenceLabel">0 when b follows a in its document, 1 when b is a random sentence.</param>
public sealed record SentencePair(int[] InputIds, int[] TokenTypeIds, int NextSentenceLabel);
