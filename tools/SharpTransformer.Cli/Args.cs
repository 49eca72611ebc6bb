using System.Globalization;

namespace SharpTransformer.Cli;

/// <summary>Minimal <c>--name value</c> / <c>--flag</c> parser shared by the commands.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) { Positional.Add(a); continue; }
            var name = a[2..];
            int eq = name.IndexOf('=');
            if (eq >= 0) { _values[name[..eq]] = name[(eq + 1)..]; continue; }
            if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) _values[name] = args[++i];
            else _values[name] = null;
        }
    }

    public List<string> Positional { get; } = new();

    public bool Flag(string name) { _used.Add(name); return _values.ContainsKey(name); }

    public string? String(string name) { _used.Add(name); return _values.TryGetValue(name, out var v) ? v : null; }

    public string Required(string name) => String(name) ?? throw new CliException($"missing required option --{name}.");

    public int Int(string name, int fallback)
    {
        var v = String(name);
        if (v is null) return fallback;
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var x) ? x : throw new CliException($"--{name} expects an integer, got '{v}'.");
    }

    public float Float(string name, float fallback)
    {
        var v = String(name);
        if (v is null) return fallback;
        return float.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new CliException($"--{name} expects a number, got '{v}'.");
    }

    /// <summary>Throws on options nobody asked for (typos).</summary>
    public void RejectUnknown()
    {
        foreach (var k in _values.Keys)
            if (!_used.Contains(k)) throw new CliException($"unknown option --{k}.");
    }
}
