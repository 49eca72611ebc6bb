using SharpTransformer.Tensors;

namespace SharpTransformer.Autograd;

/// <summary>
/// What one application of a <see cref="CustomFunction"/> passes from its forward to its backward (as ctx in PyTorch's
/// <c>torch.autograd.Function</c>): the inputs, tensors saved for the backward, which inputs need a gradient, and any
/// other value the backward needs in <see cref="State"/>.
/// </summary>
public sealed class FunctionContext
{
    private readonly bool[] _nonDifferentiable;
    private readonly bool _recording;
    private Tensor[] _saved = [];

    internal FunctionContext(string name, Tensor[] inputs, bool recording)
    {
        Name = name;
        Inputs = inputs;
        _recording = recording;
        _nonDifferentiable = new bool[inputs.Length];
    }

    /// <summary>The function's name (as it appears in graph errors).</summary>
    public string Name { get; }

    /// <summary>The inputs of this application, in order.</summary>
    public IReadOnlyList<Tensor> Inputs { get; }

    /// <summary>Tensors saved by <see cref="SaveForBackward"/>, in the order they were saved.</summary>
    public IReadOnlyList<Tensor> SavedTensors => _saved;

    /// <summary>Any other value the backward needs (sizes, index arrays, options).</summary>
    public object? State { get; set; }

    /// <summary>
    /// Keeps tensors computed in the forward for the backward. Under <see cref="GradMode.NoGrad"/> (or when no input needs a
    /// gradient) nothing is kept, as no backward can run.
    /// </summary>
    public void SaveForBackward(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (!_recording) return;
        foreach (var t in tensors)
            if (t is null) throw new ArgumentNullException(nameof(tensors), $"CustomFunction '{Name}': SaveForBackward got a null tensor.");
        _saved = [.. _saved, .. tensors];
    }

    /// <summary>
    /// Declares that input <paramref name="index"/> gets no gradient from this function, even when it requires one (routing
    /// decisions, indices stored as floats). Call it in the forward; the backward may return anything for it, which is ignored.
    /// </summary>
    public void MarkNonDifferentiable(int index)
    {
        CheckIndex(index, nameof(MarkNonDifferentiable));
        _nonDifferentiable[index] = true;
    }

    /// <summary>True when the backward must compute the gradient of input <paramref name="index"/>.</summary>
    public bool NeedsInputGrad(int index)
    {
        CheckIndex(index, nameof(NeedsInputGrad));
        return _recording && !_nonDifferentiable[index] && Inputs[index].RequiresGrad;
    }

    internal bool AnyInputNeedsGrad()
    {
        for (int i = 0; i < Inputs.Count; i++) if (NeedsInputGrad(i)) return true;
        return false;
    }

    private void CheckIndex(int index, string op)
    {
        if ((uint)index >= (uint)Inputs.Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"CustomFunction '{Name}': {op} index {index} is outside the {Inputs.Count} inputs.");
    }
}
