using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.Models;
using SharpTransformer.Models.Bart;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Models.T5;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Generation;

public class BeamSearchTests
{
    public static TheoryData<string> Decoders => new() { "gpt2", "llama" };
    public static TheoryData<string> Seq2Seqs => new() { "t5", "bart" };

    private static CausalLanguageModel Decoder(string family, int vocab = 64) => family switch
    {
        "gpt2" => new Gpt2(Gpt2Config.Tiny with { VocabSize = vocab, ContextLength = 48 }, seed: 11),
        _ => new Llama(LlamaConfig.Tiny with { VocabSize = vocab, ContextLength = 48 }, seed: 11),
    };

    private static Seq2SeqLanguageModel Seq2Seq(string family) => family switch
    {
        "t5" => new T5(T5Config.Tiny, seed: 3),
        _ => new Bart(BartConfig.Tiny, seed: 5),
    };

    // log p(tokens | prompt) from one uncached forward over prompt + tokens.
    private static double DecoderLogProb(CausalLanguageModel model, int[] prompt, int[] tokens)
    {
        using var _ = GradMode.NoGrad();
        var all = prompt.Concat(tokens).ToArray();
        var logits = model.Forward(Tensor.FromArray(all, 1, all.Length)).ToArray();   // (1, T, V)
        return SumLogProb(logits, model.VocabSize, prompt.Length - 1, tokens);
    }

    private static double Seq2SeqLogProb(Seq2SeqLanguageModel model, int[] source, int[] tokens)
    {
        using var _ = GradMode.NoGrad();
        var dec = new[] { model.DecoderStartTokenId }.Concat(tokens[..^1]).ToArray();
        var logits = model.Forward(Tensor.FromArray(source, 1, source.Length), Tensor.FromArray(dec, 1, dec.Length)).ToArray();   // (1, T, V)
        return SumLogProb(logits, model.VocabSize, 0, tokens);
    }

    // Sum over i of log_softmax(logits[first + i])[tokens[i]], in double.
    private static double SumLogProb(float[] logits, int v, int first, int[] tokens)
    {
        double sum = 0;
        for (int i = 0; i < tokens.Length; i++)
        {
            int off = (first + i) * v;
            double max = double.NegativeInfinity;
            for (int j = 0; j < v; j++) max = Math.Max(max, logits[off + j]);
            double z = 0;
            for (int j = 0; j < v; j++) z += Math.Exp(logits[off + j] - max);
            sum += logits[off + tokens[i]] - max - Math.Log(z);
        }
        return sum;
    }

    [Theory]
    [MemberData(nameof(Decoders))]
    public void DecoderWidthOneEqualsGreedy(string family)
    {
        var gen = new TextGenerator(Decoder(family));
        int[][] prompts = [[1, 5, 9], [7], [3, 3, 4, 8, 2]];
        var greedy = new GenerationOptions(MaxNewTokens: 15, Greedy: true);
        var one = new BeamSearchOptions(NumBeams: 1);
        for (int i = 0; i < prompts.Length; i++)
        {
            var expected = gen.Generate(prompts[i], greedy);
            Assert.Equal(expected, gen.BeamSearch(prompts[i], greedy, one).Single().Tokens);
            var stop = expected[4];   // with a stop token too: both end on it
            var stopped = gen.Generate(prompts[i], greedy with { StopTokens = [stop] });
            Assert.Equal(stop, stopped[^1]);
            Assert.Equal(stopped, gen.BeamSearch(prompts[i], greedy with { StopTokens = [stop] }, one).Single().Tokens);
        }
        var batch = gen.BeamSearchBatch(prompts, greedy, one);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(gen.Generate(prompts[i], greedy), batch[i].Single().Tokens);
    }

    [Theory]
    [MemberData(nameof(Seq2Seqs))]
    public void Seq2SeqWidthOneEqualsGreedy(string family)
    {
        var gen = new Seq2SeqGenerator(Seq2Seq(family));
        int[][] sources = [[5, 6, 7, 8, 1], [9, 10, 1], [11, 12, 13, 14, 15, 16, 1]];
        var greedy = new GenerationOptions(MaxNewTokens: 12, Greedy: true);
        var expected = gen.GenerateBatch(sources, greedy);
        var beams = gen.BeamSearchBatch(sources, greedy, new BeamSearchOptions(NumBeams: 1));
        for (int i = 0; i < sources.Length; i++)
        {
            Assert.Equal(expected[i], beams[i].Single().Tokens);
            var stop = expected[i][2];
            Assert.Equal(gen.Generate(sources[i], greedy with { StopTokens = [stop] }),
                gen.BeamSearch(sources[i], greedy with { StopTokens = [stop] }, new BeamSearchOptions(NumBeams: 1)).Single().Tokens);
        }
    }

    private static void AssertScoresAreLogProbabilities(BeamHypothesis[] hyps, float lengthPenalty, Func<int[], double> logProb)
    {
        Assert.NotEmpty(hyps);
        for (int i = 0; i < hyps.Length; i++)
        {
            var h = hyps[i];
            double lp = logProb(h.Tokens);
            Assert.True(Math.Abs(lp - h.LogProbability) < 1e-3, $"hypothesis {i}: beam log-probability {h.LogProbability}, full forward {lp}");
            double expected = lp / Math.Pow(h.Tokens.Length, lengthPenalty);
            Assert.True(Math.Abs(expected - h.Score) < 1e-3, $"hypothesis {i}: beam score {h.Score}, full forward {expected}");
            if (i > 0) Assert.True(hyps[i - 1].Score >= h.Score, $"hypotheses not sorted: {hyps[i - 1].Score} before {h.Score}");
        }
        Assert.Equal(hyps.Length, hyps.Select(h => string.Join(",", h.Tokens)).Distinct().Count());
    }

    [Theory]
    [InlineData("gpt2", 1f, BeamEarlyStopping.Heuristic)]
    [InlineData("gpt2", 0f, BeamEarlyStopping.Heuristic)]
    [InlineData("gpt2", 2f, BeamEarlyStopping.Never)]
    [InlineData("llama", -0.5f, BeamEarlyStopping.Immediate)]
    public void DecoderBeamScoresAreTheModelsLogProbabilityUnderTheLengthPenalty(string family, float lengthPenalty, BeamEarlyStopping stopping)
    {
        var model = Decoder(family);
        var gen = new TextGenerator(model);
        int[] prompt = [4, 17, 30];
        var opts = new GenerationOptions(MaxNewTokens: 10);
        var free = gen.BeamSearch(prompt, opts, new BeamSearchOptions(NumBeams: 4));
        Assert.All(free, h => Assert.Equal(10, h.Tokens.Length));
        var stop = free[0].Tokens[0];   // the best first token: a hypothesis of length 1 ends on it
        var beams = new BeamSearchOptions(NumBeams: 5, LengthPenalty: lengthPenalty, EarlyStopping: stopping, NumReturnSequences: 5);
        var hyps = gen.BeamSearch(prompt, opts with { StopTokens = [stop] }, beams);
        Assert.Equal(5, hyps.Length);
        // Near-uniform tiny models favour long hypotheses unless the length penalty is below 1.
        if (lengthPenalty < 1f) Assert.Contains(hyps, h => h.Tokens[^1] == stop && h.Tokens.Length < 10);
        Assert.All(hyps, h => Assert.DoesNotContain(stop, h.Tokens[..^1]));
        AssertScoresAreLogProbabilities(hyps, lengthPenalty, t => DecoderLogProb(model, prompt, t));
    }

    [Theory]
    [InlineData("t5", 1f)]
    [InlineData("t5", 0f)]
    [InlineData("bart", 0.6f)]
    public void Seq2SeqBeamScoresAreTheModelsLogProbabilityUnderTheLengthPenalty(string family, float lengthPenalty)
    {
        var model = Seq2Seq(family);
        var gen = new Seq2SeqGenerator(model);
        int[] source = [5, 6, 7, 8, 9, 1];
        var opts = new GenerationOptions(MaxNewTokens: 10, StopTokens: [63]);   // a token it never picks
        var free = gen.BeamSearch(source, opts, new BeamSearchOptions(NumBeams: 3));
        var stop = free[0].Tokens[1];
        var hyps = gen.BeamSearch(source, opts with { StopTokens = [stop] }, new BeamSearchOptions(NumBeams: 4, LengthPenalty: lengthPenalty, NumReturnSequences: 4));
        Assert.Equal(4, hyps.Length);
        if (lengthPenalty < 1f) Assert.Contains(hyps, h => h.Tokens[^1] == stop);
        AssertScoresAreLogProbabilities(hyps, lengthPenalty, t => Seq2SeqLogProb(model, source, t));
    }

    [Fact]
    public void BatchedAndUncachedBeamsEqualSingleCachedOnes()
    {
        var model = Decoder("gpt2");
        var gen = new TextGenerator(model);
        int[][] prompts = [[3, 4, 5, 6, 7], [8, 9], [10, 11, 12]];
        var opts = new GenerationOptions(MaxNewTokens: 9, StopTokens: [20, 21]);
        var beams = new BeamSearchOptions(NumBeams: 3, NumReturnSequences: 3);
        var batched = gen.BeamSearchBatch(prompts, opts, beams);
        var uncached = gen.BeamSearchBatch(prompts, opts with { UseCache = false }, beams);
        for (int i = 0; i < prompts.Length; i++)
        {
            var single = gen.BeamSearch(prompts[i], opts, beams);
            Assert.Equal(single.Select(h => h.Tokens), batched[i].Select(h => h.Tokens));
            Assert.Equal(single.Select(h => h.Tokens), uncached[i].Select(h => h.Tokens));
            for (int j = 0; j < single.Length; j++)
            {
                Assert.Equal(single[j].Score, batched[i][j].Score, 1e-4);
                Assert.Equal(single[j].Score, uncached[i][j].Score, 1e-4);
            }
        }

        var s2s = new Seq2SeqGenerator(Seq2Seq("t5"));
        int[][] sources = [[5, 6, 7, 8, 1], [9, 10, 1]];
        var s2sOpts = new GenerationOptions(MaxNewTokens: 8);
        var s2sBatch = s2s.BeamSearchBatch(sources, s2sOpts, beams);
        var s2sUncached = s2s.BeamSearchBatch(sources, s2sOpts with { UseCache = false }, beams);
        for (int i = 0; i < sources.Length; i++)
        {
            var single = s2s.BeamSearch(sources[i], s2sOpts, beams);
            Assert.Equal(single.Select(h => h.Tokens), s2sBatch[i].Select(h => h.Tokens));
            Assert.Equal(single.Select(h => h.Tokens), s2sUncached[i].Select(h => h.Tokens));
        }
    }

    private static bool HasRepeatedNgram(IReadOnlyList<int> seq, int n)
    {
        var seen = new HashSet<string>();
        for (int i = 0; i + n <= seq.Count; i++)
            if (!seen.Add(string.Join(",", seq.Skip(i).Take(n)))) return true;
        return false;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void NoRepeatNgramSizeHolds(int n)
    {
        // A tiny vocabulary makes repeats unavoidable without the ban.
        var model = Decoder("gpt2", vocab: 12);
        var gen = new TextGenerator(model);
        int[] prompt = [1, 2];
        var opts = new GenerationOptions(MaxNewTokens: 20);
        var plain = gen.BeamSearch(prompt, opts, new BeamSearchOptions(NumBeams: 3, NumReturnSequences: 3));
        Assert.Contains(plain, h => HasRepeatedNgram(prompt.Concat(h.Tokens).ToArray(), n));
        var banned = gen.BeamSearch(prompt, opts, new BeamSearchOptions(NumBeams: 3, NumReturnSequences: 3, NoRepeatNgramSize: n));
        Assert.NotEmpty(banned);
        Assert.All(banned, h => Assert.False(HasRepeatedNgram(prompt.Concat(h.Tokens).ToArray(), n), string.Join(",", h.Tokens)));
        AssertScoresAreLogProbabilities(banned, 1f, t => DecoderLogProb(model, prompt, t));

        var s2s = new Seq2SeqGenerator(Seq2Seq("bart"));
        var s2sBanned = s2s.BeamSearch([5, 6, 7, 1], new GenerationOptions(MaxNewTokens: 16, StopTokens: [63]), new BeamSearchOptions(NumBeams: 2, NoRepeatNgramSize: n));
        Assert.False(HasRepeatedNgram(new[] { 2 }.Concat(s2sBanned[0].Tokens).ToArray(), n));
    }

    [Theory]
    [InlineData(2, 8)]
    [InlineData(3, 64)]
    public void WideEnoughBeamFindsTheBestSequenceByBruteForce(int steps, int width)
    {
        // Vocabulary 8: a beam of 8^(steps-1) keeps every prefix, so it must find the most likely sequence of `steps` tokens.
        var model = Decoder("gpt2", vocab: 8);
        int v = 8;
        int[] prompt = [3, 1];
        int count = (int)Math.Pow(v, steps);
        var all = new int[count][];
        for (int c = 0; c < count; c++)
        {
            all[c] = new int[steps];
            for (int i = 0, x = c; i < steps; i++, x /= v) all[c][steps - 1 - i] = x % v;
        }
        var best = all.Select(t => (t, lp: DecoderLogProb(model, prompt, t))).MaxBy(x => x.lp);
        var hyp = new TextGenerator(model).BeamSearch(prompt, new GenerationOptions(MaxNewTokens: steps), new BeamSearchOptions(NumBeams: width)).Single();
        Assert.Equal(best.t, hyp.Tokens);
        Assert.Equal(best.lp, hyp.LogProbability, 1e-3);
    }

    [Fact]
    public void KvCacheReorderMovesOnlyStoredPositionsAndCanChangeTheBatch()
    {
        // Beam search expands the prompt's rows to beams (2 -> 4 rows), then reorders in place.
        var cache = new KvCache(4);
        cache.Append(Tensor.FromArray(new float[] { 1, 2 }, 2, 1, 1, 1), Tensor.FromArray(new float[] { 10, 20 }, 2, 1, 1, 1));
        cache.ReorderBatch([0, 0, 1, 1]);
        var (k, v) = cache.Append(Tensor.FromArray(new float[] { 3, 4, 5, 6 }, 4, 1, 1, 1), Tensor.FromArray(new float[] { 30, 40, 50, 60 }, 4, 1, 1, 1));
        Assert.Equal(new float[] { 1, 3, 1, 4, 2, 5, 2, 6 }, k.ToArray());          // (4, 1, 2, 1)
        Assert.Equal(new float[] { 10, 30, 10, 40, 20, 50, 20, 60 }, v.ToArray());
        cache.ReorderBatch([3, 1, 1, 0]);
        (k, _) = cache.Stored();
        Assert.Equal(new float[] { 2, 6, 1, 4, 1, 4, 1, 3 }, k.ToArray());
        cache.ReorderBatch([2]);
        Assert.Equal(new float[] { 1, 4 }, cache.Stored().Keys.ToArray());
        Assert.Equal(2, cache.Length);
    }

    [Fact]
    public void BadSettingsGiveClearErrors()
    {
        var gen = new TextGenerator(Decoder("gpt2"));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => gen.BeamSearch([1], new GenerationOptions(MaxNewTokens: 3), new BeamSearchOptions(NumBeams: 0)));
        Assert.Contains("NumBeams", e.Message);
        Assert.Contains("got 0", e.Message);
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => gen.BeamSearch([1], new GenerationOptions(), new BeamSearchOptions(NumBeams: 2, NumReturnSequences: 3)));
        Assert.Contains("NumReturnSequences", r.Message);
        var s2s = new Seq2SeqGenerator(Seq2Seq("t5"));
        Assert.Throws<ArgumentOutOfRangeException>(() => s2s.BeamSearch([5, 1], new GenerationOptions(MaxNewTokens: 3), new BeamSearchOptions(NumBeams: 0)));
        Assert.Throws<ArgumentException>(() => s2s.BeamSearch([], new GenerationOptions(MaxNewTokens: 3), new BeamSearchOptions()));
    }

    [Fact]
    public void LaterStoppingNeverFindsWorseHypotheses()
    {
        // The three modes follow the same beams and differ only in when they stop; the finished set only improves.
        var gen = new Seq2SeqGenerator(Seq2Seq("bart"));
        int[] source = [8, 9, 10, 11, 1];
        var opts = new GenerationOptions(MaxNewTokens: 14, StopTokens: [63]);
        var stop = gen.BeamSearch(source, opts, new BeamSearchOptions(NumBeams: 3))[0].Tokens[1];
        double Best(BeamEarlyStopping m) => gen.BeamSearch(source, opts with { StopTokens = [stop] }, new BeamSearchOptions(NumBeams: 3, LengthPenalty: 1.5f, EarlyStopping: m))[0].Score;
        double immediate = Best(BeamEarlyStopping.Immediate), heuristic = Best(BeamEarlyStopping.Heuristic), never = Best(BeamEarlyStopping.Never);
        Assert.True(immediate <= heuristic + 1e-9 && heuristic <= never + 1e-9, $"immediate {immediate}, heuristic {heuristic}, never {never}");
    }
}
