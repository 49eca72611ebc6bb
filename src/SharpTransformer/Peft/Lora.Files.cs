using System.Text.Json;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

public static partial class Lora
{
    /// <summary>The adapter settings file of PEFT's layout.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>The adapter weights file of PEFT's layout.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    private const string NamePrefix = "base_model.model.";

    /// <summary>
    /// Writes adapter <paramref name="adapterName"/> alone to <paramref name="directory"/> in PEFT's layout:
    /// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c> with <c>base_model.model.&lt;module&gt;.lora_A.weight</c>
    /// (r, in) and <c>.lora_B.weight</c> (out, r), F32, where &lt;module&gt; is the Hugging Face path
    /// (<see cref="CausalLanguageModel.HuggingFaceModulePath"/>). Both files are written atomically.
    /// </summary>
    /// <param name="model">The model holding the adapter.</param>
    /// <param name="directory">The folder to write (created when missing).</param>
    /// <param name="adapterName">The adapter to save.</param>
    /// <param name="baseModelNameOrPath">Written as <c>base_model_name_or_path</c>.</param>
    public static void Save(Module model, string directory, string adapterName = "default", string? baseModelNameOrPath = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var layers = Layers(model).Where(l => l.Layer.Adapters.Contains(adapterName)).ToList();
        if (layers.Count == 0)
            throw new ArgumentException($"Lora.Save: {model.GetType().Name} has no adapter '{adapterName}' (adapters: {string.Join(", ", Adapters(model))}).", nameof(adapterName));
        var config = _configs.TryGetValue(model, out var d) && d.TryGetValue(adapterName, out var c) ? c
            : layers[0].Layer.ConfigOf(adapterName) with
            {
                TargetModules = layers.Select(l => l.Path[(l.Path.LastIndexOf('.') + 1)..]).Distinct(StringComparer.Ordinal).ToList(),
                TargetRegex = null,
            };
        var writer = new SafeTensorsWriter().Metadata("format", "pt");
        foreach (var (path, layer) in layers)
        {
            string name = NamePrefix + HuggingFacePath(model, path);
            var a = layer.LoraA[adapterName];
            var b = layer.LoraB[adapterName];
            writer.Add(name + ".lora_A.weight", a.Shape.ToArray(), a.ToArray());
            writer.Add(name + ".lora_B.weight", b.Shape.ToArray(), b.ToArray());
        }
        Directory.CreateDirectory(directory);
        writer.Save(Path.Combine(directory, WeightsFileName));
        AtomicFile.Write(Path.Combine(directory, ConfigFileName), s => WriteConfig(s, config, model is CausalLanguageModel, baseModelNameOrPath));
    }

    /// <summary>
    /// Reads an adapter saved in PEFT's layout (by PEFT's <c>save_pretrained</c> or <see cref="Save"/>) from
    /// <paramref name="directory"/> and adds it to <paramref name="model"/> as <paramref name="adapterName"/>
    /// (<see cref="Apply"/> with the file's settings, then the file's factors). F32, F16 and BF16 factors are accepted. Only plain
    /// LoRA is loaded: an adapter with DoRA, LoRA biases, trained biases, modules_to_save or per-module ranks/alphas is refused.
    /// Fields the loader does not know are skipped.
    /// </summary>
    /// <returns>The adapted module paths.</returns>
    /// <exception cref="InvalidDataException">
    /// The config is not plain LoRA, or the weights do not fit the model: every missing, unexpected and misshapen tensor is listed.
    /// The model is unchanged then.
    /// </exception>
    public static IReadOnlyList<string> Load(Module model, string directory, string adapterName = "default")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string configPath = Path.Combine(directory, ConfigFileName), weightsPath = Path.Combine(directory, WeightsFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"Lora.Load: {configPath} not found (a PEFT adapter folder holds {ConfigFileName} and {WeightsFileName}).", configPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"Lora.Load: {weightsPath} not found.", weightsPath);
        var config = ReadConfig(configPath);
        List<(string Path, Module Module)> targets;
        try { config.Validate(); targets = Targets(model, config); }
        catch (ArgumentException e) { throw new InvalidDataException($"Lora.Load: {configPath}: {e.Message}", e); }

        using var file = SafeTensorsFile.Open(weightsPath);
        var problems = new List<string>();
        var expected = new Dictionary<string, (string Path, int[] Shape)>(StringComparer.Ordinal);
        foreach (var (path, m) in targets)
        {
            var lin = (ILinear)m;
            string name = NamePrefix + HuggingFacePath(model, path);
            expected[name + ".lora_A.weight"] = (path, [config.R, lin.InFeatures]);
            expected[name + ".lora_B.weight"] = (path, [lin.OutFeatures, config.R]);
        }
        foreach (var (name, (_, shape)) in expected)
        {
            if (!file.Entries.TryGetValue(name, out var e)) problems.Add($"missing: {name} {Layout.Format(shape)}");
            else if (!e.Shape.SequenceEqual(shape)) problems.Add($"shape mismatch: {name} is {Layout.Format(e.Shape)}, the model needs {Layout.Format(shape)}");
            else if (e.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64))
                problems.Add($"dtype: {name} is {e.DType}, expected a float type");
        }
        foreach (var name in file.Names.Where(n => !expected.ContainsKey(n)).Order(StringComparer.Ordinal))
            problems.Add($"unexpected: {name} {Layout.Format(file.Entries[name].Shape)}");
        if (problems.Count > 0)
            throw new InvalidDataException($"Lora.Load: {weightsPath} does not fit {model.GetType().Name} (r {config.R}, targets " +
                $"{(config.TargetRegex ?? string.Join(", ", config.TargetModules!))}): {problems.Count} problem(s) (an adapter saved for another base model?):\n  " +
                string.Join("\n  ", problems));

        var paths = Apply(model, config, adapterName);
        var byPath = Layers(model).ToDictionary(l => l.Path, l => l.Layer, StringComparer.Ordinal);
        foreach (var (name, (path, _)) in expected)
        {
            var layer = byPath[path];
            var dst = name.EndsWith(".lora_A.weight", StringComparison.Ordinal) ? layer.LoraA[adapterName] : layer.LoraB[adapterName];
            dst.CopyFrom(file.ReadFloats(name));
        }
        return paths;
    }

    private static void WriteConfig(Stream stream, LoraConfig config, bool causalLm, string? baseModel)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteStartObject("alpha_pattern"); w.WriteEndObject();
        if (baseModel is null) w.WriteNull("base_model_name_or_path"); else w.WriteString("base_model_name_or_path", baseModel);
        w.WriteString("bias", "none");
        w.WriteBoolean("fan_in_fan_out", config.FanInFanOut);
        w.WriteBoolean("inference_mode", true);
        w.WriteBoolean("init_lora_weights", true);
        if (config.Alpha == MathF.Round(config.Alpha)) w.WriteNumber("lora_alpha", (long)config.Alpha); else w.WriteNumber("lora_alpha", config.Alpha);
        w.WriteBoolean("lora_bias", false);
        w.WriteNumber("lora_dropout", config.Dropout);
        w.WriteNull("modules_to_save");
        w.WriteString("peft_type", "LORA");
        w.WriteNumber("r", config.R);
        w.WriteStartObject("rank_pattern"); w.WriteEndObject();
        if (config.TargetRegex is { } rx) w.WriteString("target_modules", rx);
        else
        {
            w.WriteStartArray("target_modules");
            foreach (var t in config.TargetModules!) w.WriteStringValue(t);
            w.WriteEndArray();
        }
        if (causalLm) w.WriteString("task_type", "CAUSAL_LM"); else w.WriteNull("task_type");
        w.WriteBoolean("use_dora", false);
        w.WriteBoolean("use_rslora", config.UseRsLora);
        w.WriteEndObject();
    }

    // PEFT's adapter_config.json → LoraConfig; refuses what is not plain LoRA, skips unknown fields.
    private static LoraConfig ReadConfig(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"Lora.Load: {path} is not valid JSON: {e.Message}", e); }
        using var _ = doc;
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"Lora.Load: {path}: expected a JSON object.");
        JsonElement? Get(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;
        InvalidDataException Bad(string key, string why) => new($"Lora.Load: {path}: field '{key}' {why}");

        string peft = Get("peft_type") is { ValueKind: JsonValueKind.String } p ? p.GetString()! : throw Bad("peft_type", "is missing (expected \"LORA\").");
        if (peft != "LORA") throw Bad("peft_type", $"is \"{peft}\"; only LoRA adapters (\"LORA\") are supported.");
        var unsupported = new List<string>();
        if (Get("use_dora") is { } dora && dora.ValueKind == JsonValueKind.True) unsupported.Add("use_dora is true (DoRA)");
        if (Get("lora_bias") is { } lb && lb.ValueKind == JsonValueKind.True) unsupported.Add("lora_bias is true");
        if (Get("bias") is { } bias && bias.GetString() != "none") unsupported.Add($"bias is \"{bias}\" (only \"none\": base biases are not trained)");
        if (Get("modules_to_save") is { } mts && !(mts.ValueKind == JsonValueKind.Array && mts.GetArrayLength() == 0)) unsupported.Add($"modules_to_save is {mts.GetRawText()}");
        foreach (var key in new[] { "rank_pattern", "alpha_pattern" })
            if (Get(key) is { } pat && !(pat.ValueKind == JsonValueKind.Object && !pat.EnumerateObject().Any())) unsupported.Add($"{key} is {pat.GetRawText()} (per-module ranks/alphas)");
        if (Get("layers_to_transform") is { } ltt) unsupported.Add($"layers_to_transform is {ltt.GetRawText()}");
        if (Get("exclude_modules") is { } ex && !(ex.ValueKind == JsonValueKind.Array && ex.GetArrayLength() == 0)) unsupported.Add($"exclude_modules is {ex.GetRawText()}");
        if (unsupported.Count > 0)
            throw new InvalidDataException($"Lora.Load: {path} is not a plain LoRA adapter, which is all this loader applies: {string.Join("; ", unsupported)}.");

        int r = Get("r") is { ValueKind: JsonValueKind.Number } rv && rv.TryGetInt32(out var ri) ? ri : throw Bad("r", "is missing or not an integer.");
        float alpha = Get("lora_alpha") is { ValueKind: JsonValueKind.Number } av ? (float)av.GetDouble() : throw Bad("lora_alpha", "is missing or not a number.");
        float dropout = Get("lora_dropout") is { ValueKind: JsonValueKind.Number } dv ? (float)dv.GetDouble() : 0f;
        bool rs = Get("use_rslora") is { } rsv && rsv.ValueKind == JsonValueKind.True;
        bool fifo = Get("fan_in_fan_out") is { } fv && fv.ValueKind == JsonValueKind.True;
        IReadOnlyList<string>? names = null;
        string? regex = null;
        switch (Get("target_modules"))
        {
            case { ValueKind: JsonValueKind.String } s: regex = s.GetString(); break;
            case { ValueKind: JsonValueKind.Array } a:
                names = a.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad("target_modules", $"holds {e.GetRawText()}, not a name.")).ToList();
                break;
            default: throw Bad("target_modules", "is missing (a list of module names or a regex); model-type defaults are not supported.");
        }
        return new LoraConfig(r, alpha, dropout, rs, names, regex, fifo);
    }
}
