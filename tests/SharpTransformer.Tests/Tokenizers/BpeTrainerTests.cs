using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using SharpTransformer.Tokenizers;
using Xunit.Abstractions;
using static SharpTransformer.Tests.Tokenizers.TokenizerTestData;

namespace SharpTransformer.Tests.Tokenizers;

public class BpeTrainerTests(ITestOutputHelper output)
{
    /// <summary>
    /// The textbook trainer: recount every pair of every word after each merge, take the most frequent (smallest ids on a
    /// tie), merge it everywhere. Slow, obviously right; the real trainer must make the same merges.
    /// </summary>
    private static List<(string, string)> NaiveMerges(string corpus, int vocabSize)
    {
        var counts = new Dictionary<string, long>();
        for (int i = 0; i < corpus.Length;)
        {
            int j = NextPiece(corpus, i);
            counts[corpus[i..j]] = counts.GetValueOrDefault(corpus[i..j]) + 1;
            i = j;
        }
        var order = ByteLevel.Gpt2ByteOrder();
        var tokens = order.Select(b => ByteLevel.ByteToChar(b).ToString()).ToList();
        var idOf = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var words = counts.Select(kv => (Sym: System.Text.Encoding.UTF8.GetBytes(kv.Key).Select(b => idOf[ByteLevel.ByteToChar(b).ToString()]).ToList(), Count: kv.Value)).ToList();
        var merges = new List<(string, string)>();
        while (tokens.Count < vocabSize - 1)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (sym, c) in words)
                for (int i = 0; i + 1 < sym.Count; i++) pairs[(sym[i], sym[i + 1])] = pairs.GetValueOrDefault((sym[i], sym[i + 1])) + c;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First().Key;
            var merged = tokens[best.Item1] + tokens[best.Item2];
            merges.Add((tokens[best.Item1], tokens[best.Item2]));
            if (!idOf.TryGetValue(merged, out int id)) { id = tokens.Count; tokens.Add(merged); idOf[merged] = id; }
            foreach (var (sym, _) in words)
                for (int i = 0; i + 1 < sym.Count; i++)
                    if (sym[i] == best.Item1 && sym[i + 1] == best.Item2) { sym[i] = id; sym.RemoveAt(i + 1); }
        }
        return merges;
    }

    private static int NextPiece(string s, int i)
    {
        var m = Regex.Match(s[i..], Gpt2Pattern);
        return i + m.Length;
    }

    [Fact]
    public void Trainer_MakesTheSameMergesAsANaiveRecount()
    {
        var corpus = Shakespeare[..20_000] + " aaaaaaa abababab \t\t  \u00E9\u00E9 \U0001F600\U0001F600";
        var trained = BpeTrainer.Train([corpus], new BpeTrainerOptions(700));
        var expected = NaiveMerges(corpus, 700);
        Assert.Equal(expected, trained.Merges().ToList());
        Assert.Equal(700, trained.VocabSize);
        Assert.Equal(699, trained.TokenToId("<|endoftext|>"));
    }

    [Fact]
    public void Trainer_8000Tokens_OnTinyShakespeare_Within10Seconds_AndReloadsIdentically_InOursAndMicrosoftML()
    {
        var text = Shakespeare;
        var sw = Stopwatch.StartNew();
        var trained = BpeTrainer.Train([text], new BpeTrainerOptions(8000));
        sw.Stop();
        output.WriteLine($"BPE trainer, 8000 tokens on Tiny Shakespeare: {sw.Elapsed.TotalSeconds:F2} s");
        Assert.True(sw.Elapsed.TotalSeconds <= 10, $"training took {sw.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(8000, trained.VocabSize);
        Assert.Equal(8000 - 256 - 1, trained.MergeCount);

        var dir = Directory.CreateTempSubdirectory("bpe");
        try
        {
            trained.Save(dir.FullName);
            string vocab = Path.Combine(dir.FullName, "vocab.json"), merges = Path.Combine(dir.FullName, "merges.txt");
            Assert.StartsWith("#version: 0.2\n", File.ReadAllText(merges));
            var ours = ByteLevelBpeTokenizer.FromFiles(vocab, merges);
            var ml = BpeTokenizer.Create(new BpeOptions(vocab, merges)
            {
                ByteLevel = true,
                PreTokenizer = new RegexPreTokenizer(new Regex(Gpt2Pattern, RegexOptions.Compiled), null),
            });
            var ids = trained.Encode(text);
            Assert.Equal(ids, ours.Encode(text));
            Assert.True(ids.Length < 0.8 * text.Length, $"{ids.Length} tokens for {text.Length} characters");
            foreach (var line in text.Split('\n').Concat(Sst2Sentences().Take(20000)).Concat(Adversarial.Select(WellFormed)))
            {
                var expected = ml.EncodeToIds(line);
                var actual = ours.Encode(line);
                Assert.True(expected.SequenceEqual(actual), $"{Gpt2ConformanceTests.Escape(line)}: ML {string.Join(' ', expected)} vs ours {string.Join(' ', actual)}");
            }
            Assert.Equal(text, ours.Decode(ids));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Trainer_RejectsTooSmallVocabulary_AndHonoursMinFrequency()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["abc"], new BpeTrainerOptions(200)));
        var t = BpeTrainer.Train(["ab ab ab cd"], new BpeTrainerOptions(1000) { MinFrequency = 2 });
        Assert.Equal([("a", "b"), ("Ġ", "ab")], t.Merges().ToList()); // (c, d) and (Ġ, c) occur once
        Assert.Equal(3, t.Encode("ab ab ab").Length);
    }
}
