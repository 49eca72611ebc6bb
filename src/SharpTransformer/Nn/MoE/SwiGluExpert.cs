using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>
/// One SwiGLU expert, <c>down(SiLU(gate x) ⊙ up x)</c>, without biases, its linears named as <see cref="ExpertNaming"/> says
/// (Mixtral <c>w1</c>, <c>w3</c>, <c>w2</c>; DeepSeek <c>gate_proj</c>, <c>up_proj</c>, <c>down_proj</c>). The linears are
/// <see cref="ILinear"/> slots, so LoRA or a quantized linear can take their place.
/// </summary>
public sealed class SwiGluExpert : Module, ILayer
{
    private readonly string _gate, _up, _down;

    /// <summary>Creates the expert (C → hidden → C).</summary>
    public SwiGluExpert(int dim, int hidden, ExpertNaming naming, Generator? generator = null)
    {
        (_gate, _up, _down) = naming == ExpertNaming.Mixtral ? ("w1", "w3", "w2") : ("gate_proj", "up_proj", "down_proj");
        RegisterModule<ILinear>(_gate, new Linear(dim, hidden, bias: false, generator));
        RegisterModule<ILinear>(_up, new Linear(dim, hidden, bias: false, generator));
        RegisterModule<ILinear>(_down, new Linear(hidden, dim, bias: false, generator));
    }

    /// <summary>Gate projection (<c>w1</c> or <c>gate_proj</c>), (I, C).</summary>
    public ILinear Gate => Child<ILinear>(_gate);
    /// <summary>Up projection (<c>w3</c> or <c>up_proj</c>), (I, C).</summary>
    public ILinear Up => Child<ILinear>(_up);
    /// <summary>Down projection (<c>w2</c> or <c>down_proj</c>), (C, I).</summary>
    public ILinear Down => Child<ILinear>(_down);

    /// <summary>(..., C) → (..., C)</summary>
    public Tensor Forward(Tensor x) => Down.Forward(Gate.Forward(x).Silu().Mul(Up.Forward(x)));
}
