namespace SharpTransformer.Alignment;

/// <summary>One prompt of GRPO: its tokens (what generation starts from), its text, and the answer a reward may check.</summary>
/// <param name="Ids">The prompt's tokens (at least one, fewer than the model's context).</param>
/// <param name="Text">The prompt's text, for reward functions and messages.</param>
/// <param name="Answer">The expected answer (for <see cref="ExactAnswerReward"/>), or null.</param>
/// <param name="RecordIndex">The record it came from, for messages.</param>
public sealed record GrpoPrompt(int[] Ids, string Text, string? Answer = null, int RecordIndex = 0);
