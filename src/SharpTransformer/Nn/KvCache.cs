using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// Keys and values of past positions for one attention layer, preallocated to a capacity so decoding appends
/// without reallocating. Used under <see cref="Autograd.GradMode.NoGrad"/>.
/// </summary>
public sealed class KvCache : IKvCache
{
    private Tensor? _k, _v;   // (B, Hkv, capacity, D)

    /// <summary>Creates an empty cache that can hold <paramref name="capacity"/> positions.</summary>
    public KvCache(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "KvCache: capacity must be positive.");
        Capacity = capacity;
    }

    /// <summary>Maximum number of positions.</summary>
    public int Capacity { get; }

    /// <summary>Positions stored so far.</summary>
    public int Length { get; private set; }

    /// <summary>Forgets every position (memory is kept).</summary>
    public void Reset() => Length = 0;

    /// <summary>Appends k and v (B, Hkv, T, D) and returns all keys and values so far (B, Hkv, Length, D).</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        int b = k.Size(0), h = k.Size(1), t = k.Size(2), d = k.Size(3);
        if (Length + t > Capacity)
            throw new InvalidOperationException($"KvCache: appending {t} positions to {Length} exceeds the capacity of {Capacity} (the model's context length).");
        if (_k is null || _k.Size(0) != b || _k.Size(1) != h || _k.Size(3) != d)
        {
            if (Length > 0) throw new ArgumentException($"KvCache: new keys {k.ShapeString} do not match the cached batch/heads/dim.");
            using var _ = TensorScope.Suspend();
            _k = Tensor.Zeros([b, h, Capacity, d], DType.Float32, k.Backend);
            _v = Tensor.Zeros([b, h, Capacity, d], DType.Float32, k.Backend);
        }
        _k.Narrow(2, Length, t).Detach().CopyFrom(k);
        _v!.Narrow(2, Length, t).Detach().CopyFrom(v);
        Length += t;
        return (_k.Narrow(2, 0, Length), _v.Narrow(2, 0, Length));
    }

    /// <inheritdoc/>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (_k is null) { if (Length == 0) return; throw new InvalidOperationException("KvCache.ReorderBatch: the cache holds no tensors."); }
        int b = _k.Size(0);
        foreach (int r in rows)
            if ((uint)r >= (uint)b) throw new ArgumentOutOfRangeException(nameof(rows), r, $"KvCache.ReorderBatch: row {r} is outside the cached batch of {b}.");
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_k.Backend);
        _k = _k.IndexSelect(0, index).Contiguous();   // (B', Hkv, capacity, D)
        _v = _v!.IndexSelect(0, index).Contiguous();
    }
}
