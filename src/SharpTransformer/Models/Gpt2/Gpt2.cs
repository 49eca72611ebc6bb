using SharpTransformer.Nn;
using SharpTransformer.Models;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Gpt2;

/// <summary>
/// GPT-2: learned positions, pre-LN blocks with GELU (tanh form), final LayerNorm, output head tied to the token embedding.
/// Initialised as GPT-2: N(0, 0.02), residual projections scaled by 1/sqrt(2·layers), zero biases.
/// </summary>
public sealed class Gpt2 : CausalLanguageModel
{
    private readonly Dropout? _drop;

    /// <summary>Builds a randomly initialised model.</summary>
    public Gpt2(Gpt2Config config, ulong seed = 1337)
    {
        Config = config;
        var g = new Generator(seed);
        int c = config.Embedding;
        Wte = RegisterModule("wte", new Embedding(config.VocabSize, c, g, 0.02f));
        Wpe = RegisterModule("wpe", new Embedding(config.ContextLength, c, g, 0.02f));
        if (config.Dropout > 0f) _drop = RegisterModule("drop", new Dropout(config.Dropout, g));
        var opts = new BlockOptions(new AttentionOptions(c, config.Heads, Dropout: config.Dropout), 4 * c, FeedForwardKind.GeluTanh,
            NormKind.LayerNorm, config.LayerNormEps);
        Blocks = RegisterModule("h", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        LnF = RegisterModule("ln_f", new LayerNorm(c, config.LayerNormEps));
        InitWeights(g);
    }

    /// <summary>The configuration.</summary>
    public Gpt2Config Config { get; }
    /// <summary>Token embedding (V, C), also the output head.</summary>
    public Embedding Wte { get; }
    /// <summary>Position embedding (context, C).</summary>
    public Embedding Wpe { get; }
    /// <summary>The blocks.</summary>
    public ModuleList<TransformerBlock> Blocks { get; }
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm LnF { get; }

    private void InitWeights(Generator g) => GptInit.Apply(Blocks.Items, Config.Layers, g);

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;

    /// <inheritdoc/>
    public override int HiddenSize => Config.Embedding;

    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    public override IKvCache[] CreateCaches() => Blocks.Items.Select(IKvCache (_) => new KvCache(Config.ContextLength)).ToArray();

    /// <inheritdoc/>
    public override Tensor Hidden(Tensor ids, IKvCache[]? caches = null, Tensor? positions = null, Tensor? keyMask = null)
    {
        if (ids.Rank != 2) throw new ArgumentException($"Gpt2.Forward: ids must be (batch, time), got {ids.ShapeString}.");
        int t = ids.Size(1);
        int past = caches?[0].Length ?? 0;
        if (past + t > Config.ContextLength)
            throw new ArgumentException($"Gpt2.Forward: {past + t} positions exceed the context length {Config.ContextLength}.");
        if (caches is not null && caches.Length != Blocks.Count) throw new ArgumentException($"Gpt2.Forward: {caches.Length} caches for {Blocks.Count} blocks.");
        positions ??= Tensor.FromArray(Enumerable.Range(past, t).ToArray()).To(ids.Backend);
        var x = Wte.Forward(ids).Add(Wpe.Forward(positions));                 // (B, T, C)
        if (_drop is not null) x = _drop.Forward(x);
        for (int i = 0; i < Blocks.Count; i++) x = Blocks[i].Forward(x, caches?[i], null, keyMask);
        return LnF.Forward(x);                                                  // (B, T, C)
    }

    /// <summary>Tied head: hidden (.., C) → logits (.., V).</summary>
    public override Tensor Head(Tensor hidden) => Tensor.Linear(hidden, Wte.Weight);

    /// <summary>The Hugging Face tensor names of this model (GPT2LMHeadModel without the <c>transformer.</c> prefix).</summary>
    public IReadOnlyList<IO.HuggingFace.HfBinding> HfBindings()
    {
        var r = new List<IO.HuggingFace.HfBinding> { new("wte.weight", Wte.Weight), new("wpe.weight", Wpe.Weight) };
        for (int i = 0; i < Blocks.Count; i++)
        {
            var b = Blocks[i];
            string p = $"h.{i}.";
            var n1 = (LayerNorm)b.Norm1; var n2 = (LayerNorm)b.Norm2;
            r.Add(new(p + "ln_1.weight", n1.Weight)); r.Add(new(p + "ln_1.bias", n1.Bias!));
            r.Add(new(p + "attn.c_attn.weight", b.Attention.Qkv.Weight, IO.HuggingFace.HfLayout.Transposed));
            r.Add(new(p + "attn.c_attn.bias", b.Attention.Qkv.Bias!));
            r.Add(new(p + "attn.c_proj.weight", b.Attention.Proj.Weight, IO.HuggingFace.HfLayout.Transposed));
            r.Add(new(p + "attn.c_proj.bias", b.Attention.Proj.Bias!));
            r.Add(new(p + "ln_2.weight", n2.Weight)); r.Add(new(p + "ln_2.bias", n2.Bias!));
            r.Add(new(p + "mlp.c_fc.weight", b.Mlp.Up.Weight, IO.HuggingFace.HfLayout.Transposed));
            r.Add(new(p + "mlp.c_fc.bias", b.Mlp.Up.Bias!));
            r.Add(new(p + "mlp.c_proj.weight", b.Mlp.Down.Weight, IO.HuggingFace.HfLayout.Transposed));
            r.Add(new(p + "mlp.c_proj.bias", b.Mlp.Down.Bias!));
        }
        r.Add(new("ln_f.weight", LnF.Weight)); r.Add(new("ln_f.bias", LnF.Bias!));
        return r;
    }

    /// <summary>
    /// Loads Hugging Face GPT-2 weights (with or without the <c>transformer.</c> prefix; an <c>lm_head.weight</c> tied to
    /// <c>wte.weight</c> and the attention-mask buffers are accepted). Every missing, unexpected or mis-shaped tensor is reported.
    /// </summary>
    public void LoadHuggingFace(IO.HuggingFace.ITensorSource source, string fileName = "model.safetensors") =>
        IO.HuggingFace.HfWeights.Load(source, HfBindings(), fileName, ["transformer."],
            n => n == "lm_head.weight" || n.EndsWith(".attn.bias", StringComparison.Ordinal) || n.EndsWith(".attn.masked_bias", StringComparison.Ordinal));
}
