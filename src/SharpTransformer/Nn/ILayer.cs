using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// A module that maps one tensor to one tensor (norms, linears, dropout, feed-forwards). Slots typed <see cref="ILayer"/> (the
/// norms of a block) accept any such module as a replacement.
/// </summary>
public interface ILayer
{
    /// <summary>(..., in) → (..., out)</summary>
    Tensor Forward(Tensor x);
}
