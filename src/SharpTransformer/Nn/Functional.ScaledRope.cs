using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

public static partial class Functional
{
    /// <summary>
    /// Rotary position embedding (rotate-half form) on x (B, H, T, D) with Int32 positions (B, T) or (T), its frequencies
    /// rescaled by <paramref name="scaling"/> (<see cref="RotaryFrequencies"/>): y = x·cos·a + rotate_half(x)·sin·a with a the
    /// attention factor. Without scaling it is <see cref="Rope(Tensor, Tensor, float)"/>'s fused kernel; with scaling the
    /// cos/sin tables are made on the host and applied with differentiable element-wise ops.
    /// </summary>
    public static Tensor Rope(Tensor x, Tensor positions, float theta, RopeScaling? scaling)
    {
        if (scaling is null || scaling.Type == RopeType.Default) return Rope(x, positions, theta);
        x.RequireFloat("rope");
        if (x.Rank != 4) throw new ArgumentException($"rope: input must be (batch, heads, time, head_dim), got {x.ShapeString}.");
        int bsz = x.Size(0), t = x.Size(2), d = x.Size(3), half = d / 2;
        if (d % 2 != 0) throw new ArgumentException($"rope: head dimension {d} must be even ({x.ShapeString}).");
        if (positions.DType != DType.Int32) throw new ArgumentException($"rope: positions must be Int32, got {positions.DType}.");
        int rows;
        if (positions.Rank == 1 && positions.Size(0) == t) rows = 1;
        else if (positions.Rank == 2 && positions.Size(0) == bsz && positions.Size(1) == t) rows = bsz;
        else throw new ArgumentException($"rope: positions {positions.ShapeString} must be ({t},) or ({bsz}, {t}) for input {x.ShapeString}.");
        var pos = positions.Dense().ToIntArray();
        int maxPos = 0;
        foreach (int p in pos) maxPos = Math.Max(maxPos, p);
        var (inv, factor) = RotaryFrequencies.Compute(theta, d, scaling, maxPos + 1);
        var cos = new float[rows * t * d];
        var sin = new float[rows * t * d];
        for (int r = 0; r < rows * t; r++)
            for (int i = 0; i < half; i++)
            {
                double a = pos[r] * inv[i];
                float c = (float)(Math.Cos(a) * factor), sn = (float)(Math.Sin(a) * factor);
                cos[r * d + i] = cos[r * d + i + half] = c;
                sin[r * d + i] = sin[r * d + i + half] = sn;
            }
        var cosT = Tensor.FromArray(cos, rows, 1, t, d).To(x.Backend);               // (B or 1, 1, T, D)
        var sinT = Tensor.FromArray(sin, rows, 1, t, d).To(x.Backend);
        var rotated = Tensor.Concat([x.Narrow(-1, half, half).Neg(), x.Narrow(-1, 0, half)], -1);   // (B, H, T, D)
        return x.Mul(cosT).Add(rotated.Mul(sinT));
    }
}
