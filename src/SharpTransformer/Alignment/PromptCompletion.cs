namespace SharpTransformer.Alignment;

/// <summary>A prompt and one completion of it, as token ids; the completion is what a preference or policy loss scores.</summary>
/// <param name="Prompt">The prompt's tokens (at least one: the first completion token is predicted from them).</param>
/// <param name="Completion">The completion's tokens (at least one).</param>
public readonly record struct PromptCompletion(IReadOnlyList<int> Prompt, IReadOnlyList<int> Completion);
