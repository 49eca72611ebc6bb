using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>Epochs of seeded, shuffled index batches over a dataset of a given size.</summary>
public sealed class BatchSampler
{
    private readonly Generator _generator;

    /// <summary>Creates the sampler.</summary>
    public BatchSampler(int count, int batchSize, bool shuffle = true, bool dropLast = false, ulong seed = 0)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "BatchSampler: the dataset is empty.");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "BatchSampler: batch size must be positive.");
        Count = count;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _generator = new Generator(seed);
    }

    /// <summary>Dataset size.</summary>
    public int Count { get; }
    /// <summary>Indices per batch.</summary>
    public int BatchSize { get; }
    /// <summary>Whether each epoch is shuffled.</summary>
    public bool Shuffle { get; }
    /// <summary>Whether a last, smaller batch is dropped.</summary>
    public bool DropLast { get; }
    /// <summary>The shuffling generator (its state goes into checkpoints).</summary>
    public Generator Generator => _generator;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>One epoch of index batches (Fisher–Yates with the seeded generator).</summary>
    public IEnumerable<int[]> Epoch()
    {
        var order = Enumerable.Range(0, Count).ToArray();
        if (Shuffle)
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = _generator.NextInt(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }
        for (int s = 0; s < Count; s += BatchSize)
        {
            int n = Math.Min(BatchSize, Count - s);
            if (n < BatchSize && DropLast) yield break;
            yield return order.AsSpan(s, n).ToArray();
        }
    }
}
