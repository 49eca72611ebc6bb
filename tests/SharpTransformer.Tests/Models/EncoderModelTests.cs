using SharpTransformer.Autograd;
using SharpTransformer.Data;
using SharpTransformer.IO.HuggingFace;
using SharpTransformer.Models.Bert;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Models;

public class EncoderModelTests
{
    private static readonly BertConfig TinyDistil = BertConfig.DistilBertMini with
    {
        VocabSize = 50, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 24, MaxPositions = 32, HiddenDropout = 0f,
        AttentionDropout = 0f, ClassifierDropout = 0f, NumLabels = 3,
    };

    private static readonly BertConfig TinyRoberta = BertConfig.RobertaBase with
    {
        VocabSize = 50, HiddenSize = 16, Layers = 2, Heads = 2, IntermediateSize = 24, MaxPositions = 34, HiddenDropout = 0f,
        AttentionDropout = 0f, NumLabels = 4,
    };

    private static (Tensor Ids, Tensor Mask) Batch(int pad)
    {
        int[] ids = [0, 5, 9, 13, 7, 2, 0, 44, 3, 21, 2, pad, pad, pad];
        int[] mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0];
        return (Tensor.FromArray(ids, 2, 7), Tensor.FromArray(mask, 2, 7));
    }

    private static void AssertClose(float[] a, float[] b, double tol, string what)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol, $"{what}[{i}]: {a[i]} vs {b[i]}");
    }

    private static DictionaryTensorSource Source(IEncoderTaskModel m, Func<string, string>? rename = null) =>
        new(HfWeights.Export(m.HfBindings()).ToDictionary(kv => rename?.Invoke(kv.Key) ?? kv.Key, kv => kv.Value));

    [Fact]
    public void DistilBertClassifierSurvivesExportAndLoad()
    {
        var a = new DistilBertForSequenceClassification(TinyDistil, seed: 1);
        var b = new DistilBertForSequenceClassification(TinyDistil, seed: 2);
        var (ids, mask) = Batch(TinyDistil.PadTokenId);
        var before = b.Forward(ids, mask).ToArray();
        var src = Source(a);
        Assert.Contains("distilbert.transformer.layer.1.attention.q_lin.weight", src.Names);
        Assert.Contains("distilbert.transformer.layer.0.ffn.lin2.bias", src.Names);
        Assert.Contains("pre_classifier.weight", src.Names);
        Assert.DoesNotContain(src.Names, n => n.Contains("token_type", StringComparison.Ordinal) || n.Contains("pooler", StringComparison.Ordinal));
        b.LoadHuggingFace(src);
        var want = a.Forward(ids, mask).ToArray();
        Assert.Equal(want, b.Forward(ids, mask).ToArray());
        Assert.NotEqual(want, before);
        Assert.Equal([2, 3], a.Forward(ids, mask).Shape.ToArray());
    }

    [Fact]
    public void RobertaClassifierSurvivesExportAndLoad()
    {
        var a = new RobertaForSequenceClassification(TinyRoberta, seed: 1);
        var b = new RobertaForSequenceClassification(TinyRoberta, seed: 2);
        var (ids, mask) = Batch(TinyRoberta.PadTokenId);
        var src = Source(a);
        Assert.Contains("roberta.encoder.layer.0.attention.self.key.bias", src.Names);
        Assert.Contains("classifier.out_proj.weight", src.Names);
        Assert.Contains("roberta.embeddings.token_type_embeddings.weight", src.Names);
        b.LoadHuggingFace(src);
        Assert.Equal(a.Forward(ids, mask).ToArray(), b.Forward(ids, mask).ToArray());
        Assert.Equal([2, 4], b.Forward(ids, mask).Shape.ToArray());
    }

    [Theory]
    [InlineData("distilbert-cls")]
    [InlineData("roberta-cls")]
    [InlineData("roberta-mlm")]
    [InlineData("bert-pretraining")]
    public void SavedFoldersReloadThroughTheFactory(string which)
    {
        IEncoderTaskModel a = which switch
        {
            "distilbert-cls" => new DistilBertForSequenceClassification(TinyDistil, seed: 1),
            "roberta-cls" => new RobertaForSequenceClassification(TinyRoberta, seed: 1),
            "roberta-mlm" => new BertForMaskedLM(TinyRoberta, seed: 1),
            _ => new BertForPreTraining(BertConfig.Tiny, seed: 1),
        };
        string dir = Path.Combine(Path.GetTempPath(), "sharpt-enc-" + Guid.NewGuid().ToString("N"));
        try
        {
            EncoderModels.SaveHuggingFace(a, dir);
            var b = EncoderModels.FromHuggingFace(dir);
            Assert.Equal(a.GetType(), b.GetType());
            Assert.Equal(a.Encoder.Config, b.Encoder.Config);
            var (ids, mask) = Batch(a.Encoder.Config.PadTokenId);
            var oa = a.Outputs(ids, mask);
            var ob = b.Outputs(ids, mask);
            Assert.Equal(oa.Keys.Order(), ob.Keys.Order());
            foreach (var k in oa.Keys) Assert.Equal(oa[k].ToArray(), ob[k].ToArray());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void BertPretrainingLoadsBareOldAndTiedNames()
    {
        var cfg = BertConfig.Tiny;
        var a = new BertForPreTraining(cfg, seed: 1);
        var (ids, mask) = Batch(0);
        var want = a.Forward(ids, mask).MlmLogits.ToArray();
        // Without the bert. prefix, with gamma/beta LayerNorm names, and with the tied decoder stored explicitly.
        var src = Source(a, n => RenameOld(n.StartsWith("bert.", StringComparison.Ordinal) ? n["bert.".Length..] : n));
        var dict = HfWeights.Export(a.HfBindings()).ToDictionary(kv => RenameOld(kv.Key.StartsWith("bert.", StringComparison.Ordinal) ? kv.Key[5..] : kv.Key), kv => kv.Value);
        dict["cls.predictions.decoder.weight"] = dict["embeddings.word_embeddings.weight"];
        dict["embeddings.position_ids"] = ([1, 64], new float[64]);
        var b = new BertForPreTraining(cfg, seed: 2);
        b.LoadHuggingFace(new DictionaryTensorSource(dict));
        Assert.Equal(want, b.Forward(ids, mask).MlmLogits.ToArray());
        Assert.Contains("embeddings.LayerNorm.gamma", src.Names);

        // The bare encoder loads the task checkpoint, skipping its heads.
        var enc = new Bert(cfg, seed: 3);
        enc.LoadHuggingFace(Source(a));
        Assert.Equal(a.Encoder.Encode(ids, mask).LastHiddenState.ToArray(), enc.Encode(ids, mask).LastHiddenState.ToArray());

        static string RenameOld(string n) => n.Contains("LayerNorm.weight", StringComparison.Ordinal) ? n.Replace("LayerNorm.weight", "LayerNorm.gamma", StringComparison.Ordinal)
            : n.Contains("LayerNorm.bias", StringComparison.Ordinal) ? n.Replace("LayerNorm.bias", "LayerNorm.beta", StringComparison.Ordinal) : n;
    }

    [Fact]
    public void BrokenCheckpointListsEveryProblem()
    {
        var a = new BertForSequenceClassification(BertConfig.Tiny with { NumLabels = 3 }, seed: 1);
        var dict = HfWeights.Export(a.HfBindings());
        dict.Remove("bert.encoder.layer.1.attention.self.value.weight");
        dict["bert.pooler.dense.weight"] = ([16, 8], new float[128]);
        dict["bert.encoder.layer.7.output.dense.weight"] = ([16, 16], new float[256]);
        var b = new BertForSequenceClassification(BertConfig.Tiny with { NumLabels = 3 }, seed: 2);
        var e = Assert.Throws<InvalidDataException>(() => b.LoadHuggingFace(new DictionaryTensorSource(dict), "broken.safetensors"));
        Assert.Contains("broken.safetensors", e.Message);
        Assert.Contains("encoder.layer.1.attention.self.value.weight", e.Message);
        Assert.Contains("missing (1)", e.Message);
        Assert.Contains("bert.pooler.dense.weight: checkpoint (16, 8), model expects (16, 16)", e.Message);
        Assert.Contains("bert.encoder.layer.7.output.dense.weight", e.Message);

        // A pretrained encoder without the classifier loads only when asked to keep the fresh head.
        var pre = HfWeights.Export(new BertForPreTraining(BertConfig.Tiny, seed: 4).HfBindings());
        var c = new BertForSequenceClassification(BertConfig.Tiny, seed: 5);
        var err = Assert.Throws<InvalidDataException>(() => c.LoadHuggingFace(new DictionaryTensorSource(pre)));
        Assert.Contains("classifier.weight", err.Message);
        c.LoadHuggingFace(new DictionaryTensorSource(pre), "pre.safetensors", keepMissingHead: true);
    }

    [Fact]
    public void RobertaPositionsCountPastPadding()
    {
        var m = new Bert(TinyRoberta with { Pooler = false });
        var pos = m.Embeddings.PositionIds(Tensor.FromArray(new[] { 0, 7, 8, 2, 1, 1, 0, 9, 2, 1, 1, 1 }, 2, 6)).ToIntArray();
        Assert.Equal(new[] { 2, 3, 4, 5, 1, 1, 2, 3, 4, 1, 1, 1 }, pos);
        var bert = new Bert(BertConfig.Tiny);
        Assert.Equal(new[] { 0, 1, 2 }, bert.Embeddings.PositionIds(Tensor.FromArray(new[] { 5, 0, 0 }, 1, 3)).ToIntArray());
    }

    [Theory]
    [InlineData(EncoderKind.Bert)]
    [InlineData(EncoderKind.DistilBert)]
    [InlineData(EncoderKind.Roberta)]
    public void PaddingDoesNotChangeTheRealTokens(EncoderKind kind)
    {
        var cfg = kind switch { EncoderKind.DistilBert => TinyDistil, EncoderKind.Roberta => TinyRoberta, _ => BertConfig.Tiny };
        var m = new Bert(cfg, seed: 9);
        m.Eval();
        int pad = cfg.PadTokenId;
        var shortIds = Tensor.FromArray(new[] { 0, 11, 12, 13, 2 }, 1, 5);
        var padded = Tensor.FromArray(new[] { 0, 11, 12, 13, 2, pad, pad, pad }, 1, 8);
        var mask = Tensor.FromArray(new[] { 1, 1, 1, 1, 1, 0, 0, 0 }, 1, 8);
        var a = m.Encode(shortIds).LastHiddenState.ToArray();
        var b = m.Encode(padded, mask).LastHiddenState.Narrow(1, 0, 5).ToArray();
        AssertClose(a, b, 1e-5, $"{kind} hidden");
        var unmasked = m.Encode(padded).LastHiddenState.Narrow(1, 0, 5).ToArray();
        Assert.True(a.Zip(unmasked).Any(p => Math.Abs(p.First - p.Second) > 1e-3), "padding without a mask should change the outputs");
    }

    [Fact]
    public void ConfigsReadEveryFamily()
    {
        var d = BertConfig.FromHuggingFaceJson("""
            {"model_type":"distilbert","architectures":["DistilBertForSequenceClassification"],"dim":32,"n_layers":3,"n_heads":4,
             "hidden_dim":64,"activation":"relu","max_position_embeddings":40,"vocab_size":77,"pad_token_id":0,"dropout":0.0,
             "attention_dropout":0.0,"seq_classif_dropout":0.3,"id2label":{"0":"a","1":"b","2":"c"}}
            """);
        Assert.Equal(new BertConfig(77, 32, 3, 4, 64, 40, 0, 1e-12f, HiddenActivation.Relu, 0f, 0f, 0, EncoderKind.DistilBert, false, 3, 0.3f, ["a", "b", "c"]), d);
        var r = BertConfig.FromHuggingFaceJson("""{"model_type":"roberta","vocab_size":90,"hidden_size":16,"num_hidden_layers":1,"num_attention_heads":2,"intermediate_size":20,"max_position_embeddings":22,"type_vocab_size":1,"layer_norm_eps":1e-5,"pad_token_id":1,"hidden_act":"gelu"}""");
        Assert.Equal(EncoderKind.Roberta, r.Kind);
        Assert.Equal(2, r.PositionOffset);
        Assert.Equal(20, r.MaxSequenceLength);
        Assert.Equal(1e-5f, r.LayerNormEps);
        var e = Assert.Throws<NotSupportedException>(() => BertConfig.FromHuggingFaceJson("""{"model_type":"bert","hidden_act":"swish"}"""));
        Assert.Contains("swish", e.Message);
        Assert.Equal(3, ((EncoderSequenceClassifier)EncoderModels.Create(d, ["DistilBertForSequenceClassification"])).NumLabels);
        Assert.IsType<BertForMaskedLM>(EncoderModels.Create(r, ["RobertaForMaskedLM"]));
        Assert.IsType<Bert>(EncoderModels.Create(r, ["RobertaModel"]));
    }

    [Fact]
    public void PretrainingLossGradientMatchesFiniteDifferences()
    {
        var m = new BertForPreTraining(BertConfig.Tiny, seed: 4);
        m.Eval();
        var ids = Tensor.FromArray(new[] { 1, 5, 9, 13, 2, 20, 30, 2, 1, 44, 3, 21, 2, 8, 2, 0 }, 2, 8);
        var mask = Tensor.FromArray(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 }, 2, 8);
        var types = Tensor.FromArray(new[] { 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0 }, 2, 8);
        var labels = Tensor.FromArray(new[] { -100, 6, -100, 13, -100, -100, 31, -100, -100, -100, 3, -100, -100, 9, -100, -100 }, 2, 8);
        var nsp = Tensor.FromArray(new[] { 0, 1 }, 2);
        float Loss() => m.Loss(ids, labels, nsp, mask, types).Item();
        m.ZeroGrad();
        m.Loss(ids, labels, nsp, mask, types).Backward();
        foreach (var (name, p) in m.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name}: no gradient");
            var g = p.Grad!.ToArray();
            Assert.True(g.All(float.IsFinite), $"{name}: non-finite gradient");
            if (name != "encoder.embeddings.position.weight") Assert.True(g.Any(v => v != 0f), $"{name}: zero gradient");
        }
        // Central differences on the largest-gradient element of a few parameters (fp32: step 1e-2, tolerance 2e-3 + 5%).
        var q = m.Encoder.Layers[0].Attention.Qkv!.Weight!;
        foreach (var p in new[] { q, m.Encoder.Embeddings.Word.Weight, m.Encoder.Layers[1].Mlp.Up.Weight!, m.Encoder.Embeddings.Norm.Weight, m.Nsp.Weight!, m.Mlm.Bias })
        {
            var g = p.Grad!.ToArray();
            int k = Array.IndexOf(g, g.MaxBy(Math.Abs));
            var idx = Unravel(k, p.Shape.ToArray());
            float orig = p[idx];
            const float h = 1e-2f;
            using (GradMode.NoGrad())
            {
                Set(p, k, orig + h); float up = Loss();
                Set(p, k, orig - h); float down = Loss();
                Set(p, k, orig);
                double fd = (up - down) / (2.0 * h);
                Assert.True(Math.Abs(fd - g[k]) <= 2e-3 + 0.05 * Math.Abs(g[k]), $"{p.ShapeString}[{k}]: analytic {g[k]}, finite difference {fd}");
            }
        }
    }

    private static int[] Unravel(int k, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { idx[d] = k % shape[d]; k /= shape[d]; }
        return idx;
    }

    private static void Set(Tensor p, int k, float v)
    {
        var data = p.ToArray();
        data[k] = v;
        p.Detach().CopyFrom(Tensor.FromArray(data, p.Shape.ToArray()));
    }
}
