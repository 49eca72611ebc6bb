using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Analytic gradients against central finite differences. The scalar is L = Σ w ⊙ f(inputs) with fixed random w, so every
/// output element's gradient path is exercised. Float32 forward, step h; an element passes when
/// |analytic − numeric| ≤ atol + rtol·|numeric|.
/// </summary>
internal static class GradCheck
{
    public static void Check(string op, Func<Tensor[], Tensor> f, Tensor[] inputs, double h = 5e-3, double atol = 1e-2, double rtol = 1e-2, ulong seed = 1)
    {
        foreach (var x in inputs) { x.RequiresGrad = x.DType == DType.Float32; x.Grad = null; }
        var y = f(inputs);
        var w = Tensor.RandN(y.Shape.ToArray(), new Generator(seed ^ 0xC0FFEE));
        y.Mul(w).Sum().Backward();
        for (int k = 0; k < inputs.Length; k++)
        {
            var x = inputs[k];
            if (x.DType != DType.Float32) continue;
            var analytic = x.Grad?.ToArray() ?? new float[x.Count];
            var values = x.ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                double Lp = Eval(f, inputs, k, values, i, values[i] + h, w);
                double Lm = Eval(f, inputs, k, values, i, values[i] - h, w);
                double numeric = (Lp - Lm) / (2 * h);
                double diff = Math.Abs(analytic[i] - numeric);
                Assert.True(diff <= atol + rtol * Math.Abs(numeric),
                    $"{op}: d/d(input {k})[{i}] analytic {analytic[i]:G6} vs numeric {numeric:G6} (|diff| {diff:G3}), input shape {x.ShapeString}");
            }
        }
    }

    private static double Eval(Func<Tensor[], Tensor> f, Tensor[] inputs, int k, float[] values, int i, double v, Tensor w)
    {
        var copy = (float[])values.Clone();
        copy[i] = (float)v;
        var args = (Tensor[])inputs.Clone();
        args[k] = Tensor.FromArray(copy, inputs[k].Shape.ToArray());
        using var _ = SharpTransformer.Autograd.GradMode.NoGrad();
        var y = f(args).ToArray();
        var ww = w.ToArray();
        double s = 0;
        for (int j = 0; j < y.Length; j++) s += (double)y[j] * ww[j];
        return s;
    }

    /// <summary>Normal values, optionally pushed away from zero by <paramref name="minAbs"/> (kinks of relu, abs, clamp).</summary>
    public static Tensor Rand(Generator g, int[] shape, float minAbs = 0f, float scale = 1f, bool positive = false)
    {
        var v = Tensor.RandN(shape, g).ToArray();
        for (int i = 0; i < v.Length; i++)
        {
            float x = v[i] * scale;
            if (positive) x = Math.Abs(x) + 0.2f;
            if (Math.Abs(x) < minAbs) x = x < 0 ? x - minAbs : x + minAbs;
            v[i] = x;
        }
        return Tensor.FromArray(v, shape);
    }
}
