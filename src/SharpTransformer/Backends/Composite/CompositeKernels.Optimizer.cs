using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary>
    /// <see cref="IBackend.AdamW"/> from primitives, the same update as torch.optim.AdamW: m = b1 m + (1 - b1) g,
    /// v = b2 v + (1 - b2) g², p = p (1 - lr wd) - lr / bc1 · m / (sqrt(v) / sqrt(bc2) + eps).
    /// </summary>
    public static void AdamW(IBackend b, IStorage param, IStorage grad, IStorage m, IStorage v, int n, in AdamWArgs args)
    {
        if (n == 0) return;
        float bc1 = 1f - MathF.Pow(args.Beta1, args.Step);
        float bc2 = 1f - MathF.Pow(args.Beta2, args.Step);
        float stepSize = args.LearningRate / bc1;
        float decay = 1f - args.LearningRate * args.WeightDecay;
        using var s = new Scratch(b);
        var l = C(n);
        var t1 = s.F(n); var t2 = s.F(n); var t3 = s.F(n);
        b.Unary(UnaryOp.MulScalar, m, l, t1, args.Beta1);
        b.Unary(UnaryOp.MulScalar, grad, l, t2, 1f - args.Beta1);
        b.Binary(BinaryOp.Add, t1, l, t2, l, m);                             // m
        b.Unary(UnaryOp.Square, grad, l, t3);
        b.Unary(UnaryOp.MulScalar, t3, l, t2, 1f - args.Beta2);
        b.Unary(UnaryOp.MulScalar, v, l, t1, args.Beta2);
        b.Binary(BinaryOp.Add, t1, l, t2, l, v);                             // v
        b.Unary(UnaryOp.Sqrt, v, l, t1);
        b.Unary(UnaryOp.MulScalar, t1, l, t2, 1f / MathF.Sqrt(bc2));
        b.Unary(UnaryOp.AddScalar, t2, l, t1, args.Epsilon);                 // sqrt(v) / sqrt(bc2) + eps
        b.Binary(BinaryOp.Div, m, l, t1, l, t2);
        b.Unary(UnaryOp.MulScalar, t2, l, t3, stepSize);                     // the step
        b.Unary(UnaryOp.MulScalar, param, l, t1, decay);
        b.Binary(BinaryOp.Sub, t1, l, t3, l, param);
    }

    /// <summary><see cref="IBackend.SumSquares"/> from primitives: acc[0] += Σ x².</summary>
    public static void SumSquares(IBackend b, IStorage x, int n, IStorage acc)
    {
        if (n == 0) return;
        using var s = new Scratch(b);
        var sq = s.F(n);
        b.Unary(UnaryOp.Square, x, C(n), sq);
        var sum = s.F(1);
        b.Reduce(ReduceOp.Sum, sq, C(n), 0, sum);
        b.Binary(BinaryOp.Add, acc, C(1), sum, C(1), acc);
    }
}
