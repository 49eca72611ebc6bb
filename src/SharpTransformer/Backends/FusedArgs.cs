namespace SharpTransformer.Backends;

/// <summary>
/// Sizes and options of scaled dot-product attention.
/// Queries are (Batch, Heads, QueryLength, HeadDim); keys and values (Batch, KvHeads, KeyLength, HeadDim); all contiguous.
/// Query head h reads key/value head h / (Heads / KvHeads) (grouped-query attention).
/// With <see cref="Causal"/>, query i sees keys j &lt;= i + (KeyLength - QueryLength) (aligned at the end, as with a KV cache).
/// <see cref="KeyCapacity"/> (0 = KeyLength) lets keys and values live in a larger preallocated cache (Batch, KvHeads, KeyCapacity, HeadDim)
/// of which the first KeyLength positions are used; dk and dv are always (Batch, KvHeads, KeyLength, HeadDim).
/// </summary>
public readonly record struct AttentionShape(
    int Batch, int Heads, int KvHeads, int QueryLength, int KeyLength, int HeadDim, bool Causal, float Scale, int KeyCapacity = 0)
{
    /// <summary>Positions between consecutive key heads in storage.</summary>
    public int KeyRows => KeyCapacity > 0 ? KeyCapacity : KeyLength;

    /// <summary>Query heads served by one key/value head.</summary>
    public int Group => Heads / KvHeads;
}

/// <summary>Hyper-parameters of one AdamW step (decoupled weight decay, bias-corrected moments).</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the root of the second moment.</param>
/// <param name="WeightDecay">Decoupled decay: p -= lr * wd * p.</param>
/// <param name="Step">1-based step number for bias correction.</param>
public readonly record struct AdamWArgs(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step);
