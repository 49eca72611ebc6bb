using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>A lookup table of vectors indexed by Int32 ids; initialised N(0, std).</summary>
public sealed class Embedding : Module
{
    /// <summary>Creates the table.</summary>
    public Embedding(int count, int dim, Generator? generator = null, float std = 1f)
    {
        if (count <= 0 || dim <= 0) throw new ArgumentOutOfRangeException(nameof(count), $"Embedding: sizes must be positive, got {count}×{dim}.");
        Weight = RegisterParameter("weight", Tensor.RandN([count, dim], generator ?? new Generator(0), 0f, std));
    }

    /// <summary>(count, dim)</summary>
    public Tensor Weight { get; }

    /// <summary>Int32 ids (...) → (..., dim)</summary>
    public Tensor Forward(Tensor ids) => Functional.Embedding(ids, Weight);
}
