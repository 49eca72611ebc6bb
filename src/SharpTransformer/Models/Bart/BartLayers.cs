using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bart;

/// <summary>
/// One BART layer <c>layers.{i}</c>, post-norm: self-attention (<c>self_attn</c>, <c>self_attn_layer_norm</c>), in the decoder
/// cross-attention (<c>encoder_attn</c>, <c>encoder_attn_layer_norm</c>), then the feed-forward <c>fc1</c>, <c>fc2</c> and
/// <c>final_layer_norm</c>; each sub-layer is norm(x + dropout(sublayer(x))).
/// </summary>
public sealed class BartLayer : Module
{
    private readonly HiddenActivation _activation;

    /// <summary>Creates an encoder layer (<paramref name="decoder"/> false) or a decoder layer.</summary>
    public BartLayer(BartConfig config, bool decoder, Generator generator)
    {
        _activation = config.Activation;
        int heads = decoder ? config.DecoderHeads : config.EncoderHeads, ffn = decoder ? config.DecoderFfn : config.EncoderFfn;
        var options = new AttentionOptions(config.DModel, heads, Causal: decoder, Bias: true, Dropout: config.Dropout, FusedQkv: false);
        RegisterModule("self_attn", new MultiHeadAttention(options, generator));
        RegisterModule("self_attn_layer_norm", new LayerNorm(config.DModel));
        if (decoder)
        {
            RegisterModule("encoder_attn", new MultiHeadAttention(options with { Causal = false }, generator));
            RegisterModule("encoder_attn_layer_norm", new LayerNorm(config.DModel));
        }
        RegisterModule<ILinear>("fc1", new Linear(config.DModel, ffn, bias: true, generator));
        RegisterModule<ILinear>("fc2", new Linear(ffn, config.DModel, bias: true, generator));
        RegisterModule("final_layer_norm", new LayerNorm(config.DModel));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, generator));
    }

    /// <summary>Self-attention <c>self_attn</c> (our <c>o_proj</c> is Hugging Face's <c>out_proj</c>).</summary>
    public MultiHeadAttention SelfAttention => Child<MultiHeadAttention>("self_attn");
    /// <summary>Norm after self-attention.</summary>
    public LayerNorm SelfAttentionLayerNorm => Child<LayerNorm>("self_attn_layer_norm");
    /// <summary>Cross-attention <c>encoder_attn</c> (decoder layers), else null.</summary>
    public MultiHeadAttention? EncoderAttention => ChildOrNull<MultiHeadAttention>("encoder_attn");
    /// <summary>Norm after cross-attention (decoder layers), else null.</summary>
    public LayerNorm? EncoderAttentionLayerNorm => ChildOrNull<LayerNorm>("encoder_attn_layer_norm");
    /// <summary>Feed-forward input <c>fc1</c> (F, C).</summary>
    public ILinear Fc1 => Child<ILinear>("fc1");
    /// <summary>Feed-forward output <c>fc2</c> (C, F).</summary>
    public ILinear Fc2 => Child<ILinear>("fc2");
    /// <summary>Norm after the feed-forward.</summary>
    public LayerNorm FinalLayerNorm => Child<LayerNorm>("final_layer_norm");

    /// <summary>
    /// x (B, T, C) → (B, T, C). selfMask (B, Tk): padding of the encoder's own keys (null in the decoder); the decoder continues
    /// <paramref name="selfCache"/> and attends to <paramref name="encoderHidden"/> (B, S, C) under <paramref name="encoderMask"/> (B, S).
    /// </summary>
    public Tensor Forward(Tensor x, Tensor? selfMask, IKvCache? selfCache = null, Tensor? encoderHidden = null, Tensor? encoderMask = null,
        IKvCache? crossCache = null)
    {
        x = SelfAttentionLayerNorm.Forward(x + SelfAttention.Forward(x, selfCache, null, selfMask));                   // (B, T, C)
        if (EncoderAttention is { } cross)
            x = EncoderAttentionLayerNorm!.Forward(x + cross.Forward(x, crossCache, null, encoderMask, encoderHidden));  // (B, T, C)
        var h = Fc1.Forward(x);                                                                                         // (B, T, F)
        h = _activation switch { HiddenActivation.Relu => h.Relu(), HiddenActivation.GeluTanh => h.Gelu(tanhApproximation: true), _ => h.Gelu() };
        h = Fc2.Forward(h);                                                                                             // (B, T, C)
        if (ChildOrNull<Dropout>("dropout") is { } d) h = d.Forward(h);
        return FinalLayerNorm.Forward(x + h);
    }
}

/// <summary>
/// A BART stack (<c>encoder</c> or <c>decoder</c>): learned positions <c>embed_positions</c> (offset by 2), the layers
/// <c>layers.{i}</c> and <c>layernorm_embedding</c> on the summed embeddings. The token embedding is the model's <c>shared</c>
/// table, which the stack does not own.
/// </summary>
public sealed class BartStack : Module
{
    /// <summary>Hugging Face's offset of BART's learned positions: position p reads row p + 2.</summary>
    public const int PositionOffset = 2;

    private readonly float _embedScale;

    /// <summary>Creates the encoder (<paramref name="decoder"/> false) or the decoder stack.</summary>
    public BartStack(BartConfig config, bool decoder, Generator generator)
    {
        _embedScale = config.ScaleEmbedding ? MathF.Sqrt(config.DModel) : 1f;
        RegisterModule("embed_positions", new Embedding(config.MaxPositions + PositionOffset, config.DModel, generator, 0.02f));
        int n = decoder ? config.DecoderLayers : config.EncoderLayers;
        RegisterModule("layers", new ModuleList<BartLayer>(Enumerable.Range(0, n).Select(_ => new BartLayer(config, decoder, generator))));
        RegisterModule("layernorm_embedding", new LayerNorm(config.DModel));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, generator));
    }

    /// <summary>Learned positions (max positions + 2, C).</summary>
    public Embedding EmbedPositions => Child<Embedding>("embed_positions");
    /// <summary>The layers.</summary>
    public ModuleList<BartLayer> Layers => Child<ModuleList<BartLayer>>("layers");
    /// <summary>Norm of the summed token and position embeddings.</summary>
    public LayerNorm LayernormEmbedding => Child<LayerNorm>("layernorm_embedding");

    /// <summary>
    /// Token embeddings (B, T, C) → hidden states (B, T, C), positions continuing the cached ones. Arguments as in
    /// <see cref="BartLayer.Forward"/>.
    /// </summary>
    public Tensor Forward(Tensor tokenEmbeddings, Tensor? selfMask, IKvCache[]? selfCaches = null, Tensor? encoderHidden = null,
        Tensor? encoderMask = null, IKvCache[]? crossCaches = null)
    {
        int t = tokenEmbeddings.Size(1), past = selfCaches?[0].Length ?? 0;
        var pos = Tensor.FromArray(Enumerable.Range(past + PositionOffset, t).ToArray()).To(tokenEmbeddings.Backend);
        var x = tokenEmbeddings * _embedScale + EmbedPositions.Forward(pos);                   // (B, T, C) + (T, C)
        x = LayernormEmbedding.Forward(x);
        if (ChildOrNull<Dropout>("dropout") is { } d) x = d.Forward(x);
        for (int i = 0; i < Layers.Count; i++) x = Layers[i].Forward(x, selfMask, selfCaches?[i], encoderHidden, encoderMask, crossCaches?[i]);
        return x;                                                                                  // (B, T, C)
    }
}
