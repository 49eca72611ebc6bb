using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>The position-wise feed-forward network of a transformer block.</summary>
public enum FeedForwardKind
{
    /// <summary>fc → GELU (exact) → proj (BERT).</summary>
    Gelu,
    /// <summary>fc → GELU (tanh form) → proj (GPT-2).</summary>
    GeluTanh,
    /// <summary>down(SiLU(gate x) ⊙ up x) (Llama).</summary>
    SwiGlu,
    /// <summary>fc → ReLU → proj (the original transformer, DistilBERT with <c>activation: relu</c>).</summary>
    Relu,
}

/// <summary>Feed-forward network: a GELU or ReLU MLP (<c>fc</c>, <c>proj</c>) or SwiGLU (<c>gate</c>, <c>up</c>, <c>down</c>).</summary>
public sealed class FeedForward : Module
{
    /// <summary>Creates the network.</summary>
    public FeedForward(int dim, int hidden, FeedForwardKind kind, bool bias = true, float dropout = 0f, Generator? generator = null)
    {
        Kind = kind;
        if (kind == FeedForwardKind.SwiGlu)
        {
            Gate = RegisterModule("gate", new Linear(dim, hidden, bias, generator));
            Up = RegisterModule("up", new Linear(dim, hidden, bias, generator));
            Down = RegisterModule("down", new Linear(hidden, dim, bias, generator));
        }
        else
        {
            Up = RegisterModule("fc", new Linear(dim, hidden, bias, generator));
            Down = RegisterModule("proj", new Linear(hidden, dim, bias, generator));
        }
        if (dropout > 0f) DropoutLayer = RegisterModule("dropout", new Dropout(dropout, generator));
    }

    /// <summary>The kind.</summary>
    public FeedForwardKind Kind { get; }
    /// <summary>SwiGLU gate projection (null for GELU MLPs).</summary>
    public Linear? Gate { get; }
    /// <summary>Up projection (<c>fc</c> in a GELU MLP).</summary>
    public Linear Up { get; }
    /// <summary>Down projection (<c>proj</c> in a GELU MLP).</summary>
    public Linear Down { get; }
    /// <summary>Residual dropout, if any.</summary>
    public Dropout? DropoutLayer { get; }

    /// <summary>(..., C) → (..., C)</summary>
    public Tensor Forward(Tensor x)
    {
        Tensor hdn = Kind switch
        {
            FeedForwardKind.SwiGlu => Gate!.Forward(x).Silu().Mul(Up.Forward(x)),
            FeedForwardKind.GeluTanh => Up.Forward(x).Gelu(tanhApproximation: true),
            FeedForwardKind.Relu => Up.Forward(x).Relu(),
            _ => Up.Forward(x).Gelu(),
        };
        var y = Down.Forward(hdn);
        return DropoutLayer is null ? y : DropoutLayer.Forward(y);
    }
}
