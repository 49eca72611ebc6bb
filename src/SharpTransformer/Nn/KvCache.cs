using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The growing cache: keys and values of past positions for one attention layer, in a buffer allocated at the first append
/// (its batch, heads and widths taken from that call) that doubles when full, up to <see cref="Capacity"/> positions, so memory
/// grows linearly with the positions held (a model with a long context does not pay for it up front) and decoding appends
/// without reallocating most of the time. Used under <see cref="Autograd.GradMode.NoGrad"/>.
/// </summary>
public sealed class KvCache : IKvCache
{
    private Tensor? _k, _v;   // (B, Hkv, allocated, Dk), (B, Hkv, allocated, Dv), allocated <= Capacity

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

    /// <summary>Bytes of the key and value buffers now allocated (0 before the first append).</summary>
    public long Bytes => _k is null ? 0 : 4L * (_k.Count + _v!.Count);

    /// <inheritdoc/>
    public bool IsComplete => false;

    /// <summary>Forgets every position (memory is kept).</summary>
    public void Reset() => Length = 0;

    /// <summary>Appends k (B, Hkv, T, Dk) and v (B, Hkv, T, Dv) and returns all keys and values so far.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        KvCacheChecks.Pair("KvCache", k, v);
        int b = k.Size(0), h = k.Size(1), t = k.Size(2), d = k.Size(3), dv = v.Size(3);
        if (Length + t > Capacity)
            throw new InvalidOperationException($"KvCache: appending {t} positions to {Length} exceeds the capacity of {Capacity} (the model's context length).");
        if (_k is null || _k.Size(0) != b || _k.Size(1) != h || _k.Size(3) != d || _v!.Size(3) != dv)
        {
            if (Length > 0) throw new ArgumentException($"KvCache: new keys {k.ShapeString} and values {v.ShapeString} do not match the cached batch/heads/widths {_k?.ShapeString}, {_v?.ShapeString}.");
            using var _ = TensorScope.Suspend();
            int first = Math.Min(Capacity, Math.Max(Length + t, 16));
            _k = Tensor.Zeros([b, h, first, d], DType.Float32, k.Backend);
            _v = Tensor.Zeros([b, h, first, dv], DType.Float32, k.Backend);
        }
        else if (Length + t > _k.Size(2))
        {
            using var _ = TensorScope.Suspend();
            int grown = Math.Min(Capacity, Math.Max(Length + t, 2 * _k.Size(2)));
            var nk = Tensor.Zeros([b, h, grown, d], DType.Float32, k.Backend);
            var nv = Tensor.Zeros([b, h, grown, dv], DType.Float32, k.Backend);
            if (Length > 0)
            {
                nk.Narrow(2, 0, Length).CopyFrom(_k.Narrow(2, 0, Length));
                nv.Narrow(2, 0, Length).CopyFrom(_v!.Narrow(2, 0, Length));
            }
            _k = nk;
            _v = nv;
        }
        _k.Narrow(2, Length, t).Detach().CopyFrom(k);
        _v!.Narrow(2, Length, t).Detach().CopyFrom(v);
        Length += t;
        return Stored();
    }

    /// <inheritdoc/>
    public (Tensor Keys, Tensor Values) Stored()
    {
        if (_k is null || Length == 0) throw new InvalidOperationException("KvCache.Stored: the cache holds no positions.");
        return (_k.Narrow(2, 0, Length), _v!.Narrow(2, 0, Length));
    }

    /// <inheritdoc/>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (_k is null) { if (Length == 0) return; throw new InvalidOperationException("KvCache.ReorderBatch: the cache holds no tensors."); }
        KvCacheChecks.Rows("KvCache", rows, _k.Size(0));
        if (Length == 0) { if (rows.Length != _k.Size(0)) (_k, _v) = (null, null); return; }
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_k.Backend);
        // Only the stored positions move: in place when the batch keeps its size, else into new buffers of B' rows.
        _k = Reordered(_k, index, rows.Length);   // (B', Hkv, allocated, Dk)
        _v = Reordered(_v!, index, rows.Length);
    }

    private Tensor Reordered(Tensor buf, Tensor index, int rows)
    {
        var used = buf.Narrow(2, 0, Length).Detach();                                   // (B, Hkv, Length, D)
        var moved = used.IndexSelect(0, index).Contiguous();                            // (B', Hkv, Length, D)
        if (rows == buf.Size(0)) { used.CopyFrom(moved); return buf; }
        var grown = Tensor.Zeros([rows, buf.Size(1), buf.Size(2), buf.Size(3)], DType.Float32, buf.Backend);
        grown.Narrow(2, 0, Length).Detach().CopyFrom(moved);
        return grown;
    }
}
