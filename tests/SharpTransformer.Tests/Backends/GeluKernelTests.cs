using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Tests.Backends;

public class GeluKernelTests
{
    // Every length 1..67 reaches the Vector512, Vector256 and scalar tails. Reference: the tanh form in double.
    // Tolerance: 2e-6 absolute + 2e-6 relative (float tanh through exp).
    [Fact]
    public void TanhGeluForwardAndDerivativeMatchDoubleReferenceOnAllTailLengths()
    {
        var rng = new Random(5);
        for (int n = 1; n <= 67; n++)
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 16 - 8)).ToArray();
            x[0] = n % 3 == 0 ? 30f : x[0];            // saturated tail of tanh
            var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = new float[n];
            var d = new float[n];
            GeluKernels.Forward(x, y);
            GeluKernels.Backward(x, g, d);
            for (int i = 0; i < n; i++)
            {
                double xi = x[i];
                double u = Math.Sqrt(2 / Math.PI) * (xi + 0.044715 * xi * xi * xi);
                double t = Math.Tanh(u);
                double fy = 0.5 * xi * (1 + t);
                double fd = 0.5 * (1 + t) + 0.5 * xi * (1 - t * t) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * xi * xi);
                Assert.True(Math.Abs(fy - y[i]) <= 2e-6 + 2e-6 * Math.Abs(fy), $"n={n} i={i} x={xi}: gelu {y[i]} vs {fy}");
                Assert.True(Math.Abs(fd * g[i] - d[i]) <= 2e-6 + 2e-6 * Math.Abs(fd), $"n={n} i={i} x={xi}: gelu' {d[i]} vs {fd * g[i]}");
            }
        }
    }
}
