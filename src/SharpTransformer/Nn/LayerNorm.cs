using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Layer normalisation over the last dimension with learned weight (ones) and optional bias (zeros).</summary>
public sealed class LayerNorm : Module, ILayer
{
    /// <summary>Creates the layer.</summary>
    public LayerNorm(int dim, float eps = 1e-5f, bool bias = true)
    {
        Eps = eps;
        Weight = RegisterParameter("weight", Tensor.Ones(dim));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(dim));
    }

    /// <summary>Added to the variance.</summary>
    public float Eps { get; }
    /// <summary>(dim)</summary>
    public Tensor Weight { get; }
    /// <summary>(dim) or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>(..., dim) → (..., dim)</summary>
    public Tensor Forward(Tensor x) => Functional.LayerNorm(x, Weight, Bias, Eps);
}
