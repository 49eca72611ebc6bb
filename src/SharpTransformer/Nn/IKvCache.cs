using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// What one attention layer keeps between decoding steps. Implementations differ in how they store it: <see cref="KvCache"/>
/// grows into a buffer it allocates on first use, <see cref="StaticKvCache"/> allocates a fixed batch and capacity up front,
/// <see cref="CrossAttentionCache"/> holds the keys and values of an encoder output, projected once.
/// <para>
/// The interface does not assume per-head keys and values: it stores two tensors whose dimension 0 is the batch and dimension 2
/// the position (the other dimensions are the attention's business). Standard attention stores keys (B, Hkv, T, D) and values
/// (B, Hkv, T, Dv); a latent attention (DeepSeek's MLA) stores its compressed vector, e.g. (B, 1, T, Dc), and its rotary key part
/// instead, and expands them itself. Attention appends and reads; beam search reorders batch rows.
/// </para>
/// </summary>
public interface IKvCache
{
    /// <summary>Positions stored so far (the encoder length for a cross-attention cache).</summary>
    int Length { get; }

    /// <summary>
    /// True when the cache holds every position it will ever hold (a cross-attention cache after its first call): attention then
    /// reads <see cref="Stored"/> instead of projecting its key/value source and appending.
    /// </summary>
    bool IsComplete { get; }

    /// <summary>Forgets every position (memory may be kept).</summary>
    void Reset();

    /// <summary>
    /// Adds the keys and values of new positions, k (B, Hkv, T, Dk) and v (B, Hkv, T, Dv), and returns every stored
    /// position (B, Hkv, Length, Dk) and (B, Hkv, Length, Dv).
    /// </summary>
    (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v);

    /// <summary>Every stored position, (B, Hkv, Length, Dk) and (B, Hkv, Length, Dv), without appending.</summary>
    /// <exception cref="InvalidOperationException">Nothing is stored yet.</exception>
    (Tensor Keys, Tensor Values) Stored();

    /// <summary>
    /// Reorders the batch rows in place: row i becomes the old row <paramref name="rows"/>[i] (beam search keeps, drops and
    /// duplicates beams this way). The number of rows may change unless the cache has a fixed batch.
    /// </summary>
    void ReorderBatch(ReadOnlySpan<int> rows);
}
