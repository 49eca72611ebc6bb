using System.Reflection;

namespace SharpTransformer.Tests.Cli;

/// <summary>
/// Runs the <c>sharpt</c> command line inside the test process through its string-arguments entry point
/// <c>SharpTransformer.Cli.CommandLine.Run(string[])</c>, loaded from the built CLI next to this test build.
/// </summary>
internal static class SharptInProcess
{
    private static readonly Lazy<MethodInfo> Entry = new(() =>
    {
        var assembly = Assembly.LoadFrom(SharptProcess.Dll);   // its dependencies resolve from the CLI's folder
        var type = assembly.GetType("SharpTransformer.Cli.CommandLine", throwOnError: true)!;
        return type.GetMethod("Run", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(string[])])
            ?? throw new MissingMethodException("SharpTransformer.Cli.CommandLine.Run(string[])");
    });

    /// <summary>The exit code of <c>sharpt args...</c>.</summary>
    public static int Run(params string[] args)
    {
        try { return (int)Entry.Value.Invoke(null, [args])!; }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
