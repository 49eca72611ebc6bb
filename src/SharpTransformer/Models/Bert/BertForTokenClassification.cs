using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// Token classifier on a BERT-family encoder (Hugging Face <c>BertForTokenClassification</c>, <c>DistilBertForTokenClassification</c>,
/// <c>RobertaForTokenClassification</c> by <see cref="BertConfig.Kind"/>): per token, dropout then the linear <c>classifier</c>
/// (<see cref="BertConfig.NumLabels"/>, C). Like Hugging Face's, the encoder has no pooler.
/// </summary>
public sealed class BertForTokenClassification : EncoderTaskModel
{
    private readonly Dropout? _dropout;

    /// <summary>Builds a randomly initialised model with <see cref="BertConfig.NumLabels"/> labels.</summary>
    public BertForTokenClassification(BertConfig config, ulong seed = 1337) : this(config with { Pooler = false }, new Generator(seed)) { }

    private BertForTokenClassification(BertConfig config, Generator g) : base(config, g)
    {
        // DistilBERT's token head uses the model's dropout; BERT's and RoBERTa's classifier_dropout, else the hidden dropout.
        float p = config.Kind == EncoderKind.DistilBert ? config.HiddenDropout : config.ClassifierDropout ?? config.HiddenDropout;
        if (p > 0f) _dropout = RegisterModule("dropout", new Dropout(p, g));
        Classifier = RegisterModule("classifier", new Linear(config.HiddenSize, config.NumLabels, true, g));
        InitWeights(g);
    }

    /// <summary>The per-token classifier (labels, C).</summary>
    public Linear Classifier { get; }

    /// <summary>Number of labels.</summary>
    public int NumLabels => Config.NumLabels;

    /// <summary>Int32 ids (B, T), optional mask (B, T) and segments → per-token logits (B, T, labels).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Classify(Encoder.Encode(inputIds, attentionMask, tokenTypeIds).LastHiddenState);

    private Tensor Classify(Tensor hidden)
    {
        var x = _dropout is null ? hidden : _dropout.Forward(hidden);        // (B, T, C)
        return Classifier.Forward(x);                                        // (B, T, labels)
    }

    /// <summary>Mean cross-entropy of the per-token logits against Int32 labels (B, T); -100 marks tokens to ignore.</summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Functional.CrossEntropy(Forward(inputIds, attentionMask, tokenTypeIds), labels, ignoreIndex: -100);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var h = Encoder.Encode(inputIds, attentionMask, tokenTypeIds).LastHiddenState;
        return new Dictionary<string, Tensor> { ["last_hidden_state"] = h, ["logits"] = Classify(h) };
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings()
    {
        var r = new List<HfBinding>();
        Bert.Dense(r, "classifier", Classifier);
        return r;
    }
}
