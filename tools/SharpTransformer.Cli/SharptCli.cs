using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using SharpTransformer.Cli.Commands;
using SharpTransformer.Cli.Commands.Classify;
using SharpTransformer.Cli.Commands.Ner;

namespace SharpTransformer.Cli;

/// <summary>
/// The sharpt command line on System.CommandLine: every command and subcommand, generated <c>--help</c>, parse errors and
/// command errors as one line (<c>sharpt &lt;command&gt;: error: &lt;message&gt;</c>, exit code 1) with typo suggestions,
/// and Ctrl+C turned into the cancellation token that the commands hand to their trainers and generators.
/// </summary>
internal static class SharptCli
{
    /// <summary>Exit code of a run stopped by Ctrl+C (or a cancelled token) after it cleaned up: 128 + SIGINT, as shells use.</summary>
    public const int Cancelled = 130;

    /// <summary>Environment variable that, set to 1, prints the stack trace of an error (as <c>--verbose</c> does).</summary>
    public const string VerboseVariable = "SHARPT_VERBOSE";

    /// <summary>The process entry point: the first Ctrl+C (SIGINT, or SIGTERM) cancels the command, a second one ends the process.</summary>
    public static int Run(string[] args)
    {
        using var cts = new CancellationTokenSource();
        void OnSignal(PosixSignalContext c)
        {
            if (cts.IsCancellationRequested) return;                 // the second one: the default handling ends the process
            c.Cancel = true;
            Console.Error.WriteLine("sharpt: stopping cleanly (press Ctrl+C again to quit at once)...");
            cts.Cancel();
        }
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        return InvokeAsync(args, cts.Token).GetAwaiter().GetResult();
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/> in this process; <paramref name="cancellation"/> reaches the command's trainer or
    /// generator (a cancelled run saves what it has and returns <see cref="Cancelled"/>). Help goes to <paramref name="output"/>,
    /// errors to <paramref name="error"/> (the console by default); what the commands print goes to the console.
    /// </summary>
    public static Task<int> InvokeAsync(string[] args, CancellationToken cancellation = default, TextWriter? output = null, TextWriter? error = null)
    {
        var root = CreateRoot();
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            ProcessTerminationTimeout = null,               // Main handles Ctrl+C: the run must get time to save its checkpoint
            EnableDefaultExceptionHandler = false,          // commands report their own errors (Guard)
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
        };
        if (parse.Action is ParseErrorAction) return Task.FromResult(ReportParseErrors(parse, config));
        return parse.InvokeAsync(config, cancellation);
    }

    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("sharpt: train, fine-tune and run transformer models in pure .NET.") { HelpName = "sharpt" };
        root.Options.Add(new Option<bool>("--verbose") { Description = $"print the stack trace of an error (or set {VerboseVariable}=1)", Recursive = true });
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(TrainLmCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(EvalLmCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(Commands.Distill.DistillCommand.Create());
        root.Subcommands.Add(NerCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(TrainTokenizerCommand.Create());
        root.Subcommands.Add(SftCommand.Create());
        root.Subcommands.Add(Commands.Example.ExampleCommand.Create());
        root.Subcommands.Add(DpoCommand.Create());
        root.Subcommands.Add(GrpoCommand.Create());
        return root;
    }

    /// <summary>
    /// Sets <paramref name="command"/>'s action to <paramref name="run"/>, reporting any exception it throws as one line
    /// (the stack trace only with <c>--verbose</c>) and exit code 1.
    /// </summary>
    public static void SetAction(Command command, Func<ParseResult, CancellationToken, int> run) =>
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(parse, cancellation, run)));

    private static int Guard(ParseResult parse, CancellationToken cancellation, Func<ParseResult, CancellationToken, int> run)
    {
        try
        {
            return run(parse, cancellation);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            parse.InvocationConfiguration.Error.WriteLine($"{CommandPath(parse.CommandResult)}: cancelled.");
            return Cancelled;
        }
        catch (Exception e)
        {
            var err = parse.InvocationConfiguration.Error;
            bool verbose = parse.GetValue<bool>("--verbose") || Environment.GetEnvironmentVariable(VerboseVariable) == "1";
            err.WriteLine($"{CommandPath(parse.CommandResult)}: error: {Describe(e)}");
            if (verbose) err.WriteLine(e.ToString());
            return 1;
        }
    }

    // One line: the message of a user error as it is; an unexpected exception type is named, with a hint for --verbose.
    internal static string Describe(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException or TypeInitializationException
               && e.InnerException is not null)
            e = e.InnerException!;
        bool expected = e is CliException or IOException or UnauthorizedAccessException or InvalidDataException or FormatException
            or System.Text.Json.JsonException or ArgumentException or InvalidOperationException or NotSupportedException
            or ArithmeticException or KeyNotFoundException or OutOfMemoryException;
        string message = OneLine(e.Message);
        return expected ? message : $"{e.GetType().Name}: {message} (run with --verbose for the stack trace)";
    }

    private static string OneLine(string s) =>
        string.Join("; ", s.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));

    /// <summary><c>sharpt classify train</c> for the command of <paramref name="result"/>.</summary>
    internal static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Parent is null ? "sharpt" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    // Each parse error as one line, with a suggestion for a mistyped option or command; a command that needs a subcommand
    // shows its help first.
    private static int ReportParseErrors(ParseResult parse, InvocationConfiguration config)
    {
        var command = parse.CommandResult.Command;
        string path = CommandPath(parse.CommandResult);
        if (command.Action is null && command.Subcommands.Count > 0 && parse.UnmatchedTokens.Count == 0)
            WriteHelp(parse, config);
        var unmatched = parse.UnmatchedTokens.ToList();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var error in parse.Errors)
        {
            // "Required command was not provided" adds nothing to the error on a mistyped command.
            string message = OneLine(error.Message);
            if (unmatched.Count > 0 && command.Action is null && !unmatched.Any(t => message.Contains($"'{t}'", StringComparison.Ordinal))) continue;
            var token = unmatched.FirstOrDefault(t => message.Contains($"'{t}'", StringComparison.Ordinal));
            if (token is not null)
            {
                // The value after a mistyped option is unmatched too: report the option only.
                int i = unmatched.IndexOf(token);
                if (i > 0 && unmatched[i - 1].StartsWith('-') && !token.StartsWith('-') && reported.Contains(unmatched[i - 1])) continue;
                reported.Add(token);
                if (Suggest(command, token) is { } s) message += $" Did you mean '{s}'?";
            }
            config.Error.WriteLine($"{path}: error: {message}");
        }
        return 1;
    }

    private static void WriteHelp(ParseResult parse, InvocationConfiguration config)
    {
        var tokens = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is { Parent: not null }; r = r.Parent)
            if (r is CommandResult c) tokens.Insert(0, c.Command.Name);
        tokens.Add("--help");
        parse.RootCommandResult.Command.Parse(tokens).Invoke(config);
    }

    /// <summary>The option or subcommand of <paramref name="command"/> nearest to a mistyped <paramref name="token"/>, if any is near.</summary>
    internal static string? Suggest(Command command, string token)
    {
        var names = new List<string>();
        foreach (var o in command.Options) { names.Add(o.Name); names.AddRange(o.Aliases); }
        for (var p = command.Parents.OfType<Command>().FirstOrDefault(); p is not null; p = p.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in p.Options.Where(o => o.Recursive)) names.Add(o.Name);
        foreach (var c in command.Subcommands) { names.Add(c.Name); names.AddRange(c.Aliases); }
        string bare = token.Split('=')[0];
        var best = names.Where(n => !n.StartsWith("-?", StringComparison.Ordinal) && n != "/?" && n != "/h")
            .Select(n => (Name: n, Distance: Distance(bare, n)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Max(2, bare.Length / 3) ? best.Name : null;
    }

    // Levenshtein distance, with a swap of neighbours counted as one edit.
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        return d[a.Length, b.Length];
    }
}
