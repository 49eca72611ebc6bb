using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    /// <summary><see cref="IBackend.LayerNorm"/> from primitives.</summary>
    public static void LayerNorm(IBackend b, IStorage x, IStorage? weight, IStorage? bias, int rows, int cols, float eps,
        IStorage y, IStorage mean, IStorage rstd)
    {
        if (rows == 0 || cols == 0) return;
        using var t = new Scratch(b);
        var m = C(rows, cols);
        var r = C(rows);
        var sum = t.F(rows);
        b.Reduce(ReduceOp.Sum, x, m, 1, sum);
        b.Unary(UnaryOp.MulScalar, sum, r, mean, 1f / cols);                // mean
        var xc = t.F(rows * cols);
        b.Binary(BinaryOp.Sub, x, m, mean, PerRow(rows, cols), xc);        // x - mean
        var sq = t.F(rows * cols);
        b.Unary(UnaryOp.Square, xc, m, sq);
        b.Reduce(ReduceOp.Sum, sq, m, 1, sum);
        InverseRoot(b, t, sum, rows, 1f / cols, eps, rstd);                  // 1 / sqrt(var + eps)
        b.Binary(BinaryOp.Mul, xc, m, rstd, PerRow(rows, cols), y);
        if (weight is not null) b.Binary(BinaryOp.Mul, y, m, weight, PerCol(rows, cols), y);
        if (bias is not null) b.Binary(BinaryOp.Add, y, m, bias, PerCol(rows, cols), y);
    }

    /// <summary><see cref="IBackend.LayerNormBackward"/> from primitives: dx = rstd (g - mean(g) - x̂ mean(g x̂)) with g = dy w.</summary>
    public static void LayerNormBackward(IBackend b, IStorage x, IStorage? weight, IStorage mean, IStorage rstd, IStorage dy, int rows, int cols,
        IStorage dx, IStorage? dweight, IStorage? dbias)
    {
        if (cols == 0) return;
        var m = C(rows, cols);
        if (rows == 0)
        {
            if (dweight is not null) b.Fill(dweight, C(cols), 0f);
            if (dbias is not null) b.Fill(dbias, C(cols), 0f);
            return;
        }
        using var t = new Scratch(b);
        var xhat = t.F(rows * cols);
        b.Binary(BinaryOp.Sub, x, m, mean, PerRow(rows, cols), xhat);
        b.Binary(BinaryOp.Mul, xhat, m, rstd, PerRow(rows, cols), xhat);   // x̂
        NormBackwardCore(b, t, xhat, weight, rstd, dy, rows, cols, dx, dweight, centre: true);
        if (dbias is not null) b.Reduce(ReduceOp.Sum, dy, m, 0, dbias);
    }

    /// <summary><see cref="IBackend.RmsNorm"/> from primitives.</summary>
    public static void RmsNorm(IBackend b, IStorage x, IStorage? weight, int rows, int cols, float eps, IStorage y, IStorage rstd)
    {
        if (rows == 0 || cols == 0) return;
        using var t = new Scratch(b);
        var m = C(rows, cols);
        var sq = t.F(rows * cols);
        b.Unary(UnaryOp.Square, x, m, sq);
        var sum = t.F(rows);
        b.Reduce(ReduceOp.Sum, sq, m, 1, sum);
        InverseRoot(b, t, sum, rows, 1f / cols, eps, rstd);                  // 1 / sqrt(mean(x²) + eps)
        b.Binary(BinaryOp.Mul, x, m, rstd, PerRow(rows, cols), y);
        if (weight is not null) b.Binary(BinaryOp.Mul, y, m, weight, PerCol(rows, cols), y);
    }

    /// <summary><see cref="IBackend.RmsNormBackward"/> from primitives: dx = rstd (g - x̂ mean(g x̂)) with g = dy w.</summary>
    public static void RmsNormBackward(IBackend b, IStorage x, IStorage? weight, IStorage rstd, IStorage dy, int rows, int cols,
        IStorage dx, IStorage? dweight)
    {
        if (cols == 0) return;
        if (rows == 0)
        {
            if (dweight is not null) b.Fill(dweight, C(cols), 0f);
            return;
        }
        using var t = new Scratch(b);
        var xhat = t.F(rows * cols);
        b.Binary(BinaryOp.Mul, x, C(rows, cols), rstd, PerRow(rows, cols), xhat);   // x̂
        NormBackwardCore(b, t, xhat, weight, rstd, dy, rows, cols, dx, dweight, centre: false);
    }

    // y = 1 / sqrt(sum * scale + eps) for `rows` values.
    private static void InverseRoot(IBackend b, Scratch t, IStorage sum, int rows, float scale, float eps, IStorage y)
    {
        var r = C(rows);
        var a = t.F(rows);
        var c = t.F(rows);
        b.Unary(UnaryOp.MulScalar, sum, r, a, scale);
        b.Unary(UnaryOp.AddScalar, a, r, c, eps);
        b.Unary(UnaryOp.Sqrt, c, r, a);
        b.Unary(UnaryOp.Reciprocal, a, r, y);
    }

    // The shared part of both norm backwards, from x̂: dweight = Σ_rows dy x̂; g = dy w; dx = rstd (g [- mean(g)] - x̂ mean(g x̂)).
    private static void NormBackwardCore(IBackend b, Scratch t, IStorage xhat, IStorage? weight, IStorage rstd, IStorage dy,
        int rows, int cols, IStorage dx, IStorage? dweight, bool centre)
    {
        var m = C(rows, cols);
        var tmp = t.F(rows * cols);
        if (dweight is not null)
        {
            b.Binary(BinaryOp.Mul, dy, m, xhat, m, tmp);
            b.Reduce(ReduceOp.Sum, tmp, m, 0, dweight);                     // (1, cols)
        }
        var g = dy;
        if (weight is not null)
        {
            g = t.F(rows * cols);
            b.Binary(BinaryOp.Mul, dy, m, weight, PerCol(rows, cols), g);
        }
        var s = t.F(rows);
        var meanGx = t.F(rows);
        b.Binary(BinaryOp.Mul, g, m, xhat, m, tmp);
        b.Reduce(ReduceOp.Sum, tmp, m, 1, s);
        b.Unary(UnaryOp.MulScalar, s, C(rows), meanGx, 1f / cols);          // mean(g x̂)
        b.Binary(BinaryOp.Mul, xhat, m, meanGx, PerRow(rows, cols), tmp);
        var d = t.F(rows * cols);
        b.Binary(BinaryOp.Sub, g, m, tmp, m, d);                             // g - x̂ mean(g x̂)
        if (centre)
        {
            var meanG = t.F(rows);
            b.Reduce(ReduceOp.Sum, g, m, 1, s);
            b.Unary(UnaryOp.MulScalar, s, C(rows), meanG, 1f / cols);
            b.Binary(BinaryOp.Sub, d, m, meanG, PerRow(rows, cols), d);
        }
        b.Binary(BinaryOp.Mul, d, m, rstd, PerRow(rows, cols), dx);
    }
}
