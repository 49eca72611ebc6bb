using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// The merge table of a byte-level BPE vocabulary and the merge loop: start from one token per byte and repeatedly merge
/// the adjacent pair of lowest rank (leftmost on a tie). With Hugging Face merges a pair's rank is its line in the merges
/// file; with tiktoken ranks it is the rank of the merged token. Results are cached per pre-tokenized piece.
/// </summary>
internal sealed class BpeModel
{
    private const int CacheMaxPieceLength = 64;
    private const int CacheMaxEntries = 1 << 18;
    private const int ShortWord = 64;

    private readonly Dictionary<long, long> _pairs;
    private readonly int[] _byteToId = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;

    private BpeModel(string?[] idToToken, Dictionary<string, int> tokenToId, Dictionary<long, long> pairs, (int A, int B)[]? merges, int unkId)
    {
        IdToToken = idToToken;
        TokenToId = tokenToId;
        _pairs = pairs;
        Merges = merges;
        UnkId = unkId;
        TokenByteLength = new int[idToToken.Length];
        for (int i = 0; i < idToToken.Length; i++)
        {
            var t = idToToken[i];
            if (t is null) continue;
            int n = 0;
            foreach (char c in t) n += ByteLevel.CharToByte(c) >= 0 ? 1 : 0;
            TokenByteLength[i] = n;
        }
        for (int b = 0; b < 256; b++)
            _byteToId[b] = tokenToId.TryGetValue(ByteLevel.ByteToChar((byte)b).ToString(), out int id) ? id : -1;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Vocabulary entry (byte-level string) of each id; null for ids the vocabulary skips.</summary>
    public string?[] IdToToken { get; }

    public Dictionary<string, int> TokenToId { get; }

    /// <summary>Merges as id pairs in rank order, when the model was built from merges (null for tiktoken ranks).</summary>
    public (int A, int B)[]? Merges { get; }

    /// <summary>Number of bytes each token stands for.</summary>
    public int[] TokenByteLength { get; }

    /// <summary>Id used for a byte the vocabulary lacks, or -1 to drop such bytes.</summary>
    public int UnkId { get; }

    /// <summary>Builds the model from Hugging Face / GPT-2 merges; <paramref name="merges"/> are token pairs in rank order.</summary>
    public static BpeModel FromMerges(Dictionary<string, int> vocab, IReadOnlyList<(string A, string B, int Line)> merges, string mergesPath, int unkId = -1)
    {
        var idToToken = IdArray(vocab);
        var pairs = new Dictionary<long, long>(merges.Count);
        var list = new (int, int)[merges.Count];
        for (int r = 0; r < merges.Count; r++)
        {
            var (a, b, line) = merges[r];
            if (!vocab.TryGetValue(a, out int ia)) throw new VocabularyFormatException(mergesPath, line, a, "the merge's first token is not in the vocabulary.");
            if (!vocab.TryGetValue(b, out int ib)) throw new VocabularyFormatException(mergesPath, line, b, "the merge's second token is not in the vocabulary.");
            if (!vocab.TryGetValue(a + b, out int merged)) throw new VocabularyFormatException(mergesPath, line, a + b, "the merged token is not in the vocabulary.");
            pairs.TryAdd(Key(ia, ib), ((long)r << 32) | (uint)merged);
            list[r] = (ia, ib);
        }
        return new BpeModel(idToToken, vocab, pairs, list, unkId);
    }

    /// <summary>Builds the model from tiktoken ranks: a pair may merge when its concatenation is a token, lowest rank first.</summary>
    public static BpeModel FromRanks(Dictionary<string, int> vocab, int unkId = -1)
    {
        var idToToken = IdArray(vocab);
        var pairs = new Dictionary<long, long>(vocab.Count * 2);
        var lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (token, id) in vocab)
        {
            var span = token.AsSpan();
            for (int s = 1; s < token.Length; s++)
            {
                if (lookup.TryGetValue(span[..s], out int l) && lookup.TryGetValue(span[s..], out int r))
                    pairs.TryAdd(Key(l, r), ((long)id << 32) | (uint)id);
            }
        }
        return new BpeModel(idToToken, vocab, pairs, null, unkId);
    }

    private static string?[] IdArray(Dictionary<string, int> vocab)
    {
        int max = -1;
        foreach (var id in vocab.Values) max = Math.Max(max, id);
        var a = new string?[max + 1];
        foreach (var (t, id) in vocab) a[id] = t;
        return a;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Key(int a, int b) => ((long)a << 32) | (uint)b;

    /// <summary>The ids of one pre-tokenized piece, cached.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        if (_cacheLookup.TryGetValue(piece, out var ids)) return ids;
        return EncodePieceSlow(piece);
    }

    private int[] EncodePieceSlow(ReadOnlySpan<char> piece)
    {
        int maxBytes = piece.Length * 3;
        byte[]? rented = null;
        int[]? rentedIds = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[maxBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        int nb = Utf8(piece, bytes);
        Span<int> symbols = nb <= 256 ? stackalloc int[nb] : (rentedIds = ArrayPool<int>.Shared.Rent(nb));
        int n = MergeBytes(bytes[..nb], symbols);
        var result = symbols[..n].ToArray();
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        if (rentedIds is not null) ArrayPool<int>.Shared.Return(rentedIds);
        if (piece.Length <= CacheMaxPieceLength && _cache.Count < CacheMaxEntries) _cacheLookup.TryAdd(piece, result);
        return result;
    }

    /// <summary>UTF-8 of UTF-16 text, a lone surrogate becoming U+FFFD (EF BF BD), as .NET's and Rust's lossy conversions do.</summary>
    internal static int Utf8(ReadOnlySpan<char> s, Span<byte> dst)
    {
        int k = 0;
        for (int i = 0; i < s.Length; i++)
        {
            int c = s[i];
            if (c < 0x80) dst[k++] = (byte)c;
            else if (c < 0x800)
            {
                dst[k++] = (byte)(0xC0 | (c >> 6));
                dst[k++] = (byte)(0x80 | (c & 0x3F));
            }
            else if (char.IsHighSurrogate((char)c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                int cp = char.ConvertToUtf32((char)c, s[++i]);
                dst[k++] = (byte)(0xF0 | (cp >> 18));
                dst[k++] = (byte)(0x80 | ((cp >> 12) & 0x3F));
                dst[k++] = (byte)(0x80 | ((cp >> 6) & 0x3F));
                dst[k++] = (byte)(0x80 | (cp & 0x3F));
            }
            else
            {
                if (char.IsSurrogate((char)c)) c = 0xFFFD;
                dst[k++] = (byte)(0xE0 | (c >> 12));
                dst[k++] = (byte)(0x80 | ((c >> 6) & 0x3F));
                dst[k++] = (byte)(0x80 | (c & 0x3F));
            }
        }
        return k;
    }

    /// <summary>Merges the byte tokens of <paramref name="bytes"/> into <paramref name="symbols"/> (at least bytes.Length long); returns the count.</summary>
    public int MergeBytes(ReadOnlySpan<byte> bytes, Span<int> symbols)
    {
        int n = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            int id = _byteToId[bytes[i]];
            if (id < 0) id = UnkId;
            if (id >= 0) symbols[n++] = id;
        }
        return n <= ShortWord ? MergeShort(symbols[..n]) : MergeLong(symbols[..n]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Pair(int a, int b) => _pairs.TryGetValue(Key(a, b), out long v) ? v : long.MaxValue;

    /// <summary>Quadratic merge for short words: an array of pair ranks, a linear scan for the minimum, a shift per merge.</summary>
    private int MergeShort(Span<int> sym)
    {
        int n = sym.Length;
        if (n < 2) return n;
        Span<long> pair = stackalloc long[n];
        for (int i = 0; i < n - 1; i++) pair[i] = Pair(sym[i], sym[i + 1]);
        while (n > 1)
        {
            long best = long.MaxValue;
            int at = -1;
            for (int i = 0; i < n - 1; i++)
                if ((pair[i] >> 32) < (best >> 32)) { best = pair[i]; at = i; }
            if (at < 0) break;
            sym[at] = (int)(best & 0xFFFFFFFF);
            for (int i = at + 1; i < n - 1; i++)
            {
                sym[i] = sym[i + 1];
                pair[i] = pair[i + 1];
            }
            n--;
            if (at > 0) pair[at - 1] = Pair(sym[at - 1], sym[at]);
            if (at < n - 1) pair[at] = Pair(sym[at], sym[at + 1]);
        }
        return n;
    }

    /// <summary>Heap merge for long words (long runs of spaces or symbols): a linked list and a priority queue of (rank, position).</summary>
    private int MergeLong(Span<int> sym)
    {
        int n = sym.Length;
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        var heap = new PriorityQueue<int, long>(n);
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }
        void Push(int i, int[] s, int[] nx)
        {
            if (nx[i] < 0) return;
            long p = Pair(s[i], s[nx[i]]);
            if (p != long.MaxValue) heap.Enqueue(i, ((p >> 32) << 32) | (uint)i);
        }
        var s = sym.ToArray();
        for (int i = 0; i < n - 1; i++) Push(i, s, next);
        while (heap.TryDequeue(out int i, out long key))
        {
            if (!alive[i] || next[i] < 0) continue;
            long p = Pair(s[i], s[next[i]]);
            if (p == long.MaxValue || (p >> 32) != (key >> 32)) continue;
            int j = next[i];
            s[i] = (int)(p & 0xFFFFFFFF);
            alive[j] = false;
            next[i] = next[j];
            if (next[j] >= 0) prev[next[j]] = i;
            if (prev[i] >= 0) Push(prev[i], s, next);
            Push(i, s, next);
        }
        int k = 0;
        for (int i = 0; i >= 0 && i < n; i = next[i]) sym[k++] = s[i];
        return k;
    }
}
