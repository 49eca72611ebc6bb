using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Peft;

/// <summary>
/// One bottleneck adapter: h ↦ h + scaling · up(act(down(h))), with <c>adapter_down</c> (m, C) initialised as a PyTorch linear
/// and <c>adapter_up</c> (C, m) zeros, so a new adapter is exactly the identity and the adapted model starts equal to its base.
/// </summary>
public sealed class Bottleneck : Module
{
    /// <summary>Creates an adapter for <paramref name="features"/> features with the width and nonlinearity of <paramref name="config"/>.</summary>
    public Bottleneck(int features, BottleneckConfig config, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int m = config.BottleneckSize(features);
        RegisterModule<ILinear>("adapter_down", new Linear(features, m, bias: true, generator));
        var up = RegisterModule<ILinear>("adapter_up", new Linear(m, features, bias: true, generator));
        up.Weight!.CopyFrom(new float[features * m]);   // zero: the residual branch starts at 0
        up.Bias!.CopyFrom(new float[features]);
    }

    /// <summary>The settings the adapter was made with.</summary>
    public BottleneckConfig Config { get; }
    /// <summary>The down-projection C → m.</summary>
    public ILinear Down => Child<ILinear>("adapter_down");
    /// <summary>The up-projection m → C.</summary>
    public ILinear Up => Child<ILinear>("adapter_up");

    /// <summary>(..., C) → (..., C): h + scaling · up(act(down(h))).</summary>
    public Tensor Forward(Tensor h)
    {
        var d = Down.Forward(h);                                   // (..., m)
        d = Config.NonLinearity switch
        {
            AdapterNonLinearity.Relu => d.Relu(),
            AdapterNonLinearity.Gelu => d.Gelu(),
            _ => d.Silu(),
        };
        var u = Up.Forward(d);                                     // (..., C)
        return h.Add(Config.Scaling == 1f ? u : u.Mul(Config.Scaling));
    }
}
