using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Llama;

/// <summary>
/// Llama-style decoder: token embedding, pre-norm blocks with RMSNorm, RoPE, grouped-query attention and SwiGLU,
/// no biases, final RMSNorm, a tied or separate output head. The same class is Hugging Face's <c>MistralForCausalLM</c>
/// (a sliding window, <see cref="LlamaConfig.SlidingWindow"/>) and <c>Qwen2ForCausalLM</c> (biases on q/k/v added before RoPE,
/// <see cref="LlamaConfig.QkvBias"/>, and a window on the layers from max_window_layers when use_sliding_window); RoPE may be
/// rescaled for a longer context (<see cref="LlamaConfig.RopeScaling"/>).
/// </summary>
public sealed class Llama : CausalLanguageModel
{
    /// <summary>Builds a randomly initialised model (N(0, 0.02) as Hugging Face's initializer_range).</summary>
    public Llama(LlamaConfig config, ulong seed = 1337)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var g = new Generator(seed);
        RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.Hidden, g, 0.02f));
        var attention = new AttentionOptions(config.Hidden, config.Heads, config.KvHeads, Causal: true, Bias: config.QkvBias, RopeTheta: config.RopeTheta,
            FusedQkv: false, HeadDim: config.HeadDim, RopeScaling: config.RopeScaling, OutputBias: config.OutputBias);
        var opts = new BlockOptions(attention,
            config.Intermediate, FeedForwardKind.SwiGlu, NormKind.RmsNorm, config.RmsNormEps, MlpBias: false, Names: BlockNames.Llama);
        RegisterModule("layers", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers)
            .Select(i => new TransformerBlock(opts with { Attention = attention with { Window = config.WindowOf(i) } }, g))));
        RegisterModule("norm", new RmsNorm(config.Hidden, config.RmsNormEps));
        if (!config.TieEmbeddings) RegisterModule<ILinear>("lm_head", new Linear(config.Hidden, config.VocabSize, bias: false, g));
        using var _ = TensorScope.Suspend();
        foreach (var (_, p) in NamedParameters())
            if (p.Rank == 2) p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
    }

    /// <summary>The configuration.</summary>
    public LlamaConfig Config { get; }
    /// <summary>Token embedding <c>embed_tokens</c> (V, C).</summary>
    public Embedding EmbedTokens => Child<Embedding>("embed_tokens");
    /// <summary>
    /// The blocks <c>layers.{i}</c> (<c>input_layernorm</c>, <c>self_attn.q_proj|k_proj|v_proj|o_proj</c>, <c>post_attention_layernorm</c>,
    /// <c>mlp.gate_proj|up_proj|down_proj</c>).
    /// </summary>
    public ModuleList<TransformerBlock> Layers => Child<ModuleList<TransformerBlock>>("layers");
    /// <summary>Final RMSNorm <c>norm</c>.</summary>
    public RmsNorm Norm => Child<RmsNorm>("norm");
    /// <summary>Separate output head <c>lm_head</c>, or null when tied to <see cref="EmbedTokens"/>.</summary>
    public ILinear? LmHead => ChildOrNull<ILinear>("lm_head");

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;

    /// <inheritdoc/>
    public override int HiddenSize => Config.Hidden;
    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    /// <remarks>Layers with a sliding window get a <see cref="SlidingWindowKvCache"/> that keeps only the window.</remarks>
    public override IKvCache[] CreateCaches() => Enumerable.Range(0, Config.Layers)
        .Select(i => Config.WindowOf(i) is { } w ? new SlidingWindowKvCache(w) : (IKvCache)new KvCache(Config.ContextLength)).ToArray();

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        LmHead is null ? Tensor.Linear(hidden, EmbedTokens.Weight) : LmHead.Forward(hidden);   // (.., C) → (.., V)

    /// <inheritdoc/>
    /// <remarks><c>LlamaForCausalLM</c> holds the backbone under <c>model.</c>; <c>lm_head</c> sits at the root.</remarks>
    public override string HuggingFaceModulePath(string path) =>
        path == "lm_head" || path.StartsWith("lm_head.", StringComparison.Ordinal) ? path : "model." + path;

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        if (ids.Rank != 2) throw new ArgumentException($"Llama.Forward: ids must be (batch, time), got {ids.ShapeString}.");
        int t = ids.Size(1);
        int past = caches?[0].Length ?? 0;
        if (past + t > Config.ContextLength)
            throw new ArgumentException($"Llama.Forward: {past + t} positions exceed the context length {Config.ContextLength}.");
        positions ??= Tensor.FromArray(Enumerable.Range(past, t).ToArray()).To(ids.Backend);
        var x = EmbedTokens.Forward(ids);                                            // (B, T, C)
        var layers = Layers;
        for (int i = 0; i < layers.Count; i++) x = layers[i].Forward(x, caches?[i], positions, keyMask);
        return Norm.Forward(x);                                                       // (B, T, C)
    }

    /// <summary>The Hugging Face tensor names of this model (LlamaForCausalLM): our module paths with the <c>model.</c> prefix.</summary>
    public IReadOnlyList<IO.HuggingFace.HfBinding> HfBindings()
    {
        var r = new List<IO.HuggingFace.HfBinding> { new("model.embed_tokens.weight", EmbedTokens.Weight) };
        for (int i = 0; i < Layers.Count; i++)
        {
            var b = Layers[i];
            string p = $"model.layers.{i}.";
            r.Add(new(p + "input_layernorm.weight", NormWeight(p + "input_layernorm", b.Norm1)));
            AddDense(r, p + "self_attn.q_proj", b.Attention.Query!);
            AddDense(r, p + "self_attn.k_proj", b.Attention.Key!);
            AddDense(r, p + "self_attn.v_proj", b.Attention.Value!);
            AddDense(r, p + "self_attn.o_proj", b.Attention.Output);
            r.Add(new(p + "post_attention_layernorm.weight", NormWeight(p + "post_attention_layernorm", b.Norm2)));
            r.Add(Dense(p + "mlp.gate_proj", b.Mlp.Gate!));
            r.Add(Dense(p + "mlp.up_proj", b.Mlp.Up));
            r.Add(Dense(p + "mlp.down_proj", b.Mlp.Down));
        }
        r.Add(new("model.norm.weight", NormWeight("model.norm", Norm)));
        if (LmHead is { } head) r.Add(Dense("lm_head", head));
        return r;
    }

    // The weight and, when the layer has one (Qwen2's q/k/v, Llama's attention_bias), the bias.
    private static void AddDense(List<IO.HuggingFace.HfBinding> r, string name, ILinear l)
    {
        r.Add(Dense(name, l));
        if (l.Bias is { } bias) r.Add(new(name + ".bias", bias));
    }

    private static IO.HuggingFace.HfBinding Dense(string name, ILinear l) => new(name + ".weight", l.RequireWeight("Llama.HfBindings " + name));

    private static Tensor NormWeight(string name, ILayer norm) =>
        (norm as RmsNorm ?? throw new InvalidOperationException($"Llama.HfBindings: '{name}' holds a {norm.GetType().Name}, not an RmsNorm.")).Weight;

    /// <summary>Loads Hugging Face Llama weights; every missing, unexpected or mis-shaped tensor is reported.</summary>
    public void LoadHuggingFace(IO.HuggingFace.ITensorSource source, string fileName = "model.safetensors") =>
        IO.HuggingFace.HfWeights.Load(source, HfBindings(), fileName, [],
            n => n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (LmHead is null && n == "lm_head.weight"));
}
