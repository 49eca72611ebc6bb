using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.Classification;

namespace SharpTransformer.Tests.Cli;

/// <summary><c>sharpt distill classify|lm</c> on tiny data: runs, keeps the best student, and refuses mismatched tokenizers.</summary>
[Collection(nameof(CliTests))]
public sealed class DistillCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpt-distill-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Subset(string file, int rows)
    {
        string path = Path.Combine(_dir, Path.GetFileName(file));
        File.WriteAllLines(path, File.ReadLines(Path.Combine(TestPaths.Data, "sst2", file)).Take(rows + 1));
        return path;
    }

    [Fact]
    public void AClassifierIsDistilledIntoASmallerStudentWithTheTeachersTokenizer()
    {
        string train = Subset("train.tsv", 800), dev = Subset("dev.tsv", 150), teacher = Path.Combine(_dir, "teacher"), student = Path.Combine(_dir, "student");
        var t = SharptProcess.Run("classify", "train", "--train", train, "--dev", dev, "--out", teacher, "--epochs", "1", "--dim", "32", "--layers", "1",
            "--vocab-size", "600", "--threads", "1");
        Assert.True(t.ExitCode == 0, t.Out + t.Err);
        var (code, output, err) = SharptProcess.Run("distill", "classify", "--teacher", teacher, "--train", train, "--dev", dev, "--out", student,
            "--dim", "16", "--layers", "1", "--heads", "2", "--epochs", "2", "--temperature", "3", "--alpha", "0.8", "--hidden-loss-weight", "0.5",
            "--eval-every", "10", "--threads", "1", "--init-from-teacher");
        Assert.True(code == 0, output + err);
        Assert.Contains("projection 16 -> 32", output);
        Assert.Contains("student embeddings (word.weight, position.weight, token_type.weight) initialised from the teacher's top 16 of 32 principal directions", output);
        double accuracy = SharptProcess.LastFigure(output, "accuracy");
        Assert.InRange(accuracy, 0.0, 1.0);
        var logged = File.ReadAllLines(Path.Combine(student, "metrics.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(accuracy, logged.Where(l => l.TryGetProperty("eval_accuracy", out _)).Max(l => l.GetProperty("eval_accuracy").GetDouble()), 4);
        Assert.True(logged.Count(l => l.TryGetProperty("eval_accuracy", out _)) >= 3);

        // The kept student is a plain classifier (no projection) with the teacher's tokenizer; classify eval reproduces its accuracy.
        var model = TextClassifier.Load(student);
        Assert.Equal(16, model.Spec.Dim);
        Assert.DoesNotContain(model.Module.NamedParameters(), p => p.Name.Contains("projection"));
        Assert.Equal(Checkpoint.Load(Path.Combine(teacher, "model.safetensors")).TokenizerJson, Checkpoint.Load(Path.Combine(student, "model.safetensors")).TokenizerJson);
        var ev = SharptProcess.Run("classify", "eval", "--checkpoint", student, "--data", dev);
        Assert.True(ev.ExitCode == 0, ev.Out + ev.Err);
        Assert.Equal(accuracy, SharptProcess.LastFigure(ev.Out, "accuracy"), 4);
    }

    [Fact]
    public void ALanguageModelIsDistilledAndADifferentTokenizerIsRefused()
    {
        string corpus = Path.Combine(_dir, "corpus.txt"), other = Path.Combine(_dir, "other.txt");
        File.WriteAllText(corpus, string.Concat(Enumerable.Repeat("the cat sat on the mat. the dog ran to the log. ", 60)));
        File.WriteAllText(other, string.Concat(Enumerable.Repeat("xyz qrs! ", 200)));
        string teacher = Path.Combine(_dir, "t"), student = Path.Combine(_dir, "s"), foreign = Path.Combine(_dir, "f"), outDir = Path.Combine(_dir, "d");
        string[] common = ["--heads", "2", "--block", "16", "--batch", "4", "--eval-interval", "10", "--threads", "1"];
        Assert.Equal(0, SharptInProcess.Run(["train-lm", "--input", corpus, "--out", teacher, "--layers", "2", "--embd", "32", "--steps", "30", .. common]));
        Assert.Equal(0, SharptInProcess.Run(["train-lm", "--input", corpus, "--out", student, "--layers", "1", "--embd", "16", "--steps", "1", .. common]));
        Assert.Equal(0, SharptInProcess.Run(["train-lm", "--input", other, "--out", foreign, "--layers", "1", "--embd", "16", "--steps", "1", .. common]));

        var (code, output, err) = SharptProcess.Run("distill", "lm", "--teacher", teacher, "--student", student, "--input", corpus, "--out", outDir,
            "--steps", "40", "--batch", "4", "--eval-interval", "20", "--warmup", "5", "--temperature", "2", "--alpha", "0.5", "--hidden-loss-weight", "0.2", "--threads", "1");
        Assert.True(code == 0, output + err);
        Assert.Contains("projection 16 -> 32", output);
        double loss = SharptProcess.LastFigure(output, "loss");
        Assert.True(double.IsFinite(loss) && loss > 0, output);
        var best = LanguageModelCheckpoint.Load(outDir);
        Assert.Equal(16, best.Model.HiddenSize);
        Assert.True(File.Exists(Path.Combine(outDir, "metrics.jsonl")));
        var before = SharptProcess.Run("eval-lm", "--checkpoint", Path.Combine(student, "best.safetensors"), "--input", corpus);
        var after = SharptProcess.Run("eval-lm", "--checkpoint", Path.Combine(outDir, "best.safetensors"), "--input", corpus);
        Assert.True(before.ExitCode == 0 && after.ExitCode == 0, before.Err + after.Err);
        Assert.True(SharptProcess.LastFigure(after.Out, "perplexity") < SharptProcess.LastFigure(before.Out, "perplexity"), before.Out + after.Out);

        var bad = SharptProcess.Run("distill", "lm", "--teacher", teacher, "--student", foreign, "--input", corpus, "--out", Path.Combine(_dir, "x"), "--steps", "2");
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith("sharpt distill lm: error: ", bad.Err);
        Assert.Contains("tokenizer", bad.Err);
        Assert.Contains(Path.Combine(foreign, "best.safetensors"), bad.Err);
        Assert.DoesNotContain("   at ", bad.Err);
    }

    // Tables named as a BERT classifier's embeddings: body.embeddings.{word,position}.weight.
    private sealed class Node : SharpTransformer.Nn.Module
    {
        public Node(params (string Name, SharpTransformer.Nn.Module Child)[] children) { foreach (var (n, c) in children) RegisterModule(n, c); }
        public Node(SharpTransformer.Tensors.Tensor weight) => RegisterParameter("weight", weight);
    }

    private static Node Tables(float[] word, int rows, int width, float[] position, int positions) =>
        new(("body", new Node(("embeddings", new Node(
            ("word", new Node(SharpTransformer.Tensors.Tensor.FromArray(word, rows, width))),
            ("position", new Node(SharpTransformer.Tensors.Tensor.FromArray(position, positions, width))))))));

    [Fact]
    public void TeacherEmbeddingsInAPlaneKeepTheirGeometryInANarrowerStudent()
    {
        // Teacher rows (4 wide) all lie in the plane spanned by u and v: the top 2 principal directions are that plane, so the
        // projected 2-wide student rows keep every inner product.
        var rng = new Random(3);
        double[] u = [0.5, 0.5, 0.5, 0.5], v = [0.5, -0.5, 0.5, -0.5];
        float[] Rows(int n) => Enumerable.Range(0, n).SelectMany(_ =>
        {
            double a = rng.NextDouble() * 2 - 1, b = rng.NextDouble() * 0.5 - 0.25;
            return Enumerable.Range(0, 4).Select(i => (float)(a * u[i] + b * v[i]));
        }).ToArray();
        var teacherWord = Rows(30);
        var teacherPos = Rows(5);
        var teacher = Tables(teacherWord, 30, 4, teacherPos, 5);
        var student = Tables(new float[60], 30, 2, new float[10], 5);
        var message = SharpTransformer.Cli.Commands.Distill.DistillClassify.InitEmbeddings(teacher, student, 1);
        Assert.Contains("top 2 of 4 principal directions", message);
        var sw = student.NamedParameters().First().Parameter.ToArray();
        var sp = student.NamedParameters().Last().Parameter.ToArray();
        double Dot(float[] x, int i, int wx, float[] y, int j, int wy, int w) => Enumerable.Range(0, w).Sum(k => (double)x[i * wx + k] * y[j * wy + k]);
        for (int i = 0; i < 30; i += 3)
            for (int j = 0; j < 5; j++)
                Assert.Equal(Dot(teacherWord, i, 4, teacherPos, j, 4, 4), Dot(sw, i, 2, sp, j, 2, 2), 4);   // word·position kept
        for (int i = 0; i < 30; i += 4)
            Assert.Equal(Dot(teacherWord, i, 4, teacherWord, i, 4, 4), Dot(sw, i, 2, sw, i, 2, 2), 4);
    }
}
