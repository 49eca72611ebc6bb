using System.Diagnostics;

namespace SharpTransformer.Tests.Cli;

/// <summary>Runs the built <c>sharpt</c> command line as a child process.</summary>
internal static class SharptProcess
{
    /// <summary>The built CLI next to this test build (same configuration).</summary>
    public static string Dll
    {
        get
        {
            string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
            string path = Path.Combine(TestPaths.Root, "tools", "SharpTransformer.Cli", "bin", config, "net10.0", "sharpt.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"the CLI is not built: {path}");
        }
    }

    public static (int ExitCode, string Out, string Err) RunWithInput(string stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new TimeoutException($"sharpt {string.Join(' ', args)} ran over 5 minutes"); }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static (int ExitCode, string Out, string Err) Run(params string[] args) => RunWithInput("", args);

    /// <summary>The value printed on the last line as <c>name: value</c>.</summary>
    public static double LastFigure(string output, string name)
    {
        var last = output.TrimEnd().Split('\n')[^1].Trim();
        Xunit.Assert.StartsWith(name + ": ", last);
        return double.Parse(last[(name.Length + 2)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
