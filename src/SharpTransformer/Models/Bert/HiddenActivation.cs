namespace SharpTransformer.Models.Bert;

/// <summary>The activation of an encoder's feed-forward and MLM transform (<c>hidden_act</c> / <c>activation</c>).</summary>
public enum HiddenActivation
{
    /// <summary>Exact GELU with erf (<c>gelu</c>).</summary>
    Gelu,
    /// <summary>GELU, tanh approximation (<c>gelu_new</c>, <c>gelu_pytorch_tanh</c>).</summary>
    GeluTanh,
    /// <summary>ReLU (<c>relu</c>).</summary>
    Relu,
}
