using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>
/// The contract of a linear layer y = x Wᵀ + b, (..., in) → (..., out): what every module holding a linear types it as, so a
/// LoRA wrapper, a bottleneck adapter or a quantized weight can take its place (<see cref="Module.ReplaceModule"/>).
/// Implementations must be <see cref="Module"/>s. <see cref="Linear"/> is the dense implementation and keeps the fused path
/// (<see cref="Tensor.Linear"/>, weight gradients written straight into the parameter's buffer).
/// </summary>
public interface ILinear : ILayer
{
    /// <summary>Input features.</summary>
    int InFeatures { get; }

    /// <summary>Output features.</summary>
    int OutFeatures { get; }

    /// <summary>
    /// The dense (out, in) weight this layer applies, or that it wraps (a LoRA wrapper returns its base layer's); null when it
    /// holds none (a quantized layer).
    /// </summary>
    Tensor? Weight { get; }

    /// <summary>The (out) bias applied or wrapped, or null.</summary>
    Tensor? Bias { get; }
}

/// <summary>Helpers on <see cref="ILinear"/>.</summary>
public static class LinearExtensions
{
    /// <summary>The dense weight of <paramref name="linear"/>; throws naming <paramref name="what"/> when it has none (a quantized layer).</summary>
    public static Tensor RequireWeight(this ILinear linear, string what)
    {
        ArgumentNullException.ThrowIfNull(linear);
        return linear.Weight ?? throw new InvalidOperationException(
            $"{what}: the {linear.GetType().Name} there holds no dense weight ({linear.InFeatures} → {linear.OutFeatures}).");
    }
}
