using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Nn;

/// <summary>Class-weighted cross-entropy: PyTorch's weighted mean, label smoothing, ignore index, and its gradient.</summary>
public sealed class WeightedCrossEntropyTests
{
    // PyTorch's definition, in double: per row (1-ε)·w[y]·(-log p_y) + ε/C·Σ_c w[c]·(-log p_c); mean divides by Σ w[y].
    private static (double[] Rows, double WeightSum) Reference(float[] logits, int[] y, float[] w, int classes, float eps, int ignore)
    {
        int rows = y.Length;
        var loss = new double[rows];
        double ws = 0;
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == ignore) continue;
            var row = logits.AsSpan(r * classes, classes).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max(), lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
            double nll = w[y[r]] * (lse - row[y[r]]);
            double smooth = Enumerable.Range(0, classes).Sum(c => w[c] * (lse - row[c]));
            loss[r] = (1 - eps) * nll + eps / classes * smooth;
            ws += w[y[r]];
        }
        return (loss, ws);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(0.1f)]
    public void MatchesPyTorchDefinitionWithIgnoredRows(float eps)
    {
        var rng = new Random(1);
        int rows = 6, classes = 4;
        var logits = Values(rng, rows * classes, -3, 3);
        int[] y = [0, 3, -100, 1, 3, 2];
        float[] w = [0.5f, 2f, 1f, 4f];
        var (refRows, ws) = Reference(logits, y, w, classes, eps, -100);
        var l = Tensor.FromArray(logits, 2, 3, classes);
        var t = Tensor.FromArray(y, 2, 3);
        var wt = Tensor.FromArray(w);
        var none = Functional.CrossEntropy(l, t, wt, labelSmoothing: eps, reduction: Reduction.None);
        Assert.Equal([2, 3], none.Shape.ToArray());
        var got = none.ToArray();
        for (int r = 0; r < rows; r++) Assert.Equal(refRows[r], got[r], 4);
        Assert.Equal(refRows.Sum(), Functional.CrossEntropy(l, t, wt, labelSmoothing: eps, reduction: Reduction.Sum).Item(), 4);
        Assert.Equal(refRows.Sum() / ws, Functional.CrossEntropy(l, t, wt, labelSmoothing: eps).Item(), 4);
        // The weighted mean is not the plain mean of the weighted rows.
        Assert.NotEqual(refRows.Sum() / 5, Functional.CrossEntropy(l, t, wt, labelSmoothing: eps).Item(), 2);
    }

    [Fact]
    public void UnitWeightsAndNullEqualTheUnweightedLoss()
    {
        var rng = new Random(2);
        var l = Tensor.FromArray(Values(rng, 15, -2, 2), 5, 3);
        var t = Tensor.FromArray([0, 2, -100, 1, 1]);
        foreach (var eps in new[] { 0f, 0.2f })
        {
            float plain = Functional.CrossEntropy(l, t, labelSmoothing: eps).Item();
            Assert.Equal(plain, Functional.CrossEntropy(l, t, Tensor.Ones(3), labelSmoothing: eps).Item(), 5);
            Assert.Equal(plain, Functional.CrossEntropy(l, t, (Tensor?)null, labelSmoothing: eps).Item(), 6);
        }
        // Scaling all weights leaves the weighted mean unchanged.
        float[] w = [1f, 3f, 0.5f];
        Assert.Equal(Functional.CrossEntropy(l, t, Tensor.FromArray(w)).Item(),
            Functional.CrossEntropy(l, t, Tensor.FromArray(w.Select(v => v * 10).ToArray())).Item(), 5);
    }

    [Fact]
    public void RejectsBadWeightsAndTargets()
    {
        var l = Tensor.Zeros(2, 3);
        var t = Tensor.FromArray([0, 1]);
        Assert.Contains("must be (3)", Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(l, t, Tensor.Ones(2))).Message);
        Assert.Contains("target 5", Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(l, Tensor.FromArray([0, 5]), Tensor.Ones(3))).Message);
    }

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property GradientMatchesFiniteDifferences() => Prop.ForAll(GradGen.Cases(2, 3, 1, 4), c =>
    {
        var rng = c.Rng();
        int classes = c.Shape[^1], rows = ScalarCount(c.Shape) / classes;
        var ids = Enumerable.Range(0, rows).Select(_ => rng.Next(4) == 0 ? -100 : rng.Next(classes)).ToArray();
        if (ids.All(i => i == -100)) ids[0] = 0;
        var targets = Tensor.FromArray(ids, c.Shape[..^1]);
        var weight = Tensor.FromArray(Values(rng, classes, 0.25, 3));
        var eps = rng.Next(2) == 0 ? 0f : 0.1f;
        var reduction = (Reduction)rng.Next(3);
        var x = Param(rng, c.Shape, -3, 3);
        Check(t => Functional.CrossEntropy(t[0], targets, weight, labelSmoothing: eps, reduction: reduction), [x], seed: c.Seed,
            what: $"weighted cross_entropy {x.ShapeString} ε {eps} {reduction}");
    });
}
