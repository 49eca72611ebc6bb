using System.Text;
using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Compares the analytic gradient of L = sum_j sum(w_j ⊙ f_j(x)) (random fixed weights w_j) with central finite differences.
/// <para>
/// Precision: f runs in float32, but L is accumulated in double from f's outputs, only the outputs that depend on the
/// perturbed element change between the two evaluations, the steps h = 2^-7 and h/2 are exact in float for inputs that are
/// multiples of 2^-12 (see <see cref="Values"/>), and the two central differences are combined by Richardson extrapolation,
/// n = (4 D(h/2) - D(h)) / 3, which cancels the h² truncation term. That makes |analytic - numeric| &lt;= tol·(1 + |numeric|)
/// with tol = 5e-3 a tight check for every op (the default, <see cref="DefaultTol"/>); an op that needs more says so at its property.
/// </para>
/// </summary>
public static class GradCheck
{
    /// <summary>Default tolerance: |analytic - numeric| &lt;= DefaultTol · (1 + |numeric|).</summary>
    public const double DefaultTol = 5e-3;

    /// <summary>Default finite-difference step, 2^-7 (Richardson also uses h/2).</summary>
    public const double DefaultH = 1.0 / 128;

    /// <summary>Quantum of generated inputs: multiples of 2^-12 keep x ± h and x ± h/2 exact in float.</summary>
    public const float Quantum = 1f / 4096;

    /// <summary>Checks a single-output function. Inputs that do not require gradients are held constant.</summary>
    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double tol = DefaultTol, double h = DefaultH, int seed = 0, string what = "")
        => Check(xs => [f(xs)], inputs, tol, h, seed, what);

    /// <summary>Checks a function with several outputs (split, chunk): L sums the weighted outputs.</summary>
    public static void Check(Func<Tensor[], Tensor[]> f, Tensor[] inputs, double tol = DefaultTol, double h = DefaultH, int seed = 0, string what = "")
    {
        var data = inputs.Select(t => t.DType == DType.Float32 ? (Array)t.ToArray() : t.ToIntArray()).ToArray();
        var shapes = inputs.Select(t => t.Shape.ToArray()).ToArray();
        var needs = inputs.Select(t => t.RequiresGrad).ToArray();

        // Analytic gradient.
        foreach (var t in inputs) if (t.RequiresGrad) t.ZeroGrad();
        var outs = f(inputs);
        var rng = new Random(seed ^ 0x5EED);
        var w = outs.Select(o => Enumerable.Range(0, o.Count).Select(_ => Normal(rng)).ToArray()).ToArray();
        var live = Enumerable.Range(0, outs.Length).Where(j => outs[j].RequiresGrad).ToArray();
        if (live.Length == 1)
        {
            int j = live[0];
            outs[j].Backward(Make(w[j].Select(v => (float)v).ToArray(), outs[j].Shape.ToArray()));
        }
        else if (live.Length > 1)
        {
            Tensor? loss = null;
            foreach (int j in live)
            {
                var term = outs[j].Mul(Make(w[j].Select(v => (float)v).ToArray(), outs[j].Shape.ToArray())).Sum();
                loss = loss is null ? term : loss.Add(term);
            }
            loss!.Backward();
        }
        var analytic = inputs.Select((t, i) => needs[i] ? t.Grad?.ToArray() ?? new float[t.Count] : null).ToArray();
        for (int i = 0; i < inputs.Length; i++)
            if (needs[i] && inputs[i].Grad is { } g)
                Assert.True(g.Shape.SequenceEqual(inputs[i].Shape), $"{what}: gradient of input {i} has shape {g.ShapeString}, input {inputs[i].ShapeString}");

        // Numeric gradient.
        double Loss(int which, float[] x)
        {
            using var _ = GradMode.NoGrad();
            var xs = new Tensor[inputs.Length];
            for (int i = 0; i < xs.Length; i++)
                xs[i] = i == which ? Make(x, shapes[i]) : data[i] is float[] fa ? Make(fa, shapes[i]) : MakeInt((int[])data[i], shapes[i]);
            var ys = f(xs);
            double s = 0;
            for (int j = 0; j < ys.Length; j++)
            {
                var y = ys[j].ToArray();
                for (int e = 0; e < y.Length; e++) s += w[j][e] * y[e];
            }
            return s;
        }

        var report = new StringBuilder();
        int bad = 0;
        double worst = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!needs[i]) continue;
            var x0 = (float[])data[i];
            var x = (float[])x0.Clone();
            for (int e = 0; e < x.Length; e++)
            {
                double Central(double step)
                {
                    x[e] = (float)(x0[e] + step); double up = x[e] - (double)x0[e]; double lp = Loss(i, x);
                    x[e] = (float)(x0[e] - step); double dn = x0[e] - (double)x[e]; double lm = Loss(i, x);
                    x[e] = x0[e];
                    return (lp - lm) / (up + dn);
                }
                double d1 = Central(h), d2 = Central(h / 2);
                double num = (4 * d2 - d1) / 3;
                double ana = analytic[i]![e];
                double ratio = Math.Abs(ana - num) / (1 + Math.Abs(num));
                worst = Math.Max(worst, ratio);
                if (!(ratio <= tol))
                {
                    if (bad < 8) report.Append($"\n  input {i} {Layout.Format(shapes[i])} element {e} {Index(shapes[i], e)}: analytic {ana:G6}, numeric {num:G6}");
                    bad++;
                }
            }
        }
        Log(what, worst);
        Assert.True(bad == 0, $"{what}: {bad} gradient elements differ from central differences (tol {tol}·(1+|n|)):{report}");
    }

    /// <summary>Random values in [lo, hi), rounded to multiples of <see cref="Quantum"/>.</summary>
    public static float[] Values(Random rng, int n, double lo, double hi)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = MathF.Round((float)(lo + (hi - lo) * rng.NextDouble()) / Quantum) * Quantum;
        return a;
    }

    /// <summary>Random magnitudes in [lo, hi) with random signs, rounded to multiples of <see cref="Quantum"/>.</summary>
    public static float[] SignedAway(Random rng, int n, double lo, double hi)
    {
        var a = Values(rng, n, lo, hi);
        for (int i = 0; i < n; i++) if (rng.Next(2) == 0) a[i] = -a[i];
        return a;
    }

    /// <summary>A leaf tensor of the given shape and values.</summary>
    public static Tensor Make(float[] values, int[] shape, bool requiresGrad = false)
    {
        var t = shape.Length == 0 ? Tensor.Scalar(values[0]) : Tensor.FromArray(values, shape);
        t.RequiresGrad = requiresGrad;
        return t;
    }

    /// <summary>An Int32 tensor of the given shape.</summary>
    public static Tensor MakeInt(int[] values, int[] shape) =>
        shape.Length == 0 ? Tensor.Full(ReadOnlySpan<int>.Empty, values[0], DType.Int32) : Tensor.FromArray(values, shape);

    /// <summary>A leaf that requires gradients, with values from <see cref="Values"/>.</summary>
    public static Tensor Param(Random rng, int[] shape, double lo = -2, double hi = 2) =>
        Make(Values(rng, ScalarCount(shape), lo, hi), shape, requiresGrad: true);

    /// <summary>Number of elements of a shape.</summary>
    public static int ScalarCount(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    private static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    private static string Index(int[] shape, int linear)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = linear % shape[d]; linear /= shape[d]; }
        return Layout.Format(idx);
    }

    private static readonly object LogLock = new();

    // Calibration aid: with GRADCHECK_LOG=path set, the worst ratio |a-n|/(1+|n|) of each check is appended to that file.
    private static void Log(string what, double worst)
    {
        var path = Environment.GetEnvironmentVariable("GRADCHECK_LOG");
        if (string.IsNullOrEmpty(path)) return;
        lock (LogLock) File.AppendAllText(path, $"{worst:E3}\t{what}\n");
    }
}
