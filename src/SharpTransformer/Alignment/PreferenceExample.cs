namespace SharpTransformer.Alignment;

/// <summary>One tokenized preference pair: a prompt and the chosen and rejected responses to it (each with its end marker).</summary>
/// <param name="Prompt">The prompt's tokens.</param>
/// <param name="Chosen">The preferred response's tokens (at least one).</param>
/// <param name="Rejected">The dispreferred response's tokens (at least one).</param>
/// <param name="RecordIndex">The record it came from, for messages.</param>
public sealed record PreferenceExample(int[] Prompt, int[] Chosen, int[] Rejected, int RecordIndex = 0)
{
    /// <summary>Tokens the pair costs to score: the prompt twice and both responses.</summary>
    public int Length => 2 * Prompt.Length + Chosen.Length + Rejected.Length;
}
