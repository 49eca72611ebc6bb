namespace SharpTransformer.Alignment;

/// <summary>Makes reward functions from delegates, and names the built-in ones.</summary>
public static class RewardFunction
{
    /// <summary>A reward function that calls <paramref name="score"/>.</summary>
    public static IRewardFunction From(string name, Func<RewardInput, double> score)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(score);
        return new DelegateReward(name, score);
    }

    /// <summary>The built-in exact-answer reward (<see cref="ExactAnswerReward"/>).</summary>
    public static IRewardFunction ExactAnswer { get; } = new ExactAnswerReward();

    private sealed class DelegateReward(string name, Func<RewardInput, double> score) : IRewardFunction
    {
        public string Name => name;
        public double Score(RewardInput input) => score(input);
    }
}
