using SharpTransformer.Tensors;

namespace SharpTransformer.Data;

/// <summary>Builds BERT's next-sentence-prediction pairs: half the time the true next sentence, half the time a random one.</summary>
public static class NextSentencePairs
{
    /// <summary>
    /// One pair per consecutive sentence pair of every document: with probability 1/2 b is the next sentence (label 0), else a
    /// random sentence from another document (from the same document, not the next one, when there is a single document; label 1).
    /// Deterministic for a given <paramref name="generator"/> state. Pairs are truncated longest-first to <paramref name="maxLength"/>.
    /// </summary>
    public static List<SentencePair> Build(IReadOnlyList<IReadOnlyList<int[]>> documents, int clsId, int sepId, int maxLength, Generator generator)
    {
        var all = new List<(int Doc, int Index)>();
        for (int d = 0; d < documents.Count; d++)
            for (int i = 0; i < documents[d].Count; i++) all.Add((d, i));
        var r = new List<SentencePair>();
        for (int d = 0; d < documents.Count; d++)
        {
            var doc = documents[d];
            for (int i = 0; i + 1 < doc.Count; i++)
            {
                if (generator.NextFloat() < 0.5f) { r.Add(Pair(doc[i], doc[i + 1], 0, clsId, sepId, maxLength)); continue; }
                bool otherDocs = documents.Count > 1;
                (int Doc, int Index) pick;
                int guard = 0;
                do pick = all[generator.NextInt(all.Count)];
                while (++guard < 100 && (otherDocs ? pick.Doc == d : pick.Index == i + 1));
                r.Add(Pair(doc[i], documents[pick.Doc][pick.Index], 1, clsId, sepId, maxLength));
            }
        }
        return r;
    }

    /// <summary>[CLS] a [SEP] b [SEP] with segment ids 0 then 1, truncating the longer segment first to fit <paramref name="maxLength"/>.</summary>
    public static SentencePair Pair(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int label, int clsId, int sepId, int maxLength)
    {
        if (maxLength < 5) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "NextSentencePairs: a pair needs at least 5 positions.");
        int la = a.Length, lb = b.Length;
        while (la + lb > maxLength - 3) { if (la >= lb) la--; else lb--; }
        var ids = new int[la + lb + 3];
        var types = new int[ids.Length];
        ids[0] = clsId;
        a[..la].CopyTo(ids.AsSpan(1));
        ids[la + 1] = sepId;
        b[..lb].CopyTo(ids.AsSpan(la + 2));
        ids[^1] = sepId;
        for (int i = la + 2; i < ids.Length; i++) types[i] = 1;
        return new SentencePair(ids, types, label);
    }
}
