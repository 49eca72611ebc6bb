using SharpTransformer.Tensors;

namespace SharpTransformer.Autograd;

/// <summary>
/// A differentiable op defined outside the library, as PyTorch's <c>torch.autograd.Function</c>: a forward that computes the
/// output from the inputs (with tensor ops, or with backend kernels on raw storages), and a backward that returns the gradient
/// of each input from the gradient of the output. Derive from it and call <see cref="Apply(Tensor[])"/>, or pass two lambdas to
/// <see cref="Apply(string, IReadOnlyList{Tensor}, Func{FunctionContext, Tensor}, Func{FunctionContext, Tensor, Tensor?[]})"/>.
/// <para>
/// The forward runs under <see cref="GradMode.NoGrad"/>: the ops inside it record nothing, and the function's own backward stands
/// for them. The output records the backward only when gradients are on and some input needs one; otherwise no graph is kept.
/// The backward runs once per <see cref="Tensor.Backward"/> (no higher-order gradients) and returns one entry per input: a
/// gradient of the input's shape, or null for an input without one (Int32 inputs, inputs that do not require gradients, inputs
/// marked with <see cref="FunctionContext.MarkNonDifferentiable"/>). A wrong count or a wrongly shaped gradient throws an
/// <see cref="InvalidOperationException"/> that names the function, the input and the shapes.
/// </para>
/// </summary>
public abstract class CustomFunction
{
    /// <summary>Creates a function with the name used in errors and in <see cref="Node.Op"/>.</summary>
    protected CustomFunction(string name)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("CustomFunction: the name must not be empty.", nameof(name));
        Name = name;
    }

    /// <summary>The function's name.</summary>
    public string Name { get; }

    /// <summary>Computes the output (runs under <see cref="GradMode.NoGrad"/>). Save what the backward needs in <paramref name="ctx"/>.</summary>
    protected abstract Tensor Forward(FunctionContext ctx, IReadOnlyList<Tensor> inputs);

    /// <summary>
    /// The gradient of each input given the gradient of the output (<paramref name="gradOutput"/> has the output's shape):
    /// one entry per input, null where <see cref="FunctionContext.NeedsInputGrad"/> is false or the input has no gradient.
    /// </summary>
    protected abstract Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput);

    /// <summary>Applies the function to <paramref name="inputs"/> and records its backward when a gradient is needed.</summary>
    public Tensor Apply(params Tensor[] inputs) => Run(Name, inputs, ctx => Forward(ctx, ctx.Inputs), Backward);

    /// <summary>
    /// Applies a function given as two lambdas: <paramref name="forward"/> reads the inputs from <see cref="FunctionContext.Inputs"/>,
    /// <paramref name="backward"/> returns one gradient (or null) per input.
    /// </summary>
    public static Tensor Apply(string name, IReadOnlyList<Tensor> inputs, Func<FunctionContext, Tensor> forward,
        Func<FunctionContext, Tensor, Tensor?[]> backward)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ArgumentException("CustomFunction: the name must not be empty.", nameof(name));
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(backward);
        return Run(name, inputs, forward, backward);
    }

    private static Tensor Run(string name, IReadOnlyList<Tensor> inputs, Func<FunctionContext, Tensor> forward,
        Func<FunctionContext, Tensor, Tensor?[]> backward)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var ins = inputs.ToArray();
        for (int i = 0; i < ins.Length; i++)
            if (ins[i] is null) throw new ArgumentNullException(nameof(inputs), $"CustomFunction '{name}': input {i} is null.");
        var ctx = new FunctionContext(name, ins, GradMode.IsEnabled);
        Tensor result;
        using (GradMode.NoGrad())
            result = forward(ctx) ?? throw new InvalidOperationException($"CustomFunction '{name}': Forward returned null.");
        // A fresh tensor over the result's memory: the forward may return one of its inputs (or a view of one), whose
        // own graph node must stay as it is.
        var y = result.Detach();
        if (!ctx.AnyInputNeedsGrad()) return y;
        var outShape = y.Shape.ToArray();
        return y.Record(name, ins, g => CheckedBackward(ctx, backward, g, outShape));
    }

    private static Tensor?[] CheckedBackward(FunctionContext ctx, Func<FunctionContext, Tensor, Tensor?[]> backward, Tensor grad, int[] outShape)
    {
        var name = ctx.Name;
        var grads = backward(ctx, grad) ?? throw new InvalidOperationException($"CustomFunction '{name}': Backward returned null; " +
            $"return an array with one gradient (or null) for each of the {ctx.Inputs.Count} inputs.");
        if (grads.Length != ctx.Inputs.Count)
            throw new InvalidOperationException($"CustomFunction '{name}': Backward returned {grads.Length} gradients for {ctx.Inputs.Count} inputs " +
                $"(output gradient {Layout.Format(outShape)}); return one per input, null where an input has none.");
        var result = new Tensor?[grads.Length];
        for (int i = 0; i < grads.Length; i++)
        {
            var g = grads[i];
            if (g is null || !ctx.NeedsInputGrad(i)) continue;
            var input = ctx.Inputs[i];
            if (!g.Shape.SequenceEqual(input.Shape))
                throw new InvalidOperationException($"CustomFunction '{name}': Backward returned a gradient of shape {g.ShapeString} for input {i} " +
                    $"of shape {input.ShapeString} (output gradient {Layout.Format(outShape)}).");
            if (g.DType != DType.Float32)
                throw new InvalidOperationException($"CustomFunction '{name}': the gradient of input {i} is {g.DType}, not Float32.");
            if (!ReferenceEquals(g.Backend, input.Backend))
                throw new InvalidOperationException($"CustomFunction '{name}': the gradient of input {i} is on backend '{g.Backend.Name}', " +
                    $"the input on '{input.Backend.Name}'.");
            result[i] = g;
        }
        return result;
    }
}
