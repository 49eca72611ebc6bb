using SharpTransformer.Nn;

namespace SharpTransformer.Models;

/// <summary>
/// The caches of an encoder-decoder's decoder, one entry per decoder layer: <see cref="SelfAttention"/> grows by one position
/// per decoding step; <see cref="CrossAttention"/> holds the keys and values of the encoder output, computed at the first step
/// and read unchanged afterwards. Beam search reorders both with <see cref="ReorderBatch"/>.
/// </summary>
/// <param name="SelfAttention">The decoder self-attention cache of each layer.</param>
/// <param name="CrossAttention">The cross-attention cache of each layer.</param>
public sealed record Seq2SeqCaches(IKvCache[] SelfAttention, IKvCache[] CrossAttention)
{
    /// <summary>Reorders the batch rows of every cache in place (row i becomes the old row <paramref name="rows"/>[i]).</summary>
    public void ReorderBatch(ReadOnlySpan<int> rows)
    {
        foreach (var c in SelfAttention) c.ReorderBatch(rows);
        foreach (var c in CrossAttention) c.ReorderBatch(rows);
    }

    /// <summary>Forgets every cached position of both kinds.</summary>
    public void Reset()
    {
        foreach (var c in SelfAttention) c.Reset();
        foreach (var c in CrossAttention) c.Reset();
    }
}
