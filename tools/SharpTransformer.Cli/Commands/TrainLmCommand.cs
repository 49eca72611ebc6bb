using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands;

/// <summary>sharpt train-lm: pretrains a causal language model on a text file (char-level or BPE), keeping the best checkpoint.</summary>
internal static class TrainLmCommand
{
    public static int Run(Args a)
    {
        string input = a.Required("input");
        string outDir = a.Required("out");
        int steps = a.Int("steps", 2000), batch = a.Int("batch", 12), evalInterval = a.Int("eval-interval", 250);
        float lr = a.Float("lr", 1e-3f), minLr = a.Float("min-lr", 1e-4f), wd = a.Float("weight-decay", 0.1f), clip = a.Float("clip", 1f);
        int warmup = a.Int("warmup", 100), accum = a.Int("grad-accum", 1), patience = a.Int("patience", 0), threads = a.Int("threads", 0);
        float valFraction = a.Float("val-fraction", 0.1f);
        ulong seed = (ulong)a.Int("seed", 1337);
        string text = LmModels.ReadText(input);
        var (tok, snapshot) = LmModels.Tokenizer(a, text);
        var (module, model, kind, configJson) = LmModels.Create(a, tok.VocabSize, seed);
        a.RejectUnknown();
        if (threads > 0) CpuBackend.Default.Threads = threads;
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
        Console.WriteLine($"{input}: {ids.Length:N0} tokens (vocabulary {tok.VocabSize}); {kind} with {module.ParameterCount():N0} parameters; {steps} steps");
        TrainerResult result = null!;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                trainer.Callbacks.Add(new ProgressCallback(new SyncProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = p.Metric is { } v ? $"step {p.Step} loss {p.Loss:F3} val {v:F3} ppl {Math.Exp(v):F1}" : $"step {p.Step} loss {p.Loss:F3}";
                })));
                result = trainer.Train(train, val, evalBatches: 20);
            });
        Console.WriteLine($"{result.Reason} after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; best validation loss {result.BestMetric:F4} (perplexity {Math.Exp(result.BestMetric):F2})");
        Console.WriteLine($"checkpoints: {best}, {last}");
        return 0;
    }
}
