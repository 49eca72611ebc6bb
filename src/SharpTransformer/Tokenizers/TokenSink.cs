namespace SharpTransformer.Tokenizers;

/// <summary>
/// Where a tokenizer model appends the tokens of one text: ids and, when asked for, character spans and word indices.
/// Growable arrays rather than lists so the hot path stays a store and an increment.
/// </summary>
internal sealed class TokenSink
{
    private int[] _ids;
    private TokenSpan[] _spans;
    private int[] _words;

    public TokenSink(bool trackOffsets, int capacity = 64)
    {
        TrackOffsets = trackOffsets;
        _ids = new int[Math.Max(capacity, 4)];
        _spans = trackOffsets ? new TokenSpan[_ids.Length] : [];
        _words = trackOffsets ? new int[_ids.Length] : [];
    }

    /// <summary>Whether spans and word indices are recorded.</summary>
    public bool TrackOffsets { get; }

    /// <summary>Number of tokens so far.</summary>
    public int Count { get; private set; }

    /// <summary>Index of the current word; models call <see cref="NextWord"/> before each pre-tokenized word.</summary>
    public int Word { get; private set; } = -1;

    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Count);
    public ReadOnlySpan<TokenSpan> Spans => _spans.AsSpan(0, TrackOffsets ? Count : 0);
    public ReadOnlySpan<int> Words => _words.AsSpan(0, TrackOffsets ? Count : 0);

    public void NextWord() => Word++;

    public void Add(int id)
    {
        if (Count == _ids.Length) Grow();
        _ids[Count++] = id;
    }

    public void Add(int id, int start, int end)
    {
        if (Count == _ids.Length) Grow();
        _ids[Count] = id;
        if (TrackOffsets)
        {
            _spans[Count] = new TokenSpan(start, end);
            _words[Count] = Word;
        }
        Count++;
    }

    public void AddRange(ReadOnlySpan<int> ids)
    {
        while (Count + ids.Length > _ids.Length) Grow();
        ids.CopyTo(_ids.AsSpan(Count));
        Count += ids.Length;
    }

    public int[] ToIdArray() => _ids.AsSpan(0, Count).ToArray();

    public void Clear()
    {
        Count = 0;
        Word = -1;
    }

    private void Grow()
    {
        int n = _ids.Length * 2;
        Array.Resize(ref _ids, n);
        if (TrackOffsets)
        {
            Array.Resize(ref _spans, n);
            Array.Resize(ref _words, n);
        }
    }
}
