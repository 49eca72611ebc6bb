using System.Numerics.Tensors;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Fill(IStorage y, in Layout yl, float value)
    {
        var ys = Cast(y, "Fill");
        if (yl.IsContiguous)
        {
            if (ys.DType == DType.Float32) ys.Floats.AsSpan(yl.Offset, yl.Count).Fill(value);
            else ys.Ints.AsSpan(yl.Offset, yl.Count).Fill((int)value);
            return;
        }
        var od = new Odometer(yl.Shape, yl);
        for (int r = 0; r < od.Rows; r++, od.Next())
            for (int i = 0; i < od.Inner; i++)
            {
                int o = od.Off0 + i * od.InnerStride0;
                if (ys.DType == DType.Float32) ys.Floats[o] = value; else ys.Ints[o] = (int)value;
            }
    }

    /// <inheritdoc/>
    public void Copy(IStorage x, in Layout xl, IStorage y, in Layout yl)
    {
        var xs = Cast(x, "Copy");
        var ys = Cast(y, "Copy");
        if (xl.Count == 0) return;
        if (xs.DType == DType.Float32 && ys.DType == DType.Float32)
        {
            var xa = xs.Floats; var ya = ys.Floats;
            if (xl.IsContiguous && yl.IsContiguous)
            {
                xa.AsSpan(xl.Offset, xl.Count).CopyTo(ya.AsSpan(yl.Offset, yl.Count));
                return;
            }
            var od0 = new Odometer(xl.Shape, xl, yl);
            var xlc = xl; var ylc = yl;
            ParallelFor(od0.Rows, od0.Inner, (r0, r1) =>
            {
                var od = new Odometer(xlc.Shape, xlc, ylc);
                od.Seek(r0, xlc, ylc, ylc);
                for (int r = r0; r < r1; r++, od.Next())
                {
                    int n = od.Inner, sx = od.InnerStride0, sy = od.InnerStride1;
                    if (sx == 1 && sy == 1) { xa.AsSpan(od.Off0, n).CopyTo(ya.AsSpan(od.Off1, n)); continue; }
                    for (int i = 0; i < n; i++) ya[od.Off1 + i * sy] = xa[od.Off0 + i * sx];
                }
            });
            return;
        }
        // Mixed or int copies: simple strided loop.
        var o2 = new Odometer(xl.Shape, xl, yl);
        for (int r = 0; r < o2.Rows; r++, o2.Next())
            for (int i = 0; i < o2.Inner; i++)
            {
                int xo = o2.Off0 + i * o2.InnerStride0, yo = o2.Off1 + i * o2.InnerStride1;
                if (ys.DType == DType.Float32) ys.Floats[yo] = xs.DType == DType.Float32 ? xs.Floats[xo] : xs.Ints[xo];
                else ys.Ints[yo] = xs.DType == DType.Int32 ? xs.Ints[xo] : (int)xs.Floats[xo];
            }
    }

    /// <inheritdoc/>
    public void Arange(IStorage y, int n)
    {
        var ys = Cast(y, "Arange");
        if (ys.DType == DType.Float32) for (int i = 0; i < n; i++) ys.Floats[i] = i;
        else for (int i = 0; i < n; i++) ys.Ints[i] = i;
    }

    /// <inheritdoc/>
    public void RandomFill(IStorage y, int n, RandomKind kind, float a, float b, ulong seed, ulong offset)
    {
        var ya = Cast(y, "RandomFill").Floats;
        ParallelFor(n, 16, (s, e) =>
        {
            for (int i = s; i < e; i++) ya[i] = CounterRng.Sample(kind, a, b, seed, offset + (ulong)i);
        });
    }

    /// <inheritdoc/>
    public void SumSquares(IStorage x, int n, IStorage acc)
    {
        var xa = F(x);
        var aa = F(acc);
        aa[0] += TensorPrimitives.SumOfSquares(xa.AsSpan(0, n));
    }
}
