namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>
/// Transcendental functions written in plain arithmetic and bit operations, so every kernel compiles for CUDA (PTX) without
/// the CUDA toolkit's libdevice, for OpenCL and for the CPU accelerator, and gives the same values on all three.
/// Float versions follow musl/Cephes (within 1-2 ulp); double versions follow fdlibm (within 1 ulp), which keeps
/// <see cref="SharpTransformer.Backends.CounterRng"/>'s normal samples bit-identical to the host after rounding to float.
/// </summary>
internal static class DeviceMath
{
    public static float AsFloat(int bits) => BitConverter.Int32BitsToSingle(bits);
    public static int AsInt(float x) => BitConverter.SingleToInt32Bits(x);

    public static bool IsNaN(float x) => float.IsNaN(x);

    public static float Abs(float x) => AsFloat(AsInt(x) & 0x7fffffff);

    /// <summary>IEEE 754-2019 maximum: NaN propagates, +0 &gt; -0 (as TensorPrimitives.Max and MathF.Max).</summary>
    public static float Max(float a, float b)
    {
        if (IsNaN(a)) return a;
        if (IsNaN(b)) return b;
        if (a == b) return AsInt(a) < 0 ? b : a;
        return a > b ? a : b;
    }

    /// <summary>IEEE 754-2019 minimum: NaN propagates, -0 &lt; +0.</summary>
    public static float Min(float a, float b)
    {
        if (IsNaN(a)) return a;
        if (IsNaN(b)) return b;
        if (a == b) return AsInt(a) < 0 ? a : b;
        return a < b ? a : b;
    }

    // y * 2^n (musl scalbnf).
    private static float Scalbn(float y, int n)
    {
        float p127 = AsFloat(0x7f000000);       // 2^127
        float m102 = AsFloat(0x0c800000);       // 2^-102
        if (n > 127)
        {
            y *= p127; n -= 127;
            if (n > 127) { y *= p127; n -= 127; if (n > 127) n = 127; }
        }
        else if (n < -126)
        {
            y *= m102; n += 102;
            if (n < -126) { y *= m102; n += 102; if (n < -126) n = -126; }
        }
        return y * AsFloat((0x7f + n) << 23);
    }

    /// <summary>e^x (musl expf, error &lt; 1 ulp).</summary>
    public static float Exp(float x)
    {
        const float ln2hi = 6.9314575195e-01f, ln2lo = 1.4286067653e-06f, invln2 = 1.4426950216e+00f;
        const float p1 = 1.6666625440e-1f, p2 = -2.7667332906e-3f;
        uint hx = (uint)AsInt(x);
        int sign = (int)(hx >> 31);
        hx &= 0x7fffffff;
        if (hx >= 0x42aeac50)
        {
            if (hx > 0x7f800000) return x;                                        // NaN
            if (hx >= 0x42b17218 && sign == 0) return float.PositiveInfinity;     // overflow
            if (sign != 0 && hx >= 0x42cff1b5) return 0f;                        // underflow
        }
        float hi, lo;
        int k;
        if (hx > 0x3eb17218)
        {
            if (hx > 0x3f851592) k = (int)(invln2 * x + (sign != 0 ? -0.5f : 0.5f));
            else k = 1 - sign - sign;
            hi = x - k * ln2hi;
            lo = k * ln2lo;
            x = hi - lo;
        }
        else if (hx > 0x39000000)
        {
            k = 0; hi = x; lo = 0f;
        }
        else return 1f + x;
        float xx = x * x;
        float c = x - xx * (p1 + xx * p2);
        float y = 1f + (x * c / (2f - c) - lo + hi);
        return k == 0 ? y : Scalbn(y, k);
    }

    /// <summary>Natural logarithm (musl logf, error &lt; 1 ulp).</summary>
    public static float Log(float x)
    {
        const float ln2Hi = 6.9313812256e-01f, ln2Lo = 9.0580006145e-06f;
        const float lg1 = 11184810f / 16777216f, lg2 = 13422099f / 33554432f, lg3 = 9562606f / 33554432f, lg4 = 16293414f / 67108864f;
        uint ix = (uint)AsInt(x);
        int k = 0;
        if (ix < 0x00800000 || (ix >> 31) != 0)
        {
            if ((ix << 1) == 0) return float.NegativeInfinity;
            if ((ix >> 31) != 0) return float.NaN;
            k -= 25;
            x *= 33554432f;
            ix = (uint)AsInt(x);
        }
        else if (ix >= 0x7f800000) return x;
        else if (ix == 0x3f800000) return 0f;
        ix += 0x3f800000 - 0x3f3504f3;
        k += (int)(ix >> 23) - 0x7f;
        ix = (ix & 0x007fffff) + 0x3f3504f3;
        x = AsFloat((int)ix);
        float f = x - 1f;
        float s = f / (2f + f);
        float z = s * s;
        float w = z * z;
        float t1 = w * (lg2 + w * lg4);
        float t2 = z * (lg1 + w * lg3);
        float r = t2 + t1;
        float hfsq = 0.5f * f * f;
        float dk = k;
        return s * (hfsq + r) + dk * ln2Lo - hfsq + f + dk * ln2Hi;
    }

    /// <summary>Hyperbolic tangent (Cephes tanhf, relative error ~2e-7).</summary>
    public static float Tanh(float x)
    {
        float z = Abs(x);
        if (IsNaN(z)) return x;
        if (z > 44.361419555836f) return x > 0f ? 1f : -1f;
        if (z >= 0.625f)
        {
            float e = Exp(z + z);
            float t = 1f - 2f / (e + 1f);
            return x < 0f ? -t : t;
        }
        if (z == 0f) return x;
        float s = x * x;
        return ((((-5.70498872745E-3f * s + 2.06390887954E-2f) * s - 5.37397155531E-2f) * s + 1.33314422036E-1f) * s - 3.33332819422E-1f) * s * x + x;
    }

    /// <summary>Logistic sigmoid.</summary>
    public static float Sigmoid(float x) => 1f / (1f + Exp(-x));

    /// <summary>Error function (Numerical Recipes' erfcc, as <see cref="SharpTransformer.Backends.ScalarMath.Erf"/>), in float.</summary>
    public static float Erf(float x)
    {
        float z = Abs(x);
        float t = 1f / (1f + 0.5f * z);
        float r = t * Exp(-z * z - 1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f +
            t * (-0.18628806f + t * (0.27886807f + t * (-1.13520398f + t * (1.48851587f +
            t * (-0.82215223f + t * 0.17087277f)))))))));
        return x >= 0f ? 1f - r : r - 1f;
    }

    /// <summary>Exact GELU x·Φ(x).</summary>
    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * 0.70710678118654752f));

    /// <summary>d/dx of the exact GELU.</summary>
    public static float GeluGrad(float x)
    {
        float cdf = 0.5f * (1f + Erf(x * 0.70710678118654752f));
        float pdf = Exp(-0.5f * x * x) * 0.3989422804014327f;
        return cdf + x * pdf;
    }

    private const float Sqrt2OverPi = 0.7978845608028654f;

    /// <summary>GELU, tanh approximation.</summary>
    public static float GeluTanh(float x)
    {
        float u = Sqrt2OverPi * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1f + Tanh(u));
    }

    /// <summary>d/dx of the tanh-approximated GELU.</summary>
    public static float GeluTanhGrad(float x)
    {
        float u = Sqrt2OverPi * (x + 0.044715f * x * x * x);
        float t = Tanh(u);
        float du = Sqrt2OverPi * (1f + 3f * 0.044715f * x * x);
        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du;
    }

    /// <summary>x^y with the special cases of MathF.Pow.</summary>
    public static float Pow(float x, float y)
    {
        if (y == 0f) return 1f;
        if (x == 1f) return 1f;
        if (IsNaN(x) || IsNaN(y)) return float.NaN;
        if (y == 1f) return x;
        float ay = Abs(y);
        bool isInt, odd;
        if (ay >= 16777216f) { isInt = true; odd = false; }
        else
        {
            int iy = (int)y;
            isInt = iy == y;
            odd = isInt && (iy & 1) != 0;
        }
        bool negative = AsInt(x) < 0;
        float ax = Abs(x);
        if (negative && !isInt && ax != 0f && ax != float.PositiveInfinity) return float.NaN;
        float r;
        if (ax == 0f) r = y > 0f ? 0f : float.PositiveInfinity;
        else if (ax == float.PositiveInfinity) r = y > 0f ? float.PositiveInfinity : 0f;
        else r = Exp(y * Log(ax));
        return negative && odd ? -r : r;
    }

    // ----- double precision (fdlibm) -----

    /// <summary>Natural logarithm in double (fdlibm e_log.c, error &lt; 1 ulp).</summary>
    public static double Log(double x)
    {
        const double ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10;
        const double lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01, lg3 = 2.857142874366239149e-01,
            lg4 = 2.222219843214978396e-01, lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01,
            lg7 = 1.479819860511658591e-01;
        long bits = BitConverter.DoubleToInt64Bits(x);
        int hx = (int)(bits >> 32);
        uint lx = (uint)bits;
        int k = 0;
        if (hx < 0x00100000)
        {
            if (((hx & 0x7fffffff) | (int)lx) == 0) return double.NegativeInfinity;
            if (hx < 0) return double.NaN;
            k -= 54;
            x *= 18014398509481984.0;
            bits = BitConverter.DoubleToInt64Bits(x);
            hx = (int)(bits >> 32);
        }
        if (hx >= 0x7ff00000) return x + x;
        k += (hx >> 20) - 1023;
        hx &= 0x000fffff;
        int i = (hx + 0x95f64) & 0x100000;
        long nb = ((long)(hx | (i ^ 0x3ff00000)) << 32) | (bits & 0xffffffffL);
        x = BitConverter.Int64BitsToDouble(nb);
        k += i >> 20;
        double f = x - 1.0;
        double s = f / (2.0 + f);
        double dk = k;
        double z = s * s;
        int ii = hx - 0x6147a;
        double w = z * z;
        int j = 0x6b851 - hx;
        double t1 = w * (lg2 + w * (lg4 + w * lg6));
        double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
        ii |= j;
        double r = t2 + t1;
        if (ii > 0)
        {
            double hfsq = 0.5 * f * f;
            return dk * ln2Hi - ((hfsq - (s * (hfsq + r) + dk * ln2Lo)) - f);
        }
        return dk * ln2Hi - ((s * (f - r) - dk * ln2Lo) - f);
    }

    private static double KernelSin(double x)
    {
        const double s1 = -1.66666666666666324348e-01, s2 = 8.33333333332248946124e-03, s3 = -1.98412698298579493134e-04,
            s4 = 2.75573137070700676789e-06, s5 = -2.50507602534068634195e-08, s6 = 1.58969099521155010221e-10;
        double z = x * x;
        double v = z * x;
        double r = s2 + z * (s3 + z * (s4 + z * (s5 + z * s6)));
        return x + v * (s1 + z * r);
    }

    private static double KernelCos(double x)
    {
        const double c1 = 4.16666666666666019037e-02, c2 = -1.38888888888741095749e-03, c3 = 2.48015872894767294178e-05,
            c4 = -2.75573143513906633035e-07, c5 = 2.08757232129817482790e-09, c6 = -1.13596475577881948265e-11;
        double z = x * x;
        double r = z * (c1 + z * (c2 + z * (c3 + z * (c4 + z * (c5 + z * c6)))));
        double hz = 0.5 * z;
        double w = 1.0 - hz;
        return w + (((1.0 - w) - hz) + z * r);
    }

    /// <summary>sin and cos in double for |x| &lt; 2^20·π/2 (Cody-Waite reduction with a three-part π/2, fdlibm kernels).</summary>
    public static void SinCos(double x, out double sin, out double cos)
    {
        const double invPio2 = 6.36619772367581382433e-01;
        const double pio2a = 1.57079632673412561417e+00, pio2b = 6.07710050630396597660e-11, pio2c = 2.02226624871116645580e-21;
        double fn = x * invPio2;
        long nl = fn >= 0.0 ? (long)(fn + 0.5) : (long)(fn - 0.5);
        fn = nl;
        double r = ((x - fn * pio2a) - fn * pio2b) - fn * pio2c;
        double s = KernelSin(r), c = KernelCos(r);
        switch ((int)(nl & 3))
        {
            case 0: sin = s; cos = c; break;
            case 1: sin = c; cos = -s; break;
            case 2: sin = -s; cos = -c; break;
            default: sin = -c; cos = s; break;
        }
    }
}
