namespace SharpTransformer.Tokenizers;

/// <summary>
/// The lattice of a normalised text under a Unigram vocabulary: one node per vocabulary piece that occurs at a position
/// (code-point boundaries), plus an unknown node of one code point where no one-character piece starts. Used for sampling
/// (forward filtering, backward sampling) and by the trainer (forward-backward expected counts, Viterbi).
/// </summary>
internal sealed class UnigramLattice
{
    public readonly List<int> Start = [], End = [], Id = [];
    public readonly List<float> Score = [];
    /// <summary>Nodes ending at each position (index = UTF-16 position), in insertion order (earlier starts first).</summary>
    public readonly List<int>[] EndsAt;
    /// <summary>Nodes starting at each position.</summary>
    public readonly List<int>[] StartsAt;
    public readonly int Length;

    /// <param name="text">The normalised text.</param>
    /// <param name="lookup">Vocabulary: piece text to id.</param>
    /// <param name="maxPieceLength">Longest piece in UTF-16 units.</param>
    /// <param name="score">Score of an id, or null to leave the piece out (unused pieces).</param>
    /// <param name="unkId">Id of the unknown node.</param>
    /// <param name="unkScore">Score of the unknown node.</param>
    public UnigramLattice(string text, Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> lookup, int maxPieceLength,
        Func<int, int, float?> score, int unkId, float unkScore)
    {
        Length = text.Length;
        EndsAt = new List<int>[text.Length + 1];
        StartsAt = new List<int>[text.Length + 1];
        for (int i = 0; i <= text.Length; i++) { EndsAt[i] = []; StartsAt[i] = []; }
        for (int s = 0; s < text.Length; s = NextCodePoint(text, s))
        {
            int one = NextCodePoint(text, s);
            bool single = false;
            for (int e = one; e <= text.Length && e - s <= maxPieceLength; e = NextCodePoint(text, e))
            {
                if (lookup.TryGetValue(text.AsSpan(s, e - s), out int id) && score(id, e - s) is float sc)
                {
                    Add(s, e, id, sc);
                    if (e == one) single = true;
                }
                if (e == text.Length) break;
            }
            if (!single) Add(s, one, unkId, unkScore);
        }
    }

    private void Add(int s, int e, int id, float score)
    {
        int n = Start.Count;
        Start.Add(s); End.Add(e); Id.Add(id); Score.Add(score);
        EndsAt[e].Add(n);
        StartsAt[s].Add(n);
    }

    public int NodeCount => Start.Count;

    public static int NextCodePoint(string s, int i) =>
        i + (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1);

    private static double LogSumExp(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return a > b ? a + Math.Log(1 + Math.Exp(b - a)) : b + Math.Log(1 + Math.Exp(a - b));
    }

    /// <summary>
    /// alpha[node] = log of the summed exp(theta * score) of every path from the start up to (not including) the node.
    /// The last element is the log of the whole partition function.
    /// </summary>
    public double[] Forward(double theta, out double logZ)
    {
        var alpha = new double[NodeCount];
        var atPos = new double[Length + 1];
        Array.Fill(atPos, double.NegativeInfinity);
        atPos[0] = 0;
        for (int pos = 0; pos <= Length; pos++)
        {
            foreach (int n in EndsAt[pos])
                atPos[pos] = LogSumExp(atPos[pos], alpha[n] + theta * Score[n]);
            foreach (int n in StartsAt[pos]) alpha[n] = atPos[pos];
        }
        logZ = atPos[Length];
        return alpha;
    }

    /// <summary>Expected count of each node under P(path) ∝ exp(sum of scores); returns log Z.</summary>
    public double Marginals(Span<double> expected)
    {
        var alpha = Forward(1, out double logZ);
        var betaPos = new double[Length + 1];
        Array.Fill(betaPos, double.NegativeInfinity);
        betaPos[Length] = 0;
        for (int pos = Length; pos >= 0; pos--)
            foreach (int n in EndsAt[pos])
            {
                double b = betaPos[pos] + Score[n];
                expected[n] = Math.Exp(alpha[n] + b - logZ);
                betaPos[Start[n]] = LogSumExp(betaPos[Start[n]], b);
            }
        return logZ;
    }

    /// <summary>Best path by summed score (ties: the node that starts earliest, as spm); node indices in order.</summary>
    public List<int> Viterbi()
    {
        var best = new float[Length + 1];
        var back = new int[Length + 1];
        Array.Fill(back, -1);
        for (int pos = 1; pos <= Length; pos++)
        {
            bool any = false;
            foreach (int n in EndsAt[pos])
            {
                if (Start[n] > 0 && back[Start[n]] < 0) continue;
                float sc = best[Start[n]] + Score[n];
                if (!any || sc > best[pos]) { best[pos] = sc; back[pos] = n; any = true; }
            }
        }
        var path = new List<int>();
        for (int pos = Length; pos > 0; pos = Start[back[pos]]) path.Add(back[pos]);
        path.Reverse();
        return path;
    }

    /// <summary>
    /// One segmentation drawn with probability ∝ exp(theta * summed score): forward filtering, then backward sampling from
    /// the end (spm's <c>Lattice::Sample</c>).
    /// </summary>
    public List<int> Sample(double theta, Random random)
    {
        var alpha = Forward(theta, out double z);
        var path = new List<int>();
        int pos = Length;
        var probs = new List<double>();
        while (pos > 0)
        {
            var ends = EndsAt[pos];
            probs.Clear();
            double total = 0;
            foreach (int n in ends)
            {
                double p = Math.Exp(alpha[n] + theta * Score[n] - z);
                probs.Add(p);
                total += p;
            }
            double u = random.NextDouble() * total;
            int pick = ends.Count - 1;
            for (int k = 0; k < ends.Count; k++)
            {
                u -= probs[k];
                if (u < 0) { pick = k; break; }
            }
            int node = ends[pick];
            path.Add(node);
            z = alpha[node];
            pos = Start[node];
        }
        path.Reverse();
        return path;
    }
}
