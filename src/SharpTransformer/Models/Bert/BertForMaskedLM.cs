using SharpTransformer.Data;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// Encoder + masked-LM head (Hugging Face <c>BertForMaskedLM</c>, <c>DistilBertForMaskedLM</c>, <c>RobertaForMaskedLM</c> by
/// <see cref="BertConfig.Kind"/>). Like Hugging Face's, the encoder has no pooler.
/// </summary>
public sealed class BertForMaskedLM : EncoderTaskModel, IMaskedLmModel
{
    /// <summary>Builds a randomly initialised model.</summary>
    public BertForMaskedLM(BertConfig config, ulong seed = 1337) : this(config with { Pooler = false }, new Generator(seed)) { }

    private BertForMaskedLM(BertConfig config, Generator g) : base(config, g)
    {
        RegisterMaskedLmHead(g);
        InitWeights(g);
    }

    /// <summary>The masked-LM head.</summary>
    public MaskedLmHead Mlm => Child<MaskedLmHead>("mlm");

    /// <inheritdoc/>
    public int VocabSize => Config.VocabSize;

    /// <summary>Int32 ids (B, T) → logits (B, T, V).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        MaskedLmLogits(Mlm, Encoder.Encode(inputIds, attentionMask, tokenTypeIds).LastHiddenState);

    /// <summary>Masked-LM cross-entropy over the labels (B, T) that are not -100.</summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? tokenTypeIds = null) =>
        MaskedLmLoss(Forward(inputIds, attentionMask, tokenTypeIds), labels);

    /// <inheritdoc/>
    public Tensor Loss(MaskedLmBatch batch) => Loss(batch.InputIds, batch.Labels, batch.AttentionMask, batch.TokenTypeIds);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var h = Encoder.Encode(inputIds, attentionMask, tokenTypeIds).LastHiddenState;
        return new Dictionary<string, Tensor> { ["last_hidden_state"] = h, ["mlm_logits"] = MaskedLmLogits(Mlm, h) };
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings() => Mlm.HfBindings();

    /// <inheritdoc/>
    protected override bool IgnoredByHead(string name) =>
        MaskedLmHead.IsTiedDecoder(name) || name.StartsWith("cls.seq_relationship.", StringComparison.Ordinal);   // a pretraining checkpoint's NSP head
}
