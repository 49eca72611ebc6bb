using SharpTransformer.Cli;

namespace SharpTransformer.Tests.Cli;

/// <summary>Runs the <c>sharpt</c> command line inside the test process through <see cref="SharptCli.Run"/>.</summary>
internal static class SharptInProcess
{
    /// <summary>The exit code of <c>sharpt args...</c>.</summary>
    public static int Run(params string[] args) => SharptCli.Run(args);
}
