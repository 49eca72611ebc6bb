namespace SharpTransformer.Nn;

/// <summary>
/// The RoPE frequency table and attention factor of a <see cref="RopeScaling"/>, computed as Hugging Face's
/// <c>modeling_rope_utils</c> does (<c>_compute_default/linear/dynamic_ntk/yarn/llama3_parameters</c>), in double precision.
/// Pair i of a head of width d rotates by position·InvFreq[i]; cos and sin are multiplied by the attention factor.
/// </summary>
public static class RotaryFrequencies
{
    /// <summary>
    /// The d/2 inverse frequencies and the attention factor for rotary width <paramref name="dim"/> and base
    /// <paramref name="theta"/>. <paramref name="sequenceLength"/> (the largest position + 1 of the call) matters only for
    /// <see cref="RopeType.Dynamic"/>: at or below the original context the frequencies are the unscaled ones.
    /// </summary>
    public static (double[] InvFreq, double AttentionFactor) Compute(float theta, int dim, RopeScaling? scaling, int sequenceLength = 0)
    {
        if (dim <= 0 || dim % 2 != 0) throw new ArgumentException($"RotaryFrequencies: the rotary width must be even and positive, got {dim}.");
        if (!(theta > 0f)) throw new ArgumentException($"RotaryFrequencies: rope_theta must be positive, got {theta}.");
        int half = dim / 2;
        double b = theta;
        var s = scaling ?? new RopeScaling(RopeType.Default);
        if (s.Type == RopeType.Dynamic && sequenceLength > s.OriginalContextLength!.Value)
            b *= Math.Pow(s.Factor * sequenceLength / (double)s.OriginalContextLength.Value - (s.Factor - 1), dim / (dim - 2.0));
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(b, 2.0 * i / dim);
        switch (s.Type)
        {
            case RopeType.Linear:
                for (int i = 0; i < half; i++) inv[i] /= s.Factor;
                return (inv, 1.0);
            case RopeType.Llama3:
                {
                    double old = s.OriginalContextLength!.Value;
                    double lowWave = old / s.LowFreqFactor, highWave = old / s.HighFreqFactor;
                    for (int i = 0; i < half; i++)
                    {
                        double wave = 2 * Math.PI / inv[i];
                        if (wave > lowWave) inv[i] /= s.Factor;                            // low frequencies: interpolate
                        else if (wave >= highWave)                                          // medium: blend
                        {
                            double smooth = (old / wave - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                            inv[i] = (1 - smooth) * inv[i] / s.Factor + smooth * inv[i];
                        }
                    }
                    return (inv, 1.0);
                }
            case RopeType.Yarn:
                {
                    double orig = s.OriginalContextLength!.Value;
                    double CorrectionDim(double rotations) => dim * Math.Log(orig / (rotations * 2 * Math.PI)) / (2 * Math.Log(theta));
                    double low = CorrectionDim(s.BetaFast), high = CorrectionDim(s.BetaSlow);
                    if (s.Truncate) { low = Math.Floor(low); high = Math.Ceiling(high); }
                    low = Math.Max(low, 0); high = Math.Min(high, dim - 1);
                    if (low == high) high += 0.001;                                         // no singularity
                    for (int i = 0; i < half; i++)
                    {
                        double extrapolation = 1 - Math.Clamp((i - low) / (high - low), 0, 1);
                        inv[i] = inv[i] / s.Factor * (1 - extrapolation) + inv[i] * extrapolation;
                    }
                    return (inv, s.AttentionFactor ?? DefaultYarnAttentionFactor(s));
                }
            default:
                return (inv, 1.0);
        }
    }

    /// <summary>YaRN's mscale: 0.1·m·ln(scale) + 1 for scale &gt; 1, else 1 (DeepSeek also scales its softmax by this).</summary>
    public static double YarnMscale(double scale, double m = 1.0) => scale <= 1 ? 1.0 : 0.1 * m * Math.Log(scale) + 1.0;

    private static double DefaultYarnAttentionFactor(RopeScaling s) =>
        s.Mscale is { } m && m != 0 && s.MscaleAllDim is { } a && a != 0
            ? YarnMscale(s.Factor, m) / YarnMscale(s.Factor, a)
            : YarnMscale(s.Factor);
}
