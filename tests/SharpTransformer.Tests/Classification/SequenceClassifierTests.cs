using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Models.Encoder;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Classification;

/// <summary>
/// <see cref="SequenceClassifier"/> over a pre-LN encoder, BERT and GPT-2: padding never changes a sequence's logits
/// (for every pooling), a missing pooler is reported, and a tiny synthetic task is learned.
/// </summary>
public sealed class SequenceClassifierTests
{
    private const int Vocab = 24, Pad = 0;

    private static readonly TransformerEncoderConfig EncoderConfig = new(Vocab, Dim: 16, Layers: 2, Heads: 2, Hidden: 32, MaxPositions: 16, Dropout: 0.1f);
    private static readonly BertConfig TinyBert = BertConfig.Tiny with { VocabSize = Vocab, MaxPositions = 16, HiddenDropout = 0.1f };
    private static readonly Gpt2Config TinyGpt2 = new(VocabSize: Vocab, ContextLength: 16, Layers: 2, Heads: 2, Embedding: 16, Dropout: 0.1f);

    public static TheoryData<string, PoolingKind> Cases => new()
    {
        { "encoder", PoolingKind.Cls }, { "encoder", PoolingKind.Mean },
        { "bert", PoolingKind.Cls }, { "bert", PoolingKind.Mean }, { "bert", PoolingKind.Pooler },
        { "gpt2", PoolingKind.LastToken }, { "gpt2", PoolingKind.Mean }, { "gpt2", PoolingKind.Cls },
    };

    private static SequenceClassifier Build(string body, PoolingKind pooling, int labels = 3, ulong seed = 3) => body switch
    {
        "encoder" => new SequenceClassifier(new TransformerEncoder(EncoderConfig, seed), labels, pooling, seed: seed),
        "bert" => new SequenceClassifier(new Bert(TinyBert, seed), labels, pooling, seed: seed),
        "gpt2" => new SequenceClassifier(new Gpt2(TinyGpt2, seed), labels, pooling, seed: seed),
        _ => throw new ArgumentException(body),
    };

    internal static (Tensor Ids, Tensor Mask) PadRight(IReadOnlyList<int[]> seqs, int pad = Pad)
    {
        int b = seqs.Count, t = seqs.Max(s => s.Length);
        var ids = new int[b * t];
        var mask = new float[b * t];
        Array.Fill(ids, pad);
        for (int i = 0; i < b; i++)
            for (int j = 0; j < seqs[i].Length; j++) { ids[i * t + j] = seqs[i][j]; mask[i * t + j] = 1f; }
        return (Tensor.FromArray(ids, b, t), Tensor.FromArray(mask, b, t));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PaddedBatchGivesTheLogitsOfEachSequenceAlone(string body, PoolingKind pooling)
    {
        var model = Build(body, pooling);
        model.Eval();
        // A large classifier (std 3) so that a wrong mask shows well above the tolerance (BERT's pooler output is small).
        using (TensorScope.Suspend()) model.Classifier.Weight!.Detach().CopyFrom(Tensor.RandN(model.Classifier.Weight!.Shape.ToArray(), new Generator(9), 0f, 3f));
        int[][] seqs = [[2, 7, 9, 11, 3, 5, 8, 13, 4], [2, 5, 3], [2, 17, 19, 21, 4, 6], [2]];
        var (ids, mask) = PadRight(seqs);
        var batch = model.Forward(ids, mask).ToArray();
        Assert.Equal([seqs.Length, 3], model.Forward(ids, mask).Shape.ToArray());
        for (int i = 0; i < seqs.Length; i++)
        {
            var alone = model.Forward(Tensor.FromArray(seqs[i], 1, seqs[i].Length)).ToArray();
            for (int k = 0; k < 3; k++)
                Assert.True(Math.Abs(alone[k] - batch[i * 3 + k]) <= 1e-4, $"{body}/{pooling}: sequence {i}, label {k}: alone {alone[k]}, in batch {batch[i * 3 + k]}");
        }
        // The padding tokens are not inert by themselves: without the mask, the short sequences' logits change
        // (so the equality above really depends on the mask).
        if (pooling != PoolingKind.Cls || body != "gpt2")
        {
            var unmasked = model.Forward(ids).ToArray();
            double diff = Enumerable.Range(0, 3).Max(k => Math.Abs(unmasked[3 + k] - batch[3 + k]));
            Assert.True(diff > 1e-3, $"{body}/{pooling}: the mask made no difference ({diff})");
        }
    }

    [Fact]
    public void EvalModeIsDeterministicAndTrainModeAppliesDropout()
    {
        var model = Build("encoder", PoolingKind.Mean);
        var (ids, mask) = PadRight([[2, 7, 9, 11], [2, 5]]);
        model.Eval();
        Assert.Equal(model.Forward(ids, mask).ToArray(), model.Forward(ids, mask).ToArray());
        model.Train();
        Assert.NotEqual(model.Forward(ids, mask).ToArray(), model.Forward(ids, mask).ToArray());
    }

    [Fact]
    public void PoolerPoolingWithoutAPoolerThrowsAClearError()
    {
        var (ids, mask) = PadRight([[2, 7, 9], [2, 5]]);
        var noPooler = new SequenceClassifier(new TransformerEncoder(EncoderConfig), 2, PoolingKind.Pooler);
        var e = Assert.Throws<InvalidOperationException>(() => noPooler.Forward(ids, mask));
        Assert.Contains("pooler", e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(nameof(TransformerEncoder), e.Message, StringComparison.Ordinal);

        var bertNoPooler = new SequenceClassifier(new Bert(TinyBert with { Pooler = false }), 2, PoolingKind.Pooler);
        Assert.Throws<InvalidOperationException>(() => bertNoPooler.Forward(ids, mask));

        Assert.Throws<ArgumentException>(() => new SequenceClassifier(new Gpt2(TinyGpt2), 2, PoolingKind.Pooler));
    }

    [Fact]
    public void PoolerPoolingUsesTheBertPooler()
    {
        var bert = new Bert(TinyBert, 5);
        var model = new SequenceClassifier(bert, 2, PoolingKind.Pooler, dropout: 0f);
        model.Eval();
        var (ids, mask) = PadRight([[2, 7, 9, 4], [2, 5]]);
        var pooled = bert.Encode(ids, mask).PooledOutput!;
        var want = model.Classifier.Forward(pooled).ToArray();
        Assert.Equal(want, model.Forward(ids, mask).ToArray());
    }

    [Fact]
    public void HeadAndBodyParametersPartitionTheModel()
    {
        var model = Build("bert", PoolingKind.Pooler);
        var all = model.Parameters().ToList();
        var head = model.HeadParameters().ToList();
        var body = model.BodyParameters().ToList();
        Assert.Equal(2, head.Count);
        Assert.Equal(all.Count, head.Count + body.Count);
        Assert.All(head, p => Assert.DoesNotContain(body, q => ReferenceEquals(p, q)));
    }

    /// <summary>Random sequences over tokens 1..Vocab-1 (0 is padding), label 1 when token 5 occurs; balanced.</summary>
    internal static (int[][] Seqs, int[] Labels) ContainsFiveTask(int n, int seed)
    {
        var rng = new Random(seed);
        var seqs = new int[n][];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int len = rng.Next(3, 10);
            var s = new int[len];
            s[0] = 2;
            for (int j = 1; j < len; j++) { do s[j] = rng.Next(1, Vocab); while (s[j] == 5); }
            if (i % 2 == 1) s[rng.Next(1, len)] = 5;
            seqs[i] = s;
            labels[i] = i % 2;
        }
        return (seqs, labels);
    }

    [Theory]
    [InlineData("encoder", PoolingKind.Cls)]
    [InlineData("encoder", PoolingKind.Mean)]
    [InlineData("bert", PoolingKind.Pooler)]
    [InlineData("gpt2", PoolingKind.LastToken)]
    public void LearnsWhetherATokenOccurs(string body, PoolingKind pooling)
    {
        var model = Build(body, pooling, labels: 2, seed: 11);
        var (seqs, labels) = ContainsFiveTask(64, 1);
        var opt = new AdamW(model.Parameters(), new AdamWOptions(3e-3f, WeightDecay: 0f));
        var (ids, mask) = PadRight(seqs);
        var gold = Tensor.FromArray(labels);
        float loss = float.NaN;
        for (int step = 0; step < 60; step++)
        {
            using var scope = TensorScope.Begin();
            var l = Functional.CrossEntropy(model.Forward(ids, mask), gold);
            opt.ZeroGrad(); l.Backward(); opt.Step();
            loss = l.Item();
        }
        model.Eval();
        var logits = model.Forward(ids, mask).ToArray();
        int correct = Enumerable.Range(0, seqs.Length).Count(i => (logits[2 * i + 1] > logits[2 * i] ? 1 : 0) == labels[i]);
        Assert.True(correct > 0.9 * seqs.Length, $"{body}/{pooling}: train accuracy {correct}/{seqs.Length}, last loss {loss}");
    }
}
