namespace SharpTransformer.Tokenizers;

/// <summary>The type of a SentencePiece vocabulary entry (<c>ModelProto.SentencePiece.Type</c>).</summary>
public enum SentencePieceType
{
    /// <summary>An ordinary piece, found by segmentation.</summary>
    Normal = 1,
    /// <summary>The unknown piece (<c>&lt;unk&gt;</c>).</summary>
    Unknown = 2,
    /// <summary>A control symbol (<c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>): never produced from text, decoded as nothing.</summary>
    Control = 3,
    /// <summary>A user-defined symbol: always one piece where it occurs in the text.</summary>
    UserDefined = 4,
    /// <summary>An unused piece: in the vocabulary but never produced.</summary>
    Unused = 5,
    /// <summary>A byte piece <c>&lt;0xXX&gt;</c> for byte fallback.</summary>
    Byte = 6,
}

/// <summary>The segmentation algorithm of a SentencePiece model (<c>TrainerSpec.model_type</c>).</summary>
public enum SentencePieceModelType
{
    /// <summary>Unigram language model: Viterbi segmentation over piece log-probabilities.</summary>
    Unigram = 1,
    /// <summary>BPE: merges applied in order of the merged piece's score.</summary>
    Bpe = 2,
    /// <summary>Whole words (not supported for encoding).</summary>
    Word = 3,
    /// <summary>Characters (not supported for encoding).</summary>
    Char = 4,
}

/// <summary>One vocabulary entry of a SentencePiece model; its index in <see cref="SentencePieceModel.Pieces"/> is its id.</summary>
/// <param name="Piece">The piece text, with <c>▁</c> for a space.</param>
/// <param name="Score">Log-probability (Unigram) or merge priority (BPE: higher merges first).</param>
/// <param name="Type">What kind of entry it is.</param>
public readonly record struct SentencePiece(string Piece, float Score, SentencePieceType Type);

/// <summary>How text is normalised before segmentation (<c>NormalizerSpec</c>).</summary>
/// <param name="Name">The rule's name (<c>nmt_nfkc</c>, <c>identity</c>, ...); informative, the charsmap is what applies.</param>
/// <param name="PrecompiledCharsMap">The compiled rules: a double-array trie over UTF-8 and the replacement strings; empty for identity.</param>
/// <param name="AddDummyPrefix">Put a <c>▁</c> in front of the text, so a word starts the same way at the start of the text and after a space.</param>
/// <param name="RemoveExtraWhitespaces">Drop leading and trailing spaces and collapse runs of spaces to one.</param>
/// <param name="EscapeWhitespaces">Write spaces as <c>▁</c> (U+2581).</param>
public sealed record SentencePieceNormalizerSpec(string Name, byte[] PrecompiledCharsMap, bool AddDummyPrefix = true,
    bool RemoveExtraWhitespaces = true, bool EscapeWhitespaces = true)
{
    /// <summary>No character mapping (spm's <c>identity</c>), with the default whitespace handling.</summary>
    public static SentencePieceNormalizerSpec Identity { get; } = new("identity", []);
}

/// <summary>
/// A SentencePiece model file (<c>spiece.model</c>, <c>tokenizer.model</c>, <c>*.model</c>): the protocol-buffer
/// <c>ModelProto</c> of the <c>sentencepiece</c> library, read and written by a small hand-rolled reader (fields used:
/// <c>pieces</c> (piece, score, type), <c>trainer_spec</c> (model_type, vocab_size, byte_fallback, unk/bos/eos/pad ids and
/// pieces, unk_surface, treat_whitespace_as_suffix), <c>normalizer_spec</c> (name, precompiled_charsmap, add_dummy_prefix,
/// remove_extra_whitespaces, escape_whitespaces), <c>denormalizer_spec</c>; the others are skipped).
/// </summary>
public sealed class SentencePieceModel
{
    /// <summary>Creates a model.</summary>
    /// <param name="pieces">The vocabulary in id order.</param>
    /// <param name="modelType">Unigram or BPE.</param>
    /// <param name="normalizer">The normaliser; null for <see cref="SentencePieceNormalizerSpec.Identity"/>.</param>
    /// <param name="byteFallback">Unknown characters become their UTF-8 bytes as <c>&lt;0xXX&gt;</c> pieces.</param>
    public SentencePieceModel(IReadOnlyList<SentencePiece> pieces, SentencePieceModelType modelType, SentencePieceNormalizerSpec? normalizer = null, bool byteFallback = false)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        Pieces = pieces.ToArray();
        ModelType = modelType;
        Normalizer = normalizer ?? SentencePieceNormalizerSpec.Identity;
        ByteFallback = byteFallback;
    }

    /// <summary>The vocabulary in id order.</summary>
    public IReadOnlyList<SentencePiece> Pieces { get; }

    /// <summary>Unigram or BPE.</summary>
    public SentencePieceModelType ModelType { get; }

    /// <summary>The normaliser applied to text before segmentation.</summary>
    public SentencePieceNormalizerSpec Normalizer { get; }

    /// <summary>The denormaliser applied to decoded text, or null (spm's default: none).</summary>
    public SentencePieceNormalizerSpec? Denormalizer { get; init; }

    /// <summary>Unknown characters become byte pieces.</summary>
    public bool ByteFallback { get; }

    /// <summary>Text decoded for the unknown piece (spm's default <c>" ⁇ "</c>).</summary>
    public string UnknownSurface { get; init; } = " \u2047 ";

    /// <summary>Whitespace goes at the end of a piece instead of its start (<c>treat_whitespace_as_suffix</c>): not supported for encoding.</summary>
    public bool TreatWhitespaceAsSuffix { get; init; }

    /// <summary>trainer_spec's vocab_size (informative).</summary>
    public int TrainerVocabSize { get; init; }

    /// <summary>trainer_spec's ids of the unknown, BOS, EOS and PAD pieces (-1: none), as written by the trainer.</summary>
    public (int Unk, int Bos, int Eos, int Pad) SpecialIds { get; init; } = (0, 1, 2, -1);

    /// <summary>Reads a model file.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="VocabularyFormatException">The file is not a SentencePiece model; the message names it.</exception>
    public static SentencePieceModel Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"SentencePiece model file not found: {path}", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses the bytes of a model file; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="VocabularyFormatException">The bytes are not a SentencePiece model.</exception>
    public static SentencePieceModel Parse(ReadOnlySpan<byte> data, string source)
    {
        var pieces = new List<SentencePiece>();
        SentencePieceNormalizerSpec? normalizer = null, denormalizer = null;
        var modelType = SentencePieceModelType.Unigram;
        bool byteFallback = false, suffix = false;
        int vocabSize = 0, unk = 0, bos = 1, eos = 2, pad = -1;
        string unkSurface = " \u2047 ";
        try
        {
            var r = new ProtobufReader(data);
            while (r.Next(out int field, out int wire))
            {
                switch (field)
                {
                    case 1:
                        pieces.Add(ReadPiece(r.Bytes(wire)));
                        break;
                    case 2:
                        var t = new ProtobufReader(r.Bytes(wire));
                        while (t.Next(out int f, out int w))
                        {
                            switch (f)
                            {
                                case 3: modelType = (SentencePieceModelType)t.Int(w); break;
                                case 4: vocabSize = (int)t.Int(w); break;
                                case 24: suffix = t.Int(w) != 0; break;
                                case 35: byteFallback = t.Int(w) != 0; break;
                                case 40: unk = (int)t.Int(w); break;
                                case 41: bos = (int)t.Int(w); break;
                                case 42: eos = (int)t.Int(w); break;
                                case 43: pad = (int)t.Int(w); break;
                                case 44: unkSurface = t.String(w); break;
                                default: t.Skip(w); break;
                            }
                        }
                        break;
                    case 3: normalizer = ReadNormalizer(r.Bytes(wire)); break;
                    case 5: denormalizer = ReadNormalizer(r.Bytes(wire)); break;
                    default: r.Skip(wire); break;
                }
            }
        }
        catch (Exception e) when (e is FormatException or System.Text.DecoderFallbackException or OverflowException)
        {
            throw new VocabularyFormatException(source, null, null, $"not a SentencePiece model file (protobuf ModelProto): {e.Message}", e);
        }
        if (pieces.Count == 0)
            throw new VocabularyFormatException(source, null, "pieces", "not a SentencePiece model file: it has no pieces.");
        if (!Enum.IsDefined(modelType))
            throw new VocabularyFormatException(source, null, "trainer_spec.model_type", $"unknown model type {(int)modelType}.");
        return new SentencePieceModel(pieces, modelType, normalizer ?? new SentencePieceNormalizerSpec("nmt_nfkc", []), byteFallback)
        {
            Denormalizer = denormalizer is { PrecompiledCharsMap.Length: > 0 } ? denormalizer : null,
            UnknownSurface = unkSurface,
            TreatWhitespaceAsSuffix = suffix,
            TrainerVocabSize = vocabSize,
            SpecialIds = (unk, bos, eos, pad),
        };
    }

    private static SentencePiece ReadPiece(ReadOnlySpan<byte> data)
    {
        var r = new ProtobufReader(data);
        string piece = "";
        float score = 0;
        var type = SentencePieceType.Normal;
        while (r.Next(out int f, out int w))
        {
            switch (f)
            {
                case 1: piece = r.String(w); break;
                case 2: score = r.Float32(w); break;
                case 3:
                    long t = r.Int(w);
                    if (t < 1 || t > 6) throw new FormatException($"unknown piece type {t} for piece '{piece}'.");
                    type = (SentencePieceType)t;
                    break;
                default: r.Skip(w); break;
            }
        }
        return new SentencePiece(piece, score, type);
    }

    private static SentencePieceNormalizerSpec ReadNormalizer(ReadOnlySpan<byte> data)
    {
        var r = new ProtobufReader(data);
        string name = "";
        byte[] map = [];
        bool dummy = true, extra = true, escape = true;
        while (r.Next(out int f, out int w))
        {
            switch (f)
            {
                case 1: name = r.String(w); break;
                case 2: map = r.Bytes(w).ToArray(); break;
                case 3: dummy = r.Int(w) != 0; break;
                case 4: extra = r.Int(w) != 0; break;
                case 5: escape = r.Int(w) != 0; break;
                default: r.Skip(w); break;
            }
        }
        return new SentencePieceNormalizerSpec(name, map, dummy, extra, escape);
    }

    /// <summary>The model as a <c>ModelProto</c> that the <c>sentencepiece</c> library loads.</summary>
    public byte[] ToBytes()
    {
        var w = new ProtobufWriter();
        foreach (var p in Pieces)
        {
            var pw = new ProtobufWriter();
            pw.String(1, p.Piece);
            pw.Float(2, p.Score);
            if (p.Type != SentencePieceType.Normal) pw.Int(3, (int)p.Type);
            w.Bytes(1, pw.ToArray());
        }
        var t = new ProtobufWriter();
        t.Int(3, (int)ModelType);
        t.Int(4, TrainerVocabSize > 0 ? TrainerVocabSize : Pieces.Count);
        if (TreatWhitespaceAsSuffix) t.Bool(24, true);
        t.Bool(35, ByteFallback);
        t.Int(40, SpecialIds.Unk);
        t.Int(41, SpecialIds.Bos);
        t.Int(42, SpecialIds.Eos);
        t.Int(43, SpecialIds.Pad);
        t.String(44, UnknownSurface);
        w.Bytes(2, t.ToArray());
        w.Bytes(3, NormalizerBytes(Normalizer));
        if (Denormalizer is { } d) w.Bytes(5, NormalizerBytes(d));
        return w.ToArray();
    }

    private static byte[] NormalizerBytes(SentencePieceNormalizerSpec n)
    {
        var w = new ProtobufWriter();
        w.String(1, n.Name);
        if (n.PrecompiledCharsMap.Length > 0) w.Bytes(2, n.PrecompiledCharsMap);
        w.Bool(3, n.AddDummyPrefix);
        w.Bool(4, n.RemoveExtraWhitespaces);
        w.Bool(5, n.EscapeWhitespaces);
        return w.ToArray();
    }

    /// <summary>Writes the model file.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, ToBytes());
    }
}
