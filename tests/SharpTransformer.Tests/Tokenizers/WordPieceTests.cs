using System.Text.Json;
using BertTokenizer = Microsoft.ML.Tokenizers.BertTokenizer;
using BertOptions = Microsoft.ML.Tokenizers.BertOptions;
using PreTokenizer = Microsoft.ML.Tokenizers.PreTokenizer;
using SharpTransformer.Tokenizers;
using static SharpTransformer.Tests.Tokenizers.TokenizerTestData;

namespace SharpTransformer.Tests.Tokenizers;

public class WordPieceTests
{
    internal static string Fixtures
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var p = Path.Combine(dir.FullName, "tests", "SharpTransformer.Tests", "Tokenizers", "Fixtures");
                if (Directory.Exists(p)) return p;
            }
            throw new DirectoryNotFoundException("tests/SharpTransformer.Tests/Tokenizers/Fixtures");
        }
    }

    internal static string VocabPath => Path.Combine(Fixtures, "wordpiece-vocab.txt");

    private static readonly Lazy<WordPieceTokenizer> s_uncased = new(() => WordPieceTokenizer.FromVocabFile(VocabPath));
    private static WordPieceTokenizer Uncased => s_uncased.Value;

    private sealed record HfCase(bool lowercase, string text, int[] ids, int[][] offsets, string decoded);
    private sealed record HfFixture(string hf_version, HfCase[] cases);

    /// <summary>Converts Hugging Face's offsets (in code points) to UTF-16 offsets.</summary>
    private static TokenSpan ToUtf16(string s, int[] o)
    {
        var map = new List<int> { 0 };
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            map.Add(i + 1);
        }
        return new TokenSpan(map[o[0]], map[o[1]]);
    }

    [Fact]
    public void MatchesHuggingFaceTokenizers_IdsOffsetsAndDecoding_OnAdversarialText()
    {
        var fixture = JsonSerializer.Deserialize<HfFixture>(File.ReadAllText(Path.Combine(Fixtures, "wordpiece-hf-expected.json")))!;
        Assert.True(fixture.cases.Length > 1000);
        var cased = WordPieceTokenizer.FromVocabFile(VocabPath, new BertNormalization(Lowercase: false));
        foreach (var c in fixture.cases)
        {
            var tok = c.lowercase ? Uncased : cased;
            var e = tok.Encode(c.text, EncodeOptions.Default);
            string what = $"{(c.lowercase ? "uncased" : "cased")} {Gpt2ConformanceTests.Escape(c.text)}";
            Assert.True(c.ids.SequenceEqual(e.Ids), $"{what}: HF {string.Join(' ', c.ids)} vs ours {string.Join(' ', e.Ids)}");
            for (int i = 0; i < c.ids.Length; i++)
                Assert.True(ToUtf16(c.text, c.offsets[i]) == e.Offsets[i], $"{what}: token {i} HF offsets {ToUtf16(c.text, c.offsets[i])} vs ours {e.Offsets[i]}");
            Assert.Equal(c.decoded, tok.Decode(e.Ids));
        }
    }

    /// <summary>
    /// BERT's basic split (white space, then each punctuation character alone), written the plain way, for
    /// Microsoft.ML.Tokenizers' BertTokenizer, whose default pre-tokenizer <c>\w+|[\p{P}]</c> drops ASCII symbols
    /// such as <c>$ + = `</c> that BERT keeps as tokens.
    /// </summary>
    private sealed class BertReferencePreTokenizer : PreTokenizer
    {
        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
        {
            var result = new List<(int, int)>();
            int start = -1;
            for (int i = 0; i <= text.Length; i++)
            {
                bool end = i == text.Length, space = !end && char.IsWhiteSpace(text[i]), punct = !end && IsPunct(text[i]);
                if (end || space || punct)
                {
                    if (start >= 0) result.Add((start, i - start));
                    start = -1;
                    if (punct) result.Add((i, 1));
                }
                else if (start < 0) start = i;
            }
            return result;
        }

        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

        private static bool IsPunct(char c) => c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~' || char.IsPunctuation(c);
    }

    [Fact]
    public void MatchesMicrosoftMLBertTokenizer_OnAllOfTinyShakespeareAndSst2()
    {
        // Accents are kept on both sides: Microsoft.ML's accent stripping needs ICU (it is a no-op under invariant
        // globalization); ours is checked against Hugging Face above.
        var ml = BertTokenizer.Create(VocabPath, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = false, PreTokenizer = new BertReferencePreTokenizer() });
        var ours = WordPieceTokenizer.FromVocabFile(VocabPath, new BertNormalization(Lowercase: true, StripAccents: false));
        int n = 0;
        foreach (var line in Shakespeare.Split('\n').Concat(Sst2Sentences()))
        {
            var expected = ml.EncodeToIds(line);
            var actual = ours.Encode(line);
            Assert.True(expected.SequenceEqual(actual), $"{Gpt2ConformanceTests.Escape(line)}: ML {string.Join(' ', expected)} vs ours {string.Join(' ', actual)}");
            n++;
        }
        Assert.Equal(40001 + 60614 + 6735, n);
    }

    [Fact]
    public void MatchesMicrosoftMLBertTokenizer_WithItsDefaults_WhereItsPreTokenizerAgreesWithBert()
    {
        // Its default pre-tokenizer (\w+|[\p{P}]) drops symbols ($ + = ` ...) and keeps '_' inside words, so lines with
        // those are left out here (BERT's treatment of them is checked against Hugging Face above).
        var ml = BertTokenizer.Create(VocabPath, new BertOptions { LowerCaseBeforeTokenization = true });
        int n = 0;
        foreach (var line in Shakespeare.Split('\n').Concat(Sst2Sentences()))
        {
            if (line.Any(c => c > 127 || (char.IsSymbol(c) || c == '_'))) continue;
            var expected = ml.EncodeToIds(line);
            var actual = Uncased.Encode(line);
            Assert.True(expected.SequenceEqual(actual), $"{Gpt2ConformanceTests.Escape(line)}: ML {string.Join(' ', expected)} vs ours {string.Join(' ', actual)}");
            n++;
        }
        Assert.True(n > 100_000, $"only {n} lines compared");
    }

    [Fact]
    public void BertTemplate_Pairs_TypeIds_Masks_Offsets()
    {
        var e = Uncased.EncodePair("The king!", "Hello, world", EncodeOptions.Default);
        int cls = Uncased.ClsId!.Value, sep = Uncased.SepId!.Value;
        Assert.Equal(cls, e.Ids[0]);
        Assert.Equal(sep, e.Ids[^1]);
        int firstSep = Array.IndexOf(e.Ids, sep);
        Assert.Equal(Uncased.Encode("The king!")[1..^1], e.Ids[1..firstSep]);
        Assert.Equal(Uncased.Encode("Hello, world")[1..^1], e.Ids[(firstSep + 1)..^1]);
        Assert.All(e.TypeIds[..(firstSep + 1)], t => Assert.Equal(0, t));
        Assert.All(e.TypeIds[(firstSep + 1)..], t => Assert.Equal(1, t));
        Assert.All(e.AttentionMask, m => Assert.Equal(1, m));
        Assert.Equal([1, 0, 0, 0], e.SpecialTokensMask[..4]);
        Assert.Equal(new TokenSpan(0, 0), e.Offsets[0]);
        Assert.Equal(new TokenSpan(0, 3), e.Offsets[1]); // "The" in the first text
        Assert.Equal(0, e.SequenceIds[1]);
        Assert.Equal(1, e.SequenceIds[firstSep + 1]);
        Assert.Equal(0, e.Offsets[firstSep + 1].Start); // "Hello" (or its first piece) in the second text
        Assert.Equal(12, e.Offsets[^2].End); // "world" ends the second text
    }

    [Fact]
    public void LongWords_AreUnknown_AndEveryWordPieceIsInTheVocabulary()
    {
        int unk = Uncased.UnkId!.Value;
        var word100 = string.Concat(Enumerable.Repeat("ab", 50));
        Assert.DoesNotContain(unk, Uncased.Encode(word100));
        Assert.Equal([Uncased.ClsId!.Value, unk, Uncased.SepId!.Value], Uncased.Encode(word100 + "a"));
        Assert.Equal([Uncased.ClsId!.Value, unk, Uncased.SepId!.Value], Uncased.Encode("\u4E00\u4E01"[..1].Replace("\u4E00", "\U0001F600")));
        var e = Uncased.Encode("unbelievably", EncodeOptions.Default);
        Assert.StartsWith("##", Uncased.IdToToken(e.Ids[2]));
    }

    [Fact]
    public void VocabFileErrors_NameTheFileAndLine()
    {
        var dir = Directory.CreateTempSubdirectory("wp");
        try
        {
            var p = Path.Combine(dir.FullName, "vocab.txt");
            File.WriteAllText(p, "[PAD]\n[UNK]\nhello\nworld\nhello\n");
            var ex = Assert.Throws<VocabularyFormatException>(() => WordPieceTokenizer.FromVocabFile(p));
            Assert.Equal(5, ex.Line);
            Assert.Contains(p, ex.Message);
            File.WriteAllBytes(p, [.. "[UNK]\nok\n"u8, 0xC3, 0x28, (byte)'\n']);
            ex = Assert.Throws<VocabularyFormatException>(() => WordPieceTokenizer.FromVocabFile(p));
            Assert.Equal(3, ex.Line);
            File.WriteAllText(p, "[PAD]\nhello\n");
            ex = Assert.Throws<VocabularyFormatException>(() => WordPieceTokenizer.FromVocabFile(p));
            Assert.Equal("[UNK]", ex.Key);
            Assert.Throws<FileNotFoundException>(() => WordPieceTokenizer.FromVocabFile(Path.Combine(dir.FullName, "missing.txt")));
            var tok = WordPieceTokenizer.FromVocabFile(VocabPath);
            Assert.Contains("99999", Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([1, 99999])).Message);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Trainer_LearnsAVocabularyThatCoversItsCorpus_AndSavesVocabTxt()
    {
        var corpus = Shakespeare[..100_000];
        var tok = WordPieceTrainer.Train([corpus], new WordPieceTrainerOptions(800));
        Assert.Equal(800, tok.VocabSize);
        Assert.Equal(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], tok.Vocabulary.Take(5));
        Assert.DoesNotContain(tok.UnkId!.Value, tok.Encode(corpus));
        Assert.True(tok.Encode(corpus).Length < corpus.Length / 3);
        Assert.Contains("##s", tok.Vocabulary);
        var dir = Directory.CreateTempSubdirectory("wp");
        try
        {
            tok.Save(dir.FullName);
            var back = WordPieceTokenizer.FromVocabFile(Path.Combine(dir.FullName, "vocab.txt"));
            var ml = BertTokenizer.Create(Path.Combine(dir.FullName, "vocab.txt"), new BertOptions { LowerCaseBeforeTokenization = true });
            foreach (var line in corpus.Split('\n').Where(l => !l.Any(c => char.IsSymbol(c) || c == '_')))
            {
                Assert.Equal(tok.Encode(line), back.Encode(line));
                Assert.Equal(ml.EncodeToIds(line), back.Encode(line));
            }
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Normalization_HandlesAccentsCjkControlsAndCase()
    {
        var tok = WordPieceTokenizer.FromVocabulary(["[UNK]", "[CLS]", "[SEP]", "cafe", "deja", "\u4E2D", "\u6587", "ab", "##c", "!", "i", "\u0307", "stanbul", "##stanbul", "caf", "##\u00E9"],
            new BertNormalization());
        string Tokens(string s) => string.Join(' ', tok.Encode(s).Select(id => tok.IdToToken(id)));
        Assert.Equal("[CLS] cafe deja [SEP]", Tokens("Caf\u00E9 D\u00E9j\u00E0"));
        Assert.Equal("[CLS] cafe [SEP]", Tokens("Cafe\u0301"));
        Assert.Equal("[CLS] \u4E2D \u6587 [SEP]", Tokens("\u4E2D\u6587"));
        Assert.Equal("[CLS] ab ##c ! [SEP]", Tokens("a\u0000b\u200Bc\u0007!"));
        Assert.Equal("[CLS] ab [UNK] [SEP]", Tokens("ab\tAbCd"));
        Assert.Equal("[CLS] i ##stanbul [SEP]", Tokens("\u0130stanbul"));
        var cased = WordPieceTokenizer.FromVocabulary(tok.Vocabulary.Select(t => t!), new BertNormalization(Lowercase: false));
        Assert.Equal("[CLS] caf ##\u00E9 [SEP]", string.Join(' ', cased.Encode("caf\u00E9").Select(id => cased.IdToToken(id))));
    }
}
