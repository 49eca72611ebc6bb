using System.Text.Json;
using SharpTransformer.Nn.MoE;

namespace SharpTransformer.Training;

/// <summary>
/// Reports the tokens each expert of a mixture-of-experts model received (<see cref="SparseMoe.TokenCounts"/>) every
/// <see cref="Every"/> steps, then resets the counts: as a line <c>{"type":"experts","step":..,"tokens_per_expert":[[layer 0
/// counts], ...]}</c> appended to <c>metrics.jsonl</c> in the given folder (beside <see cref="MetricsLog"/>'s lines; add this
/// callback after it), and to <see cref="Report"/>.
/// </summary>
public sealed class ExpertLoadCallback : ITrainerCallback
{
    private readonly IMixtureOfExpertsModel _model;

    /// <summary>Reports the experts of <paramref name="model"/> into <paramref name="directory"/>'s metrics.jsonl (null: no file) every <paramref name="every"/> steps.</summary>
    public ExpertLoadCallback(IMixtureOfExpertsModel model, string? directory = null, int every = 1, Action<int, long[][]>? report = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (every <= 0) throw new ArgumentOutOfRangeException(nameof(every), every, "ExpertLoadCallback: the step interval must be positive.");
        _model = model;
        Path = directory is null ? null : System.IO.Path.Combine(directory, MetricsLog.FileName);
        Every = every;
        Report = report;
    }

    /// <summary>The metrics file appended to, or null.</summary>
    public string? Path { get; }
    /// <summary>Steps between reports.</summary>
    public int Every { get; }
    /// <summary>Receives the step and the tokens per expert of each MoE layer (layers × experts) at each report.</summary>
    public Action<int, long[][]>? Report { get; }
    /// <summary>The counts of the last report (layers × experts), or null before the first.</summary>
    public long[][]? Last { get; private set; }

    /// <inheritdoc/>
    public void OnTrainBegin(TrainerState state) => MoeLosses.TokenCounts(_model.MoeLayers, reset: true);

    /// <inheritdoc/>
    public void OnStepEnd(TrainerState state, StepRecord step)
    {
        if (step.Step % Every != 0) return;
        var counts = MoeLosses.TokenCounts(_model.MoeLayers, reset: true);
        Last = counts;
        Report?.Invoke(step.Step, counts);
        if (Path is null) return;
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("type", "experts");
            w.WriteNumber("step", step.Step);
            w.WriteStartArray("tokens_per_expert");
            foreach (var layer in counts)
            {
                w.WriteStartArray();
                foreach (var c in layer) w.WriteNumberValue(c);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);
        using var fs = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read);
        fs.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
