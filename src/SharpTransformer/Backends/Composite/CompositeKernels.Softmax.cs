using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary><see cref="IBackend.Softmax"/> from primitives: y = exp(x - max) / sum, or (x - max) - log(sum) with <paramref name="log"/>.</summary>
    public static void Softmax(IBackend b, IStorage x, int rows, int cols, IStorage y, bool log)
    {
        if (rows == 0 || cols == 0) return;
        using var t = new Scratch(b);
        var m = C(rows, cols);
        var max = t.F(rows);
        b.Reduce(ReduceOp.Max, x, m, 1, max);                               // (rows, 1)
        b.Binary(BinaryOp.Sub, x, m, max, PerRow(rows, cols), y);          // x - max
        var e = t.F(rows * cols);
        b.Unary(UnaryOp.Exp, y, m, e);
        var sum = t.F(rows);
        b.Reduce(ReduceOp.Sum, e, m, 1, sum);
        if (log)
        {
            var logSum = t.F(rows);
            b.Unary(UnaryOp.Log, sum, C(rows), logSum);
            b.Binary(BinaryOp.Sub, y, m, logSum, PerRow(rows, cols), y);
        }
        else b.Binary(BinaryOp.Div, e, m, sum, PerRow(rows, cols), y);
    }

    /// <summary><see cref="IBackend.SoftmaxBackward"/> from primitives: dx = y (dy - sum(dy y)), or dy - exp(y) sum(dy) with <paramref name="log"/>.</summary>
    public static void SoftmaxBackward(IBackend b, IStorage y, IStorage dy, int rows, int cols, IStorage dx, bool log)
    {
        if (rows == 0 || cols == 0) return;
        using var t = new Scratch(b);
        var m = C(rows, cols);
        var s = t.F(rows);
        var tmp = t.F(rows * cols);
        if (log)
        {
            b.Reduce(ReduceOp.Sum, dy, m, 1, s);                            // sum(dy)
            b.Unary(UnaryOp.Exp, y, m, tmp);                                 // softmax
            b.Binary(BinaryOp.Mul, tmp, m, s, PerRow(rows, cols), tmp);
            b.Binary(BinaryOp.Sub, dy, m, tmp, m, dx);
        }
        else
        {
            b.Binary(BinaryOp.Mul, dy, m, y, m, tmp);
            b.Reduce(ReduceOp.Sum, tmp, m, 1, s);                           // sum(dy y)
            b.Binary(BinaryOp.Sub, dy, m, s, PerRow(rows, cols), tmp);
            b.Binary(BinaryOp.Mul, tmp, m, y, m, dx);
        }
    }
}
