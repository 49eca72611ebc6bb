using SharpTransformer.Autograd;
using SharpTransformer.Backends;

namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    internal static bool AnyRequiresGrad(Tensor a) => GradMode.IsEnabled && a.RequiresGrad;
    internal static bool AnyRequiresGrad(Tensor a, Tensor b) => GradMode.IsEnabled && (a.RequiresGrad || b.RequiresGrad);
    internal static bool AnyRequiresGrad(IReadOnlyList<Tensor?> ts)
    {
        if (!GradMode.IsEnabled) return false;
        foreach (var t in ts) if (t is not null && t.RequiresGrad) return true;
        return false;
    }

    /// <summary>Attaches a backward to this freshly computed output when any input requires gradients.</summary>
    internal Tensor Record(string op, Tensor[] inputs, Func<Tensor, Tensor?[]> backward)
    {
        if (!AnyRequiresGrad(inputs)) return this;
        GradFn = new Node(op, inputs, backward);
        _requiresGrad = true;
        return this;
    }

    /// <summary>A tensor over the same memory that is cut from the graph.</summary>
    public Tensor Detach() => new(Storage, Layout) { Name = Name };

    /// <summary>Sets the gradient to zero, keeping its memory for the next step.</summary>
    public void ZeroGrad()
    {
        if (_grad is { } g && !g.Storage.IsDisposed) _gradIsStale = true;   // zeroed lazily: the next write overwrites
        else Grad = null;
    }

    /// <summary>
    /// Back-propagates from this tensor. With no <paramref name="gradient"/> the tensor must hold one element (a loss),
    /// and a NaN or infinite loss throws. Gradients accumulate into the <see cref="Grad"/> of every leaf that requires them.
    /// The graph is freed afterwards unless <paramref name="retainGraph"/> is set.
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false)
    {
        if (!RequiresGrad)
            throw new InvalidOperationException($"Backward: tensor {ShapeString} does not require gradients (no parameter of the graph has RequiresGrad, or it was computed under GradMode.NoGrad()).");
        if (gradient is null)
        {
            if (Count != 1) throw new InvalidOperationException($"Backward: called without a gradient on a tensor of shape {ShapeString}; only one-element tensors (losses) may do that.");
            float v = Item();
            if (!float.IsFinite(v))
                throw new ArithmeticException($"Backward: the loss is {v} (produced by '{GradFn?.Op ?? "leaf"}'); refusing to propagate a non-finite loss.");
            gradient = FullLike(1f);
        }
        else CheckSameShape(gradient, "Backward");

        // Topological order by iterative DFS.
        var order = new List<Tensor>();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, bool Expanded)>();
        stack.Push((this, false));
        while (stack.Count > 0)
        {
            var (t, expanded) = stack.Pop();
            if (expanded) { order.Add(t); continue; }
            if (!seen.Add(t)) continue;
            stack.Push((t, true));
            if (t.GradFn is { } fn)
            {
                if (fn.IsFreed) fn.Apply(gradient); // throws the "graph freed" error
                foreach (var i in fn.Inputs)
                    if (i.RequiresGrad && !seen.Contains(i)) stack.Push((i, false));
            }
        }

        var grads = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance) { [this] = gradient };
        using (GradMode.NoGrad())
        {
            for (int n = order.Count - 1; n >= 0; n--)
            {
                var t = order[n];
                if (!grads.Remove(t, out var g)) continue;
                if (t.GradFn is null)
                {
                    if (t.RequiresGrad) t.AccumulateGrad(g);
                    continue;
                }
                var fn = t.GradFn;
                var inGrads = fn.Apply(g);
                for (int i = 0; i < fn.Inputs.Length; i++)
                {
                    var input = fn.Inputs[i];
                    var gi = inGrads[i];
                    if (gi is null || !input.RequiresGrad) continue;
                    if (!gi.Shape.SequenceEqual(input.Shape))
                        throw new InvalidOperationException($"Backward of '{fn.Op}': gradient {gi.ShapeString} does not match input {input.ShapeString} (a bug in that op's backward).");
                    grads[input] = grads.TryGetValue(input, out var prev) ? prev.Add(gi) : gi;
                }
            }
        }
        if (!retainGraph)
            foreach (var t in order) t.GradFn?.Free();
    }

    private void AccumulateGrad(Tensor g)
    {
        var dst = GradBuffer(out bool overwrite);
        if (overwrite) Backend.Copy(g.Storage, g.Layout, dst.Storage, dst.Layout);
        else Backend.Binary(BinaryOp.Add, dst.Storage, dst.Layout, g.Storage, g.Layout, dst.Storage);
    }

    /// <summary>Sums a broadcast gradient back down to <paramref name="shape"/>.</summary>
    internal static Tensor SumToShape(Tensor g, ReadOnlySpan<int> shape)
    {
        if (g.Shape.SequenceEqual(shape)) return g;
        int lead = g.Rank - shape.Length;
        var t = g;
        for (int d = 0; d < lead; d++) t = t.Sum(0, keepDim: false);
        for (int d = 0; d < shape.Length; d++)
            if (shape[d] == 1 && t.Size(d) != 1) t = t.Sum(d, keepDim: true);
        return t;
    }
}
