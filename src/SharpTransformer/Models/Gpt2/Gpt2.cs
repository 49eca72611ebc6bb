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
    /// <summary>Builds a randomly initialised model.</summary>
    public Gpt2(Gpt2Config config, ulong seed = 1337)
    {
        Config = config;
        var g = new Generator(seed);
        int c = config.Embedding;
        RegisterModule("wte", new Embedding(config.VocabSize, c, g, 0.02f));
        RegisterModule("wpe", new Embedding(config.ContextLength, c, g, 0.02f));
        if (config.Dropout > 0f) RegisterModule("drop", new Dropout(config.Dropout, g));
        var opts = new BlockOptions(new AttentionOptions(c, config.Heads, Dropout: config.Dropout), 4 * c, FeedForwardKind.GeluTanh,
            NormKind.LayerNorm, config.LayerNormEps, Names: BlockNames.Gpt2);
        RegisterModule("h", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        RegisterModule("ln_f", new LayerNorm(c, config.LayerNormEps));
        InitWeights(g);
    }

    /// <summary>The configuration.</summary>
    public Gpt2Config Config { get; }
    /// <summary>Token embedding <c>wte</c> (V, C), also the output head.</summary>
    public Embedding Wte => Child<Embedding>("wte");
    /// <summary>Position embedding <c>wpe</c> (context, C).</summary>
    public Embedding Wpe => Child<Embedding>("wpe");
    /// <summary>The blocks <c>h.{i}</c> (<c>ln_1</c>, <c>attn.c_attn</c>, <c>attn.c_proj</c>, <c>ln_2</c>, <c>mlp.c_fc</c>, <c>mlp.c_proj</c>).</summary>
    public ModuleList<TransformerBlock> Blocks => Child<ModuleList<TransformerBlock>>("h");
    /// <summary>Final LayerNorm <c>ln_f</c>.</summary>
    public LayerNorm LnF => Child<LayerNorm>("ln_f");

    private void InitWeights(Generator g) => GptInit.Apply(Blocks.Items, Config.Layers, g);

    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;

    /// <inheritdoc/>
    public override int HiddenSize => Config.Embedding;

    /// <inheritdoc/>
    public override int ContextLength => Config.ContextLength;

    /// <inheritdoc/>
    public override IKvCache[] CreateCaches() => Enumerable.Range(0, Config.Layers).Select(IKvCache (_) => new KvCache(Config.ContextLength)).ToArray();

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
        if (ChildOrNull<Dropout>("drop") is { } drop) x = drop.Forward(x);
        var blocks = Blocks;
        for (int i = 0; i < blocks.Count; i++) x = blocks[i].Forward(x, caches?[i], null, keyMask);
        return LnF.Forward(x);                                                  // (B, T, C)
    }

    /// <summary>Tied head: hidden (.., C) → logits (.., V).</summary>
    public override Tensor Head(Tensor hidden) => Tensor.Linear(hidden, Wte.Weight);

    /// <inheritdoc/>
    /// <remarks><c>GPT2LMHeadModel</c> holds the backbone under <c>transformer.</c>.</remarks>
    public override string HuggingFaceModulePath(string path) => "transformer." + path;

    /// <summary>The Hugging Face tensor names of this model (GPT2LMHeadModel without the <c>transformer.</c> prefix).</summary>
    public IReadOnlyList<IO.HuggingFace.HfBinding> HfBindings()
    {
        var r = new List<IO.HuggingFace.HfBinding> { new("wte.weight", Wte.Weight), new("wpe.weight", Wpe.Weight) };
        for (int i = 0; i < Blocks.Count; i++)
        {
            var b = Blocks[i];
            string p = $"h.{i}.";
            Norm(r, p + "ln_1", b.Norm1);
            Conv1D(r, p + "attn.c_attn", b.Attention.Qkv!);
            Conv1D(r, p + "attn.c_proj", b.Attention.Output);
            Norm(r, p + "ln_2", b.Norm2);
            Conv1D(r, p + "mlp.c_fc", b.Mlp.Up);
            Conv1D(r, p + "mlp.c_proj", b.Mlp.Down);
        }
        Norm(r, "ln_f", LnF);
        return r;
    }

    // A LayerNorm's weight and bias under name.weight and name.bias.
    private static void Norm(List<IO.HuggingFace.HfBinding> r, string name, ILayer norm)
    {
        var n = norm as LayerNorm ?? throw new InvalidOperationException($"Gpt2.HfBindings: '{name}' holds a {norm.GetType().Name}, not a LayerNorm.");
        r.Add(new(name + ".weight", n.Weight));
        r.Add(new(name + ".bias", n.Bias!));
    }

    // A GPT-2 Conv1D (a linear stored (in, out)): the dense weight of our layer, or of the layer a wrapper holds.
    private static void Conv1D(List<IO.HuggingFace.HfBinding> r, string name, ILinear l)
    {
        r.Add(new(name + ".weight", l.RequireWeight("Gpt2.HfBindings " + name), IO.HuggingFace.HfLayout.Transposed));
        r.Add(new(name + ".bias", l.Bias ?? throw new InvalidOperationException($"Gpt2.HfBindings: '{name}' has no bias.")));
    }

    /// <summary>
    /// Loads Hugging Face GPT-2 weights (with or without the <c>transformer.</c> prefix; an <c>lm_head.weight</c> tied to
    /// <c>wte.weight</c> and the attention-mask buffers are accepted). Every missing, unexpected or mis-shaped tensor is reported.
    /// </summary>
    public void LoadHuggingFace(IO.HuggingFace.ITensorSource source, string fileName = "model.safetensors") =>
        IO.HuggingFace.HfWeights.Load(source, HfBindings(), fileName, ["transformer."],
            n => n == "lm_head.weight" || n.EndsWith(".attn.bias", StringComparison.Ordinal) || n.EndsWith(".attn.masked_bias", StringComparison.Ordinal));
}
