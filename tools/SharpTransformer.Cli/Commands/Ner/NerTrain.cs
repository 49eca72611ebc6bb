using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.Models.Tagging;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands.Ner;

/// <summary><c>sharpt ner train</c>: trains a word/character transformer tagger with a CRF from scratch, keeping the best dev checkpoint.</summary>
internal static class NerTrain
{
    public static Command Create()
    {
        var trainOption = CliOptions.ExistingFile("--train", "CoNLL training file", "data file");
        var devOption = CliOptions.ExistingFile("--dev", "CoNLL dev file: evaluated during training, the best checkpoint is kept", "data file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for model.safetensors");
        var minutesOption = CliOptions.Float("--max-minutes", "stop in time: the whole run within this many minutes (0 = no limit)", 0f, 0f);
        var epochsOption = CliOptions.OptionalInt("--epochs", "epochs (default: 20, or as many as --max-minutes allows)", min: 1);
        var batchOption = CliOptions.Int("--batch", "sentences per batch", 32, min: 1);
        var threadsOption = CliOptions.Threads();
        var seedOption = CliOptions.Seed(1337);
        var dimOption = CliOptions.Int("--dim", "transformer width", 128, min: 1);
        var layersOption = CliOptions.Int("--layers", "transformer layers", 2, min: 1);
        var headsOption = CliOptions.Int("--heads", "attention heads", 4, min: 1);
        var evalEveryOption = CliOptions.OptionalInt("--eval-every", "evaluate on the dev file every this many steps (default: half an epoch; 0 = each epoch)", min: 0);
        var lrOption = CliOptions.Float("--lr", "learning rate", 2e-3f, 0f, minExclusive: true);
        var dropoutOption = CliOptions.Float("--dropout", "dropout probability", 0.2f, 0f, 0.99f);
        var wordDropoutOption = CliOptions.Float("--word-dropout", "probability of replacing a word by the unknown word in training", 0.05f, 0f, 0.99f);
        var warmupOption = CliOptions.Float("--warmup", "share of the run spent warming up the learning rate", 0.03f, 0f, 1f);
        var noCrfOption = CliOptions.Flag("--no-crf", "a softmax per word instead of the CRF");
        var backendOption = CliBackend.CreateOption();
        var command = new Command("train", "train a word/character transformer tagger with a CRF; prints entity-f1 last")
        {
            trainOption, devOption, outOption, minutesOption, epochsOption, batchOption, threadsOption, seedOption, dimOption, layersOption,
            headsOption, evalEveryOption, lrOption, dropoutOption, wordDropoutOption, warmupOption, noCrfOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(trainOption)!, r.GetValue(devOption)!, r.GetValue(outOption)!,
            r.GetValue(minutesOption), r.GetValue(epochsOption), r.GetValue(batchOption), r.GetValue(threadsOption), r.GetValue(seedOption),
            r.GetValue(dimOption), r.GetValue(layersOption), r.GetValue(headsOption), r.GetValue(evalEveryOption), r.GetValue(lrOption),
            r.GetValue(dropoutOption), r.GetValue(wordDropoutOption), r.GetValue(warmupOption), !r.GetValue(noCrfOption), r.GetValue(backendOption)!),
            cancellation));
        return command;
    }

    /// <summary>The values of the options (null: the default that depends on the others).</summary>
    internal sealed record Settings(string Train, string Dev, string Out, float MaxMinutes, int? Epochs, int Batch, int Threads, int Seed, int Dim,
        int Layers, int Heads, int? EvalEvery, float Lr, float Dropout, float WordDropout, float Warmup, bool Crf, string Backend);

    public static int Run(Settings a, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        string trainPath = a.Train, devPath = a.Dev, outDir = a.Out;
        float minutes = a.MaxMinutes;
        int epochs = a.Epochs ?? (minutes > 0 ? 1000 : 20), batch = a.Batch, threads = a.Threads, seed = a.Seed;
        int dim = a.Dim, layers = a.Layers, heads = a.Heads, evalEvery = a.EvalEvery ?? -1;
        float lr = a.Lr, dropout = a.Dropout, wordDropout = a.WordDropout, warmup = a.Warmup;
        bool crf = a.Crf;
        if (threads > 0) CpuBackend.Default.Threads = threads;
        using var backend = CliBackend.Create(a.Backend);

        var train = NerEval.Read(trainPath);
        var dev = NerEval.Read(devPath);
        var tags = train.SelectMany(s => s.Tags).Distinct().OrderBy(t => t == "O" ? "" : t[2..] + t[..1], StringComparer.Ordinal).ToArray();
        var tagIds = tags.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        foreach (var s in dev)
            for (int j = 0; j < s.Length; j++)
                if (!tagIds.ContainsKey(s.Tags[j]))
                    throw new CliException($"{s.FileName}:{s.LineNumber + j}: tag '{s.Tags[j]}' does not occur in {trainPath} ({string.Join(", ", tags)}).");
        var features = WordFeaturizer.Build(train.Select(s => (IReadOnlyList<string>)s.Words));
        var config = new WordCharTaggerConfig(features.WordCount, features.CharCount, tags.Length, Dim: dim, Layers: layers, Heads: heads,
            Hidden: 4 * dim, Dropout: dropout, UseCrf: crf);
        var model = new TaggerCheckpoint(new WordCharTagger(config, tags, (ulong)seed), features, tags);
        backend.Place(model.Tagger);
        int cut = train.Count(s => s.Length > config.MaxWords);
        if (cut > 0) Console.Error.WriteLine($"warning: {cut} training sentence(s) are longer than {config.MaxWords} words and were truncated.");

        var rng = new Random(seed);
        var options = new TrainerOptions
        {
            Epochs = epochs, BatchSize = batch, LearningRate = lr, WarmupFraction = warmup, EvalEvery = evalEvery >= 0 ? evalEvery : Math.Max(100, (train.Count + batch - 1) / batch / 2), Seed = (ulong)seed,   // dev F1 twice an epoch
            WeightDecay = 0.01f, MaxGradNorm = 5f, RestoreBest = true,
            MaxTime = minutes > 0 ? TimeSpan.FromSeconds(Math.Max(10, minutes * 60 - clock.Elapsed.TotalSeconds - 4 - dev.Count / 1500.0)) : null,
        };
        var trainer = new Trainer(model.Tagger, options);
        Tensor Loss(IReadOnlyList<ConllSentence> b)
        {
            var wb = WordBatch.Create(features, b.Select(s => (IReadOnlyList<string>)model.Cut(s.Words)).ToList(), wordDropout, rng);
            int t = wb.Words.Size(1);
            var y = new int[b.Count * t];
            Array.Fill(y, -100);
            for (int i = 0; i < b.Count; i++)
                for (int j = 0; j < wb.Lengths[i]; j++) y[i * t + j] = tagIds[b[i].Tags[j]];
            return model.Tagger.Loss(wb, Tensor.FromArray(y, b.Count, t));
        }
        var checkpoints = new CheckpointCallback(outDir, (path, s) => model.Save(path, s.Step)) { BestFileName = "model.safetensors", LastFileName = null };
        string ckpt = checkpoints.BestPath!;
        trainer.Callbacks.Add(checkpoints);
        trainer.Callbacks.Add(new EvaluationCallback("f1", () => model.Evaluate(dev).F1, greaterIsBetter: true));
        trainer.Callbacks.Add(new MetricsLog(outDir));

        Console.WriteLine($"{trainPath}: {train.Count:N0} sentences, {devPath}: {dev.Count:N0}; tags {string.Join(" ", tags)}; " +
            $"{layers}x{dim} transformer{(crf ? " + CRF" : "")} with {model.Tagger.ParameterCount():N0} parameters; {features.WordCount:N0} words, {features.CharCount} chars");
        var result = FineTuneConsole.Train(trainer, train, Loss, s => s.Length, "entity F1", cancellation);
        FineTuneConsole.ReportCancelled(result, ckpt);
        Console.WriteLine($"{result.Steps} steps, {result.Epoch:0.##} epoch(s) in {clock.Elapsed.TotalSeconds:F0} s{(result.Reason == StopReason.TimeLimit ? " (time limit)" : "")}; " +
            $"best dev entity F1 {result.BestMetric:F4} at step {result.BestStep}; checkpoint {ckpt}");
        Console.WriteLine($"entity-f1: {result.BestMetric:F4}");
        return cancellation.IsCancellationRequested ? SharptCli.Cancelled : 0;
    }
}
