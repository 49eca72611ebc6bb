using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// A linear layer with low-rank adapters, as PEFT's <c>lora.Linear</c>: y = base(x) + dropout(x) Aᵀ Bᵀ · scaling, with
/// A = <c>lora_A</c> (r, in) initialised Kaiming-uniform (a = √5, i.e. U(-1/√in, 1/√in)) and B = <c>lora_B</c> (out, r) zeros,
/// so a new adapter starts as the identity. The wrapped layer (<c>base_layer</c>) is frozen. Several named adapters can be
/// added; one is active at a time (<see cref="SetAdapter"/>). <see cref="Merge"/> adds scaling·B·A into the base weight so
/// the layer costs one GEMM; <see cref="Unmerge"/> subtracts it again.
/// </summary>
public sealed class LoraLinear : Module, ILinear
{
    private readonly List<string> _names = new();
    private readonly Dictionary<string, (LoraConfig Config, Generator Generator)> _settings = new(StringComparer.Ordinal);

    /// <summary>Wraps <paramref name="baseLayer"/> (a <see cref="Module"/>), freezing its parameters. Add adapters with <see cref="AddAdapter"/>.</summary>
    public LoraLinear(ILinear baseLayer)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        if (baseLayer is LoraLinear) throw new ArgumentException("LoraLinear: the base layer is already a LoraLinear; add an adapter to it instead.", nameof(baseLayer));
        if (baseLayer is not Module m) throw new ArgumentException($"LoraLinear: the base layer {baseLayer.GetType().Name} is not a Module.", nameof(baseLayer));
        m.Freeze();
        RegisterModule("base_layer", baseLayer);
        RegisterModule("lora_A", new LoraFactors());
        RegisterModule("lora_B", new LoraFactors());
        Train(m.Training);
    }

    /// <summary>The wrapped layer.</summary>
    public ILinear BaseLayer => Child<ILinear>("base_layer");
    /// <summary>The A factors, (r, in) each.</summary>
    public LoraFactors LoraA => Child<LoraFactors>("lora_A");
    /// <summary>The B factors, (out, r) each.</summary>
    public LoraFactors LoraB => Child<LoraFactors>("lora_B");

    /// <inheritdoc/>
    public int InFeatures => BaseLayer.InFeatures;
    /// <inheritdoc/>
    public int OutFeatures => BaseLayer.OutFeatures;
    /// <summary>The base layer's weight (with the active adapter added while <see cref="IsMerged"/>).</summary>
    public Tensor? Weight => BaseLayer.Weight;
    /// <inheritdoc/>
    public Tensor? Bias => BaseLayer.Bias;

    /// <summary>The adapter names in the order they were added.</summary>
    public IReadOnlyList<string> Adapters => _names;

    /// <summary>The adapter applied by <see cref="Forward"/> (the first one added until <see cref="SetAdapter"/>), or null before any is added.</summary>
    public string? ActiveAdapter { get; private set; }

    /// <summary>True while the active adapter is merged into the base weight.</summary>
    public bool IsMerged { get; private set; }

    /// <summary>The settings of adapter <paramref name="name"/>.</summary>
    public LoraConfig ConfigOf(string name) => Settings(name, "ConfigOf").Config;

    /// <summary>
    /// Adds adapter <paramref name="name"/> with rank, alpha, dropout and scaling from <paramref name="config"/> (its targets are
    /// not read here). The first adapter added becomes active and trainable; later ones are frozen until <see cref="SetAdapter"/>.
    /// </summary>
    public void AddAdapter(string name, LoraConfig config, Generator? generator = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(config);
        if (name.Contains('.')) throw new ArgumentException($"LoraLinear.AddAdapter: adapter name '{name}' must not contain a dot.", nameof(name));
        if (_settings.ContainsKey(name)) throw new ArgumentException($"LoraLinear.AddAdapter: adapter '{name}' already exists (adapters: {string.Join(", ", _names)}).", nameof(name));
        if (config.R <= 0 || config.Alpha <= 0f || !(config.Dropout >= 0f && config.Dropout < 1f))
            throw new ArgumentException($"LoraLinear.AddAdapter: adapter '{name}': r {config.R}, alpha {config.Alpha}, dropout {config.Dropout} out of range.", nameof(config));
        var g = generator ?? new Generator(0);
        var backend = BaseLayer.Weight?.Backend ?? Tensor.DefaultBackend;
        float bound = 1f / MathF.Sqrt(InFeatures);   // kaiming_uniform_(a=√5): gain √(1/3) · √(3 / fan_in)
        var a = Tensor.Rand([config.R, InFeatures], g, -bound, bound, backend);   // (r, in)
        var b = Tensor.Zeros([OutFeatures, config.R], DType.Float32, backend);     // (out, r)
        LoraA.Add(name, a);
        LoraB.Add(name, b);
        _names.Add(name);
        _settings[name] = (config, g);   // the dropout masks continue the same stream
        if (ActiveAdapter is null) ActiveAdapter = name;
        MarkTrainable();
    }

    /// <summary>The scaling of adapter <paramref name="name"/>: alpha / r, or alpha / √r with rsLoRA.</summary>
    public float Scaling(string name) => Settings(name, "Scaling").Config.Scaling;

    /// <summary>Makes <paramref name="name"/> the adapter <see cref="Forward"/> applies and the only trainable one.</summary>
    /// <exception cref="InvalidOperationException">An adapter is merged (unmerge first).</exception>
    public void SetAdapter(string name)
    {
        Settings(name, "SetAdapter");
        Activate(name);
    }

    // As SetAdapter, but a name this layer lacks is allowed: the layer then applies no adapter (model-wide switching).
    internal void Activate(string name)
    {
        if (IsMerged && name != ActiveAdapter)
            throw new InvalidOperationException($"LoraLinear.SetAdapter: adapter '{ActiveAdapter}' is merged into the base weight; Unmerge() before switching to '{name}'.");
        ActiveAdapter = name;
        MarkTrainable();
    }

    /// <summary>Adds scaling·B·A of the active adapter into the base weight; <see cref="Forward"/> then runs the base layer alone. No-op when merged.</summary>
    public void Merge()
    {
        if (IsMerged) return;
        ApplyDelta(+1f, "Merge");
        IsMerged = true;
    }

    /// <summary>Subtracts the merged adapter's scaling·B·A from the base weight again. No-op when not merged.</summary>
    public void Unmerge()
    {
        if (!IsMerged) return;
        ApplyDelta(-1f, "Unmerge");
        IsMerged = false;
    }

    /// <summary>The dense update scaling·B·A (out, in) of adapter <paramref name="name"/>, outside autograd.</summary>
    public Tensor Delta(string name)
    {
        float s = Settings(name, "Delta").Config.Scaling;
        using var _ = GradMode.NoGrad();
        return LoraB[name].MatMul(LoraA[name]).Mul(s);   // (out, r) @ (r, in) → (out, in)
    }

    private void ApplyDelta(float sign, string op)
    {
        if (ActiveAdapter is not { } name) throw new InvalidOperationException($"LoraLinear.{op}: the layer has no adapter.");
        if (!_settings.ContainsKey(name)) return;   // the active adapter is not on this layer: nothing to merge
        var w = BaseLayer.RequireWeight($"LoraLinear.{op}");
        using var _ = GradMode.NoGrad();
        var delta = Delta(name);                                         // (out, in)
        w.CopyFrom(sign > 0 ? w.Add(delta) : w.Sub(delta));
    }

    /// <summary>(..., in) → (..., out): the base layer plus the active adapter's update (unless merged).</summary>
    public Tensor Forward(Tensor x)
    {
        var y = BaseLayer.Forward(x);                                     // (..., out)
        if (IsMerged || ActiveAdapter is not { } name || !_settings.ContainsKey(name)) return y;
        var (config, generator) = _settings[name];
        var h = config.Dropout > 0f ? Functional.Dropout(x, config.Dropout, Training, generator) : x;
        var low = Tensor.Linear(h, LoraA[name]);                           // (..., r)
        var up = Tensor.Linear(low, LoraB[name]);                          // (..., out)
        return y.Add(up.Mul(config.Scaling));
    }

    // Only the active adapter's factors train; the base layer stays frozen.
    private void MarkTrainable()
    {
        foreach (var n in _names)
        {
            LoraA[n].RequiresGrad = n == ActiveAdapter;
            LoraB[n].RequiresGrad = n == ActiveAdapter;
        }
    }

    private (LoraConfig Config, Generator Generator) Settings(string name, string op) =>
        _settings.TryGetValue(name, out var s) ? s
            : throw new ArgumentException($"LoraLinear.{op}: no adapter '{name}' (adapters: {(_names.Count == 0 ? "none" : string.Join(", ", _names))}).", nameof(name));
}
