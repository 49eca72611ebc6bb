using System.Text.Json;

namespace SharpTransformer.Training;

/// <summary>
/// Writes a run's history as JSON lines (<c>metrics.jsonl</c> beside the checkpoints), one object per logged step and per
/// evaluation, each line appended and flushed as it happens so a crash of the process keeps what was written. Steps:
/// <c>{"type":"step","step":..,"epoch":..,"loss":..,"learning_rate":..,"tokens":..,"tokens_per_second":..,"wall_seconds":..}</c>
/// followed by the step's <see cref="StepRecord.Metrics"/> under their own names;
/// evaluations: <c>{"type":"evaluation","step":..,"epoch":..,"eval_NAME":.. (each metric),"is_best":..,"best_metric":..,"wall_seconds":..}</c>.
/// Numbers that are not finite (an unknown epoch) are written as null. A run starting at step 0 replaces the file; a resumed
/// run appends to it.
/// </summary>
public sealed class MetricsLog : ITrainerCallback
{
    /// <summary>The file name inside the folder.</summary>
    public const string FileName = "metrics.jsonl";

    /// <summary>Logs into <c>metrics.jsonl</c> in <paramref name="directory"/>, every <paramref name="every"/> steps and every evaluation.</summary>
    public MetricsLog(string directory, int every = 1)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (every <= 0) throw new ArgumentOutOfRangeException(nameof(every), every, "MetricsLog: the step interval must be positive.");
        Path = System.IO.Path.Combine(directory, FileName);
        Every = every;
    }

    /// <summary>The file written.</summary>
    public string Path { get; }
    /// <summary>A step line is written every this many steps.</summary>
    public int Every { get; }

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerState state)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        if (state.Step == 0 || !File.Exists(Path)) File.WriteAllText(Path, "");
    }

    /// <inheritdoc/>
    public void OnStepEnd(TrainerState state, StepRecord step)
    {
        if (step.Step % Every != 0) return;
        Append(w =>
        {
            w.WriteString("type", "step");
            w.WriteNumber("step", step.Step);
            Number(w, "epoch", step.Epoch);
            Number(w, "loss", step.Loss);
            Number(w, "learning_rate", step.LearningRate);
            w.WriteNumber("tokens", step.Tokens);
            Number(w, "tokens_per_second", step.TokensPerSecond);
            Number(w, "wall_seconds", step.Elapsed.TotalSeconds);
            foreach (var (name, value) in step.Metrics ?? new Dictionary<string, double>()) Number(w, name, value);
        });
    }

    /// <inheritdoc/>
    public void OnEvaluate(TrainerState state, EvaluationRecord evaluation) => Append(w =>
    {
        w.WriteString("type", "evaluation");
        w.WriteNumber("step", evaluation.Step);
        Number(w, "epoch", evaluation.Epoch);
        foreach (var (name, value) in evaluation.Metrics)
            Number(w, name.StartsWith("eval_", StringComparison.Ordinal) ? name : "eval_" + name, value);
        w.WriteBoolean("is_best", evaluation.Improved);
        Number(w, "best_metric", evaluation.BestMetric);
        Number(w, "wall_seconds", evaluation.Elapsed.TotalSeconds);
    });

    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    private static void Number(Utf8JsonWriter w, string name, float value)
    {
        if (float.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    // One line per call, appended and handed to the operating system before returning (open, write, close: no handle
    // outlives a line, and a crash of the process loses nothing written).
    private void Append(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        using var fs = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        fs.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
