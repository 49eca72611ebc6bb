using SharpTransformer.IO;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Encoder;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Models.Classification;

/// <summary>
/// A sequence classifier of any architecture of <see cref="TextClassifierSpec"/> with its tokenizer: encodes texts, pads
/// batches and returns logits. This is the model <c>sharpt classify train</c> trains; <see cref="Load"/> reads its output.
/// </summary>
public sealed class TextClassifier
{
    private readonly SequenceClassifier? _seq;
    private readonly PromptClassifier? _prompt;
    private readonly bool _specialTokens;
    private static readonly EncodeOptions Plain = new() { AddSpecialTokens = false, ComputeOffsets = false };
    private static readonly EncodeOptions WithSpecial = new() { ComputeOffsets = false };

    /// <summary>The model kind stored in the checkpoint.</summary>
    public const string Kind = "classifier";

    /// <summary>Builds the randomly initialised classifier that <paramref name="spec"/> describes.</summary>
    /// <exception cref="ArgumentException">The architecture is unknown, or a prompt classifier lacks its verbalizers.</exception>
    public TextClassifier(TextClassifierSpec spec, Tokenizer tokenizer, ulong seed = 1337)
    {
        Spec = spec;
        Tokenizer = tokenizer;
        int pad = tokenizer.PadId ?? 0, labels = spec.Labels.Length;
        switch (spec.Architecture)
        {
            case "encoder":
                {
                    var enc = new TransformerEncoder(new TransformerEncoderConfig(spec.Vocab, spec.Dim, spec.Layers, spec.Heads, spec.Hidden, spec.MaxLength, spec.Dropout, pad), seed);
                    _seq = new SequenceClassifier(enc, labels, spec.Pooling, spec.Dropout);
                    _specialTokens = true;
                    break;
                }
            case "bert" or "distilbert" or "roberta":
                {
                    var baseConfig = spec.Architecture switch { "bert" => BertConfig.Base, "distilbert" => BertConfig.DistilBertBase, _ => BertConfig.RobertaBase };
                    var config = baseConfig with
                    {
                        VocabSize = spec.Vocab, HiddenSize = spec.Dim, Layers = spec.Layers, Heads = spec.Heads, IntermediateSize = spec.Hidden,
                        PadTokenId = pad, HiddenDropout = spec.Dropout, AttentionDropout = spec.Dropout,
                    };
                    config = config with { MaxPositions = spec.MaxLength + config.PositionOffset };
                    _seq = new SequenceClassifier(new Bert.Bert(config, seed), labels, spec.Pooling, spec.Dropout);
                    _specialTokens = true;
                    break;
                }
            case "hf-encoder":
                {
                    // A pretrained BERT / DistilBERT / RoBERTa (config.json as Hugging Face writes it).
                    var config = BertConfig.FromHuggingFaceJson(spec.EncoderConfigJson ?? throw new ArgumentException("TextClassifier: an hf-encoder classifier needs its config.json (EncoderConfigJson).", nameof(spec)));
                    _seq = new SequenceClassifier(new Bert.Bert(config with { HiddenDropout = spec.Dropout }, seed), labels, spec.Pooling, spec.Dropout);
                    _specialTokens = true;
                    break;
                }
            case "gpt2" or "prompt-gpt2":
                {
                    var lm = new Gpt2.Gpt2(new Gpt2Config(VocabSize: spec.Vocab, ContextLength: spec.MaxLength, Layers: spec.Layers, Heads: spec.Heads,
                        Embedding: spec.Dim, Dropout: spec.Dropout), seed);
                    if (spec.Architecture == "gpt2") _seq = new SequenceClassifier(lm, labels, spec.Pooling, spec.Dropout);
                    else _prompt = new PromptClassifier(lm, tokenizer, spec.Template ?? "{text} :",
                        spec.Verbalizers ?? throw new ArgumentException("TextClassifier: a prompt classifier needs its verbalizers.", nameof(spec)));
                    break;
                }
            case "llama":
                {
                    var lm = new Llama.Llama(new LlamaConfig(VocabSize: spec.Vocab, Hidden: spec.Dim, Intermediate: spec.Hidden, Layers: spec.Layers, Heads: spec.Heads,
                        KvHeads: spec.Heads, ContextLength: spec.MaxLength, TieEmbeddings: true), seed);
                    _seq = new SequenceClassifier(lm, labels, spec.Pooling, spec.Dropout);
                    break;
                }
            default:
                throw new ArgumentException($"TextClassifier: unknown architecture '{spec.Architecture}' (encoder, bert, distilbert, roberta, hf-encoder, gpt2, prompt-gpt2, llama).", nameof(spec));
        }
        Module = (Module?)_seq ?? _prompt!;
    }

    /// <summary>
    /// Reads what <c>sharpt classify train --out</c> wrote: the checkpoint file, or the folder holding its <c>model.safetensors</c>
    /// (model kind <c>classifier</c>, tokenizer inside). The model comes back in evaluation mode.
    /// </summary>
    /// <exception cref="FileNotFoundException">No checkpoint at the path; the message names it.</exception>
    /// <exception cref="InvalidDataException">The checkpoint holds another kind of model or no tokenizer; the message names the file.</exception>
    public static TextClassifier Load(string path)
    {
        string file = SharptCheckpointFiles.Resolve(path, "TextClassifier.Load", "model.safetensors");
        var ck = Checkpoint.Load(file);
        if (ck.ModelKind != Kind) throw new InvalidDataException($"{file}: holds a '{ck.ModelKind}' model, not a classifier.");
        var spec = TextClassifierSpec.FromJson(ck.ConfigJson);
        var tok = TokenizerSnapshot.Restore(ck.TokenizerJson ?? throw new InvalidDataException($"{file}: the checkpoint holds no tokenizer."));
        var model = new TextClassifier(spec, tok);
        ck.RestoreModel(model.Module);
        model.Module.Eval();
        return model;
    }

    /// <summary>The architecture and sizes.</summary>
    public TextClassifierSpec Spec { get; }
    /// <summary>The sequence classifier (null for prompt-based classification).</summary>
    public SequenceClassifier? Sequence => _seq;
    /// <summary>The prompt classifier (null for a sequence classifier).</summary>
    public PromptClassifier? Prompt => _prompt;
    /// <summary>The tokenizer.</summary>
    public Tokenizer Tokenizer { get; }
    /// <summary>The model (<see cref="Sequence"/> or <see cref="Prompt"/>).</summary>
    public Module Module { get; }
    /// <summary>Label names by class id.</summary>
    public IReadOnlyList<string> Labels => Spec.Labels;

    /// <summary>Parameters of the new head (none for prompt-based classification).</summary>
    public IEnumerable<Tensor> HeadParameters => _seq?.HeadParameters() ?? [];

    /// <summary>Token ids of a text, cut to the model's length; <paramref name="truncated"/> tells whether it was cut.</summary>
    public int[] Encode(string text, out bool truncated)
    {
        if (_prompt is not null)
        {
            var full = Tokenizer.Encode(text, Plain).Ids.Length;
            var p = _prompt.PromptIds(text);
            truncated = p.Length < full;
            return p;
        }
        var ids = Tokenizer.Encode(text, _specialTokens ? WithSpecial : Plain).Ids;
        truncated = ids.Length > Spec.MaxLength;
        if (!truncated) return ids;
        var cut = ids[..Spec.MaxLength];
        if (_specialTokens && Tokenizer.SepId is { } sep) cut[^1] = sep;
        return cut;
    }

    /// <summary>Logits (B, labels) of a batch of encoded texts (right-padded here).</summary>
    public Tensor Logits(IReadOnlyList<int[]> batch) => _prompt is not null ? _prompt.Scores(batch) : LogitsAndHidden(batch).Logits;

    /// <summary>
    /// Logits (B, labels), the body's last hidden states (B, T, C) and the mask (B, T) (1 on tokens) of a batch of encoded texts
    /// (for distillation); not for prompt classifiers.
    /// </summary>
    public (Tensor Logits, Tensor Hidden, Tensor Mask) LogitsAndHidden(IReadOnlyList<int[]> batch)
    {
        if (_prompt is not null) throw new InvalidOperationException($"TextClassifier.LogitsAndHidden: a prompt classifier ({Spec.Architecture}) exposes no hidden states.");
        int b = batch.Count, longest = batch.Max(x => x.Length), pad = Tokenizer.PadId ?? 0;
        int t = Math.Max(longest, Math.Min(Spec.MaxLength, (longest + 7) / 8 * 8));   // few distinct shapes: buffers get reused
        var ids = new int[b * t];
        var mask = new float[b * t];
        Array.Fill(ids, pad);
        for (int i = 0; i < b; i++)
        {
            batch[i].CopyTo(ids, i * t);
            mask.AsSpan(i * t, batch[i].Length).Fill(1f);
        }
        var backend = Module.Parameters().First().Backend;
        var m = Tensor.FromArray(mask, b, t).To(backend);
        var (logits, hidden) = _seq!.ForwardWithHidden(Tensor.FromArray(ids, b, t).To(backend), m);
        return (logits, hidden, m);                                                   // (B, labels), (B, T, C), (B, T)
    }
}
