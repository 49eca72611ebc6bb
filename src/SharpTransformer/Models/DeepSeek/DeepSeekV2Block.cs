using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.DeepSeek;

/// <summary>
/// One DeepSeek-V2 decoder layer: x + self_attn(input_layernorm(x)), then + mlp(post_attention_layernorm(x)), with multi-head
/// latent attention (<see cref="LatentAttention"/>) and a dense SwiGLU or mixture-of-experts feed-forward under <c>mlp</c>.
/// Children are read from the registry, so replacements take effect.
/// </summary>
public sealed class DeepSeekV2Block : Module
{
    /// <summary>Creates the layer with the given feed-forward (a <see cref="FeedForward"/> or a mixture of experts).</summary>
    public DeepSeekV2Block(DeepSeekV2Config config, ILayer mlp, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(mlp);
        RegisterModule<ILayer>("input_layernorm", new RmsNorm(config.Hidden, config.RmsNormEps));
        RegisterModule("self_attn", new LatentAttention(config.Attention, generator));
        RegisterModule<ILayer>("post_attention_layernorm", new RmsNorm(config.Hidden, config.RmsNormEps));
        RegisterModule("mlp", mlp);
    }

    /// <summary>Norm before attention <c>input_layernorm</c>.</summary>
    public ILayer InputNorm => Child<ILayer>("input_layernorm");
    /// <summary>Latent attention <c>self_attn</c>.</summary>
    public LatentAttention Attention => Child<LatentAttention>("self_attn");
    /// <summary>Norm before the feed-forward <c>post_attention_layernorm</c>.</summary>
    public ILayer PostAttentionNorm => Child<ILayer>("post_attention_layernorm");
    /// <summary>Feed-forward <c>mlp</c>: a dense SwiGLU or a mixture of experts.</summary>
    public ILayer Mlp => Child<ILayer>("mlp");

    /// <summary>x (B, T, C) → (B, T, C).</summary>
    public Tensor Forward(Tensor x, IKvCache? cache = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        x = x.Add(Attention.Forward(InputNorm.Forward(x), cache, positions, keyMask));
        return x.Add(Mlp.Forward(PostAttentionNorm.Forward(x)));
    }
}
