using System.Text.RegularExpressions;
using SharpTransformer.Models;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;

namespace SharpTransformer.Tests.Cli;

/// <summary>
/// <c>sharpt train-lm --arch qwen2|mistral</c> with <c>--sliding-window</c> and <c>--rope-scaling</c> (the checkpoint keeps them),
/// and <c>sharpt bench generate --arch llama --rope-scaling yarn</c> printing the cache memory as it grows.
/// </summary>
[Collection(nameof(CliTests))]
public sealed class LlamaVariantCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-variant-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("qwen2", true)]
    [InlineData("mistral", false)]
    public void TrainLmKeepsTheWindowBiasesAndRopeScalingInTheCheckpoint(string arch, bool qkvBias)
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 40)));
        var r = SharptProcess.Run(["train-lm", "--input", corpus, "--out", Path.Combine(_dir, arch), .. LanguageModelCliTests.Tiny, "--arch", arch,
            "--sliding-window", "6", "--rope-scaling", "yarn", "--rope-factor", "2", "--steps", "4", "--eval-interval", "2"]);
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var ck = LanguageModelCheckpoint.Load(Path.Combine(_dir, arch));
        var config = Assert.IsType<SharpTransformer.Models.Llama.Llama>(ck.Model).Config;
        Assert.Equal(6, config.SlidingWindow);
        Assert.Equal(qkvBias, config.QkvBias);
        Assert.Equal(new RopeScaling(RopeType.Yarn, 2f, 8), config.RopeScaling);   // --block 16 / factor 2
    }

    [Fact]
    public void TrainLmRefusesAWindowLargerThanTheContext()
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, "abc abc abc abc abc abc abc abc abc abc abc abc abc abc");
        var r = SharptProcess.Run(["train-lm", "--input", corpus, "--out", Path.Combine(_dir, "x"), .. LanguageModelCliTests.Tiny, "--arch", "mistral",
            "--sliding-window", "17", "--steps", "1"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--sliding-window 17 is larger than the context --block 16", r.Err);
    }

    [Fact]
    public void BenchGenerateWithYarnPrintsTheCacheGrowingLinearly()
    {
        var r = SharptProcess.Run("bench", "generate", "--arch", "llama", "--rope-scaling", "yarn", "--tokens", "64", "--prompt", "4",
            "--memory-every", "16", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var used = Regex.Matches(r.Out, @"position (\d+): cache used ([\d.]+) MB").Select(m => (P: int.Parse(m.Groups[1].Value), Mb: double.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal([20, 36, 52, 68], used.Select(u => u.P));
        // 4 layers · 2 key/value heads · 32 wide · (k + v) · 4 bytes = 2,048 bytes per position
        Assert.All(used, u => Assert.Equal(u.P * 2048 / 1e6, u.Mb, 2));
        Assert.True(double.IsFinite(SharptProcess.LastFigure(r.Out, "tokens/s")));
    }

    [Fact]
    public void BenchTrainStepTakesTheLlamaVariants()
    {
        var r = SharptProcess.Run("bench", "train-step", "--arch", "qwen2", "--batch", "1", "--seq", "16", "--steps", "1", "--warmup", "0", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Contains("qwen2: ", r.Out);
        Assert.True(double.IsFinite(SharptProcess.LastFigure(r.Out, "ms/step")));
    }
}
