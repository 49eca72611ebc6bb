using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Training;

/// <summary>
/// Knowledge-distillation losses, as DistilBERT was trained: a student learns from a teacher's temperature-softened
/// distribution (<see cref="SoftTargetLoss"/>), from the hard labels (cross-entropy) and, optionally, from the teacher's hidden
/// states (<see cref="HiddenCosineLoss"/>). Works for classifiers (logits (B, labels)) and causal LMs (per-token logits (B, T, V)
/// with padding and ignored positions masked). The log-softmaxes are the library's max-subtracted kernel
/// (<see cref="Functional.LogSoftmax"/>), so large logits neither overflow nor lose precision. The teacher's tensors are treated as
/// constants.
/// </summary>
public static class Distillation
{
    /// <summary>
    /// T² · KL(softmax(teacher/T) ‖ softmax(student/T)), summed over the last dimension and averaged over the positions where
    /// <paramref name="mask"/> is 1 (all when null), as PyTorch's <c>kl_div(log_softmax(s/T), softmax(t/T), "batchmean") · T²</c>.
    /// Its gradient with respect to the student's logits is T · (softmax(student/T) − softmax(teacher/T)) / count.
    /// </summary>
    /// <param name="studentLogits">(..., V) logits of the student.</param>
    /// <param name="teacherLogits">(..., V) logits of the teacher, same shape; no gradient flows into it.</param>
    /// <param name="temperature">T &gt; 0.</param>
    /// <param name="mask">Optional (...) Float32 with 1 on counted positions and 0 on ignored ones.</param>
    public static Tensor SoftTargetLoss(Tensor studentLogits, Tensor teacherLogits, float temperature, Tensor? mask = null)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        if (!(temperature > 0f) || !float.IsFinite(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Distillation.SoftTargetLoss: the temperature must be positive.");
        if (!studentLogits.Shape.SequenceEqual(teacherLogits.Shape))
            throw new ArgumentException($"Distillation.SoftTargetLoss: student logits {studentLogits.ShapeString} and teacher logits {teacherLogits.ShapeString} differ " +
                "(student and teacher need the same labels or vocabulary).", nameof(teacherLogits));
        int v = studentLogits.Size(-1), rows = studentLogits.Count / Math.Max(1, v);
        CheckMask(mask, rows, studentLogits, "SoftTargetLoss");
        var s = studentLogits.Reshape(rows, v);                                   // (N, V)
        Tensor p, logP;
        using (GradMode.NoGrad())
        {
            logP = teacherLogits.Detach().Reshape(rows, v).Mul(1f / temperature).LogSoftmax();   // (N, V)
            p = logP.Exp();
        }
        var logQ = s.Mul(1f / temperature).LogSoftmax();                          // (N, V)
        var perRow = p.Mul(logP.Sub(logQ)).Sum(-1);                               // (N)
        return MaskedMean(perRow, mask, rows).Mul(temperature * temperature);
    }

    /// <summary>
    /// DistilBERT's cosine loss (<c>CosineEmbeddingLoss</c> with target 1): the mean over counted positions of
    /// 1 − cos(student, teacher), with cos = s·t / max(‖s‖‖t‖, 1e-8). Give a <paramref name="projection"/> when the widths differ
    /// (it maps the student's width to the teacher's and trains with the student).
    /// </summary>
    /// <param name="studentHidden">(..., Cs) hidden states of the student.</param>
    /// <param name="teacherHidden">(..., Ct) hidden states of the teacher at the same positions; no gradient flows into it.</param>
    /// <param name="mask">Optional (...) Float32 with 1 on counted positions (tokens, not padding).</param>
    /// <param name="projection">Optional linear Cs → Ct applied to the student's states first.</param>
    public static Tensor HiddenCosineLoss(Tensor studentHidden, Tensor teacherHidden, Tensor? mask = null, ILinear? projection = null)
    {
        ArgumentNullException.ThrowIfNull(studentHidden);
        ArgumentNullException.ThrowIfNull(teacherHidden);
        var s = projection is null ? studentHidden : projection.Forward(studentHidden);
        if (!s.Shape.SequenceEqual(teacherHidden.Shape))
            throw new ArgumentException($"Distillation.HiddenCosineLoss: student hidden states {s.ShapeString}" +
                (projection is null ? "" : $" (after the {projection.InFeatures} → {projection.OutFeatures} projection)") +
                $" and teacher hidden states {teacherHidden.ShapeString} differ" +
                (projection is null && s.Size(-1) != teacherHidden.Size(-1) ? $"; give a projection {s.Size(-1)} → {teacherHidden.Size(-1)}" : "") + ".", nameof(teacherHidden));
        int c = s.Size(-1), rows = s.Count / Math.Max(1, c);
        CheckMask(mask, rows, s, "HiddenCosineLoss");
        var sr = s.Reshape(rows, c);                                              // (N, C)
        var t = teacherHidden.Detach().Reshape(rows, c);                          // (N, C)
        var dot = sr.Mul(t).Sum(-1);                                              // (N)
        var norms = sr.Mul(sr).Sum(-1).Mul(t.Mul(t).Sum(-1)).Sqrt().Clamp(min: 1e-8f);   // ‖s‖‖t‖ (N)
        var distance = dot.Div(norms).Neg().Add(1f);                              // 1 − cos (N)
        return MaskedMean(distance, mask, rows);
    }

    /// <summary>
    /// The whole loss: alpha · <see cref="SoftTargetLoss"/> + (1 − alpha) · cross-entropy with <paramref name="labels"/> +
    /// weight · <see cref="HiddenCosineLoss"/> (when hidden states are given and the weight is positive). Positions whose label is
    /// <see cref="DistillationOptions.IgnoreIndex"/> count in no term.
    /// </summary>
    /// <param name="studentLogits">(B, labels) of a classifier or (B, T, V) of a causal LM (already aligned with <paramref name="labels"/>).</param>
    /// <param name="teacherLogits">The teacher's logits, same shape.</param>
    /// <param name="labels">Int32 (B) or (B, T): the hard labels (next tokens for an LM, <see cref="DistillationOptions.IgnoreIndex"/> on padding).</param>
    /// <param name="options">Temperature and weights.</param>
    /// <param name="studentHidden">Optional (B, [T,] Cs) hidden states of the student.</param>
    /// <param name="teacherHidden">Optional (B, [T,] Ct) hidden states of the teacher.</param>
    /// <param name="hiddenMask">Optional mask of the hidden positions (default: the labels' mask when shapes agree, else all).</param>
    /// <param name="projection">Optional Cs → Ct projection for the hidden loss.</param>
    public static DistillationLoss Loss(Tensor studentLogits, Tensor teacherLogits, Tensor labels, DistillationOptions options,
        Tensor? studentHidden = null, Tensor? teacherHidden = null, Tensor? hiddenMask = null, ILinear? projection = null)
    {
        ArgumentNullException.ThrowIfNull(studentLogits);
        ArgumentNullException.ThrowIfNull(teacherLogits);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int v = studentLogits.Size(-1), rows = studentLogits.Count / Math.Max(1, v);
        if (labels.Count != rows)
            throw new ArgumentException($"Distillation.Loss: labels {labels.ShapeString} do not match logits {studentLogits.ShapeString} (one label per row of logits).", nameof(labels));
        var flatLabels = labels.Reshape(rows);
        var ids = flatLabels.ToIntArray();
        bool anyIgnored = ids.Contains(options.IgnoreIndex);
        Tensor? mask = null;
        if (anyIgnored)
        {
            var m = new float[rows];
            for (int i = 0; i < rows; i++) m[i] = ids[i] == options.IgnoreIndex ? 0f : 1f;
            mask = Tensor.FromArray(m).To(studentLogits.Backend);
        }
        var soft = SoftTargetLoss(studentLogits, teacherLogits, options.Temperature, mask);
        var hard = Functional.CrossEntropy(studentLogits.Reshape(rows, v), flatLabels, options.IgnoreIndex);
        var total = soft.Mul(options.Alpha).Add(hard.Mul(1f - options.Alpha));
        Tensor? hidden = null;
        if (options.HiddenLossWeight > 0f && studentHidden is not null && teacherHidden is not null)
        {
            var hm = hiddenMask;
            if (hm is null && mask is not null && studentHidden.Count / studentHidden.Size(-1) == rows) hm = mask;
            hidden = HiddenCosineLoss(studentHidden, teacherHidden, hm, projection);
            total = total.Add(hidden.Mul(options.HiddenLossWeight));
        }
        else if (options.HiddenLossWeight > 0f && (studentHidden is null) != (teacherHidden is null))
            throw new ArgumentException("Distillation.Loss: a hidden loss weight needs both the student's and the teacher's hidden states.", nameof(studentHidden));
        return new DistillationLoss(total, soft, hard, hidden);
    }

    private static void CheckMask(Tensor? mask, int rows, Tensor x, string op)
    {
        if (mask is not null && mask.Count != rows)
            throw new ArgumentException($"Distillation.{op}: mask {mask.ShapeString} has {mask.Count} entries; {x.ShapeString} has {rows} positions.", nameof(mask));
    }

    // Mean of (N) values over the rows where mask is 1 (all rows when null); 0 when nothing counts.
    private static Tensor MaskedMean(Tensor perRow, Tensor? mask, int rows)
    {
        if (mask is null) return perRow.Sum().Mul(1f / Math.Max(1, rows));
        var m = mask.Reshape(rows);
        float count = m.ToArray().Sum();
        return perRow.Mul(m).Sum().Mul(1f / Math.Max(1f, count));
    }
}
