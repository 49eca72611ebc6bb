using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Nn;

/// <summary>
/// Forward values of the fused neural-network functions against <see cref="FunctionalReference"/> (double precision), over
/// every last-dimension length 1..67 where it applies. Tolerance: |y - ref| &lt;= 2e-5 + 2e-5·|ref| (float kernels with float
/// accumulation over at most ~70 terms).
/// </summary>
public sealed class FunctionalForwardTests
{
    private const double Tol = 2e-5;

    [Fact]
    public void SoftmaxAndLogSoftmax_EveryLength1To67()
    {
        var rng = new Random(51);
        for (int cols = 1; cols <= 67; cols++)
        {
            int rows = 3;
            var x = Uniform(rng, rows * cols, -4, 4);
            if (cols > 2) x[1] = 80f; // a large logit: max subtraction
            var t = Tensor.FromArray(x, rows, cols);
            Close(FunctionalReference.Softmax(x, rows, cols, false), t.Softmax(-1).ToArray(), Tol, Tol, $"softmax cols {cols}");
            Close(FunctionalReference.Softmax(x, rows, cols, true), t.LogSoftmax(-1).ToArray(), Tol, Tol, $"log_softmax cols {cols}");
        }
        // Along the first dimension: the softmax of the transpose, transposed back.
        var y = Uniform(rng, 5 * 7, -3, 3);
        var yt = Tensor.FromArray(y, 5, 7);
        var refT = FunctionalReference.Softmax(yt.T.Contiguous().ToArray(), 7, 5, false);
        Close(refT, yt.Softmax(0).T.Contiguous().ToArray(), Tol, Tol, "softmax dim 0");
    }

    [Fact]
    public void LayerNormAndRmsNorm_EveryLength1To67()
    {
        var rng = new Random(52);
        for (int cols = 1; cols <= 67; cols++)
        {
            int rows = 2;
            var x = Uniform(rng, rows * cols, -2, 3);
            var w = Uniform(rng, cols, 0.5f, 1.5f);
            var b = Uniform(rng, cols, -1, 1);
            var xt = Tensor.FromArray(x, rows, cols);
            Close(FunctionalReference.LayerNorm(x, w, b, rows, cols, 1e-5), Functional.LayerNorm(xt, Tensor.FromArray(w), Tensor.FromArray(b)).ToArray(),
                Tol, Tol, $"layer_norm cols {cols}");
            Close(FunctionalReference.LayerNorm(x, null, null, rows, cols, 1e-5), Functional.LayerNorm(xt, null, null).ToArray(), Tol, Tol, $"layer_norm no affine cols {cols}");
            Close(FunctionalReference.RmsNorm(x, w, rows, cols, 1e-6), Functional.RmsNorm(xt, Tensor.FromArray(w)).ToArray(), Tol, Tol, $"rms_norm cols {cols}");
            Close(FunctionalReference.RmsNorm(x, null, rows, cols, 0.1), Functional.RmsNorm(xt, null, eps: 0.1f).ToArray(), Tol, Tol, $"rms_norm eps 0.1 cols {cols}");
        }
    }

    [Fact]
    public void CrossEntropy_EveryClassCount2To67_WithIgnoreAndSmoothing()
    {
        var rng = new Random(53);
        for (int classes = 2; classes <= 67; classes++)
        {
            int rows = 5;
            var logits = Uniform(rng, rows * classes, -5, 5);
            int ignore = classes % 2 == 0 ? -100 : 0;
            var tgt = Enumerable.Range(0, rows).Select(i => i == 1 ? ignore : rng.Next(classes)).ToArray();
            if (tgt.All(v => v == ignore)) tgt[0] = 1;
            double smoothing = new[] { 0.0, 0.1, 0.3 }[classes % 3];
            var (rowLoss, valid) = FunctionalReference.CrossEntropy(logits, tgt, rows, classes, ignore, smoothing);
            var lt = Tensor.FromArray(logits, rows, classes);
            var tt = Tensor.FromArray(tgt);
            string what = $"cross_entropy classes {classes} ignore {ignore} smoothing {smoothing}";
            Close(rowLoss, Functional.CrossEntropy(lt, tt, ignore, (float)smoothing, Reduction.None).ToArray(), Tol, Tol, what + " none");
            Close([rowLoss.Sum()], Functional.CrossEntropy(lt, tt, ignore, (float)smoothing, Reduction.Sum).ToArray(), Tol, Tol, what + " sum");
            Close([rowLoss.Sum() / valid], Functional.CrossEntropy(lt, tt, ignore, (float)smoothing, Reduction.Mean).ToArray(), Tol, Tol, what + " mean");
        }
        var bad = Assert.ThrowsAny<Exception>(() => Functional.CrossEntropy(Tensor.Zeros(2, 3), Tensor.FromArray([0, 3])));
        Assert.Contains("3", bad.Message);
    }

    [Fact]
    public void Rope_MatchesRotateHalf()
    {
        var rng = new Random(54);
        foreach (int d in new[] { 2, 4, 6, 8, 16, 34, 64, 66 })
        {
            int b = 2, h = 3, t = 5;
            var x = Uniform(rng, b * h * t * d, -2, 2);
            var pos = Enumerable.Range(0, b * t).Select(_ => rng.Next(0, 2000)).ToArray();
            double theta = d % 4 == 0 ? 10000 : 500000;
            var y = Functional.Rope(Tensor.FromArray(x, b, h, t, d), Tensor.FromArray(pos, b, t), (float)theta).ToArray();
            // Angles up to 2000 rad are formed in float by the kernel: allow 2e-4 absolute.
            Close(FunctionalReference.Rope(x, pos, b, h, t, d, theta), y, 2e-5, 2e-4, $"rope d {d}");
        }
    }

    [Fact]
    public void Attention_CausalMaskBiasGroupedQuery()
    {
        var rng = new Random(55);
        for (int trial = 0; trial < 60; trial++)
        {
            int bsz = rng.Next(1, 3), hkv = rng.Next(1, 3), h = hkv * rng.Next(1, 4);
            int tq = trial < 20 ? rng.Next(1, 5) : rng.Next(1, 20);
            int tk = tq + (trial < 40 ? rng.Next(0, 4) : rng.Next(0, 70));
            int d = trial % 3 == 0 ? rng.Next(1, 67) : rng.Next(1, 9);
            bool causal = rng.Next(2) == 0;
            float[]? mask = rng.Next(2) == 0 ? Enumerable.Range(0, bsz * tk).Select(_ => rng.Next(3) == 0 ? 0f : 1f).ToArray() : null;
            if (trial == 7) mask = new float[bsz * tk]; // every key masked: rows of zeros
            int[][] biasShapes = [[bsz, h, tq, tk], [1, h, tq, tk], [tq, tk], [bsz, 1, 1, tk]];
            int[]? bs = rng.Next(2) == 0 ? biasShapes[rng.Next(biasShapes.Length)] : null;
            float? scale = rng.Next(3) == 0 ? 0.3f : null;

            var q = Uniform(rng, bsz * h * tq * d, -1.5f, 1.5f);
            var k = Uniform(rng, bsz * hkv * tk * d, -1.5f, 1.5f);
            var v = Uniform(rng, bsz * hkv * tk * d, -1.5f, 1.5f);
            Tensor? biasT = bs is null ? null : Tensor.FromArray(Uniform(rng, bs.Aggregate(1, (a, c) => a * c), -1, 1), bs);
            double[]? biasFull = biasT?.Expand(bsz, h, tq, tk).Contiguous().ToArray().Select(x => (double)x).ToArray();
            var expected = FunctionalReference.Attention(q, k, v, bsz, h, hkv, tq, tk, d, causal, mask, biasFull, scale ?? 1 / Math.Sqrt(d));
            var y = Functional.ScaledDotProductAttention(Tensor.FromArray(q, bsz, h, tq, d), Tensor.FromArray(k, bsz, hkv, tk, d),
                Tensor.FromArray(v, bsz, hkv, tk, d), causal, mask is null ? null : Tensor.FromArray(mask, bsz, tk), biasT, scale).ToArray();
            Close(expected, y, Tol, Tol,
                $"attention B{bsz} H{h} Hkv{hkv} Tq{tq} Tk{tk} D{d} causal {causal} mask {mask is not null} bias {(bs is null ? "none" : Layout.Format(bs))} scale {scale}");
        }
    }
}
