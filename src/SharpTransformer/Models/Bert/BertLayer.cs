using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// Post-LN encoder layer (BERT, DistilBERT, RoBERTa): x = LN(x + attn(x)); x = LN(x + ffn(x)), bidirectional attention with
/// padding keys hidden by the key mask, residual dropout inside the attention projection and the feed-forward.
/// </summary>
public sealed class BertLayer : Module
{
    /// <summary>Creates the layer.</summary>
    public BertLayer(BertConfig config, Generator generator)
    {
        int c = config.HiddenSize;
        RegisterModule("attn", new MultiHeadAttention(new AttentionOptions(c, config.Heads, Causal: false, Dropout: config.HiddenDropout), generator));
        RegisterModule("attn_norm", new LayerNorm(c, config.LayerNormEps));
        RegisterModule("mlp", new FeedForward(c, config.IntermediateSize, config.FeedForward, dropout: config.HiddenDropout, generator: generator));
        RegisterModule("out_norm", new LayerNorm(c, config.LayerNormEps));
    }

    /// <summary>Self-attention (fused <c>c_attn</c>, <c>c_proj</c>).</summary>
    public MultiHeadAttention Attention => Child<MultiHeadAttention>("attn");
    /// <summary>LayerNorm after the attention residual.</summary>
    public LayerNorm AttentionNorm => Child<LayerNorm>("attn_norm");
    /// <summary>Feed-forward (<c>c_fc</c>, <c>c_proj</c>).</summary>
    public FeedForward Mlp => Child<FeedForward>("mlp");
    /// <summary>LayerNorm after the feed-forward residual.</summary>
    public LayerNorm OutputNorm => Child<LayerNorm>("out_norm");

    /// <summary>x (B, T, C), keyMask (B, T) Float32 with 0 on padding → (B, T, C).</summary>
    public Tensor Forward(Tensor x, Tensor? keyMask = null)
    {
        x = AttentionNorm.Forward(x.Add(Attention.Forward(x, keyMask: keyMask)));   // (B, T, C)
        return OutputNorm.Forward(x.Add(Mlp.Forward(x)));                          // (B, T, C)
    }
}
