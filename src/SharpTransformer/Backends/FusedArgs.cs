namespace SharpTransformer.Backends;

/// <summary>
/// Sizes and options of scaled dot-product attention.
/// Queries are (Batch, Heads, QueryLength, HeadDim); keys (Batch, KvHeads, KeyLength, HeadDim); values (Batch, KvHeads, KeyLength, ValueDim);
/// the output (Batch, Heads, QueryLength, ValueDim); all contiguous. <see cref="ValueDim"/> 0 means HeadDim (the usual case); a different
/// value head size is DeepSeek's latent attention.
/// Query head h reads key/value head h / (Heads / KvHeads) (grouped-query attention).
/// With <see cref="Causal"/>, query i sees keys j &lt;= i' with i' = i + (KeyLength - QueryLength) (aligned at the end, as with a KV cache);
/// with a <see cref="Window"/> w &gt; 0 as well (Mistral's sliding window), only keys i' - w &lt; j &lt;= i'. Window 0 is unlimited; a window
/// needs <see cref="Causal"/>.
/// <see cref="KeyCapacity"/> (0 = KeyLength) lets keys and values live in a larger preallocated cache (Batch, KvHeads, KeyCapacity, HeadDim
/// or ValueDim) of which the first KeyLength positions are used; dk and dv are always (Batch, KvHeads, KeyLength, HeadDim or ValueDim).
/// </summary>
public readonly record struct AttentionShape(
    int Batch, int Heads, int KvHeads, int QueryLength, int KeyLength, int HeadDim, bool Causal, float Scale, int KeyCapacity = 0,
    int ValueDim = 0, int Window = 0)
{
    /// <summary>Positions between consecutive key heads in storage.</summary>
    public int KeyRows => KeyCapacity > 0 ? KeyCapacity : KeyLength;

    /// <summary>Query heads served by one key/value head.</summary>
    public int Group => Heads / KvHeads;

    /// <summary>The value head size: <see cref="ValueDim"/>, or <see cref="HeadDim"/> when that is 0.</summary>
    public int ValueHeadDim => ValueDim > 0 ? ValueDim : HeadDim;

    /// <summary>The first key query <paramref name="i"/> may see (0 unless a sliding window cuts earlier keys off).</summary>
    public int KeyStart(int i)
    {
        if (!Causal || Window <= 0) return 0;
        int start = i + KeyLength - QueryLength - Window + 1;
        return start > 0 ? start : 0;
    }

    /// <summary>One past the last key query <paramref name="i"/> may see.</summary>
    public int KeyEnd(int i) => Causal ? Math.Min(KeyLength, i + KeyLength - QueryLength + 1) : KeyLength;

    /// <summary>Throws when the sizes are inconsistent (names <paramref name="op"/> and the shape).</summary>
    public void Validate(string op)
    {
        if (Batch < 0 || Heads <= 0 || KvHeads <= 0 || QueryLength < 0 || KeyLength < 0 || HeadDim <= 0 || ValueDim < 0 || Heads % KvHeads != 0)
            throw new ArgumentException($"{op}: invalid attention shape {this}.");
        if (KeyCapacity != 0 && KeyCapacity < KeyLength)
            throw new ArgumentException($"{op}: KeyCapacity {KeyCapacity} is smaller than KeyLength {KeyLength}.");
        if (Window < 0 || (Window > 0 && !Causal))
            throw new ArgumentException($"{op}: a sliding window ({Window}) must be positive and needs causal attention ({this}).");
    }
}

/// <summary>Hyper-parameters of one AdamW step (decoupled weight decay, bias-corrected moments).</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the root of the second moment.</param>
/// <param name="WeightDecay">Decoupled decay: p -= lr * wd * p.</param>
/// <param name="Step">1-based step number for bias correction.</param>
public readonly record struct AdamWArgs(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step);
