namespace SharpTransformer.IO.HuggingFace;

/// <summary>Named tensors from a checkpoint (a safetensors file, a dictionary in tests).</summary>
public interface ITensorSource
{
    /// <summary>Every tensor name.</summary>
    IReadOnlyCollection<string> Names { get; }
    /// <summary>The shape of a tensor.</summary>
    int[] ShapeOf(string name);
    /// <summary>The values of a tensor as float32, row-major.</summary>
    float[] ReadFloats(string name);
}

/// <summary>An in-memory <see cref="ITensorSource"/>.</summary>
public sealed class DictionaryTensorSource : ITensorSource
{
    private readonly Dictionary<string, (int[] Shape, float[] Data)> _tensors;

    /// <summary>Wraps a dictionary of shapes and values.</summary>
    public DictionaryTensorSource(Dictionary<string, (int[] Shape, float[] Data)> tensors) => _tensors = tensors;

    /// <inheritdoc/>
    public IReadOnlyCollection<string> Names => _tensors.Keys;
    /// <inheritdoc/>
    public int[] ShapeOf(string name) => _tensors[name].Shape;
    /// <inheritdoc/>
    public float[] ReadFloats(string name) => _tensors[name].Data;
}
