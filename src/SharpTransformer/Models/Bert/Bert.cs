using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// A BERT-family encoder (BERT, DistilBERT, RoBERTa by <see cref="BertConfig.Kind"/>): embeddings, post-LN layers and an optional
/// pooler (dense + tanh on position 0). Initialised as BERT: matrices N(0, 0.02), zero biases, LayerNorm ones.
/// </summary>
public sealed class Bert : EncoderModel, IEncoderTaskModel
{
    /// <summary>Builds a randomly initialised encoder.</summary>
    public Bert(BertConfig config, ulong seed = 1337) : this(config, new Generator(seed)) { InitWeights(this, new Generator(seed + 1)); }

    /// <summary>Builds the encoder drawing from <paramref name="generator"/> (task models initialise it themselves).</summary>
    internal Bert(BertConfig config, Generator generator)
    {
        if (config.HiddenSize % config.Heads != 0)
            throw new ArgumentException($"Bert: hidden size {config.HiddenSize} is not divisible by {config.Heads} heads.");
        Config = config;
        RegisterModule("embeddings", new BertEmbeddings(config, generator));
        RegisterModule("layers", new ModuleList<BertLayer>(Enumerable.Range(0, config.Layers).Select(_ => new BertLayer(config, generator))));
        if (config.Pooler) RegisterModule<ILinear>("pooler", new Linear(config.HiddenSize, config.HiddenSize, true, generator));
    }

    /// <summary>The configuration.</summary>
    public BertConfig Config { get; }
    /// <summary>The embeddings.</summary>
    public BertEmbeddings Embeddings => Child<BertEmbeddings>("embeddings");
    /// <summary>The encoder layers.</summary>
    public ModuleList<BertLayer> Layers => Child<ModuleList<BertLayer>>("layers");
    /// <summary>The pooler's dense layer, or null.</summary>
    public ILinear? Pooler => ChildOrNull<ILinear>("pooler");

    /// <inheritdoc/>
    public override int HiddenSize => Config.HiddenSize;
    /// <inheritdoc/>
    public override int VocabSize => Config.VocabSize;
    /// <inheritdoc/>
    public override int MaxPositions => Config.MaxSequenceLength;
    /// <inheritdoc/>
    Bert IEncoderTaskModel.Encoder => this;

    /// <summary>Sets BERT's initialisation on every parameter of <paramref name="module"/>: matrices N(0, 0.02), biases 0; norms keep ones.</summary>
    internal static void InitWeights(Module module, Generator g)
    {
        using var _ = TensorScope.Suspend();
        foreach (var (name, p) in module.NamedParameters())
        {
            if (p.Rank >= 2) p.CopyFrom(Tensor.RandN(p.Shape.ToArray(), g, 0f, 0.02f));
            else if (name.EndsWith("bias", StringComparison.Ordinal)) p.CopyFrom(Tensor.Zeros(p.Shape));
        }
    }

    /// <inheritdoc/>
    public override EncoderOutput Encode(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        if (inputIds.Rank != 2) throw new ArgumentException($"Bert.Encode: input ids must be (batch, time), got {inputIds.ShapeString}.");
        var keyMask = KeyMask(attentionMask, inputIds);
        var x = Embeddings.Forward(inputIds, tokenTypeIds);                        // (B, T, C)
        foreach (var layer in Layers.Items) x = layer.Forward(x, keyMask);         // (B, T, C)
        var pooled = Pooler is null ? null : Pooler.Forward(x.Select(1, 0)).Tanh(); // (B, C)
        return new EncoderOutput(x, pooled);
    }

    /// <summary>An attention mask (B, T), Int32 or Float32 with 1 on tokens and 0 on padding, as the Float32 key mask of attention.</summary>
    public static Tensor? KeyMask(Tensor? attentionMask, Tensor inputIds)
    {
        if (attentionMask is null) return null;
        if (!attentionMask.Shape.SequenceEqual(inputIds.Shape))
            throw new ArgumentException($"Bert: attention mask {attentionMask.ShapeString} does not match input ids {inputIds.ShapeString}.");
        return AttentionMasks.ToKeyMask(attentionMask, "Bert");
    }

    /// <summary>Outputs under Hugging Face's names: <c>last_hidden_state</c> and, with a pooler, <c>pooler_output</c>.</summary>
    public IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var o = Encode(inputIds, attentionMask, tokenTypeIds);
        var r = new Dictionary<string, Tensor> { ["last_hidden_state"] = o.LastHiddenState };
        if (o.PooledOutput is not null) r["pooler_output"] = o.PooledOutput;
        return r;
    }

    /// <summary>The checkpoint prefix of a task model of this family: <c>bert.</c>, <c>distilbert.</c> or <c>roberta.</c>.</summary>
    public string HfPrefix => Config.Kind switch
    {
        EncoderKind.DistilBert => "distilbert.",
        EncoderKind.Roberta => "roberta.",
        _ => "bert.",
    };

    /// <summary>The bare encoder's tensor names (as <c>BertModel.save_pretrained</c> writes them, without a prefix).</summary>
    public IReadOnlyList<HfBinding> HfBindings() => HfBindings("");

    /// <summary>The encoder's tensor names, each behind <paramref name="prefix"/>.</summary>
    public IReadOnlyList<HfBinding> HfBindings(string prefix)
    {
        int c = Config.HiddenSize;
        var r = new List<HfBinding>
        {
            new(prefix + "embeddings.word_embeddings.weight", Embeddings.Word.Weight),
            new(prefix + "embeddings.position_embeddings.weight", Embeddings.Position.Weight),
        };
        if (Embeddings.TokenType is not null) r.Add(new(prefix + "embeddings.token_type_embeddings.weight", Embeddings.TokenType.Weight));
        Norm(r, prefix + "embeddings.LayerNorm", Embeddings.Norm);
        var n = Config.Kind == EncoderKind.DistilBert ? LayerNames.DistilBert : LayerNames.Bert;
        for (int i = 0; i < Layers.Count; i++)
        {
            var l = Layers[i];
            string p = $"{prefix}{n.Layer}.{i}.";
            Split(r, p + n.Query, p + n.Key, p + n.Value, l.Attention.Qkv!, c);
            Dense(r, p + n.AttentionOutput, l.Attention.Output);
            Norm(r, p + n.AttentionNorm, l.AttentionNorm);
            Dense(r, p + n.Up, l.Mlp.Up);
            Dense(r, p + n.Down, l.Mlp.Down);
            Norm(r, p + n.OutputNorm, l.OutputNorm);
        }
        if (Pooler is not null) Dense(r, prefix + "pooler.dense", Pooler);
        return r;
    }

    // Hugging Face names of a layer's tensors (after "<prefix><Layer>.<i>."): BERT and RoBERTa share one layout, DistilBERT has its own.
    private sealed record LayerNames(string Layer, string Query, string Key, string Value, string AttentionOutput, string AttentionNorm,
        string Up, string Down, string OutputNorm)
    {
        public static readonly LayerNames Bert = new("encoder.layer", "attention.self.query", "attention.self.key", "attention.self.value",
            "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm");
        public static readonly LayerNames DistilBert = new("transformer.layer", "attention.q_lin", "attention.k_lin", "attention.v_lin",
            "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm");
    }

    private static void Split(List<HfBinding> r, string q, string k, string v, ILinear qkv, int c)
    {
        string[] names = [q, k, v];
        for (int j = 0; j < 3; j++)
        {
            r.Add(new(names[j] + ".weight", qkv.RequireWeight("Bert.HfBindings " + names[j]), HfLayout.Rows, j * c, c));
            r.Add(new(names[j] + ".bias", qkv.Bias!, HfLayout.Rows, j * c, c));
        }
    }

    internal static void Dense(List<HfBinding> r, string name, ILinear l)
    {
        r.Add(new(name + ".weight", l.RequireWeight("HfBindings " + name)));
        if (l.Bias is not null) r.Add(new(name + ".bias", l.Bias));
    }

    internal static void Norm(List<HfBinding> r, string name, LayerNorm n)
    {
        r.Add(new(name + ".weight", n.Weight));
        r.Add(new(name + ".bias", n.Bias!));
    }

    /// <summary>
    /// Loads a bare encoder checkpoint (<c>BertModel</c>, <c>DistilBertModel</c>, <c>RobertaModel</c>), with or without the family
    /// prefix; the heads of task checkpoints are skipped. Every missing or mis-shaped tensor is reported.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors") => LoadHuggingFace(source, fileName, null);

    /// <summary>
    /// Loads a bare encoder checkpoint as <see cref="LoadHuggingFace(ITensorSource, string)"/> does. A checkpoint without pooler
    /// weights (a masked-LM checkpoint, a sentence-embedding model) loads too, as in Hugging Face: the pooler keeps its random
    /// initialisation and a warning goes to <paramref name="warnings"/> (standard error when null).
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName, ICollection<string>? warnings)
    {
        var bindings = WithoutMissingPooler(HfBindings(), source, fileName, GetType().Name, warnings);
        EncoderCheckpoint.Load(source, bindings, [HfPrefix], fileName, n => EncoderCheckpoint.IsBuffer(n) || EncoderCheckpoint.IsTaskHead(n)
            || (Pooler is null && n.StartsWith("pooler.", StringComparison.Ordinal)));
    }

    /// <summary>
    /// <paramref name="bindings"/> less the pooler's when this encoder has a pooler and <paramref name="source"/> lacks its weights
    /// (then warns, naming <paramref name="model"/>: the pooler stays randomly initialised, as Hugging Face leaves it).
    /// </summary>
    internal IReadOnlyList<HfBinding> WithoutMissingPooler(IReadOnlyList<HfBinding> bindings, ITensorSource source, string fileName, string model,
        ICollection<string>? warnings)
    {
        if (Pooler is null || EncoderCheckpoint.BareNames(source, [HfPrefix]).Contains("pooler.dense.weight")) return bindings;
        LoadWarnings.Report(warnings, $"{fileName}: no pooler weights (pooler.dense.weight, pooler.dense.bias) for {model}; the pooler keeps "
            + "its random initialisation, so pooler_output means nothing until it is trained.");
        return bindings.Where(b => !b.HfName.Contains("pooler.dense.", StringComparison.Ordinal)).ToList();
    }
}
