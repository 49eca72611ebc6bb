using SharpTransformer.Models.Tagging;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Tagging;

/// <summary>Word features, casing, padding invariance, training with and without a CRF, and save/restore of <see cref="WordCharTagger"/>.</summary>
public sealed class WordCharTaggerTests
{
    private static readonly string[] Tags = ["O", "B-X", "I-X"];

    [Theory]
    [InlineData("the", 0)]
    [InlineData("EU", 1)]
    [InlineData("Peter", 2)]
    [InlineData("McDonald", 3)]
    [InlineData("iPhone", 3)]
    [InlineData("1996-08-22", 4)]
    [InlineData(",", 5)]
    [InlineData("", 5)]
    public void CasingCategories(string word, int category) => Assert.Equal(category, WordCasing.Of(word));

    private static readonly string[][] Corpus =
    [
        ["Peter", "Blackburn", "met", "the", "EU", "in", "Brussels", "."],
        ["The", "McDonald", "family", "sold", "1,000", "cows", "on", "1996-08-22", "."],
        ["german", "beef", "is", "fine"],
    ];

    [Fact]
    public void FeaturizerJsonRoundTripKeepsEveryId()
    {
        var f = WordFeaturizer.Build(Corpus, maxChars: 7);
        var g = WordFeaturizer.FromJson(f.ToJson());
        Assert.Equal(f.WordCount, g.WordCount);
        Assert.Equal(f.CharCount, g.CharCount);
        Assert.Equal(7, g.MaxChars);
        foreach (var w in Corpus.SelectMany(s => s).Append("unseen").Append("PETER"))
        {
            Assert.Equal(f.WordId(w), g.WordId(w));
            foreach (char c in w) Assert.Equal(f.CharId(c), g.CharId(c));
        }
        // Known words are lower-cased and get ids from 2; the vocabulary covers exactly the distinct lower-cased words.
        var distinct = Corpus.SelectMany(s => s).Select(w => w.ToLowerInvariant()).Distinct().ToList();
        Assert.Equal(distinct.Count + 2, f.WordCount);
        Assert.Equal(distinct.Count, distinct.Select(f.WordId).Distinct().Count());
        Assert.All(distinct, w => Assert.InRange(f.WordId(w), 2, f.WordCount - 1));
        Assert.Equal(f.WordId("the"), f.WordId("The"));
    }

    [Fact]
    public void UnknownWordsAndCharactersAreOne()
    {
        var f = WordFeaturizer.Build(Corpus, minCount: 2);
        Assert.Equal(1, f.WordId("zebra"));
        Assert.Equal(1, f.WordId("Peter"));       // seen once: below minCount
        Assert.NotEqual(1, f.WordId("the"));      // "the" and "The"
        Assert.Equal(1, f.CharId('¤'));
        Assert.NotEqual(1, f.CharId('P'));
    }

    [Fact]
    public void BatchLayoutFollowsTheFeaturizer()
    {
        var f = WordFeaturizer.Build(Corpus, maxChars: 4);
        var batch = WordBatch.Create(f, [["Peter", "met"], ["EU"]]);
        Assert.Equal([2, 1], batch.Lengths);
        int t = batch.Words.Size(1), l = batch.Chars.Size(1);   // may be rounded up past the longest sentence / word
        Assert.True(t >= 2 && l >= 6, $"T {t}, L {l}");          // 2 words; 2 + min(5, 4) characters
        Assert.Equal([2, t], batch.Words.Shape.ToArray());
        Assert.Equal([2 * t, l], batch.Chars.Shape.ToArray());
        var words = batch.Words.ToIntArray();
        var casing = batch.Casing.ToIntArray();
        var mask = batch.Mask.ToArray();
        Assert.Equal([f.WordId("peter"), f.WordId("met")], words[..2]);
        Assert.Equal(f.WordId("eu"), words[t]);
        Assert.Equal([2, 0], casing[..2]);
        Assert.Equal(1, casing[t]);
        for (int k = 0; k < 2 * t; k++)
        {
            bool real = k < 2 || k == t;
            Assert.Equal(real ? 1f : 0f, mask[k]);
            if (!real) Assert.Equal(0, words[k]);
        }
        var chars = batch.Chars.ToIntArray();
        int[] peter = [0, f.CharId('P'), f.CharId('e'), f.CharId('t'), f.CharId('e'), .. Enumerable.Repeat(0, l - 5)];
        Assert.Equal(peter, chars[..l]);                        // cut to 4 characters, one padding on each side
        Assert.All(chars[((t + 1) * l)..], c => Assert.Equal(0, c));   // padded words have no characters
    }

    private static WordCharTaggerConfig SmallConfig(WordFeaturizer f, bool crf, float dropout = 0.1f) =>
        new(f.WordCount, f.CharCount, Tags.Length, WordDim: 16, CharDim: 8, CharFilters: 12, CaseDim: 4, Dim: 32, Layers: 1, Heads: 2,
            Hidden: 64, Dropout: dropout, UseCrf: crf);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EmissionsOfASentenceInAPaddedBatchEqualThoseAlone(bool crf)
    {
        var f = WordFeaturizer.Build(Corpus);
        var tagger = new WordCharTagger(SmallConfig(f, crf), Tags, seed: 3);
        tagger.Eval();
        // Different sentence lengths and different longest words (so the character padding differs too).
        IReadOnlyList<string>[] sentences = [["german", "beef"], Corpus[0], ["EU", "."], Corpus[1]];
        var batch = WordBatch.Create(f, sentences);
        var all = tagger.Forward(batch).ToArray();
        int t = batch.Words.Size(1), k = Tags.Length;
        for (int i = 0; i < sentences.Length; i++)
        {
            var alone = tagger.Forward(WordBatch.Create(f, [sentences[i]])).ToArray();
            Assert.True(alone.Length >= sentences[i].Count * k);   // (1, T', tags), T' may be rounded up
            for (int j = 0; j < sentences[i].Count * k; j++)
                Assert.True(Math.Abs(alone[j] - all[i * t * k + j]) <= 1e-4,
                    $"sentence {i}, word {j / k}, tag {j % k}: alone {alone[j]}, in batch {all[i * t * k + j]}");
        }
        var paths = tagger.Decode(batch);
        for (int i = 0; i < sentences.Length; i++) Assert.Equal(tagger.Decode(WordBatch.Create(f, [sentences[i]]))[0], paths[i]);
    }

    /// <summary>Sentences of lower-case words and capitalised names; names are B-X, a name right after a name I-X.</summary>
    private static (List<string[]> Sentences, List<int[]> Tags) NameTask(int n, int seed)
    {
        string[] lower = ["the", "a", "met", "saw", "in", "and", "of", "went", "to", "city", "big", "old"];
        string[] names = ["Peter", "Anna", "Paris", "Berlin", "Smith", "Lee", "Rome", "Oslo", "Maria", "John"];
        var rng = new Random(seed);
        var sents = new List<string[]>();
        var tags = new List<int[]>();
        for (int i = 0; i < n; i++)
        {
            int len = rng.Next(2, 9);
            var s = new string[len];
            var t = new int[len];
            for (int j = 0; j < len; j++)
            {
                bool name = rng.NextDouble() < 0.4;
                s[j] = name ? names[rng.Next(names.Length)] : lower[rng.Next(lower.Length)];
                t[j] = !name ? 0 : j > 0 && t[j - 1] != 0 ? 2 : 1;
            }
            sents.Add(s);
            tags.Add(t);
        }
        return (sents, tags);
    }

    private static Tensor TagTensor(IReadOnlyList<int[]> tags)
    {
        int b = tags.Count, t = tags.Max(x => x.Length);
        var v = new int[b * t];
        Array.Fill(v, -100);
        for (int i = 0; i < b; i++) tags[i].CopyTo(v, i * t);
        return Tensor.FromArray(v, b, t);
    }

    private static void AssertNoIAfterO(int[][] paths)
    {
        foreach (var p in paths)
            for (int j = 0; j < p.Length; j++)
                Assert.False(p[j] == 2 && (j == 0 || p[j - 1] == 0), $"I-X at {j} after {(j == 0 ? "the start" : "O")}: [{string.Join(", ", p)}]");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FitsATinyTaggingTaskAndSurvivesSaveAndRestore(bool crf)
    {
        var (sents, gold) = NameTask(48, 1);
        var f = WordFeaturizer.Build(sents);
        var tagger = new WordCharTagger(SmallConfig(f, crf), Tags, seed: 5);
        var batch = WordBatch.Create(f, sents);
        var tags = TagTensor(gold);
        var opt = new AdamW(tagger.Parameters(), new AdamWOptions(5e-3f, WeightDecay: 0f));
        float loss = float.NaN;
        for (int step = 0; step < 80; step++)
        {
            using var scope = TensorScope.Begin();
            var l = tagger.Loss(batch, tags);
            opt.ZeroGrad(); l.Backward(); opt.Step();
            loss = l.Item();
        }
        tagger.Eval();
        var paths = tagger.Decode(batch);
        Assert.Equal(sents.Count, paths.Length);
        for (int i = 0; i < sents.Count; i++) Assert.Equal(sents[i].Length, paths[i].Length);
        int total = gold.Sum(g => g.Length);
        int correct = gold.Select((g, i) => g.Zip(paths[i]).Count(p => p.First == p.Second)).Sum();
        Assert.True(correct >= 0.95 * total, $"crf={crf}: {correct}/{total} tags right, last loss {loss}");
        if (crf) AssertNoIAfterO(paths);

        // Held-out sentences (same words, new arrangements) are tagged as well.
        var (test, testGold) = NameTask(16, 2);
        var testPaths = tagger.Decode(WordBatch.Create(f, test));
        int testCorrect = testGold.Select((g, i) => g.Zip(testPaths[i]).Count(p => p.First == p.Second)).Sum();
        Assert.True(testCorrect >= 0.9 * testGold.Sum(g => g.Length), $"crf={crf}: held-out {testCorrect}/{testGold.Sum(g => g.Length)}");

        var copy = new WordCharTagger(SmallConfig(f, crf), Tags, seed: 99);
        copy.Eval();
        Assert.NotEqual(tagger.Forward(batch).ToArray(), copy.Forward(batch).ToArray());
        copy.LoadStateDict(tagger.StateDict());
        Assert.Equal(tagger.Forward(batch).ToArray(), copy.Forward(batch).ToArray());
        Assert.Equal(paths, copy.Decode(batch));
        // The copy is independent of the original.
        using (TensorScope.Suspend()) tagger.Emissions.Bias!.Detach().CopyFrom(Tensor.FromArray([5f, -5f, -5f]));
        Assert.Equal(paths, copy.Decode(batch));
    }

    [Fact]
    public void ConstrainedCrfNeverEmitsIAfterOEvenUntrained()
    {
        var (sents, _) = NameTask(32, 3);
        var f = WordFeaturizer.Build(sents);
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var tagger = new WordCharTagger(SmallConfig(f, true), Tags, seed);
            tagger.Eval();
            // Push the emissions towards I-X so an unconstrained decoder would emit it everywhere.
            using (TensorScope.Suspend()) tagger.Emissions.Bias!.Detach().CopyFrom(Tensor.FromArray([0f, -1f, 3f]));
            var paths = tagger.Decode(WordBatch.Create(f, sents));
            AssertNoIAfterO(paths);
            Assert.Contains(paths, p => p.Contains(2) || p.Contains(1));
        }
    }

    [Fact]
    public void WithoutCrfDecodeIsTheArgmaxOfTheEmissions()
    {
        var (sents, _) = NameTask(8, 4);
        var f = WordFeaturizer.Build(sents);
        var tagger = new WordCharTagger(SmallConfig(f, false), Tags, seed: 2);
        tagger.Eval();
        Assert.Null(tagger.Crf);
        var batch = WordBatch.Create(f, sents);
        var e = tagger.Forward(batch).ToArray();
        int t = batch.Words.Size(1), k = Tags.Length;
        var paths = tagger.Decode(batch);
        for (int i = 0; i < sents.Count; i++)
            for (int j = 0; j < sents[i].Length; j++)
            {
                var row = e.AsSpan((i * t + j) * k, k).ToArray();
                Assert.Equal(Array.IndexOf(row, row.Max()), paths[i][j]);
            }
    }
}
