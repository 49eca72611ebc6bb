using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The cache of a <see cref="LatentAttention"/> layer (DeepSeek's multi-head latent attention): per position it keeps only the
/// compressed key/value vector after <c>kv_a_layernorm</c> (<c>kv_lora_rank</c> wide) and the rotated RoPE key
/// (<c>qk_rope_head_dim</c> wide, one head shared by every query head), side by side in one buffer (B, 1, capacity, Dc + Dr).
/// So a token costs (Dc + Dr) × 4 bytes per layer in fp32, whatever the number of heads; per-head keys and values are never
/// stored. The buffer is allocated at the first append (batch and widths from that call).
/// <para>
/// In the <see cref="IKvCache"/> contract the "keys" are the compressed vectors c (B, 1, T, Dc) and the "values" the rotated RoPE
/// keys (B, 1, T, Dr); <see cref="IKvCache.Append"/> and <see cref="IKvCache.Stored"/> return views of both, and
/// <see cref="StoredLatent"/> the joint rows [c | k_rope] (B, 1, Length, Dc + Dr) that the absorbed decoding path attends over
/// without a copy. Used under <see cref="Autograd.GradMode.NoGrad"/> or with gradients stopping at the cache.
/// </para>
/// </summary>
public sealed class LatentKvCache : IKvCache
{
    private Tensor? _buffer;   // (B, 1, capacity, Dc + Dr)

    /// <summary>Creates an empty cache of <paramref name="capacity"/> positions for latents of <paramref name="latentDim"/> (Dc) and RoPE keys of <paramref name="ropeDim"/> (Dr).</summary>
    public LatentKvCache(int capacity, int latentDim, int ropeDim)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "LatentKvCache: capacity must be positive.");
        if (latentDim <= 0) throw new ArgumentOutOfRangeException(nameof(latentDim), latentDim, "LatentKvCache: the latent width (kv_lora_rank) must be positive.");
        if (ropeDim <= 0) throw new ArgumentOutOfRangeException(nameof(ropeDim), ropeDim, "LatentKvCache: the RoPE width (qk_rope_head_dim) must be positive.");
        Capacity = capacity;
        LatentDim = latentDim;
        RopeDim = ropeDim;
    }

    /// <summary>Maximum number of positions.</summary>
    public int Capacity { get; }
    /// <summary>Width Dc of the compressed vector (<c>kv_lora_rank</c>).</summary>
    public int LatentDim { get; }
    /// <summary>Width Dr of the shared RoPE key (<c>qk_rope_head_dim</c>).</summary>
    public int RopeDim { get; }
    /// <summary>Bytes one position of one batch row takes: (Dc + Dr) × 4.</summary>
    public int BytesPerToken => (LatentDim + RopeDim) * sizeof(float);

    /// <summary>Bytes of the buffer held (allocated for the whole capacity at the first append; 0 before).</summary>
    public long Bytes => 4L * (_buffer?.Count ?? 0);

    /// <inheritdoc/>
    public int Length { get; private set; }

    /// <inheritdoc/>
    public bool IsComplete => false;

    /// <inheritdoc/>
    public void Reset() => Length = 0;

    /// <summary>
    /// Appends compressed vectors <paramref name="k"/> (B, 1, T, Dc) and rotated RoPE keys <paramref name="v"/> (B, 1, T, Dr) and
    /// returns every stored position, (B, 1, Length, Dc) and (B, 1, Length, Dr).
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        KvCacheChecks.Pair("LatentKvCache", k, v);
        int b = k.Size(0), t = k.Size(2);
        if (k.Size(1) != 1 || k.Size(3) != LatentDim || v.Size(3) != RopeDim)
            throw new ArgumentException($"LatentKvCache: expects latents (batch, 1, time, {LatentDim}) and RoPE keys (batch, 1, time, {RopeDim}), got {k.ShapeString} and {v.ShapeString}.");
        if (Length + t > Capacity)
            throw new InvalidOperationException($"LatentKvCache: appending {t} positions to {Length} exceeds the capacity of {Capacity} (the model's context length).");
        if (_buffer is null || _buffer.Size(0) != b)
        {
            if (Length > 0) throw new ArgumentException($"LatentKvCache: a batch of {b} rows does not match the cached batch of {_buffer?.Size(0)}.");
            using var _ = TensorScope.Suspend();
            _buffer = Tensor.Zeros([b, 1, Capacity, LatentDim + RopeDim], DType.Float32, k.Backend);
        }
        var rows = _buffer.Narrow(2, Length, t);                                       // (B, 1, T, Dc + Dr)
        rows.Narrow(3, 0, LatentDim).Detach().CopyFrom(k);
        rows.Narrow(3, LatentDim, RopeDim).Detach().CopyFrom(v);
        Length += t;
        return Stored();
    }

    /// <inheritdoc/>
    public (Tensor Keys, Tensor Values) Stored()
    {
        var all = StoredLatent();                                                      // (B, 1, Length, Dc + Dr)
        return (all.Narrow(3, 0, LatentDim), all.Narrow(3, LatentDim, RopeDim));
    }

    /// <summary>Every stored position as the joint rows [c | k_rope], (B, 1, Length, Dc + Dr), a view of the buffer.</summary>
    /// <exception cref="InvalidOperationException">Nothing is stored yet.</exception>
    public Tensor StoredLatent()
    {
        if (_buffer is null || Length == 0) throw new InvalidOperationException("LatentKvCache.Stored: the cache holds no positions.");
        return _buffer.Narrow(2, 0, Length);
    }

    /// <inheritdoc/>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (_buffer is null) { if (Length == 0) return; throw new InvalidOperationException("LatentKvCache.ReorderBatch: the cache holds no tensors."); }
        KvCacheChecks.Rows("LatentKvCache", rows, _buffer.Size(0));
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_buffer.Backend);
        _buffer = _buffer.IndexSelect(0, index).Contiguous();                          // (B', 1, capacity, Dc + Dr)
    }
}
