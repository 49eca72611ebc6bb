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
    public static int Run(Args a)
    {
        var clock = Stopwatch.StartNew();
        string trainPath = a.Required("train"), devPath = a.Required("dev"), outDir = a.Required("out");
        float minutes = a.Float("max-minutes", 0f);
        int epochs = a.Int("epochs", minutes > 0 ? 1000 : 20), batch = a.Int("batch", 32), threads = a.Int("threads", 0), seed = a.Int("seed", 1337);
        int dim = a.Int("dim", 128), layers = a.Int("layers", 2), heads = a.Int("heads", 4), evalEvery = a.Int("eval-every", -1);
        float lr = a.Float("lr", 2e-3f), dropout = a.Float("dropout", 0.2f), wordDropout = a.Float("word-dropout", 0.05f), warmup = a.Float("warmup", 0.03f);
        bool crf = !a.Flag("no-crf");
        a.RejectUnknown();
        if (threads > 0) CpuBackend.Default.Threads = threads;

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
        var model = new NerModel(new WordCharTagger(config, tags, (ulong)seed), features, tags);
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
        var result = FineTuneConsole.Train(trainer, train, Loss, s => s.Length, "entity F1");
        Console.WriteLine($"{result.Steps} steps, {result.Epoch:0.##} epoch(s) in {clock.Elapsed.TotalSeconds:F0} s{(result.Reason == StopReason.TimeLimit ? " (time limit)" : "")}; " +
            $"best dev entity F1 {result.BestMetric:F4} at step {result.BestStep}; checkpoint {ckpt}");
        Console.WriteLine($"entity-f1: {result.BestMetric:F4}");
        return 0;
    }
}
