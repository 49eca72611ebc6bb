using FsCheck;
using FsCheck.Fluent;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd;

/// <summary>A generated gradient-check case: a main shape and a seed for the values and secondary choices.</summary>
public sealed record Case(int[] Shape, int Seed)
{
    /// <summary>A random source for this case's values and choices.</summary>
    public Random Rng() => new(Seed);

    /// <inheritdoc/>
    public override string ToString() => $"shape {Layout.Format(Shape)} seed {Seed}";
}

/// <summary>FsCheck generators of small shapes for the gradient properties.</summary>
public static class GradGen
{
    /// <summary>A shape of rank in [minRank, maxRank] with dimensions in [minDim, maxDim].</summary>
    public static Gen<int[]> Shape(int minRank, int maxRank, int minDim = 1, int maxDim = 4) =>
        Gen.Choose(minRank, maxRank).SelectMany(r => Gen.ArrayOf(Gen.Choose(minDim, maxDim), r));

    /// <summary>Cases with a shape as <see cref="Shape"/> and a seed.</summary>
    public static Arbitrary<Case> Cases(int minRank, int maxRank, int minDim = 1, int maxDim = 4) =>
        Shape(minRank, maxRank, minDim, maxDim).SelectMany(s => Gen.Choose(0, 1 << 30).Select(seed => new Case(s, seed))).ToArbitrary();

    /// <summary>
    /// A shape that broadcasts to <paramref name="full"/>: some leading dimensions dropped, some dimensions set to 1.
    /// </summary>
    public static int[] BroadcastVariant(Random rng, int[] full)
    {
        int drop = rng.Next(3) == 0 ? rng.Next(full.Length + 1) : 0;
        var s = full[drop..].ToArray();
        for (int i = 0; i < s.Length; i++) if (rng.Next(3) == 0) s[i] = 1;
        return s;
    }

    /// <summary>A random permutation of 0..n-1.</summary>
    public static int[] Permutation(Random rng, int n) => Enumerable.Range(0, n).OrderBy(_ => rng.Next()).ToArray();

    /// <summary>Values that are pairwise at least 0.1 apart (a shuffled grid): no ties for max/min, far from kinks.</summary>
    public static float[] Distinct(Random rng, int n)
    {
        var p = Permutation(rng, n);
        return p.Select(i => (i - n / 2) * 0.125f + 0.0625f).ToArray();
    }

    /// <summary>Moves any value closer than <paramref name="margin"/> to one of the <paramref name="kinks"/> away from it.</summary>
    public static float[] AwayFrom(float[] x, float margin, params float[] kinks)
    {
        for (int i = 0; i < x.Length; i++)
            foreach (var k in kinks)
                if (MathF.Abs(x[i] - k) < margin) x[i] = k + (x[i] >= k ? margin : -margin) * 2f;
        return x;
    }
}
