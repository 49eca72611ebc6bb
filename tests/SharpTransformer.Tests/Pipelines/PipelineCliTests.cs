using System.Globalization;
using SharpTransformer.Generation;
using SharpTransformer.IO;
using SharpTransformer.Pipelines;
using SharpTransformer.Tests.Cli;

namespace SharpTransformer.Tests.Pipelines;

/// <summary>The pipelines on what the <c>sharpt</c> command trained (run in-process for a few steps on tiny data).</summary>
[Collection(nameof(CliTests))]
public sealed class PipelineCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-pipeline-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Sub(string name) => Path.Combine(_dir, name);

    [Fact]
    public void TextGenerationLoadsATrainLmOutputAndGeneratesWhatSharptGenerateDoes()
    {
        string input = Sub("input.txt"), run = Sub("lm");
        File.WriteAllText(input, File.ReadAllText(Path.Combine(TestPaths.Data, "tinyshakespeare", "input.txt"))[..6000]);
        int code = SharptInProcess.Run("train-lm", "--input", input, "--out", run, "--steps", "6", "--batch", "4", "--block", "32",
            "--layers", "1", "--heads", "2", "--embd", "32", "--eval-interval", "3", "--warmup", "2");
        Assert.Equal(0, code);

        var pipe = Pipeline.TextGeneration(run);
        var r = pipe.Run("ROMEO:", new GenerationOptions(MaxNewTokens: 12, Greedy: true));
        Assert.Equal(12, r.NewIds.Length);
        Assert.StartsWith("ROMEO:", r.Text);
        Assert.Equal(12, r.NewText.Length);                                  // characters
        // The folder's best checkpoint: its parameters are the model's.
        var ck = Checkpoint.Load(Path.Combine(run, "best.safetensors"));
        foreach (var (name, p) in pipe.Model.NamedParameters())
            Assert.Equal(ck.Tensors["model." + name].Data, p.ToArray());
        // The CLI's own generate command, as a separate process, prints the same text.
        var g = SharptProcess.Run("generate", "--checkpoint", Path.Combine(run, "best.safetensors"), "--prompt", "ROMEO:", "--max-new-tokens", "12", "--greedy");
        Assert.True(g.ExitCode == 0, g.Out + g.Err);
        Assert.Equal(r.Text, g.Out.TrimEnd('\n', '\r'));
        // Another task's pipeline names what the folder holds.
        var wrong = Assert.Throws<InvalidDataException>(() => Pipeline.TextClassification(run));
        Assert.Contains("'gpt2'", wrong.Message);
        Assert.Contains(run, wrong.Message);
    }

    [Fact]
    public void TextClassificationLoadsAClassifyTrainOutputAndAgreesWithSharptPredict()
    {
        string train = Sub("train.tsv"), dev = Sub("dev.tsv"), run = Sub("clf");
        File.WriteAllLines(train, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "train.tsv")).Take(161));
        File.WriteAllLines(dev, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", "dev.tsv")).Take(41));
        int code = SharptInProcess.Run("classify", "train", "--train", train, "--dev", dev, "--out", run, "--model", "encoder-mini",
            "--epochs", "1", "--batch", "32", "--dim", "32", "--layers", "1", "--vocab-size", "300", "--max-length", "32");
        Assert.Equal(0, code);

        var pipe = Pipeline.TextClassification(run);
        Assert.Equal(new[] { "0", "1" }, pipe.Labels.Order());
        const string text = "a gripping , funny film";
        var all = pipe.Run(text, topK: null);
        Assert.Equal(1.0, all.Sum(s => s.Score), 5);
        var p = SharptProcess.RunWithInput(text + "\n", "classify", "predict", "--checkpoint", run);
        Assert.True(p.ExitCode == 0, p.Out + p.Err);
        var fields = p.Out.Trim().Split('\t');
        Assert.Equal(fields[0], all[0].Label);
        Assert.Equal(double.Parse(fields[1], CultureInfo.InvariantCulture), all[0].Score, 3);
    }

    [Fact]
    public void TokenClassificationLoadsANerTrainOutputAndGivesEntitiesWithOffsets()
    {
        string train = Sub("train.txt"), dev = Sub("dev.txt"), run = Sub("ner");
        static IEnumerable<string> Sentences(string file, int n)
        {
            int k = 0;
            foreach (var l in File.ReadLines(Path.Combine(TestPaths.Data, "conll2003", file)))
            {
                yield return l;
                if (l.Trim().Length == 0 && ++k >= n) yield break;
            }
        }
        File.WriteAllLines(train, Sentences("train.txt", 60));
        File.WriteAllLines(dev, Sentences("dev.txt", 20));
        int code = SharptInProcess.Run("ner", "train", "--train", train, "--dev", dev, "--out", run, "--epochs", "1", "--dim", "32", "--layers", "1", "--heads", "2");
        Assert.Equal(0, code);

        var pipe = Pipeline.TokenClassification(run);
        Assert.Contains("B-PER", pipe.Labels);
        const string text = "Peter Blackburn said in Brussels that the European Commission disagreed .";
        var entities = pipe.Run(text);
        var types = pipe.Labels.Where(t => t != "O").Select(t => t[2..]).ToHashSet();
        foreach (var e in entities)
        {
            Assert.Equal(text[e.Start..e.End], e.Word);
            Assert.Contains(e.EntityGroup, types);
            Assert.InRange(e.Score, 0f, 1f);
        }
        // The same tags as the tagger decodes on the words directly.
        var tagger = SharpTransformer.Models.Tagging.TaggerCheckpoint.Load(run);
        var words = TokenClassificationPipeline.SplitWords(text);
        var batch = SharpTransformer.Models.Tagging.WordBatch.Create(tagger.Features, [words.Select(w => text[w.Start..w.End]).ToList()]);
        var path = tagger.Tagger.Decode(batch)[0];
        int tagged = path.Count(t => tagger.Tags[t] != "O");
        Assert.Equal(tagged, entities.Sum(e => words.Count(w => w.Start >= e.Start && w.End <= e.End)));
    }
}
