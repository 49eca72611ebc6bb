using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd;

namespace SharpTransformer.Tests.Nn.MoE;

/// <summary>
/// The sparse mixture-of-experts feed-forward: outputs against a dense reference that runs every expert on every token,
/// gradients of the dispatch (gather, per-expert GEMMs, weighted scatter-add) against finite differences, the auxiliary
/// losses against their formulas, module paths, and bad options.
/// </summary>
public class SparseMoeTests
{
    private static Tensor Input(int n, int c, int seed, bool grad = false)
    {
        var t = Tensor.RandN([n, c], new Generator((ulong)seed), 0f, 1f);
        t.RequiresGrad = grad;
        return t;
    }

    private static SparseMoe Make(MoeOptions o, int seed = 3)
    {
        var m = new SparseMoe(o, new Generator((ulong)seed));
        using var _ = TensorScope.Suspend();
        // Larger router weights than the default init, so routing gaps are wide and finite differences cannot flip a choice.
        m.Gate.Weight!.CopyFrom(Tensor.RandN(m.Gate.Weight!.Shape.ToArray(), new Generator((ulong)seed + 100), 0f, 0.8f));
        return m;
    }

    // Every expert on every token; the top-k mask and weights computed independently in double.
    private static float[] DenseReference(SparseMoe m, Tensor x)
    {
        var o = m.Options;
        using var _ = GradMode.NoGrad();
        int n = x.Size(0), c = x.Size(1), e = o.Experts, k = o.ExpertsPerToken;
        var logits = Tensor.Linear(x, m.Gate.Weight!).ToArray();
        var all = Enumerable.Range(0, e).Select(j => m.Experts[j].Forward(x).ToArray()).ToArray();
        var shared = m.SharedExperts?.Forward(x).ToArray();
        var y = new float[n * c];
        for (int t = 0; t < n; t++)
        {
            var row = Enumerable.Range(0, e).Select(j => (double)logits[t * e + j]).ToArray();
            double mx = row.Max();
            var p = row.Select(v => Math.Exp(v - mx)).ToArray();
            double z = p.Sum();
            for (int j = 0; j < e; j++) p[j] /= z;
            var top = Enumerable.Range(0, e).OrderByDescending(j => p[j]).ThenBy(j => j).Take(k).ToArray();
            double sum = top.Sum(j => p[j]);
            foreach (var j in top)
            {
                double w = (o.NormalizeTopK ? p[j] / sum : p[j]) * o.RoutedScalingFactor;
                for (int d = 0; d < c; d++) y[t * c + d] += (float)(w * all[j][t * c + d]);
            }
            if (shared is not null) for (int d = 0; d < c; d++) y[t * c + d] += shared[t * c + d];
        }
        return y;
    }

    public static TheoryData<string> Routings => new() { "mixtral", "deepseek" };

    private static MoeOptions Options(string routing) => routing == "mixtral"
        ? MoeOptions.Mixtral(8, 6, 4, 2)
        : MoeOptions.DeepSeek(8, 5, 4, 2, normTopKProb: false, routedScalingFactor: 1.5f, sharedExperts: 2);

    [Theory]
    [MemberData(nameof(Routings))]
    public void MatchesADenseReferenceThatRunsEveryExpertOnEveryToken(string routing)
    {
        var m = Make(Options(routing));
        var x = Input(37, 8, 11);
        var y = m.Forward(x.Reshape(1, 37, 8));
        Assert.Equal(new[] { 1, 37, 8 }, y.Shape.ToArray());
        var want = DenseReference(m, x);
        var got = y.ToArray();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) < 1e-5, $"{routing}: y[{i}] {got[i]} vs dense {want[i]}");
        var r = m.LastRouting!;
        Assert.Equal(37 * 2, r.TokenCounts.Sum());
        Assert.Equal(37, r.Tokens);
    }

    [Fact]
    public void TheWeightedScatterAddHasTheGradientOfFiniteDifferences()
    {
        var rng = new Random(5);
        var rows = GradCheck.Param(rng, [6, 5]);
        var w = GradCheck.Param(rng, [3, 2]);
        int[] slots = [4, 0, 2, 5, 1, 3];
        GradCheck.Check(xs => MoeCombine.Apply(xs[0], xs[1], slots), [rows, w], what: "moe_combine");
        // Repeated slots accumulate; a row no slot names gets a zero gradient.
        int[] repeated = [4, 0, 4, 5, 1, 4];
        GradCheck.Check(xs => MoeCombine.Apply(xs[0], xs[1], repeated), [rows, w], what: "moe_combine, repeated slots");
    }

    [Theory]
    [MemberData(nameof(Routings))]
    public void TheInputGradientMatchesFiniteDifferences(string routing)
    {
        var m = Make(Options(routing));
        var x = GradCheck.Param(new Random(7), [9, 8], -1, 1);
        AssertClearRouting(m, x);
        GradCheck.Check(xs => m.Forward(xs[0]), [x], h: 1.0 / 512, what: routing + " SparseMoe input");
    }

    [Theory]
    [MemberData(nameof(Routings))]
    public void EveryParameterGradientMatchesFiniteDifferences(string routing)
    {
        var m = Make(Options(routing));
        var x = GradCheck.Param(new Random(9), [9, 8], -1, 1);
        AssertClearRouting(m, x);
        var gy = Tensor.RandN([9, 8], new Generator(77), 0f, 1f);
        double Loss()
        {
            using var _ = GradMode.NoGrad();
            var y = m.Forward(x).ToArray();
            var g = gy.ToArray();
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += (double)y[i] * g[i];
            return s;
        }
        m.ZeroGrad();
        m.Forward(x).Backward(gy);
        var rng = new Random(1);
        foreach (var (name, p) in m.NamedParameters())
        {
            var grad = p.Grad?.ToArray() ?? new float[p.Count];
            var data = p.ToArray();
            for (int probe = 0; probe < 4; probe++)
            {
                int i = rng.Next(p.Count);
                const float h = 1f / 256;
                float keep = data[i];
                data[i] = keep + h; p.CopyFrom(data); double up = Loss();
                data[i] = keep - h; p.CopyFrom(data); double down = Loss();
                data[i] = keep; p.CopyFrom(data);
                double numeric = (up - down) / (2 * h);
                Assert.True(Math.Abs(numeric - grad[i]) <= 2e-2 * (1 + Math.Abs(numeric)),
                    $"{routing}: d/d {name}[{i}]: analytic {grad[i]}, numeric {numeric}");
            }
        }
    }

    // The finite differences only hold where no perturbation changes the chosen experts.
    private static void AssertClearRouting(SparseMoe m, Tensor x)
    {
        using var _ = GradMode.NoGrad();
        int e = m.Options.Experts, k = m.Options.ExpertsPerToken;
        var p = Tensor.Linear(x, m.Gate.Weight!).Softmax(-1).ToArray();
        for (int t = 0; t < x.Size(0); t++)
        {
            var row = p.AsSpan(t * e, e).ToArray().OrderByDescending(v => v).ToArray();
            Assert.True(row[k - 1] - row[k] > 1e-3, $"token {t}: router gap {row[k - 1] - row[k]} too small for finite differences");
        }
    }

    [Fact]
    public void AnExpertThatNoTokenPicksGetsNoGradientAndEachExpertSeesOnlyItsTokens()
    {
        var m = Make(MoeOptions.Mixtral(8, 6, 4, 1));
        using (TensorScope.Suspend())
        {
            // A router that sends every token to expert 2: its row dominates.
            var wg = new float[4 * 8];
            for (int d = 0; d < 8; d++) wg[2 * 8 + d] = 0f;
            m.Gate.Weight!.CopyFrom(wg);
            m.Gate.Weight!.CopyFrom(Tensor.FromArray(wg, 4, 8).Add(Tensor.FromArray(Enumerable.Range(0, 32).Select(i => i / 8 == 2 ? 0f : -50f).ToArray(), 4, 8)));
        }
        var x = Input(5, 8, 1).Abs();
        m.ZeroGrad();
        m.Forward(x).Sum().Backward();
        Assert.Equal(new[] { 0, 0, 5, 0 }, m.LastRouting!.TokenCounts);
        foreach (var j in new[] { 0, 1, 3 })
            foreach (var (name, p) in m.Experts[j].NamedParameters())
                Assert.True(p.Grad is null || p.Grad.ToArray().All(v => v == 0f), $"expert {j} {name} got a gradient");
        Assert.Contains(m.Experts[2].Gate.Weight!.Grad!.ToArray(), v => v != 0f);
    }

    [Fact]
    public void TheLoadBalancingLossFollowsTheSwitchFormulaOverAllLayersAndHasItsGradient()
    {
        var layers = new[] { Make(MoeOptions.Mixtral(8, 6, 4, 2), 3), Make(MoeOptions.Mixtral(8, 6, 4, 2), 4) };
        var x = Input(10, 8, 2);
        foreach (var l in layers) l.Forward(x);
        double want = 0;
        var f = new double[4];
        var pm = new double[4];
        foreach (var l in layers)
        {
            var r = l.LastRouting!;
            foreach (var j in r.Experts) f[j] += 1.0 / 20;
            var p = r.Probabilities.ToArray();
            for (int i = 0; i < p.Length; i++) pm[i % 4] += p[i] / 20;
        }
        for (int j = 0; j < 4; j++) want += f[j] * pm[j];
        want *= 4;
        var lb = MoeLosses.LoadBalancing(layers)!;
        Assert.Equal(want, lb.Item(), 5);
        // Uniform routing reaches the minimum k: the loss is at least about k on any routing.
        Assert.True(lb.Item() > 1.0);

        // Its gradient reaches the routers (through the mean probabilities) and matches finite differences.
        var gate = layers[0].Gate.Weight!;
        foreach (var l in layers) l.ZeroGrad();
        MoeLosses.LoadBalancing(layers)!.Backward();
        var g = gate.Grad!.ToArray();
        var data = gate.ToArray();
        const float h = 1f / 512;
        for (int i = 0; i < 6; i++)
        {
            float keep = data[i];
            double L(float v)
            {
                data[i] = v; gate.CopyFrom(data);
                using var _ = GradMode.NoGrad();
                foreach (var l in layers) l.Forward(x);
                return MoeLosses.LoadBalancing(layers)!.Item();
            }
            double numeric = (L(keep + h) - L(keep - h)) / (2 * h);
            data[i] = keep; gate.CopyFrom(data);
            Assert.True(Math.Abs(numeric - g[i]) < 2e-3 + 2e-2 * Math.Abs(numeric), $"d lb / d gate[{i}]: analytic {g[i]}, numeric {numeric}");
        }
    }

    [Fact]
    public void TheRouterZLossIsTheMeanSquaredLogSumExp()
    {
        var m = Make(MoeOptions.Mixtral(8, 6, 4, 2));
        var x = Input(6, 8, 4);
        m.Forward(x);
        var logits = m.LastRouting!.Logits.ToArray();
        double want = 0;
        for (int t = 0; t < 6; t++)
        {
            var row = logits.AsSpan(t * 4, 4).ToArray();
            double mx = row.Max();
            double lse = mx + Math.Log(row.Sum(v => Math.Exp(v - mx)));
            want += lse * lse / 6;
        }
        Assert.Equal(want, MoeLosses.RouterZ([m])!.Item(), 4);
    }

    [Fact]
    public void TokenCountsAccumulateInTrainingOnlyAndReset()
    {
        var m = Make(MoeOptions.Mixtral(8, 6, 4, 2));
        var x = Input(7, 8, 5);
        m.Forward(x);
        m.Forward(x);
        Assert.Equal(28, m.TokenCounts.Sum());
        Assert.Equal(m.LastRouting!.TokenCounts.Select(v => 2L * v), m.TokenCounts);
        m.Eval();
        m.Forward(x);
        Assert.Equal(28, m.TokenCounts.Sum());
        var counts = MoeLosses.TokenCounts([m], reset: true);
        Assert.Equal(28, counts[0].Sum());
        Assert.Equal(0, m.TokenCounts.Sum());
    }

    [Fact]
    public void ModulePathsAreHuggingFacesForBothNamings()
    {
        var mix = new SparseMoe(MoeOptions.Mixtral(8, 6, 4, 2));
        var names = mix.NamedParameters().Select(p => p.Name).ToHashSet();
        Assert.Contains("gate.weight", names);
        foreach (var n in new[] { "experts.3.w1.weight", "experts.3.w2.weight", "experts.3.w3.weight" }) Assert.Contains(n, names);
        Assert.Equal(new[] { 6, 8 }, mix.Experts[0].Gate.Weight!.Shape.ToArray());
        Assert.Equal(new[] { 8, 6 }, mix.Experts[0].Down.Weight!.Shape.ToArray());
        Assert.Equal(1 + 4 * 3, names.Count);

        var ds = new SparseMoe(MoeOptions.DeepSeek(8, 5, 4, 2, false, 1.5f, 2));
        names = ds.NamedParameters().Select(p => p.Name).ToHashSet();
        foreach (var n in new[] { "gate.weight", "experts.0.gate_proj.weight", "experts.0.up_proj.weight", "experts.0.down_proj.weight",
                     "shared_experts.gate_proj.weight", "shared_experts.up_proj.weight", "shared_experts.down_proj.weight" })
            Assert.Contains(n, names);
        Assert.Equal(new[] { 10, 8 }, ds.SharedExperts!.Gate.Weight!.Shape.ToArray());
    }

    [Fact]
    public void MoreExpertsPerTokenThanExpertsIsAClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SparseMoe(MoeOptions.Mixtral(8, 6, 4, 5)));
        Assert.Contains("num_experts_per_tok", ex.Message);
        Assert.Contains("5", ex.Message);
        Assert.Contains("4 experts", ex.Message);
    }
}
