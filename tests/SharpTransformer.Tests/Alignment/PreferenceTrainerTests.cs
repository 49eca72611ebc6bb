using System.Text.Json;
using SharpTransformer.Alignment;
using SharpTransformer.Generation;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Alignment;

/// <summary>DpoTrainer and GrpoTrainer on a tiny GPT-2: they learn, log their metrics, and report bad input clearly.</summary>
public sealed class PreferenceTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-pref-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // Prompts of 1-3 tokens; the chosen answer repeats the first prompt token, the rejected one is another token.
    private static List<PreferenceExample> Pairs(int n, int seed)
    {
        var rng = new Random(seed);
        var list = new List<PreferenceExample>();
        for (int i = 0; i < n; i++)
        {
            var prompt = Enumerable.Range(0, 1 + rng.Next(3)).Select(_ => 1 + rng.Next(5)).ToArray();
            int wrong = 6 + rng.Next(5);
            list.Add(new PreferenceExample(prompt, [prompt[0], prompt[0], 11], [wrong, prompt[0], 11], i));
        }
        return list;
    }

    [Fact]
    public void DpoRaisesPreferenceAccuracyOnItsTrainingPairsAndLogsTheRewards()
    {
        var model = AlignmentGradientTests.TinyModel();
        var train = Pairs(16, 1);
        var trainer = new DpoTrainer(model, null, new DpoOptions { Beta = 0.1f },
            new TrainerOptions { MaxSteps = 25, Epochs = 100, BatchSize = 8, LearningRate = 1e-2f, WeightDecay = 0f });
        trainer.Callbacks.Add(new MetricsLog(_dir));
        var before = trainer.Evaluate(train);
        Assert.Equal(Math.Log(2), before["loss"], 5);            // policy = reference: every implicit reward is 0
        Assert.Equal(0.5, before["rewards/accuracies"]);         // every pair a tie
        trainer.Train(train);
        var after = trainer.Evaluate(train);
        Assert.True(after["rewards/accuracies"] >= 0.95, $"preference accuracy after DPO {after["rewards/accuracies"]}");
        Assert.True(after["rewards/margins"] > 0 && after["loss"] < 0.5, $"margin {after["rewards/margins"]}, loss {after["loss"]}");

        var steps = File.ReadAllLines(Path.Combine(_dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("type").GetString() == "step").ToList();
        Assert.Equal(25, steps.Count);
        foreach (var name in new[] { "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies", "logps/chosen", "logps/rejected" })
            Assert.True(steps[^1].TryGetProperty(name, out _), $"metrics.jsonl lacks {name}");
        Assert.True(steps[^1].GetProperty("rewards/accuracies").GetDouble() > steps[0].GetProperty("rewards/accuracies").GetDouble());
    }

    [Fact]
    public void AReferenceModelAndPrecomputedReferenceLogProbsTrainAlike()
    {
        var train = Pairs(8, 2);
        var options = new TrainerOptions { MaxSteps = 4, Epochs = 10, BatchSize = 4, LearningRate = 1e-2f, WeightDecay = 0f };
        var a = AlignmentGradientTests.TinyModel();
        var b = AlignmentGradientTests.TinyModel();
        var withModel = new DpoTrainer(a, ReferenceModels.FrozenCopy(a), new DpoOptions(), options);
        var precomputed = new DpoTrainer(b, null, new DpoOptions(), options);
        Assert.False(withModel.UsesPrecomputedReference);
        Assert.True(precomputed.UsesPrecomputedReference);
        var ra = withModel.Train(train);
        var rb = precomputed.Train(train);
        Assert.Equal(ra.FinalLoss, rb.FinalLoss, 4);
        Assert.NotEqual((float)Math.Log(2), ra.FinalLoss, 3);
        // The cache holds the starting policy's values: asking again after training returns them unchanged.
        var cached = precomputed.PrecomputeReference(train);
        var fresh = new DpoTrainer(AlignmentGradientTests.TinyModel(), null, new DpoOptions(), options).PrecomputeReference(train);
        for (int i = 0; i < train.Count; i++) Assert.Equal(fresh[i], cached[i]);
    }

    [Fact]
    public void DpoIpoAndLabelSmoothingTrainAndBadOptionsAreNamed()
    {
        var train = Pairs(8, 3);
        var options = new TrainerOptions { MaxSteps = 3, Epochs = 10, BatchSize = 8, LearningRate = 1e-2f };
        var ipo = new DpoTrainer(AlignmentGradientTests.TinyModel(), null, new DpoOptions { Loss = DpoLossKind.Ipo, Beta = 0.5f }, options);
        Assert.Equal(1.0, ipo.Evaluate(train)["loss"], 4);       // (0 − 1/(2·0.5))² at the start
        Assert.True(float.IsFinite(ipo.Train(train).FinalLoss));
        Assert.Contains("LabelSmoothing", Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DpoTrainer(AlignmentGradientTests.TinyModel(), null, new DpoOptions { LabelSmoothing = 0.5f }, options)).Message);
        Assert.Contains("IPO", Assert.Throws<ArgumentException>(() =>
            new DpoTrainer(AlignmentGradientTests.TinyModel(), null, new DpoOptions { Loss = DpoLossKind.Ipo, LabelSmoothing = 0.1f }, options)).Message);
        var m = AlignmentGradientTests.TinyModel();
        Assert.Contains("must not be the policy", Assert.Throws<ArgumentException>(() => new DpoTrainer(m, m, new DpoOptions(), options)).Message);
        Assert.Contains("policyRejected is", Assert.Throws<ArgumentException>(() => DpoLoss.Compute(
            SharpTransformer.Tensors.Tensor.FromArray([1f, 2f]), SharpTransformer.Tensors.Tensor.FromArray([1f, 2f, 3f]),
            SharpTransformer.Tensors.Tensor.FromArray([1f, 2f]), SharpTransformer.Tensors.Tensor.FromArray([1f, 2f]), 0.1f)).Message);
    }

    // Completions of up to 4 tokens after one-token prompts; the reward is the share of completion tokens equal to 3.
    private static readonly IRewardFunction FavoursThree = RewardFunction.From("threes", r => r.CompletionIds.Count(t => t == 3) / (double)r.CompletionIds.Count);

    private static GrpoTrainer Grpo(IRewardFunction reward, int steps, GrpoOptions? options = null) =>
        new(AlignmentGradientTests.TinyModel(), null, reward, ids => string.Join(" ", ids),
            options ?? new GrpoOptions { GroupSize = 4, PromptsPerBatch = 4, MaxCompletionLength = 4, UpdatesPerBatch = 2, Beta = 0.04f },
            new TrainerOptions { MaxSteps = steps, LearningRate = 2e-2f, WeightDecay = 0f });

    private static readonly GrpoPrompt[] Prompts = [.. Enumerable.Range(1, 8).Select(i => new GrpoPrompt([i], $"p{i}", null, i - 1))];

    [Fact]
    public void GrpoRaisesTheMeanOfARewardThatFavoursAToken()
    {
        var trainer = Grpo(FavoursThree, 30);
        trainer.Callbacks.Add(new MetricsLog(_dir));
        var many = Enumerable.Repeat(Prompts, 4).SelectMany(p => p).ToList();
        double before = trainer.Evaluate(many, greedy: false)["reward"];
        trainer.Train(Prompts);
        double after = trainer.Evaluate(many, greedy: false)["reward"];
        Assert.True(after > before + 0.3, $"mean reward {before:F3} → {after:F3}");

        var steps = File.ReadAllLines(Path.Combine(_dir, MetricsLog.FileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(30, steps.Count);
        foreach (var name in new[] { "reward", "reward_std", "kl", "clip_ratio", "completion_length", "frac_reward_zero_std" })
            Assert.True(steps[^1].TryGetProperty(name, out _), $"metrics.jsonl lacks {name}");
        Assert.InRange(steps[0].GetProperty("kl").GetDouble(), 0, 1e-5);    // the first batch: policy = reference
        Assert.Equal(0.0, steps[0].GetProperty("clip_ratio").GetDouble());  // and = the sampling policy
        Assert.Contains(steps.Skip(1), s => s.GetProperty("kl").GetDouble() > 0);
        // Two updates per generation batch: the second reuses the first's samples and rewards.
        Assert.Equal(steps[0].GetProperty("reward").GetDouble(), steps[1].GetProperty("reward").GetDouble());
    }

    [Fact]
    public void ARewardFunctionThatThrowsNamesTheRecordPromptAndException()
    {
        var reward = RewardFunction.From("picky", r => r.Prompt.RecordIndex == 5 ? throw new FormatException("no number in the answer") : 0.0);
        var trainer = Grpo(reward, 8);
        var e = Assert.Throws<RewardFunctionException>(() => trainer.Train(Prompts));
        Assert.Contains("reward function 'picky' threw on record 5", e.Message);
        Assert.Contains("prompt \"p6\"", e.Message);
        Assert.Contains("FormatException: no number in the answer", e.Message);
        Assert.Equal(5, e.RecordIndex);
        Assert.IsType<FormatException>(e.InnerException);

        var nan = Grpo(RewardFunction.From("nan", _ => double.NaN), 1);
        Assert.Contains("returned NaN on record", Assert.Throws<RewardFunctionException>(() => nan.Train(Prompts)).Message);
        var exact = Grpo(RewardFunction.ExactAnswer, 1);
        Assert.Contains("record 0 has none", Assert.Throws<RewardFunctionException>(() => exact.Evaluate([Prompts[0]])).Message);
    }

    [Fact]
    public void ExactAnswerRewardComparesTheTrimmedCompletion()
    {
        var p = new GrpoPrompt([1], "add 2 and 3", " 5 ", 0);
        Assert.Equal(1.0, RewardFunction.ExactAnswer.Score(new RewardInput(p, "5\n", [1])));
        Assert.Equal(0.0, RewardFunction.ExactAnswer.Score(new RewardInput(p, "55", [1])));
    }

    [Fact]
    public void GrpoCutsCompletionsAtTheEndMarkerAndChecksItsSettings()
    {
        // End marker 3: rewards see the completion up to it, the loss ignores what follows.
        var seen = new List<int>();
        var reward = RewardFunction.From("len", r => { lock (seen) seen.Add(r.CompletionIds.Count); return r.CompletionIds.Count; });
        var trainer = Grpo(reward, 2, new GrpoOptions { GroupSize = 4, PromptsPerBatch = 2, MaxCompletionLength = 8, EndIds = [3, 3], Temperature = 2f });
        trainer.Train(Prompts);
        Assert.NotEmpty(seen);
        Assert.All(seen, n => Assert.InRange(n, 1, 8));
        var options = new TrainerOptions { MaxSteps = 1 };
        var m = AlignmentGradientTests.TinyModel();
        Assert.Contains("GroupSize", Assert.Throws<ArgumentOutOfRangeException>(() => new GrpoTrainer(m, null, FavoursThree, _ => "", new GrpoOptions { GroupSize = 1 }, options)).Message);
        Assert.Contains("GradientAccumulation must be 1", Assert.Throws<ArgumentException>(() =>
            new GrpoTrainer(m, null, FavoursThree, _ => "", new GrpoOptions(), options with { GradientAccumulation = 2 })).Message);
        Assert.Contains("MaxSteps", Assert.Throws<ArgumentException>(() => new GrpoTrainer(m, null, FavoursThree, _ => "", new GrpoOptions(), new TrainerOptions())).Message);
        var t = new GrpoTrainer(m, null, FavoursThree, _ => "", new GrpoOptions(), options);
        Assert.Contains("record 9 has 16 tokens", Assert.Throws<ArgumentException>(() => t.Train([new GrpoPrompt(new int[16], "long", null, 9)])).Message);
    }
}
