namespace SharpTransformer.Nn;

/// <summary>How a per-element loss is reduced.</summary>
public enum Reduction
{
    /// <summary>Average over the elements that count (targets not ignored).</summary>
    Mean,
    /// <summary>Sum over the elements.</summary>
    Sum,
    /// <summary>One loss per element.</summary>
    None,
}
