using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// DistilBERT sequence classifier (Hugging Face <c>DistilBertForSequenceClassification</c>): on the hidden state of position 0,
/// <c>pre_classifier</c> → ReLU → dropout → <c>classifier</c>.
/// </summary>
public sealed class DistilBertForSequenceClassification : EncoderSequenceClassifier
{
    private readonly Dropout? _dropout;

    /// <summary>Builds a randomly initialised model; the configuration must be of kind <see cref="EncoderKind.DistilBert"/>.</summary>
    public DistilBertForSequenceClassification(BertConfig config, ulong seed = 1337) : this(Check(config), new Generator(seed)) { }

    private DistilBertForSequenceClassification(BertConfig config, Generator g) : base(config, g)
    {
        PreClassifier = RegisterModule("pre_classifier", new Linear(config.HiddenSize, config.HiddenSize, true, g));
        if (ClassifierDropoutP > 0f) _dropout = RegisterModule("dropout", new Dropout(ClassifierDropoutP, g));
        Classifier = RegisterModule("classifier", new Linear(config.HiddenSize, config.NumLabels, true, g));
        InitWeights(g);
    }

    private static BertConfig Check(BertConfig c) => c.Kind == EncoderKind.DistilBert
        ? c with { Pooler = false }
        : throw new ArgumentException($"DistilBertForSequenceClassification: the configuration is of kind {c.Kind}, not DistilBert.");

    /// <summary>The dense layer before the classifier (C, C).</summary>
    public Linear PreClassifier { get; }
    /// <summary>The classifier (labels, C).</summary>
    public Linear Classifier { get; }

    /// <inheritdoc/>
    protected override Tensor Classify(EncoderOutput encoded)
    {
        var x = PreClassifier.Forward(encoded.LastHiddenState.Select(1, 0)).Relu(); // (B, C)
        if (_dropout is not null) x = _dropout.Forward(x);
        return Classifier.Forward(x);                                               // (B, labels)
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings()
    {
        var r = new List<HfBinding>();
        Bert.Dense(r, "pre_classifier", PreClassifier);
        Bert.Dense(r, "classifier", Classifier);
        return r;
    }
}
