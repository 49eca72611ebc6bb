namespace SharpTransformer.Evaluation;

/// <summary>Precision, recall, F1 and support of one class (or entity type), or an average of them.</summary>
/// <param name="Name">The class name, or the average's name.</param>
/// <param name="Precision">True positives / predicted positives; 0 when nothing was predicted.</param>
/// <param name="Recall">True positives / gold positives; 0 when there are no gold positives.</param>
/// <param name="F1">Harmonic mean of precision and recall; 0 when both are 0.</param>
/// <param name="Support">Number of gold positives.</param>
public sealed record ClassMetrics(string Name, double Precision, double Recall, double F1, int Support)
{
    /// <summary>The scores from counts, with 0 wherever a denominator is 0 (scikit-learn's <c>zero_division=0</c>).</summary>
    public static ClassMetrics FromCounts(string name, int truePositives, int predicted, int gold)
    {
        double p = predicted == 0 ? 0 : (double)truePositives / predicted;
        double r = gold == 0 ? 0 : (double)truePositives / gold;
        double f = p + r == 0 ? 0 : 2 * p * r / (p + r);
        return new ClassMetrics(name, p, r, f, gold);
    }

    /// <summary>The unweighted mean over <paramref name="classes"/>, and the mean weighted by support.</summary>
    internal static (ClassMetrics Macro, ClassMetrics Weighted) Averages(IReadOnlyList<ClassMetrics> classes)
    {
        int n = classes.Count, total = classes.Sum(c => c.Support);
        var macro = n == 0 ? new ClassMetrics("macro avg", 0, 0, 0, 0)
            : new ClassMetrics("macro avg", classes.Average(c => c.Precision), classes.Average(c => c.Recall), classes.Average(c => c.F1), total);
        var weighted = total == 0 ? new ClassMetrics("weighted avg", 0, 0, 0, 0)
            : new ClassMetrics("weighted avg", classes.Sum(c => c.Precision * c.Support) / total, classes.Sum(c => c.Recall * c.Support) / total,
                classes.Sum(c => c.F1 * c.Support) / total, total);
        return (macro, weighted);
    }
}
