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
    /// <summary>Builds a randomly initialised model; the configuration must be of kind <see cref="EncoderKind.DistilBert"/>.</summary>
    public DistilBertForSequenceClassification(BertConfig config, ulong seed = 1337)
        : this(RequireKind(config, EncoderKind.DistilBert, nameof(DistilBertForSequenceClassification)), new Generator(seed)) { }

    private DistilBertForSequenceClassification(BertConfig config, Generator g) : base(config, g)
    {
        RegisterTwoLayerHead("pre_classifier", "classifier", g);
        InitWeights(g);
    }

    /// <summary>The dense layer before the classifier (C, C).</summary>
    public ILinear PreClassifier => Child<ILinear>("pre_classifier");
    /// <summary>The classifier (labels, C).</summary>
    public ILinear Classifier => Child<ILinear>("classifier");

    /// <inheritdoc/>
    protected override Tensor Classify(EncoderOutput encoded) =>
        Classifier.Forward(ApplyDropout(PreClassifier.Forward(encoded.LastHiddenState.Select(1, 0)).Relu())); // (B, C) → (B, labels)

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings() => DenseBindings(("pre_classifier", PreClassifier), ("classifier", Classifier));
}
