namespace SharpTransformer.Evaluation;

/// <summary>
/// Scores of a single-label classifier, as scikit-learn computes them: accuracy, per-class precision, recall, F1 and
/// support, macro and support-weighted averages, and the confusion matrix. Undefined ratios (no predictions or no gold
/// examples of a class) are 0, as with <c>zero_division=0</c>.
/// </summary>
public sealed class ClassificationMetrics
{
    /// <summary>Scores predicted ids against gold ids.</summary>
    /// <param name="predicted">Predicted class ids.</param>
    /// <param name="gold">Gold class ids, as many as <paramref name="predicted"/>.</param>
    /// <param name="labelNames">The name of each class id; every id must be in [0, labelNames.Count).</param>
    /// <exception cref="ArgumentException">Different lengths, no examples, or an id out of range.</exception>
    public ClassificationMetrics(ReadOnlySpan<int> predicted, ReadOnlySpan<int> gold, IReadOnlyList<string> labelNames)
    {
        if (predicted.Length != gold.Length)
            throw new ArgumentException($"ClassificationMetrics: {predicted.Length} predictions for {gold.Length} gold labels.");
        if (gold.Length == 0) throw new ArgumentException("ClassificationMetrics: no examples to score.");
        int k = labelNames.Count;
        LabelNames = labelNames.ToArray();
        var cm = new int[k, k];
        int correct = 0;
        for (int i = 0; i < gold.Length; i++)
        {
            int g = gold[i], p = predicted[i];
            if ((uint)g >= (uint)k) throw new ArgumentException($"ClassificationMetrics: gold[{i}] = {g} is not a class id in [0, {k}).");
            if ((uint)p >= (uint)k) throw new ArgumentException($"ClassificationMetrics: predicted[{i}] = {p} is not a class id in [0, {k}).");
            cm[g, p]++;
            if (g == p) correct++;
        }
        ConfusionMatrix = cm;
        Count = gold.Length;
        Accuracy = (double)correct / gold.Length;
        var classes = new ClassMetrics[k];
        for (int c = 0; c < k; c++)
        {
            int predictedC = 0, goldC = 0;
            for (int j = 0; j < k; j++) { predictedC += cm[j, c]; goldC += cm[c, j]; }
            classes[c] = ClassMetrics.FromCounts(LabelNames[c], cm[c, c], predictedC, goldC);
        }
        PerClass = classes;
        (MacroAverage, WeightedAverage) = ClassMetrics.Averages(classes);
    }

    /// <summary>The class names by id.</summary>
    public IReadOnlyList<string> LabelNames { get; }

    /// <summary>Number of examples scored.</summary>
    public int Count { get; }

    /// <summary>Fraction of correct predictions.</summary>
    public double Accuracy { get; }

    /// <summary>Scores of each class, by id.</summary>
    public IReadOnlyList<ClassMetrics> PerClass { get; }

    /// <summary>Unweighted mean of the per-class scores (support: all examples).</summary>
    public ClassMetrics MacroAverage { get; }

    /// <summary>Per-class scores weighted by support.</summary>
    public ClassMetrics WeightedAverage { get; }

    /// <summary>[gold, predicted] counts (rows are the true classes, as scikit-learn's <c>confusion_matrix</c>).</summary>
    public int[,] ConfusionMatrix { get; }

    /// <summary>A report laid out like scikit-learn's <c>classification_report</c>.</summary>
    public string ToString(int digits) =>
        MetricsReport.Format(PerClass, [MacroAverage, WeightedAverage], ("accuracy", Accuracy, Count), digits);

    /// <summary>A report laid out like scikit-learn's <c>classification_report</c>, two decimals.</summary>
    public override string ToString() => ToString(2);
}
