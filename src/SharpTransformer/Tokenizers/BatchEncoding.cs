namespace SharpTransformer.Tokenizers;

/// <summary>
/// The encodings of a batch, in input order, with row-major (batch, length) views for feeding a model once they have
/// all been padded to one length.
/// </summary>
public sealed class BatchEncoding
{
    internal BatchEncoding(TokenEncoding[] items) => Items = items;

    /// <summary>One encoding per input.</summary>
    public IReadOnlyList<TokenEncoding> Items { get; }

    /// <summary>Number of sequences.</summary>
    public int Count => Items.Count;

    /// <summary>The common length of every encoding, or -1 when they differ (no padding was asked for).</summary>
    public int SequenceLength
    {
        get
        {
            if (Items.Count == 0) return 0;
            int n = Items[0].Length;
            foreach (var e in Items) if (e.Length != n) return -1;
            return n;
        }
    }

    /// <summary>Ids as one row-major (Count, SequenceLength) array.</summary>
    /// <exception cref="InvalidOperationException">The encodings have different lengths.</exception>
    public int[] Ids() => Flatten(e => e.Ids);

    /// <summary>Attention masks as one row-major (Count, SequenceLength) array.</summary>
    /// <exception cref="InvalidOperationException">The encodings have different lengths.</exception>
    public int[] AttentionMask() => Flatten(e => e.AttentionMask);

    /// <summary>Token type ids as one row-major (Count, SequenceLength) array.</summary>
    /// <exception cref="InvalidOperationException">The encodings have different lengths.</exception>
    public int[] TypeIds() => Flatten(e => e.TypeIds);

    private int[] Flatten(Func<TokenEncoding, int[]> field)
    {
        int n = SequenceLength;
        if (n < 0) throw new InvalidOperationException("The encodings of this batch have different lengths; encode with padding to get a (batch, length) matrix.");
        var all = new int[Count * n];
        for (int i = 0; i < Count; i++) field(Items[i]).CopyTo(all, i * n);
        return all;
    }
}
