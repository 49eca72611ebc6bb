using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary>
    /// <see cref="IBackend.CrossEntropy"/> from primitives: row loss = valid · (lse - (1 - e) x[target] - e mean(x)). The targets are
    /// read on the host once to reject those outside [0, classes) with the same error as the fused kernels.
    /// </summary>
    public static void CrossEntropy(IBackend b, IStorage logits, IStorage targets, int rows, int classes, int ignoreIndex, float labelSmoothing,
        IStorage rowLoss, IStorage lse, IStorage valid)
    {
        if (rows == 0) return;
        if (classes <= 0) throw new ArgumentException($"cross_entropy: classes must be positive, got {classes}.");
        var host = new int[rows];
        b.Download(targets, 0, host, 0, rows);
        for (int r = 0; r < rows; r++)
        {
            int tr = host[r];
            if (tr != ignoreIndex && (uint)tr >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(targets), tr, $"cross_entropy: target {tr} in row {r} is outside [0, {classes}) and is not the ignore index {ignoreIndex}.");
        }
        using var t = new Scratch(b);
        var m = C(rows, classes);
        var r1 = C(rows);
        var oneHot = OneHotAndValid(b, t, targets, rows, classes, ignoreIndex, valid);
        // lse = max + log(sum(exp(x - max)))
        var max = t.F(rows);
        b.Reduce(ReduceOp.Max, logits, m, 1, max);
        var e = t.F(rows * classes);
        b.Binary(BinaryOp.Sub, logits, m, max, PerRow(rows, classes), e);
        var ex = t.F(rows * classes);
        b.Unary(UnaryOp.Exp, e, m, ex);
        b.Reduce(ReduceOp.Sum, ex, m, 1, lse);
        var logSum = t.F(rows);
        b.Unary(UnaryOp.Log, lse, r1, logSum);
        b.Binary(BinaryOp.Add, logSum, r1, max, r1, lse);
        // The target term: (1 - e) x[target] + e mean(x).
        var picked = t.F(rows);
        b.Binary(BinaryOp.Mul, oneHot, m, logits, m, e);
        b.Reduce(ReduceOp.Sum, e, m, 1, picked);
        var target = t.F(rows);
        b.Unary(UnaryOp.MulScalar, picked, r1, target, 1f - labelSmoothing);
        if (labelSmoothing > 0f)
        {
            var sum = t.F(rows);
            b.Reduce(ReduceOp.Sum, logits, m, 1, sum);
            b.Unary(UnaryOp.MulScalar, sum, r1, picked, labelSmoothing / classes);
            b.Binary(BinaryOp.Add, target, r1, picked, r1, target);
        }
        var nll = t.F(rows);
        b.Binary(BinaryOp.Sub, lse, r1, target, r1, nll);
        b.Binary(BinaryOp.Mul, nll, r1, valid, r1, rowLoss);
    }

    /// <summary>
    /// <see cref="IBackend.CrossEntropyBackward"/> from primitives: dlogits = (softmax - target distribution) · scale[0] · dRowLoss[row] · valid.
    /// </summary>
    public static void CrossEntropyBackward(IBackend b, IStorage logits, IStorage targets, IStorage lse, IStorage dRowLoss, IStorage scale,
        int rows, int classes, int ignoreIndex, float labelSmoothing, IStorage dlogits)
    {
        if (rows == 0 || classes == 0) return;
        using var t = new Scratch(b);
        var m = C(rows, classes);
        var r1 = C(rows);
        var valid = t.F(rows);
        var oneHot = OneHotAndValid(b, t, targets, rows, classes, ignoreIndex, valid);
        var p = t.F(rows * classes);
        b.Binary(BinaryOp.Sub, logits, m, lse, PerRow(rows, classes), p);
        var sm = t.F(rows * classes);
        b.Unary(UnaryOp.Exp, p, m, sm);                                      // softmax
        var dist = t.F(rows * classes);
        b.Unary(UnaryOp.MulScalar, oneHot, m, p, 1f - labelSmoothing);
        b.Unary(UnaryOp.AddScalar, p, m, dist, labelSmoothing / classes);   // (1 - e) one-hot + e / classes
        b.Binary(BinaryOp.Sub, sm, m, dist, m, sm);
        var g = t.F(rows);
        b.Binary(BinaryOp.Mul, dRowLoss, r1, valid, r1, g);
        b.Binary(BinaryOp.Mul, g, r1, scale, Scalar(rows), g);
        b.Binary(BinaryOp.Mul, sm, m, g, PerRow(rows, classes), dlogits);
    }

    // Writes valid (1 where the target is not the ignore index) and returns the (rows, classes) one-hot of the targets.
    private static IStorage OneHotAndValid(IBackend b, Scratch t, IStorage targets, int rows, int classes, int ignoreIndex, IStorage valid)
    {
        var tf = t.F(rows);
        b.Copy(targets, C(rows), tf, C(rows));                               // Int32 -> Float32 (class ids are exact in float)
        var ids = t.F(classes);
        b.Arange(ids, classes);
        var oneHot = t.F(rows * classes);
        b.Binary(BinaryOp.Equal, tf, PerRow(rows, classes), ids, PerCol(rows, classes), oneHot);
        var ignored = t.F(rows);
        b.Binary(BinaryOp.Equal, tf, C(rows), t.Const(ignoreIndex), Scalar(rows), ignored);
        var neg = t.F(rows);
        b.Unary(UnaryOp.MulScalar, ignored, C(rows), neg, -1f);
        b.Unary(UnaryOp.AddScalar, neg, C(rows), valid, 1f);                 // 1 - ignored
        return oneHot;
    }
}
