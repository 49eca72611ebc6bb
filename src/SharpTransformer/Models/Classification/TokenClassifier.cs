using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Models.Classification;

/// <summary>
/// Token classification on an encoder (Hugging Face's <c>...ForTokenClassification</c>): hidden states → dropout →
/// linear <c>classifier</c> per token. Words are labelled on their first sub-token (labels -100 elsewhere). With a CRF,
/// the emissions of the first sub-tokens form a word-level sequence scored by a linear-chain CRF (optionally forbidding
/// invalid BIO transitions) and decoded by Viterbi.
/// </summary>
public sealed class TokenClassifier : Module
{

    /// <summary>Creates the classifier.</summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="tagNames">The tags (BIO names enable the CRF's constraints).</param>
    /// <param name="useCrf">Add a CRF over the words.</param>
    /// <param name="dropout">Dropout before the classifier.</param>
    /// <param name="seed">Initialisation seed of the head.</param>
    public TokenClassifier(EncoderModel encoder, IReadOnlyList<string> tagNames, bool useCrf = false, float dropout = 0.1f, ulong seed = 7)
    {
        if (tagNames.Count < 2) throw new ArgumentException("TokenClassifier: need at least 2 tags.", nameof(tagNames));
        TagNames = tagNames.ToArray();
        var g = new Generator(seed);
        RegisterModule("body", encoder);
        if (dropout > 0f) RegisterModule("dropout", new Dropout(dropout, g));
        RegisterModule<ILinear>("classifier", new Linear(encoder.HiddenSize, tagNames.Count, true, g));
        if (useCrf) RegisterModule("crf", new ConditionalRandomField(tagNames, true, g));
    }

    /// <summary>The encoder.</summary>
    public EncoderModel Body => Child<EncoderModel>("body");
    /// <summary>The tags.</summary>
    public IReadOnlyList<string> TagNames { get; }
    /// <summary>The per-token output layer.</summary>
    public ILinear Classifier => Child<ILinear>("classifier");
    /// <summary>The CRF over words, if any.</summary>
    public ConditionalRandomField? Crf => ChildOrNull<ConditionalRandomField>("crf");

    /// <summary>The parameters of the new head (classifier and CRF).</summary>
    public IEnumerable<Tensor> HeadParameters() => ((Module)Classifier).Parameters().Concat(Crf?.Parameters() ?? []);

    /// <summary>Int32 ids (B, T), optional mask and segments → per-token scores (B, T, tags).</summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var h = Body.Encode(inputIds, attentionMask, tokenTypeIds).LastHiddenState;       // (B, T, C)
        if (ChildOrNull<Dropout>("dropout") is { } drop) h = drop.Forward(h);
        return Classifier.Forward(h);                                                         // (B, T, tags)
    }

    /// <summary>
    /// Loss of a batch whose labels (B, T) hold each word's tag on its first sub-token and -100 elsewhere:
    /// cross-entropy over those tokens, or the CRF's negative log-likelihood of the word sequences.
    /// </summary>
    public Tensor Loss(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var scores = Forward(inputIds, attentionMask, tokenTypeIds);
        if (!labels.Shape.SequenceEqual(inputIds.Shape))
            throw new ArgumentException($"TokenClassifier.Loss: labels {labels.ShapeString} do not match ids {inputIds.ShapeString}.");
        if (Crf is null) return Functional.CrossEntropy(scores, labels.To(scores.Backend));
        var y = labels.ToIntArray();
        int b = inputIds.Size(0), t = inputIds.Size(1);
        var starts = Enumerable.Range(0, b).Select(i => Enumerable.Range(0, t).Where(j => y[i * t + j] != -100).ToArray()).ToArray();
        var (words, mask) = WordScores(scores, starts);
        int w = words.Size(1);
        var tags = new int[b * w];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < starts[i].Length; j++) tags[i * w + j] = y[i * t + starts[i][j]];
        return Crf.NegativeLogLikelihood(words, Tensor.FromArray(tags, b, w).To(scores.Backend), mask);
    }

    /// <summary>Best tag of each word: <paramref name="wordStarts"/>[i] lists the first sub-token position of each word of sequence i.</summary>
    public int[][] Decode(Tensor inputIds, IReadOnlyList<int[]> wordStarts, Tensor? attentionMask = null, Tensor? tokenTypeIds = null)
    {
        var scores = Forward(inputIds, attentionMask, tokenTypeIds);                          // (B, T, tags)
        if (wordStarts.Count != scores.Size(0)) throw new ArgumentException($"TokenClassifier.Decode: {wordStarts.Count} word-start lists for a batch of {scores.Size(0)}.");
        var (words, mask) = WordScores(scores, wordStarts);
        if (Crf is not null) return Crf.Decode(words, mask);
        int w = words.Size(1), k = words.Size(2);
        var v = words.ToArray();
        return wordStarts.Select((s, i) => Enumerable.Range(0, s.Length).Select(j =>
        {
            int best = 0, o = (i * w + j) * k;
            for (int c = 1; c < k; c++) if (v[o + c] > v[o + best]) best = c;
            return best;
        }).ToArray()).ToArray();
    }

    // Gathers the scores of the words' first sub-tokens into a left-aligned (B, W, tags) sequence and its mask (B, W).
    private static (Tensor Words, Tensor Mask) WordScores(Tensor scores, IReadOnlyList<int[]> starts)
    {
        int b = scores.Size(0), t = scores.Size(1), k = scores.Size(2);
        int w = Math.Max(1, starts.Max(s => s.Length));
        var rows = new int[b * w];
        var mask = new float[b * w];
        for (int i = 0; i < b; i++)
        {
            if (starts[i].Length == 0) throw new ArgumentException($"TokenClassifier: sequence {i} of the batch has no labelled word.");
            for (int j = 0; j < w; j++)
            {
                int pos = j < starts[i].Length ? starts[i][j] : starts[i][0];
                if ((uint)pos >= (uint)t) throw new ArgumentException($"TokenClassifier: word start {pos} is outside the {t} positions.");
                rows[i * w + j] = i * t + pos;
                if (j < starts[i].Length) mask[i * w + j] = 1f;
            }
        }
        var words = scores.Reshape(b * t, k).IndexSelect(0, Tensor.FromArray(rows).To(scores.Backend)).Reshape(b, w, k);   // (B, W, tags)
        return (words, Tensor.FromArray(mask, b, w).To(scores.Backend));
    }
}
