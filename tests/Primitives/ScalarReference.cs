using MathNet.Numerics.LinearAlgebra;
using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Reference;

/// <summary>
/// The executable specification of every non-fused <see cref="IBackend"/> primitive: plain loops over multi-indices,
/// in double precision, reading inputs through their <see cref="Layout"/> exactly as the interface documents it.
/// Nothing here is vectorised, parallel or clever; every kernel must agree with it within the tolerance its test states.
/// Storage is modelled as a host array; a layout addresses it by shape, strides and offset.
/// </summary>
public static class ScalarReference
{
    // ---------------------------------------------------------------- indexing

    /// <summary>Every multi-index of <paramref name="shape"/> in row-major order (one empty index for a scalar).</summary>
    public static IEnumerable<int[]> Indices(int[] shape)
    {
        long count = 1;
        foreach (var d in shape) count *= d;
        var idx = new int[shape.Length];
        for (long n = 0; n < count; n++)
        {
            yield return (int[])idx.Clone();
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < shape[d]) break;
                idx[d] = 0;
            }
        }
    }

    /// <summary>Storage position of a multi-index: offset + sum(index[d] * stride[d]).</summary>
    public static int At(in Layout l, int[] index)
    {
        int o = l.Offset;
        for (int d = 0; d < index.Length; d++) o += index[d] * l.Strides[d];
        return o;
    }

    /// <summary>Number of elements of a shape.</summary>
    public static int Numel(int[] shape)
    {
        int n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    // ---------------------------------------------------------------- scalar maths

    /// <summary>Error function: MathNet.Numerics' <see cref="MathNet.Numerics.SpecialFunctions.Erf"/>, the tests' double-precision oracle.</summary>
    public static double Erf(double x) => MathNet.Numerics.SpecialFunctions.Erf(x);

    /// <summary>Standard normal cdf (MathNet's, through erfc, so accurate in the lower tail too).</summary>
    public static double Phi(double x) => MathNet.Numerics.Distributions.Normal.CDF(0, 1, x);

    /// <summary>Standard normal density.</summary>
    public static double PhiDensity(double x) => MathNet.Numerics.Distributions.Normal.PDF(0, 1, x);

    private const double GeluC = 0.044715;
    private static readonly double Sqrt2OverPi = Math.Sqrt(2.0 / Math.PI);

    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>y = op(x, arg) as documented on <see cref="UnaryOp"/>.</summary>
    public static double Unary(UnaryOp op, double x, double arg = 0) => op switch
    {
        UnaryOp.Identity => x,
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => Sigmoid(x),
        UnaryOp.Relu => x > 0 ? x : 0.0,
        UnaryOp.Gelu => x * Phi(x),
        UnaryOp.GeluTanh => 0.5 * x * (1.0 + Math.Tanh(Sqrt2OverPi * (x + GeluC * x * x * x))),
        UnaryOp.Silu => x * Sigmoid(x),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Square => x * x,
        UnaryOp.Reciprocal => 1.0 / x,
        UnaryOp.AddScalar => x + arg,
        UnaryOp.MulScalar => x * arg,
        UnaryOp.PowScalar => Math.Pow(x, arg),
        UnaryOp.RDivScalar => arg / x,
        UnaryOp.ClampMin => Math.Max(x, arg),
        UnaryOp.ClampMax => Math.Min(x, arg),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    /// <summary>
    /// d op(x, arg) / dx. Where the function is not differentiable the convention of the kernels' contract is used:
    /// relu' (0) = 0, |x|' (0) = 0, a clamp passes the gradient at its bound (as torch.clamp), d x^0 = 0.
    /// </summary>
    public static double UnaryDerivative(UnaryOp op, double x, double arg = 0)
    {
        switch (op)
        {
            case UnaryOp.Identity: case UnaryOp.AddScalar: return 1;
            case UnaryOp.Neg: return -1;
            case UnaryOp.Exp: return Math.Exp(x);
            case UnaryOp.Log: return 1 / x;
            case UnaryOp.Sqrt: return 0.5 / Math.Sqrt(x);
            case UnaryOp.Tanh: { double t = Math.Tanh(x); return 1 - t * t; }
            case UnaryOp.Sigmoid: { double s = Sigmoid(x); return s * (1 - s); }
            case UnaryOp.Relu: return x > 0 ? 1 : 0;
            case UnaryOp.Gelu: return Phi(x) + x * PhiDensity(x);
            case UnaryOp.GeluTanh:
                {
                    double u = Sqrt2OverPi * (x + GeluC * x * x * x);
                    double t = Math.Tanh(u);
                    double du = Sqrt2OverPi * (1 + 3 * GeluC * x * x);
                    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
                }
            case UnaryOp.Silu: { double s = Sigmoid(x); return s + x * s * (1 - s); }
            case UnaryOp.Abs: return x > 0 ? 1 : x < 0 ? -1 : 0;
            case UnaryOp.Square: return 2 * x;
            case UnaryOp.Reciprocal: return -1 / (x * x);
            case UnaryOp.MulScalar: return arg;
            case UnaryOp.PowScalar: return arg == 0 ? 0 : arg * Math.Pow(x, arg - 1);
            case UnaryOp.RDivScalar: return -arg / (x * x);
            case UnaryOp.ClampMin: return x >= arg ? 1 : 0;
            case UnaryOp.ClampMax: return x <= arg ? 1 : 0;
            default: throw new ArgumentOutOfRangeException(nameof(op), op, null);
        }
    }

    /// <summary>y = op(a, b) as documented on <see cref="BinaryOp"/>.</summary>
    public static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Max => Math.Max(a, b),
        BinaryOp.Min => Math.Min(a, b),
        BinaryOp.Equal => a == b ? 1 : 0,
        BinaryOp.Greater => a > b ? 1 : 0,
        BinaryOp.Less => a < b ? 1 : 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    // ---------------------------------------------------------------- primitives

    /// <summary>IBackend.Unary: contiguous y[i] = op(x at i-th multi-index of xl).</summary>
    public static double[] Unary(UnaryOp op, float[] x, in Layout xl, float arg = 0f)
    {
        var y = new double[Numel(xl.Shape)];
        int i = 0;
        foreach (var idx in Indices(xl.Shape)) y[i++] = Unary(op, x[At(xl, idx)], arg);
        return y;
    }

    /// <summary>IBackend.UnaryBackward: dx[i] = dy[i] * op'(x[i]) over n contiguous elements.</summary>
    public static double[] UnaryBackward(UnaryOp op, float[] x, float[] dy, int n, float arg = 0f)
    {
        var dx = new double[n];
        for (int i = 0; i < n; i++) dx[i] = dy[i] * UnaryDerivative(op, x[i], arg);
        return dx;
    }

    /// <summary>IBackend.Binary: both layouts have y's shape (broadcast by stride 0); y contiguous.</summary>
    public static double[] Binary(BinaryOp op, float[] a, in Layout al, float[] b, in Layout bl)
    {
        var y = new double[Numel(al.Shape)];
        int i = 0;
        foreach (var idx in Indices(al.Shape)) y[i++] = Binary(op, a[At(al, idx)], b[At(bl, idx)]);
        return y;
    }

    /// <summary>IBackend.Where: y = cond != 0 ? a : b, all three layouts of y's shape.</summary>
    public static double[] Where(float[] cond, in Layout cl, float[] a, in Layout al, float[] b, in Layout bl)
    {
        var y = new double[Numel(cl.Shape)];
        int i = 0;
        foreach (var idx in Indices(cl.Shape)) y[i++] = cond[At(cl, idx)] != 0f ? a[At(al, idx)] : b[At(bl, idx)];
        return y;
    }

    /// <summary>
    /// IBackend.Reduce: y contiguous with <paramref name="axis"/> of size 1. Sum adds in double; Max and Min pick the
    /// extreme value; ArgMax gives the index of the first largest element (as a double).
    /// </summary>
    public static double[] Reduce(ReduceOp op, float[] x, in Layout xl, int axis)
    {
        var outShape = (int[])xl.Shape.Clone();
        int len = outShape[axis];
        outShape[axis] = 1;
        var y = new double[Numel(outShape)];
        int i = 0;
        foreach (var idx in Indices(outShape))
        {
            var src = (int[])idx.Clone();
            double acc = op switch { ReduceOp.Sum => 0, ReduceOp.Max or ReduceOp.ArgMax => double.NegativeInfinity, _ => double.PositiveInfinity };
            int best = 0;
            for (int a = 0; a < len; a++)
            {
                src[axis] = a;
                double v = x[At(xl, src)];
                switch (op)
                {
                    case ReduceOp.Sum: acc += v; break;
                    case ReduceOp.Max: acc = Math.Max(acc, v); break;
                    case ReduceOp.Min: acc = Math.Min(acc, v); break;
                    case ReduceOp.ArgMax: if (a == 0 || v > acc) { acc = v; best = a; } break;
                }
            }
            y[i++] = op == ReduceOp.ArgMax ? best : acc;
        }
        return y;
    }

    /// <summary>
    /// IBackend.MatMul: y[..., i, j] = sum_p a[..., i, p] * b[..., p, j] (+ y0 when accumulating), batch dimensions equal,
    /// any strides (transposes, broadcast batches) read through the layouts. Each batch's matrices are read element by element
    /// through the layouts and multiplied in double by MathNet.Numerics. Returns y contiguous (..., M, N).
    /// </summary>
    public static double[] MatMul(float[] a, in Layout al, float[] b, in Layout bl, float[]? accumulateInto = null)
    {
        int r = al.Rank;
        int m = al.Shape[r - 2], k = al.Shape[r - 1], n = bl.Shape[r - 1];
        Layout la = al, lb = bl;
        var y = new double[Numel(al.Shape[..(r - 2)]) * m * n];
        int o = 0;
        foreach (var batch in Indices(al.Shape[..(r - 2)]))
        {
            var ma = Matrix<double>.Build.Dense(m, k, (i, p) => a[At(la, [.. batch, i, p])]);
            var mb = Matrix<double>.Build.Dense(k, n, (p, j) => b[At(lb, [.. batch, p, j])]);
            var product = ma * mb;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++, o++)
                    y[o] = product[i, j] + (accumulateInto is null ? 0 : accumulateInto[o]);
        }
        return y;
    }

    /// <summary>Sum over p of |a[..., i, p] * b[..., p, j]|: the scale of the rounding error of each output of <see cref="MatMul"/>.</summary>
    public static double[] MatMulAbs(float[] a, in Layout al, float[] b, in Layout bl)
    {
        var abs = (float[] s) => s.Select(MathF.Abs).ToArray();
        return MatMul(abs(a), al, abs(b), bl);
    }

    /// <summary>IBackend.Gather: y[o, i, r] = src[o, index[i], r] for contiguous src (outer, dim, inner).</summary>
    public static double[] Gather(float[] src, int outer, int dim, int inner, int[] index)
    {
        int count = index.Length;
        var y = new double[outer * count * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < count; i++)
                for (int r = 0; r < inner; r++)
                    y[(o * count + i) * inner + r] = src[(o * dim + index[i]) * inner + r];
        return y;
    }

    /// <summary>IBackend.ScatterAdd: y[o, index[i], r] += src[o, i, r]; returns the new y (outer, dim, inner).</summary>
    public static double[] ScatterAdd(float[] src, int outer, int dim, int inner, int[] index, float[] y0)
    {
        int count = index.Length;
        var y = new double[outer * dim * inner];
        for (int j = 0; j < y.Length; j++) y[j] = y0[j];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < count; i++)
                for (int r = 0; r < inner; r++)
                    y[(o * dim + index[i]) * inner + r] += src[(o * count + i) * inner + r];
        return y;
    }

    /// <summary>IBackend.Copy between float storages: a copy of y's storage with every element of yl set from x through xl.</summary>
    public static float[] Copy(float[] x, in Layout xl, float[] y, in Layout yl)
    {
        var r = (float[])y.Clone();
        foreach (var idx in Indices(xl.Shape)) r[At(yl, idx)] = x[At(xl, idx)];
        return r;
    }

    /// <summary>IBackend.Copy from float to int storage: values truncate toward zero.</summary>
    public static int[] Copy(float[] x, in Layout xl, int[] y, in Layout yl)
    {
        var r = (int[])y.Clone();
        foreach (var idx in Indices(xl.Shape)) r[At(yl, idx)] = (int)x[At(xl, idx)];
        return r;
    }

    /// <summary>IBackend.Copy from int to float storage.</summary>
    public static float[] Copy(int[] x, in Layout xl, float[] y, in Layout yl)
    {
        var r = (float[])y.Clone();
        foreach (var idx in Indices(xl.Shape)) r[At(yl, idx)] = x[At(xl, idx)];
        return r;
    }

    /// <summary>IBackend.Fill: a copy of y's storage with every element addressed by yl set to value.</summary>
    public static float[] Fill(float[] y, in Layout yl, float value)
    {
        var r = (float[])y.Clone();
        foreach (var idx in Indices(yl.Shape)) r[At(yl, idx)] = value;
        return r;
    }

    /// <summary>IBackend.SumSquares: acc + sum of x[i]^2 over the first n elements.</summary>
    public static double SumSquares(float[] x, int n, double acc)
    {
        for (int i = 0; i < n; i++) acc += (double)x[i] * x[i];
        return acc;
    }

    /// <summary>
    /// IBackend.RandomFill: element i is a pure function of (seed, offset + i). The counter-based generator
    /// <see cref="CounterRng.Sample"/> is itself the cross-backend specification, so the reference evaluates it one element at
    /// a time, in order, with no threads.
    /// </summary>
    public static float[] RandomFill(int n, RandomKind kind, float a, float b, ulong seed, ulong offset)
    {
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = CounterRng.Sample(kind, a, b, seed, offset + (ulong)i);
        return y;
    }
}
