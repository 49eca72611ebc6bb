using MathNet.Numerics.LinearAlgebra;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>
/// <see cref="Tensor.MatMul"/> and <see cref="Tensor.Linear"/>, values and autograd gradients, against MathNet.Numerics'
/// double-precision matrix products on random shapes: plain, transposed operands (views consumed in place), batched with
/// broadcast batch dimensions. For loss = sum(Y ∘ G): dA = G Bᵀ and dB = Aᵀ G per batch (summed over broadcast batches).
/// Tolerance per element: 1e-5 · (|A| |B|)[i, j] + 1e-6, float accumulation in any order (the primitive matmul test's rule).
/// </summary>
public sealed class MatMulOracleTests
{
    private static Matrix<double> M(float[] data, int offset, int rows, int cols) =>
        Matrix<double>.Build.Dense(rows, cols, (i, j) => data[offset + i * cols + j]);

    private static float[] Floats(Matrix<double> m) => m.ToRowMajorArray().Select(v => (float)v).ToArray();

    private static void CloseToProduct(Matrix<double> expected, Matrix<double> scale, float[] actual, int offset, string what)
    {
        var e = new double[expected.RowCount * expected.ColumnCount];
        var tol = new double[e.Length];
        var got = new float[e.Length];
        for (int i = 0; i < expected.RowCount; i++)
            for (int j = 0; j < expected.ColumnCount; j++)
            {
                int k = i * expected.ColumnCount + j;
                e[k] = expected[i, j];
                tol[k] = 1e-5 * scale[i, j] + 1e-6;
                got[k] = actual[offset + k];
            }
        Close(e, got, 0, 0, what, tol);
    }

    public static TheoryData<bool, bool> Transposes() => new() { { false, false }, { true, false }, { false, true }, { true, true } };

    [Theory]
    [MemberData(nameof(Transposes))]
    public void MatMul_RandomShapes_ValuesAndGradients(bool transA, bool transB)
    {
        var rng = new Random(60 + (transA ? 2 : 0) + (transB ? 1 : 0));
        for (int t = 0; t < 25; t++)
        {
            int m = rng.Next(1, 70), k = rng.Next(1, 70), n = rng.Next(1, 70);
            var a = Uniform(rng, m * k, -1, 1);     // A (M, K) row-major
            var b = Uniform(rng, k * n, -1, 1);     // B (K, N)
            var g = Uniform(rng, m * n, -1, 1);     // dL/dY
            // A transposed operand is the transpose view of a (K, M) leaf holding Aᵀ.
            var aLeaf = transA ? Tensor.FromArray(Floats(M(a, 0, m, k).Transpose()), k, m) : Tensor.FromArray(a, m, k);
            var bLeaf = transB ? Tensor.FromArray(Floats(M(b, 0, k, n).Transpose()), n, k) : Tensor.FromArray(b, k, n);
            aLeaf.RequiresGrad = true; bLeaf.RequiresGrad = true;
            var av = transA ? aLeaf.Transpose(0, 1) : aLeaf;
            var bv = transB ? bLeaf.Transpose(0, 1) : bLeaf;
            var y = av.MatMul(bv);
            y.Mul(Tensor.FromArray(g, m, n)).Sum().Backward();

            Matrix<double> ma = M(a, 0, m, k), mb = M(b, 0, k, n), mg = M(g, 0, m, n);
            string what = $"({m}, {k}) @ ({k}, {n}) transA={transA} transB={transB}";
            CloseToProduct(ma * mb, ma.PointwiseAbs() * mb.PointwiseAbs(), y.ToArray(), 0, what);
            var da = mg * mb.Transpose();
            var daScale = mg.PointwiseAbs() * mb.PointwiseAbs().Transpose();
            var db = ma.Transpose() * mg;
            var dbScale = ma.PointwiseAbs().Transpose() * mg.PointwiseAbs();
            // The leaves hold Aᵀ / Bᵀ when transposed, so their gradients are the transposed products.
            CloseToProduct(transA ? da.Transpose() : da, transA ? daScale.Transpose() : daScale, aLeaf.Grad!.ToArray(), 0, "dA of " + what);
            CloseToProduct(transB ? db.Transpose() : db, transB ? dbScale.Transpose() : dbScale, bLeaf.Grad!.ToArray(), 0, "dB of " + what);
        }
    }

    [Fact]
    public void MatMul_BroadcastBatches_ValuesAndGradients()
    {
        // A (2, 3, M, K) @ B (3, K, N): B is broadcast over the first batch dimension, so dB sums over it.
        var rng = new Random(70);
        int m = 5, k = 17, n = 9;
        var a = Uniform(rng, 6 * m * k, -1, 1);
        var b = Uniform(rng, 3 * k * n, -1, 1);
        var g = Uniform(rng, 6 * m * n, -1, 1);
        var at = Tensor.FromArray(a, 2, 3, m, k);
        var bt = Tensor.FromArray(b, 3, k, n);
        at.RequiresGrad = true; bt.RequiresGrad = true;
        var y = at.MatMul(bt);
        Assert.Equal([2, 3, m, n], y.Shape.ToArray());
        y.Mul(Tensor.FromArray(g, 2, 3, m, n)).Sum().Backward();
        var ys = y.ToArray();
        var da = at.Grad!.ToArray();
        var db = bt.Grad!.ToArray();
        for (int j = 0; j < 3; j++)
        {
            var mb = M(b, j * k * n, k, n);
            var dbSum = Matrix<double>.Build.Dense(k, n);
            var dbScale = Matrix<double>.Build.Dense(k, n);
            for (int i = 0; i < 2; i++)
            {
                int batch = i * 3 + j;
                var ma = M(a, batch * m * k, m, k);
                var mg = M(g, batch * m * n, m, n);
                CloseToProduct(ma * mb, ma.PointwiseAbs() * mb.PointwiseAbs(), ys, batch * m * n, $"batch ({i}, {j})");
                CloseToProduct(mg * mb.Transpose(), mg.PointwiseAbs() * mb.PointwiseAbs().Transpose(), da, batch * m * k, $"dA batch ({i}, {j})");
                dbSum += ma.Transpose() * mg;
                dbScale += ma.PointwiseAbs().Transpose() * mg.PointwiseAbs();
            }
            CloseToProduct(dbSum, dbScale, db, j * k * n, $"dB batch {j} (summed over the broadcast dimension)");
        }
    }

    [Fact]
    public void Linear_ValuesAndGradients()
    {
        // Y = X Wᵀ + b with W (out, in) as nn.Linear stores it; dX = G W, dW = Gᵀ X, db = column sums of G.
        var rng = new Random(71);
        int rows = 37, inF = 45, outF = 29;
        var x = Uniform(rng, rows * inF, -1, 1);
        var w = Uniform(rng, outF * inF, -1, 1);
        var bias = Uniform(rng, outF, -1, 1);
        var g = Uniform(rng, rows * outF, -1, 1);
        var xt = Tensor.FromArray(x, rows, inF);
        var wt = Tensor.FromArray(w, outF, inF);
        var bt = Tensor.FromArray(bias, outF);
        xt.RequiresGrad = true; wt.RequiresGrad = true; bt.RequiresGrad = true;
        var y = Tensor.Linear(xt, wt, bt);
        y.Mul(Tensor.FromArray(g, rows, outF)).Sum().Backward();

        Matrix<double> mx = M(x, 0, rows, inF), mw = M(w, 0, outF, inF), mg = M(g, 0, rows, outF);
        var ones = Matrix<double>.Build.Dense(rows, 1, 1.0);
        var mbias = ones * M(bias, 0, 1, outF);
        CloseToProduct(mx * mw.Transpose() + mbias, mx.PointwiseAbs() * mw.PointwiseAbs().Transpose() + mbias.PointwiseAbs(), y.ToArray(), 0, "linear");
        CloseToProduct(mg * mw, mg.PointwiseAbs() * mw.PointwiseAbs(), xt.Grad!.ToArray(), 0, "dX");
        CloseToProduct(mg.Transpose() * mx, mg.PointwiseAbs().Transpose() * mx.PointwiseAbs(), wt.Grad!.ToArray(), 0, "dW");
        CloseToProduct(ones.Transpose() * mg, ones.Transpose() * mg.PointwiseAbs(), bt.Grad!.ToArray(), 0, "db");
    }
}
