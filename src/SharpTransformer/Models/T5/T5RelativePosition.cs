using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.T5;

/// <summary>
/// T5's bucketed relative position bias: the distance key - query falls into one of a few buckets (exact for small distances,
/// logarithmic up to a maximum distance, separate signs when bidirectional), and each bucket has a learned score per head that
/// is added to the attention scores. The first block of each stack holds the table; the bias is computed once and shared by
/// every block of the stack.
/// </summary>
public static class T5RelativePosition
{
    /// <summary>
    /// The bucket of <paramref name="relativePosition"/> (key position - query position), as Hugging Face's
    /// <c>_relative_position_bucket</c> (float32 logarithm, truncated): bidirectional (encoder) uses half the buckets per sign,
    /// causal (decoder) sees only distances to the past.
    /// </summary>
    public static int Bucket(int relativePosition, bool bidirectional, int numBuckets, int maxDistance)
    {
        int bucket = 0, n = numBuckets, rp = relativePosition;
        if (bidirectional)
        {
            n /= 2;
            if (rp > 0) bucket += n;
            rp = Math.Abs(rp);
        }
        else rp = -Math.Min(rp, 0);
        int maxExact = n / 2;
        if (rp < maxExact) return bucket + rp;
        float large = MathF.Log((float)rp / maxExact) / (float)Math.Log((double)maxDistance / maxExact) * (n - maxExact);
        return bucket + Math.Min(maxExact + (int)large, n - 1);
    }

    /// <summary>
    /// The additive score bias (1, H, Tq, Tk) for queries at positions <paramref name="queryStart"/> .. + Tq - 1 and keys at
    /// 0 .. Tk - 1, looked up in <paramref name="table"/> (buckets, H), with its gradient into the table.
    /// </summary>
    public static Tensor Bias(Embedding table, int queryStart, int queryLength, int keyLength, bool bidirectional, int maxDistance)
    {
        ArgumentNullException.ThrowIfNull(table);
        int buckets = table.Weight.Size(0), heads = table.Weight.Size(1);
        var ids = new int[queryLength * keyLength];
        for (int i = 0; i < queryLength; i++)
            for (int j = 0; j < keyLength; j++)
                ids[i * keyLength + j] = Bucket(j - (queryStart + i), bidirectional, buckets, maxDistance);
        var idx = Tensor.FromArray(ids, queryLength, keyLength).To(table.Weight.Backend);
        var values = table.Forward(idx);                                                     // (Tq, Tk, H)
        return values.Permute(2, 0, 1).Reshape(1, heads, queryLength, keyLength);            // (1, H, Tq, Tk)
    }
}
