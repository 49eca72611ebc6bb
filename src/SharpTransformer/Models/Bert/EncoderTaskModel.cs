using SharpTransformer.Data;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Bert;

/// <summary>
/// Base of the task models: a BERT-family <see cref="Encoder"/> (our name <c>encoder</c>, Hugging Face's <c>bert.</c>,
/// <c>distilbert.</c> or <c>roberta.</c>) plus a head that lists its own Hugging Face bindings.
/// </summary>
public abstract class EncoderTaskModel : Module, IEncoderTaskModel
{
    /// <summary>Registers the encoder built from <paramref name="config"/> with <paramref name="generator"/>.</summary>
    protected EncoderTaskModel(BertConfig config, Generator generator)
    {
        Config = config;
        RegisterModule("encoder", new Bert(config, generator));
    }

    /// <summary>The configuration.</summary>
    public BertConfig Config { get; }

    /// <inheritdoc/>
    public Bert Encoder => Child<Bert>("encoder");

    /// <summary>Applies BERT's initialisation to every parameter (call at the end of a derived constructor).</summary>
    protected void InitWeights(Generator g) => Bert.InitWeights(this, g);

    /// <summary>Registers the masked-LM head (<c>mlm</c>) of the masked-LM and pretraining models.</summary>
    private protected MaskedLmHead RegisterMaskedLmHead(Generator g) => RegisterModule("mlm", new MaskedLmHead(Config, g));

    /// <summary>hidden (B, T, C) → masked-LM logits (B, T, V) through <paramref name="head"/>, its decoder tied to the word embeddings.</summary>
    private protected Tensor MaskedLmLogits(MaskedLmHead head, Tensor hidden) => head.Forward(hidden, Encoder.Embeddings.Word.Weight);

    /// <summary>Masked-LM cross-entropy of logits (B, T, V) over the labels (B, T) that are not -100.</summary>
    private protected static Tensor MaskedLmLoss(Tensor logits, Tensor labels) =>
        Functional.CrossEntropy(logits, labels, ignoreIndex: MaskedLmCollator.IgnoreIndex);

    /// <inheritdoc/>
    public abstract IReadOnlyDictionary<string, Tensor> Outputs(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null);

    /// <summary>The head's tensors under their Hugging Face names (no family prefix: <c>cls.</c>, <c>classifier.</c>, ...).</summary>
    protected abstract IEnumerable<HfBinding> HeadBindings();

    /// <summary>Checkpoint names (prefix removed) the head accepts and skips, such as a decoder tied to the word embeddings.</summary>
    protected virtual bool IgnoredByHead(string name) => false;

    /// <inheritdoc/>
    public IReadOnlyList<HfBinding> HfBindings() => [.. Encoder.HfBindings(Encoder.HfPrefix), .. HeadBindings()];

    /// <inheritdoc/>
    public void LoadHuggingFace(ITensorSource source, string fileName = "model.safetensors") => LoadHuggingFace(source, fileName, false);

    /// <summary>
    /// Loads a checkpoint whose encoder names may carry the family prefix or not. The heads of other tasks are skipped; with
    /// <paramref name="keepMissingHead"/> a checkpoint without this head's tensors (a pretrained encoder to fine-tune) loads and the
    /// head keeps its initialisation. Any other missing, unexpected or mis-shaped tensor is reported, all together.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName, bool keepMissingHead) => LoadHuggingFace(source, fileName, keepMissingHead, null);

    /// <summary>
    /// Loads a checkpoint as <see cref="LoadHuggingFace(ITensorSource, string, bool)"/> does, reporting to <paramref name="warnings"/>
    /// (standard error when null) what keeps its initialisation: a head missing from the checkpoint (with
    /// <paramref name="keepMissingHead"/>) and a missing pooler, which Hugging Face also leaves randomly initialised.
    /// </summary>
    public void LoadHuggingFace(ITensorSource source, string fileName, bool keepMissingHead, ICollection<string>? warnings)
    {
        var prefixes = new[] { Encoder.HfPrefix };
        var head = HeadBindings().ToList();
        if (keepMissingHead)
        {
            var present = EncoderCheckpoint.BareNames(source, prefixes);
            var missing = head.Where(b => !present.Contains(b.HfName)).Select(b => b.HfName).ToList();
            if (missing.Count > 0)
                LoadWarnings.Report(warnings, $"{fileName}: {GetType().Name}'s head is not in the checkpoint and keeps its random initialisation "
                    + $"({string.Join(", ", missing)}); train it before using its outputs.");
            head = head.Where(b => present.Contains(b.HfName)).ToList();
        }
        var bindings = new List<HfBinding>(Encoder.WithoutMissingPooler(Encoder.HfBindings(""), source, fileName, GetType().Name, warnings));
        bindings.AddRange(head);
        var own = new HashSet<string>(bindings.Select(b => b.HfName), StringComparer.Ordinal);
        EncoderCheckpoint.Load(source, bindings, prefixes, fileName, n => !own.Contains(n) && (EncoderCheckpoint.IsBuffer(n) || IgnoredByHead(n)
            || EncoderCheckpoint.IsTaskHead(n) && !head.Any(b => SameHead(b.HfName, n))
            || Encoder.Pooler is null && n.StartsWith("pooler.", StringComparison.Ordinal)));
    }

    // A name belongs to this head's family of tensors when it shares the first path component with one of them.
    private static bool SameHead(string bound, string name) => bound[..(bound.IndexOf('.') + 1)] == name[..(name.IndexOf('.') + 1)];
}
