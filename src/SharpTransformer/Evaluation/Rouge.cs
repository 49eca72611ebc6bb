using System.Text.RegularExpressions;

namespace SharpTransformer.Evaluation;

/// <summary>Precision, recall and F1 of one ROUGE variant, as fractions in [0, 1].</summary>
/// <param name="Precision">Matches over the prediction's n-grams (or tokens for ROUGE-L).</param>
/// <param name="Recall">Matches over the reference's n-grams (or tokens).</param>
/// <param name="F1">2PR / (P + R), 0 when both are 0.</param>
public readonly record struct RougeScore(double Precision, double Recall, double F1);

/// <summary>ROUGE-1, ROUGE-2 and ROUGE-L of one prediction, or their means over a corpus.</summary>
/// <param name="Rouge1">Unigram overlap.</param>
/// <param name="Rouge2">Bigram overlap.</param>
/// <param name="RougeL">Longest common subsequence over the whole text (<c>rougeL</c>, not <c>rougeLsum</c>).</param>
public sealed record RougeScores(RougeScore Rouge1, RougeScore Rouge2, RougeScore RougeL);

/// <summary>
/// ROUGE as Google's <c>rouge_score</c> (<c>RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)</c>): texts are
/// lower-cased, every run of characters other than a-z and 0-9 becomes a space, tokens longer than three letters are
/// stemmed with <see cref="PorterStemmer"/>; ROUGE-N counts clipped n-gram matches, ROUGE-L the longest common subsequence;
/// a corpus score is the mean of the per-example precision, recall and F1.
/// </summary>
public static class Rouge
{
    private static readonly Regex NonAlphanumeric = new("[^a-z0-9]+", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>rouge_score's tokenizer: lower-case, non-alphanumerics to spaces, split, stem tokens longer than 3 characters.</summary>
    public static string[] Tokenize(string text, bool stem = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cleaned = NonAlphanumeric.Replace(text.ToLowerInvariant(), " ");
        return cleaned.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(t => stem && t.Length > 3 ? PorterStemmer.Stem(t) : t)
            .Where(t => t.Length > 0)
            .ToArray();
    }

    /// <summary>ROUGE-1/2/L of one <paramref name="prediction"/> against its <paramref name="reference"/>.</summary>
    public static RougeScores Score(string prediction, string reference, bool stem = true)
    {
        var p = Tokenize(prediction, stem);
        var r = Tokenize(reference, stem);
        return new RougeScores(NGram(p, r, 1), NGram(p, r, 2), Lcs(p, r));
    }

    /// <summary>The mean of the per-example scores (rouge_score's <c>BootstrapAggregator</c> mid value without resampling).</summary>
    /// <exception cref="ArgumentException">The lists differ in length or are empty.</exception>
    public static RougeScores Corpus(IReadOnlyList<string> predictions, IReadOnlyList<string> references, bool stem = true)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(references);
        if (predictions.Count != references.Count)
            throw new ArgumentException($"Rouge.Corpus: {predictions.Count} predictions but {references.Count} references.", nameof(references));
        if (predictions.Count == 0) throw new ArgumentException("Rouge.Corpus: no predictions to score.", nameof(predictions));
        var all = predictions.Select((p, i) => Score(p, references[i], stem)).ToArray();
        static RougeScore Mean(IEnumerable<RougeScore> s)
        {
            var a = s.ToArray();
            return new RougeScore(a.Average(x => x.Precision), a.Average(x => x.Recall), a.Average(x => x.F1));
        }
        return new RougeScores(Mean(all.Select(x => x.Rouge1)), Mean(all.Select(x => x.Rouge2)), Mean(all.Select(x => x.RougeL)));
    }

    private static RougeScore Fraction(int matches, int predicted, int referenced)
    {
        double p = matches / Math.Max(predicted, 1.0), r = matches / Math.Max(referenced, 1.0);
        return new RougeScore(p, r, p + r > 0 ? 2 * p * r / (p + r) : 0);
    }

    private static RougeScore NGram(string[] pred, string[] refr, int n)
    {
        var pc = Counts(pred, n);
        var rc = Counts(refr, n);
        int matches = 0;
        foreach (var (g, c) in rc) if (pc.TryGetValue(g, out var k)) matches += Math.Min(c, k);
        return Fraction(matches, pc.Values.Sum(), rc.Values.Sum());
    }

    private static Dictionary<string, int> Counts(string[] tokens, int n)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Length; i++)
        {
            var g = string.Join(' ', tokens, i, n);
            d[g] = d.GetValueOrDefault(g) + 1;
        }
        return d;
    }

    private static RougeScore Lcs(string[] pred, string[] refr)
    {
        // Rolling-row dynamic programme: row[j] = LCS of refr[..i] and pred[..j].
        var prev = new int[pred.Length + 1];
        var cur = new int[pred.Length + 1];
        for (int i = 1; i <= refr.Length; i++)
        {
            for (int j = 1; j <= pred.Length; j++)
                cur[j] = refr[i - 1] == pred[j - 1] ? prev[j - 1] + 1 : Math.Max(prev[j], cur[j - 1]);
            (prev, cur) = (cur, prev);
        }
        return Fraction(prev[pred.Length], pred.Length, refr.Length);
    }
}
