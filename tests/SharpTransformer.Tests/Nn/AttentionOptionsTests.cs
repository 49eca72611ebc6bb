using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Nn;

/// <summary>
/// ScaledDotProductAttention's sliding window and value head size at the API level: the window equals an explicit additive
/// mask over many tiles, a window covering every key equals plain causal attention, and bad arguments name the problem.
/// </summary>
public class AttentionOptionsTests
{
    [Theory]
    [InlineData(1, 150, 150, 4, 3, 1)]
    [InlineData(2, 70, 200, 8, 5, 33)]
    [InlineData(1, 130, 130, 4, 4, 129)]
    public void WindowEqualsAnExplicitBandMask(int b, int tq, int tk, int d, int dv, int window)
    {
        var g = new Generator(7);
        var q = Tensor.RandN([b, 2, tq, d], g);
        var k = Tensor.RandN([b, 1, tk, d], g);
        var v = Tensor.RandN([b, 1, tk, dv], g);
        var band = new float[tq * tk];
        for (int i = 0; i < tq; i++)
            for (int j = 0; j < tk; j++)
            {
                int last = i + tk - tq;
                band[i * tk + j] = j <= last && j > last - window ? 0f : -1e30f;
            }
        var windowed = Functional.ScaledDotProductAttention(q, k, v, causal: true, window: window).ToArray();
        var masked = Functional.ScaledDotProductAttention(q, k, v, causal: false, bias: Tensor.FromArray(band, tq, tk)).ToArray();
        Assert.Equal(b * 2 * tq * dv, windowed.Length);
        for (int i = 0; i < masked.Length; i++) Assert.True(Math.Abs(masked[i] - windowed[i]) < 1e-4f, $"[{i}]: {masked[i]} vs {windowed[i]}");
    }

    [Fact]
    public void WindowCoveringEveryKeyIsPlainCausal()
    {
        var g = new Generator(3);
        var q = Tensor.RandN([1, 2, 5, 4], g);
        var k = Tensor.RandN([1, 2, 9, 4], g);
        var v = Tensor.RandN([1, 2, 9, 6], g);
        var causal = Functional.ScaledDotProductAttention(q, k, v, causal: true).ToArray();
        Assert.Equal(causal, Functional.ScaledDotProductAttention(q, k, v, causal: true, window: 9).ToArray());
        Assert.Equal(causal, Functional.ScaledDotProductAttention(q, k, v, causal: true, window: 1000).ToArray());
        Assert.NotEqual(causal, Functional.ScaledDotProductAttention(q, k, v, causal: true, window: 8).ToArray());
    }

    [Fact]
    public void BadWindowOrHeadSizesThrowNamingTheProblem()
    {
        var q = Tensor.Zeros(1, 1, 2, 4);
        var k = Tensor.Zeros(1, 1, 3, 4);
        var v = Tensor.Zeros(1, 1, 3, 5);
        var e1 = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, causal: false, window: 2));
        Assert.Contains("causal", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, k, v, causal: true, window: 0));
        Assert.Contains("window", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => Functional.ScaledDotProductAttention(q, Tensor.Zeros(1, 1, 3, 3), v));
        Assert.Contains("(1, 1, 3, 3)", e3.Message);
        Assert.Equal(new[] { 1, 1, 2, 5 }, Functional.ScaledDotProductAttention(q, k, v).Shape.ToArray());
    }
}
