using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>BERT sequence classifier (Hugging Face <c>BertForSequenceClassification</c>): dropout + <c>classifier</c> on the pooled output.</summary>
public sealed class BertForSequenceClassification : EncoderSequenceClassifier
{
    /// <summary>Builds a randomly initialised model with <see cref="BertConfig.NumLabels"/> classes.</summary>
    public BertForSequenceClassification(BertConfig config, ulong seed = 1337) : this(config with { Pooler = true }, new Generator(seed)) { }

    private BertForSequenceClassification(BertConfig config, Generator g) : base(config, g)
    {
        RegisterDropout(g);
        RegisterModule<ILinear>("classifier", new Linear(config.HiddenSize, config.NumLabels, true, g));
        InitWeights(g);
    }

    /// <summary>The classifier (labels, C).</summary>
    public ILinear Classifier => Child<ILinear>("classifier");

    /// <inheritdoc/>
    protected override Tensor Classify(EncoderOutput encoded)
    {
        var x = ApplyDropout(encoded.PooledOutput!);                           // (B, C)
        return Classifier.Forward(x);                                          // (B, labels)
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings() => DenseBindings(("classifier", Classifier));
}
