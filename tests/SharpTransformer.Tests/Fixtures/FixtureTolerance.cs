namespace SharpTransformer.Tests.Fixtures;

/// <summary>How close a fixture output must be: |PyTorch - ours| &lt;= <paramref name="Absolute"/> + <paramref name="OfScale"/> times the
/// largest |value| of that output.</summary>
/// <param name="Absolute">The absolute part (the README's 1e-4 for fp32).</param>
/// <param name="OfScale">The part relative to the output's scale (0 for F32 weights).</param>
internal sealed record FixtureTolerance(double Absolute, double OfScale)
{
    /// <summary>The bound for an output whose largest |value| is <paramref name="scale"/>.</summary>
    public double Bound(double scale) => Absolute + OfScale * scale;
}
