using System.Text.Json;

namespace SharpTransformer.Tokenizers;

/// <summary>
/// Loads the tokenizer of a Hugging Face model folder, like <c>AutoTokenizer.from_pretrained</c>: <c>tokenizer.json</c> when
/// present (byte-level BPE, WordPiece or Unigram), else <c>vocab.json</c> + <c>merges.txt</c> (byte-level BPE: GPT-2, RoBERTa), else
/// <c>vocab.txt</c> (WordPiece: BERT, DistilBERT), else <c>spiece.model</c> or <c>tokenizer.model</c> (SentencePiece; T5 appends <c>&lt;/s&gt;</c>). <c>tokenizer_config.json</c>, when present, gives the special tokens
/// (<c>bos_token</c>, <c>eos_token</c>, <c>unk_token</c>, <c>sep_token</c>, <c>pad_token</c>, <c>cls_token</c>, <c>mask_token</c>),
/// lower-casing for WordPiece (<c>do_lower_case</c>, default true as in <c>BertTokenizer</c>; <c>strip_accents</c>,
/// <c>tokenize_chinese_chars</c>), <see cref="Tokenizer.ModelMaxLength"/> (<c>model_max_length</c>) and
/// <see cref="Tokenizer.ChatTemplate"/> (<c>chat_template</c>, kept as text).
/// </summary>
public static class AutoTokenizer
{
    private static readonly string[] Roles = ["bos_token", "eos_token", "pad_token", "cls_token", "sep_token", "mask_token", "unk_token"];

    /// <summary>The tokenizer of <paramref name="directory"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has none of the known files; the message names the folder and the files looked for.</exception>
    /// <exception cref="VocabularyFormatException">A file is corrupt; the message names the file and the line or key.</exception>
    /// <exception cref="NotSupportedException">The files use a component this library does not implement (for example a SentencePiece WORD model).</exception>
    public static Tokenizer FromPretrained(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"AutoTokenizer.FromPretrained: the folder '{directory}' does not exist.");
        string P(string name) => Path.Combine(directory, name);
        var config = ReadConfig(P("tokenizer_config.json"));
        string modelType = ModelType(P("config.json"));
        var special = config.Special;
        Tokenizer tok;
        if (File.Exists(P("tokenizer.json")))
            tok = HuggingFaceTokenizerJson.Load(P("tokenizer.json"));
        else if (File.Exists(P("vocab.json")) && File.Exists(P("merges.txt")))
        {
            var vocab = VocabularyFiles.ReadJsonVocab(P("vocab.json"));
            var merges = VocabularyFiles.ReadMerges(P("merges.txt"));
            if (config.Bool("add_prefix_space") == true)
                throw new NotSupportedException($"AutoTokenizer.FromPretrained: {P("tokenizer_config.json")} sets add_prefix_space = true, which is not supported.");
            bool roberta = config.Class is "RobertaTokenizer" or "RobertaTokenizerFast" || modelType is "roberta" or "xlm-roberta" or "camembert"
                || config.Class is null && vocab.ContainsKey("<s>") && vocab.ContainsKey("</s>") && vocab.ContainsKey("<mask>");
            TokenTemplate? template = null;
            if (roberta)
            {
                special = (special.Bos ?? special.Cls) is null ? special with { Bos = "<s>", Eos = "</s>", Pad = "<pad>", Cls = "<s>", Sep = "</s>", Mask = "<mask>", Unk = "<unk>" } : special;
                if (special.Cls is { } c && special.Sep is { } s && vocab.TryGetValue(c, out int ci) && vocab.TryGetValue(s, out int si))
                    template = TokenTemplate.Roberta(ci, si);
            }
            tok = ByteLevelBpeTokenizer.FromVocabulary(vocab, merges, P("merges.txt"), null, lowercase: false, template: template);
        }
        else if (File.Exists(P("vocab.txt")))
        {
            var norm = new BertNormalization(Lowercase: config.Bool("do_lower_case") ?? true, StripAccents: config.Bool("strip_accents"),
                HandleChineseChars: config.Bool("tokenize_chinese_chars") ?? true);
            tok = WordPieceTokenizer.FromVocabFile(P("vocab.txt"), norm, Merge(SpecialTokens.Bert, special));
        }
        else if (File.Exists(P("spiece.model")) || File.Exists(P("tokenizer.model")))   // SentencePiece (T5: spiece.model; Llama, ALBERT: tokenizer.model)
            tok = SentencePieceTokenizer.FromFile(File.Exists(P("spiece.model")) ? P("spiece.model") : P("tokenizer.model"),
                appendEos: modelType is "t5" or "mt5" or "umt5" || config.Class?.StartsWith("T5", StringComparison.Ordinal) == true);
        else
            throw new FileNotFoundException($"AutoTokenizer.FromPretrained: '{directory}' has none of tokenizer.json, vocab.json + merges.txt, vocab.txt, spiece.model, tokenizer.model.", directory);
        // Roles named by tokenizer_config.json replace the file's, where the vocabulary has the token.
        var roles = Merge(tok.SpecialTokens, special);
        string? Known(string? t) => t is not null && tok.TokenToId(t) is not null ? t : null;
        roles = new SpecialTokens(Known(roles.Bos), Known(roles.Eos), Known(roles.Pad), Known(roles.Cls), Known(roles.Sep), Known(roles.Mask), Known(roles.Unk));
        tok.ApplyPretrainedConfig(roles, config.MaxLength, config.ChatTemplate);
        return tok;
    }

    // Roles of b where b names one, else a's.
    private static SpecialTokens Merge(SpecialTokens a, SpecialTokens b) => new(
        b.Bos ?? a.Bos, b.Eos ?? a.Eos, b.Pad ?? a.Pad, b.Cls ?? a.Cls, b.Sep ?? a.Sep, b.Mask ?? a.Mask, b.Unk ?? a.Unk);

    private static string ModelType(string configPath)
    {
        if (!File.Exists(configPath)) return "";
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(configPath));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model_type", out var t) && t.ValueKind == JsonValueKind.String
                ? t.GetString()! : "";
        }
        catch (JsonException) { return ""; }   // the model loader reports a broken config.json
    }

    private sealed record Config(SpecialTokens Special, int? MaxLength, string? ChatTemplate, string? Class, Dictionary<string, bool?> Flags)
    {
        public bool? Bool(string key) => Flags.TryGetValue(key, out var v) ? v : null;
    }

    private static Config ReadConfig(string path)
    {
        if (!File.Exists(path)) return new Config(SpecialTokens.None, null, null, null, []);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new VocabularyFormatException(path, (int?)(e.LineNumber + 1), null, $"invalid JSON ({e.Message}).", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new VocabularyFormatException(path, 1, null, "expected a JSON object.");
            var tokens = new Dictionary<string, string?>();
            foreach (var role in Roles)
            {
                if (!root.TryGetProperty(role, out var v) || v.ValueKind == JsonValueKind.Null) continue;
                tokens[role] = v.ValueKind switch
                {
                    JsonValueKind.String => v.GetString(),
                    JsonValueKind.Object when v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                    _ => throw new VocabularyFormatException(path, null, role, "expected a token string or an object with \"content\"."),
                };
            }
            string? T(string role) => tokens.GetValueOrDefault(role);
            var special = new SpecialTokens(T("bos_token"), T("eos_token"), T("pad_token"), T("cls_token"), T("sep_token"), T("mask_token"), T("unk_token"));
            int? max = null;
            if (root.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number)
                max = m.TryGetDouble(out double d) && d >= 1 && d <= int.MaxValue ? (int)d : null;   // Hugging Face writes 1e30 for "no limit"
            string? chat = null;
            if (root.TryGetProperty("chat_template", out var ct))
                chat = ct.ValueKind switch
                {
                    JsonValueKind.String => ct.GetString(),
                    // A list of named templates: the one named "default", else the first.
                    JsonValueKind.Array => ct.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.Object && e.TryGetProperty("template", out _))
                        .OrderBy(e => e.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default" ? 0 : 1)
                        .Select(e => e.GetProperty("template").GetString()).FirstOrDefault(),
                    JsonValueKind.Null => null,
                    _ => throw new VocabularyFormatException(path, null, "chat_template", "expected a string or a list of {name, template}."),
                };
            var flags = new Dictionary<string, bool?>();
            foreach (var key in new[] { "do_lower_case", "strip_accents", "tokenize_chinese_chars", "add_prefix_space" })
                if (root.TryGetProperty(key, out var f))
                    flags[key] = f.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        JsonValueKind.Null => null,
                        _ => throw new VocabularyFormatException(path, null, key, "expected true, false or null."),
                    };
            string? cls = root.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String ? tc.GetString() : null;
            return new Config(special, max, chat, cls, flags);
        }
    }
}
