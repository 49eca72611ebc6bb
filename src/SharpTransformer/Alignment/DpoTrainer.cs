using SharpTransformer.Autograd;
using SharpTransformer.Models;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Alignment;

/// <summary>
/// Direct preference optimisation (TRL's <c>DPOTrainer</c>) through the library's one <see cref="Training.Trainer"/>: each
/// batch of pairs is scored in one forward pass of the policy (chosen and rejected rows together), against the frozen
/// reference's log-probabilities, which come from a reference model per batch or, precomputed once, from a cache. Each step
/// reports <c>rewards/chosen</c>, <c>rewards/rejected</c>, <c>rewards/margins</c>, <c>rewards/accuracies</c>,
/// <c>logps/chosen</c> and <c>logps/rejected</c> to the trainer (and so to <see cref="MetricsLog"/>).
/// </summary>
public sealed class DpoTrainer
{
    private readonly CausalLanguageModel? _reference;
    private readonly Dictionary<PreferenceExample, (float Chosen, float Rejected)> _cache = new(ReferenceEqualityComparer.Instance);

    /// <summary>Creates the trainer (and its optimizer over the policy's trainable parameters).</summary>
    /// <param name="policy">The model trained (from an SFT checkpoint, typically).</param>
    /// <param name="reference">
    /// The frozen reference (a separate checkpoint, or <see cref="ReferenceModels.FrozenCopy"/> of the policy); null: the
    /// policy as it is now, whose log-probabilities are precomputed before the first step.
    /// </param>
    /// <param name="options">DPO's settings (validated here).</param>
    /// <param name="training">The training loop's settings; <see cref="TrainerOptions.BatchSize"/> counts pairs.</param>
    public DpoTrainer(CausalLanguageModel policy, CausalLanguageModel? reference, DpoOptions options, TrainerOptions training)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(training);
        options.Validate();
        if (ReferenceEquals(policy, reference))
            throw new ArgumentException("DpoTrainer: the reference must not be the policy itself (pass null to use the policy's starting log-probabilities, or ReferenceModels.FrozenCopy(policy)).", nameof(reference));
        if (reference is not null && reference.VocabSize != policy.VocabSize)
            throw new ArgumentException($"DpoTrainer: the reference's vocabulary ({reference.VocabSize}) differs from the policy's ({policy.VocabSize}).", nameof(reference));
        Policy = policy;
        _reference = reference;
        _reference?.Eval();
        Options = options;
        Trainer = new Trainer(policy, training);
    }

    /// <summary>The model trained.</summary>
    public CausalLanguageModel Policy { get; }
    /// <summary>DPO's settings.</summary>
    public DpoOptions Options { get; }
    /// <summary>The training loop (its callbacks, optimizer and step).</summary>
    public Trainer Trainer { get; }
    /// <summary>The training loop's callbacks (checkpoints, metrics log, progress).</summary>
    public List<ITrainerCallback> Callbacks => Trainer.Callbacks;
    /// <summary>True when reference log-probabilities come from the cache rather than a reference model per batch.</summary>
    public bool UsesPrecomputedReference => _reference is null || Options.PrecomputeReference;

    /// <summary>
    /// Trains on <paramref name="train"/>; with <paramref name="eval"/>, evaluates the held-out pairs (<see cref="Evaluate"/>)
    /// every <see cref="TrainerOptions.EvalEvery"/> steps and at the end, the best being the lowest evaluation loss.
    /// </summary>
    public TrainerResult Train(IReadOnlyList<PreferenceExample> train, IReadOnlyList<PreferenceExample>? eval = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("DpoTrainer.Train: no training pairs.", nameof(train));
        if (UsesPrecomputedReference)
        {
            PrecomputeReference(train);
            if (eval is not null) PrecomputeReference(eval);
        }
        if (eval is { Count: > 0 })
        {
            var evaluation = new EvaluationCallback(() => Evaluate(eval), "loss", greaterIsBetter: false);
            if (Trainer.Callbacks.OfType<EvaluationCallback>().Any())
                throw new InvalidOperationException("DpoTrainer.Train: give the held-out pairs or an EvaluationCallback of your own, not both.");
            Trainer.Callbacks.Insert(0, evaluation);
        }
        return Trainer.Train(train, batch =>
        {
            if (Options.DisableDropout) Policy.Eval();
            var output = Loss(batch);
            foreach (var (name, value) in output.Metrics) Trainer.Report(name, value);
            return output.Output.Loss;
        }, Options.GroupByLength ? e => e.Length : null, cancellation);
    }

    /// <summary>
    /// The reference log-probabilities of each pair (chosen, rejected), computed once in batches of
    /// <see cref="TrainerOptions.BatchSize"/> and cached (by example object) for the rest of the run.
    /// </summary>
    public (float Chosen, float Rejected)[] PrecomputeReference(IReadOnlyList<PreferenceExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var model = _reference ?? Policy;
        var missing = examples.Where(e => !_cache.ContainsKey(e)).Distinct(ReferenceEqualityComparer.Instance).Cast<PreferenceExample>().ToList();
        if (missing.Count > 0)
        {
            bool training = model.Training;
            model.Eval();
            try
            {
                int bs = Trainer.Options.BatchSize;
                for (int s = 0; s < missing.Count; s += bs)
                {
                    var part = missing.GetRange(s, Math.Min(bs, missing.Count - s));
                    var (c, r) = ScorePairs(model, part);
                    for (int i = 0; i < part.Count; i++) _cache[part[i]] = (c[i], r[i]);
                }
            }
            finally { model.Train(training); }
        }
        return examples.Select(e => _cache[e]).ToArray();
    }

    /// <summary>
    /// Scores held-out pairs without gradients (policy in evaluation mode): the mean loss (<c>loss</c>) and the rewards metrics
    /// under TRL's names; <c>rewards/accuracies</c> is the held-out preference accuracy.
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<PreferenceExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        if (examples.Count == 0) throw new ArgumentException("DpoTrainer.Evaluate: no pairs.", nameof(examples));
        if (UsesPrecomputedReference)
        {
            if (_reference is null && Trainer.Step > 0 && examples.Any(e => !_cache.ContainsKey(e)))
                throw new InvalidOperationException("DpoTrainer.Evaluate: these pairs have no precomputed reference log-probabilities and the policy has been trained since the start; pass them to Train as held-out pairs, call PrecomputeReference before training, or give a reference model.");
            PrecomputeReference(examples);
        }
        bool training = Policy.Training;
        Policy.Eval();
        try
        {
            using var _ = GradMode.NoGrad();
            var sums = new Dictionary<string, double>();
            int bs = Trainer.Options.BatchSize;
            for (int s = 0; s < examples.Count; s += bs)
            {
                using var scope = TensorScope.Begin();
                var part = Slice(examples, s, Math.Min(bs, examples.Count - s));
                var (output, metrics) = Loss(part);
                var weighted = new Dictionary<string, double>(metrics) { ["loss"] = output.Loss.Item() };
                foreach (var (k, v) in weighted) sums[k] = sums.GetValueOrDefault(k) + v * part.Length;
            }
            return sums.ToDictionary(kv => kv.Key, kv => kv.Value / examples.Count);
        }
        finally { Policy.Train(training); }
    }

    // The loss of one batch and its metrics.
    private (DpoLossOutput Output, IReadOnlyDictionary<string, double> Metrics) Loss(IReadOnlyList<PreferenceExample> batch)
    {
        int n = batch.Count;
        bool average = Options.Loss == DpoLossKind.Ipo;
        var logps = SequenceLogProbs.Sum(Policy, Rows(batch), average);                   // (2B): chosen rows, then rejected
        var chosen = logps.Narrow(0, 0, n);
        var rejected = logps.Narrow(0, n, n);
        float[] rc, rr;
        if (UsesPrecomputedReference)
        {
            var cached = batch.Select(e => _cache.TryGetValue(e, out var v) ? v
                : throw new InvalidOperationException($"DpoTrainer: no precomputed reference log-probabilities for the pair of record {e.RecordIndex}; call PrecomputeReference first.")).ToArray();
            rc = cached.Select(v => v.Chosen).ToArray();
            rr = cached.Select(v => v.Rejected).ToArray();
        }
        else (rc, rr) = ScorePairs(_reference!, batch);
        var backend = logps.Backend;
        var output = DpoLoss.Compute(chosen, rejected, Tensor.FromArray(rc).To(backend), Tensor.FromArray(rr).To(backend),
            Options.Beta, Options.Loss, Options.LabelSmoothing);
        var metrics = new Dictionary<string, double>(output.Metrics());
        using (GradMode.NoGrad())
        {
            var all = logps.Detach().ToArray();
            metrics["logps/chosen"] = all.Take(n).Average(x => (double)x);
            metrics["logps/rejected"] = all.Skip(n).Average(x => (double)x);
        }
        return (output, metrics);
    }

    // log-probabilities (summed, or averaged for IPO) of the chosen and rejected responses under `model`, without gradients.
    private (float[] Chosen, float[] Rejected) ScorePairs(CausalLanguageModel model, IReadOnlyList<PreferenceExample> batch)
    {
        using var scope = TensorScope.Begin();
        using var _ = GradMode.NoGrad();
        var all = SequenceLogProbs.Sum(model, Rows(batch), Options.Loss == DpoLossKind.Ipo).ToArray();
        return (all[..batch.Count], all[batch.Count..]);
    }

    private static PromptCompletion[] Rows(IReadOnlyList<PreferenceExample> batch)
    {
        var rows = new PromptCompletion[2 * batch.Count];
        for (int i = 0; i < batch.Count; i++)
        {
            rows[i] = new PromptCompletion(batch[i].Prompt, batch[i].Chosen);
            rows[batch.Count + i] = new PromptCompletion(batch[i].Prompt, batch[i].Rejected);
        }
        return rows;
    }

    private static PreferenceExample[] Slice(IReadOnlyList<PreferenceExample> list, int start, int count)
    {
        var a = new PreferenceExample[count];
        for (int i = 0; i < count; i++) a[i] = list[start + i];
        return a;
    }
}
