namespace SharpTransformer.Pipelines;

/// <summary>One candidate for a masked position, as Hugging Face's fill-mask pipeline returns it.</summary>
/// <param name="Score">Its softmax probability at that position.</param>
/// <param name="TokenId">The token id (<c>token</c>).</param>
/// <param name="Token">The token decoded alone (<c>token_str</c>).</param>
/// <param name="Sequence">The input with this token in place of the mask, decoded without special tokens (<c>sequence</c>).</param>
public sealed record MaskPrediction(float Score, int TokenId, string Token, string Sequence);
