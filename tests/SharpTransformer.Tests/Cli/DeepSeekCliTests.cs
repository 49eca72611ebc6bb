using SharpTransformer.Models;
using SharpTransformer.Models.DeepSeek;
using SharpTransformer.Nn;

namespace SharpTransformer.Tests.Cli;

/// <summary>
/// <c>sharpt train-lm --arch deepseek</c> with its latent-attention and MoE options (the checkpoint reloads as DeepSeek-V2 with
/// those widths and generates), <c>bench generate --model deepseek</c> printing the measured cache bytes per token equal to
/// (kv_lora_rank + qk_rope_head_dim) × layers × 4, <c>--versus llama</c> against a Llama of the same parameter count, and the
/// bad option.
/// </summary>
public sealed class DeepSeekCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-deepseek-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void TrainLmDeepSeekReloadsWithItsLatentShapeAndGenerates()
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog ran to the log. ", 40)));
        string run = Path.Combine(_dir, "run");
        var r = SharptProcess.Run("train-lm", "--input", corpus, "--out", run, "--arch", "deepseek", "--layers", "2", "--heads", "2", "--embd", "16",
            "--block", "16", "--batch", "4", "--hidden", "24", "--experts", "4", "--experts-per-token", "2", "--kv-lora-rank", "12",
            "--rope-head-dim", "4", "--q-lora-rank", "10", "--dense-layers", "1", "--shared-experts", "1", "--steps", "4", "--eval-interval", "2");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Contains("deepseek with", r.Out);

        var ck = LanguageModelCheckpoint.Load(run);
        var m = Assert.IsType<DeepSeekV2>(ck.Model);
        Assert.Equal(12, m.Config.KvLoraRank);
        Assert.Equal(4, m.Config.QkRopeHeadDim);
        Assert.Equal(10, m.Config.QLoraRank);
        Assert.Equal(8, m.Config.QkNopeHeadDim);                     // the head width 16 / 2
        Assert.Equal(4, m.Config.RoutedExperts);
        Assert.Single(m.MoeLayers);
        Assert.All(m.CreateCaches(), c => Assert.IsType<LatentKvCache>(c));

        var g = SharptProcess.Run("generate", "--checkpoint", Path.Combine(run, "best.safetensors"), "--prompt", "the ", "--max-new-tokens", "8", "--greedy");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        Assert.StartsWith("the ", g.Out);
    }

    [Fact]
    public void BenchGenerateDeepSeekPrintsTheLatentCacheBytesPerToken()
    {
        var g = SharptProcess.Run("bench", "generate", "--model", "deepseek", "--layers", "3", "--embd", "32", "--heads", "4", "--hidden", "32",
            "--experts", "4", "--kv-lora-rank", "20", "--rope-head-dim", "6", "--tokens", "5", "--prompt", "3", "--threads", "1");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        Assert.Contains($"cache bytes per token (all layers, measured): {(20 + 6) * 3 * 4}; (kv_lora_rank + qk_rope_head_dim) × layers × 4 = {(20 + 6) * 3 * 4}", g.Out);
        Assert.True(double.IsFinite(SharptProcess.LastFigure(g.Out, "tokens/s")));

        var t = SharptProcess.Run("bench", "train-step", "--model", "deepseek", "--layers", "2", "--embd", "32", "--heads", "4", "--hidden", "32",
            "--experts", "4", "--batch", "2", "--seq", "8", "--steps", "1", "--warmup", "0", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Out + t.Err);
        Assert.True(double.IsFinite(SharptProcess.LastFigure(t.Out, "ms/step")));
    }

    [Fact]
    public void BenchGenerateVersusLlamaAlternatesModelsOfTheSameSize()
    {
        var g = SharptProcess.Run("bench", "generate", "--model", "deepseek", "--layers", "2", "--embd", "32", "--heads", "4", "--dense-layers", "2",
            "--kv-lora-rank", "16", "--rope-head-dim", "4", "--versus", "llama", "--rounds", "2", "--tokens", "4", "--prompt", "2", "--threads", "1");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        var counts = g.Out.Split('\n').Where(l => l.Contains(" parameters; ")).Select(l => long.Parse(l.Split(':')[1].Split(" parameters")[0].Trim(),
            System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.CurrentCulture)).ToList();
        Assert.Equal(2, counts.Count);
        // The Llama's MLP width is chosen so that the counts differ by less than one MLP unit (3 × width per layer).
        Assert.True(Math.Abs(counts[0] - counts[1]) <= 3 * 32 * 2 / 2 + 1, $"parameters {counts[0]} and {counts[1]}");
        Assert.Equal(2, g.Out.Split('\n').Count(l => l.StartsWith("round ", StringComparison.Ordinal)));
        Assert.Contains($"{(16 + 4) * 2 * 4} cache bytes/token", g.Out);
        Assert.True(SharptProcess.LastFigure(g.Out, "decoding speed ratio") > 0);
    }

    [Fact]
    public void AnOddRopeHeadDimIsOneErrorLine()
    {
        string corpus = Path.Combine(_dir, "c.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("abc ", 100)));
        var r = SharptProcess.Run("train-lm", "--input", corpus, "--out", Path.Combine(_dir, "x"), "--arch", "deepseek", "--rope-head-dim", "5");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("--rope-head-dim must be even, got 5", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
    }
}
