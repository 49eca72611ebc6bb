using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;

namespace SharpTransformer.Models.Bert;

/// <summary>Hyper-parameters of a BERT-family encoder (Hugging Face names in comments; DistilBERT's in brackets).</summary>
/// <param name="VocabSize">Tokens (vocab_size).</param>
/// <param name="HiddenSize">Width C (hidden_size [dim]).</param>
/// <param name="Layers">Encoder layers (num_hidden_layers [n_layers]).</param>
/// <param name="Heads">Attention heads (num_attention_heads [n_heads]).</param>
/// <param name="IntermediateSize">Feed-forward width (intermediate_size [hidden_dim]).</param>
/// <param name="MaxPositions">Rows of the position table (max_position_embeddings).</param>
/// <param name="TypeVocabSize">Segment types (type_vocab_size); 0 for models without segment embeddings.</param>
/// <param name="LayerNormEps">LayerNorm epsilon (layer_norm_eps; DistilBERT always 1e-12).</param>
/// <param name="HiddenAct">Activation (hidden_act [activation]).</param>
/// <param name="HiddenDropout">Dropout on embeddings and residual branches (hidden_dropout_prob [dropout]).</param>
/// <param name="AttentionDropout">
/// Dropout on attention probabilities (attention_probs_dropout_prob [attention_dropout]). Kept for fidelity of the
/// configuration; the fused attention kernel does not apply it, so training runs without attention-probability dropout.
/// </param>
/// <param name="PadTokenId">Padding id (pad_token_id); RoBERTa counts positions past it.</param>
/// <param name="Kind">The family.</param>
/// <param name="Pooler">Whether the encoder has a pooler (dense + tanh on position 0).</param>
/// <param name="NumLabels">Classes of a sequence-classification head (num_labels, or the size of id2label).</param>
/// <param name="ClassifierDropout">Dropout before a classifier (classifier_dropout [seq_classif_dropout]); null means <paramref name="HiddenDropout"/>.</param>
/// <param name="LabelNames">
/// The name of each class id (id2label), or null for Hugging Face's generic LABEL_0 .. LABEL_{n-1}; its length is
/// <paramref name="NumLabels"/>.
/// </param>
public sealed record BertConfig(
    int VocabSize = 30522, int HiddenSize = 768, int Layers = 12, int Heads = 12, int IntermediateSize = 3072, int MaxPositions = 512,
    int TypeVocabSize = 2, float LayerNormEps = 1e-12f, HiddenActivation HiddenAct = HiddenActivation.Gelu, float HiddenDropout = 0.1f,
    float AttentionDropout = 0.1f, int PadTokenId = 0, EncoderKind Kind = EncoderKind.Bert, bool Pooler = true, int NumLabels = 2,
    float? ClassifierDropout = null, IReadOnlyList<string>? LabelNames = null)
{
    private readonly LabelList? _labelNames = LabelNames is null ? null : new LabelList(LabelNames);

    /// <summary>The name of each class id (id2label), or null for the generic LABEL_0 .. LABEL_{n-1}; compared by value.</summary>
    public IReadOnlyList<string>? LabelNames
    {
        get => _labelNames;
        init => _labelNames = value is null ? null : new LabelList(value);
    }

    // Label names with value equality, so that two configurations read from the same config.json are equal.
    private sealed class LabelList(IReadOnlyList<string> names) : IReadOnlyList<string>, IEquatable<LabelList>
    {
        private readonly string[] _names = names.ToArray();
        public string this[int index] => _names[index];
        public int Count => _names.Length;
        public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_names).GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => _names.GetEnumerator();
        public bool Equals(LabelList? other) => other is not null && _names.AsSpan().SequenceEqual(other._names);
        public override bool Equals(object? obj) => Equals(obj as LabelList);
        public override int GetHashCode() => _names.Aggregate(_names.Length, (h, n) => HashCode.Combine(h, n));
        public override string ToString() => "[" + string.Join(", ", _names) + "]";
    }

    /// <summary>The name of class <paramref name="id"/>: <see cref="LabelNames"/>[id], else <c>LABEL_{id}</c>.</summary>
    public string LabelName(int id) => LabelNames is { } n && (uint)id < (uint)n.Count ? n[id] : $"LABEL_{id}";

    /// <summary>The position id of the first token: 0, or padding id + 1 for RoBERTa.</summary>
    public int PositionOffset => Kind == EncoderKind.Roberta ? PadTokenId + 1 : 0;

    /// <summary>Whether the embeddings add token-type (segment) vectors.</summary>
    public bool HasTokenTypes => Kind != EncoderKind.DistilBert && TypeVocabSize > 0;

    /// <summary>The feed-forward kind matching <see cref="HiddenAct"/>.</summary>
    public FeedForwardKind FeedForward => HiddenAct switch
    {
        HiddenActivation.GeluTanh => FeedForwardKind.GeluTanh,
        HiddenActivation.Relu => FeedForwardKind.Relu,
        _ => FeedForwardKind.Gelu,
    };

    /// <summary>The longest input: the position table less the RoBERTa offset.</summary>
    public int MaxSequenceLength => MaxPositions - PositionOffset;

    /// <summary>BERT-base (110M): 12 layers, 768 wide, 12 heads, 3072.</summary>
    public static BertConfig Base => new();
    /// <summary>BERT-large (340M): 24 layers, 1024 wide, 16 heads, 4096.</summary>
    public static BertConfig Large => new(HiddenSize: 1024, Layers: 24, Heads: 16, IntermediateSize: 4096);
    /// <summary>BERT-mini (Turc et al.): 4 layers, 256 wide, 4 heads, 1024.</summary>
    public static BertConfig Mini => new(HiddenSize: 256, Layers: 4, Heads: 4, IntermediateSize: 1024);
    /// <summary>A tiny BERT for tests: vocabulary 64, 2 layers, 16 wide, 2 heads, 64 positions, no dropout.</summary>
    public static BertConfig Tiny => new(VocabSize: 64, HiddenSize: 16, Layers: 2, Heads: 2, IntermediateSize: 32, MaxPositions: 64,
        HiddenDropout: 0f, AttentionDropout: 0f);
    /// <summary>DistilBERT-base (66M): 6 layers, 768 wide, 12 heads, 3072; no segment embeddings, no pooler.</summary>
    public static BertConfig DistilBertBase => new(TypeVocabSize: 0, Layers: 6, Kind: EncoderKind.DistilBert, Pooler: false, ClassifierDropout: 0.2f);
    /// <summary>A small DistilBERT: 4 layers, 256 wide, 4 heads, 1024.</summary>
    public static BertConfig DistilBertMini => DistilBertBase with { HiddenSize = 256, Layers = 4, Heads = 4, IntermediateSize = 1024 };
    /// <summary>RoBERTa-base (125M): vocabulary 50265, 514 positions past padding id 1, one segment type, LayerNorm eps 1e-5.</summary>
    public static BertConfig RobertaBase => new(VocabSize: 50265, MaxPositions: 514, TypeVocabSize: 1, LayerNormEps: 1e-5f, PadTokenId: 1,
        Kind: EncoderKind.Roberta);

    /// <summary>Reads a Hugging Face <c>config.json</c> of model_type <c>bert</c>, <c>distilbert</c> or <c>roberta</c>.</summary>
    public static BertConfig FromHuggingFace(string directory) =>
        FromHuggingFaceJson(HfConfigJson.Load(Path.Combine(directory, "config.json")));

    /// <summary>Parses the text of a Hugging Face <c>config.json</c>.</summary>
    public static BertConfig FromHuggingFaceJson(string json, string fileName = "config.json") => FromHuggingFaceJson(new HfConfigJson(json, fileName));

    /// <summary>Reads a parsed Hugging Face <c>config.json</c> (model_type <c>bert</c>, <c>distilbert</c>, <c>roberta</c> and look-alikes).</summary>
    public static BertConfig FromHuggingFaceJson(HfConfigJson c)
    {
        string type = c.String("bert", "model_type");
        int labels = c.Has("num_labels") ? c.Int(2, "num_labels") : c.EntryCount("id2label") ?? 2;
        var names = ReadLabelNames(c, labels);
        if (type == "distilbert")
        {
            if (c.Bool(false, "sinusoidal_pos_embds"))
                throw new NotSupportedException($"{c.FileName}: DistilBERT with sinusoidal position embeddings is not supported.");
            return new BertConfig(
                VocabSize: c.Int(30522, "vocab_size"), HiddenSize: c.Int(768, "dim"), Layers: c.Int(6, "n_layers"), Heads: c.Int(12, "n_heads"),
                IntermediateSize: c.Int(3072, "hidden_dim"), MaxPositions: c.Int(512, "max_position_embeddings"), TypeVocabSize: 0,
                LayerNormEps: 1e-12f, HiddenAct: Activation(c, "activation"), HiddenDropout: c.Float(0.1f, "dropout"),
                AttentionDropout: c.Float(0.1f, "attention_dropout"), PadTokenId: c.Int(0, "pad_token_id"), Kind: EncoderKind.DistilBert,
                Pooler: false, NumLabels: labels, ClassifierDropout: c.Float(0.2f, "seq_classif_dropout"), LabelNames: names);
        }
        var kind = type switch
        {
            "bert" => EncoderKind.Bert,
            "roberta" or "xlm-roberta" or "camembert" => EncoderKind.Roberta,
            _ => throw new NotSupportedException($"{c.FileName}: model_type '{type}' is not a BERT-family encoder (bert, distilbert, roberta)."),
        };
        bool roberta = kind == EncoderKind.Roberta;
        return new BertConfig(
            VocabSize: c.Int(roberta ? 50265 : 30522, "vocab_size"), HiddenSize: c.Int(768, "hidden_size"), Layers: c.Int(12, "num_hidden_layers"),
            Heads: c.Int(12, "num_attention_heads"), IntermediateSize: c.Int(3072, "intermediate_size"),
            MaxPositions: c.Int(roberta ? 514 : 512, "max_position_embeddings"), TypeVocabSize: c.Int(roberta ? 1 : 2, "type_vocab_size"),
            LayerNormEps: c.Float(1e-12f, "layer_norm_eps"), HiddenAct: Activation(c, "hidden_act"),
            HiddenDropout: c.Float(0.1f, "hidden_dropout_prob"), AttentionDropout: c.Float(0.1f, "attention_probs_dropout_prob"),
            PadTokenId: c.Int(roberta ? 1 : 0, "pad_token_id"), Kind: kind, Pooler: true, NumLabels: labels,
            ClassifierDropout: c.Has("classifier_dropout") ? c.Float(null, "classifier_dropout") : null, LabelNames: names);
    }

    // id2label's names in id order, or null when absent or generic; ids must be 0 .. labels-1.
    private static string[]? ReadLabelNames(HfConfigJson c, int labels)
    {
        if (c.StringMap("id2label") is not { } map) return null;
        var names = new string[labels];
        foreach (var (k, v) in map)
        {
            if (!int.TryParse(k, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id) || id >= labels)
                throw new InvalidDataException($"{c.FileName}: id2label has the key '{k}'; expected the class ids 0 to {labels - 1}.");
            names[id] = v;
        }
        for (int i = 0; i < labels; i++) names[i] ??= $"LABEL_{i}";
        return names.Select((n, i) => n == $"LABEL_{i}").All(x => x) ? null : names;   // generic names are the default
    }

    /// <summary>
    /// The Hugging Face <c>config.json</c> text of this configuration (model_type <c>bert</c>, <c>distilbert</c> or <c>roberta</c>
    /// by <see cref="Kind"/>), with <paramref name="architectures"/> and the labels' names (<see cref="LabelName"/>).
    /// </summary>
    public string ToHuggingFaceJson(params string[] architectures)
    {
        var o = new System.Text.Json.Nodes.JsonObject
        {
            ["model_type"] = Kind switch { EncoderKind.DistilBert => "distilbert", EncoderKind.Roberta => "roberta", _ => "bert" },
            ["architectures"] = new System.Text.Json.Nodes.JsonArray(architectures.Select(a => (System.Text.Json.Nodes.JsonNode?)a).ToArray()),
            ["vocab_size"] = VocabSize,
            ["max_position_embeddings"] = MaxPositions,
            ["pad_token_id"] = PadTokenId,
        };
        string act = HiddenAct switch { HiddenActivation.GeluTanh => "gelu_new", HiddenActivation.Relu => "relu", _ => "gelu" };
        if (Kind == EncoderKind.DistilBert)
        {
            o["dim"] = HiddenSize; o["n_layers"] = Layers; o["n_heads"] = Heads; o["hidden_dim"] = IntermediateSize; o["activation"] = act;
            o["dropout"] = Clean(HiddenDropout); o["attention_dropout"] = Clean(AttentionDropout);
            o["seq_classif_dropout"] = Clean(ClassifierDropout ?? 0.2f); o["sinusoidal_pos_embds"] = false;
        }
        else
        {
            o["hidden_size"] = HiddenSize; o["num_hidden_layers"] = Layers; o["num_attention_heads"] = Heads;
            o["intermediate_size"] = IntermediateSize; o["hidden_act"] = act; o["type_vocab_size"] = TypeVocabSize;
            o["layer_norm_eps"] = Clean(LayerNormEps); o["hidden_dropout_prob"] = Clean(HiddenDropout);
            o["attention_probs_dropout_prob"] = Clean(AttentionDropout);
            if (ClassifierDropout is { } cd) o["classifier_dropout"] = Clean(cd);
        }
        var id2label = new System.Text.Json.Nodes.JsonObject();
        var label2id = new System.Text.Json.Nodes.JsonObject();
        for (int i = 0; i < NumLabels; i++)
        {
            id2label[i.ToString(System.Globalization.CultureInfo.InvariantCulture)] = LabelName(i);
            label2id[LabelName(i)] = i;
        }
        o["id2label"] = id2label;
        o["label2id"] = label2id;
        return o.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    // The shortest decimal that reads back as the same float (1e-12, not 9.99999996e-13).
    private static double Clean(float f) => double.Parse(f.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    private static HiddenActivation Activation(HfConfigJson c, string key) => c.String("gelu", key) switch
    {
        "gelu" => HiddenActivation.Gelu,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => HiddenActivation.GeluTanh,
        "relu" => HiddenActivation.Relu,
        var s => throw new NotSupportedException($"{c.FileName}: activation '{s}' of key '{key}' is not supported (gelu, gelu_new, relu)."),
    };
}
