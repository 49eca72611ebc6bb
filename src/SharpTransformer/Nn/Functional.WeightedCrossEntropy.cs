using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

public static partial class Functional
{
    /// <summary>
    /// Class-weighted cross-entropy between logits (..., C) and Int32 class targets (...), with PyTorch's semantics
    /// (<c>F.cross_entropy(..., weight=w)</c>): each row's loss is scaled by <c>w[y]</c>, and <see cref="Reduction.Mean"/>
    /// divides by <c>Σ w[y]</c> over the rows that count (not by their number), so the mean is a weighted mean.
    /// With label smoothing ε, a row's loss is <c>(1−ε)·w[y]·(−log p_y) + ε/C·Σ_c w[c]·(−log p_c)</c>, still divided
    /// by <c>Σ w[y]</c>, as PyTorch does. <see cref="Reduction.None"/> returns the weighted per-element losses (0 where ignored).
    /// Use inverse class frequencies as weights to counter class imbalance. The weights are constants (no gradient).
    /// </summary>
    /// <param name="logits">(..., C) scores.</param>
    /// <param name="targets">(...) Int32 class ids.</param>
    /// <param name="weight">(C) Float32 weight of each class; null for the unweighted loss.</param>
    /// <param name="ignoreIndex">Targets equal to this do not count.</param>
    /// <param name="labelSmoothing">In [0, 1].</param>
    /// <param name="reduction">How to reduce.</param>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, Tensor? weight, int ignoreIndex = -100, float labelSmoothing = 0f,
        Reduction reduction = Reduction.Mean)
    {
        if (weight is null) return CrossEntropy(logits, targets, ignoreIndex, labelSmoothing, reduction);
        var (classes, rows) = CheckCrossEntropy(logits, targets, weight, labelSmoothing);
        if (weight.Rank != 1 || weight.Size(0) != classes)
            throw new ArgumentException($"cross_entropy: weight {weight.ShapeString} must be ({classes}), one per class of logits {logits.ShapeString}.");

        var w = weight.ToArray();
        var y = targets.ToIntArray();
        var pick = new float[rows * classes];   // w[y] at (row, y): selects and weights -log p_y
        var valid = new float[rows];
        double weightSum = 0;
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == ignoreIndex) continue;
            if ((uint)y[r] >= (uint)classes)
                throw new ArgumentException($"cross_entropy: target {y[r]} at row {r} is not a class id in [0, {classes}) nor the ignore index {ignoreIndex}.");
            pick[r * classes + y[r]] = w[y[r]];
            valid[r] = 1f;
            weightSum += w[y[r]];
        }
        var b = logits.Backend;
        var logp = logits.Reshape(rows, classes).LogSoftmax(-1);                           // (N, C)
        var loss = logp.Mul(Host(pick, [rows, classes], b)).Sum(-1).Neg();               // (N): w[y]·(-log p_y)
        if (labelSmoothing > 0f)
        {
            var smooth = logp.Mul(weight.Detach()).Sum(-1).Neg().Mul(Host(valid, [rows], b)); // (N): Σ_c w[c]·(-log p_c)
            loss = loss.Mul(1f - labelSmoothing).Add(smooth.Mul(labelSmoothing / classes));
        }
        return reduction switch
        {
            Reduction.None => loss.Reshape(targets.Shape.ToArray()),
            Reduction.Sum => loss.Sum(),
            _ => loss.Sum().Div((float)weightSum),
        };
    }

    private static Tensor Host(float[] data, int[] shape, Backends.IBackend backend)
    {
        var t = Tensor.Empty(backend, DType.Float32, shape);
        backend.Upload(data, 0, t.Storage, 0, data.Length);
        return t;
    }
}
