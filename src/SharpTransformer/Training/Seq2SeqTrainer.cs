using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Teacher-forced training of an encoder-decoder (<see cref="Seq2SeqLanguageModel"/>) on a <see cref="Trainer"/>: each batch
/// holds sources, decoder inputs (the labels shifted right after the decoder start token) and labels (-100 ignored); the loss is
/// the mean cross-entropy over the counted labels. Batches come from a function of the sampling generator, so a run is
/// reproducible, for <see cref="TrainerOptions.MaxSteps"/> steps; the mean loss over fixed validation batches ("loss", lower is
/// better) is the evaluation metric. <see cref="PairBatches"/>, <see cref="SpanCorruptionBatches"/> and
/// <see cref="TextInfillingBatches"/> make the batch functions of supervised pairs and of the two pretraining objectives.
/// </summary>
public sealed class Seq2SeqTrainer : TaskTrainer
{
    private readonly Seq2SeqLanguageModel _model;

    /// <summary>Creates a trainer for an encoder-decoder.</summary>
    public Seq2SeqTrainer(Seq2SeqLanguageModel model, TrainerOptions options) : base(model, options) => _model = model;

    /// <summary>Trains until the planned steps are done, validation stops improving (patience), the time budget, or cancellation.</summary>
    public TrainerResult Train(Func<Generator, Seq2SeqBatch> nextBatch, IReadOnlyList<Seq2SeqBatch>? validation = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(nextBatch);
        var evaluation = validation is null ? null : new EvaluationCallback("loss", () => Evaluate(validation), greaterIsBetter: false);
        return Trainer.Train(g =>
        {
            var batch = OnModelBackend(nextBatch(g));
            return (Loss(batch), batch.Labels.ToIntArray().Count(l => l != Seq2SeqBatch.IgnoreIndex));
        }, null, null, cancellation, evaluation);
    }

    /// <summary>The teacher-forced loss of one batch: cross-entropy of the logits for its decoder inputs against its labels.</summary>
    public Tensor Loss(Seq2SeqBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var logits = _model.Forward(batch.InputIds, batch.DecoderInputIds, batch.AttentionMask);   // (B, T, V)
        return Functional.CrossEntropy(logits, batch.Labels, ignoreIndex: Seq2SeqBatch.IgnoreIndex);
    }

    /// <summary>Mean loss over fixed batches (evaluation mode, no gradients).</summary>
    public float Evaluate(IReadOnlyList<Seq2SeqBatch> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        Trainer.Model.Eval();
        using var _ = GradMode.NoGrad();
        double sum = 0;
        foreach (var b in batches)
        {
            using var scope = TensorScope.Begin();
            sum += Loss(OnModelBackend(b)).Item();
        }
        return (float)(sum / Math.Max(1, batches.Count));
    }

    private Seq2SeqBatch OnModelBackend(Seq2SeqBatch b) => ModelBackend is { } to ? b.To(to) : b;

    /// <summary>
    /// Batches of <paramref name="batchSize"/> (source, target) pairs drawn uniformly with replacement; each target gets the
    /// model's end-of-sequence id appended when it does not end with it.
    /// </summary>
    public static Func<Generator, Seq2SeqBatch> PairBatches(Seq2SeqLanguageModel model, IReadOnlyList<(int[] Source, int[] Target)> pairs, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        Check(pairs?.Count ?? 0, batchSize, "PairBatches");
        return g =>
        {
            var src = new IReadOnlyList<int>[batchSize];
            var tgt = new IReadOnlyList<int>[batchSize];
            for (int i = 0; i < batchSize; i++)
            {
                var (s, t) = pairs![g.NextInt(pairs.Count)];
                src[i] = s;
                tgt[i] = t.Length > 0 && t[^1] == model.EosTokenId ? t : [.. t, model.EosTokenId];
            }
            return Seq2SeqBatch.Collate(src, tgt, model.PadTokenId, model.DecoderStartTokenId);
        };
    }

    /// <summary>T5 span-corruption batches of <paramref name="batchSize"/> sequences drawn uniformly from <paramref name="sequences"/>.</summary>
    public static Func<Generator, Seq2SeqBatch> SpanCorruptionBatches(Seq2SeqLanguageModel model, IReadOnlyList<int[]> sequences,
        SpanCorruption objective, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(objective);
        Check(sequences?.Count ?? 0, batchSize, "SpanCorruptionBatches");
        return g =>
        {
            var src = new IReadOnlyList<int>[batchSize];
            var tgt = new IReadOnlyList<int>[batchSize];
            for (int i = 0; i < batchSize; i++) (src[i], tgt[i]) = objective.Corrupt(sequences![g.NextInt(sequences.Count)], g);
            return Seq2SeqBatch.Collate(src, tgt, model.PadTokenId, model.DecoderStartTokenId);
        };
    }

    /// <summary>
    /// BART text-infilling batches: <paramref name="batchSize"/> sequences drawn uniformly, the noised sequence as the source and
    /// the original (with the end-of-sequence id appended) as the target.
    /// </summary>
    public static Func<Generator, Seq2SeqBatch> TextInfillingBatches(Seq2SeqLanguageModel model, IReadOnlyList<int[]> sequences,
        TextInfilling noise, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(noise);
        Check(sequences?.Count ?? 0, batchSize, "TextInfillingBatches");
        return g =>
        {
            var src = new IReadOnlyList<int>[batchSize];
            var tgt = new IReadOnlyList<int>[batchSize];
            for (int i = 0; i < batchSize; i++)
            {
                var s = sequences![g.NextInt(sequences.Count)];
                src[i] = noise.Noise(s, g);
                tgt[i] = [.. s, model.EosTokenId];
            }
            return Seq2SeqBatch.Collate(src, tgt, model.PadTokenId, model.DecoderStartTokenId);
        };
    }

    private static void Check(int count, int batchSize, string op)
    {
        if (count == 0) throw new ArgumentException($"Seq2SeqTrainer.{op}: the data set is empty.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Seq2SeqTrainer.{op}: the batch size must be positive.");
    }
}
