using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The cache of a sliding-window attention layer (Mistral, Qwen2's windowed layers; Hugging Face's <c>SlidingWindowCache</c>):
/// it keeps only the last <see cref="Window"/> - 1 positions, the ones a later query can still see, so its memory is bounded by
/// the window however long the sequence grows. Keys and values live in order in a buffer of 2·<see cref="Window"/> positions;
/// when it fills, the last Window - 1 move to its front (a copy every Window or so tokens, not every token).
/// <para>
/// <see cref="Length"/> counts every position appended (the next position's index, which RoPE and the context check need),
/// while <see cref="Append"/> and <see cref="Stored"/> return only the retained ones: the previous Window - 1 positions
/// (fewer at the start) followed by the new ones. The attention's window mask, aligned at the end, then sees exactly the
/// keys it would see without a cache. A key mask longer than the returned keys is cut to its last columns by
/// <see cref="MultiHeadAttention"/>. Used under <see cref="Autograd.GradMode.NoGrad"/>.
/// </para>
/// </summary>
public sealed class SlidingWindowKvCache : IKvCache
{
    private Tensor? _k, _v;   // (B, Hkv, 2·window, Dk), (B, Hkv, 2·window, Dv): positions [0, _n) in order, oldest first
    private int _n;

    /// <summary>Creates an empty cache for attention with a sliding <paramref name="window"/> (a query sees itself and window - 1 before it).</summary>
    public SlidingWindowKvCache(int window)
    {
        if (window <= 0) throw new ArgumentOutOfRangeException(nameof(window), window, "SlidingWindowKvCache: the window must be positive.");
        Window = window;
    }

    /// <summary>The attention window.</summary>
    public int Window { get; }

    /// <summary>Every position appended since the last <see cref="Reset"/> (not only the retained ones).</summary>
    public int Length { get; private set; }

    /// <summary>Positions held now: at most <see cref="Window"/> - 1 after an append.</summary>
    public int Retained => Math.Min(_n, Window - 1);

    /// <summary>Bytes of the key and value buffers (0 before the first append); bounded by 2·Window positions.</summary>
    public long Bytes => _k is null ? 0 : 4L * (_k.Count + _v!.Count);

    /// <inheritdoc/>
    public bool IsComplete => false;

    /// <inheritdoc/>
    public void Reset() { Length = 0; _n = 0; }

    /// <summary>
    /// Appends k (B, Hkv, T, Dk) and v (B, Hkv, T, Dv) and returns the retained past (up to Window - 1 positions) followed by
    /// them: (B, Hkv, R + T, Dk) and (B, Hkv, R + T, Dv).
    /// </summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        KvCacheChecks.Pair("SlidingWindowKvCache", k, v);
        int b = k.Size(0), h = k.Size(1), t = k.Size(2), d = k.Size(3), dv = v.Size(3);
        int capacity = 2 * Window, keep = Window - 1;
        if (_k is null || _k.Size(0) != b || _k.Size(1) != h || _k.Size(3) != d || _v!.Size(3) != dv)
        {
            if (_n > 0) throw new ArgumentException($"SlidingWindowKvCache: new keys {k.ShapeString} and values {v.ShapeString} do not match the cached batch/heads/widths {_k?.ShapeString}, {_v?.ShapeString}.");
            using var _ = TensorScope.Suspend();
            _k = Tensor.Zeros([b, h, capacity, d], DType.Float32, k.Backend);
            _v = Tensor.Zeros([b, h, capacity, dv], DType.Float32, k.Backend);
        }
        Length += t;
        if (_n + t > capacity) Compact(keep);                                        // keep only what later queries can see
        if (_n + t <= capacity)
        {
            _k.Narrow(2, _n, t).Detach().CopyFrom(k);
            _v!.Narrow(2, _n, t).Detach().CopyFrom(v);
            int start = Math.Max(0, _n - keep);
            _n += t;
            return (_k.Narrow(2, start, _n - start), _v.Narrow(2, start, _n - start));
        }
        // A chunk longer than the buffer's free room: return past + new, then keep the tail.
        var keys = Tensor.Concat([_k.Narrow(2, 0, _n), k.Detach()], 2);            // (B, Hkv, n + T, Dk)
        var values = Tensor.Concat([_v!.Narrow(2, 0, _n), v.Detach()], 2);         // (B, Hkv, n + T, Dv)
        int tail = Math.Min(keep, keys.Size(2));
        _k.Narrow(2, 0, tail).Detach().CopyFrom(keys.Narrow(2, keys.Size(2) - tail, tail));
        _v.Narrow(2, 0, tail).Detach().CopyFrom(values.Narrow(2, values.Size(2) - tail, tail));
        _n = tail;
        return (keys, values);
    }

    /// <summary>The retained positions, (B, Hkv, <see cref="Retained"/>, Dk) and (B, Hkv, Retained, Dv).</summary>
    /// <exception cref="InvalidOperationException">Nothing is retained.</exception>
    public (Tensor Keys, Tensor Values) Stored()
    {
        int r = Retained;
        if (_k is null || r == 0) throw new InvalidOperationException("SlidingWindowKvCache.Stored: the cache holds no positions.");
        return (_k.Narrow(2, _n - r, r), _v!.Narrow(2, _n - r, r));
    }

    /// <inheritdoc/>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        if (_k is null) { if (_n == 0) return; throw new InvalidOperationException("SlidingWindowKvCache.ReorderBatch: the cache holds no tensors."); }
        KvCacheChecks.Rows("SlidingWindowKvCache", rows, _k.Size(0));
        using var _ = TensorScope.Suspend();
        var index = Tensor.FromArray(rows.ToArray()).To(_k.Backend);
        _k = _k.IndexSelect(0, index).Contiguous();   // (B', Hkv, 2·window, Dk)
        _v = _v!.IndexSelect(0, index).Contiguous();
    }

    // Moves the last `keep` positions to the front (through a copy, as source and destination may overlap).
    private void Compact(int keep)
    {
        int m = Math.Min(_n, keep);
        if (m > 0 && _n > m)
        {
            var tk = _k!.Narrow(2, _n - m, m).Clone();
            var tv = _v!.Narrow(2, _n - m, m).Clone();
            _k.Narrow(2, 0, m).Detach().CopyFrom(tk);
            _v.Narrow(2, 0, m).Detach().CopyFrom(tv);
        }
        _n = m;
    }
}
