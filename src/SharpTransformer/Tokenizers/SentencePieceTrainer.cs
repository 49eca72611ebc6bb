namespace SharpTransformer.Tokenizers;

/// <summary>
/// Trains SentencePiece models like <c>spm_train</c>: the corpus is normalised (the options' normaliser, identity by
/// default), cut into words at <c>▁</c> (a word keeps its leading <c>▁</c>), and the characters covering
/// <see cref="SentencePieceTrainerOptions.CharacterCoverage"/> of the text are required pieces (rarer ones are unknown).
/// <list type="bullet">
/// <item><b>Unigram</b> (spm's unigram trainer): seed pieces are the substrings of words (at most
/// <see cref="SentencePieceTrainerOptions.MaxPieceLength"/> characters, counted exactly over the distinct words weighted by
/// their counts — a bounded substring count instead of spm's suffix array) ranked by frequency × length, the top
/// <see cref="SentencePieceTrainerOptions.SeedSize"/> kept; then rounds of EM (expected counts by forward-backward over each
/// word's lattice, pieces expected less than 0.5 times dropped, scores digamma(count) − digamma(total)), each followed by
/// pruning to max(1.1 × vocabulary, shrinking factor × size) pieces by the likelihood lost when a piece is replaced by its
/// best alternative segmentation; finally the required characters and the best-scoring pieces up to the vocabulary size.</item>
/// <item><b>BPE</b> (spm's bpe trainer): words as characters, the most frequent adjacent pair merged until the vocabulary is
/// full; a merged piece's score is minus its merge index, so earlier merges apply first; characters come last.</item>
/// </list>
/// Pieces never hold <c>▁</c> after their first character, and do not mix digits with other characters (spm's
/// <c>split_by_whitespace</c>, <c>split_by_number</c>); spm's <c>split_by_unicode_script</c> is approximated by not mixing
/// letters with punctuation or symbols. Meta pieces are <c>&lt;unk&gt;</c> (0), <c>&lt;s&gt;</c> (1), <c>&lt;/s&gt;</c>
/// (2), then user-defined symbols (cut out of the words before counting, so no learned piece holds one), then the byte
/// pieces under byte fallback.
/// </summary>
public static class SentencePieceTrainer
{
    /// <summary>Trains a model on lines of text.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The vocabulary is too small for the meta pieces and the required characters.</exception>
    public static SentencePieceTokenizer Train(IEnumerable<string> lines, SentencePieceTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(lines);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPieceLength, 1, nameof(options.MaxPieceLength));
        var spec = options.Normalizer ?? SentencePieceNormalizerSpec.Identity;
        var normalizer = new SentencePieceNormalizer(spec, options.UserDefinedSymbols, "the trainer's normaliser");
        var user = new HashSet<string>(options.UserDefinedSymbols, StringComparer.Ordinal);

        // Words with counts.
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            string n = normalizer.Normalize(line, null);
            int s = 0;
            for (int i = 1; i <= n.Length; i++)
            {
                if (i == n.Length || n[i] == SentencePieceNormalizer.Space)
                {
                    if (i > s) AddWord(n[s..i]);
                    s = i;
                }
            }
        }

        // A word is cut around user-defined symbols, which are whole pieces and so never part of a learned one.
        void AddWord(string w)
        {
            var ud = options.UserDefinedSymbols.Where(u => u.Length > 0).OrderByDescending(u => u.Length).ToArray();
            int from = 0;
            for (int i = 0; i < w.Length; i++)
            {
                string? hit = ud.FirstOrDefault(u => string.CompareOrdinal(w, i, u, 0, u.Length) == 0 && i + u.Length <= w.Length);
                if (hit is null) continue;
                if (i > from) words[w[from..i]] = words.GetValueOrDefault(w[from..i]) + 1;
                from = i + hit.Length;
                i = from - 1;
            }
            if (w.Length > from) words[w[from..]] = words.GetValueOrDefault(w[from..]) + 1;
        }

        // Required characters by coverage.
        var charCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        long totalChars = 0;
        foreach (var (w, c) in words)
            for (int i = 0; i < w.Length; i = UnigramLattice.NextCodePoint(w, i))
            {
                string ch = w[i..UnigramLattice.NextCodePoint(w, i)];
                charCounts[ch] = charCounts.GetValueOrDefault(ch) + c;
                totalChars += c;
            }
        var required = new List<(string Char, long Count)>();
        long covered = 0;
        foreach (var (ch, c) in charCounts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (required.Count > 0 && covered >= options.CharacterCoverage * totalChars) break;
            required.Add((ch, c));
            covered += c;
        }
        var requiredSet = new HashSet<string>(required.Select(r => r.Char), StringComparer.Ordinal);

        var meta = new List<SentencePiece>
        {
            new("<unk>", 0, SentencePieceType.Unknown),
            new("<s>", 0, SentencePieceType.Control),
            new("</s>", 0, SentencePieceType.Control),
        };
        foreach (var u in options.UserDefinedSymbols) meta.Add(new SentencePiece(u, 0, SentencePieceType.UserDefined));
        if (options.ByteFallback)
            for (int b = 0; b < 256; b++) meta.Add(new SentencePiece($"<0x{b:X2}>", 0, SentencePieceType.Byte));
        int budget = options.VocabSize - meta.Count;
        if (budget < required.Count)
            throw new ArgumentOutOfRangeException(nameof(options), options.VocabSize,
                $"SentencePieceTrainer: vocab size {options.VocabSize} is smaller than the {meta.Count} meta pieces plus the {required.Count} required characters.");

        bool Valid(string piece)
        {
            if (piece.Length > options.MaxPieceLength || user.Contains(piece)) return false;
            int kind = -1;
            for (int i = 0; i < piece.Length; i = UnigramLattice.NextCodePoint(piece, i))
            {
                string ch = piece[i..UnigramLattice.NextCodePoint(piece, i)];
                if (!requiredSet.Contains(ch)) return false;
                if (ch[0] == SentencePieceNormalizer.Space)
                {
                    if (i > 0) return false;
                    continue;
                }
                var cat = char.GetUnicodeCategory(ch, 0);
                int k = cat is System.Globalization.UnicodeCategory.DecimalDigitNumber ? 0
                    : char.IsLetter(ch, 0) || cat is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark ? 1 : 2;
                if (kind >= 0 && k != kind) return false;
                kind = k;
            }
            return true;
        }

        var pieces = options.ModelType switch
        {
            SentencePieceModelType.Unigram => TrainUnigram(words, required, budget, options, Valid),
            SentencePieceModelType.Bpe => TrainBpe(words, required, budget, Valid),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.ModelType, "SentencePieceTrainer: only Unigram and BPE models can be trained."),
        };
        var model = new SentencePieceModel(meta.Concat(pieces).ToList(), options.ModelType, spec, options.ByteFallback)
        {
            TrainerVocabSize = options.VocabSize,
        };
        return new SentencePieceTokenizer(model, "the trained model");
    }

    private static List<SentencePiece> TrainBpe(Dictionary<string, long> words, List<(string Char, long Count)> required, int budget, Func<string, bool> valid)
    {
        var symbols = new List<string>(required.Select(r => r.Char));
        var symbolId = symbols.Select((s, i) => (s, i)).ToDictionary(x => x.s, x => x.i, StringComparer.Ordinal);
        // Each word as symbol ids; characters that are not required are -1 (never merged).
        var seqs = new List<List<int>>();
        var counts = new List<long>();
        foreach (var (w, c) in words)
        {
            var seq = new List<int>();
            for (int i = 0; i < w.Length; i = UnigramLattice.NextCodePoint(w, i))
                seq.Add(symbolId.TryGetValue(w[i..UnigramLattice.NextCodePoint(w, i)], out int id) ? id : -1);
            seqs.Add(seq);
            counts.Add(c);
        }
        var pairCount = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        void Count(int wi, long sign)
        {
            var seq = seqs[wi];
            for (int k = 0; k + 1 < seq.Count; k++)
            {
                if (seq[k] < 0 || seq[k + 1] < 0) continue;
                var p = (seq[k], seq[k + 1]);
                pairCount[p] = pairCount.GetValueOrDefault(p) + sign * counts[wi];
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(p, out var set)) pairWords[p] = set = [];
                    set.Add(wi);
                }
            }
        }
        for (int wi = 0; wi < seqs.Count; wi++) Count(wi, 1);
        var merged = new List<string>();
        var invalid = new HashSet<(int, int)>();
        while (merged.Count + required.Count < budget)
        {
            (int, int) best = (-1, -1);
            long bestCount = 0;
            string? bestPiece = null;
            foreach (var (p, c) in pairCount)
            {
                if (c <= 0 || invalid.Contains(p)) continue;
                if (c < bestCount) continue;
                string piece = symbols[p.Item1] + symbols[p.Item2];
                if (c == bestCount && string.CompareOrdinal(piece, bestPiece) >= 0) continue;
                if (!valid(piece)) { invalid.Add(p); continue; }
                best = p; bestCount = c; bestPiece = piece;
            }
            if (bestPiece is null) break;
            int newId;
            if (!symbolId.TryGetValue(bestPiece, out newId))
            {
                newId = symbols.Count;
                symbols.Add(bestPiece);
                symbolId[bestPiece] = newId;
                merged.Add(bestPiece);
            }
            foreach (int wi in pairWords[best].ToArray())
            {
                Count(wi, -1);
                var seq = seqs[wi];
                for (int k = 0; k + 1 < seq.Count; k++)
                    if (seq[k] == best.Item1 && seq[k + 1] == best.Item2)
                    {
                        seq[k] = newId;
                        seq.RemoveAt(k + 1);
                    }
                Count(wi, 1);
            }
            pairCount.Remove(best);
        }
        var result = new List<SentencePiece>();
        foreach (var m in merged) result.Add(new SentencePiece(m, -result.Count, SentencePieceType.Normal));
        foreach (var (ch, _) in required) result.Add(new SentencePiece(ch, -result.Count, SentencePieceType.Normal));
        return result;
    }

    private static double Digamma(double x)
    {
        double r = 0;
        while (x < 7) { r -= 1 / x; x += 1; }
        x -= 0.5;
        double xx = 1 / x, xx2 = xx * xx, xx4 = xx2 * xx2;
        r += Math.Log(x) + 1.0 / 24 * xx2 - 7.0 / 960 * xx4 + 31.0 / 8064 * xx4 * xx2 - 127.0 / 30720 * xx4 * xx4;
        return r;
    }

    private static List<SentencePiece> TrainUnigram(Dictionary<string, long> words, List<(string Char, long Count)> required, int budget,
        SentencePieceTrainerOptions options, Func<string, bool> valid)
    {
        var wordList = words.Select(kv => (Word: kv.Key, Count: kv.Value)).ToArray();
        var requiredSet = new HashSet<string>(required.Select(r => r.Char), StringComparer.Ordinal);

        // Seeds: substrings of words, by frequency × length (characters always kept).
        var sub = new Dictionary<string, long>(StringComparer.Ordinal);
        var subLookup = sub.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (w, c) in wordList)
            for (int s = 0; s < w.Length; s = UnigramLattice.NextCodePoint(w, s))
                for (int e = UnigramLattice.NextCodePoint(w, s); e <= w.Length && e - s <= options.MaxPieceLength; e = UnigramLattice.NextCodePoint(w, e))
                {
                    var span = w.AsSpan(s, e - s);
                    if (subLookup.TryGetValue(span, out long v)) subLookup[span] = v + c;
                    else if (valid(span.ToString()) || requiredSet.Contains(span.ToString())) sub[span.ToString()] = c;
                    if (e == w.Length) break;
                }
        var seeds = sub.Where(kv => !requiredSet.Contains(kv.Key) && UnigramLattice.NextCodePoint(kv.Key, 0) < kv.Key.Length)
            .OrderByDescending(kv => kv.Value * (double)kv.Key.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Take(Math.Max(0, options.SeedSize - required.Count))
            .Concat(required.Select(r => new KeyValuePair<string, long>(r.Char, r.Count))).ToList();
        double total = seeds.Sum(kv => (double)kv.Value);
        var pieces = seeds.Select(kv => (Piece: kv.Key, Score: (float)(Math.Log(kv.Value) - Math.Log(total)))).ToList();
        int desired = (int)(budget * 1.1);

        while (true)
        {
            for (int iter = 0; iter < options.SubIterations; iter++)
            {
                var expected = Expectation(pieces, wordList, options.MaxPieceLength);
                // Maximisation: drop rare pieces (characters stay), Bayesian (digamma) re-estimate.
                var kept = new List<(string Piece, double Freq)>();
                for (int i = 0; i < pieces.Count; i++)
                    if (expected[i] >= 0.5 || requiredSet.Contains(pieces[i].Piece)) kept.Add((pieces[i].Piece, Math.Max(expected[i], 1e-3)));
                double sum = kept.Sum(k => k.Freq);
                double logSum = Digamma(sum);
                pieces = kept.Select(k => (k.Piece, (float)(Digamma(k.Freq) - logSum))).ToList();
            }
            if (pieces.Count <= desired) break;
            int before = pieces.Count;
            pieces = Prune(pieces, wordList, options, Math.Max(desired, (int)(options.ShrinkingFactor * pieces.Count)), requiredSet);
            if (pieces.Count >= before) break;   // nothing more can go (only required characters and unsplittable pieces left)
        }

        // Final: required characters, then the best pieces up to the budget; sorted by score.
        float minScore = pieces.Min(p => p.Score);
        var final = new Dictionary<string, float>(StringComparer.Ordinal);
        var byPiece = pieces.ToDictionary(p => p.Piece, p => p.Score, StringComparer.Ordinal);
        foreach (var (ch, _) in required) final[ch] = byPiece.TryGetValue(ch, out float s) ? s : minScore - 1;
        foreach (var (p, s) in pieces.OrderByDescending(p => p.Score).ThenBy(p => p.Piece, StringComparer.Ordinal))
        {
            if (final.Count >= budget) break;
            final.TryAdd(p, s);
        }
        return final.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new SentencePiece(kv.Key, kv.Value, SentencePieceType.Normal)).ToList();
    }

    private static (Dictionary<string, int> Ids, float[] Scores) Vocab(List<(string Piece, float Score)> pieces)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++) ids[pieces[i].Piece] = i;
        return (ids, pieces.Select(p => p.Score).ToArray());
    }

    private static double[] Expectation(List<(string Piece, float Score)> pieces, (string Word, long Count)[] words, int maxLen)
    {
        var (ids, scores) = Vocab(pieces);
        var lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        float unk = scores.Min() - 10;
        var expected = new double[pieces.Count];
        var lockObj = new object();
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, words.Length), range =>
        {
            var local = new double[pieces.Count];
            for (int w = range.Item1; w < range.Item2; w++)
            {
                var lattice = new UnigramLattice(words[w].Word, lookup, maxLen, (id, _) => scores[id], -1, unk);
                var marg = new double[lattice.NodeCount];
                lattice.Marginals(marg);
                for (int n = 0; n < marg.Length; n++)
                    if (lattice.Id[n] >= 0) local[lattice.Id[n]] += words[w].Count * marg[n];
            }
            lock (lockObj) for (int i = 0; i < local.Length; i++) expected[i] += local[i];
        });
        return expected;
    }

    private static List<(string Piece, float Score)> Prune(List<(string Piece, float Score)> pieces, (string Word, long Count)[] words,
        SentencePieceTrainerOptions options, int target, HashSet<string> required)
    {
        var (ids, scores) = Vocab(pieces);
        var lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
        float unk = scores.Min() - 10;
        int maxLen = options.MaxPieceLength;

        // The best segmentation of each piece without itself: its alternative.
        var alternatives = new List<int>[pieces.Count];
        for (int i = 0; i < pieces.Count; i++)
        {
            alternatives[i] = [];
            if (required.Contains(pieces[i].Piece)) continue;
            int self = i;
            var lattice = new UnigramLattice(pieces[i].Piece, lookup, maxLen, (id, _) => id == self ? null : scores[id], -1, unk);
            foreach (int n in lattice.Viterbi()) alternatives[i].Add(lattice.Id[n]);
        }
        // Viterbi frequency of each piece over the corpus, and the words that use it.
        var freq = new double[pieces.Count];
        var inverted = new List<int>[pieces.Count];
        for (int i = 0; i < pieces.Count; i++) inverted[i] = [];
        for (int w = 0; w < words.Length; w++)
        {
            var lattice = new UnigramLattice(words[w].Word, lookup, maxLen, (id, _) => scores[id], -1, unk);
            foreach (int n in lattice.Viterbi())
            {
                int id = lattice.Id[n];
                if (id < 0) continue;
                freq[id] += words[w].Count;
                inverted[id].Add(w);
            }
        }
        double sum = freq.Sum();
        double logSum = Math.Log(sum);
        var keep = new List<int>();
        var candidates = new List<(int Id, double Loss)>();
        for (int i = 0; i < pieces.Count; i++)
        {
            if (required.Contains(pieces[i].Piece) || alternatives[i].Count == 0 || alternatives[i].Any(a => a < 0)) { keep.Add(i); continue; }
            if (freq[i] == 0) continue;   // on no Viterbi path: removed
            double f = inverted[i].Sum(w => (double)words[w].Count) / sum;
            double logProbPiece = Math.Log(freq[i]) - logSum;
            double logSumAlt = Math.Log(sum + freq[i] * (alternatives[i].Count - 1));
            double logProbAlt = alternatives[i].Sum(a => Math.Log(freq[a] + freq[i]) - logSumAlt);
            candidates.Add((i, f * (logProbPiece - logProbAlt)));
        }
        foreach (var (id, _) in candidates.OrderByDescending(c => c.Loss).ThenBy(c => c.Id))
        {
            if (keep.Count >= target) break;
            keep.Add(id);
        }
        keep.Sort();
        return keep.Select(i => pieces[i]).ToList();
    }
}
