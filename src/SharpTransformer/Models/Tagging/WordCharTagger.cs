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
    /// <summary>Builds a randomly initialised tagger.</summary>
    public WordCharTagger(WordCharTaggerConfig config, IReadOnlyList<string>? tagNames = null, ulong seed = 1337)
    {
        Config = config;
        var g = new Generator(seed);
        RegisterModule("word", new Embedding(config.Words, config.WordDim, g, 0.1f));
        RegisterModule("char", new Embedding(config.Chars, config.CharDim, g, 0.1f));
        RegisterModule("case", new Embedding(WordCasing.Count, config.CaseDim, g, 0.1f));
        RegisterModule<ILinear>("char_conv", new Linear(3 * config.CharDim, config.CharFilters, true, g));
        RegisterModule<ILinear>("input", new Linear(config.WordDim + config.CaseDim + config.CharFilters, config.Dim, true, g));
        if (config.Dropout > 0f) RegisterModule("dropout", new Dropout(config.Dropout, g));
        var opts = new BlockOptions(new AttentionOptions(config.Dim, config.Heads, Causal: false, RopeTheta: 10000f, Dropout: config.Dropout),
            config.Hidden, FeedForwardKind.Gelu);
        RegisterModule("blocks", new ModuleList<TransformerBlock>(Enumerable.Range(0, config.Layers).Select(_ => new TransformerBlock(opts, g))));
        RegisterModule("norm", new LayerNorm(config.Dim));
        RegisterModule<ILinear>("emissions", new Linear(config.Dim, config.Tags, true, g));
        if (config.UseCrf) RegisterModule("crf", tagNames is null ? new ConditionalRandomField(config.Tags, g) : new ConditionalRandomField(tagNames, true, g));
    }

    /// <summary>The configuration.</summary>
    public WordCharTaggerConfig Config { get; }
    /// <summary>Lower-cased word embedding.</summary>
    public Embedding WordEmbedding => Child<Embedding>("word");
    /// <summary>Character embedding.</summary>
    public Embedding CharEmbedding => Child<Embedding>("char");
    /// <summary>Casing embedding.</summary>
    public Embedding CaseEmbedding => Child<Embedding>("case");
    /// <summary>Character convolution (3·CharDim → filters) applied to every window of three characters.</summary>
    public ILinear CharConv => Child<ILinear>("char_conv");
    /// <summary>Projection of the word features to the transformer width.</summary>
    public ILinear Input => Child<ILinear>("input");
    /// <summary>Transformer blocks.</summary>
    public ModuleList<TransformerBlock> Blocks => Child<ModuleList<TransformerBlock>>("blocks");
    /// <summary>Final LayerNorm.</summary>
    public LayerNorm Norm => Child<LayerNorm>("norm");
    /// <summary>Per-tag scores.</summary>
    public ILinear Emissions => Child<ILinear>("emissions");
    /// <summary>The CRF, when <see cref="WordCharTaggerConfig.UseCrf"/>.</summary>
    public ConditionalRandomField? Crf => ChildOrNull<ConditionalRandomField>("crf");

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
        if (ChildOrNull<Dropout>("dropout") is { } drop) x = drop.Forward(x);
        x = Input.Forward(x);                                                                   // (B, T, C)
        var mask = batch.Mask.To(backend);
        foreach (var block in Blocks.Items) x = block.Forward(x, null, null, mask);
        x = Norm.Forward(x);
        if (ChildOrNull<Dropout>("dropout") is { } drop2) x = drop2.Forward(x);
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
