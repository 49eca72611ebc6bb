using SharpTransformer.Nn;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>--rope-scaling none|linear|dynamic|yarn|llama3</c> with <c>--rope-factor</c>: the <see cref="RopeScaling"/> of a new Llama-style
/// model whose context is <c>context</c> tokens, trained for context / factor (the original context of dynamic NTK, YaRN, Llama 3).
/// </summary>
internal static class RopeScalingChoice
{
    /// <summary>The names accepted by <c>--rope-scaling</c>.</summary>
    public static readonly string[] Names = ["none", "linear", "dynamic", "yarn", "llama3"];

    /// <summary>The scaling, or null for none.</summary>
    public static RopeScaling? Create(string? name, float factor, int context)
    {
        if (name is null or "none") return null;
        if (!(factor >= 1f)) throw new CliException($"--rope-factor must be >= 1 with --rope-scaling {name}; got {factor}.");
        int original = Math.Max(1, (int)(context / factor));
        return name switch
        {
            "linear" => new RopeScaling(RopeType.Linear, factor),
            "dynamic" => new RopeScaling(RopeType.Dynamic, factor, original),
            "yarn" => new RopeScaling(RopeType.Yarn, factor, original),
            "llama3" => new RopeScaling(RopeType.Llama3, factor, original),
            _ => throw new CliException($"--rope-scaling must be one of {string.Join(", ", Names)}; got '{name}'."),
        };
    }
}
