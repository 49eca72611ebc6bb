namespace SharpTransformer.Backends;

/// <summary>Scalar maths that .NET and TensorPrimitives lack (erf) and the GELU forms, shared by kernels and references.</summary>
public static class ScalarMath
{
    /// <summary>Error function, |error| &lt; 1.2e-7 (Chebyshev fit of erfc, Numerical Recipes' erfcc).</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
            t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
            t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }

    /// <summary>Exact GELU: x * Phi(x).</summary>
    public static float Gelu(float x) => (float)(0.5 * x * (1.0 + Erf(x * 0.7071067811865476)));

    /// <summary>d/dx of exact GELU: Phi(x) + x * phi(x).</summary>
    public static float GeluGrad(float x)
    {
        double cdf = 0.5 * (1.0 + Erf(x * 0.7071067811865476));
        double pdf = Math.Exp(-0.5 * (double)x * x) * 0.3989422804014327;
        return (float)(cdf + x * pdf);
    }

    private const float Sqrt2OverPi = 0.7978845608028654f;

    /// <summary>GELU, tanh approximation (GPT-2).</summary>
    public static float GeluTanh(float x)
    {
        float u = Sqrt2OverPi * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1f + MathF.Tanh(u));
    }

    /// <summary>d/dx of the tanh-approximated GELU.</summary>
    public static float GeluTanhGrad(float x)
    {
        float u = Sqrt2OverPi * (x + 0.044715f * x * x * x);
        float t = MathF.Tanh(u);
        float du = Sqrt2OverPi * (1f + 3f * 0.044715f * x * x);
        return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * du;
    }

    /// <summary>Logistic sigmoid.</summary>
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
