using System.Numerics.Tensors;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Unary(UnaryOp op, IStorage x, in Layout xl, IStorage y, float arg = 0f)
    {
        var xa = F(x);
        var ya = F(y);
        int n = xl.Count;
        if (n == 0) return;
        if (xl.IsContiguous)
        {
            int off = xl.Offset;
            ParallelFor(n, CostOf(op), (s, e) => UnarySpan(op, xa.AsSpan(off + s, e - s), ya.AsSpan(s, e - s), arg));
            return;
        }
        var xlc = xl;
        var od0 = new Odometer(xl.Shape, xl);
        int inner = od0.Inner;
        ParallelFor(od0.Rows, inner * CostOf(op), (r0, r1) =>
        {
            var od = new Odometer(xlc.Shape, xlc);
            od.Seek(r0, xlc, xlc, xlc);
            Span<float> tmp = inner <= 4096 ? stackalloc float[inner] : new float[inner];
            for (int r = r0; r < r1; r++, od.Next())
            {
                var dst = ya.AsSpan(r * inner, inner);
                if (od.InnerStride0 == 1) { UnarySpan(op, xa.AsSpan(od.Off0, inner), dst, arg); continue; }
                for (int i = 0; i < inner; i++) tmp[i] = xa[od.Off0 + i * od.InnerStride0];
                UnarySpan(op, tmp, dst, arg);
            }
        });
    }

    private static int CostOf(UnaryOp op) => op switch
    {
        UnaryOp.Gelu or UnaryOp.GeluTanh or UnaryOp.Tanh or UnaryOp.Sigmoid or UnaryOp.Silu or UnaryOp.Exp or UnaryOp.Log or UnaryOp.PowScalar => 16,
        _ => 1,
    };

    internal static void UnarySpan(UnaryOp op, ReadOnlySpan<float> x, Span<float> y, float arg)
    {
        switch (op)
        {
            case UnaryOp.Identity: x.CopyTo(y); break;
            case UnaryOp.Neg: TensorPrimitives.Negate(x, y); break;
            case UnaryOp.Exp: TensorPrimitives.Exp(x, y); break;
            case UnaryOp.Log: TensorPrimitives.Log(x, y); break;
            case UnaryOp.Sqrt: TensorPrimitives.Sqrt(x, y); break;
            case UnaryOp.Tanh: TensorPrimitives.Tanh(x, y); break;
            case UnaryOp.Sigmoid: TensorPrimitives.Sigmoid(x, y); break;
            case UnaryOp.Relu: TensorPrimitives.Max(x, 0f, y); break;
            case UnaryOp.Abs: TensorPrimitives.Abs(x, y); break;
            case UnaryOp.Square: TensorPrimitives.Multiply(x, x, y); break;
            case UnaryOp.Reciprocal: TensorPrimitives.Reciprocal(x, y); break;
            case UnaryOp.AddScalar: TensorPrimitives.Add(x, arg, y); break;
            case UnaryOp.MulScalar: TensorPrimitives.Multiply(x, arg, y); break;
            case UnaryOp.PowScalar:
                if (arg == 2f) TensorPrimitives.Multiply(x, x, y);
                else if (arg == 1f) x.CopyTo(y);
                else if (arg == 0.5f) TensorPrimitives.Sqrt(x, y);
                else TensorPrimitives.Pow(x, arg, y);
                break;
            case UnaryOp.RDivScalar: TensorPrimitives.Divide(arg, x, y); break;
            case UnaryOp.ClampMin: TensorPrimitives.Max(x, arg, y); break;
            case UnaryOp.ClampMax: TensorPrimitives.Min(x, arg, y); break;
            case UnaryOp.Silu:
                TensorPrimitives.Sigmoid(x, y);
                TensorPrimitives.Multiply(x, y, y);
                break;
            case UnaryOp.Gelu:
                for (int i = 0; i < x.Length; i++) y[i] = ScalarMath.Gelu(x[i]);
                break;
            case UnaryOp.GeluTanh:
                GeluKernels.Forward(x, y);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "Unary: unknown op.");
        }
    }

    /// <inheritdoc/>
    public void UnaryBackward(UnaryOp op, IStorage x, IStorage y, IStorage dy, IStorage dx, int n, float arg = 0f)
    {
        var xa = F(x); var ya = F(y); var ga = F(dy); var da = F(dx);
        ParallelFor(n, 8, (s, e) =>
        {
            var X = xa.AsSpan(s, e - s); var Y = ya.AsSpan(s, e - s); var G = ga.AsSpan(s, e - s); var D = da.AsSpan(s, e - s);
            switch (op)
            {
                case UnaryOp.Identity: case UnaryOp.AddScalar: G.CopyTo(D); break;
                case UnaryOp.Neg: TensorPrimitives.Negate(G, D); break;
                case UnaryOp.Exp: TensorPrimitives.Multiply(G, Y, D); break;
                case UnaryOp.Log: TensorPrimitives.Divide(G, X, D); break;
                case UnaryOp.Sqrt: for (int i = 0; i < D.Length; i++) D[i] = G[i] * 0.5f / Y[i]; break;
                case UnaryOp.Tanh: for (int i = 0; i < D.Length; i++) D[i] = G[i] * (1f - Y[i] * Y[i]); break;
                case UnaryOp.Sigmoid: for (int i = 0; i < D.Length; i++) D[i] = G[i] * Y[i] * (1f - Y[i]); break;
                case UnaryOp.Relu: for (int i = 0; i < D.Length; i++) D[i] = X[i] > 0f ? G[i] : 0f; break;
                case UnaryOp.Abs: for (int i = 0; i < D.Length; i++) D[i] = X[i] > 0f ? G[i] : X[i] < 0f ? -G[i] : 0f; break;
                case UnaryOp.Square: for (int i = 0; i < D.Length; i++) D[i] = 2f * X[i] * G[i]; break;
                case UnaryOp.Reciprocal: for (int i = 0; i < D.Length; i++) D[i] = -G[i] * Y[i] * Y[i]; break;
                case UnaryOp.MulScalar: TensorPrimitives.Multiply(G, arg, D); break;
                case UnaryOp.PowScalar:
                    for (int i = 0; i < D.Length; i++) D[i] = arg == 0f ? 0f : G[i] * arg * MathF.Pow(X[i], arg - 1f);
                    break;
                case UnaryOp.RDivScalar: for (int i = 0; i < D.Length; i++) D[i] = -G[i] * Y[i] / X[i]; break;
                case UnaryOp.ClampMin: for (int i = 0; i < D.Length; i++) D[i] = X[i] >= arg ? G[i] : 0f; break;
                case UnaryOp.ClampMax: for (int i = 0; i < D.Length; i++) D[i] = X[i] <= arg ? G[i] : 0f; break;
                case UnaryOp.Silu:
                    for (int i = 0; i < D.Length; i++)
                    {
                        float sg = ScalarMath.Sigmoid(X[i]);
                        D[i] = G[i] * (sg + X[i] * sg * (1f - sg));
                    }
                    break;
                case UnaryOp.Gelu: for (int i = 0; i < D.Length; i++) D[i] = G[i] * ScalarMath.GeluGrad(X[i]); break;
                case UnaryOp.GeluTanh: GeluKernels.Backward(X, G, D); break;
                default: throw new ArgumentOutOfRangeException(nameof(op), op, "UnaryBackward: unknown op.");
            }
        });
    }

    /// <inheritdoc/>
    public void Binary(BinaryOp op, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y)
    {
        var aa = F(a); var ba = F(b); var ya = F(y);
        int n = al.Count;
        if (n == 0) return;
        if (al.IsContiguous && bl.IsContiguous)
        {
            int ao = al.Offset, bo = bl.Offset;
            ParallelFor(n, 1, (s, e) => BinarySpan(op, aa.AsSpan(ao + s, e - s), ba.AsSpan(bo + s, e - s), ya.AsSpan(s, e - s)));
            return;
        }
        var alc = al; var blc = bl;
        var od0 = new Odometer(al.Shape, al, bl);
        int inner = od0.Inner;
        ParallelFor(od0.Rows, inner, (r0, r1) =>
        {
            var od = new Odometer(alc.Shape, alc, blc);
            od.Seek(r0, alc, blc, blc);
            Span<float> ta = inner <= 2048 ? stackalloc float[inner] : new float[inner];
            Span<float> tb = inner <= 2048 ? stackalloc float[inner] : new float[inner];
            for (int r = r0; r < r1; r++, od.Next())
            {
                var dst = ya.AsSpan(r * inner, inner);
                int sa = od.InnerStride0, sb = od.InnerStride1;
                if (sb == 0 && sa == 1) { BinarySpanScalarB(op, aa.AsSpan(od.Off0, inner), ba[od.Off1], dst); continue; }
                ReadOnlySpan<float> A = sa == 1 ? aa.AsSpan(od.Off0, inner) : Gather(aa, od.Off0, sa, ta);
                ReadOnlySpan<float> B = sb == 1 ? ba.AsSpan(od.Off1, inner) : Gather(ba, od.Off1, sb, tb);
                BinarySpan(op, A, B, dst);
            }
        });
    }

    private static Span<float> Gather(float[] src, int off, int stride, Span<float> tmp)
    {
        if (stride == 0) tmp.Fill(src[off]);
        else for (int i = 0; i < tmp.Length; i++) tmp[i] = src[off + i * stride];
        return tmp;
    }

    internal static void BinarySpan(BinaryOp op, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Pow: TensorPrimitives.Pow(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, y); break;
            case BinaryOp.Equal: for (int i = 0; i < y.Length; i++) y[i] = a[i] == b[i] ? 1f : 0f; break;
            case BinaryOp.Greater: for (int i = 0; i < y.Length; i++) y[i] = a[i] > b[i] ? 1f : 0f; break;
            case BinaryOp.Less: for (int i = 0; i < y.Length; i++) y[i] = a[i] < b[i] ? 1f : 0f; break;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, "Binary: unknown op.");
        }
    }

    private static void BinarySpanScalarB(BinaryOp op, ReadOnlySpan<float> a, float b, Span<float> y)
    {
        switch (op)
        {
            case BinaryOp.Add: TensorPrimitives.Add(a, b, y); break;
            case BinaryOp.Sub: TensorPrimitives.Subtract(a, b, y); break;
            case BinaryOp.Mul: TensorPrimitives.Multiply(a, b, y); break;
            case BinaryOp.Div: TensorPrimitives.Divide(a, b, y); break;
            case BinaryOp.Max: TensorPrimitives.Max(a, b, y); break;
            case BinaryOp.Min: TensorPrimitives.Min(a, b, y); break;
            default:
                for (int i = 0; i < y.Length; i++)
                {
                    float ai = a[i];
                    y[i] = op switch
                    {
                        BinaryOp.Pow => MathF.Pow(ai, b),
                        BinaryOp.Equal => ai == b ? 1f : 0f,
                        BinaryOp.Greater => ai > b ? 1f : 0f,
                        BinaryOp.Less => ai < b ? 1f : 0f,
                        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Binary: unknown op."),
                    };
                }
                break;
        }
    }

    /// <inheritdoc/>
    public void Where(IStorage cond, in Layout cl, IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y)
    {
        var ca = F(cond); var aa = F(a); var ba = F(b); var ya = F(y);
        var od = new Odometer(cl.Shape, cl, al, bl);
        int k = 0;
        for (int r = 0; r < od.Rows; r++, od.Next())
            for (int i = 0; i < od.Inner; i++, k++)
                ya[k] = ca[od.Off0 + i * od.InnerStride0] != 0f ? aa[od.Off1 + i * od.InnerStride1] : ba[od.Off2 + i * od.InnerStride2];
    }
}
