using System.Runtime.CompilerServices;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// Bottleneck adapters (Houlsby et al., 2019; AdapterHub's <c>BnConfig</c>) on a whole model: <see cref="Apply"/> wraps the
/// output projection of every attention (<see cref="MultiHeadAttention.Output"/>) and/or every feed-forward
/// (<see cref="FeedForward.Down"/>) of GPT-2, Llama, BERT-family and other blocks in a <see cref="BottleneckAdapterLinear"/>
/// (through <see cref="Module.ReplaceModules(Func{string, Module, bool}, Func{string, Module, Module})"/>) and freezes every
/// other parameter. Several named adapters can live on one model; <see cref="SetAdapter"/> switches between them;
/// <see cref="Save"/> and <see cref="Load"/> read and write one adapter alone.
/// </summary>
public static partial class BottleneckAdapters
{
    private static readonly ConditionalWeakTable<Module, Dictionary<string, BottleneckConfig>> _configs = new();

    /// <summary>
    /// Adds adapter <paramref name="adapterName"/> after the attention and/or feed-forward output projections that
    /// <paramref name="config"/> names, and freezes every parameter that is not an adapter's. The first adapter of a model is
    /// active and trainable; a later one is added frozen and inactive until <see cref="SetAdapter"/>. Returns the wrapped
    /// module paths (those of the output projections).
    /// </summary>
    /// <exception cref="ArgumentException">The model has no attention or feed-forward to adapt, or the name exists.</exception>
    public static IReadOnlyList<string> Apply(Module model, BottleneckConfig config, string adapterName = "default", Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(adapterName);
        config.Validate();
        var targets = Targets(model, config);
        foreach (var (path, m) in targets)
            if (m is BottleneckAdapterLinear l && l.Adapters.Contains(adapterName))
                throw new ArgumentException($"BottleneckAdapters.Apply: '{path}' already has an adapter named '{adapterName}' (adapters: {string.Join(", ", l.Adapters)}).", nameof(adapterName));
        bool first = !Layers(model).Any();
        string? active = Layers(model).Select(l => l.Layer.ActiveAdapter).FirstOrDefault(a => a is not null);
        var g = generator ?? new Generator(0);
        var paths = targets.Select(t => t.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var (_, m) in targets)
            if (m is BottleneckAdapterLinear l) l.AddAdapter(adapterName, config, g);
        model.ReplaceModules((path, m) => paths.Contains(path) && m is not BottleneckAdapterLinear, (_, m) =>
        {
            var l = new BottleneckAdapterLinear((ILinear)m);
            l.AddAdapter(adapterName, config, g);
            return l;
        });
        if (first) FreezeAllButAdapters(model);
        else foreach (var (_, l) in Layers(model)) l.Activate(active);   // the model's active adapter stays active everywhere
        _configs.GetOrCreateValue(model)[adapterName] = config;
        return targets.Select(t => t.Path).ToList();
    }

    /// <summary>Every <see cref="BottleneckAdapterLinear"/> of <paramref name="model"/> with its path, in module order.</summary>
    public static IEnumerable<(string Path, BottleneckAdapterLinear Layer)> Layers(Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.NamedModules().Where(x => x.Module is BottleneckAdapterLinear).Select(x => (x.Name, (BottleneckAdapterLinear)x.Module));
    }

    /// <summary>The adapter names of <paramref name="model"/>, in the order they were added.</summary>
    public static IReadOnlyList<string> Adapters(Module model) =>
        Layers(model).SelectMany(l => l.Layer.Adapters).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Makes <paramref name="adapterName"/> the active (and only trainable) adapter of every adapted layer, or, with null, turns
    /// every adapter off so the model computes its base again.
    /// </summary>
    /// <exception cref="ArgumentException">No layer has the adapter.</exception>
    public static void SetAdapter(Module model, string? adapterName)
    {
        var layers = Layers(model).ToList();
        if (layers.Count == 0) throw new InvalidOperationException($"BottleneckAdapters.SetAdapter: {model.GetType().Name} has no adapter (call BottleneckAdapters.Apply or Load first).");
        if (adapterName is not null && !layers.Any(l => l.Layer.Adapters.Contains(adapterName)))
            throw new ArgumentException($"BottleneckAdapters.SetAdapter: no adapter '{adapterName}' (adapters: {string.Join(", ", Adapters(model))}).", nameof(adapterName));
        foreach (var (_, l) in layers) l.Activate(adapterName);
    }

    /// <summary>The parameters of every adapter of <paramref name="model"/> (all names).</summary>
    public static IEnumerable<Tensor> Parameters(Module model) =>
        Layers(model).SelectMany(l => l.Layer.Adapters.SelectMany(n => l.Layer[n].Parameters()));

    // The output projections config places adapters after: (path, module), each an ILinear or a BottleneckAdapterLinear.
    private static List<(string Path, Module Module)> Targets(Module model, BottleneckConfig config)
    {
        var found = new List<(string, Module)>();
        foreach (var (path, m) in model.NamedModules())
        {
            ILinear? output = m switch
            {
                MultiHeadAttention a when config.MhAdapter => a.Output,
                FeedForward f when config.OutputAdapter => f.Down,
                _ => null,
            };
            if (output is null) continue;
            var name = m.Children().First(c => ReferenceEquals(c.Module, output)).Name;
            found.Add((path.Length == 0 ? name : path + "." + name, (Module)output));
        }
        if (found.Count == 0)
            throw new ArgumentException($"BottleneckAdapters.Apply: {model.GetType().Name} has no {(config.MhAdapter ? "MultiHeadAttention" : "")}" +
                $"{(config.MhAdapter && config.OutputAdapter ? " or " : "")}{(config.OutputAdapter ? "FeedForward" : "")} module to place an adapter after.", nameof(model));
        return found;
    }

    private static void FreezeAllButAdapters(Module model)
    {
        var keep = new HashSet<Tensor>(Parameters(model), ReferenceEqualityComparer.Instance);
        foreach (var p in model.Parameters())
            if (!keep.Contains(p)) p.RequiresGrad = false;
    }
}
