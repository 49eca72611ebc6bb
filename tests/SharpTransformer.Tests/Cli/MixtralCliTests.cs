using System.Text.Json;
using SharpTransformer.Models;
using SharpTransformer.Models.Mixtral;

namespace SharpTransformer.Tests.Cli;

/// <summary>
/// <c>sharpt train-lm --arch mixtral</c> with its MoE options (tokens per expert in metrics.jsonl, the checkpoint reloads as
/// Mixtral and generates), <c>bench train-step</c> and <c>bench generate</c> with <c>--model mixtral</c>, and the bad option.
/// </summary>
public sealed class MixtralCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-mixtral-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void TrainLmMixtralLogsTokensPerExpertAndItsCheckpointReloadsAndGenerates()
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog ran to the log. ", 40)));
        string run = Path.Combine(_dir, "run");
        var r = SharptProcess.Run("train-lm", "--input", corpus, "--out", run, "--arch", "mixtral", "--layers", "2", "--heads", "2", "--embd", "16",
            "--block", "16", "--batch", "4", "--hidden", "24", "--experts", "4", "--experts-per-token", "2", "--aux-loss-coef", "0.05",
            "--steps", "4", "--eval-interval", "2");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Contains("mixtral with", r.Out);

        var expertLines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
            .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("type").GetString() == "experts").ToList();
        Assert.Equal(4, expertLines.Count);
        foreach (var line in expertLines)
        {
            var layers = line.GetProperty("tokens_per_expert").EnumerateArray().ToList();
            Assert.Equal(2, layers.Count);
            // 4 windows of 16 tokens, each routed to 2 of the 4 experts, in every layer.
            foreach (var layer in layers) Assert.Equal(4 * 16 * 2, layer.EnumerateArray().Sum(v => v.GetInt64()));
        }

        var ck = LanguageModelCheckpoint.Load(run);
        var m = Assert.IsType<Mixtral>(ck.Model);
        Assert.Equal(4, m.Config.Experts);
        Assert.Equal(2, m.Config.ExpertsPerToken);
        Assert.Equal(24, m.Config.Intermediate);
        Assert.Equal(0.05f, m.Config.RouterAuxLossCoef);

        var g = SharptProcess.Run("generate", "--checkpoint", Path.Combine(run, "best.safetensors"), "--prompt", "the ", "--max-new-tokens", "8", "--greedy");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        Assert.StartsWith("the ", g.Out);
    }

    [Fact]
    public void BenchTrainStepAndGenerateTakeMixtral()
    {
        var t = SharptProcess.Run("bench", "train-step", "--model", "mixtral", "--layers", "1", "--embd", "32", "--heads", "2", "--hidden", "16",
            "--experts", "4", "--experts-per-token", "2", "--batch", "2", "--seq", "8", "--steps", "1", "--warmup", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Out + t.Err);
        // Active: attention 4·32² + router 4·32 + 2 experts of 3·32·16, + 2 norms of 32 and the final norm.
        Assert.Contains($"mixtral: {4 * 32 * 32 + 4 * 32 + 2 * 3 * 32 * 16 + 3 * 32:N0} active non-embedding parameters per token", t.Out);
        Assert.True(double.IsFinite(SharptProcess.LastFigure(t.Out, "ms/step")));

        var g = SharptProcess.Run("bench", "generate", "--model", "mixtral", "--layers", "1", "--embd", "32", "--heads", "2", "--hidden", "16",
            "--experts", "4", "--tokens", "4", "--prompt", "2", "--threads", "1");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        Assert.True(double.IsFinite(SharptProcess.LastFigure(g.Out, "tokens/s")));
    }

    [Fact]
    public void MoreExpertsPerTokenThanExpertsIsOneErrorLine()
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("abc ", 100)));
        var r = SharptProcess.Run("train-lm", "--input", corpus, "--out", Path.Combine(_dir, "x"), "--arch", "mixtral", "--experts", "2", "--experts-per-token", "3");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--experts-per-token 3 exceeds --experts 2", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
