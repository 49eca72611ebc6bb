using System.Text.Json;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// Loads Hugging Face's <c>tokenizer.json</c> with a byte-level BPE model (GPT-2, RoBERTa), a WordPiece model (BERT) or a Unigram model (T5; see <see cref="SentencePieceTokenizer"/>):
/// the vocabulary and merges, the normalizer, the added tokens and the post-processor (special-token template).
/// Unsupported components raise <see cref="NotSupportedException"/> naming the JSON key.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    /// <summary>Loads a tokenizer.json file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="lowercase">Lower-case text first, in addition to what the file's normalizer does.</param>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="VocabularyFormatException">The JSON is invalid or a required key is missing or malformed; the message names the line or key.</exception>
    /// <exception cref="NotSupportedException">The file uses a model or component this library does not implement.</exception>
    public static Tokenizer Load(string path, bool lowercase = false)
    {
        byte[] bytes;
        using (var s = VocabularyFiles.OpenRead(path))
        {
            bytes = new byte[s.Length];
            s.ReadExactly(bytes);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(bytes); }
        catch (JsonException e) { throw new VocabularyFormatException(path, (int?)(e.LineNumber + 1), null, $"invalid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new VocabularyFormatException(path, 1, null, "expected a JSON object.");
            if (!root.TryGetProperty("model", out var modelEl) || modelEl.ValueKind != JsonValueKind.Object)
                throw new VocabularyFormatException(path, null, "model", "no model object: this is not a Hugging Face tokenizer.json (a vocab.json or encoder.json needs its merges file).");
            var model = Required(root, "model", path);
            string type = Str(model, "type", path, "model.type");
            var added = ReadAdded(root, path);
            return type switch
            {
                "BPE" => LoadBpe(root, model, added, path, lowercase),
                "WordPiece" => LoadWordPiece(root, model, added, path, lowercase),
                "Unigram" => HuggingFaceUnigramJson.Load(root, model, added, path, lowercase),
                _ => throw new NotSupportedException($"{path}: model.type '{type}' is not supported (BPE, WordPiece and Unigram are)."),
            };
        }
    }

    private static Tokenizer LoadBpe(JsonElement root, JsonElement model, List<AddedToken> added, string path, bool lowercase)
    {
        var vocab = VocabularyFiles.ReadJsonVocab(Required(model, "vocab", path), path, "model.vocab");
        var mergesEl = Required(model, "merges", path);
        if (mergesEl.ValueKind != JsonValueKind.Array) throw new VocabularyFormatException(path, null, "model.merges", "expected an array.");
        var merges = new List<(string, string, int)>();
        int index = 0;
        foreach (var m in mergesEl.EnumerateArray())
        {
            string key = $"model.merges[{index}]";
            if (m.ValueKind == JsonValueKind.String)
            {
                var s = m.GetString()!;
                int sp = s.IndexOf(' ');
                if (sp <= 0 || sp == s.Length - 1 || s.IndexOf(' ', sp + 1) >= 0)
                    throw new VocabularyFormatException(path, null, key, $"expected two tokens separated by one space, got '{s}'.");
                merges.Add((s[..sp], s[(sp + 1)..], index + 1));
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
                merges.Add((m[0].GetString()!, m[1].GetString()!, index + 1));
            else throw new VocabularyFormatException(path, null, key, "expected \"a b\" or [\"a\", \"b\"].");
            index++;
        }
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(key, out var affix) && affix.ValueKind == JsonValueKind.String && affix.GetString()!.Length > 0)
                throw new NotSupportedException($"{path}: model.{key} is not supported for byte-level BPE.");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() > 0)
            throw new NotSupportedException($"{path}: model.dropout (BPE-dropout) is not supported.");
        if (!IsByteLevel(root, path)) throw new NotSupportedException($"{path}: pre_tokenizer: only byte-level BPE (ByteLevel pre-tokenizer) is supported.");
        lowercase |= NormalizerIsLowercase(root, path);
        var special = RolesFrom(vocab, added);
        var template = ReadTemplate(root, vocab, added, path);
        return ByteLevelBpeTokenizer.FromVocabulary(vocab, merges.ConvertAll(m => (m.Item1, m.Item2, m.Item3)), path + " (model.merges)",
            special, lowercase, added, template);
    }

    private static bool IsByteLevel(JsonElement root, string path)
    {
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null) return false;
        bool Check(JsonElement p)
        {
            string t = p.TryGetProperty("type", out var te) ? te.GetString() ?? "" : "";
            if (t == "ByteLevel")
            {
                if (p.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                    throw new NotSupportedException($"{path}: pre_tokenizer.add_prefix_space = true is not supported.");
                return true;
            }
            if (t == "Sequence" && p.TryGetProperty("pretokenizers", out var list))
                return list.EnumerateArray().Any(Check);
            return false;
        }
        return Check(pre);
    }

    private static bool NormalizerIsLowercase(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null) return false;
        string t = Str(n, "type", path, "normalizer.type");
        return t switch
        {
            "Lowercase" => true,
            _ => throw new NotSupportedException($"{path}: normalizer.type '{t}' is not supported for BPE (null and Lowercase are)."),
        };
    }

    private static Tokenizer LoadWordPiece(JsonElement root, JsonElement model, List<AddedToken> added, string path, bool lowercase)
    {
        var vocab = VocabularyFiles.ReadJsonVocab(Required(model, "vocab", path), path, "model.vocab");
        string unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "[UNK]";
        string prefix = model.TryGetProperty("continuing_subword_prefix", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "##";
        int maxChars = model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.TryGetInt32(out int m) ? m : 100;

        BertNormalization norm;
        if (!root.TryGetProperty("normalizer", out var n) || n.ValueKind == JsonValueKind.Null)
            norm = new BertNormalization(Lowercase: lowercase, StripAccents: lowercase, HandleChineseChars: false, CleanText: false);
        else
        {
            string t = Str(n, "type", path, "normalizer.type");
            if (t == "Lowercase") norm = new BertNormalization(Lowercase: true, StripAccents: false, HandleChineseChars: false, CleanText: false);
            else if (t == "BertNormalizer")
            {
                bool Flag(string k, bool def) => n.TryGetProperty(k, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : def;
                bool? strip = n.TryGetProperty("strip_accents", out var sa) && sa.ValueKind is JsonValueKind.True or JsonValueKind.False ? sa.GetBoolean() : null;
                norm = new BertNormalization(Flag("lowercase", true) || lowercase, strip, Flag("handle_chinese_chars", true), Flag("clean_text", true));
            }
            else throw new NotSupportedException($"{path}: normalizer.type '{t}' is not supported for WordPiece (BertNormalizer, Lowercase and null are).");
        }
        if (root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null)
        {
            string t = Str(pre, "type", path, "pre_tokenizer.type");
            if (t != "BertPreTokenizer") throw new NotSupportedException($"{path}: pre_tokenizer.type '{t}' is not supported for WordPiece (BertPreTokenizer is).");
        }

        int max = vocab.Count == 0 ? -1 : vocab.Values.Max();
        foreach (var a in added) max = Math.Max(max, a.Id);
        var tokens = new string?[max + 1];
        foreach (var (t, id) in vocab) tokens[id] = t;
        foreach (var a in added) tokens[a.Id] ??= a.Content;
        var special = RolesFrom(vocab, added) with { Unk = unk };
        var template = ReadTemplate(root, vocab, added, path);
        return new WordPieceTokenizer(tokens, norm, special, unk, prefix, maxChars, added, template, path);
    }

    internal static List<AddedToken> ReadAdded(JsonElement root, string path)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var arr) || arr.ValueKind == JsonValueKind.Null) return list;
        int i = 0;
        foreach (var t in arr.EnumerateArray())
        {
            string key = $"added_tokens[{i++}]";
            if (!t.TryGetProperty("id", out var id) || !id.TryGetInt32(out int v) || v < 0)
                throw new VocabularyFormatException(path, null, key + ".id", "expected a non-negative integer id.");
            if (!t.TryGetProperty("content", out var c) || c.ValueKind != JsonValueKind.String)
                throw new VocabularyFormatException(path, null, key + ".content", "expected a string.");
            bool special = t.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
            list.Add(new AddedToken(c.GetString()!, v, special));
        }
        return list;
    }

    private static SpecialTokens RolesFrom(Dictionary<string, int> vocab, List<AddedToken> added)
    {
        bool Has(string t) => vocab.ContainsKey(t) || added.Any(a => a.Content == t);
        string? First(params string[] names) => names.FirstOrDefault(Has);
        return new SpecialTokens(
            Bos: First("<s>", "<|endoftext|>", "[BOS]", "<bos>"),
            Eos: First("</s>", "<|endoftext|>", "[EOS]", "<eos>"),
            Pad: First("[PAD]", "<pad>"),
            Cls: First("[CLS]", "<s>"),
            Sep: First("[SEP]", "</s>"),
            Mask: First("[MASK]", "<mask>"),
            Unk: First("[UNK]", "<unk>", "<|endoftext|>"));
    }

    internal static TokenTemplate? ReadTemplate(JsonElement root, Dictionary<string, int> vocab, List<AddedToken> added, string path)
    {
        if (!root.TryGetProperty("post_processor", out var pp) || pp.ValueKind == JsonValueKind.Null) return TokenTemplate.Plain;
        string type = Str(pp, "type", path, "post_processor.type");
        int IdOf(JsonElement pairEl, string key)
        {
            if (pairEl.ValueKind == JsonValueKind.Array && pairEl.GetArrayLength() == 2 && pairEl[1].TryGetInt32(out int id)) return id;
            throw new VocabularyFormatException(path, null, key, "expected [token, id].");
        }
        switch (type)
        {
            case "ByteLevel":
                return TokenTemplate.Plain;
            case "BertProcessing":
                return TokenTemplate.Bert(IdOf(Required(pp, "cls", path), "post_processor.cls"), IdOf(Required(pp, "sep", path), "post_processor.sep"));
            case "RobertaProcessing":
                return TokenTemplate.Roberta(IdOf(Required(pp, "cls", path), "post_processor.cls"), IdOf(Required(pp, "sep", path), "post_processor.sep"));
            case "TemplateProcessing":
                var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
                if (pp.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
                    foreach (var p in st.EnumerateObject())
                        specials[p.Name] = p.Value.TryGetProperty("ids", out var ids) && ids.ValueKind == JsonValueKind.Array
                            ? ids.EnumerateArray().Select(x => x.GetInt32()).ToArray()
                            : throw new VocabularyFormatException(path, null, $"post_processor.special_tokens.{p.Name}.ids", "expected an array of ids.");
                TemplatePiece[] Pieces(string key)
                {
                    var list = new List<TemplatePiece>();
                    foreach (var item in Required(pp, key, path).EnumerateArray())
                    {
                        if (item.TryGetProperty("Sequence", out var seq))
                        {
                            string which = Str(seq, "id", path, $"post_processor.{key}.Sequence.id");
                            int typeId = seq.TryGetProperty("type_id", out var ti) ? ti.GetInt32() : 0;
                            list.Add(new TemplatePiece(which == "B" ? TemplatePieceKind.Second : TemplatePieceKind.First, typeId));
                        }
                        else if (item.TryGetProperty("SpecialToken", out var sp))
                        {
                            string name = Str(sp, "id", path, $"post_processor.{key}.SpecialToken.id");
                            int typeId = sp.TryGetProperty("type_id", out var ti) ? ti.GetInt32() : 0;
                            int[] ids = specials.TryGetValue(name, out var x) ? x
                                : vocab.TryGetValue(name, out int v) ? [v]
                                : added.FirstOrDefault(a => a.Content == name) is { Content: not null } a ? [a.Id]
                                : throw new VocabularyFormatException(path, null, $"post_processor.special_tokens.{name}", "the template's special token has no id.");
                            foreach (int id in ids) list.Add(new TemplatePiece(TemplatePieceKind.Special, typeId, id));
                        }
                        else throw new VocabularyFormatException(path, null, $"post_processor.{key}", "expected Sequence or SpecialToken items.");
                    }
                    return list.ToArray();
                }
                return new TokenTemplate(Pieces("single"), Pieces("pair"));
            default:
                throw new NotSupportedException($"{path}: post_processor.type '{type}' is not supported.");
        }
    }

    private static JsonElement Required(JsonElement obj, string name, string path) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw new VocabularyFormatException(path, null, name, "the key is missing.");

    private static string Str(JsonElement obj, string name, string path, string key) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new VocabularyFormatException(path, null, key, "expected a string.");
}
