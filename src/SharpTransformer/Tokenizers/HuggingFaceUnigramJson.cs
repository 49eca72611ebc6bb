using System.Text.Json;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> with a <c>Unigram</c> model (T5, ALBERT, XLNet as converted by <c>transformers</c>),
/// mapped onto a <see cref="SentencePieceModel"/>: <c>model.vocab</c> ([piece, score] in id order), <c>model.unk_id</c>,
/// <c>model.byte_fallback</c>; normalizers <c>Precompiled</c> (the spm charsmap, base64), <c>Replace</c> of the regex
/// <c>" {2,}"</c> by one space and <c>Strip</c> (both read as spm's <c>remove_extra_whitespaces</c>, which also drops
/// leading and trailing spaces), in a <c>Sequence</c> or alone; the <c>Metaspace</c> pre-tokenizer (replacement <c>▁</c>;
/// <c>add_prefix_space</c> or <c>prepend_scheme</c> <c>always</c>/<c>first</c> as spm's dummy prefix). Segmentation is spm's
/// over the whole normalised text rather than per <c>▁</c>-split word, which gives the same pieces when no piece holds an
/// inner <c>▁</c> (pieces trained by spm never do). Special added tokens are CONTROL pieces.
/// </summary>
internal static class HuggingFaceUnigramJson
{
    public static Tokenizer Load(JsonElement root, JsonElement model, List<AddedToken> added, string path, bool lowercase)
    {
        if (lowercase) throw new NotSupportedException($"{path}: lower-casing is not supported for a Unigram model.");
        if (!model.TryGetProperty("vocab", out var vocabEl) || vocabEl.ValueKind != JsonValueKind.Array)
            throw new VocabularyFormatException(path, null, "model.vocab", "expected an array of [piece, score].");
        int unkId = model.TryGetProperty("unk_id", out var u) && u.ValueKind == JsonValueKind.Number ? u.GetInt32() : -1;
        bool byteFallback = model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True;
        var specialIds = added.Where(a => a.Special).Select(a => a.Id).ToHashSet();
        var pieces = new List<SentencePiece>();
        int i = 0;
        foreach (var e in vocabEl.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 2 || e[0].ValueKind != JsonValueKind.String || e[1].ValueKind != JsonValueKind.Number)
                throw new VocabularyFormatException(path, null, $"model.vocab[{i}]", "expected [piece, score].");
            string piece = e[0].GetString()!;
            var type = i == unkId ? SentencePieceType.Unknown
                : specialIds.Contains(i) ? SentencePieceType.Control
                : byteFallback && SentencePieceTokenizer.ParseBytePiece(piece) is not null ? SentencePieceType.Byte
                : SentencePieceType.Normal;
            pieces.Add(new SentencePiece(piece, (float)e[1].GetDouble(), type));
            i++;
        }
        if (unkId < 0 || unkId >= pieces.Count)
            throw new VocabularyFormatException(path, null, "model.unk_id", $"expected the id of the unknown piece (0 to {pieces.Count - 1}).");

        byte[] charsMap = [];
        bool extraSpaces = false;
        void Normalizer(JsonElement n, string key)
        {
            if (n.ValueKind == JsonValueKind.Null) return;
            string t = n.TryGetProperty("type", out var te) && te.ValueKind == JsonValueKind.String ? te.GetString()! : "";
            switch (t)
            {
                case "Sequence":
                    int k = 0;
                    foreach (var c in n.GetProperty("normalizers").EnumerateArray()) Normalizer(c, $"{key}.normalizers[{k++}]");
                    break;
                case "Precompiled":
                    if (n.TryGetProperty("precompiled_charsmap", out var m) && m.ValueKind == JsonValueKind.String)
                    {
                        try { charsMap = Convert.FromBase64String(m.GetString()!); }
                        catch (FormatException ex) { throw new VocabularyFormatException(path, null, key + ".precompiled_charsmap", "not base64.", ex); }
                    }
                    break;
                case "Replace" when n.TryGetProperty("pattern", out var p) && p.TryGetProperty("Regex", out var rx) && rx.GetString() == " {2,}"
                                    && n.TryGetProperty("content", out var c2) && c2.GetString() == " ":
                    extraSpaces = true;
                    break;
                case "Strip":
                    extraSpaces = true;
                    break;
                default:
                    throw new NotSupportedException($"{path}: {key}.type '{t}' is not supported for a Unigram model (Precompiled, Replace \" {{2,}}\" -> \" \", Strip, Sequence are).");
            }
        }
        if (root.TryGetProperty("normalizer", out var norm)) Normalizer(norm, "normalizer");

        bool dummy = false;
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null)
        {
            var meta = pre;
            if (pre.TryGetProperty("type", out var pt) && pt.GetString() == "Sequence")
            {
                var list = pre.GetProperty("pretokenizers").EnumerateArray().ToList();
                if (list.Count != 1) throw new NotSupportedException($"{path}: pre_tokenizer: only a single Metaspace is supported for a Unigram model.");
                meta = list[0];
            }
            if (!meta.TryGetProperty("type", out var mt) || mt.GetString() != "Metaspace")
                throw new NotSupportedException($"{path}: pre_tokenizer.type '{(meta.TryGetProperty("type", out var x) ? x.GetString() : "")}' is not supported for a Unigram model (Metaspace is).");
            if (meta.TryGetProperty("replacement", out var rep) && rep.GetString() != "\u2581")
                throw new NotSupportedException($"{path}: pre_tokenizer.replacement '{rep.GetString()}' is not supported (only U+2581).");
            dummy = meta.TryGetProperty("prepend_scheme", out var ps) && ps.ValueKind == JsonValueKind.String
                ? ps.GetString() != "never"
                : !meta.TryGetProperty("add_prefix_space", out var aps) || aps.ValueKind != JsonValueKind.False;
        }
        else throw new NotSupportedException($"{path}: a Unigram model needs the Metaspace pre_tokenizer (none is given).");

        var spec = new SentencePieceNormalizerSpec(charsMap.Length > 0 ? "precompiled" : "identity", charsMap, dummy, extraSpaces, EscapeWhitespaces: true);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < pieces.Count; k++) vocab.TryAdd(pieces[k].Piece, k);
        string? Has(params string[] names) => names.FirstOrDefault(vocab.ContainsKey);
        var special = new SpecialTokens(Bos: Has("<s>"), Eos: Has("</s>"), Pad: Has("<pad>"), Cls: Has("<cls>", "[CLS]"), Sep: Has("<sep>", "[SEP]"),
            Mask: Has("<mask>", "[MASK]"), Unk: pieces[unkId].Piece);
        var template = HuggingFaceTokenizerJson.ReadTemplate(root, vocab, added, path);
        var spModel = new SentencePieceModel(pieces, SentencePieceModelType.Unigram, spec, byteFallback) { SpecialIds = (unkId, -1, -1, -1) };
        return new SentencePieceTokenizer(spModel, path, special, false, template, added.Where(a => a.Id < pieces.Count));
    }
}
