using SharpTransformer.Models.Classification;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Classification;

/// <summary><see cref="PromptClassifier"/> on a tiny GPT-2 with a character tokenizer, against a scalar reference.</summary>
public sealed class PromptClassifierTests
{
    private const string Template = "t:{text} s:";
    private static readonly string[] Verbalizers = [" no", " yes"];
    private static readonly CharTokenizer Tok = CharTokenizer.FromText("abcdefghijklmnopqrstuvwxyz :\n");
    private static readonly EncodeOptions Plain = new() { AddSpecialTokens = false, ComputeOffsets = false };

    private static Gpt2 Lm(ulong seed = 3) => new(new Gpt2Config(VocabSize: Tok.VocabSize, ContextLength: 48, Layers: 2, Heads: 2, Embedding: 16), seed);

    private static int[] Ids(string s) => Tok.Encode(s, Plain).Ids;

    /// <summary>Σ_j log p(v_j | prompt, v_&lt;j) from the LM's logits on the unpadded sequence, in double precision.</summary>
    private static double ReferenceScore(Gpt2 lm, int[] prompt, int[] verbalizer)
    {
        int[] seq = [.. prompt, .. verbalizer];
        int n = seq.Length - 1, v = lm.VocabSize;
        var logits = lm.Forward(Tensor.FromArray(seq[..n], 1, n)).ToArray();   // (1, n, V)
        double score = 0;
        for (int j = 0; j < verbalizer.Length; j++)
        {
            int pos = prompt.Length - 1 + j, o = pos * v;
            double max = double.NegativeInfinity;
            for (int c = 0; c < v; c++) max = Math.Max(max, logits[o + c]);
            double z = 0;
            for (int c = 0; c < v; c++) z += Math.Exp(logits[o + c] - max);
            score += logits[o + verbalizer[j]] - max - Math.Log(z);
        }
        return score;
    }

    [Fact]
    public void ScoresAreTheVerbalizersLogProbabilitiesOnTheUnpaddedPrompt()
    {
        var lm = Lm();
        var clf = new PromptClassifier(lm, Tok, Template, Verbalizers);
        clf.Eval();
        string[] texts = ["a", "the cat sat on the mat", "zzz", "hello there"];
        var prompts = texts.Select(clf.PromptIds).ToList();
        var scores = clf.Scores(prompts).ToArray();
        Assert.Equal(scores, clf.Scores(texts).ToArray());
        for (int i = 0; i < texts.Length; i++)
            for (int k = 0; k < Verbalizers.Length; k++)
            {
                double want = ReferenceScore(lm, prompts[i], Ids(Verbalizers[k]));
                Assert.True(Math.Abs(want - scores[i * 2 + k]) <= 1e-4, $"text {i}, label {k}: reference {want}, got {scores[i * 2 + k]}");
                Assert.True(scores[i * 2 + k] < 0);
            }
    }

    [Fact]
    public void PromptIdsAreDemonstrationsPrefixTextAndSuffix()
    {
        var clf = new PromptClassifier(Lm(), Tok, Template, Verbalizers, [("good", 1), ("bad", 0)]);
        var ids = clf.PromptIds("meh");
        int[] demos = Ids("t:good s: yes\nt:bad s: no\n");
        Assert.Equal(demos, ids[..demos.Length]);
        Assert.Equal(Ids("t:good s: yes\nt:bad s: no\nt:meh s:"), ids);

        var plain = new PromptClassifier(Lm(), Tok, Template, Verbalizers);
        Assert.Equal(Ids("t:meh s:"), plain.PromptIds("meh"));
    }

    [Fact]
    public void LongTextsAreCutToLeaveRoomForTheVerbalizer()
    {
        var lm = Lm();
        var clf = new PromptClassifier(lm, Tok, Template, Verbalizers);
        var ids = clf.PromptIds(new string('a', 200));
        Assert.Equal(lm.ContextLength - Ids(" yes").Length, ids.Length);
        Assert.Equal(Ids(" s:"), ids[^3..]);
        var scores = clf.Scores([new string('a', 200)]);   // must fit the context
        Assert.Equal([1, 2], scores.Shape.ToArray());
    }

    [Fact]
    public void InvalidArgumentsThrow()
    {
        var e = Assert.Throws<ArgumentException>(() => new PromptClassifier(Lm(), Tok, "no placeholder", Verbalizers));
        Assert.Contains("{text}", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new PromptClassifier(Lm(), Tok, Template, [" yes"]));
        Assert.Throws<ArgumentException>(() => new PromptClassifier(Lm(), Tok, Template, Verbalizers, [("x", 2)]));
    }

    [Fact]
    public void FineTuningLowersTheLossAndLearnsTheTask()
    {
        // Label 1 ("yes") when the text contains 'z'.
        var rng = new Random(5);
        var texts = new List<string>();
        var labels = new List<int>();
        for (int i = 0; i < 24; i++)
        {
            var chars = Enumerable.Range(0, rng.Next(3, 8)).Select(_ => (char)('a' + rng.Next(0, 25))).ToArray();
            if (i % 2 == 1) chars[rng.Next(chars.Length)] = 'z';
            texts.Add(new string(chars));
            labels.Add(i % 2);
        }
        var lm = Lm(7);
        var clf = new PromptClassifier(lm, Tok, Template, Verbalizers);
        var prompts = texts.Select(clf.PromptIds).ToList();
        var gold = labels.ToArray();
        float Loss() { clf.Eval(); var l = clf.Loss(prompts, gold).Item(); clf.Train(); return l; }
        float before = Loss();
        var opt = new AdamW(clf.Parameters(), new AdamWOptions(1e-2f, WeightDecay: 0f));
        for (int step = 0; step < 40; step++)
        {
            using var scope = TensorScope.Begin();
            var l = clf.Loss(prompts, gold);
            opt.ZeroGrad(); l.Backward(); opt.Step();
        }
        float after = Loss();
        Assert.True(after < 0.5f * before, $"loss before {before}, after {after}");
        clf.Eval();
        var scores = clf.Scores(prompts).ToArray();
        int correct = Enumerable.Range(0, gold.Length).Count(i => (scores[2 * i + 1] > scores[2 * i] ? 1 : 0) == gold[i]);
        Assert.True(correct >= 0.9 * gold.Length, $"train accuracy {correct}/{gold.Length}");
    }
}
