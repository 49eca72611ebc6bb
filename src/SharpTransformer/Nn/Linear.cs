using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// y = x Wᵀ + b with W stored (out, in) as nn.Linear; initialised U(-1/√in, 1/√in) as PyTorch. The dense <see cref="ILinear"/>:
/// one fused GEMM whose weight gradient goes straight into the parameter's buffer.
/// </summary>
public sealed class Linear : Module, ILinear
{
    /// <summary>Creates the layer.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true, Generator? generator = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: features must be positive, got in={inFeatures}, out={outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        var g = generator ?? new Generator(0);
        float bound = 1f / MathF.Sqrt(inFeatures);
        Weight = RegisterParameter("weight", Tensor.Rand([outFeatures, inFeatures], g, -bound, bound));
        if (bias) Bias = RegisterParameter("bias", Tensor.Rand([outFeatures], g, -bound, bound));
    }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }
    /// <summary>Output features.</summary>
    public int OutFeatures { get; }
    /// <summary>(out, in)</summary>
    public Tensor Weight { get; }
    /// <summary>(out) or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>(..., in) → (..., out)</summary>
    public Tensor Forward(Tensor x) => Tensor.Linear(x, Weight, Bias);
}
