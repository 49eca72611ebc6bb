using System.CommandLine;
using SharpTransformer.Alignment;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt dpo: direct preference optimisation of an sft (or train-lm) checkpoint on chosen/rejected pairs, against the frozen
/// policy as loaded (or a reference checkpoint); prints the held-out preference accuracy before and after, last.
/// </summary>
internal static class DpoCommand
{
    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Data, string Checkpoint, string? Reference, string Out, float Beta, string Loss, float LabelSmoothing,
        bool PrecomputeReference, bool GroupByLength, string? Template, int Epochs, int? Steps, int Batch, float Lr, float WeightDecay, double? MaxMinutes, int? MaxLength,
        string OnEmptyResponse, int EvalEvery, float ValFraction, int Seed, int Threads, string Backend);

    public static Command Create()
    {
        var data = CliOptions.ExistingFile("--data", "preference records: JSON array or lines with instruction (+ input) or prompt, chosen, rejected", "data file");
        var checkpoint = AlignmentCommandParts.Checkpoint();
        var reference = AlignmentCommandParts.Reference();
        var outDir = CliOptions.OutputDirectory("--out", "folder for best.safetensors, last.safetensors and metrics.jsonl");
        var beta = CliOptions.Float("--beta", "β: how far the policy may move from the reference", 0.1f, 0f, minExclusive: true);
        var loss = CliOptions.Choice("--loss", "sigmoid (DPO) or ipo", "sigmoid", "sigmoid", "ipo");
        var smoothing = CliOptions.Float("--label-smoothing", "cDPO's assumed share of flipped labels (sigmoid only)", 0f, 0f, 0.49f);
        var precompute = CliOptions.Flag("--precompute-reference", "score every pair under the reference once before training (always so without --reference)");
        var groupByLength = CliOptions.Flag("--group-by-length", "batch pairs of similar length (less padding)");
        var template = AlignmentCommandParts.Template();
        var epochs = CliOptions.Int("--epochs", "passes over the training pairs", 1, min: 1);
        var steps = CliOptions.OptionalInt("--steps", "optimizer steps at most", min: 1);
        var batch = CliOptions.Int("--batch", "pairs per step", 8, min: 1);
        var lr = CliOptions.Float("--lr", "peak learning rate", 5e-6f, 0f, minExclusive: true);
        var wd = CliOptions.Float("--weight-decay", "AdamW weight decay", 0f, 0f);
        var maxMinutes = AlignmentCommandParts.MaxMinutes();
        var maxLength = CliOptions.OptionalInt("--max-length", "tokens per prompt + response at most (default and most: the model's context + 1)", min: 2);
        var onEmpty = CliOptions.Choice("--on-empty-response", "a pair whose response truncation leaves empty: error, or skip it", "error", "error", "skip");
        var evalEvery = CliOptions.Int("--eval-every", "evaluate the held-out pairs every this many steps (0: each epoch end)", 0, min: 0);
        var valFraction = CliOptions.Float("--val-fraction", "share of the records (the last ones) held out for evaluation", 0.1f, 0f, 0.9f);
        var seed = CliOptions.Seed(123);
        var threads = CliOptions.Threads();
        var backend = CliBackend.CreateOption();
        var command = new Command("dpo", "direct preference optimisation of an sft checkpoint on chosen/rejected pairs; prints held-out preference accuracy last")
        {
            data, checkpoint, reference, outDir, beta, loss, smoothing, precompute, groupByLength, template, epochs, steps, batch, lr, wd, maxMinutes, maxLength, onEmpty,
            evalEvery, valFraction, seed, threads, backend,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(data)!, r.GetValue(checkpoint)!, r.GetValue(reference), r.GetValue(outDir)!,
            r.GetValue(beta), r.GetValue(loss)!, r.GetValue(smoothing), r.GetValue(precompute), r.GetValue(groupByLength), r.GetValue(template), r.GetValue(epochs), r.GetValue(steps),
            r.GetValue(batch), r.GetValue(lr), r.GetValue(wd), r.GetValue(maxMinutes), r.GetValue(maxLength), r.GetValue(onEmpty)!, r.GetValue(evalEvery),
            r.GetValue(valFraction), r.GetValue(seed), r.GetValue(threads), r.GetValue(backend)!), cancellation));
        return command;
    }

    public static int Run(Settings a, CancellationToken cancellation)
    {
        var kind = a.Loss == "ipo" ? DpoLossKind.Ipo : DpoLossKind.Sigmoid;
        if (kind == DpoLossKind.Ipo && a.LabelSmoothing > 0f) throw new CliException("--label-smoothing applies to --loss sigmoid only.");
        if (a.Threads > 0) CpuBackend.Default.Threads = a.Threads;
        var policy = AlignmentCommandParts.Load(a.Checkpoint);
        var referenceModel = AlignmentCommandParts.LoadReference(a.Reference, policy);
        using var backend = CliBackend.Create(a.Backend);
        backend.Place(policy.Model);
        if (referenceModel is not null) backend.Place(referenceModel);
        var template = AlignmentCommandParts.TemplateFor(a.Template, policy);

        var records = PreferenceData.Read(a.Data);
        int held = (int)(records.Count * a.ValFraction);
        int trainCount = records.Count - held;
        if (trainCount == 0) throw new CliException($"{a.Data}: {records.Count} records leave none for training with --val-fraction {a.ValFraction}.");
        int max = Math.Min(a.MaxLength ?? int.MaxValue, policy.Model.ContextLength + 1);
        var encoder = new InstructionEncoder(policy.Tokenizer, template, max, a.OnEmptyResponse == "skip" ? EmptyResponsePolicy.Skip : EmptyResponsePolicy.Throw);
        var recordList = records.ToList();
        var (train, skippedTrain) = AlignmentCommandParts.Read(a.Data, () => PreferenceData.Encode(encoder, recordList[..trainCount]));
        var (eval, skippedEval) = AlignmentCommandParts.Read(a.Data, () => PreferenceData.Encode(encoder, recordList[trainCount..], trainCount));
        var skipped = skippedTrain.Concat(skippedEval).ToList();
        if (skipped.Count > 0)
            Console.WriteLine($"skipped {skipped.Count} pair(s) whose response truncation to {max} tokens leaves empty: records {string.Join(", ", skipped.Take(10))}{(skipped.Count > 10 ? ", ..." : "")}");
        if (train.Count == 0) throw new CliException($"{a.Data}: every training pair was skipped; raise --max-length or use a model with a longer context.");

        var options = new TrainerOptions
        {
            Epochs = a.Epochs, MaxSteps = a.Steps, BatchSize = a.Batch, LearningRate = a.Lr, WeightDecay = a.WeightDecay, WarmupFraction = 0.1f,
            Decay = DecayKind.Linear, MaxGradNorm = 1f, EvalEvery = a.EvalEvery, Seed = (ulong)a.Seed,
            MaxTime = a.MaxMinutes is { } m ? TimeSpan.FromMinutes(m) : null,
        };
        var trainer = new DpoTrainer(policy.Model, referenceModel,
            new DpoOptions { Beta = a.Beta, Loss = kind, LabelSmoothing = a.LabelSmoothing, PrecomputeReference = a.PrecomputeReference, GroupByLength = a.GroupByLength }, options);
        trainer.Callbacks.Add(new CheckpointCallback(a.Out, policy.Kind, policy.ConfigJson, policy.TokenizerJson,
            new Dictionary<string, string> { ["prompt_template"] = template.Name }));
        trainer.Callbacks.Add(new MetricsLog(a.Out));
        trainer.Callbacks.Add(new Example.ConsoleStepLog("dpo", 10));
        Console.WriteLine($"{a.Data}: {records.Count} pairs: {train.Count} train, {eval.Count} held out; template {template.Name}; {a.Loss} loss, beta {a.Beta}; "
            + $"reference: {(a.Reference is null ? "the policy as loaded" : a.Reference)}{(trainer.UsesPrecomputedReference ? " (precomputed)" : "")}; "
            + $"{policy.Kind} with {policy.Model.ParameterCount():N0} parameters");
        double before = double.NaN;
        if (eval.Count > 0)
        {
            before = trainer.Evaluate(eval)["rewards/accuracies"];
            Console.WriteLine($"held-out preference accuracy before: {before:F4}");
        }
        var result = trainer.Train(train, eval.Count > 0 ? eval : null, cancellation);
        if (AlignmentCommandParts.ReportEnd(result, a.Out)) return SharptCli.Cancelled;
        if (eval.Count == 0)
        {
            Console.WriteLine("no held-out pairs (--val-fraction 0): preference accuracy not measured");
            return 0;
        }
        var final = result.Evaluations.Count > 0 ? result.Evaluations[^1].Metrics : trainer.Evaluate(eval);
        Console.WriteLine($"held-out rewards: chosen {final["rewards/chosen"]:F4}, rejected {final["rewards/rejected"]:F4}, margin {final["rewards/margins"]:F4}; loss {final["loss"]:F4}");
        Console.WriteLine($"preference accuracy on {eval.Count} held-out pairs: {before:F4} -> {final["rewards/accuracies"]:F4}");
        return 0;
    }
}
