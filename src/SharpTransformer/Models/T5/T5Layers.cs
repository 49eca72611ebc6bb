using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.T5;

/// <summary>
/// T5's attention sub-layer <c>layer.0</c> of a block: pre-norm self-attention plus the residual. Scores are not scaled by
/// 1/√d (Scale 1) and get the relative position bias; the first block of a stack also holds the bias table
/// <c>relative_attention_bias</c> (Hugging Face keeps it inside <c>SelfAttention</c>).
/// </summary>
public sealed class T5SelfAttentionLayer : Module
{
    /// <summary>Creates the layer (<paramref name="causal"/> in the decoder; <paramref name="hasRelativeBias"/> in a stack's first block).</summary>
    public T5SelfAttentionLayer(T5Config config, bool causal, bool hasRelativeBias, Generator generator)
    {
        RegisterModule("SelfAttention", new MultiHeadAttention(T5.AttentionOptionsOf(config, causal), generator));
        if (hasRelativeBias) RegisterModule("relative_attention_bias", new Embedding(config.RelativeBuckets, config.Heads, generator, 0.02f));
        RegisterModule("layer_norm", new RmsNorm(config.DModel, config.Eps));
    }

    /// <summary>Self-attention <c>SelfAttention</c> (projections <c>q_proj</c>, <c>k_proj</c>, <c>v_proj</c>, <c>o_proj</c>; Hugging Face's q, k, v, o).</summary>
    public MultiHeadAttention SelfAttention => Child<MultiHeadAttention>("SelfAttention");
    /// <summary>Bias table (buckets, H), or null outside a stack's first block.</summary>
    public Embedding? RelativeAttentionBias => ChildOrNull<Embedding>("relative_attention_bias");
    /// <summary>T5 layer norm (RMS, no mean, no bias).</summary>
    public RmsNorm LayerNorm => Child<RmsNorm>("layer_norm");

    /// <summary>x (B, T, C) → x + attention(norm(x)) (B, T, C); bias (1, H, T, Tk); keyMask (B, Tk) hides padding keys.</summary>
    public Tensor Forward(Tensor x, Tensor bias, Tensor? keyMask, IKvCache? cache) =>
        x + SelfAttention.Forward(LayerNorm.Forward(x), cache, null, keyMask, null, bias);
}

/// <summary>T5's cross-attention sub-layer <c>layer.1</c> of a decoder block: pre-norm attention over the encoder output, no position bias.</summary>
public sealed class T5CrossAttentionLayer : Module
{
    /// <summary>Creates the layer.</summary>
    public T5CrossAttentionLayer(T5Config config, Generator generator)
    {
        RegisterModule("EncDecAttention", new MultiHeadAttention(T5.AttentionOptionsOf(config, causal: false), generator));
        RegisterModule("layer_norm", new RmsNorm(config.DModel, config.Eps));
    }

    /// <summary>Cross-attention <c>EncDecAttention</c>.</summary>
    public MultiHeadAttention EncDecAttention => Child<MultiHeadAttention>("EncDecAttention");
    /// <summary>T5 layer norm.</summary>
    public RmsNorm LayerNorm => Child<RmsNorm>("layer_norm");

    /// <summary>
    /// x (B, T, C), encoder output (B, S, C) → x + attention(norm(x), encoder) (B, T, C). A complete
    /// <see cref="CrossAttentionCache"/> is read instead of projecting the encoder output again.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor encoderHidden, Tensor? encoderMask, IKvCache? cache) =>
        x + EncDecAttention.Forward(LayerNorm.Forward(x), cache, null, encoderMask, encoderHidden);
}

/// <summary>
/// T5's feed-forward <c>DenseReluDense</c>: <c>wo(act(wi(x)))</c>, or gated (T5 v1.1) <c>wo(act(wi_0(x)) * wi_1(x))</c>, no biases.
/// </summary>
public sealed class T5DenseActDense : Module
{
    private readonly HiddenActivation _activation;

    /// <summary>Creates the feed-forward.</summary>
    public T5DenseActDense(T5Config config, Generator generator)
    {
        _activation = config.Activation;
        if (config.GatedFeedForward)
        {
            RegisterModule<ILinear>("wi_0", new Linear(config.DModel, config.DFf, bias: false, generator));
            RegisterModule<ILinear>("wi_1", new Linear(config.DModel, config.DFf, bias: false, generator));
        }
        else RegisterModule<ILinear>("wi", new Linear(config.DModel, config.DFf, bias: false, generator));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, generator));
        RegisterModule<ILinear>("wo", new Linear(config.DFf, config.DModel, bias: false, generator));
    }

    /// <summary>Input projection <c>wi</c> (F, C), or null when gated.</summary>
    public ILinear? Wi => ChildOrNull<ILinear>("wi");
    /// <summary>Gated input projections <c>wi_0</c> (activated) and <c>wi_1</c> (linear), (F, C) each, or null.</summary>
    public (ILinear Wi0, ILinear Wi1)? Gated => ChildOrNull<ILinear>("wi_0") is { } w0 ? (w0, Child<ILinear>("wi_1")) : null;
    /// <summary>Output projection <c>wo</c> (C, F).</summary>
    public ILinear Wo => Child<ILinear>("wo");

    /// <summary>(B, T, C) → (B, T, C)</summary>
    public Tensor Forward(Tensor x)
    {
        var h = Gated is { } g ? Activate(g.Wi0.Forward(x)) * g.Wi1.Forward(x) : Activate(Wi!.Forward(x));   // (B, T, F)
        if (ChildOrNull<Dropout>("dropout") is { } d) h = d.Forward(h);
        return Wo.Forward(h);                                                                                 // (B, T, C)
    }

    private Tensor Activate(Tensor h) => _activation switch
    {
        HiddenActivation.Relu => h.Relu(),
        HiddenActivation.GeluTanh => h.Gelu(tanhApproximation: true),
        _ => h.Gelu(),
    };
}

/// <summary>T5's feed-forward sub-layer (<c>layer.1</c> of an encoder block, <c>layer.2</c> of a decoder block): x + dropout(ff(norm(x))).</summary>
public sealed class T5FeedForwardLayer : Module
{
    /// <summary>Creates the layer.</summary>
    public T5FeedForwardLayer(T5Config config, Generator generator)
    {
        RegisterModule("DenseReluDense", new T5DenseActDense(config, generator));
        RegisterModule("layer_norm", new RmsNorm(config.DModel, config.Eps));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, generator));
    }

    /// <summary>The feed-forward <c>DenseReluDense</c>.</summary>
    public T5DenseActDense DenseReluDense => Child<T5DenseActDense>("DenseReluDense");
    /// <summary>T5 layer norm.</summary>
    public RmsNorm LayerNorm => Child<RmsNorm>("layer_norm");

    /// <summary>(B, T, C) → (B, T, C)</summary>
    public Tensor Forward(Tensor x)
    {
        var h = DenseReluDense.Forward(LayerNorm.Forward(x));
        return x + (ChildOrNull<Dropout>("dropout") is { } d ? d.Forward(h) : h);
    }
}

/// <summary>
/// One T5 block <c>block.{i}</c>: its sub-layers under <c>layer</c> as Hugging Face numbers them (encoder: self-attention,
/// feed-forward; decoder: self-attention, cross-attention, feed-forward).
/// </summary>
public sealed class T5Block : Module
{
    /// <summary>Creates an encoder block (<paramref name="decoder"/> false) or a decoder block.</summary>
    public T5Block(T5Config config, bool decoder, bool first, Generator generator)
    {
        var layers = new List<Module> { new T5SelfAttentionLayer(config, causal: decoder, hasRelativeBias: first, generator) };
        if (decoder) layers.Add(new T5CrossAttentionLayer(config, generator));
        layers.Add(new T5FeedForwardLayer(config, generator));
        RegisterModule("layer", new ModuleList<Module>(layers));
    }

    /// <summary>The sub-layers <c>layer.{j}</c>.</summary>
    public ModuleList<Module> Layer => Child<ModuleList<Module>>("layer");
    /// <summary>Self-attention sub-layer <c>layer.0</c>.</summary>
    public T5SelfAttentionLayer SelfAttention => (T5SelfAttentionLayer)Layer[0];
    /// <summary>Cross-attention sub-layer <c>layer.1</c> (decoder blocks), else null.</summary>
    public T5CrossAttentionLayer? CrossAttention => Layer.Count == 3 ? (T5CrossAttentionLayer)Layer[1] : null;
    /// <summary>Feed-forward sub-layer (the last).</summary>
    public T5FeedForwardLayer FeedForward => (T5FeedForwardLayer)Layer[Layer.Count - 1];

    /// <summary>
    /// x (B, T, C) → (B, T, C). bias (1, H, T, Tk): the stack's position bias; selfMask (B, Tk): padding of the encoder's own keys
    /// (null in the decoder); encoderHidden (B, S, C) and encoderMask (B, S) for the decoder's cross-attention.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor bias, Tensor? selfMask, IKvCache? selfCache = null,
        Tensor? encoderHidden = null, Tensor? encoderMask = null, IKvCache? crossCache = null)
    {
        x = SelfAttention.Forward(x, bias, selfMask, selfCache);
        if (CrossAttention is { } cross) x = cross.Forward(x, encoderHidden!, encoderMask, crossCache);
        return FeedForward.Forward(x);
    }
}

/// <summary>
/// A T5 stack (<c>encoder</c> or <c>decoder</c>): the blocks <c>block.{i}</c>, the final T5 layer norm and dropout. The token
/// embedding is the model's <c>shared</c> table, which the stack does not own.
/// </summary>
public sealed class T5Stack : Module
{
    private readonly T5Config _config;
    private readonly bool _decoder;

    /// <summary>Creates the encoder (<paramref name="decoder"/> false) or the decoder stack.</summary>
    public T5Stack(T5Config config, bool decoder, Generator generator)
    {
        _config = config;
        _decoder = decoder;
        int n = decoder ? config.DecoderLayers : config.Layers;
        RegisterModule("block", new ModuleList<T5Block>(Enumerable.Range(0, n).Select(i => new T5Block(config, decoder, i == 0, generator))));
        RegisterModule("final_layer_norm", new RmsNorm(config.DModel, config.Eps));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, generator));
    }

    /// <summary>The blocks <c>block.{i}</c>.</summary>
    public ModuleList<T5Block> Block => Child<ModuleList<T5Block>>("block");
    /// <summary>The final T5 layer norm.</summary>
    public RmsNorm FinalLayerNorm => Child<RmsNorm>("final_layer_norm");

    private Tensor Drop(Tensor x) => ChildOrNull<Dropout>("dropout") is { } d ? d.Forward(x) : x;

    /// <summary>
    /// Token embeddings (B, T, C) → hidden states (B, T, C) after the final norm. The encoder attends bidirectionally with
    /// <paramref name="selfMask"/> (B, T) over its padding; the decoder causally, continuing <paramref name="selfCaches"/>, and
    /// across to <paramref name="encoderHidden"/> (B, S, C).
    /// </summary>
    public Tensor Forward(Tensor embeddings, Tensor? selfMask, IKvCache[]? selfCaches = null,
        Tensor? encoderHidden = null, Tensor? encoderMask = null, IKvCache[]? crossCaches = null)
    {
        int t = embeddings.Size(1), past = selfCaches?[0].Length ?? 0;
        var table = Block[0].SelfAttention.RelativeAttentionBias!;
        // Computed once from the first block's table and shared by every block.
        var bias = T5RelativePosition.Bias(table, past, t, past + t, bidirectional: !_decoder, _config.RelativeMaxDistance);   // (1, H, T, Tk)
        var x = Drop(embeddings);                                                                                               // (B, T, C)
        for (int i = 0; i < Block.Count; i++)
            x = Block[i].Forward(x, bias, selfMask, selfCaches?[i], encoderHidden, encoderMask, crossCaches?[i]);
        return Drop(FinalLayerNorm.Forward(x));                                                                               // (B, T, C)
    }
}
