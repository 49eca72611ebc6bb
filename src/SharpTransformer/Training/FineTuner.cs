using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Epoch-based supervised training (the loop of Hugging Face's <c>Trainer</c>): shuffled batches, AdamW with a separate
/// learning rate for the new head, warm-up and decay to the end of the run (by steps or wall time), gradient clipping,
/// evaluation at each epoch end (and every <see cref="FineTuneOptions.EvaluateEvery"/> steps), best-weights keeping and
/// a wall-clock budget. The task supplies the batch loss and the metric (higher is better).
/// </summary>
/// <typeparam name="TExample">One training example.</typeparam>
public sealed class FineTuner<TExample>
{
    private readonly Module _model;
    private readonly List<Tensor> _head;
    private readonly Func<IReadOnlyList<TExample>, Tensor> _loss;

    /// <summary>Creates the loop.</summary>
    /// <param name="model">The whole model (body and head).</param>
    /// <param name="headParameters">Parameters of the new head, trained at <see cref="FineTuneOptions.HeadLearningRate"/>.</param>
    /// <param name="loss">Batch → scalar loss (in training mode, inside a tensor scope).</param>
    /// <param name="options">Options.</param>
    public FineTuner(Module model, IEnumerable<Tensor> headParameters, Func<IReadOnlyList<TExample>, Tensor> loss, FineTuneOptions options)
    {
        options.Validate();
        _model = model;
        _head = headParameters.ToList();
        _loss = loss;
        Options = options;
        var headSet = new HashSet<Tensor>(_head, ReferenceEqualityComparer.Instance);
        var body = model.Parameters().Where(p => !headSet.Contains(p)).ToList();
        float headScale = (options.HeadLearningRate ?? options.LearningRate) / options.LearningRate;
        Optimizer = new AdamW([new ParameterGroup(body), new ParameterGroup(_head, headScale)],
            new AdamWOptions(options.LearningRate, WeightDecay: options.WeightDecay));
    }

    /// <summary>The options.</summary>
    public FineTuneOptions Options { get; }
    /// <summary>The optimizer (body group first, then the head group).</summary>
    public AdamW Optimizer { get; }
    /// <summary>
    /// Length of an example (tokens): when set, each epoch's shuffled order is cut into pools of 50 batches whose examples
    /// are sorted by length, and the batches are then shuffled, so a batch pads little (dynamic padding).
    /// </summary>
    public Func<TExample, int>? LengthOf { get; set; }

    /// <summary>Called after each evaluation that beats the best so far, with (step, metric): save a checkpoint here.</summary>
    public Action<int, double>? OnBest { get; set; }

    /// <summary>Trains on <paramref name="train"/>; <paramref name="evaluate"/> (may be null) returns the metric to maximise.</summary>
    public FineTuneResult Train(IReadOnlyList<TExample> train, Func<double>? evaluate, IProgress<FineTuneProgress>? progress = null,
        CancellationToken cancellation = default)
    {
        if (train.Count == 0) throw new ArgumentException("FineTuner.Train: the training set is empty.", nameof(train));
        var o = Options;
        var sw = Stopwatch.StartNew();
        int perEpoch = (train.Count + o.BatchSize - 1) / o.BatchSize;
        int total = perEpoch * o.Epochs;
        var rng = new Random(o.Seed);
        var order = Enumerable.Range(0, train.Count).ToArray();
        var evals = new List<(int, double)>();
        double best = double.NaN;
        int bestStep = 0, step = 0, epoch = 0;
        Dictionary<string, float[]>? bestWeights = null;
        bool byTime = false;
        float lossSum = 0f; int lossCount = 0;
        _model.Train();

        double Fraction() => Math.Min(1.0, Math.Max((double)step / total, o.MaxTime is { } m ? sw.Elapsed.TotalSeconds / m.TotalSeconds : 0));
        bool OutOfTime() => o.MaxTime is { } m && sw.Elapsed >= m;

        void Evaluate()
        {
            if (evaluate is null || (evals.Count > 0 && evals[^1].Item1 == step)) return;
            _model.Eval();
            double metric;
            using (GradMode.NoGrad()) metric = evaluate();
            _model.Train();
            evals.Add((step, metric));
            bool improved = double.IsNaN(best) || metric > best;
            if (improved)
            {
                best = metric; bestStep = step;
                if (o.RestoreBest) bestWeights = _model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
                OnBest?.Invoke(step, metric);
            }
            progress?.Report(new FineTuneProgress(step, epoch, Fraction(), lossCount > 0 ? lossSum / lossCount : float.NaN, metric, best,
                Optimizer.LearningRate, sw.Elapsed));
            lossSum = 0f; lossCount = 0;
        }

        while (epoch < o.Epochs && !byTime && !cancellation.IsCancellationRequested)
        {
            epoch++;
            rng.Shuffle(order);
            if (LengthOf is not null) BucketByLength(order, train, rng);
            for (int start = 0; start < order.Length; start += o.BatchSize)
            {
                if (cancellation.IsCancellationRequested) break;
                if (OutOfTime()) { byTime = true; break; }
                var batch = new TExample[Math.Min(o.BatchSize, order.Length - start)];
                for (int i = 0; i < batch.Length; i++) batch[i] = train[order[start + i]];
                Optimizer.LearningRate = LearningRateAt(Fraction());
                Optimizer.ZeroGrad();
                using (var scope = TensorScope.Begin())
                {
                    var loss = _loss(batch);
                    float lv = loss.Item();
                    if (!float.IsFinite(lv))
                        throw new ArithmeticException($"Fine-tuning stopped at step {step} (epoch {epoch}): the loss is {lv}. No update was applied. Lower the learning rate or check the data.");
                    loss.Backward();
                    lossSum += lv; lossCount++;
                }
                if (o.MaxGradNorm > 0f) GradientClipping.ClipGradNorm(_model.Parameters(), o.MaxGradNorm);
                Optimizer.Step();
                step++;
                if (o.EvaluateEvery > 0 && step % o.EvaluateEvery == 0 && start + o.BatchSize < order.Length) Evaluate();
                else if (lossCount >= 50)
                {
                    progress?.Report(new FineTuneProgress(step, epoch, Fraction(), lossSum / lossCount, null, double.IsNaN(best) ? null : best,
                        Optimizer.LearningRate, sw.Elapsed));
                    lossSum = 0f; lossCount = 0;
                }
            }
            Evaluate();
        }
        if (o.RestoreBest && bestWeights is not null)
        {
            var state = _model.StateDict();
            using var _ = TensorScope.Suspend();
            foreach (var (name, values) in bestWeights) state[name].CopyFrom(values);
        }
        return new FineTuneResult(step, epoch, best, bestStep, evals, byTime, sw.Elapsed);
    }

    private void BucketByLength(int[] order, IReadOnlyList<TExample> train, Random rng)
    {
        int b = Options.BatchSize, pool = 50 * b;
        var keys = order.Select(i => LengthOf!(train[i])).ToArray();
        for (int s = 0; s < order.Length; s += pool)
        {
            int n = Math.Min(pool, order.Length - s);
            Array.Sort(keys, order, s, n);
        }
        // Shuffle the full batches only: a short last batch must stay last, or every batch after it would be cut
        // across two sorted batches by the training loop, which slices the order into runs of BatchSize.
        var batches = Enumerable.Range(0, (order.Length + b - 1) / b).ToArray();
        rng.Shuffle(batches.AsSpan(0, order.Length / b));
        var copy = (int[])order.Clone();
        int k = 0;
        foreach (var bi in batches)
            for (int i = bi * b; i < Math.Min(order.Length, bi * b + b); i++) order[k++] = copy[i];
    }

    private float LearningRateAt(double fraction)
    {
        var o = Options;
        double warm = o.WarmupFraction;
        if (warm > 0 && fraction < warm) return (float)(o.LearningRate * Math.Max(fraction / warm, 0.01));
        double r = warm >= 1 ? 1 : (fraction - warm) / (1 - warm);
        double c = o.Decay switch
        {
            DecayKind.Constant => 1,
            DecayKind.Cosine => 0.5 * (1 + Math.Cos(Math.PI * r)),
            _ => 1 - r,
        };
        return (float)(o.LearningRate * Math.Max(c, 0.0));
    }
}
