using System.CommandLine;
using System.Text.Json;
using SharpTransformer.Alignment;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.IO;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Tensors;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt sft: instruction-tunes a causal language model (a train-lm checkpoint or a Hugging Face folder) on Alpaca-style
/// records with the loss on the responses only, keeping the checkpoint of lowest validation loss, then generates responses for
/// the test records and prints their exact match last.
/// </summary>
internal static class SftCommand
{
    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Data, string? Checkpoint, string? Model, string Out, string Template, int Epochs, int? Steps, int Batch,
        float Lr, float WeightDecay, double? MaxMinutes, int? MaxLength, bool Packing, string OnEmptyResponse, int EvalEvery, int MaxNewTokens,
        int? TestCount, float TrainFraction, float TestFraction, int Seed, int Threads, string Backend);

    public static Command Create()
    {
        var data = CliOptions.ExistingFile("--data", "instruction records: a JSON array or JSON lines with instruction, input, output", "data file");
        var checkpoint = CliOptions.ExistingFile("--checkpoint", "a train-lm checkpoint (file or --out folder) to tune", "checkpoint", required: false, orDirectory: true);
        var model = CliOptions.ExistingFile("--model", "a Hugging Face GPT-2 or Llama folder (config.json, model.safetensors, tokenizer files) to tune", "model folder", required: false, orDirectory: true);
        var outDir = CliOptions.OutputDirectory("--out", "folder for best.safetensors, last.safetensors, metrics.jsonl and test-responses.jsonl");
        var template = CliOptions.Choice("--template", "prompt template: alpaca (rasbt's chapter 7) or chat (the tokenizer's ChatML/Llama 3, else ChatML)", "alpaca", "alpaca", "chat");
        var epochs = CliOptions.Int("--epochs", "passes over the training records", 2, min: 1);
        var steps = CliOptions.OptionalInt("--steps", "optimizer steps at most", min: 1);
        var batch = CliOptions.Int("--batch", "examples per step (rows with --packing)", 8, min: 1);
        var lr = CliOptions.Float("--lr", "peak learning rate", 5e-5f, 0f, minExclusive: true);
        var wd = CliOptions.Float("--weight-decay", "AdamW weight decay", 0.1f, 0f);
        var maxMinutes = new Option<double?>("--max-minutes") { Description = "time budget of the training (evaluations included)", HelpName = "minutes" };
        maxMinutes.Validators.Add(r => { if (r.GetValueOrDefault<double?>() is <= 0) r.AddError("--max-minutes must be positive."); });
        var maxLength = CliOptions.OptionalInt("--max-length", "tokens per example at most (default and most: the model's context + 1)", min: 2);
        var packing = CliOptions.Flag("--packing", "pack several examples per row instead of padding each");
        var onEmpty = CliOptions.Choice("--on-empty-response", "a record whose response truncation leaves empty: error, or skip it (counted and named)", "error", "error", "skip");
        var evalEvery = CliOptions.Int("--eval-every", "validation loss every this many steps (0: each epoch end)", 0, min: 0);
        var maxNew = CliOptions.Int("--max-new-tokens", "tokens generated per test response at most", 256, min: 1);
        var testCount = CliOptions.OptionalInt("--test-count", "test records to generate responses for (default: all)", min: 0);
        var trainFraction = CliOptions.Float("--train-fraction", "records for training, in file order", 0.85f, 0f, 1f, minExclusive: true);
        var testFraction = CliOptions.Float("--test-fraction", "records for testing after the training ones; the rest validate", 0.10f, 0f, 1f);
        var seed = CliOptions.Seed(123);
        var threads = CliOptions.Threads();
        var backend = CliBackend.CreateOption();
        var command = new Command("sft", "instruction-tune a causal language model on Alpaca-style records (loss on the responses), then generate for the test records; prints exact match last")
        {
            data, checkpoint, model, outDir, template, epochs, steps, batch, lr, wd, maxMinutes, maxLength, packing, onEmpty, evalEvery, maxNew, testCount,
            trainFraction, testFraction, seed, threads, backend,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(data)!, r.GetValue(checkpoint), r.GetValue(model), r.GetValue(outDir)!,
            r.GetValue(template)!, r.GetValue(epochs), r.GetValue(steps), r.GetValue(batch), r.GetValue(lr), r.GetValue(wd), r.GetValue(maxMinutes), r.GetValue(maxLength),
            r.GetValue(packing), r.GetValue(onEmpty)!, r.GetValue(evalEvery), r.GetValue(maxNew), r.GetValue(testCount), r.GetValue(trainFraction), r.GetValue(testFraction),
            r.GetValue(seed), r.GetValue(threads), r.GetValue(backend)!), cancellation));
        return command;
    }

    public static int Run(Settings a, CancellationToken cancellation)
    {
        if ((a.Checkpoint is null) == (a.Model is null)) throw new CliException("give the model to tune with --checkpoint (a train-lm checkpoint) or --model (a Hugging Face folder), one of them.");
        if (a.TrainFraction + a.TestFraction > 1f) throw new CliException($"--train-fraction ({a.TrainFraction}) and --test-fraction ({a.TestFraction}) add up to more than 1.");
        if (a.Threads > 0) CpuBackend.Default.Threads = a.Threads;
        var (model, tokenizer, kind, configJson, snapshot) = a.Checkpoint is { } ck ? FromCheckpoint(ck) : FromFolder(a.Model!);
        using var backend = CliBackend.Create(a.Backend);
        backend.Place(model);
        model.Train();

        var records = InstructionData.Read(a.Data);
        var split = InstructionData.Split(records, a.TrainFraction, a.TestFraction);
        if (split.Train.Count == 0) throw new CliException($"{a.Data}: {records.Count} records leave none for training with --train-fraction {a.TrainFraction}.");
        var template = PromptTemplate.For(a.Template == "chat" ? PromptTemplateKind.Chat : PromptTemplateKind.Alpaca, tokenizer);
        int max = Math.Min(a.MaxLength ?? int.MaxValue, model.ContextLength + 1);
        var policy = a.OnEmptyResponse == "skip" ? EmptyResponsePolicy.Skip : EmptyResponsePolicy.Throw;
        var encoder = new InstructionEncoder(tokenizer, template, max, policy);
        InstructionEncoding Encode(IReadOnlyList<InstructionRecord> part, int offset, string name)
        {
            try
            {
                var e = encoder.EncodeAll(part, offset);
                if (e.Skipped.Count > 0)
                    Console.WriteLine($"{name}: skipped {e.Skipped.Count} record(s) whose response truncation to {max} tokens leaves empty: {string.Join(", ", e.Skipped.Take(10))}{(e.Skipped.Count > 10 ? ", ..." : "")}");
                return e;
            }
            catch (InvalidDataException e)
            {
                throw new CliException($"{a.Data}: {e.Message} (--max-length, --on-empty-response skip)");
            }
        }
        var train = Encode(split.Train, 0, "training").Examples;
        var validation = Encode(split.Validation, split.Train.Count + split.Test.Count, "validation").Examples;
        if (train.Count == 0) throw new CliException($"{a.Data}: every training record was skipped; raise --max-length or use a model with a longer context.");
        int padId = tokenizer.PadId ?? tokenizer.EosId ?? 0;

        var options = new TrainerOptions
        {
            Epochs = a.Epochs, MaxSteps = a.Steps, BatchSize = a.Batch, LearningRate = a.Lr, WeightDecay = a.WeightDecay, WarmupFraction = 0.05f,
            Decay = DecayKind.Cosine, MinLearningRate = a.Lr / 10, MaxGradNorm = 1f, EvalEvery = a.EvalEvery, Seed = (ulong)a.Seed,
            MaxTime = a.MaxMinutes is { } m ? TimeSpan.FromMinutes(m) : null,
        };
        var trainer = new SftTrainer(model, options, padId) { Packing = a.Packing };
        if (validation.Count > 0)
            trainer.Callbacks.Add(new EvaluationCallback("loss", () => ValidationLoss(model, validation, a.Batch, padId), greaterIsBetter: false));
        trainer.Callbacks.Add(new CheckpointCallback(a.Out, kind, configJson, snapshot, new Dictionary<string, string> { ["prompt_template"] = template.Name }));
        trainer.Callbacks.Add(new MetricsLog(a.Out));
        trainer.Callbacks.Add(new Example.ConsoleStepLog("sft", 10));
        Console.WriteLine($"{a.Data}: {records.Count} records: {split.Train.Count} train, {split.Test.Count} test, {split.Validation.Count} validation; "
            + $"template {template.Name}; {model.GetType().Name} with {model.ParameterCount():N0} parameters, context {model.ContextLength}; "
            + $"{train.Count} examples of {train.Min(e => e.Length)}-{train.Max(e => e.Length)} tokens ({train.Sum(e => (long)e.ResponseLength):N0} response tokens)"
            + (a.Packing ? ", packed" : ", padded"));
        var result = trainer.Train(train, cancellation);
        string best = Path.Combine(a.Out, "best.safetensors"), last = Path.Combine(a.Out, "last.safetensors");
        if (result.Reason == StopReason.Cancelled)
        {
            Console.WriteLine($"Cancelled after {result.Steps} steps; checkpoints: {(File.Exists(best) ? best + ", " : "")}{last}");
            return SharptCli.Cancelled;
        }
        Console.WriteLine($"{result.Reason} after {result.Steps} steps in {result.Elapsed.TotalSeconds:F1} s; training loss {result.FinalLoss:F4}"
            + (double.IsFinite(result.BestMetric) ? $"; best validation loss {result.BestMetric:F4} at step {result.BestStep}" : ""));
        if (File.Exists(best)) LanguageModelCheckpointRestore(best, model);

        var test = split.Test.Take(a.TestCount ?? split.Test.Count).ToList();
        double exact = double.NaN;
        if (test.Count > 0)
        {
            var evaluation = new InstructionEvaluator(model, encoder) { BatchSize = Math.Max(1, a.Batch) }.Evaluate(test, a.MaxNewTokens, cancellation);
            string path = Path.Combine(a.Out, "test-responses.jsonl");
            using (var w = new StreamWriter(path))
                for (int i = 0; i < test.Count; i++)
                    w.WriteLine(JsonSerializer.Serialize(new { instruction = test[i].Instruction, input = test[i].Input, output = test[i].Output, model_response = evaluation.Responses[i] }));
            Console.WriteLine($"test responses: {path}");
            Console.WriteLine($"example: {template.FormatPrompt(test[0]).ReplaceLineEndings("\\n")}{evaluation.Responses[0].ReplaceLineEndings("\\n")}");
            exact = evaluation.ExactMatch;
        }
        Console.WriteLine($"checkpoints: {best}, {last}");
        Console.WriteLine($"test records generated for: {test.Count}");
        Console.WriteLine($"exact match: {exact:F4}");
        return 0;
    }

    // The mean response loss over the validation examples.
    private static double ValidationLoss(CausalLanguageModel model, IReadOnlyList<InstructionExample> examples, int batch, int padId)
    {
        using var _ = GradMode.NoGrad();
        double sum = 0;
        long tokens = 0;
        for (int s = 0; s < examples.Count; s += batch)
        {
            using var scope = TensorScope.Begin();
            var b = InstructionBatch.Pad(examples.Skip(s).Take(batch).ToList(), padId);
            int n = b.ResponseTokens;
            sum += InstructionTuning.Loss(model, b).Item() * n;
            tokens += n;
        }
        return sum / Math.Max(1, tokens);
    }

    private static void LanguageModelCheckpointRestore(string path, CausalLanguageModel model)
    {
        using var _ = TensorScope.Suspend();
        IO.Checkpoint.Load(path).RestoreModel(model);
    }

    private static (CausalLanguageModel, Tokenizer, string Kind, string Config, string? Snapshot) FromCheckpoint(string path)
    {
        var lm = CheckpointFile.Load(path, LanguageModelCheckpoint.Load);
        var ck = IO.Checkpoint.Load(lm.Path);
        return (lm.Model, lm.Tokenizer, ck.ModelKind, ck.ConfigJson, ck.TokenizerJson);
    }

    private static (CausalLanguageModel, Tokenizer, string Kind, string Config, string? Snapshot) FromFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new CliException($"--model must be a Hugging Face folder, not a file: {dir}");
        var model = CheckpointFile.Load(dir, AutoModelForCausalLM.FromPretrained);
        var tokenizer = CheckpointFile.Load(dir, AutoTokenizer.FromPretrained);
        var (kind, config) = model switch
        {
            Gpt2 g => ("gpt2", JsonSerializer.Serialize(g.Config)),
            Llama l => ("llama", JsonSerializer.Serialize(l.Config)),
            _ => throw new CliException($"{dir}: a {model.GetType().Name} cannot be saved as a sharpt checkpoint yet (gpt2 and llama can)."),
        };
        string? snapshot = null;
        string json = Path.Combine(dir, "tokenizer.json"), vocab = Path.Combine(dir, "vocab.json"), merges = Path.Combine(dir, "merges.txt");
        if (File.Exists(json)) snapshot = TokenizerSnapshot.FromFiles(json, null, false);
        else if (File.Exists(vocab) && File.Exists(merges)) snapshot = TokenizerSnapshot.FromFiles(vocab, merges, false);
        return (model, tokenizer, kind, config, snapshot);
    }
}
