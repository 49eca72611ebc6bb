using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>
/// One batch of source/target pairs for an encoder-decoder: the sources right-padded with their attention mask, the targets
/// as labels (-100 on padding, which the loss ignores) and as decoder inputs (the labels shifted right after the decoder start
/// token, Hugging Face's <c>shift_tokens_right</c>).
/// </summary>
/// <param name="InputIds">Int32 source ids (B, S), padded with the pad id.</param>
/// <param name="AttentionMask">Int32 (B, S): 1 on source tokens, 0 on padding.</param>
/// <param name="DecoderInputIds">Int32 (B, T): the labels shifted right after the start token, -100 replaced by the pad id.</param>
/// <param name="Labels">Int32 (B, T): target ids, -100 on padding.</param>
public sealed record Seq2SeqBatch(Tensor InputIds, Tensor AttentionMask, Tensor DecoderInputIds, Tensor Labels)
{
    /// <summary>The label value the loss ignores.</summary>
    public const int IgnoreIndex = -100;

    /// <summary>
    /// Pads <paramref name="sources"/> and <paramref name="targets"/> (token ids, each target already ending in its end-of-sequence
    /// id when the model should learn to stop) into one batch.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, are empty, or a source or a target is empty.</exception>
    public static Seq2SeqBatch Collate(IReadOnlyList<IReadOnlyList<int>> sources, IReadOnlyList<IReadOnlyList<int>> targets,
        int padTokenId, int decoderStartTokenId)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(targets);
        if (sources.Count != targets.Count)
            throw new ArgumentException($"Seq2SeqBatch.Collate: {sources.Count} sources but {targets.Count} targets.");
        if (sources.Count == 0) throw new ArgumentException("Seq2SeqBatch.Collate: the batch is empty.");
        for (int i = 0; i < sources.Count; i++)
        {
            if (sources[i].Count == 0) throw new ArgumentException($"Seq2SeqBatch.Collate: source {i} is empty; an encoder-decoder needs at least one source token.");
            if (targets[i].Count == 0) throw new ArgumentException($"Seq2SeqBatch.Collate: target {i} is empty.");
        }
        int b = sources.Count, s = sources.Max(x => x.Count), t = targets.Max(x => x.Count);
        var ids = new int[b * s];
        var mask = new int[b * s];
        var labels = new int[b * t];
        Array.Fill(ids, padTokenId);
        Array.Fill(labels, IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            for (int j = 0; j < sources[i].Count; j++) { ids[i * s + j] = sources[i][j]; mask[i * s + j] = 1; }
            for (int j = 0; j < targets[i].Count; j++) labels[i * t + j] = targets[i][j];
        }
        var labelTensor = Tensor.FromArray(labels, b, t);
        return new(Tensor.FromArray(ids, b, s), Tensor.FromArray(mask, b, s), ShiftRight(labelTensor, decoderStartTokenId, padTokenId), labelTensor);
    }

    /// <summary>
    /// Labels (B, T) → decoder inputs (B, T): position 0 is <paramref name="decoderStartTokenId"/>, position j the label j - 1, with
    /// -100 replaced by <paramref name="padTokenId"/> (Hugging Face's <c>shift_tokens_right</c>). On the labels' backend.
    /// </summary>
    public static Tensor ShiftRight(Tensor labels, int decoderStartTokenId, int padTokenId)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Rank != 2 || labels.DType != DType.Int32)
            throw new ArgumentException($"Seq2SeqBatch.ShiftRight: labels must be Int32 (batch, time), got {labels.DType} {labels.ShapeString}.");
        int b = labels.Size(0), t = labels.Size(1);
        var l = labels.ToIntArray();
        var d = new int[b * t];
        for (int i = 0; i < b; i++)
        {
            d[i * t] = decoderStartTokenId;
            for (int j = 1; j < t; j++)
            {
                int v = l[i * t + j - 1];
                d[i * t + j] = v == IgnoreIndex ? padTokenId : v;
            }
        }
        return Tensor.FromArray(d, b, t).To(labels.Backend);
    }

    /// <summary>This batch with every tensor on <paramref name="backend"/>.</summary>
    public Seq2SeqBatch To(Backends.IBackend backend) =>
        ReferenceEquals(backend, InputIds.Backend) ? this : new(InputIds.To(backend), AttentionMask.To(backend), DecoderInputIds.To(backend), Labels.To(backend));
}
