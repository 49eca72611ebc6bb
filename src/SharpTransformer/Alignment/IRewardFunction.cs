namespace SharpTransformer.Alignment;

/// <summary>
/// A reward for GRPO (TRL's <c>reward_funcs</c>): a score for one completion of a prompt, higher is better. Any C# code: a
/// checker of answers, a format rule, a classifier. An exception it throws stops training with a
/// <see cref="RewardFunctionException"/> that names the record, the prompt and the completion. <see cref="RewardFunction.From"/>
/// makes one from a delegate.
/// </summary>
public interface IRewardFunction
{
    /// <summary>The reward's name (in messages and the metrics log).</summary>
    string Name { get; }

    /// <summary>The score of one completion; must be finite.</summary>
    double Score(RewardInput input);
}
