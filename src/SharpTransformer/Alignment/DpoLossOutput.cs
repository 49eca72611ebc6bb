using SharpTransformer.Tensors;

namespace SharpTransformer.Alignment;

/// <summary>
/// A DPO loss and the implicit rewards behind it (TRL's <c>rewards/chosen</c>, <c>rewards/rejected</c>, <c>rewards/margins</c>,
/// <c>rewards/accuracies</c>): the reward of a completion is β·(log π(y|x) − log π_ref(y|x)).
/// </summary>
/// <param name="Loss">The mean loss over the pairs: a differentiable scalar.</param>
/// <param name="ChosenRewards">β·(πc − rc) of each pair.</param>
/// <param name="RejectedRewards">β·(πr − rr) of each pair.</param>
public sealed record DpoLossOutput(Tensor Loss, float[] ChosenRewards, float[] RejectedRewards)
{
    /// <summary>Mean reward of the chosen completions (rewards/chosen).</summary>
    public double ChosenReward => ChosenRewards.Average(x => (double)x);
    /// <summary>Mean reward of the rejected completions (rewards/rejected).</summary>
    public double RejectedReward => RejectedRewards.Average(x => (double)x);
    /// <summary>Mean of chosen minus rejected reward (rewards/margins).</summary>
    public double Margin => ChosenRewards.Zip(RejectedRewards).Average(p => (double)p.First - p.Second);
    /// <summary>
    /// Share of pairs whose chosen reward is above the rejected one (rewards/accuracies), a tie counting one half: at the start,
    /// when the policy is its reference and every reward is 0, it is 0.5 (TRL counts ties as 0, so its curve starts at 0).
    /// </summary>
    public double Accuracy => ChosenRewards.Zip(RejectedRewards).Average(p => p.First > p.Second ? 1.0 : p.First == p.Second ? 0.5 : 0.0);

    /// <summary>The four rewards metrics under TRL's names.</summary>
    public IReadOnlyDictionary<string, double> Metrics() => new Dictionary<string, double>
    {
        ["rewards/chosen"] = ChosenReward,
        ["rewards/rejected"] = RejectedReward,
        ["rewards/margins"] = Margin,
        ["rewards/accuracies"] = Accuracy,
    };
}
