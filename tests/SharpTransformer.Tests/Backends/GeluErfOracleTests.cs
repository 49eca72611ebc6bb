using MathNet.Numerics;
using MathNet.Numerics.Distributions;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// The exact (erf) GELU against MathNet.Numerics in double precision: our erf, the GELU kernel forward and backward on
/// every tail length, and the Tensor op with its autograd gradient. GELU(x) = x Φ(x) = x (1 + erf(x/√2)) / 2 and
/// GELU'(x) = Φ(x) + x φ(x), with Φ and φ MathNet's standard normal cdf and density.
/// </summary>
public sealed class GeluErfOracleTests
{
    private static double Gelu(double x) => 0.5 * x * (1 + SpecialFunctions.Erf(x / Math.Sqrt(2)));

    private static double GeluGrad(double x) => Normal.CDF(0, 1, x) + x * Normal.PDF(0, 1, x);

    /// <summary>Inputs over the whole range that matters: dense in [-8, 8] (both tails of Φ), plus 0, ±1e-3 and large values.</summary>
    private static float[] Inputs(int n, int seed)
    {
        var x = Uniform(new Random(seed), n, -8f, 8f);
        float[] special = [0f, 1e-3f, -1e-3f, 12f, -12f, 30f, -30f, 0.5f, -0.5f];
        for (int i = 0; i < Math.Min(n, special.Length); i++) x[i] = special[i];
        return x;
    }

    [Fact]
    public void ScalarErf_IsWithinItsDocumentedErrorOfMathNet()
    {
        // ScalarMath.Erf documents |error| < 1.2e-7 (Numerical Recipes' erfcc); checked on a grid of step 1e-3 over [-7, 7].
        double worst = 0, at = 0;
        for (int i = -7000; i <= 7000; i++)
        {
            double x = i * 1e-3;
            double err = Math.Abs(ScalarMath.Erf(x) - SpecialFunctions.Erf(x));
            if (err > worst) { worst = err; at = x; }
        }
        Assert.True(worst < 1.2e-7, $"ScalarMath.Erf is {worst:E2} from MathNet's erf at x = {at}");
    }

    [Fact]
    public void GeluKernel_ForwardAndBackward_EveryLength1To67_OnOneAndTwoThreads()
    {
        // Tolerance: 1e-6 absolute + 1e-5 relative (erf to 1.2e-7, then float rounding of x Φ(x) and of the derivative).
        foreach (var be in new IBackend[] { new CpuBackend(1), new CpuBackend(2) })
            for (int n = 1; n <= 67; n++)
            {
                var x = Inputs(n, 100 + n);
                var dy = Uniform(new Random(200 + n), n, -2f, 2f);
                var xs = Up(be, x);
                var ys = be.Allocate(DType.Float32, n, zero: false);
                be.Unary(UnaryOp.Gelu, xs, Layout.Contiguous(n), ys);
                var y = Down(be, ys, n);
                Close(x.Select(v => Gelu(v)).ToArray(), y, 1e-5, 1e-6, $"gelu n={n} on {be.Name}");

                var gs = Up(be, dy);
                var dxs = be.Allocate(DType.Float32, n, zero: false);
                be.UnaryBackward(UnaryOp.Gelu, xs, ys, gs, dxs, n);
                Close(x.Select((v, i) => dy[i] * GeluGrad(v)).ToArray(), Down(be, dxs, n), 1e-5, 1e-6, $"gelu backward n={n} on {be.Name}");
                xs.Dispose(); ys.Dispose(); gs.Dispose(); dxs.Dispose();
            }
    }

    [Fact]
    public void TensorGelu_ValueAndAutogradGradient_MatchMathNet()
    {
        // A (3, 1000) leaf; loss = sum(gelu(x) * w) so that dloss/dx = w * GELU'(x). Same tolerance as the kernel test.
        var x = Inputs(3000, 7);
        var w = Uniform(new Random(8), 3000, -1.5f, 1.5f);
        var xt = Tensor.FromArray(x, 3, 1000);
        xt.RequiresGrad = true;
        var y = xt.Gelu();
        Close(x.Select(v => Gelu(v)).ToArray(), y.ToArray(), 1e-5, 1e-6, "Tensor.Gelu");
        y.Mul(Tensor.FromArray(w, 3, 1000)).Sum().Backward();
        Close(x.Select((v, i) => w[i] * GeluGrad(v)).ToArray(), xt.Grad!.ToArray(), 1e-5, 1e-6, "d/dx sum(gelu(x) w)");
    }

    [Fact]
    public void TheOracleTellsTheTwoGeluFormsApart()
    {
        // The tanh form differs from the erf form by up to ~5e-4 (around |x| = 2): far above the tolerance, so the tests above
        // would catch a kernel that computed the wrong form.
        var x = Enumerable.Range(-400, 801).Select(i => i * 0.01f).ToArray();
        var t = Tensor.FromArray(x).Gelu(tanhApproximation: true).ToArray();
        double worst = x.Select((v, i) => Math.Abs(t[i] - Gelu(v))).Max();
        Assert.True(worst > 1e-4, $"tanh GELU is only {worst:E2} from the erf form");
    }
}
