using System.CommandLine;
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
    public static Command Create()
    {
        var trainOption = CliOptions.ExistingFile("--train", "labelled training file (TSV, CSV or JSONL)", "data file");
        var devOption = CliOptions.ExistingFile("--dev", "labelled dev file: evaluated during training, the best checkpoint is kept", "data file");
        var outOption = CliOptions.OutputDirectory("--out", "folder for model.safetensors (and the learned vocab.txt)");
        var modelOption = CliOptions.Text("--model", $"a preset trained from scratch ({string.Join(", ", ClassifierPresets.Presets)}) or a Hugging Face " +
            "BERT/DistilBERT/RoBERTa folder to fine-tune", "bert-small", helpName: "preset|folder");
        modelOption.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } m && !ClassifierPresets.Presets.Contains(m) && !PretrainedEncoder.IsFolder(m))
                r.AddError($"--model must be one of {string.Join(", ", ClassifierPresets.Presets)} or a folder with config.json; got '{m}'.");
        });
        var (textColumn, labelColumn) = ClassifyCommand.ColumnOptions();
        var minutesOption = CliOptions.Float("--max-minutes", "stop in time: the whole run within this many minutes (0 = no limit)", 0f, 0f);
        var epochsOption = CliOptions.OptionalInt("--epochs", "epochs (default: 5, or as many as --max-minutes allows)", min: 1);
        var batchOption = CliOptions.Int("--batch", "texts per batch", 32, min: 1);
        var maxLenOption = CliOptions.Int("--max-length", "tokens per text (longer texts are cut)", 64, min: 2);
        var vocabSizeOption = CliOptions.Int("--vocab-size", "WordPiece vocabulary learned for a preset", 8000, min: 10);
        var threadsOption = CliOptions.Threads();
        var seedOption = CliOptions.Seed(1337);
        var evalEveryOption = CliOptions.OptionalInt("--eval-every", "evaluate on the dev file every this many steps (default: a quarter epoch; 0 = each epoch)", min: 0);
        var vocabOption = CliOptions.ExistingFile("--vocab", "vocab.txt or tokenizer.json of a Hugging Face folder (default: the folder's own)", "vocabulary file", required: false);
        var lrOption = CliOptions.OptionalFloat("--lr", "learning rate (default: 1e-3 for a preset, 5e-5 for a Hugging Face folder)", 0f, minExclusive: true);
        var wdOption = CliOptions.Float("--weight-decay", "AdamW weight decay", 0.01f, 0f);
        var warmupOption = CliOptions.Float("--warmup", "share of the run spent warming up the learning rate", 0.05f, 0f, 1f);
        var dropoutOption = CliOptions.Float("--dropout", "dropout probability", 0.1f, 0f, 0.99f);
        var headLrOption = CliOptions.OptionalFloat("--head-lr", "learning rate of the new classification head (default: --lr)", 0f, minExclusive: true);
        var dimOption = CliOptions.OptionalInt("--dim", "width of a preset (default: the preset's)", min: 1);
        var layersOption = CliOptions.OptionalInt("--layers", "layers of a preset (default: the preset's)", min: 1);
        var headsOption = CliOptions.OptionalInt("--heads", "attention heads of a preset (default: the preset's)", min: 1);
        var hiddenOption = CliOptions.OptionalInt("--hidden", "MLP width of a preset (default: 4 x --dim)", min: 1);
        var poolingOption = CliOptions.Choice("--pooling", "how the text becomes one vector (default: the model's)", null, "cls", "mean", "last-token", "pooler");
        var classWeightsOption = CliOptions.Choice("--class-weights", "weigh the loss of each class: none, or balanced (n / (classes x count))", "none", "none", "balanced");
        var backendOption = CliBackend.CreateOption();
        var command = new Command("train", "train a text classifier (or fine-tune a Hugging Face encoder); prints accuracy last")
        {
            trainOption, devOption, outOption, modelOption, textColumn, labelColumn, minutesOption, epochsOption, batchOption, maxLenOption,
            vocabSizeOption, threadsOption, seedOption, evalEveryOption, vocabOption, lrOption, wdOption, warmupOption, dropoutOption, headLrOption,
            dimOption, layersOption, headsOption, hiddenOption, poolingOption, classWeightsOption, backendOption,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(trainOption)!, r.GetValue(devOption)!, r.GetValue(outOption)!,
            r.GetValue(modelOption)!, r.GetValue(textColumn)!, r.GetValue(labelColumn)!, r.GetValue(minutesOption), r.GetValue(epochsOption),
            r.GetValue(batchOption), r.GetValue(maxLenOption), r.GetValue(vocabSizeOption), r.GetValue(threadsOption), r.GetValue(seedOption),
            r.GetValue(evalEveryOption), r.GetValue(vocabOption), r.GetValue(lrOption), r.GetValue(wdOption), r.GetValue(warmupOption),
            r.GetValue(dropoutOption), r.GetValue(headLrOption), r.GetValue(dimOption), r.GetValue(layersOption), r.GetValue(headsOption),
            r.GetValue(hiddenOption), r.GetValue(poolingOption), r.GetValue(classWeightsOption) == "balanced", r.GetValue(backendOption)!), cancellation));
        return command;
    }

    /// <summary>The values of the options (null: the default that depends on the others).</summary>
    internal sealed record Settings(string Train, string Dev, string Out, string Model, string TextColumn, string LabelColumn, float MaxMinutes,
        int? Epochs, int Batch, int MaxLength, int VocabSize, int Threads, int Seed, int? EvalEvery, string? Vocab, float? Lr, float WeightDecay,
        float Warmup, float Dropout, float? HeadLr, int? Dim, int? Layers, int? Heads, int? Hidden, string? Pooling, bool BalancedClassWeights,
        string Backend);

    public static int Run(Settings a, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        string trainPath = a.Train, devPath = a.Dev, outDir = a.Out;
        string model = a.Model;
        string textCol = a.TextColumn, labelCol = a.LabelColumn;
        float minutes = a.MaxMinutes;
        int epochs = a.Epochs ?? (minutes > 0 ? 1000 : 5), batch = a.Batch, maxLen = a.MaxLength;
        int vocabSize = a.VocabSize, threads = a.Threads, seed = a.Seed, evalEvery = a.EvalEvery ?? -1;
        bool pretrained = PretrainedEncoder.IsFolder(model);
        string? vocabFile = a.Vocab;
        float lr = a.Lr ?? (pretrained ? 5e-5f : 1e-3f), wd = a.WeightDecay, warmup = a.Warmup, dropout = a.Dropout;
        float? headLr = a.HeadLr;
        var (arch, dim, layers, heads, hidden, pooling) = pretrained ? ("hf-encoder", 0, 0, 0, 0, PoolingKind.Cls) : ClassifierPresets.Preset(model);
        dim = a.Dim ?? dim; layers = a.Layers ?? layers; heads = a.Heads ?? heads; hidden = a.Hidden ?? 4 * dim;
        if (a.Pooling is { } pool) pooling = ParsePooling(pool);
        bool balanced = a.BalancedClassWeights;
        if (threads > 0) CpuBackend.Default.Threads = threads;
        using var backend = CliBackend.Create(a.Backend);

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
            if (a.Pooling is null) pooling = c.Pooler ? PoolingKind.Pooler : PoolingKind.Cls;
        }
        else
        {
            var wp = WordPieceTrainer.Train(train.Select(r => r.Text), new WordPieceTrainerOptions(vocabSize));
            wp.Save(outDir);
            string vocabPath = Path.Combine(outDir, "vocab.txt");
            tok = Tokenizer.FromFiles(vocabPath, null, lowercase: true);
            snapshot = TokenizerSnapshot.FromFiles(vocabPath, null, lowercase: true);
        }
        var spec = new TextClassifierSpec(arch, tok.VocabSize, dim, layers, heads, hidden, maxLen, pooling, labels, dropout,
            arch.StartsWith("prompt", StringComparison.Ordinal) ? "{text} . it was" : null,
            arch.StartsWith("prompt", StringComparison.Ordinal) ? PromptVerbalizers(labels) : null, encoderConfig);
        var cm = new TextClassifier(spec, tok, (ulong)seed);
        if (pretrained) PretrainedEncoder.LoadInto(cm, model);
        backend.Place(cm.Module);

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
        var checkpoints = new CheckpointCallback(outDir, TextClassifier.Kind, spec.ToJson(), snapshot, includeOptimizer: false) { BestFileName = "model.safetensors", LastFileName = null };
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
        var result = FineTuneConsole.Train(trainer, trainSet, Loss, x => x.Ids.Length, "accuracy", cancellation);
        FineTuneConsole.ReportCancelled(result, ckpt);
        Console.WriteLine($"{result.Steps} steps, {result.Epoch:0.##} epoch(s) in {clock.Elapsed.TotalSeconds:F0} s{(result.Reason == StopReason.TimeLimit ? " (time limit)" : "")}; " +
            $"best dev accuracy {result.BestMetric:F4} at step {result.BestStep}; checkpoint {ckpt}");
        Console.WriteLine($"accuracy: {result.BestMetric:F4}");
        return cancellation.IsCancellationRequested ? SharptCli.Cancelled : 0;
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
