using ILGPU;
using SharpTransformer.Backends;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Fill, copy, unary, binary and where kernels: one thread per output element, inputs read through <see cref="Strided"/>.</summary>
internal static class ElementwiseKernels
{
    public static void FillF(Index1D i, ArrayView<float> y, Strided l, float value) => y[l.OffsetA(i)] = value;

    public static void FillI(Index1D i, ArrayView<int> y, Strided l, int value) => y[l.OffsetA(i)] = value;

    public static void CopyFF(Index1D i, ArrayView<float> x, ArrayView<float> y, Strided l)
    {
        l.Offsets(i, out int a, out int b, out _);
        y[b] = x[a];
    }

    public static void CopyII(Index1D i, ArrayView<int> x, ArrayView<int> y, Strided l)
    {
        l.Offsets(i, out int a, out int b, out _);
        y[b] = x[a];
    }

    public static void CopyIF(Index1D i, ArrayView<int> x, ArrayView<float> y, Strided l)
    {
        l.Offsets(i, out int a, out int b, out _);
        y[b] = x[a];
    }

    public static void CopyFI(Index1D i, ArrayView<float> x, ArrayView<int> y, Strided l)
    {
        l.Offsets(i, out int a, out int b, out _);
        y[b] = (int)x[a];
    }

    public static void ArangeF(Index1D i, ArrayView<float> y) => y[i] = i;

    public static void ArangeI(Index1D i, ArrayView<int> y) => y[i] = i;

    /// <summary>CounterRng.Sample, term by term. The uniform product is formed exactly in double and rounded once, so the
    /// GPU compiler cannot fuse it into an FMA and change the last bit.</summary>
    public static void RandomFill(Index1D i, ArrayView<float> y, int kind, float a, float b, ulong seed, ulong offset)
    {
        ulong counter = offset + (ulong)(long)(int)i;
        float r;
        if (kind == (int)RandomKind.Normal)
        {
            ulong h = Hash(seed ^ 0xA5A5A5A5A5A5A5A5UL, counter);
            double u1 = ((h >> 11) + 1.0) * (1.0 / 9007199254740993.0);
            double u2 = (Hash(seed, counter) >> 11) * (1.0 / 9007199254740992.0);
            double rad = Math.Sqrt(-2.0 * DeviceMath.Log(u1));
            DeviceMath.SinCos(2.0 * Math.PI * u2, out _, out double cos);
            r = (float)(a + b * rad * cos);
        }
        else
        {
            float u = (Hash(seed, counter) >> 40) * (1.0f / 16777216f);
            if (kind == (int)RandomKind.Uniform)
            {
                float width = b - a;
                float p = (float)((double)width * u);
                r = a + p;
            }
            else r = u < a ? b : 0f;
        }
        y[i] = r;
    }

    /// <summary>SplitMix64 finaliser, as <see cref="CounterRng.Hash"/>.</summary>
    public static ulong Hash(ulong seed, ulong counter)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + counter * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, Strided l, int op, float arg) =>
        y[i] = UnaryValue(op, x[l.OffsetA(i)], arg);

    public static float UnaryValue(int op, float x, float arg)
    {
        switch (op)
        {
            case (int)UnaryOp.Identity: return x;
            case (int)UnaryOp.Neg: return -x;
            case (int)UnaryOp.Exp: return DeviceMath.Exp(x);
            case (int)UnaryOp.Log: return DeviceMath.Log(x);
            case (int)UnaryOp.Sqrt: return MathF.Sqrt(x);
            case (int)UnaryOp.Tanh: return DeviceMath.Tanh(x);
            case (int)UnaryOp.Sigmoid: return DeviceMath.Sigmoid(x);
            case (int)UnaryOp.Relu: return DeviceMath.Max(x, 0f);
            case (int)UnaryOp.Gelu: return DeviceMath.Gelu(x);
            case (int)UnaryOp.GeluTanh: return DeviceMath.GeluTanh(x);
            case (int)UnaryOp.Silu: return x * DeviceMath.Sigmoid(x);
            case (int)UnaryOp.Abs: return DeviceMath.Abs(x);
            case (int)UnaryOp.Square: return x * x;
            case (int)UnaryOp.Reciprocal: return 1f / x;
            case (int)UnaryOp.AddScalar: return x + arg;
            case (int)UnaryOp.MulScalar: return x * arg;
            case (int)UnaryOp.PowScalar:
                if (arg == 2f) return x * x;
                if (arg == 1f) return x;
                if (arg == 0.5f) return MathF.Sqrt(x);
                return DeviceMath.Pow(x, arg);
            case (int)UnaryOp.RDivScalar: return arg / x;
            case (int)UnaryOp.ClampMin: return DeviceMath.Max(x, arg);
            case (int)UnaryOp.ClampMax: return DeviceMath.Min(x, arg);
            default: return float.NaN;
        }
    }

    public static void UnaryBackward(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, int op, float arg)
    {
        float g = dy[i], xv = x[i], yv = y[i], d;
        switch (op)
        {
            case (int)UnaryOp.Identity: case (int)UnaryOp.AddScalar: d = g; break;
            case (int)UnaryOp.Neg: d = -g; break;
            case (int)UnaryOp.Exp: d = g * yv; break;
            case (int)UnaryOp.Log: d = g / xv; break;
            case (int)UnaryOp.Sqrt: d = g * 0.5f / yv; break;
            case (int)UnaryOp.Tanh: d = g * (1f - yv * yv); break;
            case (int)UnaryOp.Sigmoid: d = g * yv * (1f - yv); break;
            case (int)UnaryOp.Relu: d = xv > 0f ? g : 0f; break;
            case (int)UnaryOp.Abs: d = xv > 0f ? g : xv < 0f ? -g : 0f; break;
            case (int)UnaryOp.Square: d = 2f * xv * g; break;
            case (int)UnaryOp.Reciprocal: d = -g * yv * yv; break;
            case (int)UnaryOp.MulScalar: d = g * arg; break;
            case (int)UnaryOp.PowScalar: d = arg == 0f ? 0f : g * arg * DeviceMath.Pow(xv, arg - 1f); break;
            case (int)UnaryOp.RDivScalar: d = -g * yv / xv; break;
            case (int)UnaryOp.ClampMin: d = xv >= arg ? g : 0f; break;
            case (int)UnaryOp.ClampMax: d = xv <= arg ? g : 0f; break;
            case (int)UnaryOp.Silu:
                {
                    float sg = DeviceMath.Sigmoid(xv);
                    d = g * (sg + xv * sg * (1f - sg));
                    break;
                }
            case (int)UnaryOp.Gelu: d = g * DeviceMath.GeluGrad(xv); break;
            case (int)UnaryOp.GeluTanh: d = g * DeviceMath.GeluTanhGrad(xv); break;
            default: d = float.NaN; break;
        }
        dx[i] = d;
    }

    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Strided l, int op)
    {
        l.Offsets(i, out int oa, out int ob, out _);
        y[i] = BinaryValue(op, a[oa], b[ob]);
    }

    public static float BinaryValue(int op, float a, float b)
    {
        switch (op)
        {
            case (int)BinaryOp.Add: return a + b;
            case (int)BinaryOp.Sub: return a - b;
            case (int)BinaryOp.Mul: return a * b;
            case (int)BinaryOp.Div: return a / b;
            case (int)BinaryOp.Pow: return DeviceMath.Pow(a, b);
            case (int)BinaryOp.Max: return DeviceMath.Max(a, b);
            case (int)BinaryOp.Min: return DeviceMath.Min(a, b);
            case (int)BinaryOp.Equal: return a == b ? 1f : 0f;
            case (int)BinaryOp.Greater: return a > b ? 1f : 0f;
            case (int)BinaryOp.Less: return a < b ? 1f : 0f;
            default: return float.NaN;
        }
    }

    public static void Where(Index1D i, ArrayView<float> cond, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, Strided l)
    {
        l.Offsets(i, out int oc, out int oa, out int ob);
        y[i] = cond[oc] != 0f ? a[oa] : b[ob];
    }
}
