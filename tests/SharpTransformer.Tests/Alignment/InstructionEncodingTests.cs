using SharpTransformer.Alignment;
using SharpTransformer.Autograd;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Tests.Alignment;

/// <summary>Tokenized instruction examples: the response mask, padding, packing, truncation, the SFT loss and training.</summary>
public sealed class InstructionEncodingTests
{
    // A template whose markers are plain characters, so a character tokenizer shows every token.
    private sealed class QaTemplate : PromptTemplate
    {
        public override string Name => "qa";
        public override string EndText => "|";
        public override string FormatPrompt(InstructionRecord record) => $"Q:{record.Instruction} {record.Input}\nA:";
    }

    private static readonly CharTokenizer Chars = CharTokenizer.FromText("abcdefghijklmnopqrstuvwxyz QA:|\n0123456789+", addUnknown: false);

    private static InstructionEncoder Encoder(int max = 64, EmptyResponsePolicy policy = EmptyResponsePolicy.Throw) => new(Chars, new QaTemplate(), max, policy);

    private static int Id(char c) => Chars.TokenToId(c.ToString())!.Value;

    [Fact]
    public void TheLossMaskCoversExactlyTheResponseAndItsEndMarker()
    {
        var e = Encoder().Encode(new InstructionRecord("add", "2+3", "5"), null, 7)!;
        Assert.Equal("Q:add 2+3\nA:5|", Chars.Decode(e.Ids));
        Assert.Equal((12, 7, 2), (e.PromptLength, e.RecordIndex, e.ResponseLength));
        int[] expected = [.. Enumerable.Repeat(-100, 11), Id('5'), Id('|')];   // input t predicts token t + 1
        Assert.Equal(expected, e.Targets());
    }

    [Fact]
    public void PaddingIsOnTheRightAndNeverATarget()
    {
        var enc = Encoder();
        var a = enc.Encode(new InstructionRecord("rev", "ab", "ba"))!;
        var b = enc.Encode(new InstructionRecord("add", "12+30", "42"))!;
        var batch = InstructionBatch.Pad([a, b], padId: 0);
        int t = Math.Max(a.Length, b.Length) - 1;
        Assert.Equal((2, t), (batch.Rows, batch.Length));
        Assert.Equal(a.Ids[..^1], batch.Inputs[..(a.Length - 1)]);
        Assert.All(batch.Inputs[(a.Length - 1)..t], x => Assert.Equal(0, x));
        Assert.All(batch.Targets[(a.Length - 1)..t], x => Assert.Equal(-100, x));
        Assert.Equal(a.ResponseLength + b.ResponseLength, batch.ResponseTokens);
        Assert.Null(batch.Positions);
    }

    [Fact]
    public void PackingKeepsExamplesWholeWithTheirOwnTargetsAndPositions()
    {
        var enc = Encoder();
        var ex = new[] { ("add", "1+2", "3"), ("rev", "abc", "cba"), ("add", "10+20", "30"), ("say", "", "hello") }
            .Select((r, i) => enc.Encode(new InstructionRecord(r.Item1, r.Item2, r.Item3), null, i)!).ToArray();
        int row = ex[0].Length - 1 + ex[1].Length - 1 + 2;   // the first two fit in one row, the third does not
        var rows = InstructionBatch.Pack(ex, row, padId: 0);
        // First fit: 0 and 1 share the first row (2 positions of padding left); 2 does not fit there and opens the second,
        // where 3 (14 inputs) fills the rest exactly.
        Assert.Equal((13, 15, 16, 14), (ex[0].Length - 1, ex[1].Length - 1, ex[2].Length - 1, ex[3].Length - 1));
        Assert.Equal(2, rows.Count);
        void AssertAt(InstructionBatch r, InstructionExample e, int at)
        {
            int n = e.Length - 1;
            Assert.Equal(e.Ids[..n], r.Inputs.AsSpan(at, n).ToArray());
            Assert.Equal(e.Targets(), r.Targets.AsSpan(at, n).ToArray());   // the last input predicts its own end marker, not the next prompt
            Assert.Equal(Enumerable.Range(0, n), r.Positions!.AsSpan(at, n).ToArray());
        }
        AssertAt(rows[0], ex[0], 0);
        AssertAt(rows[0], ex[1], 13);
        Assert.Equal([0, 0], rows[0].Inputs[28..]);
        Assert.Equal([-100, -100], rows[0].Targets[28..]);
        AssertAt(rows[1], ex[2], 0);
        AssertAt(rows[1], ex[3], 16);
        Assert.Equal(Id('|'), rows[0].Targets[12]);
        Assert.Equal(-100, rows[0].Targets[13]);
        Assert.Equal(ex.Sum(e => e.ResponseLength), rows.Sum(r => r.ResponseTokens));
        var stacked = InstructionBatch.Stack(rows);
        Assert.Equal((rows.Count, row), (stacked.Rows, stacked.Length));
        Assert.Throws<ArgumentException>(() => InstructionBatch.Pack(ex, 4, 0));
    }

    [Fact]
    public void ATruncatedAwayResponseIsAnErrorNamingTheRecordOrIsSkippedAndCounted()
    {
        var records = new[] { new InstructionRecord("add", "1+2", "3"), new InstructionRecord("a long instruction indeed", "", "x") };
        var e = Assert.Throws<InvalidDataException>(() => Encoder(13).EncodeAll(records, indexOffset: 40));
        Assert.StartsWith("record 41: its prompt has 31 tokens, so truncation to 13 tokens leaves its response (2 tokens) empty", e.Message);
        var skipped = Encoder(13, EmptyResponsePolicy.Skip).EncodeAll(records, 40);
        Assert.Equal([41], skipped.Skipped);
        Assert.Single(skipped.Examples);
        // A response cut short keeps its first tokens, all of them targets.
        var cut = Encoder(13).Encode(new InstructionRecord("add", "1+2", "345"))!;
        Assert.Equal("Q:add 1+2\nA:3", Chars.Decode(cut.Ids));
        Assert.Equal([.. Enumerable.Repeat(-100, 11), Id('3')], cut.Targets());
    }

    [Fact]
    public void TheLossIsTheMeanCrossEntropyOverResponseTokensOnly()
    {
        var model = new Gpt2(new Gpt2Config(VocabSize: Chars.VocabSize, ContextLength: 32, Layers: 1, Heads: 2, Embedding: 16), 3);
        model.Eval();
        var enc = Encoder(33);
        var ex = new[] { enc.Encode(new InstructionRecord("add", "2+3", "5"))!, enc.Encode(new InstructionRecord("rev", "abc", "cba"))! };
        var batch = InstructionBatch.Pad(ex, 0);
        using var _ = GradMode.NoGrad();
        float loss = InstructionTuning.Loss(model, batch).Item();
        var logp = model.Forward(batch.InputTensor()).LogSoftmax().ToArray();   // (B, T, V)
        double sum = 0;
        int n = 0, v = Chars.VocabSize;
        for (int i = 0; i < batch.Targets.Length; i++)
            if (batch.Targets[i] != -100) { sum -= logp[i * v + batch.Targets[i]]; n++; }
        Assert.Equal(ex.Sum(e => e.ResponseLength), n);
        Assert.Equal(sum / n, loss, 1e-5);
        // Padding after a row's end changes nothing (causal attention, ignored targets).
        var repadded = batch with { Inputs = batch.Inputs.Select((x, i) => batch.Targets[i] == -100 && i % batch.Length >= ex[0].Length - 1 && i < batch.Length ? 7 : x).ToArray() };
        Assert.Equal(loss, InstructionTuning.Loss(model, repadded).Item(), 1e-6);
    }

    [Fact]
    public void SftTrainingLowersTheResponseLossOfATinyModel()
    {
        var model = new Gpt2(new Gpt2Config(VocabSize: Chars.VocabSize, ContextLength: 24, Layers: 1, Heads: 2, Embedding: 32), 11);
        var enc = Encoder(25);
        var records = Enumerable.Range(0, 16).Select(i => new InstructionRecord("add", $"{i}+1", $"{i + 1}")).ToList();
        var examples = enc.EncodeAll(records).Examples;
        float Loss()
        {
            using var _ = GradMode.NoGrad();
            model.Eval();
            float l = InstructionTuning.Loss(model, InstructionBatch.Pad(examples, 0)).Item();
            model.Train();
            return l;
        }
        float before = Loss();
        foreach (bool packing in new[] { false, true })
        {
            var trainer = new SftTrainer(model, new TrainerOptions { Epochs = 15, BatchSize = 8, LearningRate = 3e-3f, WeightDecay = 0f }, 0) { Packing = packing };
            var result = trainer.Train(examples);
            Assert.True(result.Steps > 0);
        }
        float after = Loss();
        Assert.True(after < before * 0.5f, $"loss {before} -> {after}");
    }

    [Fact]
    public void ALlamaLoadedWithAutoModelIsInstructionTunedAlike()
    {
        string dir = Path.Combine(TestPaths.Fixtures, "llama-tiny");
        if (!File.Exists(Path.Combine(dir, "config.json"))) return;   // the fixtures are beside the repository, not in it
        var model = SharpTransformer.Models.AutoModelForCausalLM.FromPretrained(dir);
        model.Train();
        var enc = Encoder(40);
        var examples = enc.EncodeAll(Enumerable.Range(0, 8).Select(i => new InstructionRecord("add", $"{i}+2", $"{i + 2}")).ToList()).Examples;
        float Loss()
        {
            using var _ = GradMode.NoGrad();
            return InstructionTuning.Loss(model, InstructionBatch.Pad(examples, 0)).Item();
        }
        float before = Loss();
        new SftTrainer(model, new TrainerOptions { Epochs = 10, BatchSize = 8, LearningRate = 3e-3f, WeightDecay = 0f }, 0).Train(examples);
        Assert.True(Loss() < before * 0.7f, $"loss {before} -> {Loss()}");
    }
}
