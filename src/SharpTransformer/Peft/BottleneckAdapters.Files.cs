using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

public static partial class BottleneckAdapters
{
    /// <summary>The adapter settings file (beside PEFT's LoRA layout, with AdapterHub's field names).</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The adapter weights file.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>The <c>adapter_type</c> written to and required in <see cref="ConfigFileName"/>.</summary>
    public const string AdapterType = "bottleneck";

    /// <summary>
    /// Writes adapter <paramref name="adapterName"/> alone to <paramref name="directory"/>: <c>adapter_config.json</c>
    /// (<c>{"adapter_type": "bottleneck", "config": {"mh_adapter", "output_adapter", "reduction_factor", "non_linearity",
    /// "scaling"}, "hidden_size", "model_class", "name"}</c>, AdapterHub's names) and <c>adapter_model.safetensors</c> with, per
    /// adapted projection at module path P (the Hugging Face path for a causal LM, e.g. <c>transformer.h.0.attn.c_proj</c>),
    /// <c>P.adapter_down.weight</c> (m, C), <c>P.adapter_down.bias</c> (m), <c>P.adapter_up.weight</c> (C, m) and
    /// <c>P.adapter_up.bias</c> (C), F32. The adapter's name is not part of the tensor names, so it loads under any name.
    /// </summary>
    public static void Save(Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var layers = Layers(model).Where(l => l.Layer.Adapters.Contains(adapterName)).ToList();
        if (layers.Count == 0)
            throw new ArgumentException($"BottleneckAdapters.Save: {model.GetType().Name} has no adapter '{adapterName}' (adapters: {string.Join(", ", Adapters(model))}).", nameof(adapterName));
        var config = _configs.TryGetValue(model, out var d) && d.TryGetValue(adapterName, out var c) ? c : layers[0].Layer[adapterName].Config;
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var (path, layer) in layers)
        {
            string name = Lora.HuggingFacePath(model, path);
            var a = layer[adapterName];
            foreach (var (part, lin) in new[] { ("adapter_down", a.Down), ("adapter_up", a.Up) })
            {
                writer.Add($"{name}.{part}.weight", lin.Weight!.Shape.ToArray(), lin.Weight.ToArray());
                writer.Add($"{name}.{part}.bias", lin.Bias!.Shape.ToArray(), lin.Bias.ToArray());
            }
        }
        Directory.CreateDirectory(directory);
        writer.Save(Path.Combine(directory, WeightsFileName));
        int hidden = layers[0].Layer.OutFeatures;
        AtomicFile.Write(Path.Combine(directory, ConfigFileName), s => WriteConfig(s, config, hidden, model.GetType().Name, adapterName));
    }

    /// <summary>
    /// Reads an adapter written by <see cref="Save"/> from <paramref name="directory"/> and adds it to <paramref name="model"/>
    /// as <paramref name="adapterName"/> (<see cref="Apply"/> with the file's settings, then the file's weights; F32, F16 and BF16
    /// are accepted). Returns the adapted module paths.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The config is not a bottleneck adapter, or the weights do not fit the model: every missing, unexpected and misshapen tensor
    /// is listed. The model is unchanged then.
    /// </exception>
    public static IReadOnlyList<string> Load(Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string configPath = Path.Combine(directory, ConfigFileName), weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"BottleneckAdapters.Load: {configPath} not found (an adapter folder holds {ConfigFileName} and {WeightsFileName}).", configPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"BottleneckAdapters.Load: {weightsPath} not found.", weightsPath);
        var config = ReadConfig(configPath);
        List<(string Path, Module Module)> targets;
        try { config.Validate(); targets = Targets(model, config); }
        catch (ArgumentException e) { throw new InvalidDataException($"BottleneckAdapters.Load: {configPath}: {e.Message}", e); }

        using var file = SafeTensorsFile.Open(weightsPath);
        var problems = new List<string>();
        var expected = new Dictionary<string, (string Path, string Part, int[] Shape)>(StringComparer.Ordinal);
        foreach (var (path, m) in targets)
        {
            int hidden = ((ILinear)m).OutFeatures, width = config.BottleneckSize(hidden);
            string name = Lora.HuggingFacePath(model, path);
            expected[name + ".adapter_down.weight"] = (path, "down.weight", [width, hidden]);
            expected[name + ".adapter_down.bias"] = (path, "down.bias", [width]);
            expected[name + ".adapter_up.weight"] = (path, "up.weight", [hidden, width]);
            expected[name + ".adapter_up.bias"] = (path, "up.bias", [hidden]);
        }
        foreach (var (name, (_, _, shape)) in expected)
        {
            if (!file.Entries.TryGetValue(name, out var e)) problems.Add($"missing: {name} {Layout.Format(shape)}");
            else if (!e.Shape.SequenceEqual(shape)) problems.Add($"shape mismatch: {name} is {Layout.Format(e.Shape)}, the model needs {Layout.Format(shape)}");
            else if (e.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64))
                problems.Add($"dtype: {name} is {e.DType}, expected a float type");
        }
        foreach (var name in file.Names.Where(n => !expected.ContainsKey(n)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected: {name} {Layout.Format(file.Entries[name].Shape)}");
        if (problems.Count > 0)
            throw new InvalidDataException($"BottleneckAdapters.Load: {weightsPath} does not fit {model.GetType().Name} (reduction factor {config.ReductionFactor}, " +
                $"mh_adapter {config.MhAdapter}, output_adapter {config.OutputAdapter}): {problems.Count} problem(s) (an adapter saved for another base model?):\n  " +
                string.Join("\n  ", problems));

        var paths = Apply(model, config, adapterName);
        var byPath = Layers(model).ToDictionary(l => l.Path, l => l.Layer, StringComparer.Ordinal);
        foreach (var (name, (path, part, _)) in expected)
        {
            var a = byPath[path][adapterName];
            var lin = part.StartsWith("down", StringComparison.Ordinal) ? a.Down : a.Up;
            (part.EndsWith("weight", StringComparison.Ordinal) ? lin.Weight! : lin.Bias!).CopyFrom(file.ReadFloats(name));
        }
        return paths;
    }

    private static string NonLinearityName(AdapterNonLinearity n) => n switch
    {
        AdapterNonLinearity.Relu => "relu",
        AdapterNonLinearity.Gelu => "gelu",
        _ => "swish",
    };

    private static void WriteConfig(Stream stream, BottleneckConfig config, int hidden, string modelClass, string name)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("adapter_type", AdapterType);
        w.WriteStartObject("config");
        w.WriteBoolean("mh_adapter", config.MhAdapter);
        w.WriteBoolean("output_adapter", config.OutputAdapter);
        w.WriteNumber("reduction_factor", config.ReductionFactor);
        w.WriteString("non_linearity", NonLinearityName(config.NonLinearity));
        w.WriteNumber("scaling", config.Scaling);
        w.WriteBoolean("residual_before_ln", true);
        w.WriteEndObject();
        w.WriteNumber("hidden_size", hidden);
        w.WriteString("model_class", modelClass);
        w.WriteString("name", name);
        w.WriteString("library", "SharpTransformer");
        w.WriteEndObject();
    }

    private static BottleneckConfig ReadConfig(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"BottleneckAdapters.Load: {path} is not valid JSON: {e.Message}", e); }
        using var _ = doc;
        var root = doc.RootElement;
        InvalidDataException Bad(string key, string why) => new($"BottleneckAdapters.Load: {path}: field '{key}' {why}");
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"BottleneckAdapters.Load: {path}: expected a JSON object.");
        if (!root.TryGetProperty("adapter_type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != AdapterType)
            throw Bad("adapter_type", $"is {(root.TryGetProperty("adapter_type", out var t) ? t.GetRawText() : "missing")}, expected \"{AdapterType}\"" +
                (root.TryGetProperty("peft_type", out var p) ? $" (this is a PEFT {p.GetRawText()} adapter: load it with Lora.Load)" : "") + ".");
        if (!root.TryGetProperty("config", out var c) || c.ValueKind != JsonValueKind.Object) throw Bad("config", "is missing or not an object.");
        JsonElement? Get(string key) => c.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
        int reduction = Get("reduction_factor") is { ValueKind: JsonValueKind.Number } rv && rv.TryGetInt32(out var ri) ? ri
            : throw Bad("config.reduction_factor", "is missing or not an integer.");
        var nl = Get("non_linearity")?.GetString() switch
        {
            "relu" => AdapterNonLinearity.Relu,
            "gelu" => AdapterNonLinearity.Gelu,
            "swish" or "silu" or null => AdapterNonLinearity.Swish,
            var s => throw Bad("config.non_linearity", $"is \"{s}\"; expected relu, gelu or swish."),
        };
        bool Flag(string key, bool fallback) => Get(key) is { } v ? v.ValueKind == JsonValueKind.True : fallback;
        float scaling = Get("scaling") is { ValueKind: JsonValueKind.Number } sv ? (float)sv.GetDouble() : 1f;
        return new BottleneckConfig(reduction, nl, Flag("mh_adapter", true), Flag("output_adapter", true), scaling);
    }
}
