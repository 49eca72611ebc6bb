namespace SharpTransformer.Tokenizers;

/// <summary>
/// The merge loop both trainers share (Sennrich et al.'s BPE, as Hugging Face's <c>BpeTrainer</c> runs it): count every
/// adjacent symbol pair of every distinct word once, then repeatedly merge the most frequent pair (smallest ids on a tie),
/// updating only the counts of the words that contain it; a max-heap with lazy re-insertion finds the next pair, never a recount.
/// </summary>
internal sealed class PairMergeTrainer
{
    private readonly int[][] _words;
    private readonly int[] _lengths;
    private readonly long[] _counts;
    private readonly Dictionary<long, long> _pairCounts = [];
    private readonly Dictionary<long, List<int>> _where = [];
    private readonly PriorityQueue<long, (long Count, long Key)> _heap = new(new MaxFirst());

    /// <param name="words">Distinct words as symbol ids (arrays are modified).</param>
    /// <param name="counts">How often each word occurs.</param>
    public PairMergeTrainer(int[][] words, long[] counts)
    {
        _words = words;
        _counts = counts;
        _lengths = words.Select(w => w.Length).ToArray();
        for (int w = 0; w < words.Length; w++)
        {
            var sym = words[w];
            for (int i = 0; i + 1 < sym.Length; i++) Change(Key(sym[i], sym[i + 1]), counts[w], w);
        }
        foreach (var (key, count) in _pairCounts) _heap.Enqueue(key, (count, key));
    }

    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    private void Change(long key, long delta, int word)
    {
        ref long c = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, key, out _);
        c += delta;
        if (delta > 0)
        {
            ref var list = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_where, key, out _);
            list ??= [];
            if (list.Count == 0 || list[^1] != word) list.Add(word);
        }
    }

    /// <summary>
    /// Runs merges until <paramref name="makeSymbol"/> says the vocabulary is full (returns -1), no pair is left, or the best
    /// pair occurs fewer than <paramref name="minFrequency"/> times. <paramref name="makeSymbol"/> gets the pair and returns
    /// the merged symbol's id (a new one, or an existing one when the merged text is already a token).
    /// </summary>
    public void Run(Func<int, int, int> makeSymbol, long minFrequency, CancellationToken cancel)
    {
        var touched = new HashSet<long>();
        while (_heap.TryDequeue(out long key, out var prio))
        {
            cancel.ThrowIfCancellationRequested();
            long actual = _pairCounts.GetValueOrDefault(key);
            if (prio.Count != actual)
            {
                // Counts of old pairs only fall, so an entry above the truth is re-queued with the truth;
                // one below it is a leftover whose up-to-date twin was queued when the count rose.
                if (actual > 0 && prio.Count > actual) _heap.Enqueue(key, (actual, key));
                continue;
            }
            if (actual <= 0 || actual < minFrequency) break;
            int a = (int)(key >> 32), b = (int)(key & 0xFFFFFFFF);
            int c = makeSymbol(a, b);
            if (c < 0) break;

            touched.Clear();
            if (_where.Remove(key, out var words))
            {
                foreach (int w in words) MergeIn(w, a, b, c, touched);
            }
            _pairCounts.Remove(key);
            foreach (long t in touched)
            {
                long n = _pairCounts.GetValueOrDefault(t);
                if (n > 0) _heap.Enqueue(t, (n, t));
            }
        }
    }

    private void MergeIn(int w, int a, int b, int c, HashSet<long> touched)
    {
        var sym = _words[w];
        int len = _lengths[w];
        long cnt = _counts[w];
        int i = 0;
        while (i < len - 1)
        {
            if (sym[i] == a && sym[i + 1] == b)
            {
                if (i > 0)
                {
                    Change(Key(sym[i - 1], a), -cnt, w);
                    long k = Key(sym[i - 1], c);
                    Change(k, cnt, w);
                    touched.Add(k);
                }
                if (i + 2 < len)
                {
                    Change(Key(b, sym[i + 2]), -cnt, w);
                    long k = Key(c, sym[i + 2]);
                    Change(k, cnt, w);
                    touched.Add(k);
                }
                sym[i] = c;
                Array.Copy(sym, i + 2, sym, i + 1, len - i - 2);
                len--;
            }
            i++;
        }
        _lengths[w] = len;
    }

    /// <summary>The words after training (symbol ids).</summary>
    public IEnumerable<ReadOnlyMemory<int>> Words() => _words.Select((w, i) => new ReadOnlyMemory<int>(w, 0, _lengths[i]));

    private sealed class MaxFirst : IComparer<(long Count, long Key)>
    {
        public int Compare((long Count, long Key) x, (long Count, long Key) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Key.CompareTo(y.Key);
    }
}
