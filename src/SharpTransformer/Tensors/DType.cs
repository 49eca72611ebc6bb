namespace SharpTransformer.Tensors;

/// <summary>Element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: activations, parameters, gradients.</summary>
    Float32,
    /// <summary>32-bit signed integer: token ids, indices, labels.</summary>
    Int32,
}
