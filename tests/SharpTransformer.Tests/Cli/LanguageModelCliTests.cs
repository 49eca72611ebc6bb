using SharpTransformer.Cli;
using SharpTransformer.IO;

namespace SharpTransformer.Tests.Cli;

/// <summary>A tiny character-level GPT trained once by <c>sharpt train-lm</c> (in-process) for the tests that load a checkpoint.</summary>
public sealed class TinyLanguageModel : IDisposable
{
    public TinyLanguageModel()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sharpt-lm-").FullName;
        Corpus = Path.Combine(Directory, "corpus.txt");
        File.WriteAllText(Corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog ran to the log. ", 60)));
        int code = SharptCli.InvokeAsync(["train-lm", "--input", Corpus, "--out", Path.Combine(Directory, "run"), .. LanguageModelCliTests.Tiny,
            "--steps", "20", "--eval-interval", "10"]).GetAwaiter().GetResult();
        if (code != 0) throw new InvalidOperationException($"sharpt train-lm failed with exit code {code}.");
    }

    public string Directory { get; }
    public string Corpus { get; }
    public string Checkpoint => Path.Combine(Directory, "run", "best.safetensors");

    public void Dispose() => System.IO.Directory.Delete(Directory, true);
}

/// <summary>train-lm, generate and eval-lm: bad checkpoints and files, the ILGPU backend, and cancellation.</summary>
[Collection(nameof(CliTests))]
public sealed class LanguageModelCliTests(TinyLanguageModel lm) : IClassFixture<TinyLanguageModel>, IDisposable
{
    /// <summary>A model small enough to train in a second.</summary>
    internal static readonly string[] Tiny = ["--layers", "1", "--heads", "2", "--embd", "16", "--block", "16", "--batch", "4"];

    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-lm-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static void AssertOneLineError(string command, (int ExitCode, string Out, string Err) r, string contains)
    {
        Assert.True(r.ExitCode != 0, r.Out + r.Err);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Err);
        Assert.StartsWith($"sharpt {command}: error: ", lines[0]);
        Assert.Contains(contains, lines[0]);
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Unhandled exception", r.Err);
    }

    [Fact]
    public void ACorruptCheckpointIsOneErrorLineWithoutAStackTrace()
    {
        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11))]);
        AssertOneLineError("generate", SharptProcess.Run("generate", "--checkpoint", garbage), garbage);

        // The first half of a real checkpoint: the header is fine, the tensors are cut off.
        string truncated = Path.Combine(_dir, "truncated.safetensors");
        var bytes = File.ReadAllBytes(lm.Checkpoint);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        AssertOneLineError("eval-lm", SharptProcess.Run("eval-lm", "--checkpoint", truncated, "--input", lm.Corpus), truncated);

        // A classifier folder whose model.safetensors is garbage.
        string folder = Path.Combine(_dir, "classifier");
        Directory.CreateDirectory(folder);
        File.Copy(garbage, Path.Combine(folder, "model.safetensors"));
        string data = Path.Combine(_dir, "data.tsv");
        File.WriteAllText(data, "sentence\tlabel\ngood\t1\n");
        AssertOneLineError("classify eval", SharptProcess.Run("classify", "eval", "--checkpoint", folder, "--data", data), "model.safetensors");
        AssertOneLineError("ner eval", SharptProcess.Run("ner", "eval", "--checkpoint", folder, "--data", data), "model.safetensors");
    }

    [Fact]
    public void ACheckpointOfAnotherKindIsOneErrorLineNamingTheFileAndTheKind()
    {
        string data = Path.Combine(_dir, "data.tsv");
        File.WriteAllText(data, "sentence\tlabel\ngood\t1\n");
        AssertOneLineError("classify eval", SharptProcess.Run("classify", "eval", "--checkpoint", lm.Checkpoint, "--data", data),
            $"{lm.Checkpoint}: holds a 'gpt2' model, not a classifier.");
        AssertOneLineError("ner predict", SharptProcess.Run("ner", "predict", "--checkpoint", Path.GetDirectoryName(lm.Checkpoint)!),
            "holds none of model.safetensors");
    }

    [Fact]
    public void AMissingInputFileIsOneErrorLine()
    {
        string missing = Path.Combine(_dir, "missing.txt");
        AssertOneLineError("train-lm", SharptProcess.Run("train-lm", "--input", missing, "--out", Path.Combine(_dir, "o")), "input file not found: " + missing);
        AssertOneLineError("eval-lm", SharptProcess.Run("eval-lm", "--checkpoint", lm.Checkpoint, "--input", missing), missing);
        AssertOneLineError("tokenize", SharptProcess.Run("tokenize", "--vocab", missing, "--input", lm.Corpus), missing);
        Assert.False(Directory.Exists(Path.Combine(_dir, "o")));
    }

    [Fact]
    public void VerboseShowsTheStackTrace()
    {
        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        var r = SharptProcess.Run("generate", "--checkpoint", garbage, "--verbose");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("sharpt generate: error: ", r.Err);
        Assert.Contains("   at ", r.Err);
    }

    [Fact]
    public void GenerateOnTheIlgpuCpuAcceleratorMatchesTheCpuBackend()
    {
        string[] args = ["generate", "--checkpoint", lm.Checkpoint, "--prompt", "the ", "--max-new-tokens", "12", "--greedy"];
        var cpu = SharptProcess.Run(args);
        Assert.True(cpu.ExitCode == 0, cpu.Out + cpu.Err);
        var ilgpu = SharptProcess.Run([.. args, "--backend", "ilgpu:cpu"]);
        Assert.True(ilgpu.ExitCode == 0, ilgpu.Out + ilgpu.Err);
        Assert.StartsWith("the ", cpu.Out);
        Assert.True(cpu.Out.TrimEnd('\n').Length > "the ".Length);
        Assert.Equal(cpu.Out, ilgpu.Out);
    }

    [Fact]
    public void AnUnknownDeviceIsOneErrorLineThatListsTheChoices()
    {
        var r = SharptProcess.Run("generate", "--checkpoint", lm.Checkpoint, "--backend", "ilgpu:no-such-device-xyz");
        AssertOneLineError("generate", r, "--backend ilgpu:no-such-device-xyz");
    }

    [Fact]
    public async Task CancellingTrainLmStopsCleanlyAndKeepsTheBestCheckpoint()
    {
        string run = Path.Combine(_dir, "run");
        string best = Path.Combine(run, "best.safetensors"), last = Path.Combine(run, "last.safetensors");
        using var cts = new CancellationTokenSource();
        // Cancel once the first evaluation has saved the best checkpoint (as Ctrl+C would, at any time).
        var watcher = Task.Run(async () =>
        {
            while (!File.Exists(best) && !cts.IsCancellationRequested) await Task.Delay(20);
            cts.Cancel();
        });
        int code = await SharptCli.InvokeAsync(["train-lm", "--input", lm.Corpus, "--out", run, .. Tiny, "--steps", "20000", "--eval-interval", "5"], cts.Token);
        await watcher;
        Assert.Equal(SharptCli.Cancelled, code);
        var bestCk = Checkpoint.Load(best);
        var lastCk = Checkpoint.Load(last);
        Assert.True(bestCk.Step >= 5, $"best at step {bestCk.Step}");
        Assert.InRange(lastCk.Step, bestCk.Step, 19_999);           // stopped before the planned steps, at or after the best
        Assert.Equal("gpt2", lastCk.ModelKind);

        // The kept checkpoints load and run.
        var r = SharptProcess.Run("generate", "--checkpoint", last, "--max-new-tokens", "5");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
    }

    [Fact]
    public async Task ACancelledTokenStopsGenerationAtOnce()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        int code = await SharptCli.InvokeAsync(["generate", "--checkpoint", lm.Checkpoint, "--max-new-tokens", "1000000"], cts.Token);
        Assert.Equal(SharptCli.Cancelled, code);
    }
}
