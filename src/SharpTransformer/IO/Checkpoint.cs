using System.Globalization;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.IO;

/// <summary>
/// Our training checkpoint: one safetensors file with the model's parameters (<c>model.NAME</c>), the AdamW moments
/// (<c>optim.m.NAME</c>, <c>optim.v.NAME</c>), and in its metadata the model kind and config, step, optimizer step count,
/// generator state, tokenizer and any extra entries. Written atomically, so a crash never leaves a corrupt checkpoint.
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
        AdamW? optimizer = null, Generator? generator = null, string? tokenizerJson = null, IReadOnlyDictionary<string, string>? extra = null)
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
            w.Metadata("optim_step", optimizer.StepCount.ToString(CultureInfo.InvariantCulture));
            foreach (var (p, m, v) in optimizer.State)
            {
                if (m is null || v is null) continue;
                string name = names.TryGetValue(p, out var n) ? n : throw new InvalidOperationException("Checkpoint.Save: the optimizer holds a parameter that is not in the model.");
                w.Add("optim.m." + name, p.Shape.ToArray(), m.ToArray());
                w.Add("optim.v." + name, p.Shape.ToArray(), v.ToArray());
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

    /// <summary>Restores the optimizer's moments and step count (parameters are matched by model name).</summary>
    public void RestoreOptimizer(AdamW optimizer, Module model)
    {
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (n, p) in model.NamedParameters()) names[p] = n;
        var moments = new List<(float[] M, float[] V)?>();
        foreach (var (p, _, _) in optimizer.State)
        {
            string n = names[p];
            moments.Add(Tensors.TryGetValue("optim.m." + n, out var m) && Tensors.TryGetValue("optim.v." + n, out var v) ? (m.Data, v.Data) : null);
        }
        optimizer.LoadState(Metadata.TryGetValue("optim_step", out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : 0, moments);
    }

    /// <summary>Restores a generator's seed and counter.</summary>
    public void RestoreGenerator(Generator generator)
    {
        var parts = Get("rng").Split(':');
        generator.State = (ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture));
    }
}
