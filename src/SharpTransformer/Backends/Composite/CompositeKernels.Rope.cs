using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary>
    /// <see cref="IBackend.Rope"/> from primitives: y1 = x1 cos - x2 sin, y2 = x2 cos + x1 sin over the halves of each head.
    /// The cos/sin table (Batch·T, HeadDim/2) is computed on the host from the positions (read with Download), as there is
    /// no trigonometric primitive, and uploaded once per call.
    /// </summary>
    public static void Rope(IBackend b, IStorage x, IStorage positions, int batch, int heads, int t, int headDim, float theta, IStorage y, bool inverse)
    {
        int half = headDim / 2, bt = batch * t;
        if (bt == 0 || heads == 0 || half == 0) return;
        var pos = new int[bt];
        b.Download(positions, 0, pos, 0, bt);
        var cos = new float[bt * half];
        var sin = new float[bt * half];
        for (int i = 0; i < half; i++)
        {
            double inv = Math.Pow(theta, -2.0 * i / headDim);
            for (int p = 0; p < bt; p++)
            {
                double a = pos[p] * inv;
                cos[p * half + i] = (float)Math.Cos(a);
                sin[p * half + i] = inverse ? -(float)Math.Sin(a) : (float)Math.Sin(a);
            }
        }
        using var s = new Scratch(b);
        var cs = s.F(bt * half);
        var sn = s.F(bt * half);
        b.Upload(cos, 0, cs, 0, cos.Length);
        b.Upload(sin, 0, sn, 0, sin.Length);
        int[] shape = [batch, heads, t, half];
        int[] xStrides = [heads * t * headDim, t * headDim, headDim, 1];
        var x1 = new Layout(shape, xStrides);                                // first halves
        var x2 = new Layout((int[])shape.Clone(), (int[])xStrides.Clone(), half);
        var table = new Layout((int[])shape.Clone(), [t * half, 0, half, 1]);  // (B, ·, T, half) broadcast over heads
        var h = C(shape);
        int n = bt * heads * half;
        var a1 = s.F(n); var a2 = s.F(n); var y1 = s.F(n); var y2 = s.F(n);
        b.Binary(BinaryOp.Mul, x, x1, cs, table, a1);
        b.Binary(BinaryOp.Mul, x, x2, sn, table, a2);
        b.Binary(BinaryOp.Sub, a1, h, a2, h, y1);                            // x1 cos - x2 sin
        b.Binary(BinaryOp.Mul, x, x2, cs, table, a1);
        b.Binary(BinaryOp.Mul, x, x1, sn, table, a2);
        b.Binary(BinaryOp.Add, a1, h, a2, h, y2);                            // x2 cos + x1 sin
        b.Copy(y1, h, y, x1);
        b.Copy(y2, h, y, x2);
    }
}
