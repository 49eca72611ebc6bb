using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// The training loop of the library (Hugging Face's <c>Trainer</c>, nanoGPT's loop): AdamW with weight decay on matrices and an
/// optional separate learning rate for a new head, warm-up and decay (<see cref="TrainerOptions.LearningRateAt"/>), gradient
/// accumulation and clipping, a stop before any update on a non-finite loss, evaluation with best-model tracking, a time
/// budget, cancellation, and <see cref="Callbacks"/> for everything else (checkpoints, early stopping, progress, metrics log).
/// It trains either on a list of examples in shuffled epochs (<see cref="Train{TExample}"/>) or on batches sampled from a
/// generator for a number of steps (<see cref="Train(Func{Generator, ValueTuple{Tensor, long}}, int?, int?, CancellationToken)"/>).
/// Each micro-batch runs inside its own <see cref="TensorScope"/>, so its buffers go back to the pool after the backward pass.
/// </summary>
public sealed class Trainer
{
    private readonly List<Tensor> _trainable;

    /// <summary>Creates the trainer and its optimizer.</summary>
    /// <param name="model">The whole model. Parameters with <see cref="Tensor.RequiresGrad"/> false (frozen) are not optimised and get no optimizer state.</param>
    /// <param name="options">The settings (validated here).</param>
    /// <param name="headParameters">Parameters of a new head, trained at <see cref="TrainerOptions.HeadLearningRate"/>; they must belong to the model.</param>
    public Trainer(Module model, TrainerOptions options, IEnumerable<Tensor>? headParameters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        Options = options;
        var all = model.Parameters().ToList();
        var owned = new HashSet<Tensor>(all, ReferenceEqualityComparer.Instance);
        var head = (headParameters ?? []).ToList();
        foreach (var p in head)
            if (!owned.Contains(p)) throw new ArgumentException($"Trainer: head parameter {p.Name ?? p.ShapeString} is not a parameter of the model.", nameof(headParameters));
        // Clipping sums the gradients' squares in the model's parameter order.
        _trainable = all.Where(p => p.RequiresGrad).ToList();
        if (_trainable.Count == 0) throw new ArgumentException("Trainer: the model has no trainable parameters (every parameter is frozen).", nameof(model));
        var headSet = new HashSet<Tensor>(head, ReferenceEqualityComparer.Instance);
        float headScale = (options.HeadLearningRate ?? options.LearningRate) / options.LearningRate;
        Optimizer = new AdamW(
            [new ParameterGroup(_trainable.Where(p => !headSet.Contains(p)).ToList()), new ParameterGroup(head.Where(p => p.RequiresGrad).ToList(), headScale)],
            new AdamWOptions(options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay));
        Sampling = new Generator(options.Seed);
    }

    /// <summary>The model being trained.</summary>
    public Module Model { get; }
    /// <summary>The settings.</summary>
    public TrainerOptions Options { get; }
    /// <summary>The optimizer: AdamW over the trainable parameters, body first, then the head (its state goes into checkpoints).</summary>
    public IOptimizer Optimizer { get; }
    /// <summary>The generator handed to a batch sampler (its state goes into checkpoints).</summary>
    public Generator Sampling { get; }
    /// <summary>The callbacks, called in this order.</summary>
    public List<ITrainerCallback> Callbacks { get; } = new();

    /// <summary>
    /// Reports a training metric of the current micro-batch from inside the loss function (as Lightning's <c>self.log</c>):
    /// the step's <see cref="StepRecord.Metrics"/> (and so <see cref="MetricsLog"/>) get its mean over the step's micro-batches.
    /// </summary>
    public void Report(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _reported[name] = _reported.TryGetValue(name, out var r) ? (r.Sum + value, r.Count + 1) : (value, 1);
    }

    private readonly Dictionary<string, (double Sum, int Count)> _reported = new();

    /// <summary>Optimizer steps done (set it to resume a sampled run from a checkpoint).</summary>
    public int Step
    {
        get;
        set => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(Step), value, "Trainer.Step must not be negative.");
    }

    /// <summary>
    /// Trains on <paramref name="examples"/> for <see cref="TrainerOptions.Epochs"/> shuffled epochs (at most
    /// <see cref="TrainerOptions.MaxSteps"/> steps), a batch of <see cref="TrainerOptions.BatchSize"/> examples at a time.
    /// </summary>
    /// <param name="examples">The training set.</param>
    /// <param name="loss">Batch → scalar loss, called in training mode inside a tensor scope.</param>
    /// <param name="lengthOf">
    /// Length of an example in tokens. When given, each epoch's shuffled order is cut into pools of 50 batches whose examples
    /// are sorted by length, and the batches are then shuffled, so a batch pads little; the lengths also count the tokens.
    /// </param>
    /// <param name="cancellation">Stops the run cleanly before the next step.</param>
    public TrainerResult Train<TExample>(IReadOnlyList<TExample> examples, Func<IReadOnlyList<TExample>, Tensor> loss,
        Func<TExample, int>? lengthOf = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(loss);
        if (examples.Count == 0) throw new ArgumentException("Trainer.Train: the training set is empty.", nameof(examples));
        if (Step != 0)
            throw new InvalidOperationException($"Trainer.Train: this trainer already took {Step} steps; a run over epochs starts at the first epoch (resuming mid-run works with sampled batches).");
        var o = Options;
        int batches = (examples.Count + o.BatchSize - 1) / o.BatchSize;
        int perEpoch = (batches + o.GradientAccumulation - 1) / o.GradientAccumulation;
        long planned = (long)perEpoch * o.Epochs;
        int total = (int)Math.Min(o.MaxSteps ?? int.MaxValue, planned);
        return Run(new EpochSource<TExample>(examples, loss, lengthOf, o), total, total, cancellation, null);
    }

    /// <summary>
    /// Trains for <see cref="TrainerOptions.MaxSteps"/> steps (or until <paramref name="untilStep"/>, to stop and resume later on
    /// the same schedule) on micro-batches drawn by <paramref name="sample"/>, <see cref="TrainerOptions.GradientAccumulation"/>
    /// per step.
    /// </summary>
    /// <param name="sample">Draws one micro-batch from <see cref="Sampling"/> (inside a tensor scope) and returns its loss and its number of tokens.</param>
    /// <param name="untilStep">The step to stop at; null: <see cref="TrainerOptions.MaxSteps"/>.</param>
    /// <param name="stepsPerEpoch">Steps that make one pass over the data, to report epochs; null: unknown.</param>
    /// <param name="cancellation">Stops the run cleanly before the next step.</param>
    public TrainerResult Train(Func<Generator, (Tensor Loss, long Tokens)> sample, int? untilStep = null, int? stepsPerEpoch = null,
        CancellationToken cancellation = default) => Train(sample, untilStep, stepsPerEpoch, cancellation, null);

    internal TrainerResult Train(Func<Generator, (Tensor Loss, long Tokens)> sample, int? untilStep, int? stepsPerEpoch,
        CancellationToken cancellation, EvaluationCallback? evaluation)
    {
        ArgumentNullException.ThrowIfNull(sample);
        int total = Options.MaxSteps ?? throw new InvalidOperationException("Trainer.Train: sampled batches need TrainerOptions.MaxSteps (the length of the run).");
        if (stepsPerEpoch is <= 0) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "Trainer.Train: steps per epoch must be positive.");
        return Run(new SampledSource(this, sample, stepsPerEpoch), total, Math.Min(total, untilStep ?? total), cancellation, evaluation);
    }

    private TrainerResult Run(IStepSource source, int totalSteps, int lastStep, CancellationToken cancellation, EvaluationCallback? extraEvaluation)
    {
        var o = Options;
        var callbacks = new List<ITrainerCallback>(Callbacks);
        if (extraEvaluation is not null) callbacks.Insert(0, extraEvaluation);
        var evaluators = callbacks.OfType<EvaluationCallback>().ToList();
        if (evaluators.Count > 1) throw new InvalidOperationException($"Trainer: a run takes one EvaluationCallback, not {evaluators.Count}.");
        var evaluation = evaluators.FirstOrDefault();
        if (o.Patience > 0 && !callbacks.OfType<EarlyStoppingCallback>().Any()) callbacks.Add(new EarlyStoppingCallback(o.Patience));

        var clock = Stopwatch.StartNew();
        var state = new TrainerState(this, clock, totalSteps) { Epoch = source.EpochAt(Step) };
        var evaluations = new List<EvaluationRecord>();
        var micro = new List<Func<(Tensor Loss, long Tokens)>>();
        Dictionary<string, float[]>? bestWeights = null;
        float lastLoss = float.NaN;
        long tokens = 0;
        int lastEvaluated = -1;
        var reason = StopReason.Completed;

        void Evaluate()
        {
            if (evaluation is null || lastEvaluated == Step) return;
            lastEvaluated = Step;
            IReadOnlyDictionary<string, double> metrics;
            Model.Eval();
            try
            {
                using var _ = GradMode.NoGrad();
                metrics = evaluation.Evaluate();
            }
            finally { Model.Train(); }
            double value = metrics[evaluation.Metric];
            bool improved = evaluation.IsBetter(value, state.BestMetric);
            if (improved)
            {
                state.BestMetric = value;
                state.BestStep = Step;
                if (o.RestoreBest) bestWeights = Model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
            }
            var record = new EvaluationRecord(Step, state.Epoch, metrics, value, improved, state.BestMetric ?? double.NaN, state.BestStep, clock.Elapsed);
            evaluations.Add(record);
            foreach (var cb in callbacks) cb.OnEvaluate(state, record);
        }

        Model.Train();
        foreach (var cb in callbacks) cb.OnTrainBegin(state);
        while (true)
        {
            if (state.StopRequested is { } requested) { reason = requested; break; }
            if (Step >= lastStep) break;
            if (cancellation.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            if (o.MaxTime is { } budget && clock.Elapsed >= budget) { reason = StopReason.TimeLimit; Evaluate(); break; }
            if (!source.Next(micro)) break;

            float lr = o.LearningRateAt(Step, totalSteps, state.TimeFraction);
            Optimizer.LearningRate = lr;
            Optimizer.ZeroGrad();
            _reported.Clear();
            float lossSum = 0f;
            foreach (var next in micro)
            {
                using var scope = TensorScope.Begin();
                var (loss, count) = next();
                float lv = loss.Item();
                if (!float.IsFinite(lv))
                    throw new ArithmeticException($"Training stopped at step {Step}{source.Where}: the loss is {lv}. No update was applied, so the model and the last checkpoint are intact. Lower the learning rate or check the data.");
                (micro.Count == 1 ? loss : loss.Mul(1f / micro.Count)).Backward();
                lossSum += lv;
                tokens += count;
            }
            if (o.MaxGradNorm > 0f) GradientClipping.ClipGradNorm(_trainable, o.MaxGradNorm);
            Optimizer.Step();
            Step++;
            lastLoss = lossSum / micro.Count;
            state.Epoch = source.EpochAt(Step);
            var elapsed = clock.Elapsed;
            var step = new StepRecord(Step, state.Epoch, lastLoss, lr, tokens, tokens / Math.Max(1e-9, elapsed.TotalSeconds), elapsed)
            {
                Metrics = _reported.Count == 0 ? null : _reported.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count),
            };
            foreach (var cb in callbacks) cb.OnStepEnd(state, step);
            if ((o.EvalEvery > 0 && Step % o.EvalEvery == 0) || source.EpochEnded || Step == totalSteps) Evaluate();
        }

        var result = new TrainerResult(Step, state.Epoch, lastLoss, evaluations.Count > 0 ? evaluations[^1].Metric : double.NaN,
            state.BestMetric ?? double.NaN, state.BestStep, evaluations, reason, clock.Elapsed);
        foreach (var cb in callbacks) cb.OnTrainEnd(state, result);
        if (bestWeights is not null)
        {
            var weights = Model.StateDict();
            using var _ = TensorScope.Suspend();
            foreach (var (name, values) in bestWeights) weights[name].CopyFrom(values);
        }
        return result;
    }

    // Where the micro-batches of each optimizer step come from.
    private interface IStepSource
    {
        // Fills `micro` with the next step's micro-batches; false when the data is exhausted.
        bool Next(List<Func<(Tensor Loss, long Tokens)>> micro);
        // Epochs done after `step` steps (NaN when unknown).
        double EpochAt(int step);
        // True when the last step finished an epoch.
        bool EpochEnded { get; }
        // " (epoch N)" for messages, or "".
        string Where { get; }
    }

    private sealed class SampledSource(Trainer trainer, Func<Generator, (Tensor Loss, long Tokens)> sample, int? stepsPerEpoch) : IStepSource
    {
        public bool Next(List<Func<(Tensor Loss, long Tokens)>> micro)
        {
            micro.Clear();
            for (int i = 0; i < trainer.Options.GradientAccumulation; i++) micro.Add(() => sample(trainer.Sampling));
            return true;
        }

        public double EpochAt(int step) => stepsPerEpoch is { } s ? (double)step / s : double.NaN;
        public bool EpochEnded => false;
        public string Where => "";
    }

    private sealed class EpochSource<TExample> : IStepSource
    {
        private readonly IReadOnlyList<TExample> _examples;
        private readonly Func<IReadOnlyList<TExample>, Tensor> _loss;
        private readonly Func<TExample, int>? _lengthOf;
        private readonly TrainerOptions _options;
        private readonly Random _rng;
        private readonly int[] _order;
        private int _epochs, _position;

        public EpochSource(IReadOnlyList<TExample> examples, Func<IReadOnlyList<TExample>, Tensor> loss, Func<TExample, int>? lengthOf, TrainerOptions options)
        {
            _examples = examples;
            _loss = loss;
            _lengthOf = lengthOf;
            _options = options;
            _rng = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
            _order = Enumerable.Range(0, examples.Count).ToArray();
            _position = _order.Length;
        }

        public bool EpochEnded => _position >= _order.Length;
        public string Where => $" (epoch {_epochs})";
        public double EpochAt(int step) => _epochs == 0 ? 0 : _epochs - 1 + Math.Min(1.0, (double)_position / _order.Length);

        public bool Next(List<Func<(Tensor Loss, long Tokens)>> micro)
        {
            micro.Clear();
            if (_position >= _order.Length)
            {
                if (_epochs == _options.Epochs) return false;
                _epochs++;
                _rng.Shuffle(_order);
                if (_lengthOf is not null) BucketByLength();
                _position = 0;
            }
            int b = _options.BatchSize;
            for (int i = 0; i < _options.GradientAccumulation && _position < _order.Length; i++)
            {
                var batch = new TExample[Math.Min(b, _order.Length - _position)];
                for (int j = 0; j < batch.Length; j++) batch[j] = _examples[_order[_position + j]];
                _position += batch.Length;
                long count = _lengthOf is null ? 0 : batch.Sum(e => (long)_lengthOf(e));
                micro.Add(() => (_loss(batch), count));
            }
            return true;
        }

        private void BucketByLength()
        {
            int b = _options.BatchSize, pool = 50 * b;
            var order = _order;
            var keys = order.Select(i => _lengthOf!(_examples[i])).ToArray();
            for (int s = 0; s < order.Length; s += pool)
            {
                int n = Math.Min(pool, order.Length - s);
                Array.Sort(keys, order, s, n);
            }
            // Shuffle the full batches only: a short last batch must stay last, or every batch after it would be cut
            // across two sorted batches by the loop, which slices the order into runs of BatchSize.
            var batches = Enumerable.Range(0, (order.Length + b - 1) / b).ToArray();
            _rng.Shuffle(batches.AsSpan(0, order.Length / b));
            var copy = (int[])order.Clone();
            int k = 0;
            foreach (var bi in batches)
                for (int i = bi * b; i < Math.Min(order.Length, bi * b + b); i++) order[k++] = copy[i];
        }
    }
}
