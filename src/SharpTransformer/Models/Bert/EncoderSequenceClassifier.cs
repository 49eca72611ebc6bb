using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>Base of the sequence classifiers: logits (B, labels) from an encoder, and their cross-entropy.</summary>
public abstract class EncoderSequenceClassifier : EncoderTaskModel
{
    /// <summary>Registers the encoder.</summary>
    protected EncoderSequenceClassifier(BertConfig config, Generator generator) : base(config, generator) { }

    /// <summary>Number of classes.</summary>
    public int NumLabels => Config.NumLabels;

    /// <summary>Int32 ids (B, T) → logits (B, labels).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Classify(Encoder.Encode(inputIds, attentionMask, tokenTypeIds));

    /// <summary>The head: encoder outputs → logits (B, labels).</summary>
    protected abstract Tensor Classify(EncoderOutput encoded);

    /// <summary>Mean cross-entropy of the logits against Int32 class labels (B).</summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        Functional.CrossEntropy(Forward(inputIds, attentionMask, tokenTypeIds), labels);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var o = Encoder.Encode(inputIds, attentionMask, tokenTypeIds);
        var r = new Dictionary<string, Tensor> { ["last_hidden_state"] = o.LastHiddenState, ["logits"] = Classify(o) };
        if (o.PooledOutput is not null) r["pooler_output"] = o.PooledOutput;
        return r;
    }

    /// <summary>The classifier dropout probability.</summary>
    protected float ClassifierDropoutP => Config.ClassifierDropout ?? Config.HiddenDropout;

    /// <summary>Registers the classifier dropout (<c>dropout</c>) when <see cref="ClassifierDropoutP"/> is positive.</summary>
    private protected void RegisterDropout(Generator g)
    {
        if (ClassifierDropoutP > 0f) RegisterModule("dropout", new Dropout(ClassifierDropoutP, g));
    }

    /// <summary>Applies the classifier dropout, if one was registered.</summary>
    private protected Tensor ApplyDropout(Tensor x) => ChildOrNull<Dropout>("dropout") is { } dropout ? dropout.Forward(x) : x;

    /// <summary>
    /// Registers the two-layer head of DistilBERT and RoBERTa in order: <paramref name="dense"/> (C, C), the dropout,
    /// <paramref name="output"/> (labels, C).
    /// </summary>
    private protected void RegisterTwoLayerHead(string dense, string output, Generator g)
    {
        RegisterModule<ILinear>(dense, new Linear(Config.HiddenSize, Config.HiddenSize, true, g));
        RegisterDropout(g);
        RegisterModule<ILinear>(output, new Linear(Config.HiddenSize, Config.NumLabels, true, g));
    }

    /// <summary>
    /// <paramref name="config"/> without a pooler when it is of kind <paramref name="kind"/>; otherwise an error naming
    /// <paramref name="model"/>.
    /// </summary>
    private protected static BertConfig RequireKind(BertConfig config, EncoderKind kind, string model) => config.Kind == kind
        ? config with { Pooler = false }
        : throw new ArgumentException($"{model}: the configuration is of kind {config.Kind}, not {kind}.");

    /// <summary>The bindings of dense layers under their Hugging Face names.</summary>
    private protected static IEnumerable<HfBinding> DenseBindings(params (string Name, ILinear Layer)[] layers)
    {
        var r = new List<HfBinding>();
        foreach (var (name, layer) in layers) Bert.Dense(r, name, layer);
        return r;
    }
}
