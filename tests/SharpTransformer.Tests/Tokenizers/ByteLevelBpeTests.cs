using System.Text;
using FsCheck.Xunit;
using SharpTransformer.Tokenizers;
using static SharpTransformer.Tests.Tokenizers.TokenizerTestData;

namespace SharpTransformer.Tests.Tokenizers;

public class ByteLevelBpeTests
{
    private static string FromCodePoints(int[]? codePoints)
    {
        var sb = new StringBuilder();
        foreach (int x in codePoints ?? [])
        {
            // Mostly small code points (ASCII, Latin, spaces), sometimes anything in Unicode except surrogates.
            int cp = (x & 3) != 0 ? Math.Abs(x % 0x3000) : Math.Abs(x % 0x110000);
            if (cp is >= 0xD800 and <= 0xDFFF) cp = 0x1F600 + (cp & 0xFF);
            sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    [Property(MaxTest = 1000)]
    public bool DecodeEncode_RoundTrips_WellFormedCodePoints(int[] codePoints)
    {
        var s = FromCodePoints(codePoints);
        return Gpt2.Decode(Gpt2.Encode(s)) == s;
    }

    [Property(MaxTest = 1000)]
    public bool DecodeEncode_RoundTrips_ArbitraryStringsMadeWellFormed(string? s)
    {
        s = WellFormed(s ?? "");
        return Gpt2.Decode(Gpt2.Encode(s)) == s;
    }

    [Property(MaxTest = 500)]
    public bool Encode_NeverThrows_OnAnyString_AndLoneSurrogatesDecodeAsReplacementCharacter(string? s)
    {
        s ??= "";
        var ids = Gpt2.Encode(s);
        var e = Gpt2.Encode(s, EncodeOptions.Default);
        return ids.SequenceEqual(e.Ids) && Gpt2.Decode(ids) == WellFormed(s);
    }

    [Fact]
    public void RoundTrip_Corpora()
    {
        var text = Shakespeare;
        Assert.Equal(text, Gpt2.Decode(Gpt2.Encode(text)));
        foreach (var s in Adversarial) Assert.Equal(WellFormed(s), Gpt2.Decode(Gpt2.Encode(s)));
    }

    [Fact]
    public void Offsets_CoverTheirCharacters()
    {
        foreach (var s in Adversarial.Append(Shakespeare[..5000]))
        {
            var e = Gpt2.Encode(s, EncodeOptions.Default);
            int pos = 0;
            for (int i = 0; i < e.Length; i++)
            {
                var span = e.Offsets[i];
                Assert.True(span.Start <= span.End && span.End <= s.Length, $"bad span {span} in {Gpt2ConformanceTests.Escape(s)}");
                // Spans are contiguous except where several tokens share one multi-byte character.
                Assert.True(span.Start == pos || (i > 0 && span.Start == e.Offsets[i - 1].Start) || span.Start < pos, $"gap before token {i} in {Gpt2ConformanceTests.Escape(s)}");
                pos = Math.Max(pos, span.End);
                // A token's text is the decoding of its bytes whenever it covers whole characters.
                var piece = Gpt2.Decode([e.Ids[i]]);
                if (!piece.Contains('\uFFFD')) Assert.Equal(piece, s[span.Start..span.End]);
            }
            Assert.Equal(s.Length, pos);
        }
    }

    [Fact]
    public void Offsets_OfASplitEmoji_AreTheWholeEmoji()
    {
        var s = "hi \U0001F9D1\u200D\U0001F33E!";
        var e = Gpt2.Encode(s, EncodeOptions.Default);
        Assert.Equal(new TokenSpan(0, 2), e.Offsets[0]);
        Assert.All(e.Offsets, o => Assert.True(o.End <= s.Length));
        Assert.Contains(e.Offsets, o => o.Start == 3 && o.End == 5); // bytes of U+1F9D1 share its two UTF-16 units
        Assert.Equal(1, e.WordIds.Max()); // two pre-tokenized words: "hi" and " 🧑‍🌾!"
    }

    [Fact]
    public void Decode_UnknownId_Throws_NamingTheId()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2.Decode([15496, 50257]));
        Assert.Contains("50257", ex.Message);
        Assert.Equal(50257, ex.ActualValue);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gpt2.Decode([-1]));
    }

    [Fact]
    public void MissingFiles_NameTheFile()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => ByteLevelBpeTokenizer.FromFiles("/nonexistent/encoder.json", VocabBpePath));
        Assert.Contains("/nonexistent/encoder.json", ex.Message);
        var ex2 = Assert.Throws<FileNotFoundException>(() => ByteLevelBpeTokenizer.FromFiles(EncoderJsonPath, "/nonexistent/vocab.bpe"));
        Assert.Contains("/nonexistent/vocab.bpe", ex2.Message);
    }

    [Fact]
    public void CorruptFiles_NameTheFileAndTheLineOrKey()
    {
        var dir = Directory.CreateTempSubdirectory("tok");
        try
        {
            string vocab = Path.Combine(dir.FullName, "vocab.json"), merges = Path.Combine(dir.FullName, "merges.txt");
            File.WriteAllText(vocab, "{\"a\": 0, \"b\": 1, \"ab\": 2}");
            File.WriteAllText(merges, "#version: 0.2\na b\nab\n");
            var ex = Assert.Throws<VocabularyFormatException>(() => ByteLevelBpeTokenizer.FromFiles(vocab, merges));
            Assert.Equal(3, ex.Line);
            Assert.Contains(merges, ex.Message);
            Assert.Contains("line 3", ex.Message);

            File.WriteAllText(merges, "#version: 0.2\na b\nb c\n");
            ex = Assert.Throws<VocabularyFormatException>(() => ByteLevelBpeTokenizer.FromFiles(vocab, merges));
            Assert.Equal(3, ex.Line);
            Assert.Equal("c", ex.Key);

            File.WriteAllText(vocab, "{\"a\": 0,\n \"b\": \"one\"}");
            ex = Assert.Throws<VocabularyFormatException>(() => ByteLevelBpeTokenizer.FromFiles(vocab, merges));
            Assert.Equal("b", ex.Key);
            Assert.Contains(vocab, ex.Message);

            File.WriteAllText(vocab, "{\"a\": 0,\n\n \"b\": 1,,}");
            ex = Assert.Throws<VocabularyFormatException>(() => ByteLevelBpeTokenizer.FromFiles(vocab, merges));
            Assert.Equal(3, ex.Line);

            var tik = Path.Combine(dir.FullName, "x.tiktoken");
            File.WriteAllText(tik, "IQ== 0\nIg== 1\n!!notbase64 2\n");
            ex = Assert.Throws<VocabularyFormatException>(() => ByteLevelBpeTokenizer.FromTiktoken(tik));
            Assert.Equal(3, ex.Line);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Lowercase_LowersBeforeEncoding()
    {
        var lower = ByteLevelBpeTokenizer.FromFiles(EncoderJsonPath, VocabBpePath, lowercase: true);
        Assert.Equal(Gpt2.Encode("hello world"), lower.Encode("HeLLo WORLD"));
    }
}
