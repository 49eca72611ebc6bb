namespace SharpTransformer.Nn.MoE;

/// <summary>How the linears of a <see cref="SparseMoe"/>'s experts are named, so module paths equal Hugging Face's.</summary>
public enum ExpertNaming
{
    /// <summary>Mixtral: <c>experts.{e}.w1</c> (gate), <c>w3</c> (up), <c>w2</c> (down).</summary>
    Mixtral,
    /// <summary>DeepSeek: <c>experts.{e}.gate_proj</c>, <c>up_proj</c>, <c>down_proj</c>, and <c>shared_experts.*</c> alike.</summary>
    DeepSeek,
}
