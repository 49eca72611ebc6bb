using System.Text.Json;
using SharpTransformer.Autograd;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.Models.Bert;
using SharpTransformer.Pipelines;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Pipelines;

/// <summary>The pipelines on Hugging Face folders built from the fixtures (see <see cref="ModelFolders"/>).</summary>
public sealed class PipelineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-pipeline-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Sub(string name) => Path.Combine(_dir, name);

    [Fact]
    public void TextGenerationReproducesTheFixturesGreedyTokens()
    {
        string dir = ModelFolders.Gpt2Tiny(Sub("gpt2"));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(ModelFolders.Fixture("gpt2-tiny"), "expected.json")));
        int[] prompt = doc.RootElement.GetProperty("greedy_prompt_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int[] expected = doc.RootElement.GetProperty("greedy_new_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

        var pipe = Pipeline.TextGeneration(dir);
        string text = pipe.Tokenizer.Decode(prompt);
        Assert.Equal(prompt, pipe.Tokenizer.Encode(text));             // the prompt's text gives the fixture's ids back
        var r = pipe.Run(text, new GenerationOptions(MaxNewTokens: expected.Length, Greedy: true));
        Assert.Equal(expected, r.NewIds);
        Assert.Equal(text + pipe.Tokenizer.Decode(expected), r.Text);
        Assert.Equal(pipe.Tokenizer.Decode(expected), r.NewText);
        Assert.Equal(expected.Take(5), pipe.Run(text, new GenerationOptions(MaxNewTokens: 5, Greedy: true, UseCache: false)).NewIds);
    }

    // The fixture's row as a text pair: the tokens of segment 0, then those of segment 1 (padding left out).
    private static (string A, string B, int[] Ids) Row(int row, bool maskWord = true)
    {
        var (ids, types, mask, _) = ModelFolders.BertTinyExpected();
        var r = Enumerable.Range(row * 20, 20).Where(t => mask[t] == 1).ToList();
        return (ModelFolders.Text(r.Where(t => types[t] == 0).Select(t => ids[t]), maskWord), ModelFolders.Text(r.Where(t => types[t] == 1).Select(t => ids[t]), maskWord),
            r.Select(t => ids[t]).ToArray());
    }

    [Fact]
    public void FeatureExtractionMatchesTheFixturesHiddenStatesAndPooler()
    {
        // Row 1 holds id 103: here a plain word, since text is not read for special tokens outside fill-mask.
        string dir = ModelFolders.BertTiny(Sub("bert"), mask: false);
        var pipe = Pipeline.FeatureExtraction(dir);
        var (_, _, _, expected) = ModelFolders.BertTinyExpected();
        for (int row = 0; row < 2; row++)
        {
            var (a, b, ids) = Row(row, maskWord: false);
            var f = pipe.Run(a, b);
            Assert.Equal(ids, f.TokenIds);
            for (int t = 0; t < ids.Length; t++)
                for (int j = 0; j < 64; j++)
                    Assert.True(Math.Abs(f.Tokens[t][j] - expected["last_hidden_state"][(row * 20 + t) * 64 + j]) <= 1e-4, $"row {row}, position {t}, feature {j}");
            for (int j = 0; j < 64; j++)
            {
                Assert.True(Math.Abs(f.Pooled![j] - expected["pooler_output"][row * 64 + j]) <= 1e-4, $"row {row}, pooled feature {j}");
                double mean = Enumerable.Range(0, ids.Length).Average(t => (double)expected["last_hidden_state"][(row * 20 + t) * 64 + j]);
                Assert.True(Math.Abs(f.Mean[j] - mean) <= 1e-4, $"row {row}, mean feature {j}");
            }
        }
    }

    [Fact]
    public void FillMaskMatchesTheFixturesMaskedLmLogits()
    {
        string dir = ModelFolders.BertTiny(Sub("bert"));
        var pipe = Pipeline.FillMask(dir);
        Assert.Equal("[MASK]", pipe.MaskToken);
        var (a, b, ids) = Row(1);
        int at = Array.IndexOf(ids, 103);
        Assert.True(at > 0, "row 1 of the fixture holds id 103");
        var (_, _, _, expected) = ModelFolders.BertTinyExpected();
        var want = expected["mlm_logits"].AsSpan((20 + at) * 1000, 1000).ToArray();
        double max = want.Max();
        var p = want.Select(v => Math.Exp(v - max)).ToArray();
        double sum = p.Sum();
        var best = Enumerable.Range(0, 1000).OrderByDescending(i => p[i]).Take(5).ToArray();

        var result = pipe.Run(a, topK: 5, textPair: b);
        var predictions = Assert.Single(result);                      // one mask
        Assert.Equal(best, predictions.Select(x => x.TokenId));
        for (int k = 0; k < 5; k++)
        {
            Assert.True(Math.Abs(predictions[k].Score - p[best[k]] / sum) <= 1e-5, $"candidate {k}: {predictions[k].Score} vs {p[best[k]] / sum}");
            Assert.Equal(ModelFolders.Word(best[k]), predictions[k].Token);
            var filled = (int[])ids.Clone();
            filled[at] = best[k];
            Assert.Equal(ModelFolders.Text(filled.Where(i => i is not (0 or 1 or 103))), predictions[k].Sequence);
        }
        Assert.Throws<ArgumentException>(() => pipe.Run("w5 w6"));
        Assert.Equal(2, pipe.Run("w5 [MASK] w7 [MASK]", topK: 3).Count);
    }

    [Fact]
    public void TextClassificationReadsASavedClassifierWithItsLabelNames()
    {
        string dir = Sub("clf");
        var config = BertConfig.FromHuggingFace(ModelFolders.Fixture("bert-tiny")) with { NumLabels = 3, LabelNames = ["negative", "neutral", "positive"] };
        var clf = new BertForSequenceClassification(config, seed: 11);
        using (var w = SafeTensorsFile.Open(Path.Combine(ModelFolders.Fixture("bert-tiny"), "model.safetensors")))
            clf.LoadHuggingFace(w, w.Path, keepMissingHead: true, warnings: []);
        EncoderModels.SaveHuggingFace(clf, dir);
        ModelFolders.WriteBertTinyTokenizer(dir);

        var pipe = Pipeline.TextClassification(dir);
        Assert.Equal(new[] { "negative", "neutral", "positive" }, pipe.Labels);
        const string text = "w17 w250 w33 w901";
        clf.Eval();
        float[] logits;
        using (GradMode.NoGrad()) logits = clf.Forward(Tensor.FromArray(new[] { 17, 250, 33, 901 }, 1, 4)).ToArray();
        double m = logits.Max(), z = logits.Sum(v => Math.Exp(v - m));
        var all = pipe.Run(text, topK: null);
        Assert.Equal(3, all.Count);
        Assert.Equal(1.0, all.Sum(s => s.Score), 5);
        Assert.True(all[0].Score >= all[1].Score && all[1].Score >= all[2].Score);
        foreach (var s in all)
        {
            int i = Array.IndexOf(config.LabelNames!.ToArray(), s.Label);
            Assert.Equal(Math.Exp(logits[i] - m) / z, s.Score, 5);
        }
        Assert.Equal(all[0], Assert.Single(pipe.Run(text)));
        Assert.Equal(2, pipe.Run(text, topK: 2).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => pipe.Run(text, topK: 0));
    }

    private string TokenClassifierFolder(string name, int hotLabel)
    {
        string dir = Sub(name);
        var config = BertConfig.FromHuggingFace(ModelFolders.Fixture("bert-tiny")) with { NumLabels = 5, LabelNames = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"] };
        var model = new BertForTokenClassification(config, seed: 3);
        // A head that gives every token the same tag: zero weights, and a bias of 5 on that tag.
        model.Classifier.Weight.CopyFrom(Tensor.Zeros(model.Classifier.Weight.Shape));
        model.Classifier.Bias!.CopyFrom(Tensor.FromArray(Enumerable.Range(0, 5).Select(i => i == hotLabel ? 5f : 0f).ToArray()));
        EncoderModels.SaveHuggingFace(model, dir);
        ModelFolders.WriteBertTinyTokenizer(dir);
        return dir;
    }

    [Fact]
    public void TokenClassificationGroupsTokensIntoEntitiesWithCharacterOffsets()
    {
        const string text = "w5  w17 w333";
        float score = (float)(Math.Exp(5) / (Math.Exp(5) + 4));
        // Every token I-PER: one entity over the whole text.
        var one = Pipeline.TokenClassification(TokenClassifierFolder("inside", 2)).Run(text);
        var e = Assert.Single(one);
        Assert.Equal(new TaggedEntity("PER", e.Score, text, 0, text.Length), e);
        Assert.Equal(score, e.Score, 5);
        // Every token B-LOC: each token starts an entity of its own.
        var three = Pipeline.TokenClassification(TokenClassifierFolder("begin", 3)).Run(text);
        Assert.Equal(new[] { ("w5", 0, 2), ("w17", 4, 7), ("w333", 8, 12) }, three.Select(x => (x.Word, x.Start, x.End)));
        Assert.All(three, x => Assert.Equal("LOC", x.EntityGroup));
        // Every token O: no entity.
        Assert.Empty(Pipeline.TokenClassification(TokenClassifierFolder("outside", 0)).Run(text));
    }

    [Fact]
    public void EntityGroupingFollowsHuggingFacesSimpleStrategy()
    {
        const string text = "Ann Lee went to Paris Rome in Acme Corp";
        (string, float, int, int) T(string tag, float s, string word) { int i = text.IndexOf(word, StringComparison.Ordinal); return (tag, s, i, i + word.Length); }
        var groups = TokenClassificationPipeline.Group(text, [
            T("B-PER", 0.9f, "Ann"), T("I-PER", 0.7f, "Lee"), T("O", 0.99f, "went"), T("O", 0.99f, "to"),
            T("B-LOC", 0.8f, "Paris"), T("B-LOC", 0.6f, "Rome"), T("I-ORG", 0.5f, "in"), T("I-LOC", 0.4f, "Acme"), T("MISC", 0.3f, "Corp")]);
        Assert.Equal(new[] { ("PER", "Ann Lee"), ("LOC", "Paris"), ("LOC", "Rome"), ("ORG", "in"), ("LOC", "Acme"), ("MISC", "Corp") },
            groups.Select(g => (g.EntityGroup, g.Word)));
        Assert.Equal(0.8f, groups[0].Score, 5);
        Assert.Equal((0, 7), (groups[0].Start, groups[0].End));
        
    }
}
