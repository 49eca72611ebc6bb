using SharpTransformer.Data;
using SharpTransformer.Models.Bert;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Models;

public class MaskedLmPretrainingTests
{
    private const int Cls = 1, Sep = 2, MaskId = 3, Pad = 0;

    [Fact]
    public void MaskingFollowsTheEightyTenTenSplit()
    {
        const int vocab = 1000;
        var c = new MaskedLmCollator(vocab, MaskId, Pad, [Cls, Sep], seed: 7);
        var g = new Generator(99);
        long tokens = 0, selected = 0, masked = 0, random = 0, kept = 0, specialsTouched = 0;
        for (int s = 0; s < 400; s++)
        {
            var ids = new int[500];
            for (int i = 0; i < ids.Length; i++) ids[i] = i % 50 == 0 ? Cls : i % 50 == 49 ? Sep : 4 + g.NextInt(vocab - 4);
            var (x, y) = c.Mask(ids);
            for (int i = 0; i < ids.Length; i++)
            {
                bool special = ids[i] is Cls or Sep;
                if (special) { if (y[i] != MaskedLmCollator.IgnoreIndex || x[i] != ids[i]) specialsTouched++; continue; }
                tokens++;
                if (y[i] == MaskedLmCollator.IgnoreIndex) { Assert.Equal(ids[i], x[i]); continue; }
                Assert.Equal(ids[i], y[i]);
                selected++;
                if (x[i] == MaskId) masked++;
                else if (x[i] == ids[i]) kept++;
                else { random++; Assert.True(x[i] >= 4 && x[i] < vocab, $"random replacement {x[i]} is special or out of range"); }
            }
        }
        Assert.Equal(0, specialsTouched);
        // ~196,000 tokens, ~29,400 selected: 4-sigma bounds are about ±0.003 on 15% and ±0.01 on the split.
        double pSel = (double)selected / tokens, pMask = (double)masked / selected, pRand = (double)random / selected, pKeep = (double)kept / selected;
        Assert.InRange(pSel, 0.147, 0.153);
        Assert.InRange(pMask, 0.79, 0.81);
        Assert.InRange(pRand, 0.09, 0.11);
        Assert.InRange(pKeep, 0.09, 0.11);
    }

    [Fact]
    public void MaskingIsDeterministicForASeed()
    {
        int[] ids = Enumerable.Range(0, 300).Select(i => 4 + i % 90).ToArray();
        var a = new MaskedLmCollator(100, MaskId, Pad, [Cls, Sep], seed: 5).Mask(ids);
        var b = new MaskedLmCollator(100, MaskId, Pad, [Cls, Sep], seed: 5).Mask(ids);
        var d = new MaskedLmCollator(100, MaskId, Pad, [Cls, Sep], seed: 6).Mask(ids);
        Assert.Equal(a.Inputs, b.Inputs);
        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Labels, d.Labels);
    }

    [Fact]
    public void WholeWordMaskingSelectsEveryPieceOfAWord()
    {
        // Vocabulary: ids 4..49 start words, 50..99 are "##" continuations.
        var vocab = Enumerable.Range(0, 100).Select(i => i < 4 ? $"[S{i}]" : i < 50 ? $"w{i}" : $"##p{i}").ToArray();
        var c = new MaskedLmCollator(100, MaskId, Pad, [Cls, Sep], new MaskingOptions(SelectProbability: 0.3f, WholeWordMasking: true), seed: 3,
            isContinuation: MaskedLmCollator.WordPieceContinuation(vocab));
        var g = new Generator(1);
        int wordsSeen = 0, wordsSelected = 0;
        for (int s = 0; s < 200; s++)
        {
            var ids = new List<int> { Cls };
            var words = new List<(int Start, int End)>();
            for (int w = 0; w < 20; w++)
            {
                int start = ids.Count;
                ids.Add(4 + g.NextInt(46));
                int pieces = g.NextInt(3);
                for (int p = 0; p < pieces; p++) ids.Add(50 + g.NextInt(50));
                words.Add((start, ids.Count));
            }
            ids.Add(Sep);
            var (_, y) = c.Mask(ids.ToArray());
            foreach (var (start, end) in words)
            {
                int sel = Enumerable.Range(start, end - start).Count(i => y[i] != MaskedLmCollator.IgnoreIndex);
                Assert.True(sel == 0 || sel == end - start, $"word [{start}, {end}) partly selected ({sel})");
                wordsSeen++;
                if (sel > 0) wordsSelected++;
            }
        }
        Assert.InRange((double)wordsSelected / wordsSeen, 0.27, 0.33);

        // Word ids given explicitly take the place of the ## test.
        var plain = new MaskedLmCollator(100, MaskId, Pad, [Cls, Sep], new MaskingOptions(SelectProbability: 0.5f, WholeWordMasking: true), seed: 4);
        int[] tokens = [Cls, 10, 11, 12, 13, 14, 15, 16, 17, Sep];
        int[] wordIds = [-1, 0, 0, 0, 1, 1, 2, 2, 2, -1];
        for (int rep = 0; rep < 50; rep++)
        {
            var (_, y) = plain.Mask(tokens, wordIds);
            foreach (var group in Enumerable.Range(1, 8).GroupBy(i => wordIds[i]))
                Assert.True(group.All(i => y[i] != -100) || group.All(i => y[i] == -100), $"word {group.Key} partly selected");
        }
    }

    [Fact]
    public void NextSentencePairsAreHalfTrueHalfRandom()
    {
        var g = new Generator(11);
        var docs = Enumerable.Range(0, 20).Select(d => (IReadOnlyList<int[]>)Enumerable.Range(0, 30)
            .Select(s => new[] { 100 + d, 200 + s, 300 + g.NextInt(50) }).ToList()).ToList();
        var pairs = NextSentencePairs.Build(docs, Cls, Sep, 16, new Generator(5));
        Assert.Equal(20 * 29, pairs.Count);
        foreach (var p in pairs)
        {
            Assert.Equal(Cls, p.InputIds[0]);
            Assert.Equal(Sep, p.InputIds[4]);
            Assert.Equal(Sep, p.InputIds[^1]);
            Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 1 }, p.TokenTypeIds);
            bool sameDoc = p.InputIds[1] == p.InputIds[5];
            bool next = sameDoc && p.InputIds[6] == p.InputIds[2] + 1;
            Assert.Equal(p.NextSentenceLabel == 0, next);
        }
        Assert.InRange(pairs.Count(p => p.NextSentenceLabel == 1) / (double)pairs.Count, 0.42, 0.58);
        var t = NextSentencePairs.Pair(Enumerable.Range(10, 10).ToArray(), [50, 51], 0, Cls, Sep, 8);
        Assert.Equal(new[] { Cls, 10, 11, 12, Sep, 50, 51, Sep }, t.InputIds);

        var batch = new MaskedLmCollator(400, MaskId, Pad, [Cls, Sep], seed: 1).Collate(pairs.Take(4).ToList());
        Assert.Equal([4, 9], batch.InputIds.Shape.ToArray());
        Assert.Equal(pairs.Take(4).Select(p => p.NextSentenceLabel).ToArray(), batch.NextSentenceLabels!.ToIntArray());
    }

    [Fact]
    public void MaskedLmLossDropsWellBelowUniformOnATinyCorpus()
    {
        // Each sequence alternates two random tokens (a b a b ...): a masked token is predictable from the visible ones.
        var g = new Generator(21);
        var corpus = Enumerable.Range(0, 64).Select(_ =>
        {
            int a = 4 + g.NextInt(44), b = 4 + g.NextInt(44);
            return new[] { Cls }.Concat(Enumerable.Range(0, 14).Select(i => i % 2 == 0 ? a : b)).Append(Sep).ToArray();
        }).ToList();
        var cfg = BertConfig.Tiny with { VocabSize = 48, HiddenSize = 32, IntermediateSize = 64, Layers = 2, Heads = 2 };
        var model = new BertForMaskedLM(cfg, seed: 2);
        var collator = new MaskedLmCollator(cfg.VocabSize, MaskId, Pad, [Cls, Sep], new MaskingOptions(SelectProbability: 0.25f), seed: 8);
        var validation = new[] { new MaskedLmCollator(cfg.VocabSize, MaskId, Pad, [Cls, Sep], new MaskingOptions(SelectProbability: 0.25f), seed: 99).Collate(corpus.Take(32).ToList()) };
        var trainer = new MaskedLmTrainer(model, new TrainerOptions
        {
            MaxSteps = 200, BatchSize = 16, LearningRate = 1e-2f, MinLearningRate = 1e-3f, WarmupSteps = 5, Decay = DecayKind.Cosine, WeightDecay = 0.01f,
            Beta2 = 0.99f, MaxGradNorm = 1f, Seed = 1337,
        });
        float before = trainer.Evaluate(validation);
        var result = trainer.Train(MaskedLmTrainer.RandomBatches(corpus, collator, 16), validation);
        float uniform = MathF.Log(cfg.VocabSize);
        Assert.InRange(before, uniform - 0.5f, uniform + 0.5f);
        Assert.True(result.FinalMetric < 0.3f * uniform, $"validation MLM loss {result.FinalMetric} (before {before}, ln V = {uniform})");
    }
}
