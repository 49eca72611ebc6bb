using System.Text.Json;
using SharpTransformer.Cli;
using SharpTransformer.Models;

namespace SharpTransformer.Tests.Cli;

/// <summary>sharpt sft and sharpt example instruct on tiny runs, and their errors.</summary>
[Collection(nameof(CliTests))]
public sealed class SftCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-sft-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly string[] Words = ["cat", "dog", "sun", "red", "big", "hat", "map", "pen"];

    private string Data(int n = 40)
    {
        var records = Enumerable.Range(0, n).Select(i => new { instruction = "Repeat the word.", input = Words[i % Words.Length], output = Words[i % Words.Length] + " " + Words[i % Words.Length] });
        string path = Path.Combine(_dir, "data.json");
        File.WriteAllText(path, JsonSerializer.Serialize(records));
        return path;
    }

    // A tiny character-level GPT whose vocabulary covers ChatML's markers and the data.
    private string TinyLm(int block = 96)
    {
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("<|im_start|>user\nRepeat the word.\n\ncat dog sun red big hat map pen<|im_end|>\n<|im_start|>assistant\n", 20)));
        string run = Path.Combine(_dir, "lm");
        int code = SharptCli.InvokeAsync(["train-lm", "--input", corpus, "--out", run, "--layers", "1", "--heads", "2", "--embd", "16", "--block", block.ToString(),
            "--batch", "2", "--steps", "2", "--eval-interval", "0"]).GetAwaiter().GetResult();
        Assert.Equal(0, code);
        return run;
    }

    private static void AssertOneLineError((int ExitCode, string Out, string Err) r, string contains)
    {
        Assert.True(r.ExitCode == 1, r.Out + r.Err);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Err);
        Assert.StartsWith("sharpt sft: error: ", lines[0]);
        Assert.Contains(contains, lines[0]);
    }

    [Fact]
    public void ATinyRunWritesCheckpointsAndTestResponsesAndPrintsExactMatchLast()
    {
        string lm = TinyLm(), data = Data(), outDir = Path.Combine(_dir, "sft");
        var r = SharptProcess.Run("sft", "--data", data, "--checkpoint", lm, "--out", outDir, "--template", "chat", "--steps", "3", "--batch", "4",
            "--lr", "1e-3", "--max-new-tokens", "12");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        Assert.Contains("40 records: 34 train, 4 test, 2 validation; template chatml", r.Out);
        double em = SharptProcess.LastFigure(r.Out, "exact match");
        Assert.InRange(em, 0, 1);
        var responses = File.ReadAllLines(Path.Combine(outDir, "test-responses.jsonl"));
        Assert.Equal(4, responses.Length);
        Assert.Equal("Repeat the word.", JsonDocument.Parse(responses[0]).RootElement.GetProperty("instruction").GetString());
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.jsonl")));
        var tuned = LanguageModelCheckpoint.Load(outDir);   // best.safetensors reads back as a language model
        Assert.Equal(96, tuned.Model.ContextLength);
    }

    [Fact]
    public void BadInputIsOneErrorLine()
    {
        string lm = TinyLm(32), outDir = Path.Combine(_dir, "sft");
        string bad = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(bad, "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\", \"input\": \"b\"}\n");
        AssertOneLineError(SharptProcess.Run("sft", "--data", bad, "--checkpoint", lm, "--out", outDir), $"{bad}: record 1 (line 2): missing the required field 'output'");
        // A context of 32 characters leaves no room for the response after ChatML's prompt.
        AssertOneLineError(SharptProcess.Run("sft", "--data", Data(), "--checkpoint", lm, "--out", outDir, "--template", "chat"),
            "record 0: its prompt has 71 tokens, so truncation to 33 tokens leaves its response (17 tokens) empty");
        AssertOneLineError(SharptProcess.Run("sft", "--data", Data(), "--out", outDir), "--checkpoint");
        var skip = SharptProcess.Run("sft", "--data", Data(), "--checkpoint", lm, "--out", outDir, "--template", "chat", "--on-empty-response", "skip");
        AssertOneLineError(skip, "every training record was skipped");
        Assert.Contains("training: skipped 34 record(s) whose response truncation to 33 tokens leaves empty: 0, 1, 2", skip.Out);
    }

    [Fact]
    public void TheWorkedExampleRunsEveryStageInMiniature()
    {
        var r = SharptProcess.Run("example", "instruct", "--pretrain-steps", "2", "--sft-steps", "2", "--short-sft-steps", "1", "--dpo-steps", "2", "--grpo-steps", "1",
            "--layers", "1", "--heads", "2", "--embd", "16", "--batch", "4", "--train-size", "40", "--test-size", "10", "--grpo-group", "2", "--grpo-prompts", "2", "--log-every", "1");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        foreach (var line in new[] { "pretrained 2 steps on Tiny Shakespeare", "after instruction tuning: held-out exact match", "DPO 2 steps: held-out preference accuracy",
                     "after DPO: held-out exact match", "after short instruction tuning: held-out exact match", "GRPO 1 steps: held-out exact match", "[grpo] took" })
            Assert.Contains(line, r.Out);
    }
}
