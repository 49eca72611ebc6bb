using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Classification;

/// <summary>Differentiable poolings of hidden states (B, T, C) to (B, C).</summary>
public static class Pooling
{
    /// <summary>The first position of each sequence.</summary>
    public static Tensor First(Tensor hidden) => hidden.Select(1, 0);                        // (B, C)

    /// <summary>The mean over positions where <paramref name="mask"/> (B, T) is non-zero; all positions without a mask.</summary>
    public static Tensor Mean(Tensor hidden, Tensor? mask)
    {
        if (mask is null) return hidden.Mean(1);
        var m = AttentionMasks.ToKeyMask(mask, "Pooling.Mean");                              // (B, T)
        if (m.Size(0) != hidden.Size(0) || m.Size(1) != hidden.Size(1))
            throw new ArgumentException($"Pooling.Mean: mask {m.ShapeString} does not match hidden states {hidden.ShapeString}.");
        var sum = hidden.Mul(m.Unsqueeze(-1)).Sum(1);                                        // (B, C)
        var count = m.Sum(1, keepDim: true).Clamp(min: 1f);                                  // (B, 1)
        return sum.Div(count);
    }

    /// <summary>The last position where <paramref name="mask"/> is non-zero (right padding), or the last position without a mask.</summary>
    public static Tensor Last(Tensor hidden, Tensor? mask)
    {
        int b = hidden.Size(0), t = hidden.Size(1), c = hidden.Size(2);
        var lengths = mask is null ? Enumerable.Repeat(t, b).ToArray() : AttentionMasks.Lengths(mask);
        var rows = new int[b];
        for (int i = 0; i < b; i++)
        {
            if (lengths[i] == 0) throw new ArgumentException($"Pooling.Last: sequence {i} of the batch is all padding.");
            rows[i] = i * t + lengths[i] - 1;
        }
        return hidden.Contiguous().Reshape(b * t, c).IndexSelect(0, Tensor.FromArray(rows).To(hidden.Backend));   // (B, C)
    }
}
