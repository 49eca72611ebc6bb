namespace SharpTransformer.Peft;

/// <summary>
/// The settings of one LoRA adapter, as PEFT's <c>LoraConfig</c>. Targets are chosen by <see cref="TargetModules"/> (names
/// matched as PEFT does: a module path equal to a name or ending with "." + name, e.g. <c>q_proj</c>, <c>c_attn</c>) or by
/// <see cref="TargetRegex"/> (a regular expression that must match the whole module path, or <see cref="AllLinear"/> for every
/// linear layer but the output head). Paths are matched both as the model names them (<c>h.0.attn.c_attn</c>) and as Hugging Face
/// does (<c>transformer.h.0.attn.c_attn</c>).
/// </summary>
/// <param name="R">Rank r of the update B·A (&gt; 0).</param>
/// <param name="Alpha">lora_alpha: the update is scaled by alpha / r (alpha / √r with <paramref name="UseRsLora"/>).</param>
/// <param name="Dropout">Dropout on the adapter's input, in training only, in [0, 1).</param>
/// <param name="UseRsLora">Rank-stabilised scaling alpha / √r.</param>
/// <param name="TargetModules">Module names matched by suffix; null when <paramref name="TargetRegex"/> chooses.</param>
/// <param name="TargetRegex">A whole-path regular expression or <see cref="AllLinear"/>; null when <paramref name="TargetModules"/> chooses.</param>
/// <param name="FanInFanOut">
/// PEFT's flag for a base weight stored [in, out] (GPT-2's Conv1D). Our linear layers store (out, in), so it changes nothing
/// here; it is kept so that a saved adapter says what the Hugging Face model needs to merge it.
/// </param>
public sealed record LoraConfig(
    int R = 8,
    float Alpha = 8f,
    float Dropout = 0f,
    bool UseRsLora = false,
    IReadOnlyList<string>? TargetModules = null,
    string? TargetRegex = null,
    bool FanInFanOut = false)
{
    /// <summary>The <see cref="TargetRegex"/> value that targets every linear layer except the output head, as PEFT's "all-linear".</summary>
    public const string AllLinear = "all-linear";

    /// <summary>A config targeting the modules named <paramref name="targets"/> (suffix match) with rank <paramref name="r"/> and <paramref name="alpha"/>.</summary>
    public static LoraConfig ForModules(int r, float alpha, params string[] targets) => new(r, alpha, TargetModules: targets);

    /// <summary>The factor of the update: alpha / r, or alpha / √r with rsLoRA.</summary>
    public float Scaling => UseRsLora ? Alpha / MathF.Sqrt(R) : Alpha / R;

    /// <summary>Throws naming the bad field when the settings are out of range or no targets are given.</summary>
    public void Validate()
    {
        if (R <= 0) throw new ArgumentException($"LoraConfig: R must be positive, got {R}.", nameof(R));
        if (!float.IsFinite(Alpha) || Alpha <= 0f) throw new ArgumentException($"LoraConfig: Alpha must be positive and finite, got {Alpha}.", nameof(Alpha));
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ArgumentException($"LoraConfig: Dropout must be in [0, 1), got {Dropout}.", nameof(Dropout));
        bool byName = TargetModules is { Count: > 0 }, byRegex = !string.IsNullOrEmpty(TargetRegex);
        if (byName == byRegex)
            throw new ArgumentException("LoraConfig: give exactly one of TargetModules (names, e.g. [\"q_proj\", \"v_proj\"]) and TargetRegex " +
                $"(a whole-path regular expression or \"{AllLinear}\"); got {(byName ? "both" : "neither")}.", nameof(TargetModules));
        if (byName && TargetModules!.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("LoraConfig: TargetModules holds an empty name.", nameof(TargetModules));
    }
}
