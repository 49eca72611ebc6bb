namespace SharpTransformer.Pipelines;

/// <summary>The features a <see cref="FeatureExtractionPipeline"/> computed for one text.</summary>
/// <param name="Tokens">The final hidden state of every token, special tokens included (Hugging Face's output, [T][C]).</param>
/// <param name="Mean">The mean of <paramref name="Tokens"/> over the tokens (the usual sentence embedding, [C]).</param>
/// <param name="Pooled">The model's own pooler output (BERT, RoBERTa; [C]), or null when the model has no pooler.</param>
/// <param name="TokenIds">The token ids the features belong to.</param>
public sealed record TextFeatures(float[][] Tokens, float[] Mean, float[]? Pooled, int[] TokenIds);
