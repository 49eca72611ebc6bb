using System.Numerics.Tensors;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Reduce(ReduceOp op, IStorage x, in Layout xl, int axis, IStorage y)
    {
        if (axis < 0 || axis >= xl.Rank)
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Reduce({op}): axis out of range for {Layout.Format(xl.Shape)}.");
        var xs = Cast(x, "Reduce");
        float[] xa;
        int xo;
        IStorage? tmp = null;
        if (xl.IsContiguous) { xa = xs.Floats; xo = xl.Offset; }
        else
        {
            tmp = Allocate(DType.Float32, xl.Count, zero: false);
            Copy(x, xl, tmp, Layout.Contiguous(xl.Shape));
            xa = ((CpuStorage)tmp).Floats; xo = 0;
        }
        try
        {
            int outer = 1, inner = 1, len = xl.Shape[axis];
            for (int d = 0; d < axis; d++) outer *= xl.Shape[d];
            for (int d = axis + 1; d < xl.Rank; d++) inner *= xl.Shape[d];
            if (len == 0 && op != ReduceOp.Sum)
                throw new ArgumentException($"Reduce({op}): cannot reduce an empty axis {axis} of {Layout.Format(xl.Shape)}.");
            if (op == ReduceOp.ArgMax) { ArgMax(xa, xo, outer, len, inner, I(y)); return; }
            var ya = F(y);
            if (inner == 1)
            {
                ParallelFor(outer, len, (s, e) =>
                {
                    for (int o = s; o < e; o++)
                    {
                        var row = xa.AsSpan(xo + o * len, len);
                        ya[o] = op switch
                        {
                            ReduceOp.Sum => TensorPrimitives.Sum(row),
                            ReduceOp.Max => TensorPrimitives.Max(row),
                            _ => TensorPrimitives.Min(row),
                        };
                    }
                });
                return;
            }
            ParallelFor(outer, (long)len * inner, (s, e) =>
            {
                for (int o = s; o < e; o++)
                {
                    var dst = ya.AsSpan(o * inner, inner);
                    int baseOff = xo + o * len * inner;
                    if (len == 0) { dst.Clear(); continue; }
                    xa.AsSpan(baseOff, inner).CopyTo(dst);
                    for (int a = 1; a < len; a++)
                    {
                        var src = xa.AsSpan(baseOff + a * inner, inner);
                        switch (op)
                        {
                            case ReduceOp.Sum: TensorPrimitives.Add(dst, src, dst); break;
                            case ReduceOp.Max: TensorPrimitives.Max(dst, src, dst); break;
                            default: TensorPrimitives.Min(dst, src, dst); break;
                        }
                    }
                }
            });
        }
        finally { tmp?.Dispose(); }
    }

    private static void ArgMax(float[] xa, int xo, int outer, int len, int inner, int[] ya)
    {
        for (int o = 0; o < outer; o++)
            for (int r = 0; r < inner; r++)
            {
                int best = 0;
                float bv = xa[xo + o * len * inner + r];
                for (int a = 1; a < len; a++)
                {
                    float v = xa[xo + (o * len + a) * inner + r];
                    if (v > bv || (float.IsNaN(v) && !float.IsNaN(bv))) { bv = v; best = a; }
                }
                ya[o * inner + r] = best;
            }
    }
}
