using System.Text.Json;
using SharpTransformer.Tokenizers;
using static SharpTransformer.Tests.Tokenizers.TokenizerTestData;

namespace SharpTransformer.Tests.Tokenizers;

/// <summary>Batching, padding, truncation, the char tokenizer and the tokenizer.json loader.</summary>
public class TokenizerPipelineTests
{
    private static readonly Lazy<WordPieceTokenizer> s_bert = new(() => WordPieceTokenizer.FromVocabFile(WordPieceTests.VocabPath));
    private static WordPieceTokenizer Bert => s_bert.Value;

    [Fact]
    public void Batch_PadsRightOrLeft_WithMasks()
    {
        string[] texts = ["to be", "or not to be, that is the question", "!"];
        var right = Bert.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest });
        int longest = texts.Max(t => Bert.Encode(t).Length);
        Assert.Equal(longest, right.SequenceLength);
        int pad = Bert.PadId!.Value;
        var first = Bert.Encode(texts[0]);
        Assert.Equal(first, right.Items[0].Ids[..first.Length]);
        Assert.All(right.Items[0].Ids[first.Length..], id => Assert.Equal(pad, id));
        Assert.Equal(Enumerable.Repeat(1, first.Length).Concat(Enumerable.Repeat(0, longest - first.Length)), right.Items[0].AttentionMask);
        Assert.Equal(3 * longest, right.Ids().Length);

        var left = Bert.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.Longest, PaddingSide = Side.Left });
        Assert.Equal(first, left.Items[0].Ids[(longest - first.Length)..]);
        Assert.Equal(0, left.Items[0].AttentionMask[0]);
        Assert.Equal(1, left.Items[0].AttentionMask[^1]);
        Assert.Equal(-1, left.Items[0].SequenceIds[0]);

        var fixedLen = Bert.EncodeBatch(texts, new EncodeOptions { Padding = PaddingStrategy.MaxLength, MaxLength = 32, PadToMultipleOf = 8 });
        Assert.All(fixedLen.Items, e => Assert.Equal(32, e.Length));
        var ragged = Bert.EncodeBatch(texts);
        Assert.Equal(-1, ragged.SequenceLength);
        Assert.Throws<InvalidOperationException>(() => ragged.Ids());
    }

    [Fact]
    public void Truncation_KeepsSpecialTokens_AndFollowsTheSide()
    {
        var text = "to be or not to be that is the question";
        var full = Bert.Encode(text);
        var right = Bert.Encode(text, new EncodeOptions { MaxLength = 5 });
        Assert.Equal([.. full[..4], full[^1]], right.Ids);
        var left = Bert.Encode(text, new EncodeOptions { MaxLength = 5, TruncationSide = Side.Left });
        Assert.Equal([full[0], .. full[^4..]], left.Ids);
        var none = Bert.Encode(text, new EncodeOptions { MaxLength = 5, Truncation = TruncationStrategy.None });
        Assert.Equal(full, none.Ids);
    }

    [Theory]
    [InlineData(3, 10, 8, 3, 5)]
    [InlineData(10, 3, 8, 5, 3)]
    [InlineData(10, 10, 8, 4, 4)]
    [InlineData(10, 10, 9, 4, 5)]
    [InlineData(2, 2, 8, 2, 2)]
    public void LongestFirst_SplitsLikeHuggingFace(int na, int nb, int budget, int ka, int kb) =>
        Assert.Equal((ka, kb), Tokenizer.LongestFirst(na, nb, budget));

    [Fact]
    public void PairTruncation_OnlySecond_AndErrors()
    {
        var e = Bert.EncodePair("a b c", "d e f g h i j k", new EncodeOptions { MaxLength = 8, Truncation = TruncationStrategy.OnlySecond });
        Assert.Equal(8, e.Length);
        Assert.Equal(3, e.SequenceIds.Count(s => s == 0));
        Assert.Throws<ArgumentException>(() => Bert.EncodePair("a b c d e f g h", "x", new EncodeOptions { MaxLength = 6, Truncation = TruncationStrategy.OnlySecond }));
        Assert.Throws<ArgumentException>(() => Bert.Encode("a", new EncodeOptions { MaxLength = 1 }));
    }

    [Fact]
    public void Gpt2_HasNoPadToken_UnlessGivenOne()
    {
        Assert.Throws<InvalidOperationException>(() => Gpt2.EncodeBatch(["a", "b c"], new EncodeOptions { Padding = PaddingStrategy.Longest }));
        var withPad = ByteLevelBpeTokenizer.FromFiles(EncoderJsonPath, VocabBpePath, SpecialTokens.Gpt2 with { Pad = SpecialTokens.EndOfText });
        var batch = withPad.EncodeBatch(["Hello", "Hello world, again"], new EncodeOptions { Padding = PaddingStrategy.Longest, PaddingSide = Side.Left });
        Assert.Equal([50256, 50256, 50256, 15496], batch.Items[0].Ids);
        Assert.Equal([0, 0, 0, 1], batch.Items[0].AttentionMask);
        var doc = Gpt2.Encode("Hello world", new EncodeOptions { PrependBos = true, AppendEos = true, MaxLength = 3 });
        Assert.Equal([50256, 15496, 50256], doc.Ids);
        Assert.Equal([1, 0, 1], doc.SpecialTokensMask);
        Assert.Throws<InvalidOperationException>(() => Bert.Encode("x", new EncodeOptions { PrependBos = true }));
        var pair = Gpt2.EncodePair("Hello", " world", EncodeOptions.Default);
        Assert.Equal([15496, 995], pair.Ids);
        Assert.Equal([0, 1], pair.TypeIds);
    }

    [Fact]
    public void BatchEncoding_IsParallelSafe_AndEqualsOneByOne()
    {
        var lines = Shakespeare.Split('\n').Take(3000).ToArray();
        var batch = Gpt2.EncodeBatch(lines);
        for (int i = 0; i < lines.Length; i++) Assert.Equal(Gpt2.Encode(lines[i]), batch.Items[i].Ids);
        var pairs = Bert.EncodeBatch(lines.Zip(lines.Skip(1)).ToList(), new EncodeOptions { Padding = PaddingStrategy.Longest });
        Assert.Equal(lines.Length - 1, pairs.Count);
        Assert.Equal(Bert.EncodePair(lines[5], lines[6]).Ids, pairs.Items[5].Ids[..Bert.EncodePair(lines[5], lines[6]).Length]);
    }

    [Fact]
    public void CharTokenizer_RoundTrips_AndMapsUnknownCharacters()
    {
        var text = Shakespeare;
        var tok = CharTokenizer.FromText(text);
        Assert.Equal(66, tok.VocabSize); // nanoGPT's 65 characters, plus U+FFFD for unknown ones
        Assert.Equal("\n", tok.IdToToken(0));
        var ids = tok.Encode(text);
        Assert.Equal(text.Length, ids.Length);
        Assert.Equal(text, tok.Decode(ids));
        var odd = tok.Encode("a\u00E9\U0001F600\uD800", EncodeOptions.Default);
        Assert.Equal([tok.TokenToId("a")!.Value, tok.UnkId!.Value, tok.UnkId!.Value, tok.UnkId!.Value], odd.Ids);
        Assert.Equal(new TokenSpan(2, 4), odd.Offsets[2]);
        var noUnk = CharTokenizer.FromText("abc", addUnknown: false);
        Assert.Equal([0, 2], noUnk.Encode("axc"));
        Assert.Throws<ArgumentException>(() => new CharTokenizer(["a", "ab"]));
    }

    [Fact]
    public void TokenizerJson_WordPiece_FromHuggingFace_MatchesVocabTxt()
    {
        var json = Tokenizer.FromFiles(Path.Combine(WordPieceTests.Fixtures, "wordpiece-tokenizer.json"));
        Assert.IsType<WordPieceTokenizer>(json);
        foreach (var s in Adversarial.Select(WellFormed).Concat(Shakespeare.Split('\n').Take(2000)))
            Assert.Equal(Bert.Encode(s), json.Encode(s));
    }

    [Fact]
    public void TokenizerJson_Gpt2_MatchesEncoderJson_AndRejectsBrokenFiles()
    {
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(EncoderJsonPath))!;
        var merges = File.ReadAllLines(VocabBpePath).Skip(1).Where(l => l.Length > 0).ToList();
        var doc = new
        {
            version = "1.0",
            added_tokens = new[] { new { id = 50256, content = "<|endoftext|>", single_word = false, lstrip = false, rstrip = false, normalized = true, special = true } },
            normalizer = (object?)null,
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false, trim_offsets = true, use_regex = true },
            post_processor = new { type = "ByteLevel", add_prefix_space = true, trim_offsets = false, use_regex = true },
            decoder = new { type = "ByteLevel" },
            model = new { type = "BPE", dropout = (object?)null, unk_token = (object?)null, vocab, merges },
        };
        var dir = Directory.CreateTempSubdirectory("tj");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, JsonSerializer.Serialize(doc));
            var tok = Tokenizer.FromFiles(path);
            Assert.Equal(50257, tok.VocabSize);
            foreach (var s in Adversarial.Concat(Shakespeare.Split('\n').Take(2000)))
                Assert.Equal(Gpt2.Encode(s), tok.Encode(s));

            File.WriteAllText(path, JsonSerializer.Serialize(doc with { model = doc.model with { merges = ["\u0120 t", "bad"] } }));
            var ex = Assert.Throws<VocabularyFormatException>(() => Tokenizer.FromFiles(path));
            Assert.Equal("model.merges[1]", ex.Key);
            File.WriteAllText(path, "{\"model\": {\"type\": \"BPE\"}}");
            ex = Assert.Throws<VocabularyFormatException>(() => Tokenizer.FromFiles(path));
            Assert.Equal("vocab", ex.Key);
            File.WriteAllText(path, "{\n\"model\": [1,\n2,,]}");
            ex = Assert.Throws<VocabularyFormatException>(() => Tokenizer.FromFiles(path));
            Assert.Equal(3, ex.Line);
            File.WriteAllText(path, "{\"model\": {\"type\": \"WordLevel\"}}");
            Assert.Throws<NotSupportedException>(() => Tokenizer.FromFiles(path));
        }
        finally { dir.Delete(true); }
    }
}
