using System.Diagnostics;
using Xunit;

namespace SharpTransformer.Tests.Cli;

[CollectionDefinition(nameof(CliTests), DisableParallelization = true)]
public class CliTests;

[Collection(nameof(CliTests))]
public sealed class ClassifyCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-classify-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Subset(string file, int rows)
    {
        string path = Path.Combine(_dir, Path.GetFileName(file));
        File.WriteAllLines(path, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", file)).Take(rows + 1));
        return path;
    }

    [Fact]
    public void TrainEvalAndPredictAgreeAndLearnSomething()
    {
        string train = Subset("train.tsv", 3000), dev = Subset("dev.tsv", 300), ckpt = Path.Combine(_dir, "ck");
        var (code, output, err) = SharptProcess.Run("classify", "train", "--train", train, "--dev", dev, "--out", ckpt, "--epochs", "2",
            "--dim", "64", "--layers", "1", "--vocab-size", "2000", "--threads", "1");
        Assert.True(code == 0, output + err);
        double trained = SharptProcess.LastFigure(output, "accuracy");
        Assert.InRange(trained, 0.62, 1.0);                      // majority class of this subset is below 0.6
        var logged = File.ReadAllLines(Path.Combine(ckpt, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(trained, logged.Where(l => l.TryGetProperty("eval_accuracy", out _)).Max(l => l.GetProperty("eval_accuracy").GetDouble()), 4);

        var ev = SharptProcess.Run("classify", "eval", "--checkpoint", ckpt, "--data", dev);
        Assert.True(ev.ExitCode == 0, ev.Out + ev.Err);
        Assert.Equal(trained, SharptProcess.LastFigure(ev.Out, "accuracy"), 4);
        Assert.Contains("macro avg", ev.Out);
        Assert.Contains("confusion matrix", ev.Out);

        var pr = SharptProcess.RunWithInput("a wonderful , moving film\n\nthe worst , dullest mess\n", "classify", "predict", "--checkpoint", ckpt);
        Assert.True(pr.ExitCode == 0, pr.Out + pr.Err);
        var lines = pr.Out.Split('\n');
        Assert.Matches(@"^[01]\t0\.\d{4}$", lines[0].Trim());
        Assert.Equal("", lines[1].Trim());
        Assert.Matches(@"^[01]\t0\.\d{4}$", lines[2].Trim());
        Assert.Contains("stdin:2: empty line", pr.Err);
    }

    [Fact]
    public void BadInputNamesTheFileAndLine()
    {
        string train = Subset("train.tsv", 200);
        string bad = Path.Combine(_dir, "bad.tsv");
        File.WriteAllText(bad, "sentence\tlabel\ngood film\t1\nbad film\t7\n");
        var r = SharptProcess.Run("classify", "train", "--train", train, "--dev", bad, "--out", Path.Combine(_dir, "x"), "--epochs", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("sharpt classify train: error: ", r.Err);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.Contains("bad.tsv:3", r.Err);
        Assert.Contains("'7'", r.Err);

        var missing = SharptProcess.Run("classify", "train", "--train", train, "--dev", train, "--out", Path.Combine(_dir, "y"), "--text-column", "text");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("text", missing.Err);
        Assert.Contains("sentence", missing.Err);                // lists the columns that exist
    }

    [Fact]
    public void MaxMinutesStopsInTimeAndKeepsTheBestCheckpoint()
    {
        string train = Path.Combine(TestPaths.Data, "sst2", "train.tsv"), dev = Subset("dev.tsv", 200), ckpt = Path.Combine(_dir, "t");
        var sw = Stopwatch.StartNew();
        var (code, output, err) = SharptProcess.Run("classify", "train", "--train", train, "--dev", dev, "--out", ckpt, "--max-minutes", "0.3",
            "--dim", "64", "--layers", "1", "--eval-every", "100", "--threads", "1");
        Assert.True(code == 0, output + err);
        Assert.Contains("(time limit)", output);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(18 + 30), $"took {sw.Elapsed}");   // 18 s budget; generous slack for a loaded machine
        Assert.True(File.Exists(Path.Combine(ckpt, "model.safetensors")));
        Assert.Equal(SharptProcess.LastFigure(output, "accuracy"),
            SharptProcess.LastFigure(SharptProcess.Run("classify", "eval", "--checkpoint", ckpt, "--data", dev).Out, "accuracy"), 4);
    }
}

[Collection(nameof(CliTests))]
public sealed class PretrainedClassifyCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void FineTunesAHuggingFaceBertFolderStartingFromItsWeights()
    {
        // bert-tiny (vocabulary of 1,000) with a vocab.txt made of SST-2's most frequent words.
        string hf = Path.Combine(_dir, "bert-tiny");
        Directory.CreateDirectory(hf);
        foreach (var f in new[] { "config.json", "model.safetensors" }) File.Copy(Path.Combine(TestPaths.Fixtures, "bert-tiny", f), Path.Combine(hf, f));
        var words = File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "train.tsv")).Skip(1).Take(5000)
            .SelectMany(l => l.Split('\t')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .GroupBy(w => w).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key).Take(995);
        File.WriteAllLines(Path.Combine(hf, "vocab.txt"), ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. words]);
        string train = Path.Combine(_dir, "train.tsv"), dev = Path.Combine(_dir, "dev.tsv"), ck = Path.Combine(_dir, "ck");
        File.WriteAllLines(train, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "train.tsv")).Take(401));
        File.WriteAllLines(dev, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "dev.tsv")).Take(101));

        // A vanishing learning rate: the saved encoder must still hold the pretrained weights.
        var (code, output, err) = SharptProcess.Run("classify", "train", "--train", train, "--dev", dev, "--out", ck, "--model", hf,
            "--epochs", "1", "--lr", "1e-12", "--threads", "1");
        Assert.True(code == 0, output + err);
        Assert.Contains("hf-encoder", output);
        Assert.Contains("pooling Pooler", output);
        using var fixture = SharpTransformer.IO.SafeTensorsFile.Open(Path.Combine(hf, "model.safetensors"));
        var expected = fixture.ReadFloats("bert.embeddings.word_embeddings.weight");
        var saved = SharpTransformer.IO.Checkpoint.Load(Path.Combine(ck, "model.safetensors")).Tensors["model.body.embeddings.word.weight"].Data;
        Assert.Equal(expected.Length, saved.Length);
        for (int i = 0; i < expected.Length; i += 97) Assert.Equal(expected[i], saved[i], 4);

        var ev = SharptProcess.Run("classify", "eval", "--checkpoint", ck, "--data", dev);
        Assert.True(ev.ExitCode == 0, ev.Out + ev.Err);
        Assert.Equal(SharptProcess.LastFigure(output, "accuracy"), SharptProcess.LastFigure(ev.Out, "accuracy"), 4);
    }
}
