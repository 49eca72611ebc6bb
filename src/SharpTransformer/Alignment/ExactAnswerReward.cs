namespace SharpTransformer.Alignment;

/// <summary>
/// The built-in reward for tasks with one right answer: 1 when the completion (cut at the end marker, surrounding white space
/// trimmed) equals the record's answer (trimmed), else 0.
/// </summary>
public sealed class ExactAnswerReward : IRewardFunction
{
    /// <inheritdoc/>
    public string Name => "exact";

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The prompt's record has no answer.</exception>
    public double Score(RewardInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var answer = input.Prompt.Answer
            ?? throw new InvalidOperationException($"the exact-answer reward needs an answer, and record {input.Prompt.RecordIndex} has none");
        return string.Equals(input.Completion.Trim(), answer.Trim(), StringComparison.Ordinal) ? 1.0 : 0.0;
    }
}
