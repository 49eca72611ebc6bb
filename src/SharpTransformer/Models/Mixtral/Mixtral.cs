using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Nn.MoE;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Mixtral;

/// <summary>
/// Mixtral: a Llama-style decoder (RMSNorm, RoPE, grouped-query attention, optional sliding window) whose feed-forwards are
/// sparse mixtures of SwiGLU experts (<see cref="SparseMoe"/>, Mixtral routing). Module paths are Hugging Face's without the
/// <c>model.</c> prefix (<c>layers.{i}.block_sparse_moe.experts.{e}.w1</c>). Training adds the load-balancing loss of the last
/// forward (<see cref="IMixtureOfExpertsModel"/>).
/// </summary>
public sealed class Mixtral : CausalLanguageModel, IMixtureOfExpertsModel
{
    /// <summary>Builds a randomly initialised model (N(0, 0.02) as Hugging Face's initializer_range).</summary>
    public Mixtral(MixtralConfig config, ulong seed = 1337)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        var g = new Generator(seed);
        RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.Hidden, g, 0.02f));
        RegisterModule("layers", new ModuleList<MixtralDecoderLayer>(Enumerable.Range(0, config.Layers).Select(_ => new MixtralDecoderLayer(config, g))));
        RegisterModule("norm", new RmsNorm(config.Hidden, config.RmsNormEps));
        if (!config.TieEmbeddings) RegisterModule<ILinear>("lm_head", new Linear(config.Hidden, config.VocabSize, bias: false, g));
        using var _ = TensorScope.Suspend();
        foreach (var (_, p) in NamedParameters())
            if (p.Rank == 2) p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
    }

    /// <summary>The configuration.</summary>
    public MixtralConfig Config { get; }
    /// <summary>Token embedding <c>embed_tokens</c> (V, C).</summary>
    public Embedding EmbedTokens => Child<Embedding>("embed_tokens");
    /// <summary>The decoder layers <c>layers.{i}</c>.</summary>
    public ModuleList<MixtralDecoderLayer> Layers => Child<ModuleList<MixtralDecoderLayer>>("layers");
    /// <summary>Final RMSNorm <c>norm</c>.</summary>
    public RmsNorm Norm => Child<RmsNorm>("norm");
    /// <summary>Separate output head <c>lm_head</c>, or null when tied to <see cref="EmbedTokens"/>.</summary>
    public ILinear? LmHead => ChildOrNull<ILinear>("lm_head");

    /// <inheritdoc/>
    public IReadOnlyList<SparseMoe> MoeLayers => Layers.Items.Select(l => l.Moe).ToList();
    /// <inheritdoc/>
    public float RouterAuxLossCoef => Config.RouterAuxLossCoef;
    /// <inheritdoc/>
    public float RouterZLossCoef => Config.RouterZLossCoef;

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;
    /// <inheritdoc/>
    public override int HiddenSize => Config.Hidden;
    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    public override IKvCache[] CreateCaches() => Enumerable.Range(0, Config.Layers).Select(IKvCache (_) => new KvCache(Config.ContextLength)).ToArray();

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        LmHead is null ? Tensor.Linear(hidden, EmbedTokens.Weight) : LmHead.Forward(hidden);   // (.., C) → (.., V)

    /// <inheritdoc/>
    /// <remarks><c>MixtralForCausalLM</c> holds the backbone under <c>model.</c>; <c>lm_head</c> sits at the root.</remarks>
    public override string HuggingFaceModulePath(string path) =>
        path == "lm_head" || path.StartsWith("lm_head.", StringComparison.Ordinal) ? path : "model." + path;

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        if (ids.Rank != 2) throw new ArgumentException($"Mixtral.Forward: ids must be (batch, time), got {ids.ShapeString}.");
        int t = ids.Size(1);
        int past = caches?[0].Length ?? 0;
        if (past + t > Config.ContextLength)
            throw new ArgumentException($"Mixtral.Forward: {past + t} positions exceed the context length {Config.ContextLength}.");
        positions ??= Tensor.FromArray(Enumerable.Range(past, t).ToArray()).To(ids.Backend);
        var x = EmbedTokens.Forward(ids);                                            // (B, T, C)
        var layers = Layers;
        for (int i = 0; i < layers.Count; i++) x = layers[i].Forward(x, caches?[i], positions, keyMask);
        return Norm.Forward(x);                                                       // (B, T, C)
    }

    /// <summary>The Hugging Face tensor names of this model (MixtralForCausalLM): every parameter's path with <c>model.</c> before the backbone's.</summary>
    public IReadOnlyList<HfBinding> HfBindings() =>
        NamedParameters().Select(p => new HfBinding(HfName(p.Name), p.Parameter)).ToList();

    private string HfName(string path)
    {
        int dot = path.LastIndexOf('.');
        return HuggingFaceModulePath(path[..dot]) + path[dot..];
    }

    /// <summary>Loads Hugging Face Mixtral weights; every missing, unexpected or mis-shaped tensor is reported.</summary>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors") =>
        HfWeights.Load(source, HfBindings(), fileName, [],
            n => n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (LmHead is null && n == "lm_head.weight"));
}
