using SharpTransformer.Data;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// BERT pretraining model (Hugging Face <c>BertForPreTraining</c>): encoder with pooler, masked-LM head tied to the word
/// embeddings, and the next-sentence head (<c>cls.seq_relationship</c>) on the pooled output.
/// </summary>
public sealed class BertForPreTraining : EncoderTaskModel, IMaskedLmModel
{
    /// <summary>Builds a randomly initialised model.</summary>
    public BertForPreTraining(BertConfig config, ulong seed = 1337) : this(config with { Pooler = true }, new Generator(seed)) { }

    private BertForPreTraining(BertConfig config, Generator g) : base(config, g)
    {
        RegisterMaskedLmHead(g);
        RegisterModule<ILinear>("nsp", new Linear(config.HiddenSize, 2, true, g));
        InitWeights(g);
    }

    /// <summary>The masked-LM head.</summary>
    public MaskedLmHead Mlm => Child<MaskedLmHead>("mlm");
    /// <summary>The next-sentence head (2, C): class 0 = B follows A, 1 = B is random.</summary>
    public ILinear Nsp => Child<ILinear>("nsp");

    /// <inheritdoc/>
    public int VocabSize => Config.VocabSize;

    /// <summary>Int32 ids (B, T) → masked-LM logits (B, T, V) and next-sentence logits (B, 2).</summary>
    public (Tensor MlmLogits, Tensor NspLogits) Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var o = Encoder.Encode(inputIds, attentionMask, tokenTypeIds);
        return (MaskedLmLogits(Mlm, o.LastHiddenState), Nsp.Forward(o.PooledOutput!));
    }

    /// <summary>
    /// Masked-LM cross-entropy over labels (B, T) that are not -100, plus the next-sentence cross-entropy when
    /// <paramref name="nextSentenceLabels"/> (B) is given.
    /// </summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? nextSentenceLabels = null, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var (mlm, nsp) = Forward(inputIds, attentionMask, tokenTypeIds);
        var loss = MaskedLmLoss(mlm, labels);
        return nextSentenceLabels is null ? loss : loss.Add(Functional.CrossEntropy(nsp, nextSentenceLabels));
    }

    /// <inheritdoc/>
    public Tensor Loss(MaskedLmBatch batch) => Loss(batch.InputIds, batch.Labels, batch.NextSentenceLabels, batch.AttentionMask, batch.TokenTypeIds);

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var o = Encoder.Encode(inputIds, attentionMask, tokenTypeIds);
        return new Dictionary<string, Tensor>
        {
            ["last_hidden_state"] = o.LastHiddenState,
            ["pooler_output"] = o.PooledOutput!,
            ["mlm_logits"] = MaskedLmLogits(Mlm, o.LastHiddenState),
            ["nsp_logits"] = Nsp.Forward(o.PooledOutput!),
        };
    }

    /// <inheritdoc/>
    protected override IEnumerable<HfBinding> HeadBindings()
    {
        var r = new List<HfBinding>(Mlm.HfBindings());
        Bert.Dense(r, "cls.seq_relationship", Nsp);
        return r;
    }

    /// <inheritdoc/>
    protected override bool IgnoredByHead(string name) => MaskedLmHead.IsTiedDecoder(name);
}
