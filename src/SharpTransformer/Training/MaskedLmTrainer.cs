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
    private readonly IMaskedLmModel _model;
    private readonly TrainingLoop _loop;

    /// <summary>Creates a trainer for a model that is both a <see cref="Module"/> and an <see cref="IMaskedLmModel"/>.</summary>
    public MaskedLmTrainer(IMaskedLmModel model, TrainerOptions options)
    {
        _model = model;
        _loop = new TrainingLoop(model, options, nameof(MaskedLmTrainer));
    }

    /// <summary>The settings (<see cref="TrainerOptions.BatchSize"/> is used by <see cref="RandomBatches"/>).</summary>
    public TrainerOptions Options => _loop.Options;
    /// <summary>The optimizer.</summary>
    public AdamW Optimizer => _loop.Optimizer;
    /// <summary>The learning-rate schedule.</summary>
    public ILearningRateSchedule Schedule => _loop.Schedule;
    /// <summary>The batch-sampling generator.</summary>
    public Generator Sampling => _loop.Sampling;
    /// <summary>Steps done so far.</summary>
    public int Step { get => _loop.Step; set => _loop.Step = value; }
    /// <summary>Called after an evaluation that improved the best validation loss.</summary>
    public Action<int, float>? OnBest { get => _loop.OnBest; set => _loop.OnBest = value; }

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
        return _loop.Run(Options.Steps, () =>
        {
            var batch = OnModelBackend(nextBatch(Sampling));
            return (_model.Loss(batch), batch.InputIds.Count);
        }, validation is null ? null : () => Evaluate(validation), "", progress, cancellation);
    }

    /// <summary>Mean loss over fixed, already masked batches (evaluation mode, no gradients).</summary>
    public float Evaluate(IReadOnlyList<MaskedLmBatch> batches)
    {
        _loop.Module.Eval();
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
        var to = _loop.Backend;
        if (to is null || ReferenceEquals(to, b.InputIds.Backend)) return b;
        return new MaskedLmBatch(b.InputIds.To(to), b.AttentionMask.To(to), b.TokenTypeIds.To(to), b.Labels.To(to), b.NextSentenceLabels?.To(to));
    }
}
