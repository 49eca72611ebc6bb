using System.CommandLine;
using SharpTransformer.Cli;

namespace SharpTransformer.Tests.Cli;

/// <summary>The sharpt command line itself, invoked in-process: help on every command, typo suggestions, option validation.</summary>
public sealed class CommandLineTests
{
    private static (int ExitCode, string Out, string Err) Invoke(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = SharptCli.InvokeAsync(args, default, output, error).GetAwaiter().GetResult();
        return (code, output.ToString(), error.ToString());
    }

    // Every command path, e.g. "classify train", "bench gemm".
    private static IEnumerable<Command> AllCommands(Command c) => c.Subcommands.SelectMany(s => AllCommands(s).Prepend(s));

    private static string PathOf(Command c)
    {
        var names = new List<string>();
        for (Symbol? s = c; s is Command { } x && x is not RootCommand; s = x.Parents.FirstOrDefault()) names.Insert(0, x.Name);
        return string.Join(' ', names);
    }

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var c in AllCommands(SharptCli.CreateRoot())) data.Add(PathOf(c));
        return data;
    }

    [Fact]
    public void EveryCommandOfTheOldParserStillExists()
    {
        var paths = AllCommands(SharptCli.CreateRoot()).Select(PathOf).ToHashSet();
        foreach (var p in new[] { "demo", "train-lm", "generate", "eval-lm", "tokenize", "train-tokenizer", "classify train", "classify eval",
                     "classify predict", "ner train", "ner eval", "ner predict", "bench gemm", "bench train-step", "bench generate", "bench attention" })
            Assert.Contains(p, paths);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void HelpWorksOnEveryCommandAndListsEachOptionWithItsTypeAndDefault(string path)
    {
        var (code, output, err) = Invoke([.. path.Split(' '), "--help"]);
        Assert.True(code == 0, err);
        Assert.Equal("", err);
        Assert.Contains($"sharpt {path} [", output);                                   // the usage line
        var command = AllCommands(SharptCli.CreateRoot()).Single(c => PathOf(c) == path);
        foreach (var o in command.Options.Where(o => o.Name != "--help"))
        {
            var line = output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(o.Name + " ", StringComparison.Ordinal)
                || l.TrimStart().StartsWith(o.Name + ",", StringComparison.Ordinal) || l.Trim() == o.Name);
            Assert.True(line is not null, $"{path} --help does not list {o.Name}:\n{output}");
            if (o.ValueType != typeof(bool)) Assert.Matches(@"<[^>]+>", line);      // the value's type or choices
            if (o.HasDefaultValue && o.ValueType != typeof(bool)) Assert.Contains("[default: ", line);
        }
    }

    [Fact]
    public void TrainLmHelpNoLongerAsksForItsRequiredOptions()
    {
        var (code, output, _) = Invoke("train-lm", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--input <file>", output);
        Assert.Contains("--steps <int>", output);
        Assert.Contains("[default: 2000]", output);
        Assert.Contains("--arch <gpt2|llama|qwen2|mistral|mixtral|deepseek>", output);
        Assert.Contains("--backend <cpu|ilgpu|ilgpu:<device>>", output);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("train-lm")]
    [InlineData("generate")]
    [InlineData("eval-lm")]
    [InlineData("classify train")]
    [InlineData("classify eval")]
    [InlineData("classify predict")]
    [InlineData("ner train")]
    [InlineData("ner eval")]
    [InlineData("ner predict")]
    [InlineData("bench gemm")]
    [InlineData("bench train-step")]
    [InlineData("bench generate")]
    [InlineData("bench attention")]
    public void EveryCommandThatRunsAModelTakesABackend(string path)
    {
        var (_, output, _) = Invoke([.. path.Split(' '), "--help"]);
        Assert.Contains("--backend <cpu|ilgpu|ilgpu:<device>>", output);
        Assert.Contains("[default: cpu]", output);
    }

    [Fact]
    public void AMistypedOptionIsAnErrorWithASuggestion()
    {
        var (code, output, err) = Invoke("train-lm", "--stpes", "20", "--input", "x", "--out", "y");
        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        var first = err.Split('\n')[0];
        Assert.StartsWith("sharpt train-lm: error: ", first);
        Assert.Contains("'--stpes'", first);
        Assert.Contains("Did you mean '--steps'?", first);
        Assert.DoesNotContain("'20'", err);                      // the mistyped option's value is not a second error
    }

    [Fact]
    public void AMistypedCommandIsAnErrorWithASuggestion()
    {
        var (code, _, err) = Invoke("trian-lm", "--input", "x");
        Assert.NotEqual(0, code);
        Assert.Contains("sharpt: error: ", err);
        Assert.Contains("Did you mean 'train-lm'?", err);

        var sub = Invoke("classify", "evl");
        Assert.NotEqual(0, sub.ExitCode);
        Assert.Contains("sharpt classify: error: ", sub.Err);
        Assert.Contains("Did you mean 'eval'?", sub.Err);
    }

    [Theory]
    [InlineData("--top-p must be in (0, 1]; got 2.", "generate", "--checkpoint", "{file}", "--top-p", "2")]
    [InlineData("--max-new-tokens must be >= 1; got 0.", "generate", "--checkpoint", "{file}", "--max-new-tokens", "0")]
    [InlineData("--kind must be one of bpe, wordpiece, unigram, spm-bpe; got 'sentencepiece'.", "train-tokenizer", "--kind", "sentencepiece", "--vocab-size", "100", "--input", "{file}", "--out", "x")]
    [InlineData("--arch must be one of gpt2, llama, qwen2, mistral, mixtral, deepseek; got 'gpt3'.", "train-lm", "--input", "{file}", "--out", "x", "--arch", "gpt3")]
    [InlineData("--pooling must be one of cls, mean, last-token, pooler; got 'max'.", "classify", "train", "--train", "{file}", "--dev", "{file}", "--out", "x", "--pooling", "max")]
    [InlineData("--backend must be cpu, ilgpu or ilgpu:<device>; got 'cuda'.", "eval-lm", "--checkpoint", "{file}", "--input", "{file}", "--backend", "cuda")]
    [InlineData("input file not found: no-such-file.txt", "train-lm", "--input", "no-such-file.txt", "--out", "x")]
    [InlineData("checkpoint not found: no-such.safetensors", "generate", "--checkpoint", "no-such.safetensors")]
    [InlineData("data file not found: no-such.tsv", "classify", "eval", "--checkpoint", "{file}", "--data", "no-such.tsv")]
    [InlineData("Option '--out' is required.", "train-lm", "--input", "{file}")]
    [InlineData("Cannot parse argument 'many' for option '--steps'", "demo", "--steps", "many")]
    public void ABadOptionValueIsOneErrorLineNamingTheOption(string expected, params string[] args)
    {
        string file = Path.GetTempFileName();
        try
        {
            var (code, output, err) = Invoke(args.Select(a => a == "{file}" ? file : a).ToArray());
            Assert.NotEqual(0, code);
            Assert.Equal("", output);
            var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.StartsWith($"sharpt {string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')))}: error: ", lines[0]);
            Assert.Contains(expected, lines[0]);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void ACommandGroupWithoutASubcommandShowsItsHelpAndFails()
    {
        var (code, output, err) = Invoke("bench");
        Assert.NotEqual(0, code);
        Assert.Contains("gemm", output);
        Assert.Contains("attention", output);
        Assert.Contains("sharpt bench: error: ", err);
    }

    [Fact]
    public void SuggestionsComeOnlyForNearNames()
    {
        var train = AllCommands(SharptCli.CreateRoot()).Single(c => PathOf(c) == "train-lm");
        Assert.Equal("--eval-interval", SharptCli.Suggest(train, "--eval-intervall"));
        Assert.Equal("--steps", SharptCli.Suggest(train, "--setps=3"));
        Assert.Null(SharptCli.Suggest(train, "--completely-unrelated"));
    }
}
