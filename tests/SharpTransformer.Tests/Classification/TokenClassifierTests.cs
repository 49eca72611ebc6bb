using SharpTransformer.Autograd;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Tensors;
using SharpTransformer.Training;
using Xunit;

namespace SharpTransformer.Tests.Classification;

public class TokenClassifierTests
{
    private static readonly string[] Tags = ["O", "B-X", "I-X"];

    // Words are runs of ids; a word is an entity when its first id is ≥ 20 (B-X), and continues (I-X) while the next word's first id is ≥ 40.
    private static (int[] Ids, int[] Labels, int[] Starts) Sentence(Random r)
    {
        var ids = new List<int> { 2 };                        // [CLS]
        var labels = new List<int> { -100 };
        var starts = new List<int>();
        int words = r.Next(2, 7);
        bool inEntity = false;
        for (int w = 0; w < words; w++)
        {
            int first = r.Next(5, 60);
            int tag = first >= 40 && inEntity ? 2 : first >= 20 ? 1 : 0;
            inEntity = tag != 0;
            starts.Add(ids.Count);
            ids.Add(first); labels.Add(tag);
            for (int k = r.Next(0, 2); k > 0; k--) { ids.Add(r.Next(5, 60)); labels.Add(-100); }   // sub-tokens
        }
        ids.Add(3); labels.Add(-100);                         // [SEP]
        return (ids.ToArray(), labels.ToArray(), starts.ToArray());
    }

    private static (Tensor Ids, Tensor Labels, Tensor Mask) Batch(IReadOnlyList<(int[] Ids, int[] Labels, int[] Starts)> s)
    {
        int b = s.Count, t = s.Max(x => x.Ids.Length);
        var ids = new int[b * t]; var labels = Enumerable.Repeat(-100, b * t).ToArray(); var mask = new int[b * t];
        for (int i = 0; i < b; i++)
        {
            s[i].Ids.CopyTo(ids, i * t); s[i].Labels.CopyTo(labels, i * t);
            for (int j = 0; j < s[i].Ids.Length; j++) mask[i * t + j] = 1;
        }
        return (Tensor.FromArray(ids, b, t), Tensor.FromArray(labels, b, t), Tensor.FromArray(mask, b, t));
    }

    private static TokenClassifier Create(bool crf) =>
        new(new Bert(BertConfig.Tiny with { HiddenSize = 32, IntermediateSize = 64, HiddenDropout = 0f, AttentionDropout = 0f }, 3), Tags, crf, 0f);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LearnsWordLevelTagsAndDecodesEveryWord(bool crf)
    {
        var model = Create(crf);
        var r = new Random(1);
        var train = Enumerable.Range(0, 256).Select(_ => Sentence(r)).ToList();
        var opt = new AdamW(model.Parameters(), new AdamWOptions(LearningRate: 3e-3f));
        float first = 0, last = 0;
        for (int step = 0; step < 200; step++)
        {
            using var scope = TensorScope.Begin();
            var batch = train.Skip(step * 16 % 256).Take(16).ToList();
            var (ids, labels, mask) = Batch(batch);
            var loss = model.Loss(ids, labels, mask);
            opt.ZeroGrad(); loss.Backward(); opt.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < first * 0.3f, $"loss {first} -> {last}");
        model.Eval();
        var test = Enumerable.Range(0, 32).Select(_ => Sentence(r)).ToList();
        var (tid, _, tmask) = Batch(test);
        int[][] paths;
        using (GradMode.NoGrad()) paths = model.Decode(tid, test.Select(x => x.Starts).ToList(), tmask);
        int correct = 0, total = 0;
        for (int i = 0; i < test.Count; i++)
        {
            Assert.Equal(test[i].Starts.Length, paths[i].Length);
            for (int w = 0; w < paths[i].Length; w++, total++)
                if (paths[i][w] == test[i].Labels[test[i].Starts[w]]) correct++;
            if (crf)
                for (int w = 0; w < paths[i].Length; w++)
                    Assert.False(paths[i][w] == 2 && (w == 0 || paths[i][w - 1] == 0), $"CRF decoded I-X after O in sentence {i}");
        }
        Assert.True(correct >= 0.85 * total, $"word accuracy {correct}/{total}");
    }

    [Fact]
    public void PaddingDoesNotChangeTheScoresOfRealTokens()
    {
        var model = Create(false);
        model.Eval();
        var r = new Random(5);
        var s = Enumerable.Range(0, 3).Select(_ => Sentence(r)).ToList();
        var (ids, _, mask) = Batch(s);
        using var _ = GradMode.NoGrad();
        var batched = model.Forward(ids, mask).ToArray();
        int t = ids.Size(1);
        for (int i = 0; i < s.Count; i++)
        {
            var alone = model.Forward(Tensor.FromArray(s[i].Ids, 1, s[i].Ids.Length)).ToArray();
            for (int j = 0; j < alone.Length; j++)
                Assert.True(Math.Abs(alone[j] - batched[i * t * 3 + j]) < 1e-4f, $"sequence {i} element {j}: alone {alone[j]}, batched {batched[i * t * 3 + j]}");
        }
    }

    [Fact]
    public void BadInputIsReportedWithShapes()
    {
        var model = Create(true);
        var ids = Tensor.FromArray(new[] { 2, 7, 3 }, 1, 3);
        var e = Assert.Throws<ArgumentException>(() => model.Loss(ids, Tensor.FromArray(new[] { -100, 1 }, 1, 2)));
        Assert.Contains("(1, 2)", e.Message);
        Assert.Throws<ArgumentException>(() => model.Loss(ids, Tensor.FromArray(new[] { -100, -100, -100 }, 1, 3)));
        Assert.Throws<ArgumentException>(() => model.Decode(ids, [[1], [2]]));
    }
}
