using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SharpTransformer.Tokenizers;

namespace SharpTransformer.Tests.Tokenizers;

/// <summary>Shared data and reference tokenizers (Microsoft.ML.Tokenizers is a test-only oracle).</summary>
internal static class TokenizerTestData
{
    private static readonly Lazy<string> s_shared = new(FindShared);
    private static readonly Lazy<ByteLevelBpeTokenizer> s_gpt2 = new(() => ByteLevelBpeTokenizer.FromFiles(EncoderJsonPath, VocabBpePath));
    private static readonly Lazy<TiktokenTokenizer> s_oraclePlain = new(() => TiktokenTokenizer.Create(
        new MemoryStream(Gpt2Tiktoken()), new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), null), normalizer: null, specialTokens: null));

    /// <summary>GPT-2's pre-tokenization pattern, as tiktoken's r50k_base.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public static string Shared => s_shared.Value;
    public static string EncoderJsonPath => Path.Combine(Shared, "data", "gpt2", "encoder.json");
    public static string VocabBpePath => Path.Combine(Shared, "data", "gpt2", "vocab.bpe");
    public static string ShakespearePath => Path.Combine(Shared, "data", "tinyshakespeare", "input.txt");
    public static string Shakespeare => File.ReadAllText(ShakespearePath);

    /// <summary>Our GPT-2 tokenizer, loaded once.</summary>
    public static ByteLevelBpeTokenizer Gpt2 => s_gpt2.Value;

    /// <summary>
    /// tiktoken's algorithm (Microsoft.ML.Tokenizers' TiktokenTokenizer) over GPT-2's ranks with GPT-2's pattern and no
    /// special tokens, so &lt;|endoftext|&gt; is plain text. (Its special-token variant, CreateForModel("gpt2"), was seen
    /// to encode &lt;|endoftext|&gt; as plain text in a few calls when other tests ran alongside, so special tokens are
    /// checked by splitting the text around them instead.)
    /// </summary>
    public static TiktokenTokenizer OraclePlain => s_oraclePlain.Value;

    /// <summary>The SST-2 sentences of train.tsv and dev.tsv (header skipped, label column removed).</summary>
    public static IEnumerable<string> Sst2Sentences()
    {
        foreach (var file in new[] { "train.tsv", "dev.tsv" })
        {
            bool header = true;
            foreach (var line in File.ReadLines(Path.Combine(Shared, "data", "sst2", file)))
            {
                if (header) { header = false; continue; }
                int tab = line.LastIndexOf('\t');
                yield return tab < 0 ? line : line[..tab];
            }
        }
    }

    /// <summary>GPT-2's ranks in tiktoken's format (base64 of the token's bytes, a space, the id), made from encoder.json.</summary>
    public static byte[] Gpt2Tiktoken()
    {
        var vocab = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(EncoderJsonPath))!;
        var sb = new StringBuilder();
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value))
        {
            if (token == "<|endoftext|>") continue;
            var bytes = token.Select(c => (byte)ByteLevel.CharToByte(c)).ToArray();
            sb.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id).Append('\n');
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Text that breaks naive tokenizers.</summary>
    public static readonly string[] Adversarial =
    [
        "", " ", "  ", "\t", "\n", "\r\n", "\r", "Hello world", "Hello  world", "Hello   world  ", "a\r\nb\r\n\r\nc\r\n", " \t \n x",
        "\t\tfoo", "   \n\n   bar", "x \u00A0y", new string(' ', 1000) + "x", new string('\t', 300), "x" + new string(' ', 5000),
        "x" + string.Concat(Enumerable.Repeat(" \t", 700)) + "y", new string('!', 3000),
        "I'm, you're, we've, they'll, she'd, it's, don't, can't", "I\u2019m you\u2019re it\u2019s don\u2019t", "'s 'S 'RE 're ''s ''' 'x '",
        "rock 'n' roll", "O'Neil's 'tis", "it's'll've", " 's", "''re", "'",
        "1234567890 12.5 3,000,000 \u00BD \u00B2 \u0663 \u096A \u3007 \u216B 1st 2nd", "abc123def 456ghi",
        "emoji \U0001F44D\U0001F3FD \U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466 \U0001F3F3\uFE0F\u200D\U0001F308 \u2764\uFE0F \U0001F1EB\U0001F1F7",
        "zero\u200Bwidth\u200Djoiner\u200Cnon", "combining e\u0301 a\u0308 n\u0303 \u0301alone \u0300\u0301\u0302",
        "Caf\u00E9 d\u00E9j\u00E0 vu na\u00EFve \u00C5ngstr\u00F6m Cafe\u0301", "\u4E2D\u6587\u5B57\u7B26\u6D4B\u8BD5\uFF0C\u4F60\u597D\uFF01",
        "\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8\u3001\u30AB\u30BF\u30AB\u30CA", "\uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8",
        "\U00020000\U00020001 astral CJK", "\U0001D407\U0001D41E\U0001D425\U0001D425\U0001D428 math bold", "a\U0001D400b 1\U0001D7CE2",
        "\u05E2\u05D1\u05E8\u05D9\u05EA \u05DE\u05D9\u05DE\u05D9\u05DF", "\u0627\u0644\u0639\u0631\u0628\u064A\u0629 \u0645\u0646",
        "\u202Eright-to-left override\u202C \u200F\u200E", "control \u0000 \u0001 \u001F \u007F \u0085 \u2028 \u2029 \u3000 \uFEFF end",
        "\u000B vertical \u000C formfeed \u001C\u001D\u001E\u001F", "lone \uD800 high", "lone \uDC00 low", "\uDFFF\uD800 reversed", "end \uD83D",
        "\uD83D", "a\uD83Db", "$100 + 20% = #hash @user ^caret `tick` ~tilde |pipe| \\back {curly} [square]",
        "snake_case_name __init__", "https://example.com/a?b=c&d=e#frag", "ALL CAPS SHOUTING", "MiXeD CaSe",
        "\u0130stanbul \u03A3\u038A\u03A3\u03A5\u03A6\u039F\u03A3 stra\u00DFe \u01C5", "\u00AD soft hyphen", "tab\tseparated\tvalues",
        "trailing space ", " leading space", string.Concat(Enumerable.Repeat("\U0001F642", 100)), "!!!???...",
        "\u2014\u2013-\u2010 dashes \u00ABquotes\u00BB \u201Elow\u201C", "\uFB01 ligature \u2122 \u2103 \u2460", "x\u3000y \u1680ogham",
        "\u00C4 vs A\u0308", "line1\nline2\n\nline4\n", "    indented code\n\tmore", "a.b,c;d:e!f?g", "\"quoted\" and 'single'",
        "A" + new string('a', 250), string.Concat(Enumerable.Repeat("ab", 200)), "supercalifragilisticexpialidocious antidisestablishmentarianism",
    ];

    /// <summary>Random strings over an alphabet of troublesome characters, reproducible by seed.</summary>
    public static IEnumerable<string> RandomStrings(int count, int seed, bool wellFormed)
    {
        string[] atoms =
        [
            "a", "Z", "\u00E9", "e\u0301", " ", "  ", "\t", "\n", "\r", "\r\n", "'", "\u2019", "s", "t", "re", "ve", "ll", "d", "m",
            "0", "7", "\u0663", "\u00BD", "!", ".", "?", "-", "_", "$", "`", "<|", "|>", "<|endoftext|>", "\U0001F600", "\u200D", "\uFE0F",
            "\u4E2D", "\U00020000", "\U0001D400", "\u05D0", "\u0627", "\u00A0", "\u3000", "\u2028", "\u0000", "\u001F", "\u0085",
            "\uFEFF", "\u0130", "\u03A3", "\uAC00", "\u3042", "\uFF01", "\u0301", "\u00AD", "\uFFFD",
        ];
        string[] broken = ["\uD800", "\uDC00", "\uDBFF"];
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 24);
            for (int k = 0; k < n; k++)
                sb.Append(!wellFormed && rng.Next(12) == 0 ? broken[rng.Next(broken.Length)] : atoms[rng.Next(atoms.Length)]);
            yield return sb.ToString();
        }
    }

    /// <summary>
    /// The text with each lone surrogate replaced by U+FFFD: what Hugging Face and tiktoken encode, and what we encode.
    /// (Microsoft.ML.Tokenizers instead encodes a lone surrogate's generalized UTF-8 bytes, ED A0 80 for U+D800, which
    /// decode to nothing valid.) U+FFFD and a surrogate are in the same pre-tokenizer class, so the pieces are unchanged.
    /// </summary>
    public static string WellFormed(string s)
    {
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) { i++; continue; }
            if (char.IsSurrogate(chars[i])) chars[i] = '\uFFFD';
        }
        return new string(chars);
    }

    private static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "..", "shared");
            if (File.Exists(Path.Combine(dir.FullName, "SharpTransformer.sln")) && Directory.Exists(candidate)) return Path.GetFullPath(candidate);
            if (Directory.Exists(Path.Combine(dir.FullName, "shared", "data", "gpt2"))) return Path.Combine(dir.FullName, "shared");
        }
        throw new DirectoryNotFoundException("Could not find ../shared (the shared data folder beside the repository).");
    }
}
