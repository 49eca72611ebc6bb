using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Classification;

/// <summary>
/// Sequence classification on any encoder (<see cref="EncoderModel"/>) or decoder (<see cref="CausalLanguageModel"/>):
/// pooled hidden state → dropout → linear <c>classifier</c> (B, labels). Decoders pool the last non-padding token
/// (right padding), as Hugging Face's <c>GPT2ForSequenceClassification</c>.
/// </summary>
public sealed class SequenceClassifier : Module
{
    private readonly Func<Tensor, Tensor?, Tensor?, (Tensor Hidden, Tensor? Pooled)> _body;

    /// <summary>A classifier over an encoder.</summary>
    public SequenceClassifier(EncoderModel encoder, int labels, PoolingKind pooling = PoolingKind.Cls, float dropout = 0.1f, ulong seed = 7)
        : this(encoder, encoder.HiddenSize, labels, pooling, dropout, seed)
    {
        _body = (ids, mask, types) => { var o = Child<EncoderModel>("body").Encode(ids, mask, types); return (o.LastHiddenState, o.PooledOutput); };
    }

    /// <summary>A classifier over a decoder's final hidden states (default pooling: last token).</summary>
    public SequenceClassifier(CausalLanguageModel decoder, int labels, PoolingKind pooling = PoolingKind.LastToken, float dropout = 0.1f, ulong seed = 7)
        : this(decoder, decoder.HiddenSize, labels, pooling, dropout, seed)
    {
        if (pooling == PoolingKind.Pooler) throw new ArgumentException("SequenceClassifier: decoders have no pooler; use LastToken, Mean or Cls.", nameof(pooling));
        _body = (ids, mask, _) => (Child<CausalLanguageModel>("body").Hidden(ids, null, null, mask is null ? null : AttentionMasks.ToKeyMask(mask, "SequenceClassifier")), null);
    }

    private SequenceClassifier(Module body, int hidden, int labels, PoolingKind pooling, float dropout, ulong seed)
    {
        if (labels < 2) throw new ArgumentOutOfRangeException(nameof(labels), labels, "SequenceClassifier: need at least 2 labels.");
        RegisterModule("body", body);
        Pooling = pooling;
        Labels = labels;
        var g = new Generator(seed);
        if (dropout > 0f) RegisterModule("dropout", new Dropout(dropout, g));
        RegisterModule<ILinear>("classifier", new Linear(hidden, labels, true, g));
        _body = (_, _, _) => throw new InvalidOperationException();
    }

    /// <summary>The encoder or decoder.</summary>
    public Module Body => Child<Module>("body");
    /// <summary>The pooling.</summary>
    public PoolingKind Pooling { get; }
    /// <summary>Number of labels.</summary>
    public int Labels { get; }
    /// <summary>The output layer (labels, C).</summary>
    public ILinear Classifier => Child<ILinear>("classifier");

    /// <summary>The parameters of the new head (for a larger learning rate than the pretrained body).</summary>
    public IEnumerable<Tensor> HeadParameters() => ((Module)Classifier).Parameters();

    /// <summary>The parameters of the body.</summary>
    public IEnumerable<Tensor> BodyParameters() => Body.Parameters();

    /// <summary>Int32 ids (B, T), optional mask (B, T) with 1 on tokens, optional segment ids → logits (B, labels).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        ForwardWithHidden(inputIds, attentionMask, tokenTypeIds).Logits;

    /// <summary>As <see cref="Forward"/>, also returning the body's last hidden states (B, T, C) (for distillation).</summary>
    public (Tensor Logits, Tensor Hidden) ForwardWithHidden(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var (hidden, pooled) = _body(inputIds, attentionMask, tokenTypeIds);                  // (B, T, C)
        var v = Pooling switch
        {
            PoolingKind.Cls => Classification.Pooling.First(hidden),
            PoolingKind.Mean => Classification.Pooling.Mean(hidden, attentionMask),
            PoolingKind.LastToken => Classification.Pooling.Last(hidden, attentionMask),
            _ => pooled ?? throw new InvalidOperationException($"SequenceClassifier: pooling {Pooling} needs an encoder with a pooler ({Body.GetType().Name} has none)."),
        };                                                                                      // (B, C)
        if (ChildOrNull<Dropout>("dropout") is { } drop) v = drop.Forward(v);
        return (Classifier.Forward(v), hidden);                                                 // (B, labels), (B, T, C)
    }
}
