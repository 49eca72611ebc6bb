using System.Text.Json.Serialization;
using SharpTransformer.IO.HuggingFace;

namespace SharpTransformer.Nn;

/// <summary>How RoPE frequencies are rescaled for a longer context (Hugging Face's <c>rope_scaling.rope_type</c>).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RopeType>))]
public enum RopeType
{
    /// <summary>No scaling (<c>default</c>): inv_freq = theta^(-2i/d).</summary>
    Default,
    /// <summary>Position interpolation (<c>linear</c>): inv_freq / factor.</summary>
    Linear,
    /// <summary>
    /// Dynamic NTK (<c>dynamic</c>): beyond the original context the base grows to
    /// theta·(factor·L/L0 - (factor - 1))^(d/(d-2)), L = the largest position + 1 of the call.
    /// </summary>
    Dynamic,
    /// <summary>YaRN (<c>yarn</c>): per-frequency blend of interpolation and extrapolation, and an attention factor on cos and sin.</summary>
    Yarn,
    /// <summary>Llama 3.1 (<c>llama3</c>): low frequencies divided by factor, high ones kept, a smooth blend between.</summary>
    Llama3,
}

/// <summary>
/// RoPE scaling, as Hugging Face's <c>rope_scaling</c> in <c>config.json</c> (<c>modeling_rope_utils</c>), resolved against the
/// model's context so that <see cref="RotaryFrequencies"/> needs nothing else. Families that use RoPE (Llama, Qwen2, Mistral,
/// DeepSeek) share it.
/// </summary>
/// <param name="Type">The method (<c>rope_type</c>, or the older key <c>type</c>).</param>
/// <param name="Factor">The scaling factor (<c>factor</c>). For YaRN with <c>original_max_position_embeddings</c> given,
/// Hugging Face replaces it by max_position_embeddings / original_max_position_embeddings, and so does <see cref="FromHuggingFace"/>.</param>
/// <param name="OriginalContextLength">The context the model was trained with: <c>original_max_position_embeddings</c>
/// (Llama 3, YaRN), else <c>max_position_embeddings</c> (dynamic NTK, YaRN).</param>
/// <param name="LowFreqFactor">Llama 3's <c>low_freq_factor</c> (1 in Llama 3.1).</param>
/// <param name="HighFreqFactor">Llama 3's <c>high_freq_factor</c> (4 in Llama 3.1).</param>
/// <param name="BetaFast">YaRN's <c>beta_fast</c> (default 32).</param>
/// <param name="BetaSlow">YaRN's <c>beta_slow</c> (default 1).</param>
/// <param name="AttentionFactor">YaRN's <c>attention_factor</c>, multiplying cos and sin; null = from the factor (0.1 ln s + 1,
/// or the ratio of <c>mscale</c> and <c>mscale_all_dim</c> terms when both are set).</param>
/// <param name="Mscale">YaRN's <c>mscale</c> (DeepSeek).</param>
/// <param name="MscaleAllDim">YaRN's <c>mscale_all_dim</c> (DeepSeek).</param>
/// <param name="Truncate">YaRN's <c>truncate</c>: round the correction range to whole dimensions (default true).</param>
public sealed record RopeScaling(RopeType Type, float Factor = 1f, int? OriginalContextLength = null, float LowFreqFactor = 1f,
    float HighFreqFactor = 4f, float BetaFast = 32f, float BetaSlow = 1f, float? AttentionFactor = null, float? Mscale = null,
    float? MscaleAllDim = null, bool Truncate = true)
{
    /// <summary>
    /// Reads <c>rope_scaling</c> of a Hugging Face config (null when absent, or of type <c>default</c>), with
    /// <paramref name="contextLength"/> its <c>max_position_embeddings</c>. An unknown type, a missing or non-positive factor, or
    /// Llama 3 without <c>original_max_position_embeddings</c> is an error naming the file, the field and the value.
    /// </summary>
    public static RopeScaling? FromHuggingFace(HfConfigJson config, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(config);
        var s = config.Section("rope_scaling");
        if (s is null) return null;
        string name = s.String("", "rope_type", "type");
        var type = name switch
        {
            "default" => RopeType.Default,
            "linear" => RopeType.Linear,
            "dynamic" => RopeType.Dynamic,
            "yarn" => RopeType.Yarn,
            "llama3" => RopeType.Llama3,
            _ => throw new NotSupportedException(
                $"{config.FileName}: rope_scaling.rope_type '{name}' is not supported; supported: default, linear, dynamic, yarn, llama3."),
        };
        if (type == RopeType.Default) return null;
        float factor = s.Has("factor") ? s.Float(null, "factor")
            : throw new InvalidDataException($"{config.FileName}: rope_scaling of type '{name}' needs rope_scaling.factor.");
        int? original = s.Has("original_max_position_embeddings") ? s.Int(null, "original_max_position_embeddings") : null;
        var r = type switch
        {
            RopeType.Linear => new RopeScaling(type, factor),
            RopeType.Dynamic => new RopeScaling(type, factor, contextLength),
            RopeType.Llama3 => new RopeScaling(type, factor,
                original ?? throw new InvalidDataException($"{config.FileName}: rope_scaling of type 'llama3' needs rope_scaling.original_max_position_embeddings."),
                LowFreqFactor: s.Float(null, "low_freq_factor"), HighFreqFactor: s.Float(null, "high_freq_factor")),
            _ => new RopeScaling(type, original is { } o ? (float)contextLength / o : factor, original ?? contextLength,
                BetaFast: s.Float(32f, "beta_fast"), BetaSlow: s.Float(1f, "beta_slow"),
                AttentionFactor: s.Has("attention_factor") ? s.Float(null, "attention_factor") : null,
                Mscale: s.Has("mscale") ? s.Float(null, "mscale") : null,
                MscaleAllDim: s.Has("mscale_all_dim") ? s.Float(null, "mscale_all_dim") : null,
                Truncate: s.Bool(true, "truncate")),
        };
        r.Validate(config.FileName);
        return r;
    }

    /// <summary>Checks the values; errors name <paramref name="source"/> and the <c>rope_scaling</c> field.</summary>
    public void Validate(string source)
    {
        if (!(Factor > 0f && float.IsFinite(Factor)))
            throw new ArgumentException($"{source}: rope_scaling.factor must be positive and finite, got {Factor}.");
        if (Type is RopeType.Dynamic or RopeType.Yarn or RopeType.Llama3 && OriginalContextLength is not > 0)
            throw new ArgumentException($"{source}: rope_scaling of type {Type} needs a positive original context (original_max_position_embeddings), got {OriginalContextLength?.ToString() ?? "none"}.");
        if (Type == RopeType.Llama3 && !(HighFreqFactor > LowFreqFactor && LowFreqFactor > 0f))
            throw new ArgumentException($"{source}: rope_scaling.high_freq_factor ({HighFreqFactor}) must exceed rope_scaling.low_freq_factor ({LowFreqFactor}) > 0.");
        if (AttentionFactor is { } a && !(a > 0f && float.IsFinite(a)))
            throw new ArgumentException($"{source}: rope_scaling.attention_factor must be positive and finite, got {a}.");
    }
}
