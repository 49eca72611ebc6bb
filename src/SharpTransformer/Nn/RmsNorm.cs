using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>RMS normalisation (Llama) over the last dimension with a learned weight (ones).</summary>
public sealed class RmsNorm : Module, ILayer
{
    /// <summary>Creates the layer.</summary>
    public RmsNorm(int dim, float eps = 1e-6f)
    {
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
    }

    /// <summary>Added to the mean square.</summary>
    public float Eps { get; }
    /// <summary>(dim)</summary>
    public Tensor Weight { get; }

    /// <summary>(..., dim) → (..., dim)</summary>
    public Tensor Forward(Tensor x) => Functional.RmsNorm(x, Weight, Eps);
}
