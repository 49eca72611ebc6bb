namespace SharpTransformer.Pipelines;

/// <summary>A class and its probability, as Hugging Face's text-classification pipeline returns them (<c>label</c>, <c>score</c>).</summary>
/// <param name="Label">The class name (config.json's <c>id2label</c>, or the labels a <c>sharpt classify</c> run saw).</param>
/// <param name="Score">Its softmax probability (sigmoid for a single-logit model).</param>
public sealed record LabelScore(string Label, float Score);
