namespace SharpTransformer.Alignment;

/// <summary>What a reward function scores: one sampled completion of a prompt.</summary>
/// <param name="Prompt">The prompt (with its record's answer, when the data has one).</param>
/// <param name="Completion">The completion's text, cut before the end marker.</param>
/// <param name="CompletionIds">The completion's tokens as sampled (through the end marker when it was produced).</param>
public sealed record RewardInput(GrpoPrompt Prompt, string Completion, IReadOnlyList<int> CompletionIds);
