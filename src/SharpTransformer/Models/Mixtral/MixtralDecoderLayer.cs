using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Mixtral;

/// <summary>
/// One Mixtral decoder layer: <c>x + self_attn(input_layernorm(x))</c>, then <c>+ block_sparse_moe(post_attention_layernorm(x))</c>,
/// its children named as Hugging Face's <c>MixtralDecoderLayer</c>.
/// </summary>
public sealed class MixtralDecoderLayer : Module
{
    /// <summary>Creates the layer.</summary>
    public MixtralDecoderLayer(MixtralConfig config, Generator? generator = null)
    {
        RegisterModule<ILayer>("input_layernorm", new RmsNorm(config.Hidden, config.RmsNormEps));
        RegisterModule("self_attn", new MultiHeadAttention(new AttentionOptions(config.Hidden, config.Heads, config.KvHeads, Causal: true, Bias: false,
            RopeTheta: config.RopeTheta, FusedQkv: false, HeadDim: config.HeadDim, Window: config.SlidingWindow), generator));
        RegisterModule<ILayer>("post_attention_layernorm", new RmsNorm(config.Hidden, config.RmsNormEps));
        RegisterModule("block_sparse_moe", new SparseMoe(config.Moe, generator));
    }

    /// <summary>RMSNorm before attention <c>input_layernorm</c>.</summary>
    public ILayer InputNorm => Child<ILayer>("input_layernorm");
    /// <summary>Self-attention <c>self_attn</c> (<c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>).</summary>
    public MultiHeadAttention Attention => Child<MultiHeadAttention>("self_attn");
    /// <summary>RMSNorm before the experts <c>post_attention_layernorm</c>.</summary>
    public ILayer PostAttentionNorm => Child<ILayer>("post_attention_layernorm");
    /// <summary>The sparse mixture of experts <c>block_sparse_moe</c>.</summary>
    public SparseMoe Moe => Child<SparseMoe>("block_sparse_moe");

    /// <summary>x (B, T, C) → (B, T, C).</summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        x = x.Add(Attention.Forward(InputNorm.Forward(x), cache, positions, keyMask));   // (B, T, C)
        return x.Add(Moe.Forward(PostAttentionNorm.Forward(x)));                           // (B, T, C)
    }
}
