namespace SharpTransformer.Tokenizers;

/// <summary>
/// The pipeline every tokenizer of this library shares: special tokens written in the text, the model
/// (byte-level BPE, WordPiece, characters), then truncation, the special-token template and padding.
/// Also the entry point for loading a tokenizer from files: <see cref="FromFiles"/>.
/// </summary>
public abstract class Tokenizer : ITokenizer
{
    private AddedTokens _added = new([]);
    private TokenTemplate _template = TokenTemplate.Plain;
    private bool[] _isSpecial = [];

    private protected Tokenizer() => SpecialTokens = SpecialTokens.None;

    /// <inheritdoc />
    public abstract int VocabSize { get; }

    /// <inheritdoc />
    public SpecialTokens SpecialTokens { get; private set; }

    /// <summary>Id of the padding token, or null when there is none.</summary>
    public int? PadId => Id(SpecialTokens.Pad);
    /// <summary>Id of the beginning-of-sequence token, or null.</summary>
    public int? BosId => Id(SpecialTokens.Bos);
    /// <summary>Id of the end-of-sequence token, or null.</summary>
    public int? EosId => Id(SpecialTokens.Eos);
    /// <summary>Id of the classification token, or null.</summary>
    public int? ClsId => Id(SpecialTokens.Cls);
    /// <summary>Id of the separator token, or null.</summary>
    public int? SepId => Id(SpecialTokens.Sep);
    /// <summary>Id of the mask token, or null.</summary>
    public int? MaskId => Id(SpecialTokens.Mask);
    /// <summary>Id of the unknown token, or null.</summary>
    public int? UnkId => Id(SpecialTokens.Unk);

    /// <inheritdoc />
    public abstract int? TokenToId(string token);

    /// <inheritdoc />
    public abstract string? IdToToken(int id);

    /// <summary>
    /// The longest input the model was trained for (tokenizer_config.json's <c>model_max_length</c>), or null when unknown or
    /// unlimited. Encoding does not truncate by itself; pipelines pass it as <see cref="EncodeOptions.MaxLength"/>.
    /// </summary>
    public int? ModelMaxLength { get; private set; }

    /// <summary>
    /// The chat template's text (tokenizer_config.json's <c>chat_template</c>, a Jinja template), kept as read for chat
    /// formatting; null when the folder has none. Nothing renders it yet.
    /// </summary>
    public string? ChatTemplate { get; private set; }

    /// <summary>
    /// Applies what a pretrained folder's tokenizer_config.json says: the special-token roles (keeping the template and the
    /// added tokens), the maximum length and the chat template. Called once, right after construction, by <see cref="AutoTokenizer"/>.
    /// </summary>
    internal void ApplyPretrainedConfig(SpecialTokens special, int? modelMaxLength, string? chatTemplate)
    {
        Configure(special, _template, _added.All);
        ModelMaxLength = modelMaxLength;
        ChatTemplate = chatTemplate;
    }

    /// <summary>Whether an id is one of the special tokens (skipped by <c>Decode(ids, skipSpecialTokens: true)</c>).</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>
    /// Loads a tokenizer by the vocabulary file's name: a <c>.json</c> file without merges is Hugging Face's <c>tokenizer.json</c> (BPE or WordPiece model);
    /// <c>*.txt</c> (a WordPiece <c>vocab.txt</c>, BERT pre-processing); <c>*.tiktoken</c> (tiktoken ranks, GPT-2 pre-tokenization);
    /// any other JSON map from token to id with <paramref name="mergesPath"/> (GPT-2's <c>encoder.json</c> + <c>vocab.bpe</c>, or
    /// Hugging Face's <c>vocab.json</c> + <c>merges.txt</c>).
    /// </summary>
    /// <param name="vocabPath">The vocabulary file.</param>
    /// <param name="mergesPath">The merges file for byte-level BPE.</param>
    /// <param name="lowercase">
    /// Lower-case the text first (for WordPiece: BERT uncased, which also strips accents). Null takes each format's default, as
    /// Hugging Face does: lower-cased for a WordPiece <c>vocab.txt</c> (<c>BertTokenizer</c>'s <c>do_lower_case=True</c>, as
    /// <see cref="WordPieceTokenizer.FromVocabFile"/>), as the file says for <c>tokenizer.json</c>, and not for byte-level BPE.
    /// </param>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="VocabularyFormatException">A file is corrupt; the message names the file and the line or key.</exception>
    public static Tokenizer FromFiles(string vocabPath, string? mergesPath = null, bool? lowercase = null)
    {
        ArgumentNullException.ThrowIfNull(vocabPath);
        string name = Path.GetFileName(vocabPath);
        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && mergesPath is null)
            return HuggingFaceTokenizerJson.Load(vocabPath, lowercase ?? false);
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && mergesPath is null)
            return WordPieceTokenizer.FromVocabFile(vocabPath, new BertNormalization(Lowercase: lowercase ?? true));
        if (name.EndsWith(".tiktoken", StringComparison.OrdinalIgnoreCase) && mergesPath is null)
            return ByteLevelBpeTokenizer.FromTiktoken(vocabPath, lowercase: lowercase ?? false);
        if (mergesPath is null)
            throw new ArgumentException($"'{vocabPath}' needs a merges file (vocab.bpe or merges.txt), or use tokenizer.json, vocab.txt or a .tiktoken file.", nameof(mergesPath));
        return ByteLevelBpeTokenizer.FromFiles(vocabPath, mergesPath, lowercase: lowercase ?? false);
    }

    /// <inheritdoc />
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sink = new TokenSink(trackOffsets: false, capacity: Math.Min(text.Length / 3 + 8, 1 << 16));
        EncodeSequence(text, allowSpecial: false, sink);
        var single = _template.Single;
        if (single.Length == 1) return sink.ToIdArray();
        var ids = new int[sink.Count + _template.AddedCount(pair: false)];
        int k = 0;
        foreach (var p in single)
        {
            if (p.Kind == TemplatePieceKind.Special) ids[k++] = p.TokenId;
            else { sink.Ids.CopyTo(ids.AsSpan(k)); k += sink.Count; }
        }
        return ids;
    }

    /// <summary>Appends the ids of a text to a list (no special tokens, no offsets): the fastest way to encode a corpus.</summary>
    public void EncodeTo(string text, List<int> ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(ids);
        var sink = new TokenSink(trackOffsets: false, capacity: Math.Min(text.Length / 3 + 8, 1 << 16));
        EncodeSequence(text, allowSpecial: false, sink);
        ids.AddRange(sink.Ids);
    }

    /// <inheritdoc />
    public TokenEncoding Encode(string text, EncodeOptions? options)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= EncodeOptions.Default;
        return Build(Sequence(text, options), null, options, PadTarget(options, 0));
    }

    /// <inheritdoc />
    public TokenEncoding EncodePair(string first, string second, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        options ??= EncodeOptions.Default;
        return Build(Sequence(first, options), Sequence(second, options), options, PadTarget(options, 0));
    }

    /// <inheritdoc />
    public BatchEncoding EncodeBatch(IReadOnlyList<string> texts, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(texts);
        options ??= EncodeOptions.Default;
        var o = options with { Padding = PaddingStrategy.None };
        var items = new TokenEncoding[texts.Count];
        ForEach(texts.Count, i => items[i] = Build(Sequence(texts[i] ?? throw new ArgumentNullException(nameof(texts), $"texts[{i}] is null."), o), null, o, 0));
        return Pad(items, options);
    }

    /// <inheritdoc />
    public BatchEncoding EncodeBatch(IReadOnlyList<(string First, string Second)> pairs, EncodeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        options ??= EncodeOptions.Default;
        var o = options with { Padding = PaddingStrategy.None };
        var items = new TokenEncoding[pairs.Count];
        ForEach(pairs.Count, i =>
        {
            var (a, b) = pairs[i];
            if (a is null || b is null) throw new ArgumentNullException(nameof(pairs), $"pairs[{i}] has a null text.");
            items[i] = Build(Sequence(a, o), Sequence(b, o), o, 0);
        });
        return Pad(items, options);
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false)
    {
        foreach (int id in ids)
            if (IdToToken(id) is null)
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is not in the vocabulary (ids are 0 to {VocabSize - 1}).");
        return DecodeCore(ids, skipSpecialTokens);
    }

    /// <summary>Sets the special tokens, the template and the added tokens; called once by each model's constructor.</summary>
    private protected void Configure(SpecialTokens special, TokenTemplate template, IEnumerable<AddedToken> added)
    {
        SpecialTokens = special;
        _template = template;
        var all = added.ToList();
        foreach (var t in special.All())
        {
            int? id = TokenToId(t);
            if (id is int i && !all.Any(a => a.Content == t)) all.Add(new AddedToken(t, i, Special: true));
        }
        _added = new AddedTokens(all);
        _isSpecial = new bool[VocabSize];
        foreach (var t in all) if (t.Special && (uint)t.Id < (uint)_isSpecial.Length) _isSpecial[t.Id] = true;
    }

    /// <summary>The added tokens (special or not) this tokenizer matches in text.</summary>
    internal IReadOnlyList<AddedToken> AddedTokenList => _added.All;

    internal TokenTemplate Template => _template;

    /// <summary>Encodes text[start..end) that holds no added tokens, appending to the sink.</summary>
    internal abstract void EncodeText(string text, int start, int end, TokenSink sink);

    /// <summary>Decodes ids already checked to be in the vocabulary.</summary>
    internal abstract string DecodeCore(ReadOnlySpan<int> ids, bool skipSpecialTokens);

    private int? Id(string? token) => token is null ? null : TokenToId(token);

    private TokenSink Sequence(string text, EncodeOptions o)
    {
        var sink = new TokenSink(o.ComputeOffsets, Math.Min(text.Length / 3 + 8, 1 << 16));
        EncodeSequence(text, o.AllowSpecialTokensInText, sink);
        return sink;
    }

    private void EncodeSequence(string text, bool allowSpecial, TokenSink sink)
    {
        if (!_added.Active(allowSpecial))
        {
            if (text.Length > 0) EncodeText(text, 0, text.Length, sink);
            return;
        }
        int pos = 0;
        while (pos < text.Length)
        {
            int at = _added.FindNext(text, pos, allowSpecial, out var token);
            int end = at < 0 ? text.Length : at;
            if (end > pos) EncodeText(text, pos, end, sink);
            if (at < 0) break;
            sink.NextWord();
            sink.Add(token.Id, at, at + token.Content.Length);
            pos = at + token.Content.Length;
        }
    }

    private static int PadTarget(EncodeOptions o, int longest)
    {
        int target = o.Padding switch
        {
            PaddingStrategy.None => 0,
            PaddingStrategy.Longest => longest,
            _ => o.MaxLength ?? throw new ArgumentException("PaddingStrategy.MaxLength needs EncodeOptions.MaxLength.", nameof(o)),
        };
        if (o.Padding != PaddingStrategy.None && o.PadToMultipleOf is int m && m > 0 && target % m != 0) target += m - target % m;
        return target;
    }

    private BatchEncoding Pad(TokenEncoding[] items, EncodeOptions o)
    {
        if (o.Padding == PaddingStrategy.None) return new BatchEncoding(items);
        int longest = 0;
        foreach (var e in items) longest = Math.Max(longest, e.Length);
        int target = PadTarget(o, longest);
        for (int i = 0; i < items.Length; i++) items[i] = PadTo(items[i], target, o.PaddingSide);
        return new BatchEncoding(items);
    }

    private static void ForEach(int count, Action<int> body)
    {
        if (count >= 64 && Environment.ProcessorCount > 1) Parallel.For(0, count, body);
        else for (int i = 0; i < count; i++) body(i);
    }

    private TokenEncoding Build(TokenSink a, TokenSink? b, EncodeOptions o, int padTarget)
    {
        int na = a.Count, nb = b?.Count ?? 0;
        bool pair = b is not null;
        var pieces = o.AddSpecialTokens ? (pair ? _template.Pair : _template.Single) : (pair ? TokenTemplate.Plain.Pair : TokenTemplate.Plain.Single);
        if (o.PrependBos || o.AppendEos)
        {
            var list = pieces.ToList();
            if (o.PrependBos) list.Insert(0, new TemplatePiece(TemplatePieceKind.Special, 0, BosId ?? throw new InvalidOperationException("PrependBos needs a BOS token, and this tokenizer has none.")));
            if (o.AppendEos) list.Add(new TemplatePiece(TemplatePieceKind.Special, list[^1].TypeId, EosId ?? throw new InvalidOperationException("AppendEos needs an EOS token, and this tokenizer has none.")));
            pieces = list.ToArray();
        }
        int added = 0;
        foreach (var p in pieces) if (p.Kind == TemplatePieceKind.Special) added++;

        // Truncation: which window [startX, startX + keepX) of each sequence survives.
        int keepA = na, keepB = nb;
        if (o.MaxLength is int max && o.Truncation != TruncationStrategy.None && na + nb + added > max)
        {
            int budget = max - added;
            if (budget < 0) throw new ArgumentException($"MaxLength {max} is smaller than the {added} special tokens the template adds.", nameof(o));
            switch (o.Truncation)
            {
                case TruncationStrategy.LongestFirst when pair:
                    (keepA, keepB) = LongestFirst(na, nb, budget);
                    break;
                case TruncationStrategy.OnlySecond when pair:
                    if (budget - na < 0) throw new ArgumentException($"Cannot truncate only the second sequence: the first already has {na} tokens and MaxLength is {max}.", nameof(o));
                    keepB = budget - na;
                    break;
                case TruncationStrategy.OnlyFirst when pair:
                    if (budget - nb < 0) throw new ArgumentException($"Cannot truncate only the first sequence: the second already has {nb} tokens and MaxLength is {max}.", nameof(o));
                    keepA = budget - nb;
                    break;
                default:
                    keepA = budget;
                    break;
            }
        }
        int startA = o.TruncationSide == Side.Left ? na - keepA : 0;
        int startB = o.TruncationSide == Side.Left ? nb - keepB : 0;

        int len = keepA + keepB + added;
        int total = Math.Max(len, padTarget);
        if (total > len && PadId is null)
            throw new InvalidOperationException("Padding needs a PAD token, and this tokenizer has none (GPT-2 has none: create it with SpecialTokens whose Pad is set, for example to <|endoftext|>).");
        var ids = new int[total];
        var types = new int[total];
        var mask = new int[total];
        var special = new int[total];
        var spans = new TokenSpan[total];
        var words = new int[total];
        var seqs = new int[total];
        int pad = total - len;
        int k = o.PaddingSide == Side.Left ? pad : 0;
        foreach (var p in pieces)
        {
            if (p.Kind == TemplatePieceKind.Special)
            {
                ids[k] = p.TokenId; types[k] = p.TypeId; mask[k] = 1; special[k] = 1; words[k] = -1; seqs[k] = -1;
                k++;
                continue;
            }
            var s = p.Kind == TemplatePieceKind.First ? a : b!;
            int start = p.Kind == TemplatePieceKind.First ? startA : startB;
            int keep = p.Kind == TemplatePieceKind.First ? keepA : keepB;
            int seq = p.Kind == TemplatePieceKind.First ? 0 : 1;
            s.Ids.Slice(start, keep).CopyTo(ids.AsSpan(k));
            if (s.TrackOffsets)
            {
                s.Spans.Slice(start, keep).CopyTo(spans.AsSpan(k));
                s.Words.Slice(start, keep).CopyTo(words.AsSpan(k));
            }
            else words.AsSpan(k, keep).Fill(-1);
            types.AsSpan(k, keep).Fill(p.TypeId);
            mask.AsSpan(k, keep).Fill(1);
            seqs.AsSpan(k, keep).Fill(seq);
            k += keep;
        }
        if (pad > 0)
        {
            int p0 = o.PaddingSide == Side.Left ? 0 : len;
            ids.AsSpan(p0, pad).Fill(PadId!.Value);
            special.AsSpan(p0, pad).Fill(1);
            words.AsSpan(p0, pad).Fill(-1);
            seqs.AsSpan(p0, pad).Fill(-1);
        }
        return new TokenEncoding(ids, types, mask, special, spans, words, seqs);
    }

    private TokenEncoding PadTo(TokenEncoding e, int target, Side side)
    {
        int pad = target - e.Length;
        if (pad <= 0) return e;
        int padId = PadId ?? throw new InvalidOperationException("Padding needs a PAD token, and this tokenizer has none (GPT-2 has none: create it with SpecialTokens whose Pad is set, for example to <|endoftext|>).");
        int at = side == Side.Left ? pad : 0, p0 = side == Side.Left ? 0 : e.Length;
        T[] Grow<T>(T[] src, T fill)
        {
            var dst = new T[target];
            src.CopyTo(dst, at);
            dst.AsSpan(p0, pad).Fill(fill);
            return dst;
        }
        return new TokenEncoding(Grow(e.Ids, padId), Grow(e.TypeIds, 0), Grow(e.AttentionMask, 0), Grow(e.SpecialTokensMask, 1),
            Grow(e.Offsets, default), Grow(e.WordIds, -1), Grow(e.SequenceIds, -1));
    }

    /// <summary>Hugging Face's longest-first split of a budget between two sequences.</summary>
    internal static (int KeepA, int KeepB) LongestFirst(int na, int nb, int budget)
    {
        if (na + nb <= budget) return (na, nb);
        bool swap = na > nb;
        int n1 = swap ? nb : na, n2 = swap ? na : nb;
        n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
        if (n1 + n2 > budget)
        {
            n1 = budget / 2;
            n2 = n1 + budget % 2;
        }
        if (swap) (n1, n2) = (n2, n1);
        return (Math.Min(n1, na), Math.Min(n2, nb));
    }
}
