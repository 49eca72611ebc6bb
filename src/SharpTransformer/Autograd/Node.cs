using SharpTransformer.Tensors;

namespace SharpTransformer.Autograd;

/// <summary>
/// One recorded op: its inputs and a function from the output's gradient to the inputs' gradients
/// (null for an input that needs none). Freed after a backward pass unless the graph is retained.
/// </summary>
public sealed class Node
{
    private Func<Tensor, Tensor?[]>? _backward;

    internal Node(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        Op = op;
        Inputs = inputs;
        _backward = backward;
    }

    /// <summary>Name of the op that produced the tensor.</summary>
    public string Op { get; }

    /// <summary>The op's tensor inputs.</summary>
    public Tensor[] Inputs { get; private set; }

    /// <summary>True once a backward pass released the saved tensors.</summary>
    public bool IsFreed => _backward is null;

    internal Tensor?[] Apply(Tensor grad)
    {
        var f = _backward ?? throw new InvalidOperationException(
            $"Backward through '{Op}': its graph was already freed by an earlier Backward(). Call Backward(retainGraph: true) the first time to go through it twice.");
        return f(grad);
    }

    internal void Free()
    {
        _backward = null;
        Inputs = [];
    }
}
