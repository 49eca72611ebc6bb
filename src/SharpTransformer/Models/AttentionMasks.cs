using SharpTransformer.Tensors;

namespace SharpTransformer.Models;

/// <summary>Conversions of Hugging Face style attention masks (1 on tokens, 0 on padding).</summary>
public static class AttentionMasks
{
    /// <summary>An Int32 or Float32 mask (B, T) as the Float32 key mask the attention kernels take (same values).</summary>
    public static Tensor ToKeyMask(Tensor mask, string op)
    {
        if (mask.Rank != 2) throw new ArgumentException($"{op}: attention mask must be (batch, time), got {mask.ShapeString}.");
        if (mask.DType == DType.Float32) return mask;
        var ints = mask.ToIntArray();
        var f = new float[ints.Length];
        for (int i = 0; i < f.Length; i++) f[i] = ints[i] != 0 ? 1f : 0f;
        return Tensor.FromArray(f, mask.Size(0), mask.Size(1)).To(mask.Backend);
    }

    /// <summary>The number of non-padding positions in each row of a (B, T) mask.</summary>
    public static int[] Lengths(Tensor mask)
    {
        var v = mask.DType == DType.Int32 ? mask.ToIntArray().Select(x => (float)x).ToArray() : mask.ToArray();
        int b = mask.Size(0), t = mask.Size(1);
        var r = new int[b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < t; j++)
                if (v[i * t + j] != 0f) r[i]++;
        return r;
    }
}
