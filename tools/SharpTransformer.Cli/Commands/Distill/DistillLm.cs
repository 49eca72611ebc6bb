using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands.Distill;

/// <summary>
/// <c>sharpt distill lm</c>: trains a student causal LM (a <c>train-lm</c> checkpoint, usually smaller) on a text file from a
/// teacher <c>train-lm</c> checkpoint with the same tokenizer: per-token KL to the teacher's softened next-token distribution plus
/// the next-token cross-entropy; keeps the student with the best validation loss.
/// </summary>
internal static class DistillLm
{
    public static Command Create()
    {
        var teacherOption = CliOptions.ExistingFile("--teacher", "teacher: a train-lm folder or checkpoint", "teacher checkpoint", orDirectory: true);
        var studentOption = CliOptions.ExistingFile("--student", "student to train: a train-lm folder or checkpoint with the teacher's tokenizer", "student checkpoint", orDirectory: true);
        var inputOption = CliOptions.ExistingFile("--input", "text file to train on (the last --val-fraction validates)", "input file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for the student's best.safetensors, last.safetensors and metrics.jsonl");
        var (temperature, alpha, hiddenWeight) = DistillCommand.LossOptions();
        var stepsOption = CliOptions.Int("--steps", "optimizer steps", 1000, min: 1);
        var minutesOption = CliOptions.Float("--max-minutes", "stop in time: training within this many minutes (0 = no limit)", 0f, 0f);
        var batchOption = CliOptions.Int("--batch", "windows per batch", 12, min: 1);
        var evalIntervalOption = CliOptions.Int("--eval-interval", "validate (and save) every this many steps (0 = only at the end)", 250, min: 0);
        var lrOption = CliOptions.Float("--lr", "peak learning rate", 1e-3f, 0f, minExclusive: true);
        var minLrOption = CliOptions.Float("--min-lr", "learning rate at the end of the cosine decay", 1e-4f, 0f);
        var warmupOption = CliOptions.Int("--warmup", "linear warm-up steps", 100, min: 0);
        var valFractionOption = CliOptions.Float("--val-fraction", "share of the tokens held out for validation", 0.1f, 0f, 0.9f, minExclusive: true);
        var threadsOption = CliOptions.Threads();
        var seedOption = CliOptions.Seed(1337);
        var backendOption = CliBackend.CreateOption();
        var command = new Command("lm", "distill a causal language model from train-lm into a student with the same tokenizer")
        {
            teacherOption, studentOption, inputOption, outOption, temperature, alpha, hiddenWeight, stepsOption, minutesOption, batchOption,
            evalIntervalOption, lrOption, minLrOption, warmupOption, valFractionOption, threadsOption, seedOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(teacherOption)!, r.GetValue(studentOption)!, r.GetValue(inputOption)!,
            r.GetValue(outOption)!, new DistillationOptions(r.GetValue(temperature), r.GetValue(alpha), r.GetValue(hiddenWeight)), r.GetValue(stepsOption),
            r.GetValue(minutesOption), r.GetValue(batchOption), r.GetValue(evalIntervalOption), r.GetValue(lrOption), r.GetValue(minLrOption),
            r.GetValue(warmupOption), r.GetValue(valFractionOption), r.GetValue(threadsOption), (ulong)r.GetValue(seedOption), r.GetValue(backendOption)!), cancellation));
        return command;
    }

    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Teacher, string Student, string Input, string Out, DistillationOptions Loss, int Steps, float MaxMinutes,
        int Batch, int EvalInterval, float Lr, float MinLr, int Warmup, float ValFraction, int Threads, ulong Seed, string Backend);

    public static int Run(Settings a, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        if (a.Threads > 0) CpuBackend.Default.Threads = a.Threads;
        using var backend = CliBackend.Create(a.Backend);
        var teacher = CheckpointFile.Load(a.Teacher, LanguageModelCheckpoint.Load);
        var student = CheckpointFile.Load(a.Student, LanguageModelCheckpoint.Load);
        var teacherCk = Checkpoint.Load(teacher.Path);
        var studentCk = Checkpoint.Load(student.Path);
        if (teacherCk.TokenizerJson != studentCk.TokenizerJson)
            throw new CliException($"{student.Path}: the student's tokenizer (vocabulary {student.Tokenizer.VocabSize}) differs from the teacher's in {teacher.Path} " +
                $"(vocabulary {teacher.Tokenizer.VocabSize}); distillation compares next-token distributions, so both need the same tokenizer " +
                "(train the student with train-lm on the same text and --tokenizer options).");
        var t = teacher.Model;
        var s = student.Model;
        if (t.VocabSize != s.VocabSize)
            throw new CliException($"{student.Path}: the student's vocabulary ({s.VocabSize}) differs from the teacher's ({t.VocabSize}) in {teacher.Path}.");
        backend.Place(t);
        t.Eval();
        bool useHidden = a.Loss.HiddenLossWeight > 0f;
        var wrapper = new DistillationStudent(s, useHidden ? s.HiddenSize : null, useHidden ? t.HiddenSize : null, new Generator(a.Seed + 1));
        backend.Place(wrapper);

        string text = LmModels.ReadText(a.Input);
        var ids = teacher.Tokenizer.Encode(text);
        int split = (int)(ids.Length * (1 - a.ValFraction));
        int block = Math.Min(t.ContextLength, s.ContextLength);
        if (split < block + 1 || ids.Length - split < block + 1)
            throw new CliException($"{a.Input}: {ids.Length} tokens are too few for a {block}-token block with a {a.ValFraction:P0} validation split.");
        var train = new TokenWindowDataset(ids[..split], block, stride: 1);
        var val = new TokenWindowDataset(ids[split..], block, stride: block);
        Directory.CreateDirectory(a.Out);

        var options = new TrainerOptions
        {
            MaxSteps = a.Steps, BatchSize = a.Batch, LearningRate = a.Lr, MinLearningRate = a.MinLr, WarmupSteps = a.Warmup, Decay = DecayKind.Cosine,
            WeightDecay = 0.1f, Beta1 = 0.9f, Beta2 = 0.99f, EvalEvery = a.EvalInterval, Seed = a.Seed,
            MaxTime = a.MaxMinutes > 0 ? TimeSpan.FromSeconds(Math.Max(5, a.MaxMinutes * 60 - clock.Elapsed.TotalSeconds)) : null,
        };
        var trainer = new Trainer(wrapper, options);
        var on = s.Backend;
        (Tensor Loss, long Tokens) Sample(Generator g)
        {
            var (x, y) = train.RandomBatch(a.Batch, g);
            if (on is not null) (x, y) = (x.To(on), y.To(on));
            Tensor tl, th;
            using (GradMode.NoGrad())
            {
                th = t.Hidden(x);                                                     // (B, T, Ct)
                tl = t.Head(th);                                                      // (B, T, V)
            }
            var sh = s.Hidden(x);                                                     // (B, T, Cs)
            var sl = s.Head(sh);                                                      // (B, T, V)
            var loss = Distillation.Loss(sl, tl, y, a.Loss, useHidden ? sh : null, useHidden ? th : null, null, wrapper.Projection);
            return (loss.Total, (long)a.Batch * block);
        }
        double ValidationLoss()
        {
            s.Eval();
            using var _ = GradMode.NoGrad();
            double sum = 0;
            int n = 0, total = Math.Min(val.Count, 20 * a.Batch);
            var idx = new int[a.Batch];
            for (int start = 0; start < total; start += a.Batch)
            {
                using var scope = TensorScope.Begin();
                int m = Math.Min(a.Batch, total - start);
                for (int i = 0; i < m; i++) idx[i] = (int)((long)(start + i) * val.Count / total);
                var (x, y) = val.Batch(idx.AsSpan(0, m));
                if (on is not null) (x, y) = (x.To(on), y.To(on));
                sum += Functional.CrossEntropy(s.Forward(x), y).Item() * m;
                n += m;
            }
            return sum / Math.Max(1, n);
        }
        string kind = studentCk.ModelKind, config = studentCk.ConfigJson, snapshot = studentCk.TokenizerJson!;
        var checkpoints = new CheckpointCallback(a.Out, (path, st) => Checkpoint.Save(path, s, kind, config, st.Step, tokenizerJson: snapshot));
        trainer.Callbacks.Add(checkpoints);
        trainer.Callbacks.Add(new EvaluationCallback("loss", ValidationLoss, greaterIsBetter: false));
        trainer.Callbacks.Add(new MetricsLog(a.Out));
        Console.WriteLine($"{a.Input}: {ids.Length:N0} tokens; teacher {teacher.Path} ({t.GetType().Name}, {t.ParameterCount():N0} parameters), " +
            $"student {student.Path} ({s.GetType().Name}, {s.ParameterCount():N0} parameters); T {a.Loss.Temperature}, alpha {a.Loss.Alpha}, " +
            $"hidden-loss weight {a.Loss.HiddenLossWeight}{(wrapper.Projection is { } p ? $" (projection {p.InFeatures} -> {p.OutFeatures})" : "")}; {a.Steps} steps");
        TrainerResult result = null!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("distilling", maxValue: a.Steps);
                trainer.Callbacks.Add(new ProgressCallback(new SyncProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = p.Metric is { } v ? $"step {p.Step} loss {p.Loss:F3} val {v:F3}" : $"step {p.Step} loss {p.Loss:F3}";
                })));
                result = trainer.Train(Sample, stepsPerEpoch: Math.Max(1, train.Count / a.Batch), cancellation: cancellation);
            });
        if (result.Reason == StopReason.Cancelled)
        {
            Console.WriteLine($"Cancelled after {result.Steps} steps: stopped cleanly; kept the best checkpoint {checkpoints.BestPath}.");
            return SharptCli.Cancelled;
        }
        Console.WriteLine($"{result.Reason} after {result.Steps} steps in {clock.Elapsed.TotalSeconds:F1} s; best validation loss {result.BestMetric:F4} " +
            $"(perplexity {Math.Exp(result.BestMetric):F2}) at step {result.BestStep}; checkpoints: {checkpoints.BestPath}, {checkpoints.LastPath}");
        Console.WriteLine($"loss: {result.BestMetric:F4}");
        return 0;
    }
}
