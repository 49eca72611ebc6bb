using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Gradient properties of the neural-network functions (fused kernels): softmax, log-softmax, layer norm, RMS norm,
/// embedding, cross-entropy, dropout, rope, scaled dot-product attention. Tolerance 5e-3·(1+|n|) unless stated.
/// </summary>
public sealed partial class GradientProperties
{
    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property SoftmaxAndLogSoftmax() => Prop.ForAll(GradGen.Cases(1, 3, 1, 5), c =>
    {
        var rng = c.Rng();
        var x = Param(rng, c.Shape, -3, 3);
        int r = c.Shape.Length, dim = rng.Next(-r, r);
        Check(t => t[0].Softmax(dim), [x], seed: c.Seed, what: $"softmax dim {dim} of {x.ShapeString}");
        Check(t => t[0].LogSoftmax(dim), [x], seed: c.Seed, what: $"log_softmax dim {dim} of {x.ShapeString}");
        if (r >= 2) Check(t => t[0].T.LogSoftmax(-1), [x], seed: c.Seed, what: "log_softmax of a transposed view");
        Check(t => t[0].Add(40f).Softmax(dim), [x], seed: c.Seed, what: "softmax of large logits (max subtraction)");
    });

    /// <summary>Rows with a spread (variance at least 0.1) so that 1/std stays moderate.</summary>
    private static float[] Rows(Random rng, int rows, int cols, Func<float[], double> stat)
    {
        var all = new List<float>();
        for (int i = 0; i < rows; i++)
        {
            float[] row;
            do row = Values(rng, cols, -2, 2); while (stat(row) < 0.1);
            all.AddRange(row);
        }
        return all.ToArray();
    }

    private static double Variance(float[] r) { double m = r.Average(v => (double)v); return r.Average(v => (v - m) * (v - m)); }
    private static double MeanSquare(float[] r) => r.Average(v => (double)v * v);

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); rows with variance >= 0.1
    public Property LayerNorm() => Prop.ForAll(GradGen.Cases(1, 3, 2, 5), c =>
    {
        var rng = c.Rng();
        int cols = c.Shape[^1], rows = ScalarCount(c.Shape) / cols;
        var x = Make(Rows(rng, rows, cols, Variance), c.Shape, requiresGrad: true);
        var w = Param(rng, [cols], 0.5, 1.5);
        var b = Param(rng, [cols], -1, 1);
        Check(t => Functional.LayerNorm(t[0], t[1], t[2]), [x, w, b], seed: c.Seed, what: $"layer_norm {x.ShapeString} weight and bias");
        Check(t => Functional.LayerNorm(t[0], t[1], null), [x, w], seed: c.Seed, what: "layer_norm weight only");
        Check(t => Functional.LayerNorm(t[0], null, t[1]), [x, b], seed: c.Seed, what: "layer_norm bias only");
        Check(t => Functional.LayerNorm(t[0], null, null), [x], seed: c.Seed, what: "layer_norm without affine");
        if (c.Shape.Length >= 2)
        {
            var xt = Make(x.T.Contiguous().ToArray(), x.T.Shape.ToArray(), requiresGrad: true);
            Check(t => Functional.LayerNorm(t[0].T, t[1], t[2]), [xt, w, b], seed: c.Seed, what: "layer_norm of a transposed view");
        }
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); rows with mean square >= 0.1
    public Property RmsNorm() => Prop.ForAll(GradGen.Cases(1, 3, 1, 5), c =>
    {
        var rng = c.Rng();
        int cols = c.Shape[^1], rows = ScalarCount(c.Shape) / cols;
        var x = Make(Rows(rng, rows, cols, MeanSquare), c.Shape, requiresGrad: true);
        var w = Param(rng, [cols], 0.5, 1.5);
        Check(t => Functional.RmsNorm(t[0], t[1]), [x, w], seed: c.Seed, what: $"rms_norm {x.ShapeString} with weight");
        Check(t => Functional.RmsNorm(t[0], null), [x], seed: c.Seed, what: "rms_norm without weight");
        Check(t => Functional.RmsNorm(t[0].Narrow(-1, 0, cols), t[1], eps: 1e-2f), [x, w], seed: c.Seed, what: "rms_norm eps 1e-2");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property Embedding() => Prop.ForAll(GradGen.Cases(1, 2, 1, 4), c =>
    {
        var rng = c.Rng();
        int vocab = rng.Next(1, 6), dim = rng.Next(1, 5);
        var ids = Tensor.FromArray(Enumerable.Range(0, ScalarCount(c.Shape)).Select(_ => rng.Next(vocab)).ToArray(), c.Shape);
        var weight = Param(rng, [vocab, dim]);
        Check(t => Functional.Embedding(ids, t[0]), [weight], seed: c.Seed, what: $"embedding ids {ids.ShapeString} of a ({vocab}, {dim}) table");
        if (c.Shape.Length == 2) Check(t => Functional.Embedding(ids.T, t[0]), [weight], seed: c.Seed, what: "embedding of transposed ids");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property CrossEntropy() => Prop.ForAll(GradGen.Cases(1, 2, 1, 3), c =>
    {
        var rng = c.Rng();
        int classes = rng.Next(2, 6);
        var lead = c.Shape;
        int rows = ScalarCount(lead);
        var logits = Param(rng, [.. lead, classes], -3, 3);
        int ignore = rng.Next(2) == 0 ? -100 : rng.Next(classes); // the default, or a real class id used as padding
        var tgt = Enumerable.Range(0, rows).Select(_ => rng.Next(4) == 0 ? ignore : rng.Next(classes)).ToArray();
        int firstValid = Array.FindIndex(tgt, v => v != ignore);
        if (firstValid < 0) tgt[0] = ignore < 0 ? 0 : (ignore + 1) % classes;     // at least one row counts (mean over no rows is NaN)
        var targets = Tensor.FromArray(tgt, lead);
        float smoothing = new[] { 0f, 0.1f, 0.25f }[rng.Next(3)];
        foreach (var red in Enum.GetValues<Reduction>())
            Check(t => Functional.CrossEntropy(t[0], targets, ignore, smoothing, red), [logits], seed: c.Seed,
                what: $"cross_entropy {logits.ShapeString} targets {Layout.Format(tgt)} ignore {ignore} smoothing {smoothing} {red}");
        Check(t => Functional.CrossEntropy(t[0].Mul(2f), targets, ignore), [logits], seed: c.Seed, what: "cross_entropy of a computed input");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); same generator seed in every evaluation, so the mask is fixed
    public Property Dropout() => Prop.ForAll(GradGen.Cases(1, 3, 1, 6), c =>
    {
        var rng = c.Rng();
        float p = new[] { 0.1f, 0.5f, 0.8f }[rng.Next(3)];
        ulong seed = (ulong)c.Seed;
        var x = Make(SignedAway(rng, ScalarCount(c.Shape), 0.25, 2), c.Shape, requiresGrad: true);
        Check(t => Functional.Dropout(t[0], p, training: true, new Generator(seed)), [x], seed: c.Seed, what: $"dropout p {p} {x.ShapeString}");

        // The gradient is exactly the mask scaled by 1/(1-p): 1/(1-p) where the element was kept, 0 where it was dropped.
        x.ZeroGrad();
        var y = Functional.Dropout(x, p, training: true, new Generator(seed));
        y.Sum().Backward();
        var yv = y.ToArray();
        var xv = x.ToArray();
        var g = x.Grad!.ToArray();
        for (int i = 0; i < g.Length; i++)
        {
            bool kept = yv[i] != 0f;
            Assert.Equal(kept ? 1.0 / (1 - p) : 0.0, g[i], 1e-6 * (1 + g[i])); // the scale, within float rounding
            if (kept) Assert.Equal(xv[i] / (1.0 - p), yv[i], 1e-6 * Math.Abs(yv[i]));
        }
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property Rope() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int b = rng.Next(1, 3), h = rng.Next(1, 3), t = rng.Next(1, 5), d = 2 * rng.Next(1, 4);
        float theta = rng.Next(2) == 0 ? 10000f : 100f;
        var x = Param(rng, [b, h, t, d]);
        int start = rng.Next(0, 20);
        var pos1 = Tensor.FromArray(Enumerable.Range(start, t).ToArray());                       // (T): a KV-cache offset
        var pos2 = Tensor.FromArray(Enumerable.Range(0, b * t).Select(_ => rng.Next(0, 50)).ToArray(), b, t); // (B, T): arbitrary
        Check(z => Functional.Rope(z[0], pos1, theta), [x], seed: c.Seed, what: $"rope {x.ShapeString} positions from {start} theta {theta}");
        Check(z => Functional.Rope(z[0], pos2, theta), [x], seed: c.Seed, what: $"rope {x.ShapeString} per-batch positions");
        var xt = Param(rng, [b, t, h, d]);
        Check(z => Functional.Rope(z[0].Transpose(1, 2), pos1, theta), [xt], seed: c.Seed, what: "rope of a (B, T, H, D) view");
    });

    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property ScaledDotProductAttention() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int bsz = rng.Next(1, 3), hkv = rng.Next(1, 3), h = hkv * rng.Next(1, 3), tq = rng.Next(1, 4), tk = tq + rng.Next(0, 3), d = rng.Next(1, 5);
        bool causal = rng.Next(2) == 0;
        bool transposedQkv = rng.Next(3) == 0;
        float? scale = rng.Next(3) == 0 ? 0.7f : null;

        Tensor? mask = null;
        if (rng.Next(2) == 0)
        {
            var m = Enumerable.Range(0, bsz * tk).Select(_ => rng.Next(4) == 0 ? 0f : 1f).ToArray();
            mask = Tensor.FromArray(m, bsz, tk);
        }
        int[][] biasShapes = [[bsz, h, tq, tk], [1, h, tq, tk], [tq, tk], [bsz, 1, 1, tk], [1, 1, 1, tk], [h, 1, tk]];
        int[]? biasShape = rng.Next(3) == 0 ? null : biasShapes[rng.Next(biasShapes.Length)];

        var q = Param(rng, transposedQkv ? [bsz, tq, h, d] : [bsz, h, tq, d]);
        var k = Param(rng, transposedQkv ? [bsz, tk, hkv, d] : [bsz, hkv, tk, d]);
        var v = Param(rng, transposedQkv ? [bsz, tk, hkv, d] : [bsz, hkv, tk, d]);
        var inputs = new List<Tensor> { q, k, v };
        if (biasShape is not null) inputs.Add(Param(rng, biasShape, -1, 1));
        k.RequiresGrad = rng.Next(5) != 0;

        Tensor Qkv(Tensor z) => transposedQkv ? z.Transpose(1, 2) : z;
        Check(z => Functional.ScaledDotProductAttention(Qkv(z[0]), Qkv(z[1]), Qkv(z[2]), causal, mask, z.Length > 3 ? z[3] : null, scale),
            [.. inputs], seed: c.Seed,
            what: $"attention B{bsz} H{h} Hkv{hkv} Tq{tq} Tk{tk} D{d} causal {causal} mask {mask is not null} bias {(biasShape is null ? "none" : Layout.Format(biasShape))} transposed {transposedQkv} scale {scale}");
    });
}
