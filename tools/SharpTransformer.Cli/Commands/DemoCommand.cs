using System.CommandLine;
using System.Reflection;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.Generation;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;
using Spectre.Console;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt demo: trains nanoGPT's "baby GPT" (4 layers, 4 heads, 128 wide, block 64) on Tiny Shakespeare characters,
/// prints the validation loss and samples text.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var stepsOption = CliOptions.Int("--steps", "training steps", 2000, min: 1);
        var threadsOption = CliOptions.Threads();
        var sampleOption = CliOptions.Int("--sample", "characters to sample after training", 400, min: 0);
        var seedOption = CliOptions.Seed(1337);
        var backendOption = CliBackend.CreateOption();
        var command = new Command("demo", "train nanoGPT's baby GPT on Tiny Shakespeare characters and sample from it")
        {
            stepsOption, threadsOption, sampleOption, seedOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(r.GetValue(stepsOption), r.GetValue(threadsOption), r.GetValue(sampleOption),
            (ulong)r.GetValue(seedOption), r.GetValue(backendOption)!, cancellation));
        return command;
    }

    public static int Run(int steps, int threads, int sampleChars, ulong seed, string backendName, CancellationToken cancellation)
    {
        if (threads > 0) CpuBackend.Default.Threads = threads;
        using var backend = CliBackend.Create(backendName);

        string text = LoadCorpus();
        var vocab = CharTokenizer.FromText(text, addUnknown: false);
        var ids = vocab.Encode(text);
        int split = (int)(ids.Length * 0.9);
        var train = new TokenWindowDataset(ids[..split], 64, stride: 1);
        var val = new TokenWindowDataset(ids[split..], 64, stride: 1);
        var config = new Gpt2Config(VocabSize: vocab.VocabSize, ContextLength: 64, Layers: 4, Heads: 4, Embedding: 128);
        var model = backend.Place(new Gpt2(config, seed));
        string device = backend.IsCpu ? $"{CpuBackend.Default.Threads} thread(s)" : backend.Description;
        Console.WriteLine($"Tiny Shakespeare: {text.Length:N0} characters, vocabulary {vocab.VocabSize}; model {model.ParameterCount():N0} parameters; {steps} steps on {device}.");

        var options = new TrainerOptions
        {
            MaxSteps = steps, BatchSize = 12, LearningRate = 1e-3f, MinLearningRate = 1e-4f, WarmupSteps = Math.Min(100, steps / 10),
            Decay = DecayKind.Cosine, WeightDecay = 0.1f, Beta1 = 0.9f, Beta2 = 0.99f, MaxGradNorm = 1f, EvalEvery = Math.Max(1, Math.Min(500, steps)),
            Seed = seed,
        };
        var trainer = new LanguageModelTrainer(model, options);
        TrainerResult result = null!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                trainer.Callbacks.Add(new ProgressCallback(new SyncProgress<TrainingProgress>(p =>
                {
                    task.Value = p.Step;
                    task.Description = p.Metric is { } v ? $"step {p.Step} loss {p.Loss:F3} val {v:F3}" : $"step {p.Step} loss {p.Loss:F3}";
                })));
                result = trainer.Train(train, val, evalBatches: 20, cancellation: cancellation);
            });
        if (result.Reason == StopReason.Cancelled)
        {
            Console.WriteLine($"cancelled after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; the demo saves no checkpoint.");
            return SharptCli.Cancelled;
        }
        float valLoss = trainer.Evaluate(val, 200, 12);
        Console.WriteLine($"trained {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; train loss {result.FinalLoss:F4}");
        Console.WriteLine($"validation loss: {valLoss:F4}");

        model.Eval();
        var prompt = vocab.Encode("ROMEO:\n");
        var gen = new TextGenerator(model);
        var newIds = gen.Generate(prompt, new GenerationOptions(MaxNewTokens: sampleChars, Temperature: 0.8f, TopK: 40, Seed: seed, TruncatePrompt: true));
        Console.WriteLine("--- sample ---");
        Console.WriteLine("ROMEO:\n" + vocab.Decode(newIds));
        return 0;
    }

    internal static string LoadCorpus()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("SharpTransformer.Cli.tinyshakespeare.txt")
            ?? throw new InvalidOperationException("The embedded Tiny Shakespeare corpus is missing from the sharpt assembly.");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}

/// <summary>IProgress that reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
