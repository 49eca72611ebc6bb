using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Inverted dropout, active only in training mode, drawing its masks from a seeded generator.</summary>
public sealed class Dropout : Module, ILayer
{
    private readonly Generator _generator;

    /// <summary>Creates the layer.</summary>
    public Dropout(float p, Generator? generator = null)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: probability must be in [0, 1).");
        P = p;
        _generator = generator ?? new Generator(0);
    }

    /// <summary>Probability of zeroing an element.</summary>
    public float P { get; }

    /// <summary>Applies dropout in training mode; identity in eval mode.</summary>
    public Tensor Forward(Tensor x) => Functional.Dropout(x, P, Training, _generator);
}
