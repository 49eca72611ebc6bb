using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Normalisation used in a block.</summary>
public enum NormKind
{
    /// <summary>LayerNorm with bias.</summary>
    LayerNorm,
    /// <summary>RMSNorm.</summary>
    RmsNorm,
}

/// <summary>Options of a pre-norm transformer block.</summary>
/// <param name="Attention">Self-attention options.</param>
/// <param name="Hidden">Feed-forward hidden width.</param>
/// <param name="FeedForward">Feed-forward kind.</param>
/// <param name="Norm">Normalisation kind.</param>
/// <param name="NormEps">Normalisation epsilon.</param>
/// <param name="MlpBias">Biases in the feed-forward.</param>
/// <param name="Names">Names of the block's children (default <see cref="BlockNames.Default"/>).</param>
public sealed record BlockOptions(AttentionOptions Attention, int Hidden, FeedForwardKind FeedForward, NormKind Norm = NormKind.LayerNorm,
    float NormEps = 1e-5f, bool MlpBias = true, BlockNames? Names = null);

/// <summary>
/// Pre-norm transformer block: x + attn(norm1(x)), then + mlp(norm2(x)). Its children are named by <see cref="BlockNames"/>
/// (GPT-2's <c>ln_1</c>, <c>attn</c>, <c>ln_2</c>, <c>mlp</c>; Llama's <c>input_layernorm</c>, <c>self_attn</c>,
/// <c>post_attention_layernorm</c>, <c>mlp</c>) and read from the registry, so replacements take effect.
/// </summary>
public sealed class TransformerBlock : Module
{
    private readonly BlockNames _names;

    /// <summary>Creates the block.</summary>
    public TransformerBlock(BlockOptions o, Generator? generator = null)
    {
        int c = o.Attention.Dim;
        _names = o.Names ?? BlockNames.Default;
        RegisterModule<ILayer>(_names.Norm1, o.Norm == NormKind.LayerNorm ? new LayerNorm(c, o.NormEps) : new RmsNorm(c, o.NormEps));
        RegisterModule(_names.Attention, new MultiHeadAttention(o.Attention, generator));
        RegisterModule<ILayer>(_names.Norm2, o.Norm == NormKind.LayerNorm ? new LayerNorm(c, o.NormEps) : new RmsNorm(c, o.NormEps));
        RegisterModule(_names.Mlp, new FeedForward(c, o.Hidden, o.FeedForward, o.MlpBias, o.Attention.Dropout, generator));
    }

    /// <summary>Norm before attention.</summary>
    public ILayer Norm1 => Child<ILayer>(_names.Norm1);
    /// <summary>Self-attention.</summary>
    public MultiHeadAttention Attention => Child<MultiHeadAttention>(_names.Attention);
    /// <summary>Norm before the feed-forward.</summary>
    public ILayer Norm2 => Child<ILayer>(_names.Norm2);
    /// <summary>Feed-forward.</summary>
    public FeedForward Mlp => Child<FeedForward>(_names.Mlp);

    /// <summary>x (B, T, C) → (B, T, C).</summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        x = x.Add(Attention.Forward(Norm1.Forward(x), cache, positions, keyMask));
        return x.Add(Mlp.Forward(Norm2.Forward(x)));
    }
}
