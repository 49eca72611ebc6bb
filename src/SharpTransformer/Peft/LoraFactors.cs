using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// The <c>lora_A</c> or <c>lora_B</c> child of a <see cref="LoraLinear"/>: one weight per adapter name, registered as
/// <c>&lt;adapter&gt;.weight</c>, so parameter names read <c>lora_A.default.weight</c> as in PEFT.
/// </summary>
public sealed class LoraFactors : Module
{
    private readonly Dictionary<string, Tensor> _weights = new(StringComparer.Ordinal);

    /// <summary>The weight of adapter <paramref name="adapter"/>.</summary>
    public Tensor this[string adapter] => _weights.TryGetValue(adapter, out var w) ? w
        : throw new KeyNotFoundException($"LoraFactors: no adapter '{adapter}' (adapters: {string.Join(", ", _weights.Keys)}).");

    /// <summary>Registers <paramref name="weight"/> under adapter <paramref name="adapter"/>.</summary>
    internal void Add(string adapter, Tensor weight)
    {
        RegisterModule(adapter, new Factor(weight));
        _weights[adapter] = weight;
    }

    private sealed class Factor : Module
    {
        public Factor(Tensor weight) => RegisterParameter("weight", weight);
    }
}
