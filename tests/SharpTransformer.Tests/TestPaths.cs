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

    /// <summary>The shared data folder: ../shared/data from the root.</summary>
    public static string Data => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>The fixture root: $SHARPT_FIXTURES, else ../shared/fixtures from the root.</summary>
    public static string Fixtures => Environment.GetEnvironmentVariable("SHARPT_FIXTURES") is { Length: > 0 } f
        ? f : Path.GetFullPath(Path.Combine(Root, "..", "shared", "fixtures"));
}
