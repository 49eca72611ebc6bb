using System.Diagnostics;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.IO;
using SharpTransformer.Models.Bert;
using SharpTransformer.Models.Classification;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands.Classify;

/// <summary><c>sharpt classify train</c>: trains a classifier from scratch, keeping the checkpoint that is best on the dev set.</summary>
internal static class ClassifyTrain
{
    public static int Run(Args a)
    {
        var clock = Stopwatch.StartNew();
        string trainPath = a.Required("train"), devPath = a.Required("dev"), outDir = a.Required("out");
        string model = a.String("model") ?? "bert-small";
        string textCol = a.String("text-column") ?? "sentence", labelCol = a.String("label-column") ?? "label";
        float minutes = a.Float("max-minutes", 0f);
        int epochs = a.Int("epochs", minutes > 0 ? 1000 : 5), batch = a.Int("batch", 32), maxLen = a.Int("max-length", 64);
        int vocabSize = a.Int("vocab-size", 8000), threads = a.Int("threads", 0), seed = a.Int("seed", 1337), evalEvery = a.Int("eval-every", -1);
        bool pretrained = PretrainedEncoder.IsFolder(model);
        string? vocabFile = a.String("vocab");
        float lr = a.Float("lr", pretrained ? 5e-5f : 1e-3f), wd = a.Float("weight-decay", 0.01f), warmup = a.Float("warmup", 0.05f), dropout = a.Float("dropout", 0.1f);
        float? headLr = a.String("head-lr") is null ? null : a.Float("head-lr", lr);
        var (arch, dim, layers, heads, hidden, pooling) = pretrained ? ("hf-encoder", 0, 0, 0, 0, PoolingKind.Cls) : ClassifierSpec.Preset(model);
        dim = a.Int("dim", dim); layers = a.Int("layers", layers); heads = a.Int("heads", heads); hidden = a.Int("hidden", 4 * dim);
        if (a.String("pooling") is { } pool) pooling = ParsePooling(pool);
        bool balanced = (a.String("class-weights") ?? "none") switch
        {
            "none" => false,
            "balanced" => true,
            var w => throw new CliException($"--class-weights must be none or balanced, got '{w}'."),
        };
        a.RejectUnknown();
        if (threads > 0) CpuBackend.Default.Threads = threads;

        var train = LabeledTexts.Load(trainPath, textCol, labelCol);
        var dev = LabeledTexts.Load(devPath, textCol, labelCol, train.Labels);
        var labels = train.Labels.Names.ToArray();
        if (labels.Length < 2) throw new CliException($"{trainPath}: found {labels.Length} label(s); a classifier needs at least 2.");

        Directory.CreateDirectory(outDir);
        Tokenizer tok;
        string snapshot;
        string? encoderConfig = null;
        if (pretrained)
        {
            // Fine-tune a Hugging Face BERT / DistilBERT / RoBERTa folder with its own vocabulary.
            (tok, snapshot) = PretrainedEncoder.Tokenizer(model, vocabFile);
            encoderConfig = PretrainedEncoder.ConfigJson(model);
            var c = BertConfig.FromHuggingFaceJson(encoderConfig);
            (dim, layers, heads, hidden) = (c.HiddenSize, c.Layers, c.Heads, c.IntermediateSize);
            maxLen = Math.Min(maxLen, c.MaxSequenceLength);
            if (a.String("pooling") is null) pooling = c.Pooler ? PoolingKind.Pooler : PoolingKind.Cls;
        }
        else
        {
            var wp = WordPieceTrainer.Train(train.Select(r => r.Text), new WordPieceTrainerOptions(vocabSize));
            wp.Save(outDir);
            string vocabPath = Path.Combine(outDir, "vocab.txt");
            tok = Tokenizer.FromFiles(vocabPath, null, lowercase: true);
            snapshot = TokenizerSnapshot.FromFiles(vocabPath, null, lowercase: true);
        }
        var spec = new ClassifierSpec(arch, tok.VocabSize, dim, layers, heads, hidden, maxLen, pooling, labels, dropout,
            arch.StartsWith("prompt", StringComparison.Ordinal) ? "{text} . it was" : null,
            arch.StartsWith("prompt", StringComparison.Ordinal) ? PromptVerbalizers(labels) : null, encoderConfig);
        var cm = new ClassifierModel(spec, tok, (ulong)seed);
        if (pretrained) PretrainedEncoder.LoadInto(cm, model);

        int truncated = 0;
        (int[] Ids, int Label)[] Encode(TextClassificationDataset rows) => rows.Select(r =>
        {
            var ids = cm.Encode(r.Text, out bool cut);
            if (cut) truncated++;
            return (ids, r.Label);
        }).ToArray();
        var trainSet = Encode(train);
        int trainCut = truncated; truncated = 0;
        var devSet = Encode(dev);
        if (trainCut + truncated > 0)
            Console.Error.WriteLine($"warning: truncated to {maxLen} tokens: {trainCut} of {trainSet.Length} rows in {trainPath}, {truncated} of {devSet.Length} in {devPath}.");

        // "balanced" as scikit-learn: n / (classes · count of the class).
        var weightTensor = balanced
            ? Tensor.FromArray(train.LabelCounts().Select(c => (float)train.Count / (labels.Length * Math.Max(1, c))).ToArray())
            : null;

        var options = new TrainerOptions
        {
            Epochs = epochs, BatchSize = batch, LearningRate = lr, HeadLearningRate = headLr, WeightDecay = wd, WarmupFraction = warmup,
            EvalEvery = evalEvery >= 0 ? evalEvery : QuarterEpoch(trainSet.Length, batch), Seed = (ulong)seed, RestoreBest = true,
            MaxTime = minutes > 0 ? TimeSpan.FromSeconds(Math.Max(10, minutes * 60 - clock.Elapsed.TotalSeconds - EvalReserve(devSet.Length))) : null,
        };
        var trainer = new Trainer(cm.Module, options, cm.HeadParameters);
        Tensor Loss(IReadOnlyList<(int[] Ids, int Label)> b)
        {
            var logits = cm.Logits(b.Select(x => x.Ids).ToList());                          // (B, labels)
            var y = Tensor.FromArray(b.Select(x => x.Label).ToArray()).To(logits.Backend);
            return weightTensor is null ? Functional.CrossEntropy(logits, y) : Functional.CrossEntropy(logits, y, weightTensor.To(logits.Backend));
        }
        var checkpoints = new CheckpointCallback(outDir, "classifier", spec.ToJson(), snapshot, includeOptimizer: false) { BestFileName = "model.safetensors", LastFileName = null };
        string ckpt = checkpoints.BestPath!;
        var devIds = devSet.Select(x => x.Ids).ToList();
        var devGold = devSet.Select(x => x.Label).ToArray();
        double Accuracy()
        {
            var (pred, _) = cm.Predict(devIds);
            return pred.Zip(devGold).Count(p => p.First == p.Second) / (double)devGold.Length;
        }

        Console.WriteLine($"{trainPath}: {trainSet.Length:N0} rows, {devPath}: {devSet.Length:N0} rows, labels {string.Join(", ", labels)}; " +
            $"{model} ({arch}, {layers}x{dim}, pooling {pooling}) with {cm.Module.ParameterCount():N0} parameters; vocabulary {tok.VocabSize}");
        trainer.Callbacks.Add(checkpoints);
        trainer.Callbacks.Add(new EvaluationCallback("accuracy", Accuracy, greaterIsBetter: true));
        trainer.Callbacks.Add(new MetricsLog(outDir));
        var result = FineTuneConsole.Train(trainer, trainSet, Loss, x => x.Ids.Length, "accuracy");
        Console.WriteLine($"{result.Steps} steps, {result.Epoch:0.##} epoch(s) in {clock.Elapsed.TotalSeconds:F0} s{(result.Reason == StopReason.TimeLimit ? " (time limit)" : "")}; " +
            $"best dev accuracy {result.BestMetric:F4} at step {result.BestStep}; checkpoint {ckpt}");
        Console.WriteLine($"accuracy: {result.BestMetric:F4}");
        return 0;
    }

    // Default evaluation interval: four times an epoch (at least every 100 steps apart).
    internal static int QuarterEpoch(int rows, int batch) => Math.Max(100, (rows + batch - 1) / batch / 4);

    // Seconds kept for the last evaluation after the time limit.
    private static double EvalReserve(int devRows) => 2 + devRows / 2000.0;

    private static string[] PromptVerbalizers(string[] labels) =>
        labels.SequenceEqual(["0", "1"]) ? [" bad", " good"] : labels.Select(l => " " + l).ToArray();

    internal static PoolingKind ParsePooling(string s) => s switch
    {
        "cls" => PoolingKind.Cls,
        "mean" => PoolingKind.Mean,
        "last-token" => PoolingKind.LastToken,
        "pooler" => PoolingKind.Pooler,
        _ => throw new CliException($"--pooling must be cls, mean, last-token or pooler; got '{s}'."),
    };
}
