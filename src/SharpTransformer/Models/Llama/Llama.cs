using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Llama;

/// <summary>
/// Llama-style decoder: token embedding, pre-norm blocks with RMSNorm, RoPE, grouped-query attention and SwiGLU,
/// no biases, final RMSNorm, a tied or separate output head.
/// </summary>
public sealed class Llama : CausalLanguageModel
{
    /// <summary>Builds a randomly initialised model (N(0, 0.02) as Hugging Face's initializer_range).</summary>
    public Llama(LlamaConfig config, ulong seed = 1337)
    {
        Config = config;
        var g = new Generator(seed);
        EmbedTokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.Hidden, g, 0.02f));
        var opts = new BlockOptions(
            new AttentionOptions(config.Hidden, config.Heads, config.KvHeads, Causal: true, Bias: false, RopeTheta: config.RopeTheta),
            config.Intermediate, FeedForwardKind.SwiGlu, NormKind.RmsNorm, config.RmsNormEps, MlpBias: false);
        Layers = RegisterModule("layers", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        Norm = RegisterModule("norm", new RmsNorm(config.Hidden, config.RmsNormEps));
        if (!config.TieEmbeddings) LmHead = RegisterModule("lm_head", new Linear(config.Hidden, config.VocabSize, bias: false, g));
        using var _ = TensorScope.Suspend();
        foreach (var (_, p) in NamedParameters())
            if (p.Rank == 2) p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
    }

    /// <summary>The configuration.</summary>
    public LlamaConfig Config { get; }
    /// <summary>Token embedding (V, C).</summary>
    public Embedding EmbedTokens { get; }
    /// <summary>The blocks.</summary>
    public ModuleList<TransformerBlock> Layers { get; }
    /// <summary>Final RMSNorm.</summary>
    public RmsNorm Norm { get; }
    /// <summary>Separate output head, or null when tied to <see cref="EmbedTokens"/>.</summary>
    public Linear? LmHead { get; }

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;

    /// <inheritdoc/>
    public override int HiddenSize => Config.Hidden;
    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    public override IKvCache[] CreateCaches() => Layers.Items.Select(IKvCache (_) => new KvCache(Config.ContextLength)).ToArray();

    /// <inheritdoc/>
    public override Tensor Head(Tensor hidden) =>
        LmHead is null ? Tensor.Linear(hidden, EmbedTokens.Weight) : LmHead.Forward(hidden);   // (.., C) → (.., V)

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
        for (int i = 0; i < Layers.Count; i++) x = Layers[i].Forward(x, caches?[i], positions, keyMask);
        return Norm.Forward(x);                                                       // (B, T, C)
    }

    /// <summary>The Hugging Face tensor names of this model (LlamaForCausalLM); q, k and v map to row blocks of our fused qkv.</summary>
    public IReadOnlyList<IO.HuggingFace.HfBinding> HfBindings()
    {
        var r = new List<IO.HuggingFace.HfBinding> { new("model.embed_tokens.weight", EmbedTokens.Weight) };
        for (int i = 0; i < Layers.Count; i++)
        {
            var b = Layers[i];
            string p = $"model.layers.{i}.";
            int qRows = Config.Heads * b.Attention.HeadDim, kvRows = Config.KvHeads * b.Attention.HeadDim;
            var qkv = b.Attention.Qkv.Weight;
            r.Add(new(p + "input_layernorm.weight", ((RmsNorm)b.Norm1).Weight));
            r.Add(new(p + "self_attn.q_proj.weight", qkv, IO.HuggingFace.HfLayout.Rows, 0, qRows));
            r.Add(new(p + "self_attn.k_proj.weight", qkv, IO.HuggingFace.HfLayout.Rows, qRows, kvRows));
            r.Add(new(p + "self_attn.v_proj.weight", qkv, IO.HuggingFace.HfLayout.Rows, qRows + kvRows, kvRows));
            r.Add(new(p + "self_attn.o_proj.weight", b.Attention.Proj.Weight));
            r.Add(new(p + "post_attention_layernorm.weight", ((RmsNorm)b.Norm2).Weight));
            r.Add(new(p + "mlp.gate_proj.weight", b.Mlp.Gate!.Weight));
            r.Add(new(p + "mlp.up_proj.weight", b.Mlp.Up.Weight));
            r.Add(new(p + "mlp.down_proj.weight", b.Mlp.Down.Weight));
        }
        r.Add(new("model.norm.weight", Norm.Weight));
        if (LmHead is not null) r.Add(new("lm_head.weight", LmHead.Weight));
        return r;
    }

    /// <summary>Loads Hugging Face Llama weights; every missing, unexpected or mis-shaped tensor is reported.</summary>
    public void LoadHuggingFace(IO.HuggingFace.ITensorSource source, string fileName = "model.safetensors") =>
        IO.HuggingFace.HfWeights.Load(source, HfBindings(), fileName, [],
            n => n.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || (LmHead is null && n == "lm_head.weight"));
}
