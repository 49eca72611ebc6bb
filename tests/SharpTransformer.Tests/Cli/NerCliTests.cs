using Xunit;

namespace SharpTransformer.Tests.Cli;

[Collection(nameof(CliTests))]
public sealed class NerCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-ner-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // The first n sentences of a CoNLL file.
    private string Subset(string file, int sentences)
    {
        string path = Path.Combine(_dir, file);
        var lines = new List<string>();
        int n = 0;
        foreach (var l in File.ReadLines(Path.Combine(TestPaths.Data, "conll2003", file)))
        {
            lines.Add(l);
            if (l.Trim().Length == 0 && ++n >= sentences) break;
        }
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void TrainThenEvalGiveTheSameEntityF1()
    {
        string train = Subset("train.txt", 1500), dev = Subset("dev.txt", 300), ckpt = Path.Combine(_dir, "ck");
        var (code, output, err) = SharptProcess.Run("ner", "train", "--train", train, "--dev", dev, "--out", ckpt, "--epochs", "3",
            "--dim", "64", "--layers", "1", "--threads", "1");
        Assert.True(code == 0, output + err);
        double f1 = SharptProcess.LastFigure(output, "entity-f1");
        Assert.InRange(f1, 0.3, 1.0);
        var logged = File.ReadAllLines(Path.Combine(ckpt, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(f1, logged.Where(l => l.TryGetProperty("eval_f1", out _)).Max(l => l.GetProperty("eval_f1").GetDouble()), 4);
        var ev = SharptProcess.Run("ner", "eval", "--checkpoint", ckpt, "--data", dev);
        Assert.True(ev.ExitCode == 0, ev.Out + ev.Err);
        Assert.Equal(f1, SharptProcess.LastFigure(ev.Out, "entity-f1"), 4);
        Assert.Contains("PER", ev.Out);

        // predict: one line of tags per input line, one tag per word, from the tag set of the training file.
        var pr = SharptProcess.RunWithInput("Peter Blackburn visited Germany .\n\nEU rejects German call\n", "ner", "predict", "--checkpoint", ckpt);
        Assert.True(pr.ExitCode == 0, pr.Out + pr.Err);
        var lines = pr.Out.Split('\n');
        var tags = File.ReadLines(train).Select(l => l.Split(' ')).Where(p => p.Length > 1).Select(p => p[^1]).ToHashSet();
        Assert.Equal(5, lines[0].Trim().Split(' ').Length);
        Assert.Equal("", lines[1].Trim());
        Assert.Equal(4, lines[2].Trim().Split(' ').Length);
        Assert.All(lines[0].Trim().Split(' ').Concat(lines[2].Trim().Split(' ')), t => Assert.Contains(t, tags));
    }

    [Fact]
    public void MalformedLinesAndUnknownTagsNameTheFileAndLine()
    {
        string train = Subset("train.txt", 50);
        string bad = Path.Combine(_dir, "bad.txt");
        File.WriteAllText(bad, "EU NNP B-ORG\nrejects VBZ O\n\nPeter NNP B-WHO\n");
        var r = SharptProcess.Run("ner", "train", "--train", train, "--dev", bad, "--out", Path.Combine(_dir, "x"), "--epochs", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("sharpt ner train: error: ", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("bad.txt:4", r.Err);
        Assert.Contains("B-WHO", r.Err);
    }
}
