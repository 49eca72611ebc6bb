using SharpTransformer.Autograd;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Pipelines;

public sealed class AutoModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-auto-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Sub(string name) => Path.Combine(_dir, name);

    private static Tensor Ints(int[] data, int rows) => Tensor.FromArray(data, rows, data.Length / rows);

    // Hidden states of the fixture's inputs, compared with PyTorch's where the attention mask is 1.
    private static void AssertHiddenStatesMatch(EncoderModel encoder, float tolerance = 1e-4f)
    {
        var (ids, types, mask, expected) = ModelFolders.BertTinyExpected();
        using var _ = GradMode.NoGrad();
        var h = encoder.Encode(Ints(ids, 2), Ints(mask, 2), Ints(types, 2)).LastHiddenState.ToArray();
        var want = expected["last_hidden_state"];
        int c = 64;
        for (int t = 0; t < mask.Length; t++)
            if (mask[t] == 1)
                for (int j = 0; j < c; j++)
                    Assert.True(Math.Abs(h[t * c + j] - want[t * c + j]) <= tolerance, $"position {t}, feature {j}: {h[t * c + j]} vs {want[t * c + j]}");
    }

    private static bool AllInEval(Module m) => !m.Training && m.Children().All(c => AllInEval(c.Module));

    [Fact]
    public void AutoModelLoadsTheBareEncoderOfAPretrainingCheckpointInEvalMode()
    {
        var warnings = new List<string>();
        var bert = AutoModel.FromPretrained<Bert>(ModelFolders.Fixture("bert-tiny"), warnings);
        Assert.True(AllInEval(bert));
        Assert.NotNull(bert.Pooler);
        Assert.Empty(warnings);
        AssertHiddenStatesMatch(bert);
        Assert.IsAssignableFrom<EncoderModel>(AutoModel.FromPretrained(ModelFolders.Fixture("bert-tiny")));
    }

    [Fact]
    public void ALoadedBertIsInEvalModeSoTwoCallsAgreeDespiteItsDropout()
    {
        // The fixture's config has hidden_dropout_prob 0.1: in training mode two calls would differ.
        var model = EncoderModels.FromHuggingFace(ModelFolders.Fixture("bert-tiny"));
        Assert.Equal(0.1f, model.Encoder.Config.HiddenDropout);
        Assert.True(AllInEval((Module)model));
        var ids = Tensor.FromArray(new[] { 5, 17, 33, 2 }, 1, 4);
        using var _ = GradMode.NoGrad();
        var a = model.Outputs(ids)["last_hidden_state"].ToArray();
        var b = model.Outputs(ids)["last_hidden_state"].ToArray();
        Assert.Equal(a, b);
        model.Encoder.Train();
        Assert.NotEqual(a, model.Outputs(ids)["last_hidden_state"].ToArray());   // the dropout is really there
    }

    [Fact]
    public void ABareBertModelFolderLoadsAndGivesHiddenStatesWithoutACast()
    {
        string dir = Sub("bare");
        var bert = new Bert(BertConfig.FromHuggingFace(ModelFolders.Fixture("bert-tiny")), seed: 5);
        EncoderModels.SaveHuggingFace(bert, dir);
        var loaded = EncoderModels.FromHuggingFace(dir);
        Assert.IsType<Bert>(loaded);
        Bert encoder = loaded.Encoder;
        var ids = Tensor.FromArray(new[] { 5, 17, 33 }, 1, 3);
        bert.Eval();
        using var _ = GradMode.NoGrad();
        Assert.Equal(bert.Encode(ids).LastHiddenState.ToArray(), encoder.Encode(ids).LastHiddenState.ToArray());
        Assert.Equal(bert.Encode(ids).LastHiddenState.ToArray(), AutoModel.FromPretrained<EncoderModel>(dir).Encode(ids).LastHiddenState.ToArray());
    }

    [Fact]
    public void AFolderWithoutPoolerWeightsLoadsWithAWarning()
    {
        string dir = ModelFolders.CopyOf("bert-tiny", Sub("nopooler"), "config.json", "model.safetensors");
        ModelFolders.Rewrite(Path.Combine(dir, "model.safetensors"), n => n.Contains("pooler", StringComparison.Ordinal) || n.StartsWith("cls.", StringComparison.Ordinal));
        ModelFolders.SetArchitecture(dir, "BertModel");
        var warnings = new List<string>();
        var bert = AutoModel.FromPretrained<Bert>(dir, warnings);
        Assert.Contains(warnings, w => w.Contains("pooler.dense.weight", StringComparison.Ordinal) && w.Contains("model.safetensors", StringComparison.Ordinal));
        Assert.NotNull(bert.Pooler);                                 // randomly initialised, as Hugging Face leaves it
        AssertHiddenStatesMatch(bert);
        Assert.IsType<Bert>(EncoderModels.FromHuggingFace(dir, warnings));
        // Without a sink the warning goes to standard error and loading goes on.
        Assert.NotNull(EncoderModels.FromHuggingFace(dir));
    }

    [Theory]
    [InlineData(SafeTensorsDType.F16, 2e-2f)]
    [InlineData(SafeTensorsDType.BF16, 1.5e-1f)]
    public void HalfPrecisionWeightsLoad(SafeTensorsDType type, float tolerance)
    {
        string dir = ModelFolders.CopyOf("bert-tiny", Sub(type.ToString()), "config.json", "model.safetensors");
        ModelFolders.Rewrite(Path.Combine(dir, "model.safetensors"), _ => false, type);
        using (var f = SafeTensorsFile.Open(Path.Combine(dir, "model.safetensors")))
            Assert.All(f.Entries.Values, e => Assert.Equal(type, e.DType));
        AssertHiddenStatesMatch(AutoModel.FromPretrained<Bert>(dir), tolerance);
    }

    [Fact]
    public void AutoModelForCausalLMLoadsGpt2AndLlama()
    {
        var gpt2 = AutoModelForCausalLM.FromPretrained(ModelFolders.Fixture("gpt2-tiny"));
        Assert.IsType<Gpt2>(gpt2);
        Assert.Equal(50257, gpt2.VocabSize);
        Assert.True(AllInEval(gpt2));
        Assert.IsType<SharpTransformer.Models.Llama.Llama>(AutoModel.FromPretrained(ModelFolders.Fixture("llama-tiny")));
        // The greedy tokens of the fixture, through the base class only.
        using var f = SafeTensorsFile.Open(Path.Combine(ModelFolders.Fixture("gpt2-tiny"), "expected.safetensors"));
        var ids = f.ReadInts("input_ids");
        var want = f.ReadFloats("logits");
        using var _ = GradMode.NoGrad();
        var got = gpt2.Forward(Tensor.FromArray(ids, 2, 16)).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (int i = 0; i < got.Length; i += 997) Assert.True(Math.Abs(want[i] - got[i]) < 1e-4, $"logit {i}: {got[i]} vs {want[i]}");
    }

    [Fact]
    public void AutoModelForMaskedLMReadsThePretrainingCheckpointsMaskedLmHead()
    {
        var mlm = AutoModelForMaskedLM.FromPretrained(ModelFolders.Fixture("bert-tiny"));
        var (ids, types, mask, expected) = ModelFolders.BertTinyExpected();
        using var _ = GradMode.NoGrad();
        var logits = mlm.Forward(Ints(ids, 2), Ints(mask, 2), Ints(types, 2)).ToArray();
        var want = expected["mlm_logits"];
        for (int t = 0; t < mask.Length; t++)
            if (mask[t] == 1)
                for (int v = 0; v < 1000; v += 37)
                    Assert.True(Math.Abs(logits[t * 1000 + v] - want[t * 1000 + v]) <= 1e-4, $"position {t}, token {v}");
    }

    [Fact]
    public void SequenceAndTokenClassifiersLoadFromABaseCheckpointWithANewHeadAndRoundTrip()
    {
        var warnings = new List<string>();
        var seq = AutoModelForSequenceClassification.FromPretrained(ModelFolders.Fixture("bert-tiny"), warnings);
        Assert.IsType<BertForSequenceClassification>(seq);
        Assert.Contains(warnings, w => w.Contains("classifier.weight", StringComparison.Ordinal));

        var config = BertConfig.FromHuggingFace(ModelFolders.Fixture("bert-tiny")) with { NumLabels = 3, LabelNames = ["O", "B-PER", "I-PER"] };
        var tagger = new BertForTokenClassification(config, seed: 9);
        string dir = Sub("ner");
        EncoderModels.SaveHuggingFace(tagger, dir);
        Assert.Contains("\"BertForTokenClassification\"", File.ReadAllText(Path.Combine(dir, "config.json")));
        var loaded = AutoModelForTokenClassification.FromPretrained(dir, warnings);
        Assert.Equal(new[] { "O", "B-PER", "I-PER" }, loaded.Config.LabelNames!);
        Assert.True(AllInEval(loaded));
        tagger.Eval();
        var ids = Tensor.FromArray(new[] { 5, 17, 33, 40 }, 1, 4);
        using var _ = GradMode.NoGrad();
        Assert.Equal(tagger.Forward(ids).ToArray(), loaded.Forward(ids).ToArray());
        Assert.Equal(new[] { 1, 4, 3 }, loaded.Forward(ids).Shape.ToArray());
    }

    [Fact]
    public void BadFoldersGetErrorsNamingThePathTheValueAndTheSupportedOnes()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => AutoModel.FromPretrained(Directory.CreateDirectory(Sub("empty")).FullName));
        Assert.Contains(Path.Combine(Sub("empty"), "config.json"), missing.Message);

        string xlnet = Directory.CreateDirectory(Sub("xlnet")).FullName;
        File.WriteAllText(Path.Combine(xlnet, "config.json"), """{"model_type": "xlnet", "architectures": ["XLNetLMHeadModel"]}""");
        var unknownType = Assert.Throws<NotSupportedException>(() => AutoModel.FromPretrained(xlnet));
        Assert.Contains(Path.Combine(xlnet, "config.json"), unknownType.Message);
        Assert.Contains("'xlnet'", unknownType.Message);
        Assert.Contains("gpt2, llama, bert, distilbert, roberta", unknownType.Message);

        string qa = ModelFolders.CopyOf("bert-tiny", Sub("qa"), "config.json");
        ModelFolders.SetArchitecture(qa, "BertForQuestionAnswering");
        var unknownArch = Assert.Throws<NotSupportedException>(() => AutoModelForSequenceClassification.FromPretrained(qa));
        Assert.Contains("BertForQuestionAnswering", unknownArch.Message);
        Assert.Contains("BertForSequenceClassification", unknownArch.Message);
        Assert.Contains(Path.Combine(qa, "config.json"), unknownArch.Message);

        var notCausal = Assert.Throws<NotSupportedException>(() => AutoModelForCausalLM.FromPretrained(ModelFolders.Fixture("bert-tiny")));
        Assert.Contains("'bert'", notCausal.Message);
        Assert.Contains("gpt2, llama", notCausal.Message);

        string bin = ModelFolders.CopyOf("gpt2-tiny", Sub("bin"), "config.json");
        File.WriteAllBytes(Path.Combine(bin, "pytorch_model.bin"), [0]);
        var noWeights = Assert.Throws<FileNotFoundException>(() => AutoModelForCausalLM.FromPretrained(bin));
        Assert.Contains(Path.Combine(bin, "model.safetensors"), noWeights.Message);
        Assert.Contains("pytorch_model.bin", noWeights.Message);
        Assert.Contains("only safetensors", noWeights.Message);

        Assert.Throws<DirectoryNotFoundException>(() => AutoModel.FromPretrained(Sub("nowhere")));
        var wrongType = Assert.Throws<InvalidCastException>(() => AutoModel.FromPretrained<CausalLanguageModel>(ModelFolders.Fixture("bert-tiny")));
        Assert.Contains("Bert", wrongType.Message);
    }
}
