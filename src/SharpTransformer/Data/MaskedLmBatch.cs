using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>A padded batch for masked-LM pretraining.</summary>
/// <param name="InputIds">Int32 (B, T) corrupted ids.</param>
/// <param name="AttentionMask">Int32 (B, T): 1 on tokens, 0 on padding.</param>
/// <param name="TokenTypeIds">Int32 (B, T) segment ids.</param>
/// <param name="Labels">Int32 (B, T): the original id where a token was selected, -100 elsewhere.</param>
/// <param name="NextSentenceLabels">Int32 (B): 0 when segment B follows segment A, 1 when it is random; null without pairs.</param>
public sealed record MaskedLmBatch(Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds, Tensor Labels, Tensor? NextSentenceLabels = null);
