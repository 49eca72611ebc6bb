using Xunit.Abstractions;

namespace SharpTransformer.Tests.Fixtures;

/// <summary>
/// The mixtral-tiny fixture of ../shared/fixtures-llm, checked directly (the data-driven test reads that root once every family of
/// it is supported): logits, the router's load-balancing loss and tokens per expert, the loss, every gradient within 1e-4, and
/// the greedy tokens with and without the cache.
/// </summary>
public class MixtralFixtureTests(ITestOutputHelper output)
{
    [Fact]
    public void MixtralTinyMatchesPyTorch()
    {
        string dir = Path.Combine(TestPaths.Shared, "fixtures-llm", "mixtral-tiny");
        Assert.True(Directory.Exists(dir), $"fixture folder '{dir}' is missing");
        var lines = new List<string>();
        FixtureChecks.Run(dir, log: lines.Add);
        foreach (var l in lines) output.WriteLine(l);
        Assert.Contains(lines, l => l.Contains("router_aux_loss"));
        Assert.Contains(lines, l => l.Contains("grad.model.layers.1.block_sparse_moe.experts.3.w2.weight"));
    }
}
