namespace SharpTransformer.Data;

/// <summary>One example of a text (or text-pair) classification dataset.</summary>
/// <param name="Text">The text (the first text of a pair).</param>
/// <param name="TextPair">The second text of a pair, or null.</param>
/// <param name="Label">The label id in the dataset's <see cref="LabelSet"/>.</param>
/// <param name="FileName">The file it was read from.</param>
/// <param name="LineNumber">The 1-based line it starts on.</param>
public sealed record TextClassificationExample(string Text, string? TextPair, int Label, string FileName, int LineNumber);
