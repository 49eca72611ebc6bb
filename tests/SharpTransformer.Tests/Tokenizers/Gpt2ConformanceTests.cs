using SharpTransformer.Tokenizers;
using static SharpTransformer.Tests.Tokenizers.TokenizerTestData;

namespace SharpTransformer.Tests.Tokenizers;

/// <summary>Our GPT-2 tokenizer against tiktoken's algorithm over GPT-2's ranks (Microsoft.ML.Tokenizers).</summary>
public class Gpt2ConformanceTests
{
    private static void AssertSame(string text, IReadOnlyList<int> expected, int[] actual, string what)
    {
        if (expected.SequenceEqual(actual)) return;
        int at = 0;
        while (at < Math.Min(expected.Count, actual.Length) && expected[at] == actual[at]) at++;
        Assert.Fail($"{what}: ids differ at token {at} for text {Escape(text)}\nexpected {string.Join(' ', expected.Skip(Math.Max(0, at - 3)).Take(10))}\nactual   {string.Join(' ', actual.Skip(Math.Max(0, at - 3)).Take(10))}");
    }

    /// <summary>The reference with &lt;|endoftext|&gt; allowed: each segment between them encoded alone, joined by 50256.</summary>
    private static List<int> WithSpecial(string s)
    {
        var ids = new List<int>();
        var parts = s.Split("<|endoftext|>");
        for (int i = 0; i < parts.Length; i++)
        {
            if (i > 0) ids.Add(50256);
            ids.AddRange(OraclePlain.EncodeToIds(parts[i]));
        }
        return ids;
    }

    internal static string Escape(string s) =>
        string.Concat(s.Take(200).Select(c => c is >= ' ' and < '\u007F' ? c.ToString() : $"\\u{(int)c:X4}")) + (s.Length > 200 ? "…" : "");

    [Fact]
    public void TinyShakespeare_WholeFileAndEveryLine_MatchTiktoken()
    {
        var text = Shakespeare;
        var ours = Gpt2.Encode(text);
        AssertSame("(whole file)", OraclePlain.EncodeToIds(text), ours, "whole file");
        Assert.Equal(338025, ours.Length); // the well-known GPT-2 token count of Tiny Shakespeare
        int lines = 0;
        foreach (var line in text.Split('\n'))
        {
            AssertSame(line, OraclePlain.EncodeToIds(line), Gpt2.Encode(line), "line");
            lines++;
        }
        Assert.Equal(40001, lines);
    }

    [Fact]
    public void Sst2_EverySentence_MatchesTiktoken()
    {
        int n = 0;
        foreach (var sentence in Sst2Sentences())
        {
            AssertSame(sentence, OraclePlain.EncodeToIds(sentence), Gpt2.Encode(sentence), "SST-2");
            n++;
        }
        Assert.Equal(60614 + 6735, n);
    }

    [Fact]
    public void AdversarialText_MatchesTiktoken()
    {
        foreach (var s in Adversarial)
        {
            AssertSame(s, OraclePlain.EncodeToIds(WellFormed(s)), Gpt2.Encode(s), "plain");
            AssertSame(s, WithSpecial(WellFormed(s)), Gpt2.Encode(s, new EncodeOptions { AllowSpecialTokensInText = true }).Ids, "special tokens allowed");
        }
    }

    [Fact]
    public void RandomText_IncludingLoneSurrogates_MatchesTiktoken()
    {
        foreach (var s in RandomStrings(3000, seed: 1234, wellFormed: false))
        {
            AssertSame(s, OraclePlain.EncodeToIds(WellFormed(s)), Gpt2.Encode(s), "plain");
            AssertSame(s, WithSpecial(WellFormed(s)), Gpt2.Encode(s, new EncodeOptions { AllowSpecialTokensInText = true }).Ids, "special tokens allowed");
        }
    }

    private sealed record TiktokenCase(string text, int[] ids);
    private sealed record TiktokenFixture(string tiktoken, string tokenizers, TiktokenCase[] cases);

    /// <summary>Ids recorded from the real tiktoken (Rust, through its npm WASM build), with which Hugging Face agreed.</summary>
    [Fact]
    public void MatchesRecordedTiktokenAndHuggingFaceIds()
    {
        var path = Path.Combine(WordPieceTests.Fixtures, "gpt2-tiktoken-expected.json");
        var fixture = System.Text.Json.JsonSerializer.Deserialize<TiktokenFixture>(File.ReadAllText(path))!;
        Assert.True(fixture.cases.Length > 2000);
        foreach (var c in fixture.cases) AssertSame(c.text, c.ids, Gpt2.Encode(c.text), "tiktoken");
    }

    [Fact]
    public void EndOfText_IsPlainTextUnlessAllowed()
    {
        var plain = Gpt2.Encode("a<|endoftext|>b");
        Assert.DoesNotContain(50256, plain);
        Assert.Equal("a<|endoftext|>b", Gpt2.Decode(plain));
        var allowed = Gpt2.Encode("a<|endoftext|>b", new EncodeOptions { AllowSpecialTokensInText = true });
        Assert.Equal([64, 50256, 65], allowed.Ids);
        Assert.Equal(new TokenSpan(1, 14), allowed.Offsets[1]);
        Assert.Equal("ab", Gpt2.Decode(allowed.Ids, skipSpecialTokens: true));
        Assert.Equal("a<|endoftext|>b", Gpt2.Decode(allowed.Ids));
    }

    [Fact]
    public void KnownIds()
    {
        Assert.Equal([15496, 995], Gpt2.Encode("Hello world"));
        Assert.Equal(50257, Gpt2.VocabSize);
        Assert.Equal(50000, Gpt2.MergeCount);
        Assert.Equal(50256, Gpt2.EosId);
        Assert.Null(Gpt2.PadId);
    }

    [Fact]
    public void TiktokenFile_LoadsToTheSameTokenizer()
    {
        var dir = Directory.CreateTempSubdirectory("tok");
        try
        {
            var path = Path.Combine(dir.FullName, "gpt2.tiktoken");
            File.WriteAllBytes(path, Gpt2Tiktoken());
            var tik = ByteLevelBpeTokenizer.FromTiktoken(path);
            Assert.Equal(50257, tik.VocabSize);
            foreach (var s in Adversarial.Concat(Shakespeare.Split('\n').Take(3000)))
                Assert.Equal(Gpt2.Encode(s), tik.Encode(s));
            Assert.Equal(50256, tik.Encode("<|endoftext|>", new EncodeOptions { AllowSpecialTokensInText = true }).Ids.Single());
        }
        finally { dir.Delete(true); }
    }
}
