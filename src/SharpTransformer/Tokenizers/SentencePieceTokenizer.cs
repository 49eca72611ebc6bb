using System.Text;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// SentencePiece (T5, ALBERT, XLNet, Llama's tokenizer.model): the model file's normaliser (<see cref="SentencePieceModel.Normalizer"/>),
/// then Unigram Viterbi segmentation or BPE (merges by the merged piece's score, leftmost first on a tie), as the
/// <c>sentencepiece</c> library does: user-defined pieces are always whole pieces, a run of unknown characters is one
/// unknown piece (Unigram), or with byte fallback its UTF-8 bytes as <c>&lt;0xXX&gt;</c> pieces. <c>Decode</c>
/// re-joins byte pieces, turns <c>▁</c> into spaces and drops the leading space of the dummy prefix.
/// <see cref="SampleEncode"/> draws a segmentation for subword regularisation.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private const float UnkPenalty = 10f;

    private readonly SentencePiece[] _pieces;
    private readonly Dictionary<string, int> _pieceToId;          // normal, user-defined, unused pieces
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly Dictionary<string, int> _allToId;            // every piece (TokenToId)
    private readonly int[] _byteIds = new int[256];
    private readonly int _unkId;
    private readonly int _maxPieceLength;
    private readonly float _minScore, _maxScore;
    private readonly SentencePieceNormalizer _normalizer;
    private readonly (string Piece, int Id)[] _userDefined;

    /// <summary>Creates the tokenizer of a model.</summary>
    /// <param name="model">The model.</param>
    /// <param name="source">Names the model in errors (its file).</param>
    /// <param name="special">Special-token roles; null takes them from the model (<c>&lt;unk&gt;</c>, and <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;pad&gt;</c> where present).</param>
    /// <param name="appendEos">Append the EOS token to every encoded text (T5's <c>$A &lt;/s&gt;</c>, pairs <c>$A &lt;/s&gt; $B &lt;/s&gt;</c>).</param>
    /// <exception cref="VocabularyFormatException">The model has no unknown piece, repeats a piece, or a byte piece is missing under byte fallback.</exception>
    /// <exception cref="NotSupportedException">The model is of type WORD or CHAR, or puts whitespace as a suffix.</exception>
    public SentencePieceTokenizer(SentencePieceModel model, string source = "the SentencePiece model", SpecialTokens? special = null, bool appendEos = false)
        : this(model, source, special, appendEos, null, null)
    {
    }

    /// <summary>Creates the tokenizer with a given template and added tokens (Hugging Face tokenizer.json).</summary>
    internal SentencePieceTokenizer(SentencePieceModel model, string source, SpecialTokens? special, bool appendEos, TokenTemplate? template, IEnumerable<AddedToken>? extraAdded)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        if (model.ModelType is not (SentencePieceModelType.Unigram or SentencePieceModelType.Bpe))
            throw new NotSupportedException($"{source}: model type {model.ModelType} is not supported (Unigram and BPE are).");
        if (model.TreatWhitespaceAsSuffix)
            throw new NotSupportedException($"{source}: treat_whitespace_as_suffix is not supported.");
        _pieces = model.Pieces.ToArray();
        _pieceToId = new Dictionary<string, int>(StringComparer.Ordinal);
        _allToId = new Dictionary<string, int>(StringComparer.Ordinal);
        _unkId = -1;
        _minScore = float.MaxValue;
        _maxScore = 1.17549435E-38f;   // FLT_MIN, as spm: with log-probability scores the user-defined bonus below is then about -0.1 per piece
        Array.Fill(_byteIds, -1);
        var userDefined = new List<string>();
        for (int id = 0; id < _pieces.Length; id++)
        {
            var p = _pieces[id];
            if (!_allToId.TryAdd(p.Piece, id))
                throw new VocabularyFormatException(source, null, p.Piece, $"piece {id} repeats piece {_allToId[p.Piece]}.");
            switch (p.Type)
            {
                case SentencePieceType.Normal:
                    _minScore = Math.Min(_minScore, p.Score);
                    _maxScore = Math.Max(_maxScore, p.Score);
                    goto case SentencePieceType.Unused;
                case SentencePieceType.UserDefined:
                    userDefined.Add(p.Piece);
                    goto case SentencePieceType.Unused;
                case SentencePieceType.Unused:
                    _pieceToId[p.Piece] = id;
                    _maxPieceLength = Math.Max(_maxPieceLength, p.Piece.Length);
                    break;
                case SentencePieceType.Unknown:
                    _unkId = id;
                    break;
                case SentencePieceType.Byte:
                    if (ParseBytePiece(p.Piece) is int b) _byteIds[b] = id;
                    else throw new VocabularyFormatException(source, null, p.Piece, "a BYTE piece must be written <0xXX>.");
                    break;
            }
        }
        if (_unkId < 0) throw new VocabularyFormatException(source, null, "pieces", "the model has no UNKNOWN piece.");
        if (_minScore == float.MaxValue) _minScore = 0;
        if (model.ByteFallback)
            for (int b = 0; b < 256; b++)
                if (_byteIds[b] < 0) throw new VocabularyFormatException(source, null, $"<0x{b:X2}>", "byte_fallback is set but the byte piece is missing.");
        _lookup = _pieceToId.GetAlternateLookup<ReadOnlySpan<char>>();
        _userDefined = userDefined.Select(u => (u, _allToId[u])).ToArray();
        _normalizer = new SentencePieceNormalizer(model.Normalizer, userDefined, source);

        string? Role(int id, params SentencePieceType[] types) => id >= 0 && id < _pieces.Length && types.Contains(_pieces[id].Type) ? _pieces[id].Piece : null;
        var ids = model.SpecialIds;
        special ??= new SpecialTokens(
            Bos: Role(ids.Bos, SentencePieceType.Control, SentencePieceType.UserDefined),
            Eos: Role(ids.Eos, SentencePieceType.Control, SentencePieceType.UserDefined),
            Pad: Role(ids.Pad, SentencePieceType.Control, SentencePieceType.UserDefined),
            Unk: _pieces[_unkId].Piece);
        var added = new List<AddedToken>();
        for (int id = 0; id < _pieces.Length; id++)
            if (_pieces[id].Type == SentencePieceType.Control) added.Add(new AddedToken(_pieces[id].Piece, id, Special: true));
        if (extraAdded is not null) added.AddRange(extraAdded.Where(a => !added.Any(b => b.Content == a.Content)));
        template ??= TokenTemplate.Plain;
        if (appendEos)
        {
            int eos = special.Eos is { } e && _allToId.TryGetValue(e, out int ei) ? ei
                : throw new VocabularyFormatException(source, null, "eos", "appendEos needs an EOS piece.");
            template = new TokenTemplate(
                [new TemplatePiece(TemplatePieceKind.First, 0), new TemplatePiece(TemplatePieceKind.Special, 0, eos)],
                [new TemplatePiece(TemplatePieceKind.First, 0), new TemplatePiece(TemplatePieceKind.Special, 0, eos),
                 new TemplatePiece(TemplatePieceKind.Second, 0), new TemplatePiece(TemplatePieceKind.Special, 0, eos)]);
        }
        Configure(special, template, added);
    }

    /// <summary>Loads a SentencePiece model file (<c>spiece.model</c>, <c>tokenizer.model</c>).</summary>
    /// <exception cref="VocabularyFormatException">The file is not a SentencePiece model; the message names it.</exception>
    public static SentencePieceTokenizer FromFile(string path, bool appendEos = false) => new(SentencePieceModel.Load(path), path, null, appendEos);

    /// <summary>The model.</summary>
    public SentencePieceModel Model { get; }

    /// <inheritdoc />
    public override int VocabSize => _pieces.Length;

    /// <inheritdoc />
    public override int? TokenToId(string token) => _allToId.TryGetValue(token, out int id) ? id : null;

    /// <inheritdoc />
    public override string? IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id].Piece : null;

    /// <summary>The text after normalisation, as segmentation sees it (with <c>▁</c> for spaces).</summary>
    public string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return _normalizer.Normalize(text, null);
    }

    /// <summary>The pieces of a text (no special tokens), as <c>spm_encode --output_format=piece</c>.</summary>
    public string[] EncodeToPieces(string text) => Encode(text, new EncodeOptions { AddSpecialTokens = false }).Ids.Select(i => _pieces[i].Piece).ToArray();

    /// <summary>Writes the model as <c>spiece.model</c> into <paramref name="directory"/>, created if needed.</summary>
    public void Save(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Directory.CreateDirectory(directory);
        Model.Save(Path.Combine(directory, "spiece.model"));
    }

    /// <summary>
    /// Subword regularisation (Unigram): draws one segmentation with probability proportional to
    /// exp(<paramref name="alpha"/> × summed piece scores) over every segmentation of the lattice (spm's
    /// <c>SampleEncode</c> with <c>nbest_size = -1</c>). Large alpha gives the Viterbi segmentation; alpha 0 every
    /// segmentation alike. No special tokens are added.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="alpha">Inverse temperature, at least 0.</param>
    /// <param name="random">Source of randomness.</param>
    /// <exception cref="NotSupportedException">The model is BPE (sampling needs the Unigram lattice; BPE-dropout is not implemented).</exception>
    public int[] SampleEncode(string text, double alpha, Random random)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(alpha);
        if (Model.ModelType != SentencePieceModelType.Unigram)
            throw new NotSupportedException("SampleEncode: sampling needs a Unigram model; this one is BPE.");
        var sink = new TokenSink(false);
        string n = _normalizer.Normalize(text, null);
        var lattice = BuildLattice(n);
        var path = lattice.Sample(alpha, random);
        Emit(n, null, path.Select(k => (lattice.Start[k], lattice.End[k], lattice.Id[k])).ToList(), 0, sink);
        return sink.ToIdArray();
    }

    internal UnigramLattice BuildLattice(string normalized) =>
        new(normalized, _lookup, _maxPieceLength, (id, len) => PieceScore(id, normalized, len), _unkId, _minScore - UnkPenalty);

    private float? PieceScore(int id, string _, int length)
    {
        var p = _pieces[id];
        return p.Type switch
        {
            SentencePieceType.Unused => null,
            // spm gives a user-defined piece a bonus so that it is always chosen (length in UTF-8 bytes, as its optimised encoder).
            SentencePieceType.UserDefined => Encoding.UTF8.GetByteCount(p.Piece) * _maxScore - 0.1f,
            _ => p.Score,
        };
    }

    internal override void EncodeText(string text, int start, int end, TokenSink sink)
    {
        var origin = sink.TrackOffsets ? new List<(int, int)>() : null;
        string n = _normalizer.Normalize(text.AsSpan(start, end - start), origin);
        if (n.Length == 0) return;
        var segments = Model.ModelType == SentencePieceModelType.Unigram ? Viterbi(n) : Bpe(n);
        Emit(n, origin, segments, start, sink);
    }

    // Appends pieces: unknown runs become bytes under byte fallback.
    private void Emit(string n, List<(int Start, int End)>? origin, List<(int Start, int End, int Id)> segments, int offset, TokenSink sink)
    {
        sink.NextWord();
        Span<byte> buf = stackalloc byte[4];
        for (int k = 0; k < segments.Count; k++)
        {
            var (s, e, id) = segments[k];
            // A run of unknown pieces is one unknown piece, as spm gives it.
            while (id == _unkId && k + 1 < segments.Count && segments[k + 1].Id == _unkId) e = segments[++k].End;
            int os = 0, oe = 0;
            if (origin is not null)
            {
                os = offset + origin[s].Start;
                oe = offset + origin[e - 1].End;
            }
            if (id == _unkId && Model.ByteFallback)
            {
                for (int i = s; i < e; i = UnigramLattice.NextCodePoint(n, i))
                {
                    int len = System.Text.Rune.TryCreate(n[i], out var r) ? r.EncodeToUtf8(buf)
                        : i + 1 < n.Length && System.Text.Rune.TryCreate(n[i], n[i + 1], out r) ? r.EncodeToUtf8(buf)
                        : new System.Text.Rune(0xFFFD).EncodeToUtf8(buf);
                    for (int j = 0; j < len; j++) sink.Add(_byteIds[buf[j]], os, oe);
                }
            }
            else sink.Add(id, os, oe);
        }
    }

    // Unigram: best path, ties to the piece that starts earliest (spm's optimised encoder).
    private List<(int Start, int End, int Id)> Viterbi(string n)
    {
        var best = new float[n.Length + 1];
        var from = new int[n.Length + 1];
        var ids = new int[n.Length + 1];
        Array.Fill(from, -1);
        from[0] = 0;
        float unkScore = _minScore - UnkPenalty;
        for (int s = 0; s < n.Length; s = UnigramLattice.NextCodePoint(n, s))
        {
            if (from[s] < 0) continue;
            float baseScore = best[s];
            int one = UnigramLattice.NextCodePoint(n, s);
            bool single = false;
            for (int e = one; e - s <= _maxPieceLength; e = UnigramLattice.NextCodePoint(n, e))
            {
                if (_lookup.TryGetValue(n.AsSpan(s, e - s), out int id) && PieceScore(id, n, e - s) is float sc)
                {
                    float cand = baseScore + sc;
                    if (from[e] < 0 || cand > best[e]) { best[e] = cand; from[e] = s; ids[e] = id; }
                    if (e == one) single = true;
                }
                if (e == n.Length) break;
            }
            if (!single)
            {
                float cand = baseScore + unkScore;
                if (from[one] < 0 || cand > best[one]) { best[one] = cand; from[one] = s; ids[one] = _unkId; }
            }
        }
        var path = new List<(int, int, int)>();
        for (int e = n.Length; e > 0; e = from[e]) path.Add((from[e], e, ids[e]));
        path.Reverse();
        return path;
    }

    // BPE: symbols are user-defined pieces or code points; repeatedly merge the adjacent pair whose merged piece has the
    // highest score (the leftmost on a tie), as spm's bpe_model.
    private List<(int Start, int End, int Id)> Bpe(string n)
    {
        var starts = new List<int>();
        for (int i = 0; i < n.Length;)
        {
            starts.Add(i);
            int len = 0;
            foreach (var (piece, id) in UserDefinedAt(n, i)) len = Math.Max(len, piece.Length);
            i = len > 0 ? i + len : UnigramLattice.NextCodePoint(n, i);
        }
        int m = starts.Count;
        var sStart = starts.ToArray();
        var sEnd = new int[m];
        for (int k = 0; k < m; k++) sEnd[k] = k + 1 < m ? sStart[k + 1] : n.Length;
        var prev = new int[m];
        var next = new int[m];
        for (int k = 0; k < m; k++) { prev[k] = k - 1; next[k] = k + 1 < m ? k + 1 : -1; }
        var alive = new bool[m];
        Array.Fill(alive, true);
        var agenda = new PriorityQueue<(int Left, int Right, int Size), (float, int)>();
        var unusedSplits = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            var span = n.AsSpan(sStart[left], sEnd[right] - sStart[left]);
            if (!_lookup.TryGetValue(span, out int id)) return;
            if (_pieces[id].Type == SentencePieceType.Unused)
                unusedSplits[span.ToString()] = (n[sStart[left]..sEnd[left]], n[sStart[right]..sEnd[right]]);
            agenda.Enqueue((left, right, span.Length), (-_pieces[id].Score, left));
        }
        for (int k = 0; k + 1 < m; k++) TryAdd(k, k + 1);
        while (agenda.TryDequeue(out var top, out _))
        {
            if (!alive[top.Left] || !alive[top.Right] || next[top.Left] != top.Right || sEnd[top.Right] - sStart[top.Left] != top.Size) continue;
            sEnd[top.Left] = sEnd[top.Right];
            alive[top.Right] = false;
            next[top.Left] = next[top.Right];
            if (next[top.Right] >= 0) prev[next[top.Right]] = top.Left;
            TryAdd(prev[top.Left], top.Left);
            TryAdd(top.Left, next[top.Left]);
        }
        var result = new List<(int, int, int)>();
        void Resegment(int s, int e)
        {
            string w = n[s..e];
            int id = _allToId.TryGetValue(w, out int x) ? x : _unkId;
            if (_pieces[id].Type != SentencePieceType.Unused || !unusedSplits.TryGetValue(w, out var parts))
            {
                result.Add((s, e, _pieces[id].Type is SentencePieceType.Control or SentencePieceType.Byte ? _unkId : id));
                return;
            }
            Resegment(s, s + parts.Item1.Length);
            Resegment(s + parts.Item1.Length, e);
        }
        for (int k = 0; k >= 0; k = next[k]) Resegment(sStart[k], sEnd[k]);
        return result;
    }

    private IEnumerable<(string Piece, int Id)> UserDefinedAt(string n, int i)
    {
        // Few models have user-defined pieces; a linear scan over them is enough.
        foreach (var (piece, id) in _userDefined)
            if (i + piece.Length <= n.Length && string.CompareOrdinal(n, i, piece, 0, piece.Length) == 0)
                yield return (piece, id);
    }

    internal override string DecodeCore(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var sb = new StringBuilder();
        var bytes = new List<byte>();
        bool bos = true;
        bool stripLeading = Model.Normalizer.AddDummyPrefix || Model.Normalizer.RemoveExtraWhitespaces;
        void Flush()
        {
            if (bytes.Count == 0) return;
            string s = Encoding.UTF8.GetString(bytes.ToArray());   // invalid bytes become U+FFFD
            bytes.Clear();
            Append(s);
        }
        void Append(string s)
        {
            if (s.Length == 0) return;
            if (bos && stripLeading && s[0] == ' ') s = s[1..];
            sb.Append(s);
            bos = false;
        }
        foreach (int id in ids)
        {
            var p = _pieces[id];
            if (p.Type == SentencePieceType.Byte)
            {
                bytes.Add((byte)ParseBytePiece(p.Piece)!.Value);
                continue;
            }
            Flush();
            if (skipSpecialTokens && IsSpecial(id) && p.Type != SentencePieceType.Unknown) continue;
            switch (p.Type)
            {
                case SentencePieceType.Control:
                    if (!skipSpecialTokens) sb.Append(p.Piece);
                    break;
                case SentencePieceType.Unknown:
                    sb.Append(Model.UnknownSurface);
                    bos = false;
                    break;
                default:
                    Append(p.Piece.Replace(SentencePieceNormalizer.Space, ' '));
                    break;
            }
        }
        Flush();
        return sb.ToString();
    }

    /// <summary>The byte of a <c>&lt;0xXX&gt;</c> piece, or null.</summary>
    internal static int? ParseBytePiece(string piece) =>
        piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
        && int.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out int b) ? b : null;
}
