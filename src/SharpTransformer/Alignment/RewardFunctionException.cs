namespace SharpTransformer.Alignment;

/// <summary>A reward function threw (or returned a value that is not finite) during GRPO; the message names the record, the prompt and the completion.</summary>
public sealed class RewardFunctionException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public RewardFunctionException(string rewardName, int recordIndex, string message, Exception? inner = null) : base(message, inner)
    {
        RewardName = rewardName;
        RecordIndex = recordIndex;
    }

    /// <summary>The reward function's name.</summary>
    public string RewardName { get; }
    /// <summary>The record of the prompt scored.</summary>
    public int RecordIndex { get; }
}
