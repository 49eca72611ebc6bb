namespace SharpTransformer.Training;

/// <summary>
/// The evaluation of a <see cref="Trainer"/> run: a function returning named metrics, the metric that decides which model is
/// best, and its direction. The trainer runs it every <see cref="TrainerOptions.EvalEvery"/> steps, at each epoch end, at the
/// last step and when <see cref="TrainerOptions.MaxTime"/> runs out, in evaluation mode with gradients off, and hands the
/// result to every callback's <see cref="ITrainerCallback.OnEvaluate"/>. A run takes at most one evaluation callback.
/// </summary>
public sealed class EvaluationCallback : ITrainerCallback
{
    private readonly Func<IReadOnlyDictionary<string, double>> _evaluate;
    private readonly List<EvaluationRecord> _history = new();

    /// <summary>Evaluates several metrics; <paramref name="metric"/> names the one that decides the best model.</summary>
    public EvaluationCallback(Func<IReadOnlyDictionary<string, double>> evaluate, string metric, bool greaterIsBetter)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        _evaluate = evaluate;
        Metric = metric;
        GreaterIsBetter = greaterIsBetter;
    }

    /// <summary>Evaluates one metric named <paramref name="metric"/> (for example "loss", lower is better, or "accuracy").</summary>
    public EvaluationCallback(string metric, Func<double> evaluate, bool greaterIsBetter)
        : this(() => new Dictionary<string, double> { [metric] = evaluate() }, metric, greaterIsBetter)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
    }

    /// <summary>The metric that decides the best model.</summary>
    public string Metric { get; }
    /// <summary>True when a larger <see cref="Metric"/> is better (accuracy), false when smaller is (loss).</summary>
    public bool GreaterIsBetter { get; }
    /// <summary>Every evaluation seen, across runs.</summary>
    public IReadOnlyList<EvaluationRecord> History => _history;

    /// <summary>Runs the evaluation function and returns its metrics; the deciding metric must be among them.</summary>
    public IReadOnlyDictionary<string, double> Evaluate()
    {
        var metrics = _evaluate();
        if (!metrics.ContainsKey(Metric))
            throw new InvalidOperationException($"EvaluationCallback: the evaluation returned {(metrics.Count == 0 ? "no metrics" : string.Join(", ", metrics.Keys))}, not the deciding metric '{Metric}'.");
        return metrics;
    }

    /// <summary>True when <paramref name="value"/> beats <paramref name="best"/> (null: nothing yet; a NaN never beats).</summary>
    public bool IsBetter(double value, double? best) =>
        !double.IsNaN(value) && (best is not { } b || double.IsNaN(b) || (GreaterIsBetter ? value > b : value < b));

    /// <inheritdoc/>
    public void OnEvaluate(TrainerState state, EvaluationRecord evaluation) => _history.Add(evaluation);
}
