using System.CommandLine;
using SharpTransformer.Alignment;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt grpo: group relative policy optimisation of an sft (or train-lm) checkpoint with the exact-answer reward, a group of
/// sampled completions per prompt; prints the held-out mean reward (exact match) of greedy completions before and after, last.
/// </summary>
internal static class GrpoCommand
{
    /// <summary>The values of the options.</summary>
    internal sealed record Settings(string Data, string Checkpoint, string? Reference, string Out, string Reward, int GroupSize, int PromptsPerBatch,
        int UpdatesPerBatch, float Beta, float Epsilon, float? EpsilonHigh, string Loss, int Steps, float Lr, float WeightDecay, double? MaxMinutes,
        int MaxCompletionLength, float Temperature, int TopK, string? Template, int EvalEvery, float ValFraction, int? EvalPrompts, int Seed, int Threads,
        string Backend);

    public static Command Create()
    {
        var data = CliOptions.ExistingFile("--data", "prompts: JSON array or lines with instruction (+ input) or prompt, and answer or output", "data file");
        var checkpoint = AlignmentCommandParts.Checkpoint();
        var reference = AlignmentCommandParts.Reference();
        var outDir = CliOptions.OutputDirectory("--out", "folder for best.safetensors, last.safetensors and metrics.jsonl");
        var reward = CliOptions.Choice("--reward", "reward function: exact (1 when the completion, cut at the end marker and trimmed, equals the answer)", "exact", "exact");
        var group = CliOptions.Int("--group-size", "completions sampled per prompt (G)", 8, min: 2);
        var prompts = CliOptions.Int("--prompts-per-batch", "prompts per generation batch", 4, min: 1);
        var updates = CliOptions.Int("--updates-per-batch", "optimizer steps on each generation batch (μ)", 2, min: 1);
        var beta = CliOptions.Float("--beta", "weight of the KL penalty to the reference (0: none)", 0.04f, 0f);
        var epsilon = CliOptions.Float("--epsilon", "ratio clip ε", 0.2f, 0f, 0.99f, minExclusive: true);
        var epsilonHigh = CliOptions.OptionalFloat("--epsilon-high", "upper ratio clip (default: --epsilon)", 0f, minExclusive: true);
        var loss = CliOptions.Choice("--loss", "grpo (mean per completion, then over completions) or bnpo (mean over all tokens)", "grpo", "grpo", "bnpo");
        var steps = CliOptions.Int("--steps", "optimizer steps", 100, min: 1);
        var lr = CliOptions.Float("--lr", "peak learning rate", 1e-5f, 0f, minExclusive: true);
        var wd = CliOptions.Float("--weight-decay", "AdamW weight decay", 0f, 0f);
        var maxMinutes = AlignmentCommandParts.MaxMinutes();
        var maxCompletion = CliOptions.Int("--max-completion-length", "tokens sampled per completion at most", 64, min: 1);
        var temperature = CliOptions.Float("--temperature", "sampling temperature", 1f, 0f, minExclusive: true);
        var topK = CliOptions.Int("--top-k", "sample among the k most likely tokens (0: all)", 0, min: 0);
        var template = AlignmentCommandParts.Template();
        var evalEvery = CliOptions.Int("--eval-every", "evaluate the held-out prompts every this many steps (0: at the end)", 0, min: 0);
        var valFraction = CliOptions.Float("--val-fraction", "share of the records (the last ones) held out for evaluation", 0.1f, 0f, 0.9f);
        var evalPrompts = CliOptions.OptionalInt("--eval-prompts", "held-out prompts evaluated at most (default: all)", min: 1);
        var seed = CliOptions.Seed(123);
        var threads = CliOptions.Threads();
        var backend = CliBackend.CreateOption();
        var command = new Command("grpo", "group relative policy optimisation of an sft checkpoint with the exact-answer reward; prints held-out exact match last")
        {
            data, checkpoint, reference, outDir, reward, group, prompts, updates, beta, epsilon, epsilonHigh, loss, steps, lr, wd, maxMinutes, maxCompletion,
            temperature, topK, template, evalEvery, valFraction, evalPrompts, seed, threads, backend,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(data)!, r.GetValue(checkpoint)!, r.GetValue(reference), r.GetValue(outDir)!,
            r.GetValue(reward)!, r.GetValue(group), r.GetValue(prompts), r.GetValue(updates), r.GetValue(beta), r.GetValue(epsilon), r.GetValue(epsilonHigh),
            r.GetValue(loss)!, r.GetValue(steps), r.GetValue(lr), r.GetValue(wd), r.GetValue(maxMinutes), r.GetValue(maxCompletion), r.GetValue(temperature),
            r.GetValue(topK), r.GetValue(template), r.GetValue(evalEvery), r.GetValue(valFraction), r.GetValue(evalPrompts), r.GetValue(seed), r.GetValue(threads),
            r.GetValue(backend)!), cancellation));
        return command;
    }

    public static int Run(Settings a, CancellationToken cancellation)
    {
        if (a.Threads > 0) CpuBackend.Default.Threads = a.Threads;
        var policy = AlignmentCommandParts.Load(a.Checkpoint);
        var referenceModel = AlignmentCommandParts.LoadReference(a.Reference, policy);
        using var backend = CliBackend.Create(a.Backend);
        backend.Place(policy.Model);
        if (referenceModel is not null) backend.Place(referenceModel);
        var template = AlignmentCommandParts.TemplateFor(a.Template, policy);

        var records = GrpoData.Read(a.Data, requireAnswer: a.Reward == "exact").ToList();
        int held = (int)(records.Count * a.ValFraction);
        int trainCount = records.Count - held;
        if (trainCount == 0) throw new CliException($"{a.Data}: {records.Count} records leave none for training with --val-fraction {a.ValFraction}.");
        var encoder = new InstructionEncoder(policy.Tokenizer, template, policy.Model.ContextLength + 1);
        var train = AlignmentCommandParts.Read(a.Data, () => GrpoData.Encode(encoder, records[..trainCount]));
        var eval = AlignmentCommandParts.Read(a.Data, () => GrpoData.Encode(encoder, records[trainCount..], trainCount)).Take(a.EvalPrompts ?? int.MaxValue).ToList();

        var options = new TrainerOptions
        {
            MaxSteps = a.Steps, LearningRate = a.Lr, WeightDecay = a.WeightDecay, WarmupFraction = 0.05f, Decay = DecayKind.Constant, MaxGradNorm = 1f,
            EvalEvery = a.EvalEvery, Seed = (ulong)a.Seed, MaxTime = a.MaxMinutes is { } m ? TimeSpan.FromMinutes(m) : null,
        };
        var grpo = new GrpoOptions
        {
            GroupSize = a.GroupSize, PromptsPerBatch = a.PromptsPerBatch, UpdatesPerBatch = a.UpdatesPerBatch, Beta = a.Beta, Epsilon = a.Epsilon,
            EpsilonHigh = a.EpsilonHigh, Loss = a.Loss == "bnpo" ? GrpoLossKind.Bnpo : GrpoLossKind.Grpo, MaxCompletionLength = a.MaxCompletionLength,
            Temperature = a.Temperature, TopK = a.TopK, EndIds = encoder.EndIds,
        };
        var trainer = new GrpoTrainer(policy.Model, referenceModel, RewardFunction.ExactAnswer, encoder.DecodeResponse, grpo, options);
        trainer.Callbacks.Add(new CheckpointCallback(a.Out, policy.Kind, policy.ConfigJson, policy.TokenizerJson,
            new Dictionary<string, string> { ["prompt_template"] = template.Name }));
        trainer.Callbacks.Add(new MetricsLog(a.Out));
        trainer.Callbacks.Add(new Example.ConsoleStepLog("grpo", 10));
        Console.WriteLine($"{a.Data}: {records.Count} prompts: {train.Count} train, {eval.Count} held out; template {template.Name}; reward {a.Reward}; "
            + $"group {a.GroupSize} x {a.PromptsPerBatch} prompts, {a.UpdatesPerBatch} update(s) per batch, beta {a.Beta}, epsilon {a.Epsilon}; "
            + $"{policy.Kind} with {policy.Model.ParameterCount():N0} parameters");
        double before = double.NaN;
        if (eval.Count > 0)
        {
            before = trainer.Evaluate(eval)["reward"];
            Console.WriteLine($"held-out exact match before: {before:F4}");
        }
        var result = trainer.Train(train, eval.Count > 0 ? eval : null, cancellation);
        if (AlignmentCommandParts.ReportEnd(result, a.Out)) return SharptCli.Cancelled;
        if (eval.Count == 0)
        {
            Console.WriteLine("no held-out prompts (--val-fraction 0): exact match not measured");
            return 0;
        }
        double after = result.Evaluations.Count > 0 ? result.Evaluations[^1].Metric : trainer.Evaluate(eval)["reward"];
        Console.WriteLine($"exact match on {eval.Count} held-out prompts: {before:F4} -> {after:F4}");
        return 0;
    }
}
