namespace SharpTransformer.Evaluation;

/// <summary>A labelled span of a tag sequence: tokens [Start, End) of the given type.</summary>
/// <param name="Type">The entity type (PER, LOC …; <c>_</c> for a tag without a type).</param>
/// <param name="Start">Index of the first token.</param>
/// <param name="End">Index one past the last token.</param>
public readonly record struct Entity(string Type, int Start, int End);
