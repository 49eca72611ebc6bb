namespace SharpTransformer.Generation;

/// <summary>
/// Beam search as Hugging Face's <c>generate</c> with <c>num_beams</c> &gt; 1 (its <c>BeamSearchScorer</c>): every beam of
/// every input runs as one row of one batched forward; log-softmax scores are added to the beam scores, the best
/// max(2, 1 + stop tokens) × beams candidates per input are visited in order, a stop token among the first <c>beams</c> of
/// them finishes a hypothesis (scored with the length penalty), the others continue until <c>beams</c> are kept. Caches are
/// reordered to follow the kept beams, never recomputed.
/// </summary>
internal static class BeamSearch
{
    /// <summary>The checks both generators make before a beam search: the options' ranges and no repetition penalty.</summary>
    public static void Check(GenerationOptions options, BeamSearchOptions beams)
    {
        options.Validate();
        beams.Validate();
        if (options.RepetitionPenalty != 1f)
            throw new ArgumentException($"Beam search: RepetitionPenalty {options.RepetitionPenalty} is not supported (use NoRepeatNgramSize).", nameof(options));
    }

    /// <summary>Runs the search; <paramref name="contexts"/> are the tokens before the generated ones (for n-gram blocking).</summary>
    public static BeamHypothesis[][] Run(IBeamStepper model, int batch, int maxNew, BeamSearchOptions o, IReadOnlyCollection<int> stop, int pad,
        IReadOnlyList<int>[] contexts)
    {
        int k = o.NumBeams, v = model.VocabSize;
        var hyps = Enumerable.Range(0, batch).Select(_ => new Hypotheses(k, o.LengthPenalty, o.EarlyStopping, maxNew)).ToArray();
        if (maxNew <= 0) return hyps.Select(h => h.Best(o.NumReturnSequences)).ToArray();
        int keep = Math.Max(2, 1 + stop.Count) * k;
        var done = new bool[batch];
        var logits = new float[batch * k * v];
        var tokens = Enumerable.Range(0, batch).Select(_ => Array.Empty<int>()).ToArray();   // generated tokens per row
        var scores = new double[batch];                                                        // sum of log-probabilities per row
        int perInput = 1;                                                                      // rows per input: 1 before the first step, k after
        var heap = new PriorityQueue<(int Row, int Token, double Score), (double, int)>(keep + 1, CandidateOrder.Instance);
        var cand = new List<(int Row, int Token, double Score)>(keep);
        model.Step([], logits);
        for (int step = 0; step < maxNew; step++)
        {
            int rows = batch * perInput, curLen = step + 1;
            for (int r = 0; r < rows; r++)
            {
                var row = logits.AsSpan(r * v, v);
                LogSoftmax(row);
                if (o.NoRepeatNgramSize > 0) BanRepeatedNgrams(row, contexts[r / perInput], tokens[r], o.NoRepeatNgramSize);
            }
            var nextRows = new int[batch * k];
            var nextTokens = new int[batch * k];
            var nextScores = new double[batch * k];
            for (int b = 0; b < batch; b++)
            {
                if (done[b])
                {
                    for (int j = 0; j < k; j++) { nextRows[b * k + j] = b * perInput; nextTokens[b * k + j] = pad; }
                    continue;
                }
                // The best `keep` (row, token) candidates of this input by cumulative score, best first.
                heap.Clear();
                for (int r = b * perInput; r < (b + 1) * perInput; r++)
                {
                    double baseScore = scores[r];
                    if (double.IsNegativeInfinity(baseScore)) continue;
                    var row = logits.AsSpan(r * v, v);
                    for (int t = 0; t < v; t++)
                    {
                        if (float.IsNegativeInfinity(row[t])) continue;
                        double s = baseScore + row[t];
                        int flat = r * v + t;
                        if (heap.Count == keep)
                        {
                            heap.TryPeek(out _, out var worst);
                            if (CandidateOrder.Instance.Compare((s, flat), worst) <= 0) continue;
                            heap.DequeueEnqueue((r, t, s), (s, flat));
                        }
                        else heap.Enqueue((r, t, s), (s, flat));
                    }
                }
                cand.Clear();
                while (heap.Count > 0) cand.Add(heap.Dequeue());
                cand.Reverse();
                int kept = 0;
                for (int rank = 0; rank < cand.Count && kept < k; rank++)
                {
                    var (r, t, s) = cand[rank];
                    if (stop.Contains(t))
                    {
                        if (rank >= k) continue;   // a stop token ranked below the beam width does not finish a hypothesis
                        hyps[b].Add([.. tokens[r], t], s);
                        continue;
                    }
                    nextRows[b * k + kept] = r; nextTokens[b * k + kept] = t; nextScores[b * k + kept] = s;
                    kept++;
                }
                for (; kept < k; kept++)   // fewer live candidates than beams (tiny vocabularies, n-gram bans): dead beams
                {
                    nextRows[b * k + kept] = b * perInput; nextTokens[b * k + kept] = pad; nextScores[b * k + kept] = double.NegativeInfinity;
                }
                double best = cand.Count > 0 ? cand[0].Score : double.NegativeInfinity;
                done[b] = hyps[b].IsDone(best, curLen);
            }
            var newTokens = new int[batch * k][];
            for (int i = 0; i < newTokens.Length; i++) newTokens[i] = [.. tokens[nextRows[i]], nextTokens[i]];
            tokens = newTokens;
            scores = nextScores;
            perInput = k;
            if (done.All(d => d) || step == maxNew - 1) break;
            if (!IsIdentity(nextRows)) model.Reorder(nextRows);
            model.Step(nextTokens, logits);
        }
        // Inputs that reached the maximum length: their running beams become hypotheses too.
        for (int b = 0; b < batch; b++)
        {
            if (done[b]) continue;
            for (int j = 0; j < k; j++)
                if (!double.IsNegativeInfinity(scores[b * k + j])) hyps[b].Add(tokens[b * k + j], scores[b * k + j]);
        }
        return hyps.Select(h => h.Best(o.NumReturnSequences)).ToArray();
    }

    private static bool IsIdentity(int[] rows)
    {
        for (int i = 0; i < rows.Length; i++) if (rows[i] != i) return false;
        return true;
    }

    // In place: x - max - log(sum exp(x - max)).
    internal static void LogSoftmax(Span<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (var x in row) if (x > max) max = x;
        double sum = 0;
        foreach (var x in row) sum += Math.Exp(x - max);
        float lse = max + (float)Math.Log(sum);
        for (int i = 0; i < row.Length; i++) row[i] -= lse;
    }

    // Hugging Face's NoRepeatNGramLogitsProcessor: a token that would complete an n-gram already in the sequence gets -inf.
    internal static void BanRepeatedNgrams(Span<float> row, IReadOnlyList<int> context, int[] generated, int n)
    {
        int len = context.Count + generated.Length;
        if (len + 1 < n) return;
        int At(int i) => i < context.Count ? context[i] : generated[i - context.Count];
        for (int start = 0; start + n <= len; start++)
        {
            bool match = true;
            for (int j = 0; j < n - 1 && match; j++) match = At(start + j) == At(len - n + 1 + j);
            if (match) row[At(start + n - 1)] = float.NegativeInfinity;
        }
    }

    // Heap order: lower score first; on equal scores the later (row, token) index counts as worse.
    private sealed class CandidateOrder : IComparer<(double Score, int Flat)>
    {
        public static readonly CandidateOrder Instance = new();
        public int Compare((double Score, int Flat) a, (double Score, int Flat) b)
        {
            int c = a.Score.CompareTo(b.Score);
            return c != 0 ? c : b.Flat.CompareTo(a.Flat);
        }
    }

    // The n best finished hypotheses of one input (Hugging Face's BeamHypotheses).
    private sealed class Hypotheses(int numBeams, float lengthPenalty, BeamEarlyStopping stopping, int maxNew)
    {
        private readonly List<BeamHypothesis> _beams = [];
        private double _worst = double.PositiveInfinity;

        public void Add(int[] tokens, double logProb)
        {
            double score = logProb / Math.Pow(tokens.Length, lengthPenalty);
            if (_beams.Count < numBeams || score > _worst)
            {
                _beams.Add(new BeamHypothesis(tokens, score, logProb));
                if (_beams.Count > numBeams)
                {
                    int worstAt = 0;
                    for (int i = 1; i < _beams.Count; i++) if (_beams[i].Score < _beams[worstAt].Score) worstAt = i;
                    _beams.RemoveAt(worstAt);
                    _worst = _beams.Min(h => h.Score);
                }
                else _worst = Math.Min(score, _worst);
            }
        }

        public bool IsDone(double bestLogProb, int curLen)
        {
            if (_beams.Count < numBeams) return false;
            double highest = stopping switch
            {
                BeamEarlyStopping.Immediate => double.NegativeInfinity,
                BeamEarlyStopping.Never when lengthPenalty > 0 => bestLogProb / Math.Pow(maxNew, lengthPenalty),
                _ => bestLogProb / Math.Pow(curLen, lengthPenalty),
            };
            return _worst >= highest;
        }

        public BeamHypothesis[] Best(int n) =>
            _beams.Select((h, i) => (h, i)).OrderByDescending(x => x.h.Score).ThenBy(x => x.i).Take(n).Select(x => x.h).ToArray();
    }
}
