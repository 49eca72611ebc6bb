namespace SharpTransformer.Tests.Cli;

/// <summary><c>sharpt bench generate --beams N</c>: greedy and beam search alternated, cost per token per beam compared.</summary>
public sealed class BenchBeamsCliTests
{
    [Fact]
    public void BeamsOptionPrintsBothCostsAndTheirRatio()
    {
        var r = SharptProcess.Run("bench", "generate", "--model", "gpt2-tiny", "--tokens", "4", "--beams", "2", "--rounds", "2", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Err);
        Assert.Contains("round 2: greedy", r.Out);
        Assert.Contains("ms/token/beam", r.Out);
        double ratio = SharptProcess.LastFigure(r.Out, "beam/greedy cost per token per beam");
        Assert.True(double.IsFinite(ratio) && ratio > 0, r.Out);
    }
}
