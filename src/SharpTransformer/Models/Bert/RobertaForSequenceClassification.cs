using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// RoBERTa sequence classifier (Hugging Face <c>RobertaForSequenceClassification</c>): on the hidden state of &lt;s&gt; (position 0),
/// dropout → <c>classifier.dense</c> → tanh → dropout → <c>classifier.out_proj</c>. The encoder has no pooler.
/// </summary>
public sealed class RobertaForSequenceClassification : EncoderSequenceClassifier
{
    /// <summary>Builds a randomly initialised model; the configuration must be of kind <see cref="EncoderKind.Roberta"/>.</summary>
    public RobertaForSequenceClassification(BertConfig config, ulong seed = 1337)
        : this(RequireKind(config, EncoderKind.Roberta, nameof(RobertaForSequenceClassification)), new Generator(seed)) { }

    private RobertaForSequenceClassification(BertConfig config, Generator g) : base(config, g)
    {
        RegisterTwoLayerHead("dense", "out_proj", g);
        InitWeights(g);
    }

    /// <summary><c>classifier.dense</c> (C, C).</summary>
    public ILinear Dense => Child<ILinear>("dense");
    /// <summary><c>classifier.out_proj</c> (labels, C).</summary>
    public ILinear OutProj => Child<ILinear>("out_proj");

    /// <inheritdoc/>
    protected override Tensor Classify(EncoderOutput encoded)
    {
        var x = ApplyDropout(encoded.LastHiddenState.Select(1, 0));             // (B, C)
        x = ApplyDropout(Dense.Forward(x).Tanh());
        return OutProj.Forward(x);                                             // (B, labels)
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings() => DenseBindings(("classifier.dense", Dense), ("classifier.out_proj", OutProj));
}
