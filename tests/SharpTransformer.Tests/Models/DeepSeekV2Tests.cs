using System.Text.Json.Nodes;
using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.DeepSeek;
using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

/// <summary>
/// <see cref="DeepSeekV2"/> beyond the data-driven fixture test: loading through the Auto classes (deepseek_v2 and deepseek_v3
/// names), the errors of bad configs (kv_lora_rank against the weights, rope_scaling, V3's noaux_tc routing, too many experts per
/// token), the latent caches it creates, and cached against uncached generation with the low-rank query path and a tied head.
/// </summary>
public sealed class DeepSeekV2Tests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-deepseek-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string Fixture => Path.Combine(TestPaths.Shared, "fixtures-llm", "deepseek-v2-tiny");

    // A copy of the fixture folder with config.json edited.
    private string Variant(string name, Action<JsonObject> edit)
    {
        string dir = Path.Combine(_dir, name);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixture, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture, "config.json")))!.AsObject();
        edit(config);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        return dir;
    }

    private static float[] FixtureLogits(CausalLanguageModel model)
    {
        using var expected = SafeTensorsFile.Open(Path.Combine(Fixture, "expected.safetensors"));
        var ids = Tensor.FromArray(expected.ReadInts("input_ids"), expected.ShapeOf("input_ids"));
        using var _ = GradMode.NoGrad();
        return model.Forward(ids).ToArray();
    }

    [Fact]
    public void AutoModelLoadsTheFixtureWithLatentCaches()
    {
        var model = AutoModelForCausalLM.FromPretrained(Fixture);
        var ds = Assert.IsType<DeepSeekV2>(model);
        Assert.False(ds.Training);
        Assert.Equal(3, ds.Layers.Count);
        Assert.IsType<FeedForward>(ds.Layers[0].Mlp);
        Assert.IsType<SparseMoe>(ds.Layers[1].Mlp);
        Assert.Equal(2, ds.MoeLayers.Count);
        var caches = model.CreateCaches();
        Assert.All(caches, c => Assert.IsType<LatentKvCache>(c));
        Assert.Equal((32 + 8) * 3 * 4, ds.Config.CacheBytesPerToken);
        Assert.Same(model.GetType(), AutoModel.FromPretrained(Fixture).GetType());
        Assert.NotNull(model.GetSubmodule("layers.1.self_attn.kv_a_proj_with_mqa"));
        Assert.NotNull(model.GetSubmodule("layers.2.mlp.shared_experts.down_proj"));
    }

    [Fact]
    public void DeepSeekV3NamesLoadThroughTheSamePath()
    {
        string dir = Variant("v3", c =>
        {
            c["model_type"] = "deepseek_v3";
            c["architectures"] = new JsonArray("DeepseekV3ForCausalLM");
        });
        var v3 = AutoModelForCausalLM.FromPretrained(dir);
        Assert.Equal(FixtureLogits(AutoModelForCausalLM.FromPretrained(Fixture)), FixtureLogits(v3));
    }

    [Fact]
    public void AKvLoraRankThatDoesNotMatchTheWeightsNamesTheFieldValueAndShape()
    {
        string dir = Variant("rank", c => c["kv_lora_rank"] = 24);
        var e = Assert.Throws<InvalidDataException>(() => AutoModelForCausalLM.FromPretrained(dir));
        Assert.Contains("kv_lora_rank is 24", e.Message);
        Assert.Contains("kv_a_", e.Message);
        Assert.Matches(@"\(32,\)|\(40, 64\)", e.Message);
    }

    [Fact]
    public void UnsupportedSettingsAreNamed()
    {
        var rope = Assert.Throws<NotSupportedException>(() => AutoModelForCausalLM.FromPretrained(Variant("rope", c =>
            c["rope_scaling"] = new JsonObject { ["type"] = "stretch", ["factor"] = 4 })));
        Assert.Contains("rope_scaling.rope_type 'stretch'", rope.Message);
        var v3 = Assert.Throws<NotSupportedException>(() => AutoModelForCausalLM.FromPretrained(Variant("noaux", c =>
        {
            c["model_type"] = "deepseek_v3";
            c["architectures"] = new JsonArray("DeepseekV3ForCausalLM");
            c["topk_method"] = "noaux_tc";
        })));
        Assert.Contains("topk_method 'noaux_tc'", v3.Message);
        var k = Assert.Throws<ArgumentException>(() => AutoModelForCausalLM.FromPretrained(Variant("k", c => c["num_experts_per_tok"] = 5)));
        Assert.Contains("num_experts_per_tok 5", k.Message);
        var arch = Assert.Throws<NotSupportedException>(() => AutoModelForCausalLM.FromPretrained(Variant("arch", c =>
            c["architectures"] = new JsonArray("DeepseekV2ForSequenceClassification"))));
        Assert.Contains("DeepseekV2ForSequenceClassification", arch.Message);
    }

    [Fact]
    public void YarnRopeScalingAlsoScalesTheScoresByMscaleAllDim()
    {
        // DeepSeek-V2's own rope_scaling: factor 40 over 4096 positions, mscale = mscale_all_dim = 0.707.
        string dir = Variant("yarn", c =>
        {
            c["max_position_embeddings"] = 163840;
            c["rope_scaling"] = new JsonObject
            {
                ["type"] = "yarn", ["factor"] = 40, ["original_max_position_embeddings"] = 4096, ["beta_fast"] = 32, ["beta_slow"] = 1,
                ["mscale"] = 0.707, ["mscale_all_dim"] = 0.707,
            };
        });
        var model = Assert.IsType<DeepSeekV2>(AutoModelForCausalLM.FromPretrained(dir));
        var attn = model.Layers[0].Attention;
        Assert.Equal(RopeType.Yarn, attn.Options.RopeScaling!.Type);
        double mscale = 0.1 * 0.707 * Math.Log(40) + 1;
        Assert.Equal(mscale * mscale / Math.Sqrt(24), attn.Scale, 1e-6);
        // The scaled model computes something else than the unscaled one, and still decodes the same with and without its cache.
        Assert.NotEqual(FixtureLogits(AutoModelForCausalLM.FromPretrained(Fixture)), FixtureLogits(model));
        var gen = new TextGenerator(model);
        var opts = new GenerationOptions(MaxNewTokens: 12, Greedy: true);
        Assert.Equal(gen.Generate([77, 69, 78], opts with { UseCache = false }), gen.Generate([77, 69, 78], opts));
    }

    [Fact]
    public void CachedGenerationEqualsUncachedWithTheLowRankQueryAndATiedHead()
    {
        var model = new DeepSeekV2(DeepSeekV2Config.Tiny with { QLoraRank = 12, TieEmbeddings = true, Layers = 3 }, seed: 7);
        model.Eval();
        Assert.Null(model.LmHead);
        Assert.NotNull(model.GetSubmodule("layers.0.self_attn.q_a_layernorm"));
        var gen = new TextGenerator(model);
        var opts = new GenerationOptions(MaxNewTokens: 20, Greedy: true);
        int[] prompt = [3, 9, 27, 17, 51];
        Assert.Equal(gen.Generate(prompt, opts with { UseCache = false }), gen.Generate(prompt, opts));
        // Logits too, not only the argmax: step by step through the caches against one forward pass.
        using var _ = GradMode.NoGrad();
        var ids = Tensor.FromArray(new[] { 3, 9, 27, 17, 51, 2, 8, 40 }, 1, 8);
        var full = model.Forward(ids).ToArray();
        var caches = model.CreateCaches();
        var first = model.Forward(ids.Narrow(1, 0, 5).Contiguous(), caches).ToArray();
        var steps = new List<float>(first);
        for (int i = 5; i < 8; i++) steps.AddRange(model.Forward(ids.Narrow(1, i, 1).Contiguous(), caches).ToArray());
        double diff = full.Zip(steps).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(diff < 1e-4, $"cached logits differ from the full forward by {diff}");
    }

    [Fact]
    public void HfBindingsCoverEveryParameterUnderHuggingFaceNames()
    {
        var model = new DeepSeekV2(DeepSeekV2Config.Tiny);
        var bindings = model.HfBindings();
        Assert.Equal(model.Parameters().Count(), bindings.Count);
        Assert.Contains(bindings, b => b.HfName == "model.layers.1.mlp.experts.3.up_proj.weight");
        Assert.Contains(bindings, b => b.HfName == "model.layers.1.mlp.gate.weight");
        Assert.Contains(bindings, b => b.HfName == "lm_head.weight");
        Assert.Contains(bindings, b => b.HfName == "model.layers.0.self_attn.kv_b_proj.weight");
    }
}
