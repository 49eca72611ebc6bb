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
    private readonly Dropout? _dropout;

    /// <summary>Builds a randomly initialised model; the configuration must be of kind <see cref="EncoderKind.Roberta"/>.</summary>
    public RobertaForSequenceClassification(BertConfig config, ulong seed = 1337) : this(Check(config), new Generator(seed)) { }

    private RobertaForSequenceClassification(BertConfig config, Generator g) : base(config, g)
    {
        Dense = RegisterModule("dense", new Linear(config.HiddenSize, config.HiddenSize, true, g));
        if (ClassifierDropoutP > 0f) _dropout = RegisterModule("dropout", new Dropout(ClassifierDropoutP, g));
        OutProj = RegisterModule("out_proj", new Linear(config.HiddenSize, config.NumLabels, true, g));
        InitWeights(g);
    }

    private static BertConfig Check(BertConfig c) => c.Kind == EncoderKind.Roberta
        ? c with { Pooler = false }
        : throw new ArgumentException($"RobertaForSequenceClassification: the configuration is of kind {c.Kind}, not Roberta.");

    /// <summary><c>classifier.dense</c> (C, C).</summary>
    public Linear Dense { get; }
    /// <summary><c>classifier.out_proj</c> (labels, C).</summary>
    public Linear OutProj { get; }

    /// <inheritdoc/>
    protected override Tensor Classify(EncoderOutput encoded)
    {
        var x = encoded.LastHiddenState.Select(1, 0);                           // (B, C)
        if (_dropout is not null) x = _dropout.Forward(x);
        x = Dense.Forward(x).Tanh();
        if (_dropout is not null) x = _dropout.Forward(x);
        return OutProj.Forward(x);                                             // (B, labels)
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings()
    {
        var r = new List<HfBinding>();
        Bert.Dense(r, "classifier.dense", Dense);
        Bert.Dense(r, "classifier.out_proj", OutProj);
        return r;
    }
}
