using System.Diagnostics;
using System.Reflection;
using SharpTransformer.Backends;
using SharpTransformer.Conformance;
using Xunit;
using Xunit.Sdk;

namespace SharpTransformer.ConformanceRunner;

/// <summary>The shared suite bound to one backend; its log lines go to the console.</summary>
internal sealed class SuiteOnBackend(IBackend backend) : BackendConformance
{
    protected override IBackend CreateBackend() => backend;

    protected override void Log(string line) => Console.WriteLine($"      {line}");
}

/// <summary>
/// Runs every <see cref="FactAttribute"/> and <see cref="TheoryAttribute"/> case of <see cref="BackendConformance"/> (theory
/// rows from their InlineData and MemberData attributes), each on a fresh suite instance, as xunit would.
/// </summary>
internal static class SuiteRunner
{
    /// <summary>The cases, as (display name, method, arguments).</summary>
    public static List<(string Name, MethodInfo Method, object?[] Args)> Cases()
    {
        var list = new List<(string, MethodInfo, object?[])>();
        var methods = typeof(BackendConformance).GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
            .OrderBy(m => m.Name, StringComparer.Ordinal);
        foreach (var m in methods)
        {
            if (m.GetCustomAttribute<TheoryAttribute>() is null)
            {
                list.Add((m.Name, m, []));
                continue;
            }
            foreach (var data in m.GetCustomAttributes<DataAttribute>())
                foreach (var row in data.GetData(m))
                    list.Add(($"{m.Name}({string.Join(", ", row.Select(Format))})", m, row));
        }
        return list;
    }

    private static string Format(object? x) => x switch
    {
        null => "null",
        string s => $"\"{s}\"",
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(x, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };

    /// <summary>Runs one case; returns null on success, else the failure message.</summary>
    public static string? Run(IBackend backend, MethodInfo method, object?[] args)
    {
        using var suite = new SuiteOnBackend(backend);
        try
        {
            method.Invoke(suite, args.Length == 0 ? null : args);
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            return Describe(e.InnerException);
        }
        catch (Exception e)
        {
            return Describe(e);
        }
    }

    /// <summary>The first lines of an exception: its type and message.</summary>
    public static string Describe(Exception e)
    {
        string text = $"{e.GetType().Name}: {e.Message}";
        var lines = text.Split('\n');
        return string.Join(" | ", lines.Take(6).Select(l => l.Trim()));
    }

    /// <summary>Times <paramref name="run"/> and prints PASS or FAIL with the elapsed time; returns whether it passed.</summary>
    public static bool Report(string name, Func<string?> run)
    {
        var sw = Stopwatch.StartNew();
        string? failure;
        try { failure = run(); }
        catch (Exception e) { failure = Describe(e); }
        Console.WriteLine(failure is null
            ? $"PASS {name} ({sw.Elapsed.TotalSeconds:F2} s)"
            : $"FAIL {name} ({sw.Elapsed.TotalSeconds:F2} s): {failure}");
        return failure is null;
    }
}
