using SharpTransformer.Tensors;

namespace SharpTransformer.IO.HuggingFace;

/// <summary>How a Hugging Face tensor sits in one of our parameters.</summary>
public enum HfLayout
{
    /// <summary>Same shape and order.</summary>
    Same,
    /// <summary>A 2-D tensor stored transposed (GPT-2's Conv1D keeps weights [in, out]; we keep (out, in)).</summary>
    Transposed,
    /// <summary>A block of rows of our parameter (q, k, v projections fused into one qkv weight).</summary>
    Rows,
}

/// <summary>One Hugging Face tensor name bound to (part of) one of our parameters.</summary>
/// <param name="HfName">The checkpoint's name, without any optional prefix.</param>
/// <param name="Target">Our parameter.</param>
/// <param name="Layout">How the values map.</param>
/// <param name="RowStart">First row of the block (for <see cref="HfLayout.Rows"/>).</param>
/// <param name="RowCount">Rows in the block (for <see cref="HfLayout.Rows"/>).</param>
public sealed record HfBinding(string HfName, Tensor Target, HfLayout Layout = HfLayout.Same, int RowStart = 0, int RowCount = 0)
{
    /// <summary>The shape the checkpoint stores.</summary>
    public int[] HfShape => Layout switch
    {
        HfLayout.Transposed => [Target.Size(1), Target.Size(0)],
        HfLayout.Rows => [RowCount, .. Target.Shape[1..].ToArray()],
        _ => Target.Shape.ToArray(),
    };

    /// <summary>The view of <paramref name="t"/> (the target or its gradient) that holds this tensor, in the checkpoint's shape.</summary>
    public Tensor ViewOf(Tensor t) => Layout switch
    {
        HfLayout.Transposed => t.Detach().Transpose(0, 1),
        HfLayout.Rows => t.Detach().Narrow(0, RowStart, RowCount),
        _ => t.Detach(),
    };
}
