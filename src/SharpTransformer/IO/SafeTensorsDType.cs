namespace SharpTransformer.IO;

/// <summary>Element types of the safetensors format.</summary>
public enum SafeTensorsDType
{
    /// <summary>32-bit float.</summary>
    F32,
    /// <summary>IEEE half.</summary>
    F16,
    /// <summary>bfloat16 (the upper half of a float32).</summary>
    BF16,
    /// <summary>64-bit float.</summary>
    F64,
    /// <summary>64-bit integer.</summary>
    I64,
    /// <summary>32-bit integer.</summary>
    I32,
    /// <summary>16-bit integer.</summary>
    I16,
    /// <summary>8-bit integer.</summary>
    I8,
    /// <summary>8-bit unsigned integer.</summary>
    U8,
    /// <summary>Boolean byte.</summary>
    BOOL,
}
