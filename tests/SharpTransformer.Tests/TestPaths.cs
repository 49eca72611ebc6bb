namespace SharpTransformer.Tests;

/// <summary>Locations of the repository, shared data and fixtures for tests.</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> _root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SharpTransformer.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (SharpTransformer.sln) above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding SharpTransformer.sln).</summary>
    public static string Root => _root.Value;

    /// <summary>The shared folder: ../shared from the root.</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>The shared data folder: ../shared/data from the root.</summary>
    public static string Data => Path.Combine(Shared, "data");

    /// <summary>
    /// The base fixture root, ../shared/fixtures: the folders that tests use by name (gpt2-tiny, llama-tiny, bert-tiny).
    /// It is also the first root of <see cref="FixtureRoots"/> unless $SHARPT_FIXTURES replaces them.
    /// </summary>
    public static string Fixtures => Path.Combine(Shared, "fixtures");

    /// <summary>
    /// The fixture roots beside <see cref="Fixtures"/> that the data-driven fixture tests also read, as folder names under
    /// ../shared. Each later issue adds its root here once the project supports its families, not before (every model folder
    /// of a listed root must be of a supported model_type): <c>fixtures-seq2seq</c> (T5, BART), <c>fixtures-llm</c> (Mixtral,
    /// DeepSeek-V2, Qwen2), <c>fixtures-lora</c> (PEFT adapters: folders without config.json, read by the adapter test).
    /// </summary>
    public static readonly string[] ExtraFixtureRoots = ["fixtures-lora", "fixtures-seq2seq", "fixtures-llm"];

    /// <summary>The environment variable that, when set, replaces every fixture root with one folder.</summary>
    public const string FixturesVariable = "SHARPT_FIXTURES";

    /// <summary>
    /// Every fixture root the data-driven tests read: $SHARPT_FIXTURES alone when it is set, else <see cref="Fixtures"/> and
    /// the <see cref="ExtraFixtureRoots"/>.
    /// </summary>
    public static IReadOnlyList<string> FixtureRoots =>
        Environment.GetEnvironmentVariable(FixturesVariable) is { Length: > 0 } f
            ? [Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))]
            : [Fixtures, .. ExtraFixtureRoots.Select(r => Path.Combine(Shared, r))];
}
