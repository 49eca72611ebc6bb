using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Gradient properties of the attention options the later families need: a value head size different from the query-key
/// head size (DeepSeek's latent attention), a sliding-window causal mask (Mistral), and T5's relative-position bias
/// (1, H, Tq, Tk) shared across the batch with scale 1, in cross-attention. Tolerance 5e-3·(1+|n|).
/// </summary>
public sealed partial class GradientProperties
{
    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property AttentionWithValueDimAndWindow() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int bsz = rng.Next(1, 3), hkv = rng.Next(1, 3), h = hkv * rng.Next(1, 3), tq = rng.Next(1, 5), tk = tq + rng.Next(0, 3);
        int d = rng.Next(1, 5), dv = rng.Next(1, 6);
        int window = rng.Next(1, tk + 2);                     // 1 .. Tk + 1: window 1, partial windows, and windows covering every key
        float? scale = rng.Next(3) == 0 ? 1f : null;
        Tensor? mask = null;
        if (rng.Next(3) == 0)
            mask = Tensor.FromArray(Enumerable.Range(0, bsz * tk).Select(_ => rng.Next(4) == 0 ? 0f : 1f).ToArray(), bsz, tk);
        int[][] biasShapes = [[bsz, h, tq, tk], [1, h, tq, tk], [tq, tk]];
        int[]? biasShape = rng.Next(2) == 0 ? null : biasShapes[rng.Next(biasShapes.Length)];

        var q = Param(rng, [bsz, h, tq, d]);
        var k = Param(rng, [bsz, hkv, tk, d]);
        var v = Param(rng, [bsz, hkv, tk, dv]);
        var inputs = new List<Tensor> { q, k, v };
        if (biasShape is not null) inputs.Add(Param(rng, biasShape, -1, 1));
        Check(z => Functional.ScaledDotProductAttention(z[0], z[1], z[2], causal: true, mask, z.Length > 3 ? z[3] : null, scale, window),
            [.. inputs], seed: c.Seed,
            what: $"attention window {window} B{bsz} H{h} Hkv{hkv} Tq{tq} Tk{tk} D{d} Dv{dv} mask {mask is not null} bias {(biasShape is null ? "none" : Layout.Format(biasShape))} scale {scale}");

        // Frozen keys and values as prefix views of a longer cache buffer (the capacity read path), with the window and Dv.
        int cap = tk + rng.Next(1, 4);
        var bigK = Make(Values(rng, bsz * hkv * cap * d, -2, 2), [bsz, hkv, cap, d]).Narrow(2, 0, tk);
        var bigV = Make(Values(rng, bsz * hkv * cap * dv, -2, 2), [bsz, hkv, cap, dv]).Narrow(2, 0, tk);
        Check(z => Functional.ScaledDotProductAttention(z[0], bigK, bigV, causal: true, mask, null, scale, window),
            [Param(rng, [bsz, h, tq, d])], seed: c.Seed, what: $"attention window {window} Dv{dv} over frozen prefix-view keys/values (capacity {cap})");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|)
    public Property AttentionWithT5BiasInCrossAttention() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int bsz = rng.Next(1, 4), h = rng.Next(1, 3), tq = rng.Next(1, 4), tk = rng.Next(1, 5), d = rng.Next(1, 4);
        var q = Param(rng, [bsz, h, tq, d]);
        var k = Param(rng, [bsz, h, tk, d]);
        var v = Param(rng, [bsz, h, tk, d]);
        var bias = Param(rng, [1, h, tq, tk], -1, 1);      // one relative-position bias for the whole batch: its gradient sums over it
        Check(z => Functional.ScaledDotProductAttention(z[0], z[1], z[2], causal: false, bias: z[3], scale: 1f),
            [q, k, v, bias], seed: c.Seed, what: $"T5 cross-attention B{bsz} H{h} Tq{tq} Tk{tk} D{d} bias (1, H, Tq, Tk) scale 1");
    });
}
