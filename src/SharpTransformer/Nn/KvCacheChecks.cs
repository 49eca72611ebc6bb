using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

// Argument checks shared by the caches.
internal static class KvCacheChecks
{
    public static void Pair(string cache, Tensor k, Tensor v)
    {
        if (k.Rank != 4 || v.Rank != 4 || k.Size(0) != v.Size(0) || k.Size(1) != v.Size(1) || k.Size(2) != v.Size(2))
            throw new ArgumentException($"{cache}: keys and values must be (batch, heads, time, width) with the same batch, heads and time; got {k.ShapeString} and {v.ShapeString}.");
    }

    public static void Rows(string cache, ReadOnlySpan<int> rows, int batch)
    {
        foreach (int r in rows)
            if ((uint)r >= (uint)batch) throw new ArgumentOutOfRangeException(nameof(rows), r, $"{cache}.ReorderBatch: row {r} is outside the cached batch of {batch}.");
    }
}
