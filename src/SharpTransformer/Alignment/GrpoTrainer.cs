using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.Models;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Alignment;

/// <summary>
/// Group relative policy optimisation (DeepSeekMath; TRL's <c>GRPOTrainer</c>) through the library's one
/// <see cref="Training.Trainer"/>. For each generation batch it samples <see cref="GrpoOptions.GroupSize"/> completions of each of
/// <see cref="GrpoOptions.PromptsPerBatch"/> prompts with the KV-cached generator (temperature sampling, policy in evaluation
/// mode), scores them with the <see cref="IRewardFunction"/>, normalises the rewards within each group into advantages, keeps
/// the sampling policy's and the reference's log-probabilities, and then takes <see cref="GrpoOptions.UpdatesPerBatch"/>
/// optimizer steps on the clipped objective with the KL penalty (<see cref="GrpoLoss"/>). Each step reports <c>reward</c>,
/// <c>reward_std</c>, <c>kl</c>, <c>clip_ratio</c>, <c>completion_length</c> and <c>frac_reward_zero_std</c> to the trainer
/// (and so to <see cref="MetricsLog"/>). The run's length is <see cref="TrainerOptions.MaxSteps"/> optimizer steps.
/// </summary>
public sealed class GrpoTrainer
{
    private readonly CausalLanguageModel? _reference;
    private readonly Func<IReadOnlyList<int>, string> _decode;
    private Batch? _batch;
    private int _uses, _generations, _position = int.MaxValue;
    private int[] _order = [];
    private Random _shuffle = new(0);

    /// <summary>Creates the trainer (and its optimizer over the policy's trainable parameters).</summary>
    /// <param name="policy">The model trained (from an SFT checkpoint, typically).</param>
    /// <param name="reference">The frozen reference; null: a <see cref="ReferenceModels.FrozenCopy"/> of the policy now when <see cref="GrpoOptions.Beta"/> &gt; 0 (none is needed at 0).</param>
    /// <param name="reward">Scores each completion.</param>
    /// <param name="decode">A completion's tokens → its text, cut before the end marker (e.g. <c>InstructionEncoder.DecodeResponse</c>).</param>
    /// <param name="options">GRPO's settings (validated here).</param>
    /// <param name="training">The training loop's settings: <see cref="TrainerOptions.MaxSteps"/> is required, <see cref="TrainerOptions.GradientAccumulation"/> must be 1.</param>
    public GrpoTrainer(CausalLanguageModel policy, CausalLanguageModel? reference, IRewardFunction reward, Func<IReadOnlyList<int>, string> decode,
        GrpoOptions options, TrainerOptions training)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(reward);
        ArgumentNullException.ThrowIfNull(decode);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(training);
        options.Validate();
        if (training.MaxSteps is null) throw new ArgumentException("GrpoTrainer: TrainerOptions.MaxSteps (the optimizer steps of the run) is required.", nameof(training));
        if (training.GradientAccumulation != 1)
            throw new ArgumentException($"GrpoTrainer: each optimizer step trains on one generation batch; TrainerOptions.GradientAccumulation must be 1, got {training.GradientAccumulation} (raise GrpoOptions.PromptsPerBatch instead).", nameof(training));
        if (ReferenceEquals(policy, reference)) throw new ArgumentException("GrpoTrainer: the reference must not be the policy itself (pass null for a frozen copy).", nameof(reference));
        if (reference is not null && reference.VocabSize != policy.VocabSize)
            throw new ArgumentException($"GrpoTrainer: the reference's vocabulary ({reference.VocabSize}) differs from the policy's ({policy.VocabSize}).", nameof(reference));
        Policy = policy;
        Reward = reward;
        _decode = decode;
        Options = options;
        _reference = options.Beta > 0f ? reference ?? ReferenceModels.FrozenCopy(policy) : reference;
        _reference?.Eval();
        Trainer = new Trainer(policy, training);
    }

    /// <summary>The model trained.</summary>
    public CausalLanguageModel Policy { get; }
    /// <summary>The reward function.</summary>
    public IRewardFunction Reward { get; }
    /// <summary>GRPO's settings.</summary>
    public GrpoOptions Options { get; }
    /// <summary>The training loop (its callbacks, optimizer and step).</summary>
    public Trainer Trainer { get; }
    /// <summary>The training loop's callbacks (checkpoints, metrics log, progress).</summary>
    public List<ITrainerCallback> Callbacks => Trainer.Callbacks;

    /// <summary>
    /// Trains for <see cref="TrainerOptions.MaxSteps"/> steps on prompts drawn from <paramref name="prompts"/> in shuffled passes;
    /// with <paramref name="eval"/>, evaluates the mean greedy reward on the held-out prompts (<see cref="Evaluate"/>) every
    /// <see cref="TrainerOptions.EvalEvery"/> steps and at the end, the best being the highest.
    /// </summary>
    public TrainerResult Train(IReadOnlyList<GrpoPrompt> prompts, IReadOnlyList<GrpoPrompt>? eval = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("GrpoTrainer.Train: no prompts.", nameof(prompts));
        foreach (var p in prompts.Concat(eval ?? [])) CheckPrompt(p);
        if (eval is { Count: > 0 })
        {
            if (Trainer.Callbacks.OfType<EvaluationCallback>().Any())
                throw new InvalidOperationException("GrpoTrainer.Train: give the held-out prompts or an EvaluationCallback of your own, not both.");
            Trainer.Callbacks.Insert(0, new EvaluationCallback(() => Evaluate(eval), "reward", greaterIsBetter: true));
        }
        _shuffle = new Random(unchecked((int)Trainer.Options.Seed));
        _order = Enumerable.Range(0, prompts.Count).ToArray();
        _position = int.MaxValue;
        _batch = null;
        int perEpoch = Math.Max(1, (prompts.Count + Options.PromptsPerBatch - 1) / Options.PromptsPerBatch * Options.UpdatesPerBatch);
        return Trainer.Train(_ => Step(prompts), stepsPerEpoch: perEpoch, cancellation: cancellation);
    }

    /// <summary>
    /// The mean reward of one completion per prompt, greedy (or sampled with <paramref name="greedy"/> false), with the policy
    /// in evaluation mode: <c>reward</c> (for <see cref="ExactAnswerReward"/>, the exact-match accuracy).
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<GrpoPrompt> prompts, bool greedy = true, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("GrpoTrainer.Evaluate: no prompts.", nameof(prompts));
        foreach (var p in prompts) CheckPrompt(p);
        bool training = Policy.Training;
        Policy.Eval();
        try
        {
            double sum = 0;
            for (int s = 0; s < prompts.Count; s += batchSize)
            {
                var part = prompts.Skip(s).Take(batchSize).ToList();
                var outputs = new TextGenerator(Policy).GenerateBatch(part.Select(p => (IReadOnlyList<int>)p.Ids).ToList(), Generation(greedy, seed: 0));
                for (int i = 0; i < part.Count; i++) sum += Score(part[i], Cut(outputs[i]));
            }
            return new Dictionary<string, double> { ["reward"] = sum / prompts.Count };
        }
        finally { Policy.Train(training); }
    }

    // One optimizer step's loss: a new generation batch every UpdatesPerBatch steps.
    private (Tensor Loss, long Tokens) Step(IReadOnlyList<GrpoPrompt> prompts)
    {
        if (_batch is null || _uses == Options.UpdatesPerBatch)
        {
            _batch = Generate(NextPrompts(prompts));
            _uses = 0;
        }
        _uses++;
        var b = _batch;
        if (Options.DisableDropout) Policy.Eval();
        var per = SequenceLogProbs.PerToken(Policy, b.Rows);                                   // (G·P, T)
        float[] old = b.OldLogProbs ?? per.LogProbs.Detach().ToArray();
        var output = GrpoLoss.Compute(per.LogProbs, per.Mask, old, b.ReferenceLogProbs, b.Advantages, Options.Epsilon, Options.Beta, Options.Loss, Options.EpsilonHigh);
        foreach (var (name, value) in b.Metrics) Trainer.Report(name, value);
        Trainer.Report("kl", output.Kl);
        Trainer.Report("clip_ratio", output.ClipRatio);
        return (output.Loss, b.Tokens);
    }

    private List<GrpoPrompt> NextPrompts(IReadOnlyList<GrpoPrompt> prompts)
    {
        var chosen = new List<GrpoPrompt>(Options.PromptsPerBatch);
        while (chosen.Count < Options.PromptsPerBatch)
        {
            if (_position >= _order.Length)
            {
                _shuffle.Shuffle(_order);
                _position = 0;
            }
            chosen.Add(prompts[_order[_position++]]);
        }
        return chosen;
    }

    // Samples G completions per prompt, scores them, and keeps what every update of this batch needs.
    private Batch Generate(List<GrpoPrompt> prompts)
    {
        int g = Options.GroupSize;
        var rows = prompts.SelectMany(p => Enumerable.Repeat((IReadOnlyList<int>)p.Ids, g)).ToList();
        bool training = Policy.Training;
        Policy.Eval();
        int[][] outputs;
        try
        {
            ulong seed = Trainer.Options.Seed * 1_000_003UL + (ulong)_generations++ * (ulong)rows.Count;
            outputs = new TextGenerator(Policy).GenerateBatch(rows, Generation(greedy: false, seed));
        }
        finally { Policy.Train(training); }

        var pairs = new PromptCompletion[rows.Count];
        var rewards = new double[rows.Count];
        long tokens = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            var prompt = prompts[i / g];
            var completion = Cut(outputs[i]);
            pairs[i] = new PromptCompletion(prompt.Ids, completion);
            rewards[i] = Score(prompt, completion);
            tokens += prompt.Ids.Length + completion.Length;
        }
        var advantages = GrpoLoss.Advantages(rewards, g, scale: Options.ScaleRewards);

        float[]? old = null, reference = null;
        using (TensorScope.Begin())
        using (GradMode.NoGrad())
        {
            if (Options.UpdatesPerBatch > 1)
            {
                Policy.Eval();
                try { old = SequenceLogProbs.PerToken(Policy, pairs).LogProbs.ToArray(); }
                finally { Policy.Train(training); }
            }
            if (Options.Beta > 0f) reference = SequenceLogProbs.PerToken(_reference!, pairs).LogProbs.ToArray();
        }

        double mean = rewards.Average(), stdSum = 0;
        int zeroStd = 0;
        for (int s = 0; s < rewards.Length; s += g)
        {
            var group = rewards.AsSpan(s, g).ToArray();
            double m = group.Average();
            double std = Math.Sqrt(group.Sum(r => (r - m) * (r - m)) / (g - 1));
            stdSum += std;
            if (std == 0) zeroStd++;
        }
        var metrics = new Dictionary<string, double>
        {
            ["reward"] = mean,
            ["reward_std"] = stdSum / prompts.Count,
            ["frac_reward_zero_std"] = (double)zeroStd / prompts.Count,
            ["completion_length"] = pairs.Average(p => (double)p.Completion.Count),
        };
        return new Batch(pairs, advantages, old, reference, metrics, tokens);
    }

    private GenerationOptions Generation(bool greedy, ulong seed) => new(
        MaxNewTokens: Options.MaxCompletionLength, Greedy: greedy, Temperature: Options.Temperature, TopK: Options.TopK, TopP: Options.TopP,
        Seed: seed, StopTokens: Options.EndIds is { Count: 1 } end ? end : null);

    // The tokens of a completion through the first end marker (those after it carry no loss).
    private int[] Cut(int[] generated)
    {
        if (Options.EndIds is not { } end) return generated;
        for (int i = 0; i + end.Count <= generated.Length; i++)
        {
            int k = 0;
            while (k < end.Count && generated[i + k] == end[k]) k++;
            if (k == end.Count) return generated[..(i + end.Count)];
        }
        return generated;
    }

    private double Score(GrpoPrompt prompt, int[] completion)
    {
        string text;
        try { text = _decode(completion); }
        catch (Exception e) { throw new InvalidOperationException($"GRPO: decoding a completion of record {prompt.RecordIndex} failed: {e.Message}", e); }
        double r;
        try { r = Reward.Score(new RewardInput(prompt, text, completion)); }
        catch (Exception e)
        {
            throw new RewardFunctionException(Reward.Name, prompt.RecordIndex,
                $"GRPO: the reward function '{Reward.Name}' threw on record {prompt.RecordIndex} (prompt {Quote(prompt.Text)}, completion {Quote(text)}): {e.GetType().Name}: {e.Message}", e);
        }
        if (!double.IsFinite(r))
            throw new RewardFunctionException(Reward.Name, prompt.RecordIndex,
                $"GRPO: the reward function '{Reward.Name}' returned {r} on record {prompt.RecordIndex} (prompt {Quote(prompt.Text)}, completion {Quote(text)}); rewards must be finite.");
        return r;
    }

    private void CheckPrompt(GrpoPrompt p)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (p.Ids is not { Length: > 0 }) throw new ArgumentException($"GrpoTrainer: the prompt of record {p.RecordIndex} has no tokens.");
        if (p.Ids.Length >= Policy.ContextLength)
            throw new ArgumentException($"GrpoTrainer: the prompt of record {p.RecordIndex} has {p.Ids.Length} tokens, leaving no room for a completion in the model's context of {Policy.ContextLength}.");
    }

    private static string Quote(string s)
    {
        s = s.ReplaceLineEndings("\\n");
        return "\"" + (s.Length > 80 ? s[..77] + "..." : s) + "\"";
    }

    // One generation batch: the completions (G per prompt, consecutive), their advantages, and the fixed log-probabilities.
    private sealed record Batch(PromptCompletion[] Rows, float[] Advantages, float[]? OldLogProbs, float[]? ReferenceLogProbs,
        IReadOnlyDictionary<string, double> Metrics, long Tokens);
}
