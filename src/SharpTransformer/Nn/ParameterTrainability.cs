using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Freezing one parameter, as PyTorch's <c>parameter.requires_grad_(False)</c>; see <see cref="Module.Freeze()"/> for modules.</summary>
public static class ParameterTrainability
{
    /// <summary>
    /// Freezes <paramref name="parameter"/> (<c>RequiresGrad = false</c>): backward gives it no gradient and the optimizers skip it.
    /// </summary>
    public static Tensor Freeze(this Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.RequiresGrad = false;
        return parameter;
    }

    /// <summary>Makes <paramref name="parameter"/> trainable again (<c>RequiresGrad = true</c>; Float32 leaves only).</summary>
    public static Tensor Unfreeze(this Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.RequiresGrad = true;
        return parameter;
    }
}
