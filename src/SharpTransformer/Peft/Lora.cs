using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// LoRA on a whole model, as PEFT's <c>LoraModel</c>: <see cref="Apply"/> wraps the targeted linear layers in
/// <see cref="LoraLinear"/> (through <see cref="Module.ReplaceModules(Func{string, Module, bool}, Func{string, Module, Module})"/>)
/// and freezes everything else; <see cref="SetAdapter"/>, <see cref="Merge"/> and <see cref="Unmerge"/> act on every wrapped
/// layer; <see cref="Save"/> and <see cref="Load"/> read and write the adapter alone in PEFT's layout.
/// </summary>
public static partial class Lora
{
    // The config each adapter was applied with, per model (for Save).
    private static readonly ConditionalWeakTable<Module, Dictionary<string, LoraConfig>> _configs = new();

    /// <summary>
    /// Adds adapter <paramref name="adapterName"/> to every linear layer that <paramref name="config"/> targets (wrapping it in a
    /// <see cref="LoraLinear"/> the first time) and freezes every parameter that is not a LoRA factor. The first adapter of a
    /// model is active and trainable; a later one is added frozen and inactive until <see cref="SetAdapter"/>. Returns the
    /// adapted module paths.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A target name matches no module, the regex matches none, a target is not a linear layer, or the adapter name exists.
    /// </exception>
    public static IReadOnlyList<string> Apply(Module model, LoraConfig config, string adapterName = "default", Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        config.Validate();
        var targets = Targets(model, config);
        foreach (var (path, m) in targets)
            if (m is LoraLinear l && l.Adapters.Contains(adapterName))
                throw new ArgumentException($"Lora.Apply: '{path}' already has an adapter named '{adapterName}' (adapters: {string.Join(", ", l.Adapters)}).", nameof(adapterName));
        string? active = Layers(model).Select(l => l.Layer.ActiveAdapter).FirstOrDefault();
        var g = generator ?? new Generator(0);
        var paths = targets.Select(t => t.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (path, m) in targets)
            if (m is LoraLinear l) l.AddAdapter(adapterName, config, g);
        model.ReplaceModules((path, m) => paths.Contains(path) && m is not LoraLinear, (_, m) =>
        {
            var l = new LoraLinear((ILinear)m);
            l.AddAdapter(adapterName, config, g);
            return l;
        });
        if (active is null) FreezeAllButLora(model);
        else foreach (var (_, l) in Layers(model)) l.Activate(active);   // the model's active adapter stays active everywhere
        _configs.GetOrCreateValue(model)[adapterName] = config;
        return targets.Select(t => t.Path).ToList();
    }

    /// <summary>Every <see cref="LoraLinear"/> of <paramref name="model"/> with its path, in module order.</summary>
    public static IEnumerable<(string Path, LoraLinear Layer)> Layers(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.NamedModules().Where(x => x.Module is LoraLinear).Select(x => (x.Name, (LoraLinear)x.Module));
    }

    /// <summary>The adapter names of <paramref name="model"/>, in the order they were added.</summary>
    public static IReadOnlyList<string> Adapters(Module model) =>
        Layers(model).SelectMany(l => l.Layer.Adapters).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Makes <paramref name="adapterName"/> the active (and only trainable) adapter of every LoRA layer.</summary>
    /// <remarks>Layers that lack the adapter (it targeted other modules) apply none while it is active, as in PEFT.</remarks>
    /// <exception cref="ArgumentException">No layer has the adapter.</exception>
    public static void SetAdapter(Module model, string adapterName)
    {
        var layers = RequireLayers(model, "SetAdapter");
        if (!layers.Any(l => l.Layer.Adapters.Contains(adapterName)))
            throw new ArgumentException($"Lora.SetAdapter: no adapter '{adapterName}' (adapters: {string.Join(", ", Adapters(model))}).", nameof(adapterName));
        if (layers.FirstOrDefault(l => l.Layer.IsMerged && l.Layer.ActiveAdapter != adapterName) is { Layer: not null } merged)
            throw new InvalidOperationException($"Lora.SetAdapter: adapter '{merged.Layer.ActiveAdapter}' is merged into the base weights " +
                $"('{merged.Path}'); call Lora.Unmerge before switching to '{adapterName}'.");
        foreach (var (_, l) in layers) l.Activate(adapterName);   // layers without it apply no adapter, as in PEFT
    }

    /// <summary>Merges the active adapter into the base weights of every LoRA layer (<see cref="LoraLinear.Merge"/>).</summary>
    public static void Merge(Module model)
    {
        foreach (var (_, l) in RequireLayers(model, "Merge")) l.Merge();
    }

    /// <summary>Takes the merged adapter out of the base weights again (<see cref="LoraLinear.Unmerge"/>).</summary>
    public static void Unmerge(Module model)
    {
        foreach (var (_, l) in RequireLayers(model, "Unmerge")) l.Unmerge();
    }

    /// <summary>The LoRA factors of every layer (all adapters): the parameters an optimizer should get.</summary>
    public static IEnumerable<Tensor> Parameters(Module model) =>
        Layers(model).SelectMany(l => l.Layer.LoraA.Parameters().Concat(l.Layer.LoraB.Parameters()));

    /// <summary>The path Hugging Face gives the module at <paramref name="path"/> (see <see cref="CausalLanguageModel.HuggingFaceModulePath"/>).</summary>
    public static string HuggingFacePath(Module model, string path) =>
        model is CausalLanguageModel c ? c.HuggingFaceModulePath(path)
        : model is Seq2SeqLanguageModel s ? s.HuggingFaceModulePath(path) : path;

    // The modules config targets: (path, module), each an ILinear or a LoraLinear; throws for a target matching nothing or a
    // non-linear module. Modules inside a LoraLinear (its base layer) are never targets.
    private static List<(string Path, Module Module)> Targets(Module model, LoraConfig config)
    {
        var all = model.NamedModules().Where(x => x.Name.Length > 0).ToList();
        var loraPaths = all.Where(x => x.Module is LoraLinear).Select(x => x.Name + ".").ToList();
        var candidates = all.Where(x => !loraPaths.Any(p => x.Name.StartsWith(p, StringComparison.Ordinal))).ToList();
        string Describe() => string.Join(", ", candidates.Where(x => x.Module is ILinear)
            .Select(x => x.Name[(x.Name.LastIndexOf('.') + 1)..]).Distinct(StringComparer.Ordinal));
        var found = new List<(string, Module)>();
        if (config.TargetRegex == LoraConfig.AllLinear)
        {
            found.AddRange(candidates.Where(x => x.Module is ILinear && !IsOutputHead(model, x.Name, x.Module)));
            if (found.Count == 0) throw new ArgumentException($"Lora.Apply: target '{LoraConfig.AllLinear}': {model.GetType().Name} has no linear layer besides its output head.", nameof(config));
            return found;
        }
        if (config.TargetRegex is { } pattern)
        {
            var regex = new Regex("^(?:" + pattern + ")$", RegexOptions.CultureInvariant);
            foreach (var x in candidates)
                if (regex.IsMatch(x.Name) || regex.IsMatch(HuggingFacePath(model, x.Name))) found.Add(Linear(x, $"regex '{pattern}'"));
            if (found.Count == 0)
                throw new ArgumentException($"Lora.Apply: target regex '{pattern}' matches no module path of {model.GetType().Name} " +
                    $"(paths such as '{candidates.FirstOrDefault(x => x.Module is ILinear).Name}'; linear modules: {Describe()}).", nameof(config));
            return found;
        }
        var matched = new HashSet<string>(StringComparer.Ordinal);
        foreach (var x in candidates)   // module order, as PEFT's named_modules walk
        {
            string hf = HuggingFacePath(model, x.Name);
            var hits = config.TargetModules!.Where(t => x.Name == t || x.Name.EndsWith("." + t, StringComparison.Ordinal)
                || hf == t || hf.EndsWith("." + t, StringComparison.Ordinal)).ToList();
            if (hits.Count == 0) continue;
            matched.UnionWith(hits);
            found.Add(Linear(x, $"target '{hits[0]}'"));
        }
        var unmatched = config.TargetModules!.Where(t => !matched.Contains(t)).ToList();
        if (unmatched.Count > 0)
            throw new ArgumentException($"Lora.Apply: target module(s) {string.Join(", ", unmatched.Select(u => $"'{u}'"))} match no module of " +
                $"{model.GetType().Name} (a target matches a path equal to it or ending with '.' + it; linear modules: {Describe()}).", nameof(config));
        return found;
    }

    private static (string, Module) Linear((string Name, Module Module) x, string what) =>
        x.Module is ILinear ? x : throw new ArgumentException(
            $"Lora.Apply: {what} matches '{x.Name}', a {x.Module.GetType().Name}; LoRA wraps only linear layers (ILinear).", "config");

    // PEFT's all-linear leaves out the output layer: lm_head, or a linear whose weight is the model's output head.
    private static bool IsOutputHead(Module model, string path, Module m) =>
        path == "lm_head" || path.EndsWith(".lm_head", StringComparison.Ordinal)
        || (model is CausalLanguageModel c && m is ILinear l && l.OutFeatures == c.VocabSize && path.IndexOf('.') < 0);

    private static void FreezeAllButLora(Module model)
    {
        var lora = new HashSet<Tensor>(Parameters(model), ReferenceEqualityComparer.Instance);
        foreach (var p in model.Parameters())
            if (!lora.Contains(p)) p.RequiresGrad = false;
    }

    private static List<(string Path, LoraLinear Layer)> RequireLayers(Module model, string op)
    {
        var layers = Layers(model).ToList();
        if (layers.Count == 0) throw new InvalidOperationException($"Lora.{op}: {model.GetType().Name} has no LoRA layer (call Lora.Apply or Lora.Load first).");
        return layers;
    }
}
