using System.Text.RegularExpressions;

namespace SharpTransformer.Evaluation;

/// <summary>A corpus BLEU score with its parts (sacreBLEU's <c>BLEUScore</c>).</summary>
/// <param name="Score">BLEU in [0, 100].</param>
/// <param name="Precisions">The (smoothed) n-gram precisions, 1..4, in percent.</param>
/// <param name="BrevityPenalty">exp(1 - reference length / hypothesis length) when the hypotheses are shorter, else 1.</param>
/// <param name="HypothesisLength">Tokens in all hypotheses.</param>
/// <param name="ReferenceLength">Tokens in the closest reference of each hypothesis, summed.</param>
public sealed record BleuScore(double Score, double[] Precisions, double BrevityPenalty, int HypothesisLength, int ReferenceLength);

/// <summary>
/// Corpus BLEU with sacreBLEU's defaults (<c>sacrebleu.corpus_bleu(hyps, refs)</c>): the <c>13a</c> tokenizer (mteval-v13a),
/// case kept, n-grams up to 4 clipped by the most any one reference holds, statistics summed over the corpus, the closest
/// reference length (the shorter one on ties), the brevity penalty, and <c>exp</c> smoothing (the k-th precision with no match
/// becomes 100 / (2^k × total)).
/// </summary>
public static class Bleu
{
    private const int MaxOrder = 4;

    // mteval-v13a's rules: punctuation and symbols apart, periods and commas apart unless beside a digit, a dash after a digit.
    private static readonly (Regex Pattern, string Replacement)[] Rules =
    [
        (new Regex(@"([\u007B-\u007E\u005B-\u0060\u0020-\u0026\u0028-\u002B\u003A-\u0040/])", RegexOptions.Compiled), " $1 "),
        (new Regex(@"([^0-9])([\.,])", RegexOptions.Compiled), "$1 $2 "),
        (new Regex(@"([\.,])([^0-9])", RegexOptions.Compiled), " $1 $2"),
        (new Regex(@"([0-9])(-)", RegexOptions.Compiled), "$1 $2 "),
    ];

    /// <summary>sacreBLEU's <c>13a</c> tokenizer; returns the tokens joined by single spaces.</summary>
    public static string Tokenize13a(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        line = line.Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ");
        if (line.Contains('&'))
            line = line.Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        line = $" {line} ";
        foreach (var (pattern, replacement) in Rules) line = pattern.Replace(line, replacement);
        return string.Join(' ', line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Corpus BLEU of hypotheses against one reference each.</summary>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(references);
        return Corpus(hypotheses, references.Select(r => (IReadOnlyList<string>)[r]).ToArray());
    }

    /// <summary>Corpus BLEU of hypotheses against one or more references each (<paramref name="references"/>[i] for hypothesis i).</summary>
    /// <exception cref="ArgumentException">The lists differ in length, or a hypothesis has no reference.</exception>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"Bleu.Corpus: {hypotheses.Count} hypotheses but {references.Count} reference sets.", nameof(references));
        var correct = new long[MaxOrder];
        var total = new long[MaxOrder];
        int hypLen = 0, refLen = 0;
        for (int i = 0; i < hypotheses.Count; i++)
        {
            if (references[i].Count == 0) throw new ArgumentException($"Bleu.Corpus: hypothesis {i} has no reference.", nameof(references));
            var hyp = Split(Tokenize13a(hypotheses[i].TrimEnd()));   // sacreBLEU strips trailing whitespace first
            var refs = references[i].Select(r => Split(Tokenize13a(r.TrimEnd()))).ToArray();
            hypLen += hyp.Length;
            int closest = refs[0].Length, diff = Math.Abs(closest - hyp.Length);
            foreach (var r in refs)
            {
                int d = Math.Abs(r.Length - hyp.Length);
                if (d < diff || (d == diff && r.Length < closest)) (closest, diff) = (r.Length, d);
            }
            refLen += closest;
            for (int n = 1; n <= MaxOrder; n++)
            {
                var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var r in refs)
                    foreach (var (g, c) in Counts(r, n)) maxRef[g] = Math.Max(maxRef.GetValueOrDefault(g), c);
                foreach (var (g, c) in Counts(hyp, n))
                {
                    total[n - 1] += c;
                    correct[n - 1] += Math.Min(c, maxRef.GetValueOrDefault(g));
                }
            }
        }
        return FromStatistics(correct, total, hypLen, refLen);
    }

    // sacreBLEU's compute_bleu with smooth_method='exp' and no effective order.
    private static BleuScore FromStatistics(long[] correct, long[] total, int hypLen, int refLen)
    {
        var precisions = new double[MaxOrder];
        double smooth = 1;
        for (int n = 0; n < MaxOrder; n++)
        {
            if (total[n] == 0) break;
            if (correct[n] == 0) { smooth *= 2; precisions[n] = 100.0 / (smooth * total[n]); }
            else precisions[n] = 100.0 * correct[n] / total[n];
        }
        double bp = hypLen < refLen ? (hypLen > 0 ? Math.Exp(1 - (double)refLen / hypLen) : 0) : 1;
        double logSum = precisions.Sum(p => p > 0 ? Math.Log(p) : -9999999999.0);
        double score = bp * Math.Exp(logSum / MaxOrder);
        return new BleuScore(score, precisions, bp, hypLen, refLen);
    }

    private static string[] Split(string tokenized) => tokenized.Split(' ', StringSplitOptions.RemoveEmptyEntries);

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
}
