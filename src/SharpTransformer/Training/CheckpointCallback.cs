using SharpTransformer.IO;

namespace SharpTransformer.Training;

/// <summary>
/// Saves the best and the last model of a run into a folder, atomically (a crash never leaves a half-written file): the best
/// after each evaluation that improves the deciding metric, the last after each evaluation and when the run ends. A cancelled
/// or early-stopped run keeps its best checkpoint; a failing one (a non-finite loss) leaves the files as they were.
/// </summary>
public sealed class CheckpointCallback : ITrainerCallback
{
    private readonly Action<string, TrainerState> _save;
    private int _lastSaved = -1;

    /// <summary>Saves through <paramref name="save"/>(path, state), which must write the file atomically.</summary>
    public CheckpointCallback(string directory, Action<string, TrainerState> save)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(save);
        Directory = directory;
        _save = save;
    }

    /// <summary>
    /// Saves a <see cref="Checkpoint"/> of the model with its kind, config and tokenizer, and (when
    /// <paramref name="includeOptimizer"/>) the optimizer and sampling state needed to resume.
    /// </summary>
    public CheckpointCallback(string directory, string modelKind, string configJson, string? tokenizerJson = null,
        IReadOnlyDictionary<string, string>? extra = null, bool includeOptimizer = true)
        : this(directory, (path, s) => Checkpoint.Save(path, s.Model, modelKind, configJson, s.Step,
            includeOptimizer ? s.Optimizer : null, includeOptimizer ? s.Sampling : null, tokenizerJson, extra))
    {
    }

    /// <summary>The folder of the checkpoints (created when the run begins).</summary>
    public string Directory { get; }
    /// <summary>File name of the best model; null to keep none.</summary>
    public string? BestFileName { get; init; } = "best.safetensors";
    /// <summary>File name of the last model; null to keep none.</summary>
    public string? LastFileName { get; init; } = "last.safetensors";
    /// <summary>Path of the best model, or null.</summary>
    public string? BestPath => BestFileName is null ? null : Path.Combine(Directory, BestFileName);
    /// <summary>Path of the last model, or null.</summary>
    public string? LastPath => LastFileName is null ? null : Path.Combine(Directory, LastFileName);

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerState state)
    {
        System.IO.Directory.CreateDirectory(Directory);
        _lastSaved = -1;
    }

    /// <inheritdoc/>
    public void OnEvaluate(TrainerState state, EvaluationRecord evaluation)
    {
        if (evaluation.Improved && BestPath is { } best) _save(best, state);
        SaveLast(state);
    }

    /// <inheritdoc/>
    public void OnTrainEnd(TrainerState state, TrainerResult result) => SaveLast(state);

    private void SaveLast(TrainerState state)
    {
        if (LastPath is not { } last || _lastSaved == state.Step) return;
        _save(last, state);
        _lastSaved = state.Step;
    }
}
