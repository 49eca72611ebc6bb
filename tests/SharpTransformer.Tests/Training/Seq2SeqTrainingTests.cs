using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Models.Bart;
using SharpTransformer.Models.T5;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Training;

/// <summary>
/// Encoder-decoder training: shifted decoder inputs and ignored label padding, T5 span corruption (determinism, noise
/// fraction, sentinel layout, reconstruction), BART text infilling (determinism, noise fraction, kept tokens in order), and a
/// tiny T5 and BART whose loss falls under <see cref="Seq2SeqTrainer"/>.
/// </summary>
public sealed class Seq2SeqTrainingTests
{
    [Fact]
    public void CollateShiftsLabelsRightAfterTheStartTokenAndIgnoresPadding()
    {
        var b = Seq2SeqBatch.Collate([[5, 6, 7], [8]], [[10, 11, 1], [12, 1]], padTokenId: 0, decoderStartTokenId: 2);
        Assert.Equal([5, 6, 7, 8, 0, 0], b.InputIds.ToIntArray());
        Assert.Equal([1, 1, 1, 1, 0, 0], b.AttentionMask.ToIntArray());
        Assert.Equal([10, 11, 1, 12, 1, -100], b.Labels.ToIntArray());
        Assert.Equal([2, 10, 11, 2, 12, 1], b.DecoderInputIds.ToIntArray());
        // A -100 inside the shifted part becomes the pad id.
        Assert.Equal([2, 3, 0], Seq2SeqBatch.ShiftRight(Tensor.FromArray([3, -100, -100], 1, 3), 2, 0).ToIntArray());
        Assert.Contains("source 1 is empty", Assert.Throws<ArgumentException>(() => Seq2SeqBatch.Collate([[5], []], [[1], [1]], 0, 0)).Message);
    }

    [Fact]
    public void TheLossIgnoresLabelPadding()
    {
        var model = new T5(T5Config.Tiny, seed: 2);
        model.Eval();
        var one = Seq2SeqBatch.Collate([[5, 6, 7]], [[10, 11, 1]], model.PadTokenId, model.DecoderStartTokenId);
        var padded = Seq2SeqBatch.Collate([[5, 6, 7], [9, 9, 9, 9, 9]], [[10, 11, 1], [3, 3, 3, 3, 3, 1]], model.PadTokenId, model.DecoderStartTokenId);
        var trainer = new Seq2SeqTrainer(model, new TrainerOptions { MaxSteps = 1 });
        // Row 0 of the padded batch has 3 counted labels of 9; its loss alone equals the single example's.
        float single = trainer.Loss(one).Item();
        var logits = model.Forward(padded.InputIds, padded.DecoderInputIds, padded.AttentionMask);             // (2, 6, V)
        var rowLabels = Tensor.FromArray([10, 11, 1, -100, -100, -100, -100, -100, -100, -100, -100, -100], 2, 6);
        Assert.Equal(single, global::SharpTransformer.Nn.Functional.CrossEntropy(logits, rowLabels).Item(), 5);
        Assert.Equal(single, model.Loss(one.InputIds, one.Labels, one.AttentionMask).Item(), 6);
    }

    [Fact]
    public void SpanCorruptionIsT5s()
    {
        var sc = new SpanCorruption(firstSentinelId: 999, eosTokenId: 1);
        var tokens = Enumerable.Range(100, 200).ToArray();
        var (inputs, targets) = sc.Corrupt(tokens, new Generator(7));
        var again = sc.Corrupt(tokens, new Generator(7));
        Assert.Equal(inputs, again.Inputs);
        Assert.Equal(targets, again.Targets);
        Assert.NotEqual(inputs, sc.Corrupt(tokens, new Generator(8)).Inputs);

        // round(200 · 0.15) = 30 noise tokens in round(30 / 3) = 10 spans; the sequence starts kept and ends with noise.
        var mask = sc.NoiseMask(200, new Generator(7));
        Assert.Equal(30, mask.Count(m => m));
        Assert.Equal(10, Enumerable.Range(0, 200).Count(i => mask[i] && (i == 0 || !mask[i - 1])));
        Assert.False(mask[0]);
        Assert.True(mask[^1]);
        // Sentinels count down from <extra_id_0> = 999 in both, the targets starting with it; eos closes both.
        var sentinelsIn = inputs.Where(t => t > 900).ToArray();
        var sentinelsOut = targets.Where(t => t > 900).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(k => 999 - k), sentinelsIn);
        Assert.Equal(sentinelsIn, sentinelsOut);
        Assert.Equal(999, targets[0]);
        Assert.Equal(1, inputs[^1]);
        Assert.Equal(1, targets[^1]);
        Assert.Equal(200 - 30 + 10 + 1, inputs.Length);
        Assert.Equal(30 + 10 + 1, targets.Length);
        Assert.Equal(tokens, sc.Reconstruct(inputs, targets));

        // Over many sequences of other lengths: the noise fraction is 15% up to rounding, and every pair reconstructs.
        var g = new Generator(3);
        long noise = 0, total = 0;
        for (int n = 5; n < 120; n++)
        {
            var seq = Enumerable.Range(10, n).ToArray();
            var m = sc.NoiseMask(n, g);
            noise += m.Count(x => x);
            total += n;
            var (i2, t2) = sc.Corrupt(seq, g);
            Assert.Equal(seq, sc.Reconstruct(i2, t2));
        }
        Assert.InRange(noise / (double)total, 0.14, 0.16);
        Assert.Contains("sentinel", Assert.Throws<ArgumentException>(() => sc.Corrupt([5, 999, 6, 7, 8, 9, 10], new Generator(1))).Message);
    }

    [Fact]
    public void TextInfillingMasksThirtyPercentInPoissonSpans()
    {
        var ti = new TextInfilling(maskTokenId: 3);
        var tokens = Enumerable.Range(10, 100).ToArray();
        var noised = ti.Noise(tokens, new Generator(5));
        Assert.Equal(noised, ti.Noise(tokens, new Generator(5)));
        Assert.NotEqual(noised, ti.Noise(tokens, new Generator(6)));
        // ⌈0.3 · 100⌉ = 30 tokens removed, one mask per span (zero-length spans insert one).
        var spans = ti.SpanLengths(100, new Generator(5));
        Assert.Equal(30, spans.Sum());
        var kept = noised.Where(t => t != 3).ToArray();
        Assert.Equal(70, kept.Length);
        Assert.Equal(spans.Length, noised.Count(t => t == 3));
        Assert.True(IsSubsequence(kept, tokens), "the kept tokens appear in their original order");
        // The Poisson(3) span lengths have mean about 3.
        var g = new Generator(9);
        var lengths = Enumerable.Range(0, 300).SelectMany(_ => ti.SpanLengths(1000, g).SkipLast(1)).ToArray();
        Assert.InRange(lengths.Average(), 2.8, 3.2);
        Assert.Contains("mask id", Assert.Throws<ArgumentException>(() => ti.Noise([5, 3, 7], new Generator(1))).Message);
    }

    private static bool IsSubsequence(int[] sub, int[] of)
    {
        int j = 0;
        foreach (var x in of) if (j < sub.Length && sub[j] == x) j++;
        return j == sub.Length;
    }

    public static TheoryData<string> Objectives => new() { "t5-span-corruption", "bart-text-infilling", "t5-pairs" };

    [Theory]
    [MemberData(nameof(Objectives))]
    public void TheLossOfATinyModelFalls(string objective)
    {
        var rng = new Random(4);
        // Short sequences over ids 10..49 (the tiny vocabulary is 64: 0 pad, 1 eos, 2 start/mask, 63 down are sentinels).
        var data = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 12).Select(_ => rng.Next(10, 50)).ToArray()).ToList();
        Seq2SeqLanguageModel model = objective.StartsWith("t5", StringComparison.Ordinal) ? new T5(T5Config.Tiny, seed: 6) : new Bart(BartConfig.Tiny, seed: 6);
        var batches = objective switch
        {
            "t5-span-corruption" => Seq2SeqTrainer.SpanCorruptionBatches(model, data, new SpanCorruption(63, eosTokenId: 1), batchSize: 8),
            "bart-text-infilling" => Seq2SeqTrainer.TextInfillingBatches(model, data, new TextInfilling(maskTokenId: 3), batchSize: 8),
            _ => Seq2SeqTrainer.PairBatches(model, data.Select(d => (d, d.Reverse().ToArray())).ToList(), batchSize: 8),
        };
        var validation = Enumerable.Range(0, 4).Select(i => batches(new Generator(1000 + (ulong)i))).ToList();
        var trainer = new Seq2SeqTrainer(model, new TrainerOptions { MaxSteps = 60, LearningRate = 3e-3f, WarmupSteps = 5, Seed = 1 });
        float before = trainer.Evaluate(validation);
        var result = trainer.Train(batches);
        float after = trainer.Evaluate(validation);
        Assert.Equal(60, result.Steps);
        Assert.True(after < before - 0.5f, $"{objective}: validation loss {before:F3} → {after:F3}");
    }
}
