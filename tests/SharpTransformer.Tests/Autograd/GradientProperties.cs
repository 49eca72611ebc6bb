using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Property-based gradient checks of every differentiable op: analytic gradient of L = sum(w ⊙ f(x)) against Richardson-
/// extrapolated central differences (see <see cref="GradCheck"/>). Unless a property says otherwise the tolerance is
/// |analytic - numeric| &lt;= 5e-3 · (1 + |numeric|) with h = 2^-7. Generators keep inputs at least 0.0625 away from kinks
/// (relu, abs, clamp bounds) and ties (max, min), which is 8 steps h away.
/// This file: elementwise ops, where, reductions. See also GradientProperties.Shape.cs and GradientProperties.Nn.cs.
/// </summary>
public sealed partial class GradientProperties
{
    private const float Margin = 0.0625f;

    // ---------------------------------------------------------------- binary ops with broadcasting

    private static Property Binary(Func<Tensor, Tensor, Tensor> op, string name,
        Func<Random, int, float[]> aValues, Func<Random, int, float[]> bValues) =>
        Prop.ForAll(GradGen.Cases(0, 3), c =>
        {
            var rng = c.Rng();
            var sa = GradGen.BroadcastVariant(rng, c.Shape);
            var sb = GradGen.BroadcastVariant(rng, c.Shape);
            if (rng.Next(2) == 0) (sa, sb) = (sb, sa);
            var a = Make(aValues(rng, ScalarCount(sa)), sa, requiresGrad: rng.Next(4) != 0);
            var b = Make(bValues(rng, ScalarCount(sb)), sb, requiresGrad: !a.RequiresGrad || rng.Next(4) != 0);
            Check(x => op(x[0], x[1]), [a, b], seed: c.Seed, what: $"{name} {a.ShapeString} {b.ShapeString}");
        });

    private static float[] Any(Random r, int n) => Values(r, n, -2, 2);

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property Add() => Binary((a, b) => a.Add(b), "add", Any, Any);

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property Sub() => Binary((a, b) => a - b, "sub", Any, Any);

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property Mul() => Binary((a, b) => a * b, "mul", Any, Any);

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|); divisors in ±[0.5, 2)
    public Property Div() => Binary((a, b) => a / b, "div", Any, (r, n) => SignedAway(r, n, 0.5, 2));

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|); base in [0.3, 2), exponent in [-1.5, 1.5)
    public Property PowTensor() => Binary((a, b) => a.Pow(b), "pow", (r, n) => Values(r, n, 0.3, 2), (r, n) => Values(r, n, -1.5, 1.5));

    // Maximum/minimum: a on the grid k/8, b on k/8 + 1/16, so |a - b| >= 1/16 everywhere (no ties).
    private static float[] GridA(Random r, int n) => Enumerable.Range(0, n).Select(_ => r.Next(-12, 13) / 8f).ToArray();
    private static float[] GridB(Random r, int n) => Enumerable.Range(0, n).Select(_ => r.Next(-12, 13) / 8f + 1 / 16f).ToArray();

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|); no ties
    public Property Maximum() => Binary((a, b) => a.Maximum(b), "maximum", GridA, GridB);

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|); no ties
    public Property Minimum() => Binary((a, b) => a.Minimum(b), "minimum", GridA, GridB);

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property BinaryOnNonContiguousOperands() => Prop.ForAll(GradGen.Cases(2, 3), c =>
    {
        // a is used through a transposed view, b through an expanded (stride-0) view.
        var rng = c.Rng();
        var shape = c.Shape;
        var tshape = shape.ToArray();
        (tshape[0], tshape[^1]) = (tshape[^1], tshape[0]);
        var a = Param(rng, tshape);
        var bshape = shape.Select((d, i) => i == 0 ? 1 : d).ToArray();
        var b = Param(rng, bshape);
        Check(x => x[0].Transpose(0, -1).Mul(x[1].Expand(shape)).Add(x[1].Expand(shape).Sub(x[0].Transpose(0, -1))), [a, b],
            seed: c.Seed, what: "binary on views");
    });

    // ---------------------------------------------------------------- scalar operands

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); divisions by x keep |x| >= 0.5
    public Property ScalarOperands() => Prop.ForAll(GradGen.Cases(0, 3), c =>
    {
        var rng = c.Rng();
        var x = Make(SignedAway(rng, ScalarCount(c.Shape), 0.5, 2), c.Shape, requiresGrad: true);
        (string, Func<Tensor, Tensor>)[] ops =
        [
            ("x + s", t => t + 1.5f), ("s + x", t => 1.5f + t), ("x - s", t => t - 0.75f), ("s - x", t => 0.75f - t),
            ("x * s", t => t * -1.25f), ("s * x", t => 2f * t), ("x / s", t => t / 3f), ("s / x", t => 1.5f / t),
            ("add(s)", t => t.Add(0.5f)), ("sub(s)", t => t.Sub(0.5f)), ("mul(s)", t => t.Mul(-3f)), ("div(s)", t => t.Div(-0.5f)),
            ("neg", t => t.Neg()), ("-x", t => -t),
        ];
        foreach (var (name, f) in ops) Check(t => f(t[0]), [x], seed: c.Seed, what: $"{name} {x.ShapeString}");
    });

    // ---------------------------------------------------------------- unary ops

    /// <summary>f on x, or on a transposed view of x when the case has rank &gt;= 2 and the seed says so.</summary>
    private static Property Unary(Func<Tensor, Tensor> f, string name, Func<Random, int, float[]> values, double tol = DefaultTol) =>
        Prop.ForAll(GradGen.Cases(0, 3), c =>
        {
            var rng = c.Rng();
            var x = Make(values(rng, ScalarCount(c.Shape)), c.Shape, requiresGrad: true);
            bool view = c.Shape.Length >= 2 && rng.Next(2) == 0;
            Check(t => f(view ? t[0].T : t[0]), [x], tol, seed: c.Seed, what: $"{name} {x.ShapeString}{(view ? " transposed" : "")}");
        });

    private static Func<Random, int, float[]> Range(double lo, double hi) => (r, n) => Values(r, n, lo, hi);
    private static Func<Random, int, float[]> Away(double lo, double hi) => (r, n) => SignedAway(r, n, lo, hi);

    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Exp() => Unary(x => x.Exp(), "exp", Range(-2, 2));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); x in [0.2, 3)
    public Property Log() => Unary(x => x.Log(), "log", Range(0.2, 3));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); x in [0.2, 3)
    public Property Sqrt() => Unary(x => x.Sqrt(), "sqrt", Range(0.2, 3));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Tanh() => Unary(x => x.Tanh(), "tanh", Range(-3, 3));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Sigmoid() => Unary(x => x.Sigmoid(), "sigmoid", Range(-4, 4));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); |x| >= 0.0625
    public Property Relu() => Unary(x => x.Relu(), "relu", Away(Margin, 2));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Gelu() => Unary(x => x.Gelu(), "gelu", Range(-3, 3));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property GeluTanh() => Unary(x => x.Gelu(tanhApproximation: true), "gelu_tanh", Range(-3, 3));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Silu() => Unary(x => x.Silu(), "silu", Range(-4, 4));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); |x| >= 0.0625
    public Property Abs() => Unary(x => x.Abs(), "abs", Away(Margin, 2));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|)
    public Property Square() => Unary(x => x.Square(), "square", Range(-2, 2));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); |x| >= 0.3
    public Property Reciprocal() => Unary(x => x.Reciprocal(), "reciprocal", Away(0.3, 2));

    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); x at least 0.0625 from both bounds
    public Property Clamp() => Unary(x => x.Clamp(-0.5f, 0.75f), "clamp", (r, n) => GradGen.AwayFrom(Values(r, n, -2, 2), Margin, -0.5f, 0.75f));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); x at least 0.0625 from the bound
    public Property ClampMin() => Unary(x => x.Clamp(min: -0.25f), "clamp_min", (r, n) => GradGen.AwayFrom(Values(r, n, -2, 2), Margin, -0.25f));
    [Property(MaxTest = 25)] // tol 5e-3·(1+|n|); x at least 0.0625 from the bound
    public Property ClampMax() => Unary(x => x.Clamp(max: 0.5f), "clamp_max", (r, n) => GradGen.AwayFrom(Values(r, n, -2, 2), Margin, 0.5f));

    [Property(MaxTest = 15)] // tol 5e-3·(1+|n|); x in [0.3, 2) for fractional and negative exponents
    public Property PowScalar() => Prop.ForAll(GradGen.Cases(0, 3), c =>
    {
        var rng = c.Rng();
        foreach (var p in new[] { 2f, 3f, 1f, 0f, 0.5f, 2.5f, -1.5f, -1f })
        {
            var x = Make(Values(rng, ScalarCount(c.Shape), 0.3, 2), c.Shape, requiresGrad: true);
            Check(t => t[0].Pow(p), [x], seed: c.Seed, what: $"pow {p} {x.ShapeString}");
        }
        var y = Make(Values(rng, ScalarCount(c.Shape), -2, 2), c.Shape, requiresGrad: true); // integer powers of negatives
        Check(t => t[0].Pow(3f), [y], seed: c.Seed, what: "pow 3 of signed values");
    });

    /// <summary>
    /// Every unary op applied to views that start at a non-zero storage offset: x.Narrow(...) as the input, and a gradient that
    /// arrives as an offset view (concat's backward narrows the incoming gradient).
    /// </summary>
    [Property(MaxTest = 10)] // tol 5e-3·(1+|n|)
    public Property UnaryOnOffsetViews() => Prop.ForAll(GradGen.Cases(1, 1, 3, 6), c =>
    {
        var rng = c.Rng();
        int n = c.Shape[0];
        (string, Func<Tensor, Tensor>)[] ops =
        [
            ("exp", t => t.Exp()), ("log", t => t.Log()), ("sqrt", t => t.Sqrt()), ("tanh", t => t.Tanh()), ("sigmoid", t => t.Sigmoid()),
            ("relu", t => t.Relu()), ("gelu", t => t.Gelu()), ("gelu_tanh", t => t.Gelu(true)), ("silu", t => t.Silu()), ("abs", t => t.Abs()),
            ("square", t => t.Square()), ("reciprocal", t => t.Reciprocal()), ("pow 1.5", t => t.Pow(1.5f)), ("rdiv", t => 2f / t),
            ("clamp", t => t.Clamp(0.25f, 1.5f)), ("mul_scalar", t => t * 3f), ("add_scalar", t => t + 1f), ("neg", t => -t),
        ];
        foreach (var (name, f) in ops)
        {
            // Positive values away from every kink used above (0.25, 1.5) so that all ops are smooth there.
            var x = Make(GradGen.AwayFrom(Values(rng, n + 2, 0.3, 2.5), Margin, 1.5f), [n + 2], requiresGrad: true);
            Check(t => f(t[0].Narrow(0, 2, n)), [x], seed: c.Seed, what: $"{name} of a narrowed view");
            int k = rng.Next(1, n + 2);
            Check(t => Tensor.Concat(t[0].Split([k, n + 2 - k]).Select(f).ToArray()), [x], seed: c.Seed, what: $"{name} of split parts, then concat");
        }
    });

    // ---------------------------------------------------------------- where / masked fill

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property Where() => Prop.ForAll(GradGen.Cases(0, 3), c =>
    {
        var rng = c.Rng();
        var sc = GradGen.BroadcastVariant(rng, c.Shape);
        var cond = Make(Enumerable.Range(0, ScalarCount(sc)).Select(_ => (float)rng.Next(2)).ToArray(), sc);
        var a = Param(rng, GradGen.BroadcastVariant(rng, c.Shape));
        var b = Param(rng, GradGen.BroadcastVariant(rng, c.Shape));
        b.RequiresGrad = rng.Next(3) != 0;
        Check(x => Tensor.Where(cond, x[0], x[1]), [a, b], seed: c.Seed, what: $"where {cond.ShapeString} {a.ShapeString} {b.ShapeString}");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property MaskedFill() => Prop.ForAll(GradGen.Cases(0, 3), c =>
    {
        var rng = c.Rng();
        var sm = GradGen.BroadcastVariant(rng, c.Shape);
        var mask = Make(Enumerable.Range(0, ScalarCount(sm)).Select(_ => (float)rng.Next(2)).ToArray(), sm);
        var x = Param(rng, c.Shape);
        Check(t => t[0].MaskedFill(mask, -3.5f), [x], seed: c.Seed, what: $"masked_fill {x.ShapeString} mask {mask.ShapeString}");
    });

    // ---------------------------------------------------------------- reductions

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property SumAndMean() => Prop.ForAll(GradGen.Cases(1, 4), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length;
        int dim = rng.Next(-r, r);
        bool keep = rng.Next(2) == 0;
        var dims = Enumerable.Range(0, r).Where(_ => rng.Next(2) == 0).DefaultIfEmpty(0).ToArray();
        Check(t => t[0].Sum(dim, keep), [x], seed: c.Seed, what: $"sum dim {dim} keep {keep} {x.ShapeString}");
        Check(t => t[0].Sum(), [x], seed: c.Seed, what: "sum all");
        Check(t => t[0].Sum(dims, keep), [x], seed: c.Seed, what: $"sum dims {Layout.Format(dims)} keep {keep}");
        Check(t => t[0].Mean(dim, keep), [x], seed: c.Seed, what: $"mean dim {dim} keep {keep}");
        Check(t => t[0].Mean(), [x], seed: c.Seed, what: "mean all");
        Check(t => t[0].Mean(dims, keep), [x], seed: c.Seed, what: $"mean dims {Layout.Format(dims)} keep {keep}");
        if (r >= 2) Check(t => t[0].T.Sum(dim, keep), [x], seed: c.Seed, what: "sum of a transposed view");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); values pairwise >= 0.125 apart (no ties)
    public Property MaxAndMin() => Prop.ForAll(GradGen.Cases(1, 3), c =>
    {
        var rng = c.Rng();
        var x = Make(GradGen.Distinct(rng, ScalarCount(c.Shape)), c.Shape, requiresGrad: true);
        int r = c.Shape.Length;
        int dim = rng.Next(-r, r);
        bool keep = rng.Next(2) == 0;
        Check(t => t[0].Max(dim, keep), [x], seed: c.Seed, what: $"max dim {dim} keep {keep} {x.ShapeString}");
        Check(t => t[0].Min(dim, keep), [x], seed: c.Seed, what: $"min dim {dim} keep {keep} {x.ShapeString}");
        Check(t => t[0].Max(), [x], seed: c.Seed, what: "max all");
        if (r >= 2) Check(t => t[0].T.Max(0, keep), [x], seed: c.Seed, what: "max of a transposed view");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property Var() => Prop.ForAll(GradGen.Cases(1, 3, 2, 5), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape);
        int r = c.Shape.Length;
        int dim = rng.Next(-r, r);
        bool keep = rng.Next(2) == 0;
        Check(t => t[0].Var(dim, unbiased: true, keep), [x], seed: c.Seed, what: $"var unbiased dim {dim} {x.ShapeString}");
        Check(t => t[0].Var(dim, unbiased: false, keep), [x], seed: c.Seed, what: $"var biased dim {dim} {x.ShapeString}");
    });
}
