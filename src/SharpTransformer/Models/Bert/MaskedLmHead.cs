using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// The masked-LM head: dense → activation → LayerNorm, then a decoder tied to the word embeddings with its own bias.
/// Hugging Face names by family: <c>cls.predictions.*</c> (BERT), <c>lm_head.*</c> (RoBERTa), <c>vocab_transform</c>,
/// <c>vocab_layer_norm</c>, <c>vocab_projector</c> (DistilBERT).
/// </summary>
public sealed class MaskedLmHead : Module
{
    private readonly HiddenActivation _act;

    /// <summary>Creates the head; RoBERTa's always uses exact GELU, the others the configured activation.</summary>
    public MaskedLmHead(BertConfig config, Generator generator)
    {
        Kind = config.Kind;
        _act = config.Kind == EncoderKind.Roberta ? HiddenActivation.Gelu : config.HiddenAct;
        RegisterModule<ILinear>("dense", new Linear(config.HiddenSize, config.HiddenSize, true, generator));
        RegisterModule("norm", new LayerNorm(config.HiddenSize, config.LayerNormEps));
        Bias = RegisterParameter("bias", Tensor.Zeros(config.VocabSize));
    }

    /// <summary>The family (it decides the checkpoint names).</summary>
    public EncoderKind Kind { get; }
    /// <summary>The transform's dense layer (C, C).</summary>
    public ILinear Dense => Child<ILinear>("dense");
    /// <summary>The transform's LayerNorm.</summary>
    public LayerNorm Norm => Child<LayerNorm>("norm");
    /// <summary>The decoder's own bias (V).</summary>
    public Tensor Bias { get; }

    /// <summary>hidden (B, T, C) and the tied word table (V, C) → logits (B, T, V).</summary>
    public Tensor Forward(Tensor hidden, Tensor wordEmbeddings)
    {
        var h = Dense.Forward(hidden);                                        // (B, T, C)
        h = _act switch
        {
            HiddenActivation.GeluTanh => h.Gelu(tanhApproximation: true),
            HiddenActivation.Relu => h.Relu(),
            _ => h.Gelu(),
        };
        h = Norm.Forward(h);
        return Tensor.Linear(h, wordEmbeddings, Bias);                        // (B, T, V)
    }

    /// <summary>The head's tensors under Hugging Face names.</summary>
    public IEnumerable<HfBinding> HfBindings()
    {
        var r = new List<HfBinding>();
        switch (Kind)
        {
            case EncoderKind.DistilBert:
                Bert.Dense(r, "vocab_transform", Dense);
                Bert.Norm(r, "vocab_layer_norm", Norm);
                r.Add(new("vocab_projector.bias", Bias));
                break;
            case EncoderKind.Roberta:
                Bert.Dense(r, "lm_head.dense", Dense);
                Bert.Norm(r, "lm_head.layer_norm", Norm);
                r.Add(new("lm_head.bias", Bias));
                break;
            default:
                Bert.Dense(r, "cls.predictions.transform.dense", Dense);
                Bert.Norm(r, "cls.predictions.transform.LayerNorm", Norm);
                r.Add(new("cls.predictions.bias", Bias));
                break;
        }
        return r;
    }

    /// <summary>Names a checkpoint may store for the tied decoder (its weight is the word table, its bias is <see cref="Bias"/>).</summary>
    public static bool IsTiedDecoder(string name) => name is "cls.predictions.decoder.weight" or "cls.predictions.decoder.bias"
        or "lm_head.decoder.weight" or "lm_head.decoder.bias" or "vocab_projector.weight";
}
