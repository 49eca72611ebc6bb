namespace SharpTransformer.Peft;

/// <summary>
/// The settings of one bottleneck adapter (Houlsby et al., 2019), named as AdapterHub's <c>BnConfig</c>: after the attention
/// output projection (<paramref name="MhAdapter"/>) and/or after the feed-forward's output projection
/// (<paramref name="OutputAdapter"/>) of every block, h ↦ h + scaling · up(act(down(h))) with a bottleneck of
/// hidden / <paramref name="ReductionFactor"/> features (at least 1).
/// </summary>
/// <param name="ReductionFactor">Width of the model divided by the bottleneck width (&gt; 0).</param>
/// <param name="NonLinearity">The nonlinearity between the projections.</param>
/// <param name="MhAdapter">An adapter after each attention output projection.</param>
/// <param name="OutputAdapter">An adapter after each feed-forward output projection.</param>
/// <param name="Scaling">Factor of the adapter's output before the residual (AdapterHub's <c>scaling</c>, 1 by default).</param>
public sealed record BottleneckConfig(
    int ReductionFactor = 16,
    AdapterNonLinearity NonLinearity = AdapterNonLinearity.Swish,
    bool MhAdapter = true,
    bool OutputAdapter = true,
    float Scaling = 1f)
{
    /// <summary>Houlsby et al.: after attention and after the feed-forward, reduction 16, swish (AdapterHub's <c>DoubleSeqBnConfig</c>).</summary>
    public static BottleneckConfig Houlsby { get; } = new();

    /// <summary>Pfeiffer et al.: after the feed-forward only, reduction 16, ReLU (AdapterHub's <c>SeqBnConfig</c>).</summary>
    public static BottleneckConfig Pfeiffer { get; } = new(16, AdapterNonLinearity.Relu, MhAdapter: false, OutputAdapter: true);

    /// <summary>The bottleneck width for a model of <paramref name="hidden"/> features: hidden / reduction factor, at least 1.</summary>
    public int BottleneckSize(int hidden) => Math.Max(1, hidden / ReductionFactor);

    /// <summary>Throws naming the bad field when the settings are out of range.</summary>
    public void Validate()
    {
        if (ReductionFactor <= 0) throw new ArgumentException($"BottleneckConfig: ReductionFactor must be positive, got {ReductionFactor}.", nameof(ReductionFactor));
        if (!MhAdapter && !OutputAdapter)
            throw new ArgumentException("BottleneckConfig: MhAdapter and OutputAdapter are both false; an adapter needs at least one place.", nameof(MhAdapter));
        if (!float.IsFinite(Scaling) || Scaling == 0f) throw new ArgumentException($"BottleneckConfig: Scaling must be finite and non-zero, got {Scaling}.", nameof(Scaling));
        if (!Enum.IsDefined(NonLinearity)) throw new ArgumentException($"BottleneckConfig: NonLinearity {(int)NonLinearity} is not defined.", nameof(NonLinearity));
    }
}
