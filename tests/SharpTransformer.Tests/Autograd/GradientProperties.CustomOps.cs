using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd.CustomOps;
using static SharpTransformer.Tests.Autograd.GradCheck;

namespace SharpTransformer.Tests.Autograd;

/// <summary>
/// Gradient properties of custom ops defined in this test assembly through the public CustomFunction API (mixture-of-experts
/// combine and top-k routing), alone and composed with built-in ops. Tolerance 5e-3·(1+|n|).
/// </summary>
public sealed partial class GradientProperties
{
    [Property(MaxTest = 40)] // tol 5e-3·(1+|n|)
    public Property CustomExpertCombine() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int tokens = rng.Next(1, 5), n = rng.Next(1, 7), width = rng.Next(1, 5);
        var ids = Enumerable.Range(0, n).Select(_ => rng.Next(tokens)).ToArray();   // repeats: several rows add into one token
        var token = MakeInt(ids, [n]);
        var rows = Param(rng, [n, width]);
        var weights = Param(rng, [n], 0, 1);
        Check(z => ExpertCombine.Apply(z[0], z[1], token, tokens), [rows, weights], seed: c.Seed,
            what: $"moe_combine N{n} C{width} tokens {tokens} ids [{string.Join(",", ids)}]");
        // Composed with built-in ops on both sides, and with the weights frozen.
        var frozen = Make(Values(rng, n, 0, 1), [n]);
        Check(z => ExpertCombine.Apply(z[0].Tanh(), frozen, token, tokens).Square(), [rows], seed: c.Seed, what: "tanh -> moe_combine (frozen weights) -> square");
        Check(z => ExpertCombine.Apply(rows.Detach(), z[0].Softmax(0), token, tokens), [weights], seed: c.Seed, what: "softmax weights -> moe_combine");
    });

    [Property(MaxTest = 30)] // tol 5e-3·(1+|n|); distinct logits 0.125 apart, so the finite-difference steps never change the choice
    public Property CustomTopKGate() => Prop.ForAll(GradGen.Cases(0, 0), c =>
    {
        var rng = c.Rng();
        int t = rng.Next(1, 4), e = rng.Next(1, 6), k = rng.Next(1, e + 1);
        var logits = Make(GradGen.Distinct(rng, t * e), [t, e], requiresGrad: true);
        Check(z => TopKGate.Apply(z[0], k, out _), [logits], seed: c.Seed, what: $"top_k_gate T{t} E{e} k{k}");
        // The whole routed layer: gate weights from the router, expert outputs from a linear map, combined per token.
        int width = rng.Next(1, 4);
        var x = Param(rng, [t, width]);
        Check(z =>
        {
            var gate = TopKGate.Apply(z[0], k, out var experts);                 // (T, k)
            var rows = z[1].IndexSelect(0, MakeInt(Enumerable.Range(0, t * k).Select(i => i / k).ToArray(), [t * k]));   // (T·k, C)
            var expertOut = rows.Mul(Tensor.FromArray(experts.Select(x => 1f + 0.5f * x).ToArray(), t * k, 1));   // expert j scales by 1 + j/2
            var token = MakeInt(Enumerable.Range(0, t * k).Select(i => i / k).ToArray(), [t * k]);
            return ExpertCombine.Apply(expertOut, gate.Reshape(t * k), token, t);
        }, [logits, x], seed: c.Seed, what: $"routed layer T{t} E{e} k{k} C{width}");
    });
}
