using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.DeepSeek;

/// <summary>
/// DeepSeek-V2-style decoder (<c>DeepseekV2ForCausalLM</c>): token embedding, pre-norm layers with multi-head latent attention
/// (<see cref="LatentAttention"/>), a dense SwiGLU in the first <see cref="DeepSeekV2Config.FirstDenseLayers"/> layers and a
/// mixture of experts after them, final RMSNorm and a separate (or tied) head. Module paths equal Hugging Face's without the
/// <c>model.</c> prefix. Its caches are <see cref="LatentKvCache"/>s: (kv_lora_rank + qk_rope_head_dim) × 4 bytes per token and layer.
/// </summary>
public sealed class DeepSeekV2 : CausalLanguageModel, IMixtureOfExpertsModel
{
    /// <summary>Builds a randomly initialised model (N(0, 0.02) on matrices as Hugging Face's initializer_range).</summary>
    public DeepSeekV2(DeepSeekV2Config config, ulong seed = 1337)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        var g = new Generator(seed);
        RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.Hidden, g, 0.02f));
        RegisterModule("layers", new ModuleList<DeepSeekV2Block>(Enumerable.Range(0, config.Layers)
            .Select(i => new DeepSeekV2Block(config, config.IsMoeLayer(i) ? new SparseMoe(config.Moe, g)
                : new FeedForward(config.Hidden, config.Intermediate, FeedForwardKind.SwiGlu, bias: false, generator: g), g))));
        RegisterModule("norm", new RmsNorm(config.Hidden, config.RmsNormEps));
        if (!config.TieEmbeddings) RegisterModule<ILinear>("lm_head", new Linear(config.Hidden, config.VocabSize, bias: false, g));
        using var _ = TensorScope.Suspend();
        foreach (var (_, p) in NamedParameters())
            if (p.Rank >= 2) p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
    }

    /// <summary>The configuration.</summary>
    public DeepSeekV2Config Config { get; }
    /// <summary>Token embedding <c>embed_tokens</c> (V, C).</summary>
    public Embedding EmbedTokens => Child<Embedding>("embed_tokens");
    /// <summary>The layers <c>layers.{i}</c>.</summary>
    public ModuleList<DeepSeekV2Block> Layers => Child<ModuleList<DeepSeekV2Block>>("layers");
    /// <summary>Final RMSNorm <c>norm</c>.</summary>
    public RmsNorm Norm => Child<RmsNorm>("norm");
    /// <summary>Separate output head <c>lm_head</c>, or null when tied to <see cref="EmbedTokens"/>.</summary>
    public ILinear? LmHead => ChildOrNull<ILinear>("lm_head");

    /// <summary>The mixture-of-experts feed-forwards (<see cref="SparseMoe"/>, DeepSeek routing) of the MoE layers, in order.</summary>
    public IReadOnlyList<SparseMoe> MoeLayers => Layers.Items.Select(l => l.Mlp).OfType<SparseMoe>().ToList();

    /// <summary>Weight of the load-balancing loss added in training (<see cref="DeepSeekV2Config.RouterAuxLossCoef"/>).</summary>
    public float RouterAuxLossCoef => Config.RouterAuxLossCoef;

    /// <summary>Weight of the router z-loss added in training (<see cref="DeepSeekV2Config.RouterZLossCoef"/>).</summary>
    public float RouterZLossCoef => Config.RouterZLossCoef;

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;
    /// <inheritdoc/>
    public override int HiddenSize => Config.Hidden;
    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <summary>One empty <see cref="LatentKvCache"/> per layer, able to hold <see cref="ContextLength"/> positions.</summary>
    public override IKvCache[] CreateCaches() =>
        Enumerable.Range(0, Config.Layers).Select(IKvCache (_) => new LatentKvCache(Config.ContextLength, Config.KvLoraRank, Config.QkRopeHeadDim)).ToArray();

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        LmHead is null ? Tensor.Linear(hidden, EmbedTokens.Weight) : LmHead.Forward(hidden);   // (.., C) → (.., V)

    /// <inheritdoc/>
    /// <remarks><c>DeepseekV2ForCausalLM</c> holds the backbone under <c>model.</c>; <c>lm_head</c> sits at the root.</remarks>
    public override string HuggingFaceModulePath(string path) =>
        path == "lm_head" || path.StartsWith("lm_head.", StringComparison.Ordinal) ? path : "model." + path;

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        if (ids.Rank != 2) throw new ArgumentException($"DeepSeekV2.Forward: ids must be (batch, time), got {ids.ShapeString}.");
        int t = ids.Size(1);
        var layers = Layers;
        if (caches is not null && caches.Length != layers.Count)
            throw new ArgumentException($"DeepSeekV2.Forward: {caches.Length} caches for {layers.Count} layers.");
        int past = caches?[0].Length ?? 0;
        if (past + t > Config.ContextLength)
            throw new ArgumentException($"DeepSeekV2.Forward: {past + t} positions exceed the context length {Config.ContextLength}.");
        positions ??= Tensor.FromArray(Enumerable.Range(past, t).ToArray()).To(ids.Backend);
        var x = EmbedTokens.Forward(ids);                                            // (B, T, C)
        for (int i = 0; i < layers.Count; i++) x = layers[i].Forward(x, caches?[i], positions, keyMask);
        return Norm.Forward(x);                                                       // (B, T, C)
    }

    /// <summary>
    /// The Hugging Face tensor names of this model (<c>DeepseekV2ForCausalLM</c>): every parameter under its module path with the
    /// <c>model.</c> prefix (<c>lm_head.weight</c> at the root). A replaced module (a LoRA wrapper) binds its base layer's weight.
    /// </summary>
    public IReadOnlyList<HfBinding> HfBindings()
    {
        var r = new List<HfBinding>();
        var covered = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in NamedModules())
        {
            if (m is not ILinear lin || path.Length == 0) continue;
            var w = lin.RequireWeight("DeepSeekV2.HfBindings " + path);
            r.Add(new(HuggingFaceModulePath(path) + ".weight", w));
            covered.Add(w);
            if (lin.Bias is { } b) { r.Add(new(HuggingFaceModulePath(path) + ".bias", b)); covered.Add(b); }
        }
        foreach (var (name, p) in NamedParameters())
        {
            if (covered.Contains(p)) continue;
            // Parameters of wrappers around a linear (adapters) are not checkpoint tensors; everything else is.
            if (name.Contains(".lora_", StringComparison.Ordinal) || name.Contains(".base_layer.", StringComparison.Ordinal)) continue;
            r.Add(new(HuggingFaceModulePath(name), p));
        }
        return r;
    }

    /// <summary>
    /// Loads Hugging Face DeepSeek-V2 weights; every missing, unexpected or mis-shaped tensor is reported, and a latent width
    /// that does not match the checkpoint names <c>kv_lora_rank</c>, its value and the tensor's shape.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors")
    {
        ArgumentNullException.ThrowIfNull(source);
        CheckLatentWidth(source, fileName);
        HfWeights.Load(source, HfBindings(), fileName, [],
            n => n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (LmHead is null && n == "lm_head.weight"));
    }

    // kv_a_proj_with_mqa is (kv_lora_rank + qk_rope_head_dim, C) and kv_a_layernorm (kv_lora_rank): a config whose kv_lora_rank
    // disagrees gets one clear message before the general shape report.
    private void CheckLatentWidth(ITensorSource source, string fileName)
    {
        int dc = Config.KvLoraRank, dr = Config.QkRopeHeadDim;
        foreach (var name in source.Names)
        {
            if (name.EndsWith("self_attn.kv_a_layernorm.weight", StringComparison.Ordinal) && source.ShapeOf(name) is [var n] && n != dc)
                throw new InvalidDataException($"Loading {fileName}: kv_lora_rank is {dc} in the config, but {name} is {Layout.Format(source.ShapeOf(name))} (kv_lora_rank {n}).");
            if (name.EndsWith("self_attn.kv_a_proj_with_mqa.weight", StringComparison.Ordinal) && source.ShapeOf(name) is [var rows, _] && rows != dc + dr)
                throw new InvalidDataException($"Loading {fileName}: kv_lora_rank is {dc} and qk_rope_head_dim {dr} in the config, but {name} is " +
                    $"{Layout.Format(source.ShapeOf(name))} (its rows are kv_lora_rank + qk_rope_head_dim = {dc + dr} for this config).");
        }
    }
}
