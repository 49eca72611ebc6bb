using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// A cache of fixed batch, heads, widths and capacity, allocated up front (Hugging Face's <c>StaticCache</c>): its buffers never
/// move, so shapes stay constant from the first step to the last. Beam search reorders rows within the same buffers.
/// </summary>
public sealed class StaticKvCache : IKvCache
{
    private readonly Tensor _k, _v;   // (B, Hkv, capacity, Dk), (B, Hkv, capacity, Dv)

    /// <summary>Allocates the buffers: keys (batch, heads, capacity, keyDim), values (batch, heads, capacity, valueDim ?? keyDim).</summary>
    public StaticKvCache(int batch, int heads, int capacity, int keyDim, int? valueDim = null, IBackend? backend = null)
    {
        int dv = valueDim ?? keyDim;
        if (batch <= 0 || heads <= 0 || capacity <= 0 || keyDim <= 0 || dv <= 0)
            throw new ArgumentOutOfRangeException(nameof(batch), $"StaticKvCache: batch {batch}, heads {heads}, capacity {capacity}, key width {keyDim} and value width {dv} must be positive.");
        using var _ = TensorScope.Suspend();
        _k = Tensor.Zeros([batch, heads, capacity, keyDim], DType.Float32, backend);
        _v = Tensor.Zeros([batch, heads, capacity, dv], DType.Float32, backend);
    }

    /// <summary>Rows of the batch.</summary>
    public int Batch => _k.Size(0);

    /// <summary>Maximum number of positions.</summary>
    public int Capacity => _k.Size(2);

    /// <inheritdoc/>
    public int Length { get; private set; }

    /// <inheritdoc/>
    public bool IsComplete => false;

    /// <inheritdoc/>
    public void Reset() => Length = 0;

    /// <inheritdoc/>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        KvCacheChecks.Pair("StaticKvCache", k, v);
        if (k.Size(0) != _k.Size(0) || k.Size(1) != _k.Size(1) || k.Size(3) != _k.Size(3) || v.Size(3) != _v.Size(3))
            throw new ArgumentException($"StaticKvCache: keys {k.ShapeString} and values {v.ShapeString} do not fit the buffers {_k.ShapeString} and {_v.ShapeString} (batch, heads, capacity, width).");
        int t = k.Size(2);
        if (Length + t > Capacity)
            throw new InvalidOperationException($"StaticKvCache: appending {t} positions to {Length} exceeds the capacity of {Capacity}.");
        _k.Narrow(2, Length, t).Detach().CopyFrom(k);
        _v.Narrow(2, Length, t).Detach().CopyFrom(v);
        Length += t;
        return Stored();
    }

    /// <inheritdoc/>
    public (Tensor Keys, Tensor Values) Stored()
    {
        if (Length == 0) throw new InvalidOperationException("StaticKvCache.Stored: the cache holds no positions.");
        return (_k.Narrow(2, 0, Length), _v.Narrow(2, 0, Length));
    }

    /// <summary>Reorders the batch rows within the same buffers; <paramref name="rows"/> must have <see cref="Batch"/> entries.</summary>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (rows.Length != Batch)
            throw new ArgumentException($"StaticKvCache.ReorderBatch: the batch is fixed at {Batch} rows, given {rows.Length}.", nameof(rows));
        KvCacheChecks.Rows("StaticKvCache", rows, Batch);
        if (Length == 0) return;
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_k.Backend);
        foreach (var buf in new[] { _k, _v })
        {
            var used = buf.Narrow(2, 0, Length).Detach();     // (B, Hkv, Length, D)
            used.CopyFrom(used.IndexSelect(0, index).Contiguous());
        }
    }
}
