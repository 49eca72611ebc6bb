using System.Text.Json;
using SharpTransformer.Alignment;
using SharpTransformer.Cli;
using SharpTransformer.IO;
using SharpTransformer.Models;

namespace SharpTransformer.Tests.Cli;

/// <summary>A tiny character-level GPT whose context holds an Alpaca prompt, trained once by <c>sharpt train-lm</c>, and data for dpo and grpo.</summary>
public sealed class TinyAlignmentModel : IDisposable
{
    public TinyAlignmentModel()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("sharpt-align-").FullName;
        var instances = SyntheticInstructions.Generate(12, seed: 5);
        Preferences = Path.Combine(Directory, "pref.json");
        File.WriteAllText(Preferences, JsonSerializer.Serialize(instances.Select(i => new
        { instruction = i.Record.Instruction, input = i.Record.Input, chosen = i.Record.Output, rejected = i.Rejected })));
        Prompts = Path.Combine(Directory, "prompts.jsonl");
        File.WriteAllLines(Prompts, instances.Select(i => JsonSerializer.Serialize(new { instruction = i.Record.Instruction, input = i.Record.Input, answer = i.Record.Output })));
        string corpus = Path.Combine(Directory, "corpus.txt");
        var text = string.Concat(instances.Select(i => PromptTemplate.Alpaca.Format(i.Record) + i.Rejected + "\n"));
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat(text, 3)));
        int code = SharptCli.InvokeAsync(["train-lm", "--input", corpus, "--out", Path.Combine(Directory, "run"), "--layers", "1", "--heads", "2", "--embd", "16",
            "--block", "256", "--batch", "2", "--steps", "2", "--eval-interval", "0", "--val-fraction", "0.3"]).GetAwaiter().GetResult();
        if (code != 0) throw new InvalidOperationException($"sharpt train-lm failed with exit code {code}.");
    }

    public string Directory { get; }
    public string Preferences { get; }
    public string Prompts { get; }
    public string Checkpoint => Path.Combine(Directory, "run");

    public void Dispose() => System.IO.Directory.Delete(Directory, true);
}

/// <summary>sharpt dpo and sharpt grpo: tiny runs end to end, their metrics and checkpoints, and bad data as one error line.</summary>
[Collection(nameof(CliTests))]
public sealed class AlignmentCliTests(TinyAlignmentModel tiny) : IClassFixture<TinyAlignmentModel>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-align-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static List<JsonElement> Steps(string dir) => File.ReadAllLines(Path.Combine(dir, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement).Where(e => e.GetProperty("type").GetString() == "step").ToList();

    [Fact]
    public void DpoTrainsLogsRewardsSavesACheckpointAndPrintsPreferenceAccuracyLast()
    {
        string outDir = Path.Combine(_dir, "dpo");
        var r = SharptProcess.Run("dpo", "--data", tiny.Preferences, "--checkpoint", tiny.Checkpoint, "--out", outDir, "--steps", "3", "--batch", "4",
            "--lr", "1e-3", "--val-fraction", "0.25", "--beta", "0.1");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("preference accuracy on 3 held-out pairs: 0.5000 -> ", lines[^1]);
        Assert.Contains("held-out preference accuracy before: 0.5000", r.Out);   // policy = reference: ties
        var steps = Steps(outDir);
        Assert.Equal(3, steps.Count);
        Assert.True(steps[^1].TryGetProperty("rewards/accuracies", out _), "metrics.jsonl lacks rewards/accuracies");
        Assert.True(steps[^1].TryGetProperty("rewards/margins", out _), "metrics.jsonl lacks rewards/margins");
        var ck = Checkpoint.Load(Path.Combine(outDir, "last.safetensors"));
        Assert.Equal("alpaca", ck.Metadata["extra.prompt_template"]);
        Assert.Equal(3, ck.Step);
        Assert.IsType<SharpTransformer.Models.Gpt2.Gpt2>(LanguageModelCheckpoint.Load(outDir).Model);

        // IPO against a reference checkpoint, precomputed.
        var ipo = SharptProcess.Run("dpo", "--data", tiny.Preferences, "--checkpoint", tiny.Checkpoint, "--reference", tiny.Checkpoint, "--precompute-reference",
            "--out", Path.Combine(_dir, "ipo"), "--steps", "1", "--batch", "4", "--loss", "ipo", "--val-fraction", "0.25");
        Assert.True(ipo.ExitCode == 0, ipo.Out + ipo.Err);
        Assert.Contains("(precomputed)", ipo.Out);
    }

    [Fact]
    public void GrpoTrainsLogsRewardsAndKlAndPrintsExactMatchLast()
    {
        string outDir = Path.Combine(_dir, "grpo");
        var r = SharptProcess.Run("grpo", "--data", tiny.Prompts, "--checkpoint", tiny.Checkpoint, "--out", outDir, "--steps", "2", "--group-size", "2",
            "--prompts-per-batch", "2", "--updates-per-batch", "2", "--max-completion-length", "6", "--val-fraction", "0.25", "--lr", "1e-3");
        Assert.True(r.ExitCode == 0, r.Out + r.Err);
        var lines = r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("exact match on 3 held-out prompts: ", lines[^1]);
        var steps = Steps(outDir);
        Assert.Equal(2, steps.Count);
        foreach (var name in new[] { "reward", "reward_std", "kl", "clip_ratio" })
            Assert.True(steps[^1].TryGetProperty(name, out _), $"metrics.jsonl lacks {name}");
        Assert.True(File.Exists(Path.Combine(outDir, "last.safetensors")));
    }

    private static void AssertOneLineError(string command, (int ExitCode, string Out, string Err) r, params string[] contains)
    {
        Assert.True(r.ExitCode == 1, r.Out + r.Err);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.Err);
        Assert.StartsWith($"sharpt {command}: error: ", lines[0]);
        foreach (var c in contains) Assert.Contains(c, lines[0]);
    }

    [Fact]
    public void BadRecordsAndOptionsAreOneErrorLineNamingFileRecordAndField()
    {
        string pref = Path.Combine(_dir, "bad-pref.jsonl");
        File.WriteAllLines(pref, ["{\"instruction\": \"a\", \"chosen\": \"x\", \"rejected\": \"y\"}", "{\"instruction\": \"b\", \"chosen\": \"x\"}"]);
        AssertOneLineError("dpo", SharptProcess.Run("dpo", "--data", pref, "--checkpoint", tiny.Checkpoint, "--out", Path.Combine(_dir, "o1")),
            pref, "record 1 (line 2)", "'rejected'");
        string noPrompt = Path.Combine(_dir, "no-prompt.json");
        File.WriteAllText(noPrompt, "[{\"chosen\": \"x\", \"rejected\": \"y\"}]");
        AssertOneLineError("dpo", SharptProcess.Run("dpo", "--data", noPrompt, "--checkpoint", tiny.Checkpoint, "--out", Path.Combine(_dir, "o2")),
            noPrompt, "record 0", "'instruction' nor 'prompt'");
        string prompts = Path.Combine(_dir, "bad-prompts.json");
        File.WriteAllText(prompts, "[{\"prompt\": \"add 1 and 2\", \"answer\": \"3\"}, {\"prompt\": \"add 2 and 2\"}]");
        AssertOneLineError("grpo", SharptProcess.Run("grpo", "--data", prompts, "--checkpoint", tiny.Checkpoint, "--out", Path.Combine(_dir, "o3")),
            prompts, "record 1", "answer");
        AssertOneLineError("dpo", SharptProcess.Run("dpo", "--data", tiny.Preferences, "--checkpoint", tiny.Checkpoint, "--out", Path.Combine(_dir, "o4"),
            "--loss", "ipo", "--label-smoothing", "0.1"), "--label-smoothing applies to --loss sigmoid only");
        // A response truncation leaves empty: named with its record, or skipped on request.
        var cut = SharptProcess.Run("dpo", "--data", tiny.Preferences, "--checkpoint", tiny.Checkpoint, "--out", Path.Combine(_dir, "o5"), "--max-length", "20");
        AssertOneLineError("dpo", cut, tiny.Preferences, "record 0", "empty");
    }
}
