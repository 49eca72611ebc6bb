namespace SharpTransformer.Peft;

/// <summary>The nonlinearity between a bottleneck adapter's down- and up-projection (AdapterHub's <c>non_linearity</c>).</summary>
public enum AdapterNonLinearity
{
    /// <summary>max(0, x): AdapterHub's "relu" (Pfeiffer's default).</summary>
    Relu,
    /// <summary>The exact GELU: "gelu".</summary>
    Gelu,
    /// <summary>x · sigmoid(x): "swish" (Houlsby's default in AdapterHub).</summary>
    Swish,
}
