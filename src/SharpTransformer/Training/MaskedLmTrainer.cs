using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Masked-LM (and next-sentence) pretraining of an <see cref="IMaskedLmModel"/> with the causal trainer's machinery:
/// <see cref="TrainerOptions"/>, AdamW with warm-up and decay, gradient clipping and accumulation, periodic validation, early
/// stopping and the same progress reports. Batches come from a function of the sampling generator, so a run is reproducible.
/// </summary>
public sealed class MaskedLmTrainer
{
    private readonly Module _module;
    private readonly IMaskedLmModel _model;

    /// <summary>Creates a trainer for a model that is both a <see cref="Module"/> and an <see cref="IMaskedLmModel"/>.</summary>
    public MaskedLmTrainer(IMaskedLmModel model, TrainerOptions options)
    {
        _model = model;
        _module = model as Module ?? throw new ArgumentException("MaskedLmTrainer: the model must be a Module.", nameof(model));
        Options = options;
        Optimizer = new AdamW(_module.Parameters(), new AdamWOptions(options.LearningRate, options.Beta1, options.Beta2, 1e-8f, options.WeightDecay));
        Schedule = new WarmupDecaySchedule(options.LearningRate, options.WarmupSteps, options.Steps, options.MinLearningRate, options.Decay);
        Sampling = new Generator(options.Seed);
    }

    /// <summary>The settings (<see cref="TrainerOptions.BatchSize"/> is used by <see cref="RandomBatches"/>).</summary>
    public TrainerOptions Options { get; }
    /// <summary>The optimizer.</summary>
    public AdamW Optimizer { get; }
    /// <summary>The learning-rate schedule.</summary>
    public ILearningRateSchedule Schedule { get; }
    /// <summary>The batch-sampling generator.</summary>
    public Generator Sampling { get; }
    /// <summary>Steps done so far.</summary>
    public int Step { get; set; }
    /// <summary>Called after an evaluation that improved the best validation loss.</summary>
    public Action<int, float>? OnBest { get; set; }

    /// <summary>
    /// A batch source drawing <paramref name="batchSize"/> sequences uniformly with replacement and masking them with
    /// <paramref name="collator"/>.
    /// </summary>
    public static Func<Generator, MaskedLmBatch> RandomBatches(IReadOnlyList<int[]> sequences, MaskedLmCollator collator, int batchSize) => g =>
    {
        var pick = new int[batchSize][];
        for (int i = 0; i < batchSize; i++) pick[i] = sequences[g.NextInt(sequences.Count)];
        return collator.Collate(pick);
    };

    /// <summary>Trains until the planned steps are done, validation stops improving (patience), or cancellation.</summary>
    public TrainingResult Train(Func<Generator, MaskedLmBatch> nextBatch, IReadOnlyList<MaskedLmBatch>? validation = null,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var o = Options;
        var sw = Stopwatch.StartNew();
        float best = float.PositiveInfinity, lastVal = float.NaN, lastLoss = float.NaN;
        int badEvals = 0;
        long tokens = 0;
        _module.Train();
        var reason = StopReason.Completed;
        while (Step < o.Steps)
        {
            if (cancellation.IsCancellationRequested) { reason = StopReason.Cancelled; break; }
            float lr = Schedule.At(Step);
            Optimizer.LearningRate = lr;
            Optimizer.ZeroGrad();
            float lossSum = 0f;
            for (int micro = 0; micro < o.GradAccumulation; micro++)
            {
                using var scope = TensorScope.Begin();
                var batch = OnModelBackend(nextBatch(Sampling));
                var loss = _model.Loss(batch);
                float lv = loss.Item();
                if (!float.IsFinite(lv))
                    throw new ArithmeticException($"Training stopped at step {Step}: the loss is {lv}. No update was applied. Lower the learning rate or check the data.");
                (o.GradAccumulation == 1 ? loss : loss.Mul(1f / o.GradAccumulation)).Backward();
                lossSum += lv;
                tokens += batch.InputIds.Count;
            }
            if (o.GradClip > 0f) GradientClipping.ClipGradNorm(_module.Parameters(), o.GradClip);
            Optimizer.Step();
            Step++;
            lastLoss = lossSum / o.GradAccumulation;
            float? val = null;
            if (validation is not null && ((o.EvalInterval > 0 && Step % o.EvalInterval == 0) || Step == o.Steps))
            {
                lastVal = Evaluate(validation);
                val = lastVal;
                if (lastVal < best) { best = lastVal; badEvals = 0; OnBest?.Invoke(Step, lastVal); }
                else if (o.Patience > 0 && ++badEvals >= o.Patience) reason = StopReason.EarlyStopped;
                _module.Train();
            }
            progress?.Report(new TrainingProgress(Step, o.Steps, lastLoss, val, lr, sw.Elapsed, tokens / Math.Max(1e-9, sw.Elapsed.TotalSeconds)));
            if (reason == StopReason.EarlyStopped) break;
        }
        return new TrainingResult(Step, lastLoss, lastVal, best, reason, sw.Elapsed);
    }

    /// <summary>Mean loss over fixed, already masked batches (evaluation mode, no gradients).</summary>
    public float Evaluate(IReadOnlyList<MaskedLmBatch> batches)
    {
        _module.Eval();
        using var _ = GradMode.NoGrad();
        double sum = 0;
        foreach (var b in batches)
        {
            using var scope = TensorScope.Begin();
            sum += _model.Loss(OnModelBackend(b)).Item();
        }
        return (float)(sum / Math.Max(1, batches.Count));
    }

    private MaskedLmBatch OnModelBackend(MaskedLmBatch b)
    {
        var p = _module.Parameters().FirstOrDefault();
        if (p is null || ReferenceEquals(p.Backend, b.InputIds.Backend)) return b;
        return new MaskedLmBatch(b.InputIds.To(p.Backend), b.AttentionMask.To(p.Backend), b.TokenTypeIds.To(p.Backend), b.Labels.To(p.Backend),
            b.NextSentenceLabels?.To(p.Backend));
    }
}
