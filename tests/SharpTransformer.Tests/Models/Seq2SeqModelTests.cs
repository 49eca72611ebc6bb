using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.Models;
using SharpTransformer.Models.Bart;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.T5;
using SharpTransformer.Peft;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Fixtures;
using Xunit.Abstractions;

namespace SharpTransformer.Tests.Models;

/// <summary>
/// T5 and BART: relative position buckets against Hugging Face's values, cached (incremental) decoding equal to full decoding,
/// save and reload, LoRA targeting by Hugging Face's projection names, generation, the fixtures' sensitivity, and bad input.
/// </summary>
public sealed class Seq2SeqModelTests(ITestOutputHelper output)
{
    private static string FixtureDir(string name) => Path.Combine(TestPaths.Shared, "fixtures-seq2seq", name);

    public static TheoryData<string> Families => new() { "t5-relu", "t5-gated-gelu-untied", "bart" };

    private static Seq2SeqLanguageModel Build(string family) => family switch
    {
        "t5-relu" => new T5(T5Config.Tiny, seed: 3),
        "t5-gated-gelu-untied" => new T5(T5Config.Tiny with { Activation = HiddenActivation.GeluTanh, GatedFeedForward = true, TieEmbeddings = false, DKv = 12 }, seed: 4),
        "bart" => new Bart(BartConfig.Tiny with { ScaleEmbedding = true }, seed: 5),
        _ => throw new ArgumentException(family),
    };

    // (B = 2, S = 7) sources, the second padded after 4 tokens.
    private static (Tensor Ids, Tensor Mask) Source()
    {
        int[] ids = [5, 9, 13, 17, 21, 25, 29, 6, 10, 14, 18, 0, 0, 0];
        int[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
        return (Tensor.FromArray(ids, 2, 7), Tensor.FromArray(mask, 2, 7));
    }

    [Theory]
    [InlineData(0, true, 0)]
    [InlineData(-1, true, 1)]
    [InlineData(1, true, 17)]
    [InlineData(-7, true, 7)]
    [InlineData(-8, true, 8)]
    [InlineData(-16, true, 10)]
    [InlineData(20, true, 26)]
    [InlineData(-128, true, 15)]
    [InlineData(-1000, true, 15)]
    [InlineData(3, false, 0)]
    [InlineData(-15, false, 15)]
    [InlineData(-20, false, 17)]
    [InlineData(-500, false, 31)]
    public void RelativePositionBucketsAreHuggingFaces(int relative, bool bidirectional, int bucket) =>
        // Values of transformers' T5Attention._relative_position_bucket(num_buckets=32, max_distance=128).
        Assert.Equal(bucket, T5RelativePosition.Bucket(relative, bidirectional, 32, 128));

    [Theory]
    [MemberData(nameof(Families))]
    public void IncrementalDecodingEqualsFullDecoding(string family)
    {
        var model = Build(family);
        model.Eval();
        using var _ = GradMode.NoGrad();
        var (ids, mask) = Source();
        var enc = model.Encode(ids, mask);
        int[] target = [model.DecoderStartTokenId, 7, 3, 11, 40, 2, 8, model.DecoderStartTokenId, 30, 31, 32, 33, 34, 35];
        var full = model.Decode(Tensor.FromArray(target, 2, 7), enc, mask).ToArray();       // (2, 7, V)
        var caches = model.CreateCaches(16);
        int v = model.VocabSize;
        double worst = 0;
        for (int t = 0; t < 7; t++)
        {
            var step = model.Decode(Tensor.FromArray([target[t], target[7 + t]], 2, 1), enc, mask, caches).ToArray();   // (2, 1, V)
            for (int b = 0; b < 2; b++)
                for (int k = 0; k < v; k++)
                    worst = Math.Max(worst, Math.Abs(step[b * v + k] - full[(b * 7 + t) * v + k]));
        }
        Assert.True(caches.CrossAttention.All(c => c.IsComplete && c.Length == 7), "every cross-attention cache holds the 7 encoder positions");
        Assert.Equal(7, caches.SelfAttention[0].Length);
        Assert.True(worst < 1e-5, $"{family}: cached decoding differs from full decoding by {worst}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void CrossAttentionKeysAndValuesAreProjectedOnceFromTheEncoderOutput(string family)
    {
        var model = Build(family);
        model.Eval();
        using var _ = GradMode.NoGrad();
        var (ids, mask) = Source();
        var enc = model.Encode(ids, mask);
        var caches = model.CreateCaches(8);
        var first = Tensor.FromArray([model.DecoderStartTokenId, model.DecoderStartTokenId], 2, 1);
        var second = Tensor.FromArray([12, 13], 2, 1);
        model.Decode(first, enc, mask, caches);
        var reference = model.CreateCaches(8);
        model.Decode(first, enc, mask, reference);
        var expected = model.Decode(second, enc, mask, reference).ToArray();
        // Changing the cross-attention key/value weights after the first step changes nothing for the cached decoder...
        var crossKv = model.NamedParameters().Where(p => p.Name.Contains("EncDecAttention.k_proj", StringComparison.Ordinal)
            || p.Name.Contains("EncDecAttention.v_proj", StringComparison.Ordinal) || p.Name.Contains("encoder_attn.k_proj", StringComparison.Ordinal)
            || p.Name.Contains("encoder_attn.v_proj", StringComparison.Ordinal)).Select(p => p.Parameter).ToList();
        Assert.NotEmpty(crossKv);
        foreach (var p in crossKv) p.CopyFrom(Tensor.Zeros(p.Shape.ToArray()));
        Assert.Equal(expected, model.Decode(second, enc, mask, caches).ToArray());
        // ...while a fresh cache projects the changed weights.
        var recomputed = model.CreateCaches(8);
        model.Decode(first, enc, mask, recomputed);
        Assert.NotEqual(expected, model.Decode(second, enc, mask, recomputed).ToArray());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void SavedAndReloadedGivesTheSameLogits(string family)
    {
        var model = Build(family);
        model.Eval();
        var (ids, mask) = Source();
        var dec = Tensor.FromArray([model.DecoderStartTokenId, 4, 5, model.DecoderStartTokenId, 6, 7], 2, 3);
        float[] before;
        using (GradMode.NoGrad()) before = model.Forward(ids, dec, mask).ToArray();
        string dir = Path.Combine(Path.GetTempPath(), "sharpt-seq2seq-" + Guid.NewGuid().ToString("N"));
        try
        {
            Seq2SeqModels.SaveHuggingFace(model, dir);
            var back = AutoModelForSeq2SeqLM.FromPretrained(dir);
            Assert.Equal(model.GetType(), back.GetType());
            float[] after;
            using (GradMode.NoGrad()) after = back.Forward(ids, dec, mask).ToArray();
            Assert.Equal(before, after);
            Assert.IsAssignableFrom<Seq2SeqLanguageModel>(AutoModel.FromPretrained(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void LoraTargetsHuggingFaceProjectionNames()
    {
        var t5 = new T5(T5Config.Tiny);
        var t5Paths = Lora.Apply(t5, LoraConfig.ForModules(4, 8f, "q", "v"));
        // Encoder: 2 blocks × self-attention; decoder: 2 blocks × (self + cross) attention; q and v each.
        Assert.Equal(2 * (2 + 4), t5Paths.Count);
        Assert.Contains("decoder.block.1.layer.1.EncDecAttention.v_proj", t5Paths);
        Assert.Equal("decoder.block.1.layer.1.EncDecAttention.v", t5.HuggingFaceModulePath("decoder.block.1.layer.1.EncDecAttention.v_proj"));
        Assert.Equal("encoder.block.0.layer.0.SelfAttention.relative_attention_bias", t5.HuggingFaceModulePath("encoder.block.0.layer.0.relative_attention_bias"));

        var bart = new Bart(BartConfig.Tiny);
        var bartPaths = Lora.Apply(bart, LoraConfig.ForModules(4, 8f, "q_proj", "out_proj"));
        Assert.Equal(2 * (2 + 4), bartPaths.Count);
        Assert.Equal("model.decoder.layers.0.encoder_attn.out_proj", bart.HuggingFaceModulePath("decoder.layers.0.encoder_attn.o_proj"));
        Assert.Equal("lm_head", bart.HuggingFaceModulePath("lm_head"));
    }

    [Theory]
    [InlineData("t5-tiny")]
    [InlineData("bart-tiny")]
    public void FixturesLoadThroughAutoModelAndLogTheirLargestDifferences(string name)
    {
        var m = AutoModel.FromPretrained(FixtureDir(name));
        Assert.IsAssignableFrom<Seq2SeqLanguageModel>(m);
        Assert.False(m.Training);
        FixtureChecks.Run(FixtureDir(name), log: output.WriteLine);
    }

    /// <summary>
    /// T5 v1.1's variant (gated tanh-GELU feed-forward, untied head without the rescale, d_kv · heads ≠ d_model, a padded source)
    /// against a float64 PyTorch reference written from the paper (testdata/make_t5_v11_tiny.py): encoder output, logits, loss,
    /// every gradient and greedy tokens.
    /// </summary>
    [Fact]
    public void T5V11GatedGeluUntiedMatchesThePyTorchReference() =>
        FixtureChecks.Run(Path.Combine(TestPaths.Root, "tests", "SharpTransformer.Tests", "Fixtures", "testdata", "t5-v11-tiny"), log: output.WriteLine);

    [Theory]
    [InlineData("t5-tiny", "relative_attention_max_distance", "20")]       // other buckets beyond distance 8
    [InlineData("t5-tiny", "layer_norm_epsilon", "0.1")]
    [InlineData("bart-tiny", "scale_embedding", "true")]
    [InlineData("bart-tiny", "activation_function", "\"relu\"")]
    public void AChangedConfigFailsTheFixture(string name, string field, string value)
    {
        string dir = Path.Combine(Path.GetTempPath(), "sharpt-s2s-fixture-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            foreach (var f in Directory.GetFiles(FixtureDir(name))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            json[field] = System.Text.Json.Nodes.JsonNode.Parse(value);
            File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
            Assert.ThrowsAny<Exception>(() => FixtureChecks.Run(dir, greedy: false));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void GreedyGenerationIsBatchInvariantAndSamplingFollowsTheSeed()
    {
        var model = AutoModelForSeq2SeqLM.FromPretrained(FixtureDir("bart-tiny"));
        var gen = new Seq2SeqGenerator(model);
        int[] a = [54, 35, 39, 26, 60, 18, 19, 4, 9, 20, 1], b = [7, 8, 9, 1];
        var greedy = new GenerationOptions(MaxNewTokens: 20, Greedy: true);
        var batch = gen.GenerateBatch([a, b], greedy);
        Assert.Equal(gen.Generate(a, greedy), batch[0]);
        Assert.Equal(gen.Generate(b, greedy), batch[1]);
        var sample = new GenerationOptions(MaxNewTokens: 12, Temperature: 3f, Seed: 11);
        var s1 = gen.Generate(a, sample);
        Assert.Equal(s1, gen.Generate(a, sample));
        Assert.Equal(s1, gen.Generate(a, sample with { UseCache = false }));
        Assert.True(Enumerable.Range(12, 6).Any(seed => !gen.Generate(a, sample with { Seed = (ulong)seed }).SequenceEqual(s1)),
            "sampling at temperature 3 gives other sequences for other seeds");
    }

    [Fact]
    public void BadInputGivesClearErrors()
    {
        var bart = new Bart(BartConfig.Tiny);
        var empty = Assert.Throws<ArgumentException>(() => bart.Encode(Tensor.FromArray(Array.Empty<int>(), 1, 0)));
        Assert.Contains("source is empty", empty.Message);
        Assert.Contains("empty", Assert.Throws<ArgumentException>(() => new Seq2SeqGenerator(bart).Generate([], new GenerationOptions(Greedy: true))).Message);
        var enc = bart.Encode(Tensor.FromArray([3, 4], 1, 2));
        var tooLong = Assert.Throws<ArgumentException>(() => bart.Decode(Tensor.FromArray(new int[65], 1, 65), enc));
        Assert.Contains("65 decoder positions", tooLong.Message);
        Assert.Contains("maximum target length 64", tooLong.Message);
        var caches = bart.CreateCaches(64);
        bart.Decode(Tensor.FromArray(new int[60], 1, 60), enc, null, caches);
        Assert.Contains("60 cached", Assert.Throws<ArgumentException>(() => bart.Decode(Tensor.FromArray(new int[5], 1, 5), enc, null, caches)).Message);
        Assert.Throws<ArgumentException>(() => new Seq2SeqGenerator(bart).Generate([3], new GenerationOptions(MaxNewTokens: 65)));

        string dir = Path.Combine(Path.GetTempPath(), "sharpt-t5-bad-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string cfg = Path.Combine(dir, "config.json");
            File.WriteAllText(cfg, """{"model_type": "t5", "feed_forward_proj": "gated-swish", "vocab_size": 8}""");
            var e = Assert.Throws<NotSupportedException>(() => AutoModelForSeq2SeqLM.FromPretrained(dir));
            Assert.Contains("'gated-swish'", e.Message);
            Assert.Contains(cfg, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
