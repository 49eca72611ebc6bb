using System.CommandLine;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt train-lm: pretrains a causal language model on a text file (char-level or BPE), keeping the best checkpoint.</summary>
internal static class TrainLmCommand
{
    public static Command Create()
    {
        var input = CliOptions.ExistingFile("--input", "text file to train on (the last --val-fraction validates)", "input file");
        var outDir = CliOptions.OutputDirectory("--out", "folder for best.safetensors and last.safetensors");
        var stepsOption = CliOptions.Int("--steps", "optimizer steps", 2000, min: 1);
        var batchOption = CliOptions.Int("--batch", "windows per micro-batch", 12, min: 1);
        var evalIntervalOption = CliOptions.Int("--eval-interval", "validate (and save) every this many steps (0 = only at the end)", 250, min: 0);
        var lrOption = CliOptions.Float("--lr", "peak learning rate", 1e-3f, 0f, minExclusive: true);
        var minLrOption = CliOptions.Float("--min-lr", "learning rate at the end of the cosine decay", 1e-4f, 0f);
        var wdOption = CliOptions.Float("--weight-decay", "AdamW weight decay", 0.1f, 0f);
        var clipOption = CliOptions.Float("--clip", "gradient-norm clip (0 = off)", 1f, 0f);
        var warmupOption = CliOptions.Int("--warmup", "linear warm-up steps", 100, min: 0);
        var accumOption = CliOptions.Int("--grad-accum", "micro-batches per optimizer step", 1, min: 1);
        var patienceOption = CliOptions.Int("--patience", "stop after this many evaluations without improvement (0 = never)", 0, min: 0);
        var threadsOption = CliOptions.Threads();
        var valFractionOption = CliOptions.Float("--val-fraction", "share of the tokens held out for validation", 0.1f, 0f, 0.9f, minExclusive: true);
        var seedOption = CliOptions.Seed(1337);
        var shapeOptions = new LmShapeOptions();
        var tokenizerOptions = new TokenizerOptions();
        var backendOption = CliBackend.CreateOption();
        var command = new Command("train-lm", "pretrain a GPT-2 or Llama-style model on a text file, keeping the best checkpoint")
        {
            input, outDir, stepsOption, batchOption, evalIntervalOption, lrOption, minLrOption, wdOption, clipOption, warmupOption, accumOption,
            patienceOption, threadsOption, valFractionOption, seedOption,
        };
        shapeOptions.AddTo(command);
        tokenizerOptions.AddTo(command);
        command.Options.Add(backendOption);
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(input)!, r.GetValue(outDir)!, r.GetValue(stepsOption), r.GetValue(batchOption),
            r.GetValue(evalIntervalOption), r.GetValue(lrOption), r.GetValue(minLrOption), r.GetValue(wdOption), r.GetValue(clipOption), r.GetValue(warmupOption),
            r.GetValue(accumOption), r.GetValue(patienceOption), r.GetValue(threadsOption), r.GetValue(valFractionOption), (ulong)r.GetValue(seedOption),
            shapeOptions.Read(r), tokenizerOptions.Read(r), r.GetValue(backendOption)!), cancellation));
        return command;
    }

    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Input, string Out, int Steps, int Batch, int EvalInterval, float Lr, float MinLr, float WeightDecay, float Clip,
        int Warmup, int GradAccum, int Patience, int Threads, float ValFraction, ulong Seed, LmShape Shape, TokenizerChoice Tokenizer, string Backend);

    public static int Run(Settings a, CancellationToken cancellation)
    {
        string input = a.Input;
        string outDir = a.Out;
        int steps = a.Steps, batch = a.Batch, evalInterval = a.EvalInterval;
        float lr = a.Lr, minLr = a.MinLr, wd = a.WeightDecay, clip = a.Clip;
        int warmup = a.Warmup, accum = a.GradAccum, patience = a.Patience, threads = a.Threads;
        float valFraction = a.ValFraction;
        ulong seed = a.Seed;
        string text = LmModels.ReadText(input);
        var (tok, snapshot) = LmModels.Tokenizer(a.Tokenizer, text);
        var (model, kind, configJson) = LmModels.Create(a.Shape, tok.VocabSize, seed);
        if (threads > 0) CpuBackend.Default.Threads = threads;
        using var backend = CliBackend.Create(a.Backend);
        backend.Place(model);
        var ids = tok.Encode(text);
        int split = (int)(ids.Length * (1 - valFraction));
        int block = model.ContextLength;
        if (split < block + 1 || ids.Length - split < block + 1)
            throw new CliException($"{input}: {ids.Length} tokens are too few for a {block}-token block with a {valFraction:P0} validation split.");
        var train = new TokenWindowDataset(ids[..split], block, stride: 1);
        var val = new TokenWindowDataset(ids[split..], block, stride: block);
        Directory.CreateDirectory(outDir);
        string best = Path.Combine(outDir, "best.safetensors"), last = Path.Combine(outDir, "last.safetensors");
        var trainer = new LanguageModelTrainer(model, new TrainerOptions
        {
            MaxSteps = steps, BatchSize = batch, LearningRate = lr, MinLearningRate = minLr, WarmupSteps = warmup, Decay = DecayKind.Cosine,
            WeightDecay = wd, Beta1 = 0.9f, Beta2 = 0.99f, MaxGradNorm = clip, GradientAccumulation = accum, EvalEvery = evalInterval,
            Patience = patience, Seed = seed,
        });
        trainer.Callbacks.Add(new CheckpointCallback(outDir, kind, configJson, snapshot));
        trainer.Callbacks.Add(new MetricsLog(outDir));
        // Mixture of experts: tokens per expert into metrics.jsonl and, as the busiest expert's share of its layer, the progress line.
        string load = "";
        if (model is Nn.MoE.IMixtureOfExpertsModel moe)
            trainer.Callbacks.Add(new ExpertLoadCallback(moe, outDir, report: (_, c) => load = $" top expert {c.Max(l => l.Max() / (double)Math.Max(1, l.Sum())):P0}"));
        Console.WriteLine($"{input}: {ids.Length:N0} tokens (vocabulary {tok.VocabSize}); {kind} with {model.ParameterCount():N0} parameters; {steps} steps"
            + (backend.IsCpu ? "" : $" on {backend.Description}"));
        TrainerResult result = null!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                trainer.Callbacks.Add(new ProgressCallback(new SyncProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = (p.Metric is { } v ? $"step {p.Step} loss {p.Loss:F3} val {v:F3} ppl {Math.Exp(v):F1}" : $"step {p.Step} loss {p.Loss:F3}") + load;
                })));
                result = trainer.Train(train, val, evalBatches: 20, cancellation: cancellation);
            });
        if (result.Reason == StopReason.Cancelled)
        {
            // Stopped between two steps: best.safetensors is the last improving evaluation's; the checkpoint callback wrote
            // the weights reached so far to last.safetensors, from which a run can be resumed.
            Console.WriteLine($"Cancelled after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; " +
                (double.IsFinite(result.BestMetric) ? $"kept the best checkpoint {best} (validation loss {result.BestMetric:F4}); " : "no evaluation had run yet; ") +
                $"the weights at step {result.Steps} are in {last}");
            return SharptCli.Cancelled;
        }
        Console.WriteLine($"{result.Reason} after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; best validation loss {result.BestMetric:F4} (perplexity {Math.Exp(result.BestMetric):F2})");
        Console.WriteLine($"checkpoints: {best}, {last}");
        return 0;
    }
}
