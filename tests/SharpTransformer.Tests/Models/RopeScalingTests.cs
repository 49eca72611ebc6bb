using System.Text.Json;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Autograd;

namespace SharpTransformer.Tests.Models;

/// <summary>
/// RoPE scaling read from <c>rope_scaling</c> (linear, dynamic NTK, YaRN, llama3) against an independent float64 Python
/// re-derivation of transformers' <c>modeling_rope_utils</c> (testdata/rope_scaling_reference.py and its .json), the scaled RoPE
/// op against the fused kernel and finite differences, and the errors of bad configs.
/// </summary>
public class RopeScalingTests
{
    private static string ReferencePath => Path.Combine(TestPaths.Root, "tests", "SharpTransformer.Tests", "Models", "testdata", "rope_scaling_reference.json");

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(ReferencePath));
        foreach (var c in doc.RootElement.EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FrequenciesAndAttentionFactorMatchTheReference(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(ReferencePath));
        var c = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int dim = c.GetProperty("head_dim").GetInt32(), maxPos = c.GetProperty("max_position_embeddings").GetInt32();
        float theta = c.GetProperty("rope_theta").GetSingle();
        string json = $$"""{"model_type": "llama", "hidden_size": {{dim * 2}}, "num_attention_heads": 2, "max_position_embeddings": {{maxPos}}, "rope_theta": {{theta}}, "rope_scaling": {{c.GetProperty("rope_scaling").GetRawText()}}}""";
        var config = LlamaConfig.FromHuggingFace(new HfConfigJson(json));
        Assert.NotNull(config.RopeScaling);
        var (inv, factor) = RotaryFrequencies.Compute(config.RopeTheta, dim, config.RopeScaling, c.GetProperty("seq_len").GetInt32());
        var expected = c.GetProperty("inv_freq").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(expected.Length, inv.Length);
        for (int i = 0; i < inv.Length; i++)
            Assert.True(Math.Abs(inv[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"{name}: inv_freq[{i}] {inv[i]} vs {expected[i]}");
        Assert.Equal(c.GetProperty("attention_factor").GetDouble(), factor, 6);
    }

    [Fact]
    public void ScalingThatChangesNothingEqualsTheFusedKernelForwardAndBackward()
    {
        var rng = new Random(3);
        var x = GradCheck.Param(rng, [2, 3, 5, 8]);
        var pos = Tensor.FromArray([0, 4, 9, 100, 2, 7, 1, 3, 5, 6], 2, 5);
        var w = GradCheck.Param(rng, [2, 3, 5, 8]);
        var fused = Functional.Rope(x, pos, 10000f);
        var scaled = Functional.Rope(x, pos, 10000f, new RopeScaling(RopeType.Linear, 1f));
        AssertClose(fused.ToArray(), scaled.ToArray(), 1e-5, "forward");
        fused.Mul(w).Sum().Backward();
        var g1 = x.Grad!.ToArray();
        x.ZeroGrad();
        scaled = Functional.Rope(x, pos, 10000f, new RopeScaling(RopeType.Linear, 1f));
        scaled.Mul(w).Sum().Backward();
        AssertClose(g1, x.Grad!.ToArray(), 1e-5, "backward");
    }

    [Fact]
    public void YarnRotationScalesEachPairByTheAttentionFactorAndHasCorrectGradients()
    {
        var rng = new Random(4);
        var s = new RopeScaling(RopeType.Yarn, 4f, 16);
        var (_, factor) = RotaryFrequencies.Compute(10000f, 6, s, 0);
        var x = GradCheck.Param(rng, [1, 2, 3, 6]);
        var pos = Tensor.FromArray([3, 40, 63]);
        var y = Functional.Rope(x, pos, 10000f, s).ToArray();
        var xa = x.ToArray();
        for (int r = 0; r < 6; r++)
            for (int i = 0; i < 3; i++)
            {
                double nx = Math.Sqrt(xa[r * 6 + i] * xa[r * 6 + i] + xa[r * 6 + i + 3] * xa[r * 6 + i + 3]);
                double ny = Math.Sqrt(y[r * 6 + i] * y[r * 6 + i] + y[r * 6 + i + 3] * y[r * 6 + i + 3]);
                Assert.Equal(nx * factor, ny, 4);
            }
        GradCheck.Check(z => Functional.Rope(z[0], pos, 10000f, s), [x], what: "yarn rope");
        GradCheck.Check(z => Functional.Rope(z[0], Tensor.FromArray([70, 1, 2], 1, 3), 10000f, new RopeScaling(RopeType.Dynamic, 2f, 16)), [x], what: "dynamic rope");
    }

    [Fact]
    public void LlamaWithYarnMatchesItselfWithAndWithoutTheCache()
    {
        var config = LlamaConfig.Tiny with { ContextLength = 96, RopeScaling = new RopeScaling(RopeType.Yarn, 4f, 24) };
        var model = new SharpTransformer.Models.Llama.Llama(config, seed: 9);
        var plain = new SharpTransformer.Models.Llama.Llama(LlamaConfig.Tiny with { ContextLength = 96 }, seed: 9);
        int[] ids = Enumerable.Range(0, 40).Select(i => (i * 7 + 3) % 64).ToArray();
        using var _ = SharpTransformer.Autograd.GradMode.NoGrad();
        var full = model.Forward(Tensor.FromArray(ids, 1, ids.Length)).ToArray();
        Assert.NotEqual(plain.Forward(Tensor.FromArray(ids, 1, ids.Length)).ToArray(), full);   // the scaling is applied
        var caches = model.CreateCaches();
        int v = config.VocabSize;
        var first = model.Forward(Tensor.FromArray(ids[..30], 1, 30), caches).ToArray();
        AssertClose(full.AsSpan(0, 30 * v).ToArray(), first, 1e-4, "prefill");
        for (int t = 30; t < ids.Length; t++)
            AssertClose(full.AsSpan(t * v, v).ToArray(), model.Forward(Tensor.FromArray([ids[t]], 1, 1), caches).ToArray(), 1e-4, $"step {t}");
    }

    [Theory]
    [InlineData("""{"rope_type": "longrope", "factor": 2.0}""", "rope_scaling.rope_type 'longrope'")]
    [InlineData("""{"type": "ntk", "factor": 2.0}""", "rope_scaling.rope_type 'ntk'")]
    [InlineData("""{"rope_type": "linear"}""", "rope_scaling.factor")]
    [InlineData("""{"rope_type": "linear", "factor": -2.0}""", "rope_scaling.factor must be positive and finite, got -2")]
    [InlineData("""{"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0}""", "rope_scaling.original_max_position_embeddings")]
    public void BadRopeScalingIsAnErrorNamingTheFieldAndValue(string ropeScaling, string expected)
    {
        string json = $$"""{"model_type": "llama", "hidden_size": 32, "num_attention_heads": 2, "max_position_embeddings": 64, "rope_scaling": {{ropeScaling}}}""";
        var e = Assert.ThrowsAny<Exception>(() => LlamaConfig.FromHuggingFace(new HfConfigJson(json, "my/config.json")));
        Assert.Contains(expected, e.Message);
        Assert.Contains("my/config.json", e.Message);
    }

    [Fact]
    public void DefaultTypeAndAbsentScalingGiveNone()
    {
        Assert.Null(LlamaConfig.FromHuggingFace(new HfConfigJson("""{"model_type": "llama", "rope_scaling": {"rope_type": "default"}}""")).RopeScaling);
        Assert.Null(LlamaConfig.FromHuggingFace(new HfConfigJson("""{"model_type": "llama", "rope_scaling": null}""")).RopeScaling);
    }

    private static void AssertClose(float[] a, float[] b, double tol, string what)
    {
        Assert.Equal(a.Length, b.Length);
        double max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        Assert.True(max <= tol, $"{what}: max difference {max}");
    }
}
