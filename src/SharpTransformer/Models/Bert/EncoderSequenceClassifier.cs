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
}
