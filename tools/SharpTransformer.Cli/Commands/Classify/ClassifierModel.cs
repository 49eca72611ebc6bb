using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Models.Encoder;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary>A sequence classifier of any architecture with its tokenizer: encodes texts, pads batches, returns logits.</summary>
internal sealed class ClassifierModel
{
    private readonly SequenceClassifier? _seq;
    private readonly PromptClassifier? _prompt;
    private readonly bool _specialTokens;
    private static readonly EncodeOptions Plain = new() { AddSpecialTokens = false, ComputeOffsets = false };
    private static readonly EncodeOptions WithSpecial = new() { ComputeOffsets = false };

    public ClassifierModel(ClassifierSpec spec, Tokenizer tokenizer, ulong seed = 1337)
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
                    _seq = new SequenceClassifier(new Bert(config, seed), labels, spec.Pooling, spec.Dropout);
                    _specialTokens = true;
                    break;
                }
            case "hf-encoder":
                {
                    // A pretrained BERT / DistilBERT / RoBERTa (config.json as Hugging Face writes it).
                    var config = BertConfig.FromHuggingFaceJson(spec.EncoderConfigJson ?? throw new CliException("hf-encoder classifier without its config.json."));
                    _seq = new SequenceClassifier(new Bert(config with { HiddenDropout = spec.Dropout }, seed), labels, spec.Pooling, spec.Dropout);
                    _specialTokens = true;
                    break;
                }
            case "gpt2" or "prompt-gpt2":
                {
                    var lm = new Gpt2(new Gpt2Config(VocabSize: spec.Vocab, ContextLength: spec.MaxLength, Layers: spec.Layers, Heads: spec.Heads,
                        Embedding: spec.Dim, Dropout: spec.Dropout), seed);
                    if (spec.Architecture == "gpt2") _seq = new SequenceClassifier(lm, labels, spec.Pooling, spec.Dropout);
                    else _prompt = new PromptClassifier(lm, tokenizer, spec.Template ?? "{text} :", spec.Verbalizers ?? throw new CliException("prompt classifier without verbalizers."));
                    break;
                }
            case "llama":
                {
                    var lm = new Llama(new LlamaConfig(VocabSize: spec.Vocab, Hidden: spec.Dim, Intermediate: spec.Hidden, Layers: spec.Layers, Heads: spec.Heads,
                        KvHeads: spec.Heads, ContextLength: spec.MaxLength, TieEmbeddings: true), seed);
                    _seq = new SequenceClassifier(lm, labels, spec.Pooling, spec.Dropout);
                    break;
                }
            default:
                throw new CliException($"unknown classifier architecture '{spec.Architecture}'.");
        }
        Module = (Module?)_seq ?? _prompt!;
    }

    public ClassifierSpec Spec { get; }

    /// <summary>The sequence classifier (null for prompt-based classification).</summary>
    public SequenceClassifier? Sequence => _seq;
    public Tokenizer Tokenizer { get; }
    public Module Module { get; }

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
    public Tensor Logits(IReadOnlyList<int[]> batch)
    {
        if (_prompt is not null) return _prompt.Scores(batch);
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
        return _seq!.Forward(Tensor.FromArray(ids, b, t).To(backend), Tensor.FromArray(mask, b, t).To(backend));   // (B, labels)
    }

    /// <summary>Predicted label ids and probabilities of many encoded texts, in batches.</summary>
    public (int[] Labels, float[][] Probabilities) Predict(IReadOnlyList<int[]> texts, int batchSize = 256)
    {
        var labels = new int[texts.Count];
        var probs = new float[texts.Count][];
        Module.Eval();
        using var _ = Autograd.GradMode.NoGrad();
        // Sorting by length keeps padding small.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        for (int s = 0; s < order.Length; s += batchSize)
        {
            using var scope = TensorScope.Begin();
            var idx = order.Skip(s).Take(batchSize).ToArray();
            var p = Functional.Softmax(Logits(idx.Select(i => texts[i]).ToList())).ToArray();
            int k = Spec.Labels.Length;
            for (int j = 0; j < idx.Length; j++)
            {
                var row = p.AsSpan(j * k, k).ToArray();
                probs[idx[j]] = row;
                int best = 0;
                for (int c = 1; c < k; c++) if (row[c] > row[best]) best = c;
                labels[idx[j]] = best;
            }
        }
        return (labels, probs);
    }
}
