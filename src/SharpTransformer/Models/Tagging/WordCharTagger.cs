using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Tagging;

/// <summary>
/// A sequence tagger trained from scratch (named entities, parts of speech): each word is the concatenation of a
/// lower-cased word embedding, a casing embedding and a character CNN (width-3 filters max-pooled over the word);
/// a bidirectional pre-LN transformer with rotary positions contextualises the words; a linear layer gives per-tag
/// emissions, decoded by a linear-chain CRF or a softmax per word.
/// </summary>
public sealed class WordCharTagger : Module
{
    private readonly Dropout? _drop;

    /// <summary>Builds a randomly initialised tagger.</summary>
    public WordCharTagger(WordCharTaggerConfig config, IReadOnlyList<string>? tagNames = null, ulong seed = 1337)
    {
        Config = config;
        var g = new Generator(seed);
        WordEmbedding = RegisterModule("word", new Embedding(config.Words, config.WordDim, g, 0.1f));
        CharEmbedding = RegisterModule("char", new Embedding(config.Chars, config.CharDim, g, 0.1f));
        CaseEmbedding = RegisterModule("case", new Embedding(WordCasing.Count, config.CaseDim, g, 0.1f));
        CharConv = RegisterModule("char_conv", new Linear(3 * config.CharDim, config.CharFilters, true, g));
        Input = RegisterModule("input", new Linear(config.WordDim + config.CaseDim + config.CharFilters, config.Dim, true, g));
        if (config.Dropout > 0f) _drop = RegisterModule("dropout", new Dropout(config.Dropout, g));
        var opts = new BlockOptions(new AttentionOptions(config.Dim, config.Heads, Causal: false, RopeTheta: 10000f, Dropout: config.Dropout),
            config.Hidden, FeedForwardKind.Gelu);
        Blocks = RegisterModule("blocks", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        Norm = RegisterModule("norm", new LayerNorm(config.Dim));
        Emissions = RegisterModule("emissions", new Linear(config.Dim, config.Tags, true, g));
        if (config.UseCrf) Crf = RegisterModule("crf", tagNames is null ? new ConditionalRandomField(config.Tags, g) : new ConditionalRandomField(tagNames, true, g));
    }

    /// <summary>The configuration.</summary>
    public WordCharTaggerConfig Config { get; }
    /// <summary>Lower-cased word embedding.</summary>
    public Embedding WordEmbedding { get; }
    /// <summary>Character embedding.</summary>
    public Embedding CharEmbedding { get; }
    /// <summary>Casing embedding.</summary>
    public Embedding CaseEmbedding { get; }
    /// <summary>Character convolution (3·CharDim → filters) applied to every window of three characters.</summary>
    public Linear CharConv { get; }
    /// <summary>Projection of the word features to the transformer width.</summary>
    public Linear Input { get; }
    /// <summary>Transformer blocks.</summary>
    public ModuleList<TransformerBlock> Blocks { get; }
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm { get; }
    /// <summary>Per-tag scores.</summary>
    public Linear Emissions { get; }
    /// <summary>The CRF, when <see cref="WordCharTaggerConfig.UseCrf"/>.</summary>
    public ConditionalRandomField? Crf { get; }

    /// <summary>Emission scores (B, T, tags) of a batch.</summary>
    public Tensor Forward(WordBatch batch)
    {
        var backend = WordEmbedding.Weight.Backend;
        int b = batch.Words.Size(0), t = batch.Words.Size(1), l = batch.Chars.Size(1);
        var ch = CharEmbedding.Forward(batch.Chars.To(backend));                                // (B·T, L, E)
        var windows = Tensor.Concat([ch.Narrow(1, 0, l - 2), ch.Narrow(1, 1, l - 2), ch.Narrow(1, 2, l - 2)], 2);   // (B·T, L-2, 3E)
        // Only windows centred on a character count: L is the batch's longest word, so without this a word's
        // features would change with the other words of the batch (windows of padding entering the max).
        var charFeat = CharConv.Forward(windows).Add(batch.CharWindowPenalty.To(backend))
            .Max(1).Reshape(b, t, Config.CharFilters);                                         // (B, T, F)
        var x = Tensor.Concat([WordEmbedding.Forward(batch.Words.To(backend)), CaseEmbedding.Forward(batch.Casing.To(backend)), charFeat], 2);
        if (_drop is not null) x = _drop.Forward(x);
        x = Input.Forward(x);                                                                   // (B, T, C)
        var mask = batch.Mask.To(backend);
        foreach (var block in Blocks.Items) x = block.Forward(x, null, null, mask);
        x = Norm.Forward(x);
        if (_drop is not null) x = _drop.Forward(x);
        return Emissions.Forward(x);                                                            // (B, T, tags)
    }

    /// <summary>Training loss: CRF negative log-likelihood, or cross-entropy per word; tags (B, T) with -100 on padding.</summary>
    public Tensor Loss(WordBatch batch, Tensor tags)
    {
        var e = Forward(batch);
        if (Crf is null) return Functional.CrossEntropy(e, tags.To(e.Backend));
        return Crf.NegativeLogLikelihood(e, tags.To(e.Backend), batch.Mask.To(e.Backend));
    }

    /// <summary>Best tag sequence of each sentence (Viterbi with a CRF, argmax per word without).</summary>
    public int[][] Decode(WordBatch batch)
    {
        var e = Forward(batch);
        if (Crf is not null) return Crf.Decode(e, batch.Mask.To(e.Backend));
        int t = e.Size(1), k = e.Size(2);
        var v = e.ToArray();
        return batch.Lengths.Select((n, i) => Enumerable.Range(0, n).Select(j =>
        {
            int best = 0, o = (i * t + j) * k;
            for (int c = 1; c < k; c++) if (v[o + c] > v[o + best]) best = c;
            return best;
        }).ToArray()).ToArray();
    }
}
