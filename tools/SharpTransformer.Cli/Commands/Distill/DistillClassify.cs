using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Cli.Commands.Classify;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Models.Classification;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands.Distill;

/// <summary>
/// <c>sharpt distill classify</c>: trains a student classifier (a <c>classify train</c> preset, any size) from a teacher written by
/// <c>classify train</c>, with the teacher's tokenizer and labels; keeps the student that is best on the dev set.
/// </summary>
internal static class DistillClassify
{
    public static Command Create()
    {
        var teacher = CliOptions.ExistingFile("--teacher", "teacher: a folder written by classify train (or its model.safetensors)", "teacher checkpoint", orDirectory: true);
        var trainOption = CliOptions.ExistingFile("--train", "labelled training file (TSV, CSV or JSONL)", "data file");
        var devOption = CliOptions.ExistingFile("--dev", "labelled dev file: the best student on it is kept", "data file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for the student's model.safetensors and metrics.jsonl");
        var modelOption = CliOptions.Text("--model", $"the student's preset ({string.Join(", ", ClassifierPresets.Presets)}); sizes below override it", "bert-small", helpName: "preset");
        modelOption.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } m && !ClassifierPresets.Presets.Contains(m))
                r.AddError($"--model must be one of {string.Join(", ", ClassifierPresets.Presets)}; got '{m}'.");
        });
        var (textColumn, labelColumn) = ClassifyCommand.ColumnOptions();
        var (temperature, alpha, hiddenWeight) = DistillCommand.LossOptions();
        var minutesOption = CliOptions.Float("--max-minutes", "stop in time: the whole run within this many minutes (0 = no limit)", 0f, 0f);
        var epochsOption = CliOptions.OptionalInt("--epochs", "epochs (default: 5, or as many as --max-minutes allows)", min: 1);
        var batchOption = CliOptions.Int("--batch", "texts per batch", 32, min: 1);
        var threadsOption = CliOptions.Threads();
        var seedOption = CliOptions.Seed(1337);
        var evalEveryOption = CliOptions.OptionalInt("--eval-every", "evaluate on the dev file every this many steps (default: a quarter epoch)", min: 0);
        var lrOption = CliOptions.Float("--lr", "learning rate", 1e-3f, 0f, minExclusive: true);
        var wdOption = CliOptions.Float("--weight-decay", "AdamW weight decay", 0.01f, 0f);
        var warmupOption = CliOptions.Float("--warmup", "share of the run spent warming up the learning rate", 0.05f, 0f, 1f);
        var dropoutOption = CliOptions.Float("--dropout", "dropout probability of the student", 0.1f, 0f, 0.99f);
        var dimOption = CliOptions.OptionalInt("--dim", "width of the student (default: the preset's)", min: 1);
        var layersOption = CliOptions.OptionalInt("--layers", "layers of the student (default: the preset's)", min: 1);
        var headsOption = CliOptions.OptionalInt("--heads", "attention heads of the student (default: the preset's)", min: 1);
        var hiddenOption = CliOptions.OptionalInt("--hidden", "MLP width of the student (default: 4 x --dim)", min: 1);
        var poolingOption = CliOptions.Choice("--pooling", "how the text becomes one vector (default: the preset's)", null, "cls", "mean", "last-token", "pooler");
        var initOption = CliOptions.Flag("--init-from-teacher", "start the student's embeddings from the teacher's, projected onto their top principal " +
            "directions when the student is narrower (DistilBERT starts its student from the teacher's weights)");
        var backendOption = CliBackend.CreateOption();
        var command = new Command("classify", "distill a classifier from classify train into a smaller student; prints the student's accuracy last")
        {
            teacher, trainOption, devOption, outOption, modelOption, textColumn, labelColumn, temperature, alpha, hiddenWeight, minutesOption,
            epochsOption, batchOption, threadsOption, seedOption, evalEveryOption, lrOption, wdOption, warmupOption, dropoutOption, dimOption,
            layersOption, headsOption, hiddenOption, poolingOption, initOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(teacher)!, r.GetValue(trainOption)!, r.GetValue(devOption)!,
            r.GetValue(outOption)!, r.GetValue(modelOption)!, r.GetValue(textColumn)!, r.GetValue(labelColumn)!,
            new DistillationOptions(r.GetValue(temperature), r.GetValue(alpha), r.GetValue(hiddenWeight)), r.GetValue(minutesOption),
            r.GetValue(epochsOption), r.GetValue(batchOption), r.GetValue(threadsOption), r.GetValue(seedOption), r.GetValue(evalEveryOption),
            r.GetValue(lrOption), r.GetValue(wdOption), r.GetValue(warmupOption), r.GetValue(dropoutOption), r.GetValue(dimOption),
            r.GetValue(layersOption), r.GetValue(headsOption), r.GetValue(hiddenOption), r.GetValue(poolingOption), r.GetValue(initOption), r.GetValue(backendOption)!), cancellation));
        return command;
    }

    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Teacher, string Train, string Dev, string Out, string Model, string TextColumn, string LabelColumn,
        DistillationOptions Loss, float MaxMinutes, int? Epochs, int Batch, int Threads, int Seed, int? EvalEvery, float Lr, float WeightDecay,
        float Warmup, float Dropout, int? Dim, int? Layers, int? Heads, int? Hidden, string? Pooling, bool InitFromTeacher, string Backend);

    public static int Run(Settings a, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        if (a.Threads > 0) CpuBackend.Default.Threads = a.Threads;
        using var backend = CliBackend.Create(a.Backend);
        string teacherFile = Directory.Exists(a.Teacher) ? Path.Combine(a.Teacher, "model.safetensors") : a.Teacher;
        var teacher = CheckpointFile.Load(a.Teacher, TextClassifier.Load);
        string snapshot = Checkpoint.Load(teacherFile).TokenizerJson!;
        if (teacher.Prompt is not null) throw new CliException($"{teacherFile}: a prompt classifier ({teacher.Spec.Architecture}) cannot teach: its scores are not class logits over a body.");
        backend.Place(teacher.Module);
        teacher.Module.Eval();

        var labels = teacher.Labels.ToArray();
        var train = LabeledTexts.Load(a.Train, a.TextColumn, a.LabelColumn, new LabelSet(labels));
        var dev = LabeledTexts.Load(a.Dev, a.TextColumn, a.LabelColumn, new LabelSet(labels));

        var (arch, dim, layers, heads, _, pooling) = ClassifierPresets.Preset(a.Model);
        if (arch.StartsWith("prompt", StringComparison.Ordinal)) throw new CliException($"--model {a.Model}: a prompt classifier cannot be a student.");
        dim = a.Dim ?? dim; layers = a.Layers ?? layers; heads = a.Heads ?? heads;
        int hidden = a.Hidden ?? 4 * dim;
        if (a.Pooling is { } pool) pooling = ClassifyTrain.ParsePooling(pool);
        if (dim % heads != 0) throw new CliException($"--dim {dim} is not a multiple of --heads {heads}.");
        var spec = new TextClassifierSpec(arch, teacher.Tokenizer.VocabSize, dim, layers, heads, hidden, teacher.Spec.MaxLength, pooling, labels, a.Dropout,
            null, null, null);
        var student = new TextClassifier(spec, teacher.Tokenizer, (ulong)a.Seed);
        string init = a.InitFromTeacher ? "; " + InitEmbeddings(teacher.Module, student.Module, (ulong)a.Seed) : "";
        bool useHidden = a.Loss.HiddenLossWeight > 0f;
        var wrapper = new DistillationStudent(student.Module, useHidden ? dim : null, useHidden ? teacher.Spec.Dim : null, new Generator((ulong)a.Seed + 1));
        backend.Place(wrapper);

        var trainSet = train.Select((r, i) => (Index: i, Ids: student.Encode(r.Text, out _), r.Label)).ToArray();
        var devSet = dev.Select(r => (Ids: student.Encode(r.Text, out _), r.Label)).ToArray();
        Directory.CreateDirectory(a.Out);

        // The teacher is fixed (evaluation mode, no dropout): its logits of a training text are computed once and reused every epoch.
        var cached = new float[trainSet.Length][];
        int classes = labels.Length;
        Tensor Loss(IReadOnlyList<(int Index, int[] Ids, int Label)> b)
        {
            var ids = b.Select(x => x.Ids).ToList();
            if (a.Loss.Alpha == 0f && !useHidden)
            {
                // No soft targets and no hidden loss: the teacher is not run (it may still have initialised the student).
                var only = student.Logits(ids);                                        // (B, labels)
                return Functional.CrossEntropy(only, Tensor.FromArray(b.Select(x => x.Label).ToArray()).To(only.Backend));
            }
            Tensor teacherLogits;
            Tensor? teacherHidden = null;
            if (!useHidden && b.All(x => cached[x.Index] is not null))
                teacherLogits = Tensor.FromArray(b.SelectMany(x => cached[x.Index]).ToArray(), b.Count, classes);
            else
            {
                using var _ = GradMode.NoGrad();
                var (tl, th, _) = teacher.LogitsAndHidden(ids);                         // (B, labels), (B, T, Ct)
                teacherLogits = tl;
                teacherHidden = th;
                var values = tl.ToArray();
                for (int i = 0; i < b.Count; i++) cached[b[i].Index] = values.AsSpan(i * classes, classes).ToArray();
            }
            var (logits, hiddenStates, mask) = student.LogitsAndHidden(ids);         // (B, labels), (B, T, Cs), (B, T)
            var y = Tensor.FromArray(b.Select(x => x.Label).ToArray()).To(logits.Backend);
            return Distillation.Loss(logits, teacherLogits.To(logits.Backend), y, a.Loss,
                useHidden ? hiddenStates : null, teacherHidden, useHidden ? mask : null, wrapper.Projection).Total;
        }

        var options = new TrainerOptions
        {
            Epochs = a.Epochs ?? (a.MaxMinutes > 0 ? 1000 : 5), BatchSize = a.Batch, LearningRate = a.Lr, WeightDecay = a.WeightDecay,
            WarmupFraction = a.Warmup, EvalEvery = a.EvalEvery ?? ClassifyTrain.QuarterEpoch(trainSet.Length, a.Batch), Seed = (ulong)a.Seed,
            RestoreBest = true,
            MaxTime = a.MaxMinutes > 0 ? TimeSpan.FromSeconds(Math.Max(10, a.MaxMinutes * 60 - clock.Elapsed.TotalSeconds - (2 + devSet.Length / 2000.0))) : null,
        };
        var trainer = new Trainer(wrapper, options, student.HeadParameters);
        string ckpt = Path.Combine(a.Out, "model.safetensors");
        var checkpoints = new CheckpointCallback(a.Out, (path, s) => Checkpoint.Save(path, student.Module, TextClassifier.Kind, spec.ToJson(), s.Step, tokenizerJson: snapshot))
        {
            BestFileName = "model.safetensors", LastFileName = null,
        };
        var devIds = devSet.Select(x => x.Ids).ToList();
        var devGold = devSet.Select(x => x.Label).ToArray();
        double Accuracy()
        {
            var (pred, _) = student.Predict(devIds);
            return pred.Zip(devGold).Count(p => p.First == p.Second) / (double)devGold.Length;
        }
        Console.WriteLine($"teacher {teacherFile} ({teacher.Spec.Architecture}, {teacher.Spec.Layers}x{teacher.Spec.Dim}, {teacher.Module.ParameterCount():N0} parameters); " +
            $"student {a.Model} ({arch}, {layers}x{dim}, pooling {pooling}) with {student.Module.ParameterCount():N0} parameters; " +
            $"T {a.Loss.Temperature}, alpha {a.Loss.Alpha}, hidden-loss weight {a.Loss.HiddenLossWeight}" +
            (wrapper.Projection is { } p ? $" (projection {p.InFeatures} -> {p.OutFeatures})" : "") +
            $"{init}; {trainSet.Length:N0} training and {devSet.Length:N0} dev rows");
        trainer.Callbacks.Add(checkpoints);
        trainer.Callbacks.Add(new EvaluationCallback("accuracy", Accuracy, greaterIsBetter: true));
        trainer.Callbacks.Add(new MetricsLog(a.Out));
        var result = FineTuneConsole.Train(trainer, trainSet, Loss, x => x.Ids.Length, "accuracy", cancellation);
        FineTuneConsole.ReportCancelled(result, ckpt);
        Console.WriteLine($"{result.Steps} steps, {result.Epoch:0.##} epoch(s) in {clock.Elapsed.TotalSeconds:F0} s{(result.Reason == StopReason.TimeLimit ? " (time limit)" : "")}; " +
            $"best dev accuracy {result.BestMetric:F4} at step {result.BestStep}; checkpoint {ckpt}");
        Console.WriteLine($"accuracy: {result.BestMetric:F4}");
        return cancellation.IsCancellationRequested ? SharptCli.Cancelled : 0;
    }

    // The student's embedding tables (word, position, token type) from the teacher's: equal widths are copied; a narrower
    // student gets the teacher's rows projected onto the top principal directions of the teacher's word embeddings (PCA by
    // subspace iteration on their covariance), the same projection for every table so that their sum stays consistent.
    internal static string InitEmbeddings(Module teacher, Module student, ulong seed)
    {
        var t = teacher.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var tables = student.NamedParameters().Where(p => p.Name.Contains(".embeddings.", StringComparison.Ordinal) && p.Parameter.Rank == 2
            && t.TryGetValue(p.Name, out var tp) && tp.Rank == 2 && tp.Size(0) == p.Parameter.Size(0)).ToList();
        var word = tables.FirstOrDefault(p => p.Name.EndsWith(".word.weight", StringComparison.Ordinal));
        if (word.Parameter is null) return "no embedding table to start from the teacher";
        int ct = t[word.Name].Size(1), cs = word.Parameter.Size(1);
        if (cs > ct) return $"the student is wider ({cs}) than the teacher ({ct}): embeddings not initialised from it";
        double[,] q = cs == ct ? Identity(ct) : Projection(t[word.Name].ToArray(), t[word.Name].Size(0), ct, cs, seed);   // (Ct, Cs)
        foreach (var (name, p) in tables)
        {
            var src = t[name].ToArray();
            int rows = p.Size(0);
            var dst = new float[rows * cs];
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < cs; j++)
                {
                    double sum = 0;
                    for (int k = 0; k < ct; k++) sum += src[r * ct + k] * q[k, j];
                    dst[r * cs + j] = (float)sum;
                }
            p.CopyFrom(dst);
        }
        return $"student embeddings ({string.Join(", ", tables.Select(x => x.Name[(x.Name.LastIndexOf(".embeddings.", StringComparison.Ordinal) + 12)..]))}) " +
            (cs == ct ? "copied from the teacher" : $"initialised from the teacher's top {cs} of {ct} principal directions");
    }

    // The top `k` principal directions (Ct, k), orthonormal columns, of the rows of `e` (n, ct); the identity's first k columns when k = ct.
    private static double[,] Projection(float[] e, int n, int ct, int k, ulong seed)
    {
        var mean = new double[ct];
        for (int r = 0; r < n; r++) for (int c = 0; c < ct; c++) mean[c] += e[r * ct + c] / (double)n;
        var cov = new double[ct, ct];
        var row = new double[ct];
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < ct; c++) row[c] = e[r * ct + c] - mean[c];
            for (int i = 0; i < ct; i++) for (int j = i; j < ct; j++) cov[i, j] += row[i] * row[j];
        }
        for (int i = 0; i < ct; i++) for (int j = 0; j < i; j++) cov[i, j] = cov[j, i];
        var q = new double[ct, k];
        var rng = new Random((int)(seed & 0x7fffffff));
        for (int i = 0; i < ct; i++) for (int j = 0; j < k; j++) q[i, j] = rng.NextDouble() - 0.5;
        Orthonormalize(q, ct, k);
        for (int iter = 0; iter < 200; iter++)
        {
            var z = new double[ct, k];
            for (int i = 0; i < ct; i++)
                for (int l = 0; l < ct; l++)
                {
                    double c = cov[i, l];
                    if (c == 0) continue;
                    for (int j = 0; j < k; j++) z[i, j] += c * q[l, j];
                }
            Orthonormalize(z, ct, k);
            q = z;
        }
        return q;
    }

    private static double[,] Identity(int n)
    {
        var q = new double[n, n];
        for (int i = 0; i < n; i++) q[i, i] = 1;
        return q;
    }

    // Modified Gram-Schmidt on the columns.
    private static void Orthonormalize(double[,] a, int rows, int cols)
    {
        for (int j = 0; j < cols; j++)
        {
            for (int p = 0; p < j; p++)
            {
                double dot = 0;
                for (int i = 0; i < rows; i++) dot += a[i, j] * a[i, p];
                for (int i = 0; i < rows; i++) a[i, j] -= dot * a[i, p];
            }
            double norm = 0;
            for (int i = 0; i < rows; i++) norm += a[i, j] * a[i, j];
            norm = Math.Sqrt(Math.Max(norm, 1e-300));
            for (int i = 0; i < rows; i++) a[i, j] /= norm;
        }
    }
}
