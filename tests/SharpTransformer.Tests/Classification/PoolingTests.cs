using SharpTransformer.Models.Classification;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Classification;

/// <summary>Pooling of (B, T, C) hidden states against scalar references, with right padding.</summary>
public sealed class PoolingTests
{
    private const int B = 3, T = 5, C = 4;
    private static readonly int[] Lengths = [5, 2, 3];

    private static float[] RandomHidden(int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, B * T * C).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    private static float[] MaskValues() =>
        Enumerable.Range(0, B * T).Select(k => k % T < Lengths[k / T] ? 1f : 0f).ToArray();

    private static void AssertClose(float[] want, float[] got, double tol, string what)
    {
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= tol, $"{what}[{i}]: want {want[i]}, got {got[i]}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MeanAveragesOnlyUnmaskedPositions(bool intMask)
    {
        var h = RandomHidden(1);
        var mask = intMask ? Tensor.FromArray(MaskValues().Select(v => (int)v).ToArray(), B, T) : Tensor.FromArray(MaskValues(), B, T);
        var got = Pooling.Mean(Tensor.FromArray(h, B, T, C), mask).ToArray();
        var want = new float[B * C];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
            {
                double s = 0;
                for (int t = 0; t < Lengths[b]; t++) s += h[(b * T + t) * C + c];
                want[b * C + c] = (float)(s / Lengths[b]);
            }
        AssertClose(want, got, 1e-5, "mean");
    }

    [Fact]
    public void MeanDoesNotSeeValuesAtPaddedPositions()
    {
        var h = RandomHidden(2);
        var mask = Tensor.FromArray(MaskValues(), B, T);
        var before = Pooling.Mean(Tensor.FromArray(h, B, T, C), mask).ToArray();
        var changed = (float[])h.Clone();
        for (int k = 0; k < B * T; k++)
            if (k % T >= Lengths[k / T])
                for (int c = 0; c < C; c++) changed[k * C + c] = 1000f + k;
        Assert.Equal(before, Pooling.Mean(Tensor.FromArray(changed, B, T, C), mask).ToArray());
        // Without a mask the padded values do count: the test data really reach the pooling.
        Assert.NotEqual(Pooling.Mean(Tensor.FromArray(h, B, T, C), null).ToArray(), Pooling.Mean(Tensor.FromArray(changed, B, T, C), null).ToArray());
    }

    [Fact]
    public void MeanWithoutMaskAveragesEveryPosition()
    {
        var h = RandomHidden(3);
        var got = Pooling.Mean(Tensor.FromArray(h, B, T, C), null).ToArray();
        var want = new float[B * C];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                want[b * C + c] = (float)Enumerable.Range(0, T).Average(t => (double)h[(b * T + t) * C + c]);
        AssertClose(want, got, 1e-5, "mean");
    }

    [Fact]
    public void MeanGradientFlowsOnlyToUnmaskedPositions()
    {
        var h = Tensor.FromArray(RandomHidden(4), B, T, C);
        h.RequiresGrad = true;
        Pooling.Mean(h, Tensor.FromArray(MaskValues(), B, T)).Sum().Backward();
        var g = h.Grad!.ToArray();
        for (int k = 0; k < B * T; k++)
        {
            float want = k % T < Lengths[k / T] ? 1f / Lengths[k / T] : 0f;
            for (int c = 0; c < C; c++) Assert.True(Math.Abs(g[k * C + c] - want) < 1e-6, $"grad at batch {k / T}, position {k % T}: {g[k * C + c]} (want {want})");
        }
    }

    [Fact]
    public void LastPicksTheLastNonPaddingRow()
    {
        var h = RandomHidden(5);
        var got = Pooling.Last(Tensor.FromArray(h, B, T, C), Tensor.FromArray(MaskValues(), B, T)).ToArray();
        var want = new float[B * C];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++) want[b * C + c] = h[(b * T + Lengths[b] - 1) * C + c];
        Assert.Equal(want, got);
        var noMask = Pooling.Last(Tensor.FromArray(h, B, T, C), null).ToArray();
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++) Assert.Equal(h[(b * T + T - 1) * C + c], noMask[b * C + c]);
    }

    [Fact]
    public void LastRejectsAnAllPaddingSequence()
    {
        var mask = MaskValues();
        for (int t = 0; t < T; t++) mask[T + t] = 0f;
        var e = Assert.Throws<ArgumentException>(() => Pooling.Last(Tensor.FromArray(RandomHidden(6), B, T, C), Tensor.FromArray(mask, B, T)));
        Assert.Contains("sequence 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LastGradientFlowsOnlyToTheLastToken()
    {
        var h = Tensor.FromArray(RandomHidden(7), B, T, C);
        h.RequiresGrad = true;
        Pooling.Last(h, Tensor.FromArray(MaskValues(), B, T)).Sum().Backward();
        var g = h.Grad!.ToArray();
        for (int k = 0; k < B * T; k++)
            for (int c = 0; c < C; c++) Assert.Equal(k % T == Lengths[k / T] - 1 ? 1f : 0f, g[k * C + c]);
    }

    [Fact]
    public void FirstPicksPositionZero()
    {
        var h = RandomHidden(8);
        var got = Pooling.First(Tensor.FromArray(h, B, T, C)).ToArray();
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++) Assert.Equal(h[b * T * C + c], got[b * C + c]);
    }
}
