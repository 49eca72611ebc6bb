using SharpTransformer.Backends;

namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    private Tensor ReduceCore(ReduceOp op, int dim, bool keepDim, string name)
    {
        RequireFloat(name);
        int d = NormDim(dim, name);
        var outShape = Shape.ToArray();
        outShape[d] = 1;
        var y = Empty(Backend, op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32, outShape);
        Backend.Reduce(op, Storage, Layout, d, y.Storage);
        if (!keepDim)
        {
            var sq = outShape.ToList();
            sq.RemoveAt(d);
            y = new Tensor(y.Storage, Layout.Contiguous([.. sq]));
        }
        return y;
    }

    /// <summary>Sum over all elements (rank-0 result).</summary>
    public Tensor Sum() => Reshape(-1).Sum(0, keepDim: false);

    /// <summary>Sum along <paramref name="dim"/>.</summary>
    public Tensor Sum(int dim, bool keepDim = false)
    {
        var y = ReduceCore(ReduceOp.Sum, dim, keepDim, "sum");
        int d = NormDim(dim, "sum");
        var inShape = Shape.ToArray();
        return y.Record("sum", [this], g => [(keepDim ? g : g.Unsqueeze(d)).Expand(inShape)]);
    }

    /// <summary>Sum along several dimensions.</summary>
    public Tensor Sum(int[] dims, bool keepDim = false)
    {
        var ds = dims.Select(x => NormDim(x, "sum")).Distinct().OrderByDescending(x => x).ToArray();
        var t = this;
        foreach (var d in ds) t = t.Sum(d, keepDim);
        return t;
    }

    /// <summary>Mean over all elements (rank-0 result).</summary>
    public Tensor Mean() => Sum().Mul(1f / Math.Max(1, Count));

    /// <summary>Mean along <paramref name="dim"/>.</summary>
    public Tensor Mean(int dim, bool keepDim = false) => Sum(dim, keepDim).Mul(1f / Size(dim));

    /// <summary>Mean along several dimensions.</summary>
    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        int n = 1;
        foreach (var d in dims.Select(x => NormDim(x, "mean")).Distinct()) n *= Size(d);
        return Sum(dims, keepDim).Mul(1f / n);
    }

    /// <summary>Largest value along <paramref name="dim"/> (as torch.amax: tied maxima share the gradient evenly).</summary>
    public Tensor Max(int dim, bool keepDim = false) => Extremum(ReduceOp.Max, dim, keepDim, "max");

    /// <summary>Smallest value along <paramref name="dim"/> (tied minima share the gradient evenly).</summary>
    public Tensor Min(int dim, bool keepDim = false) => Extremum(ReduceOp.Min, dim, keepDim, "min");

    /// <summary>Largest value of all elements (rank-0 result).</summary>
    public Tensor Max() => Reshape(-1).Max(0);

    private Tensor Extremum(ReduceOp op, int dim, bool keepDim, string name)
    {
        if (Size(dim) == 0) throw new ArgumentException($"{name}: dimension {dim} of {ShapeString} is empty.");
        var yk = ReduceCore(op, dim, keepDim: true, name);
        int d = NormDim(dim, name);
        var x = this;
        var y = keepDim ? yk : new Tensor(yk.Storage, Layout.Contiguous([.. Shape.ToArray().Where((_, i) => i != d)]));
        return y.Record(name, [this], g =>
        {
            var mask = x.Equal(yk);                       // 1 at the extremum (ties included)
            var count = mask.Sum(d, keepDim: true);
            var gk = keepDim ? g : g.Unsqueeze(d);
            return [mask.Mul(gk.Div(count))];
        });
    }

    /// <summary>Index of the largest value along <paramref name="dim"/> (Int32, no gradient).</summary>
    public Tensor ArgMax(int dim = -1, bool keepDim = false) => ReduceCore(ReduceOp.ArgMax, dim, keepDim, "argmax");

    /// <summary>Variance along <paramref name="dim"/>; unbiased (n-1) by default, as torch.var.</summary>
    public Tensor Var(int dim, bool unbiased = true, bool keepDim = false)
    {
        int n = Size(dim);
        if (unbiased && n < 2) throw new ArgumentException($"var: unbiased variance needs at least 2 elements along dimension {dim} of {ShapeString}.");
        var mu = Mean(dim, keepDim: true);
        var dev = Sub(mu);
        return dev.Square().Sum(dim, keepDim).Mul(1f / (unbiased ? n - 1 : n));
    }
}
