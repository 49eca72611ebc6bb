using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The keys and values one attention layer keeps between decoding steps. Implementations differ in how they store them
/// (<see cref="KvCache"/> grows into a preallocated buffer); attention only appends and reads, and beam search reorders rows.
/// </summary>
public interface IKvCache
{
    /// <summary>Positions stored so far.</summary>
    int Length { get; }

    /// <summary>Forgets every position (memory may be kept).</summary>
    void Reset();

    /// <summary>
    /// Adds the keys and values of new positions, k (B, Hkv, T, Dk) and v (B, Hkv, T, Dv), and returns every stored
    /// position (B, Hkv, Length, Dk) and (B, Hkv, Length, Dv).
    /// </summary>
    (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v);

    /// <summary>
    /// Reorders the batch rows in place: row i becomes the old row <paramref name="rows"/>[i] (beam search keeps, drops and
    /// duplicates beams this way). The number of rows may change.
    /// </summary>
    void ReorderBatch(ReadOnlySpan<int> rows);
}
