using System.CommandLine;
using System.Globalization;
using System.Numerics;

namespace SharpTransformer.Cli;

/// <summary>
/// Typed options for the commands: the help shows each one's type (<c>--steps &lt;int&gt;</c>) and default, and the parser
/// rejects values out of range, unknown choices (listing the allowed ones) and missing files before a command runs.
/// </summary>
internal static class CliOptions
{
    /// <summary>An integer option with a default and an inclusive range.</summary>
    public static Option<int> Int(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var o = new Option<int>(name) { Description = description, HelpName = "int", DefaultValueFactory = _ => defaultValue };
        o.Validators.Add(r => { if (Value<int>(r) is var (ok, v) && ok) CheckRange(r, name, v, min, max); });
        return o;
    }

    /// <summary>An integer option whose default depends on other options (described in <paramref name="description"/>).</summary>
    public static Option<int?> OptionalInt(string name, string description, int min = int.MinValue, int max = int.MaxValue)
    {
        var o = new Option<int?>(name) { Description = description, HelpName = "int" };
        o.Validators.Add(r => { if (Value<int?>(r) is (true, { } v)) CheckRange(r, name, v, min, max); });
        return o;
    }

    /// <summary>A number option with a default; <paramref name="minExclusive"/> makes the lower bound strict.</summary>
    public static Option<float> Float(string name, string description, float defaultValue, float min = float.MinValue, float max = float.MaxValue,
        bool minExclusive = false)
    {
        var o = new Option<float>(name) { Description = description, HelpName = "float", DefaultValueFactory = _ => defaultValue };
        o.Validators.Add(r => { if (Value<float>(r) is var (ok, v) && ok) CheckRange(r, name, v, min, max, minExclusive); });
        return o;
    }

    /// <summary>A number option whose default depends on other options (described in <paramref name="description"/>).</summary>
    public static Option<float?> OptionalFloat(string name, string description, float min = float.MinValue, float max = float.MaxValue,
        bool minExclusive = false)
    {
        var o = new Option<float?>(name) { Description = description, HelpName = "float" };
        o.Validators.Add(r => { if (Value<float?>(r) is (true, { } v)) CheckRange(r, name, v, min, max, minExclusive); });
        return o;
    }

    /// <summary>A text option (required when <paramref name="defaultValue"/> is null and <paramref name="required"/>).</summary>
    public static Option<string> Text(string name, string description, string? defaultValue = null, bool required = false, string helpName = "text")
    {
        var o = new Option<string>(name) { Description = description, HelpName = helpName, Required = required };
        if (defaultValue is not null) o.DefaultValueFactory = _ => defaultValue;
        return o;
    }

    /// <summary>A path that must name an existing file (or, with <paramref name="orDirectory"/>, a folder).</summary>
    public static Option<string> ExistingFile(string name, string description, string what, bool required = true, bool orDirectory = false)
    {
        var o = new Option<string>(name) { Description = description, HelpName = orDirectory ? "path" : "file", Required = required };
        o.Validators.Add(r =>
        {
            if (Value<string>(r) is (true, { } path) && !File.Exists(path) && !(orDirectory && Directory.Exists(path)))
                r.AddError($"{what} not found: {path}");
        });
        return o;
    }

    /// <summary>A folder to write to (created when missing).</summary>
    public static Option<string> OutputDirectory(string name, string description) =>
        new(name) { Description = description, HelpName = "dir", Required = true };

    /// <summary>One of <paramref name="values"/>: the help lists them, and any other value is an error that lists them too.</summary>
    public static Option<string> Choice(string name, string description, string? defaultValue, params string[] values)
    {
        var o = new Option<string>(name) { Description = description, HelpName = string.Join('|', values) };
        if (defaultValue is not null) o.DefaultValueFactory = _ => defaultValue;
        o.Validators.Add(r =>
        {
            if (Value<string>(r) is (true, { } v) && !values.Contains(v, StringComparer.Ordinal))
                r.AddError($"{name} must be one of {string.Join(", ", values)}; got '{v}'.");
        });
        return o;
    }

    /// <summary>An on/off switch (off unless given).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary><c>--threads</c>: CPU worker threads (0 = all cores, the default).</summary>
    public static Option<int> Threads(int defaultValue = 0) =>
        Int("--threads", defaultValue == 0 ? "CPU worker threads (0 = all cores)" : "CPU worker threads", defaultValue, min: defaultValue == 0 ? 0 : 1);

    /// <summary><c>--seed</c>: the random seed (non-negative).</summary>
    public static Option<int> Seed(int defaultValue) => Int("--seed", "random seed", defaultValue, min: 0);

    /// <summary>
    /// The value of <paramref name="r"/> for a validator, or (false, default) when it did not convert (the parser reports
    /// that error itself: "Cannot parse argument 'x' for option '--steps' as expected type 'System.Int32'").
    /// </summary>
    internal static (bool Ok, T? Value) Value<T>(System.CommandLine.Parsing.OptionResult r)
    {
        try { return (true, r.GetValueOrDefault<T>()); }
        catch (InvalidOperationException) { return (false, default); }
    }

    private static void CheckRange<T>(System.CommandLine.Parsing.OptionResult r, string name, T v, T min, T max, bool minExclusive = false)
        where T : struct, IComparable<T>, IMinMaxValue<T>
    {
        bool low = minExclusive ? v.CompareTo(min) <= 0 : v.CompareTo(min) < 0;
        if (!low && v.CompareTo(max) <= 0) return;
        string s(T x) => string.Format(CultureInfo.InvariantCulture, "{0}", x);
        string range = min.Equals(T.MinValue) ? $"<= {s(max)}"
            : max.Equals(T.MaxValue) ? $"{(minExclusive ? ">" : ">=")} {s(min)}"
            : $"in {(minExclusive ? "(" : "[")}{s(min)}, {s(max)}]";
        r.AddError($"{name} must be {range}; got {s(v)}.");
    }
}
