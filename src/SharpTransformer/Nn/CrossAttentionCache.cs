using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The keys and values of a cross-attention layer, projected once from the encoder output (Hugging Face's
/// <c>EncoderDecoderCache</c> cross half): the first call of the attention appends them, every later step reads them
/// (<see cref="IsComplete"/>). <see cref="Length"/> is the encoder length.
/// </summary>
public sealed class CrossAttentionCache : IKvCache
{
    private Tensor? _k, _v;   // (B, Hkv, S, Dk), (B, Hkv, S, Dv)

    /// <inheritdoc/>
    public int Length => _k?.Size(2) ?? 0;

    /// <inheritdoc/>
    public bool IsComplete => _k is not null;

    /// <summary>Forgets the encoder's keys and values (for the next input).</summary>
    public void Reset() => (_k, _v) = (null, null);

    /// <summary>Stores the encoder's keys and values (a copy that outlives any <see cref="TensorScope"/>) and returns them.</summary>
    /// <exception cref="InvalidOperationException">The cache is already complete.</exception>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        KvCacheChecks.Pair("CrossAttentionCache", k, v);
        if (IsComplete)
            throw new InvalidOperationException($"CrossAttentionCache: already holds the encoder's keys {_k!.ShapeString}; Reset() it for a new input (self-attention needs a KvCache).");
        using var _ = TensorScope.Suspend();
        _k = k.Detach().Clone();
        _v = v.Detach().Clone();
        return (_k, _v);
    }

    /// <inheritdoc/>
    public (Tensor Keys, Tensor Values) Stored() =>
        _k is null ? throw new InvalidOperationException("CrossAttentionCache.Stored: nothing is stored yet (the first call of the attention stores the encoder's keys).") : (_k, _v!);

    /// <inheritdoc/>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (_k is null) return;
        KvCacheChecks.Rows("CrossAttentionCache", rows, _k.Size(0));
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_k.Backend);
        _k = _k.IndexSelect(0, index).Contiguous();   // (B', Hkv, S, Dk)
        _v = _v!.IndexSelect(0, index).Contiguous();
    }
}
