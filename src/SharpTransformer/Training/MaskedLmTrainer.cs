using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Masked-LM (and next-sentence) pretraining of an <see cref="IMaskedLmModel"/> on a <see cref="Trainer"/>: batches come from a
/// function of the sampling generator, so a run is reproducible, for <see cref="TrainerOptions.MaxSteps"/> steps; the mean loss
/// over fixed validation batches ("loss", lower is better) is the evaluation metric. <see cref="TrainerOptions.BatchSize"/> is
/// for <see cref="RandomBatches"/>.
/// </summary>
public sealed class MaskedLmTrainer : TaskTrainer
{
    private readonly IMaskedLmModel _model;

    /// <summary>Creates a trainer for a model that is both a <see cref="Module"/> and an <see cref="IMaskedLmModel"/>.</summary>
    public MaskedLmTrainer(IMaskedLmModel model, TrainerOptions options)
        : base(model as Module ?? throw new ArgumentException("MaskedLmTrainer: the model must be a Module.", nameof(model)), options) => _model = model;

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

    /// <summary>Trains until the planned steps are done, validation stops improving (patience), the time budget, or cancellation.</summary>
    public TrainerResult Train(Func<Generator, MaskedLmBatch> nextBatch, IReadOnlyList<MaskedLmBatch>? validation = null,
        CancellationToken cancellation = default)
    {
        var evaluation = validation is null ? null : new EvaluationCallback("loss", () => Evaluate(validation), greaterIsBetter: false);
        return Trainer.Train(g =>
        {
            var batch = OnModelBackend(nextBatch(g));
            return (_model.Loss(batch), batch.InputIds.Count);
        }, null, null, cancellation, evaluation);
    }

    /// <summary>Mean loss over fixed, already masked batches (evaluation mode, no gradients).</summary>
    public float Evaluate(IReadOnlyList<MaskedLmBatch> batches)
    {
        Trainer.Model.Eval();
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
        var to = ModelBackend;
        if (to is null || ReferenceEquals(to, b.InputIds.Backend)) return b;
        return new MaskedLmBatch(b.InputIds.To(to), b.AttentionMask.To(to), b.TokenTypeIds.To(to), b.Labels.To(to), b.NextSentenceLabels?.To(to));
    }
}
