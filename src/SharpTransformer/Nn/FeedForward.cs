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

/// <summary>
/// Feed-forward network, its linears named as Hugging Face names them: a GELU or ReLU MLP (<c>c_fc</c>, <c>c_proj</c>, as GPT-2)
/// or SwiGLU (<c>gate_proj</c>, <c>up_proj</c>, <c>down_proj</c>, as Llama).
/// </summary>
public sealed class FeedForward : Module, ILayer
{
    private readonly string _up, _down;

    /// <summary>Creates the network.</summary>
    public FeedForward(int dim, int hidden, FeedForwardKind kind, bool bias = true, float dropout = 0f, Generator? generator = null)
    {
        Kind = kind;
        if (kind == FeedForwardKind.SwiGlu)
        {
            (_up, _down) = ("up_proj", "down_proj");
            RegisterModule<ILinear>("gate_proj", new Linear(dim, hidden, bias, generator));
            RegisterModule<ILinear>(_up, new Linear(dim, hidden, bias, generator));
            RegisterModule<ILinear>(_down, new Linear(hidden, dim, bias, generator));
        }
        else
        {
            (_up, _down) = ("c_fc", "c_proj");
            RegisterModule<ILinear>(_up, new Linear(dim, hidden, bias, generator));
            RegisterModule<ILinear>(_down, new Linear(hidden, dim, bias, generator));
        }
        if (dropout > 0f) RegisterModule("dropout", new Dropout(dropout, generator));
    }

    /// <summary>The kind.</summary>
    public FeedForwardKind Kind { get; }
    /// <summary>SwiGLU gate projection <c>gate_proj</c> (null for GELU MLPs).</summary>
    public ILinear? Gate => Kind == FeedForwardKind.SwiGlu ? Child<ILinear>("gate_proj") : null;
    /// <summary>Up projection (<c>up_proj</c>, or <c>c_fc</c> in a GELU MLP).</summary>
    public ILinear Up => Child<ILinear>(_up);
    /// <summary>Down projection (<c>down_proj</c>, or <c>c_proj</c> in a GELU MLP).</summary>
    public ILinear Down => Child<ILinear>(_down);
    /// <summary>Residual dropout, if any.</summary>
    public Dropout? DropoutLayer => ChildOrNull<Dropout>("dropout");

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
        return DropoutLayer is { } d ? d.Forward(y) : y;
    }
}
