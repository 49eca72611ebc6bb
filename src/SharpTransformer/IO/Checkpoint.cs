using System.Globalization;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.IO;

/// <summary>
/// Our training checkpoint: one safetensors file with the model's parameters (<c>model.NAME</c>), the optimizer's state buffers
/// (<c>optim.BUFFER.NAME</c>: AdamW's moments <c>optim.m.NAME</c> and <c>optim.v.NAME</c>, SGD's <c>optim.momentum.NAME</c>), and in
/// its metadata the model kind and config, step, optimizer kind and step count, generator state, tokenizer and any extra entries.
/// Written atomically, so a crash never leaves a corrupt checkpoint.
/// </summary>
public sealed class Checkpoint
{
    private Checkpoint(Dictionary<string, string> metadata, Dictionary<string, (int[] Shape, float[] Data)> tensors)
    {
        Metadata = metadata;
        Tensors = tensors;
    }

    /// <summary>Metadata entries.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Stored tensors by name.</summary>
    public IReadOnlyDictionary<string, (int[] Shape, float[] Data)> Tensors { get; }

    /// <summary>The model kind (e.g. "gpt2").</summary>
    public string ModelKind => Get("model_kind");
    /// <summary>The model configuration as JSON.</summary>
    public string ConfigJson => Get("config");
    /// <summary>Training step.</summary>
    public int Step => int.Parse(Get("step"), CultureInfo.InvariantCulture);
    /// <summary>The tokenizer as JSON, if saved.</summary>
    public string? TokenizerJson => Metadata.TryGetValue("tokenizer", out var t) ? t : null;

    private string Get(string key) => Metadata.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"Checkpoint: metadata '{key}' is missing.");

    /// <summary>Saves a checkpoint atomically.</summary>
    public static void Save(string path, Module model, string modelKind, string configJson, int step,
        IOptimizer? optimizer = null, Generator? generator = null, string? tokenizerJson = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var w = new SafeTensorsWriter()
            .Metadata("format", "sharptransformer-checkpoint-v1")
            .Metadata("model_kind", modelKind)
            .Metadata("config", configJson)
            .Metadata("step", step.ToString(CultureInfo.InvariantCulture));
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, p) in model.NamedParameters())
        {
            var data = p.ToArray();
            CheckFinite(data, name, path);
            w.Add("model." + name, p.Shape.ToArray(), data);
            names[p] = name;
        }
        if (optimizer is not null)
        {
            var state = optimizer.StateDict();
            w.Metadata("optim_kind", state.Kind);
            w.Metadata("optim_step", state.StepCount.ToString(CultureInfo.InvariantCulture));
            foreach (var ps in state.Parameters)
            {
                string name = names.TryGetValue(ps.Parameter, out var n) ? n
                    : throw new InvalidOperationException($"Checkpoint.Save({path}): the optimizer holds parameter {ps.Parameter.Name ?? ps.Parameter.ShapeString}, which is not in the model.");
                foreach (var (buffer, values) in ps.Buffers)
                {
                    if (buffer.Contains('.', StringComparison.Ordinal))
                        throw new InvalidOperationException($"Checkpoint.Save({path}): optimizer buffer name '{buffer}' must not contain a dot.");
                    w.Add($"optim.{buffer}.{name}", ps.Parameter.Shape.ToArray(), values);
                }
            }
        }
        if (generator is not null)
            w.Metadata("rng", $"{generator.State.Seed.ToString(CultureInfo.InvariantCulture)}:{generator.State.Offset.ToString(CultureInfo.InvariantCulture)}");
        if (tokenizerJson is not null) w.Metadata("tokenizer", tokenizerJson);
        if (extra is not null) foreach (var (k, v) in extra) w.Metadata("extra." + k, v);
        w.Save(path);
    }

    private static void CheckFinite(float[] data, string name, string path)
    {
        foreach (var x in data)
            if (!float.IsFinite(x)) throw new ArithmeticException($"Checkpoint.Save({path}): parameter '{name}' holds {x}; refusing to write a corrupt checkpoint.");
    }

    /// <summary>Reads a checkpoint.</summary>
    public static Checkpoint Load(string path)
    {
        using var f = SafeTensorsFile.Open(path);
        if (!f.Metadata.TryGetValue("format", out var fmt) || fmt != "sharptransformer-checkpoint-v1")
            throw new InvalidDataException($"{path}: not a SharpTransformer checkpoint (format '{fmt}').");
        var tensors = f.Names.ToDictionary(n => n, n => (f.ShapeOf(n), f.ReadFloats(n)));
        return new Checkpoint(f.Metadata.ToDictionary(), tensors);
    }

    /// <summary>Copies the parameters into <paramref name="model"/>; missing, unexpected and mis-shaped tensors are all listed.</summary>
    public void RestoreModel(Module model)
    {
        var state = Tensors.Where(t => t.Key.StartsWith("model.", StringComparison.Ordinal))
            .ToDictionary(t => t.Key["model.".Length..], t => Tensor.FromArray(t.Value.Data, t.Value.Shape));
        model.LoadStateDict(state);
    }

    /// <summary>
    /// Restores the optimizer's state buffers and step count, matching parameters by their name in <paramref name="model"/>.
    /// The optimizer must be of the kind that was saved (checkpoints without the kind hold AdamW state); state saved for a
    /// parameter the optimizer does not train (frozen since) is skipped.
    /// </summary>
    public void RestoreOptimizer(IOptimizer optimizer, Module model)
    {
        var byName = model.NamedParameters().ToDictionary(x => x.Name, x => x.Parameter);
        var trained = new HashSet<Tensor>(optimizer.Parameters, ReferenceEqualityComparer.Instance);
        var buffers = new Dictionary<string, Dictionary<string, float[]>>();
        foreach (var (key, (_, data)) in Tensors)
        {
            if (!key.StartsWith("optim.", StringComparison.Ordinal)) continue;
            int dot = key.IndexOf('.', "optim.".Length);
            if (dot < 0) throw new InvalidDataException($"Checkpoint: tensor '{key}' is not named optim.BUFFER.PARAMETER.");
            string buffer = key["optim.".Length..dot], name = key[(dot + 1)..];
            if (!byName.ContainsKey(name))
                throw new InvalidDataException($"Checkpoint: optimizer state '{key}' names parameter '{name}', which the model does not have.");
            if (!buffers.TryGetValue(name, out var b)) buffers[name] = b = new Dictionary<string, float[]>();
            b[buffer] = data;
        }
        string kind = Metadata.TryGetValue("optim_kind", out var k) ? k : AdamW.Kind;
        int step = Metadata.TryGetValue("optim_step", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 0;
        var states = buffers.Where(x => trained.Contains(byName[x.Key]))
            .Select(x => new ParameterState(byName[x.Key], x.Value)).ToList();
        optimizer.LoadStateDict(new OptimizerState(kind, step, states));
    }

    /// <summary>Restores a generator's seed and counter.</summary>
    public void RestoreGenerator(Generator generator)
    {
        var parts = Get("rng").Split(':');
        generator.State = (ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
