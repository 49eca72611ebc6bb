using SharpTransformer.Autograd;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models;
using SharpTransformer.Models.Mixtral;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

/// <summary>Mixtral beyond the fixture: config errors, the Auto loaders, a sliding window, cached decoding, and the trainer's auxiliary loss.</summary>
public class MixtralModelTests
{
    private static string Fixture => Path.Combine(TestPaths.Shared, "fixtures-llm", "mixtral-tiny");

    [Fact]
    public void AutoModelForCausalLMLoadsAMixtralFolder()
    {
        var m = Assert.IsType<Mixtral>(AutoModelForCausalLM.FromPretrained(Fixture));
        Assert.Equal(4, m.Config.Experts);
        Assert.Null(m.Config.SlidingWindow);
        Assert.Equal(0.02f, m.Config.RouterAuxLossCoef);
        Assert.False(m.Training);
        Assert.IsType<Mixtral>(AutoModel.FromPretrained(Fixture));
    }

    [Theory]
    [InlineData("\"num_experts_per_tok\": 2", "\"num_experts_per_tok\": 5", "num_experts_per_tok is 5")]
    [InlineData("\"sliding_window\": null", "\"sliding_window\": 4096", "sliding_window is 4096")]
    public void BadConfigsAreErrorsNamingTheFieldAndValue(string from, string to, string message)
    {
        var dir = Directory.CreateTempSubdirectory("mixtral-bad-").FullName;
        try
        {
            var json = File.ReadAllText(Path.Combine(Fixture, "config.json"));
            Assert.Contains(from, json);
            File.WriteAllText(Path.Combine(dir, "config.json"), json.Replace(from, to));
            File.Copy(Path.Combine(Fixture, "model.safetensors"), Path.Combine(dir, "model.safetensors"));
            var ex = Assert.Throws<ArgumentException>(() => AutoModelForCausalLM.FromPretrained(dir));
            Assert.Contains(message, ex.Message);
            Assert.Contains("config.json", ex.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ASlidingWindowReachesTheAttentionAndCachedDecodingMatchesTheFullForward()
    {
        var m = new Mixtral(MixtralConfig.Tiny with { SlidingWindow = 5 });
        Assert.Equal(5, m.Layers[0].Attention.Options.Window);
        m.Eval();
        using var _ = GradMode.NoGrad();
        var ids = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (i * 7 + 3) % 64).ToArray(), 1, 12);
        var full = m.Forward(ids).ToArray();                                            // (1, 12, V)
        var caches = m.CreateCaches();
        var steps = new List<float>();
        for (int t = 0; t < 12; t++) steps.AddRange(m.Forward(ids.Narrow(1, t, 1).Contiguous(), caches).ToArray());
        for (int i = 0; i < full.Length; i++) Assert.True(Math.Abs(full[i] - steps[i]) < 1e-4, $"logit {i}: full {full[i]}, cached {steps[i]}");

        // The window changes the output beyond it: without it the last positions differ.
        var noWindow = new Mixtral(MixtralConfig.Tiny);
        noWindow.LoadStateDict(m.StateDict());
        noWindow.Eval();
        var other = noWindow.Forward(ids).ToArray();
        Assert.True(Math.Abs(other[^1] - full[^1]) > 1e-6);
    }

    [Fact]
    public void HfBindingsNameEveryParameterAsMixtralForCausalLM()
    {
        var m = new Mixtral(MixtralConfig.Tiny);
        var names = m.HfBindings().Select(b => b.HfName).ToHashSet();
        Assert.Contains("model.layers.1.block_sparse_moe.experts.3.w2.weight", names);
        Assert.Contains("model.layers.0.block_sparse_moe.gate.weight", names);
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", names);
        Assert.Contains("lm_head.weight", names);
        Assert.Equal(m.NamedParameters().Count(), names.Count);
    }

    [Fact]
    public void TheTrainerAddsTheWeightedLoadBalancingLossOfTheLastForward()
    {
        var m = new Mixtral(MixtralConfig.Tiny with { RouterAuxLossCoef = 0.5f, RouterZLossCoef = 0.1f });
        var ids = Tensor.FromArray(Enumerable.Range(0, 16).Select(i => i % 64).ToArray(), 2, 8);
        m.Forward(ids);
        var lb = MoeLosses.LoadBalancing(m.MoeLayers)!.Item();
        var z = MoeLosses.RouterZ(m.MoeLayers)!.Item();
        Assert.Equal(0.5f * lb + 0.1f * z, MoeLosses.Auxiliary(m)!.Item(), 5);
        Assert.Null(MoeLosses.Auxiliary(new Mixtral(MixtralConfig.Tiny with { RouterAuxLossCoef = 0f })));
    }

    [Fact]
    public void LanguageModelTrainerAddsTheAuxiliaryLossAndCountsTokensPerExpert()
    {
        float StepLoss(float coef, out long[][] counts)
        {
            var m = new Mixtral(MixtralConfig.Tiny with { RouterAuxLossCoef = coef });
            var data = new SharpTransformer.Data.TokenWindowDataset(Enumerable.Range(0, 200).Select(i => i * 13 % 64).ToArray(), 8);
            var trainer = new SharpTransformer.Training.LanguageModelTrainer(m,
                new SharpTransformer.Training.TrainerOptions { MaxSteps = 1, BatchSize = 2, LearningRate = 1e-9f, Seed = 5 });
            var load = new SharpTransformer.Training.ExpertLoadCallback(m);
            trainer.Callbacks.Add(load);
            float loss = trainer.Train(data).FinalLoss;
            counts = load.Last!;
            return loss;
        }
        float plain = StepLoss(0f, out var counts);
        float weighted = StepLoss(100f, out _);
        // The same weights and batch; the load-balancing loss is at least about k = 2, so 100 times it shows.
        Assert.True(weighted - plain > 150f, $"loss with coefficient 100: {weighted}, without: {plain}");
        Assert.Equal(2, counts.Length);
        foreach (var layer in counts) Assert.Equal(2 * 8 * 2, layer.Sum());   // 2 windows of 8 tokens, 2 experts each
    }
}
