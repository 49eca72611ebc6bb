using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// An output projection (the attention's <c>c_proj</c>/<c>o_proj</c>, the feed-forward's <c>c_proj</c>/<c>down_proj</c>) with
/// bottleneck adapters after it: y = base(x), then the active <see cref="Bottleneck"/> applied to y. The wrapped layer
/// (<c>base_layer</c>) is frozen; the adapters are children of <c>adapters</c>, named by adapter, so parameter names read
/// <c>….c_proj.adapters.default.adapter_down.weight</c> as AdapterHub's. One adapter is active (and trainable) at a time.
/// </summary>
/// <remarks>
/// The adapter acts on the projection's output, before the dropout a feed-forward or attention applies after it (AdapterHub
/// applies it after that dropout); in evaluation both are the same.
/// </remarks>
public sealed class BottleneckAdapterLinear : Module, ILinear
{
    private readonly List<string> _names = new();

    /// <summary>Wraps <paramref name="baseLayer"/> (a <see cref="Module"/>), freezing its parameters.</summary>
    public BottleneckAdapterLinear(ILinear baseLayer)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (baseLayer is BottleneckAdapterLinear) throw new ArgumentException("BottleneckAdapterLinear: the base layer already holds adapters; add one to it instead.", nameof(baseLayer));
        if (baseLayer is not Module m) throw new ArgumentException($"BottleneckAdapterLinear: the base layer {baseLayer.GetType().Name} is not a Module.", nameof(baseLayer));
        m.Freeze();
        RegisterModule("base_layer", baseLayer);
        RegisterModule("adapters", new AdapterSet());
        Train(m.Training);
    }

    /// <summary>The wrapped layer.</summary>
    public ILinear BaseLayer => Child<ILinear>("base_layer");
    /// <inheritdoc/>
    public int InFeatures => BaseLayer.InFeatures;
    /// <inheritdoc/>
    public int OutFeatures => BaseLayer.OutFeatures;
    /// <summary>The base layer's weight.</summary>
    public Tensor? Weight => BaseLayer.Weight;
    /// <inheritdoc/>
    public Tensor? Bias => BaseLayer.Bias;

    /// <summary>The adapter names in the order they were added.</summary>
    public IReadOnlyList<string> Adapters => _names;

    /// <summary>The adapter <see cref="Forward"/> applies, or null for none (the base layer alone).</summary>
    public string? ActiveAdapter { get; private set; }

    /// <summary>The adapter named <paramref name="name"/>.</summary>
    public Bottleneck this[string name] => _names.Contains(name) ? Child<AdapterSet>("adapters").Get(name)
        : throw new KeyNotFoundException($"BottleneckAdapterLinear: no adapter '{name}' (adapters: {(_names.Count == 0 ? "none" : string.Join(", ", _names))}).");

    /// <summary>
    /// Adds adapter <paramref name="name"/> (a new <see cref="Bottleneck"/> over <see cref="OutFeatures"/>). The first adapter
    /// added becomes active and trainable; later ones are frozen until <see cref="SetAdapter"/>.
    /// </summary>
    public Bottleneck AddAdapter(string name, BottleneckConfig config, Generator? generator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(config);
        if (name.Contains('.')) throw new ArgumentException($"BottleneckAdapterLinear.AddAdapter: adapter name '{name}' must not contain a dot.", nameof(name));
        if (_names.Contains(name)) throw new ArgumentException($"BottleneckAdapterLinear.AddAdapter: adapter '{name}' already exists (adapters: {string.Join(", ", _names)}).", nameof(name));
        var adapter = new Bottleneck(OutFeatures, config, generator);
        if (BaseLayer.Weight?.Backend is { } backend) adapter.To(backend);
        adapter.Train(Training);
        Child<AdapterSet>("adapters").Add(name, adapter);
        _names.Add(name);
        ActiveAdapter ??= name;
        MarkTrainable();
        return adapter;
    }

    /// <summary>Makes <paramref name="name"/> the adapter <see cref="Forward"/> applies and the only trainable one.</summary>
    public void SetAdapter(string name)
    {
        _ = this[name];
        Activate(name);
    }

    // As SetAdapter, but a name this layer lacks (or null) is allowed: the layer then applies no adapter.
    internal void Activate(string? name)
    {
        ActiveAdapter = name;
        MarkTrainable();
    }

    /// <summary>(..., in) → (..., out): the base layer, then the active adapter (if this layer has it).</summary>
    public Tensor Forward(Tensor x)
    {
        var y = BaseLayer.Forward(x);                                  // (..., out)
        return ActiveAdapter is { } name && _names.Contains(name) ? Child<AdapterSet>("adapters").Get(name).Forward(y) : y;
    }

    private void MarkTrainable()
    {
        var set = Child<AdapterSet>("adapters");
        foreach (var n in _names)
            foreach (var p in set.Get(n).Parameters()) p.RequiresGrad = n == ActiveAdapter;
    }

    // The "adapters" child: one Bottleneck per adapter name.
    private sealed class AdapterSet : Module
    {
        public void Add(string name, Bottleneck adapter) => RegisterModule(name, adapter);
        public Bottleneck Get(string name) => Child<Bottleneck>(name);
    }
}
