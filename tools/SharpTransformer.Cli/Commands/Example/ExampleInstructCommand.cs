using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Alignment;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Data;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Models.Llama;
using SharpTransformer.Tokenizers;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands.Example;

/// <summary>
/// sharpt example instruct: pretrains a small character-level GPT on Tiny Shakespeare, instruction-tunes it on synthetic tasks
/// with checkable answers (<see cref="SyntheticInstructions"/>), then runs DPO with wrong rejected answers and GRPO with the
/// exact-answer reward from a deliberately short instruction-tuning run, printing held-out exact match after each stage and
/// preference accuracy before and after DPO.
/// </summary>
internal static class ExampleInstructCommand
{
    /// <summary>The chat template with role names: <c>user: {instruction}\n\n{input}\nassistant: {response}\n</c>.</summary>
    internal static readonly ChatPromptTemplate RoleTemplate = new("plain-chat", "{role}: ", "\n", "");

    /// <summary>
    /// The compact template (the default): <c>{instruction}\n\n{input}\n{response}\n</c>. At the character level every prompt
    /// character costs a position, so markers the tasks do not need only make each step slower.
    /// </summary>
    internal static readonly ChatPromptTemplate CompactTemplate = new("compact", "", "\n", "");

    /// <summary>The values of the options.</summary>
    internal sealed record Settings(int PretrainSteps, int SftSteps, int ShortSftSteps, int DpoSteps, int GrpoSteps, int Layers, int Heads, int Embedding,
        int Batch, float Lr, string Arch, string TemplateName, int Warmup, float DpoLr, float DpoBeta, float GrpoLr, int GrpoGroup, int GrpoPrompts, int TrainSize, int TestSize, int Seed, int Threads, int LogEvery, int ShowErrors);

    public static Command Create()
    {
        var pretrain = CliOptions.Int("--pretrain-steps", "language-model steps on Tiny Shakespeare", 300, min: 0);
        var sft = CliOptions.Int("--sft-steps", "instruction-tuning steps", 10000, min: 1);
        var shortSft = CliOptions.Int("--short-sft-steps", "steps of the deliberately short instruction tuning that GRPO starts from (0: skip GRPO)", 300, min: 0);
        var dpo = CliOptions.Int("--dpo-steps", "DPO steps (0: skip DPO)", 100, min: 0);
        var grpo = CliOptions.Int("--grpo-steps", "GRPO steps (0: skip GRPO)", 40, min: 0);
        var arch = CliOptions.Choice("--arch", "architecture: gpt2 (learned positions) or llama (rotary positions, RMSNorm, SwiGLU)", "llama", "gpt2", "llama");
        var layers = CliOptions.Int("--layers", "transformer blocks", 2, min: 1);
        var heads = CliOptions.Int("--heads", "attention heads", 6, min: 1);
        var embd = CliOptions.Int("--embd", "width (a multiple of --heads)", 192, min: 1);
        var batch = CliOptions.Int("--batch", "examples per step (pretraining: 12 windows)", 16, min: 1);
        var template = CliOptions.Choice("--template", "prompt template: compact (instruction, input, response, one per line) or roles (user: / assistant: )", "compact", "compact", "roles");
        var warmup = CliOptions.Int("--warmup", "warm-up steps of instruction tuning", 100, min: 0);
        var lr = CliOptions.Float("--lr", "peak learning rate of instruction tuning", 1e-3f, 0f, minExclusive: true);
        var dpoLr = CliOptions.Float("--dpo-lr", "DPO learning rate", 1e-4f, 0f, minExclusive: true);
        var dpoBeta = CliOptions.Float("--dpo-beta", "DPO beta", 0.1f, 0f, minExclusive: true);
        var grpoLr = CliOptions.Float("--grpo-lr", "GRPO learning rate", 2e-4f, 0f, minExclusive: true);
        var grpoGroup = CliOptions.Int("--grpo-group", "completions per prompt", 8, min: 2);
        var grpoPrompts = CliOptions.Int("--grpo-prompts", "prompts per GRPO step", 8, min: 1);
        var trainSize = CliOptions.Int("--train-size", "synthetic training instances", 100000, min: 10);
        var testSize = CliOptions.Int("--test-size", "held-out instances (never trained on)", 500, min: 1);
        var seed = CliOptions.Seed(1);
        var threads = CliOptions.Threads();
        var logEvery = CliOptions.Int("--log-every", "print the loss every this many steps", 100, min: 1);
        var showErrors = CliOptions.Int("--show-errors", "wrong held-out responses to print after each evaluation", 0, min: 0);
        var command = new Command("instruct", "pretrain on Tiny Shakespeare, instruction-tune on synthetic tasks, then DPO and GRPO; prints held-out exact match after each stage")
        {
            pretrain, sft, shortSft, dpo, grpo, arch, layers, heads, embd, batch, template, warmup, lr, dpoLr, dpoBeta, grpoLr, grpoGroup, grpoPrompts, trainSize, testSize, seed, threads, logEvery, showErrors,
        };
        SharptCli.SetAction(command, (r, cancellation) => Run(new Settings(r.GetValue(pretrain), r.GetValue(sft), r.GetValue(shortSft), r.GetValue(dpo), r.GetValue(grpo),
            r.GetValue(layers), r.GetValue(heads), r.GetValue(embd), r.GetValue(batch), r.GetValue(lr), r.GetValue(arch)!, r.GetValue(template)!, r.GetValue(warmup), r.GetValue(dpoLr), r.GetValue(dpoBeta), r.GetValue(grpoLr),
            r.GetValue(grpoGroup), r.GetValue(grpoPrompts), r.GetValue(trainSize), r.GetValue(testSize), r.GetValue(seed), r.GetValue(threads), r.GetValue(logEvery), r.GetValue(showErrors)), cancellation));
        return command;
    }

    public static int Run(Settings s, CancellationToken cancellation)
    {
        if (s.Threads > 0) CpuBackend.Default.Threads = s.Threads;
        if (s.Embedding % s.Heads != 0) throw new CliException($"--embd ({s.Embedding}) must be a multiple of --heads ({s.Heads}).");
        var template = s.TemplateName == "roles" ? RoleTemplate : CompactTemplate;
        var total = Stopwatch.StartNew();
        var stage = Stopwatch.StartNew();
        void Done(string name)
        {
            Console.WriteLine($"[{name}] took {stage.Elapsed.TotalSeconds:F1} s (total {total.Elapsed.TotalSeconds:F1} s)");
            stage.Restart();
        }

        // Data: held-out instances first; training instances never repeat a held-out prompt.
        var test = SyntheticInstructions.Generate(s.TestSize, s.Seed * 7919 + 1, distinct: true);
        var heldOut = test.Select(t => SyntheticInstructions.Key(t.Record)).ToHashSet(StringComparer.Ordinal);
        var train = SyntheticInstructions.Generate(s.TrainSize, s.Seed * 7919 + 2, heldOut);
        var prefTrain = SyntheticInstructions.Generate(Math.Max(1000, s.TrainSize / 10), s.Seed * 7919 + 3, heldOut);
        string corpus = DemoCommand.LoadCorpus();
        var tokenizer = CharTokenizer.FromText(corpus + SyntheticInstructions.Alphabet + template.Format(train[0].Record) + "\n", addUnknown: false);
        var probe = new InstructionEncoder(tokenizer, template, int.MaxValue);
        int longest = train.Concat(test).Concat(prefTrain).Max(t => probe.Encode(t.Record)!.Length);
        int context = (longest + 15) / 16 * 16;
        var encoder = new InstructionEncoder(tokenizer, template, context + 1);
        Console.WriteLine($"synthetic tasks: {train.Count} training, {test.Count} held-out instances (five types); character vocabulary {tokenizer.VocabSize}; "
            + $"{s.Arch} {s.Layers}x{s.Embedding}, {s.Heads} heads, context {context}; {CpuBackend.Default.Threads} thread(s)");
        Console.WriteLine($"example: {template.Format(train[0].Record).Replace("\n", "\\n", StringComparison.Ordinal)} (rejected: {train[0].Rejected})");

        // 1. Pretraining on Tiny Shakespeare.
        CausalLanguageModel model = s.Arch == "gpt2"
            ? new Gpt2(new Gpt2Config(VocabSize: tokenizer.VocabSize, ContextLength: context, Layers: s.Layers, Heads: s.Heads, Embedding: s.Embedding), (ulong)s.Seed)
            : new Llama(new LlamaConfig(VocabSize: tokenizer.VocabSize, Hidden: s.Embedding, Intermediate: (8 * s.Embedding / 3 + 31) / 32 * 32, Layers: s.Layers,
                Heads: s.Heads, KvHeads: s.Heads, ContextLength: context, TieEmbeddings: true), (ulong)s.Seed);
        if (s.PretrainSteps > 0)
        {
            var ids = tokenizer.Encode(corpus);
            int split = (int)(ids.Length * 0.9);
            var lmTrain = new TokenWindowDataset(ids[..split], context, stride: 1);
            var lmVal = new TokenWindowDataset(ids[split..], context, stride: context);
            var lm = new LanguageModelTrainer(model, Options(s.PretrainSteps, 12, 1e-3f, s.Seed));
            lm.Callbacks.Add(new ConsoleStepLog("pretrain", s.LogEvery));
            var r = lm.Train(lmTrain, lmVal, evalBatches: 10, cancellation: cancellation);
            if (r.Reason == StopReason.Cancelled) return SharptCli.Cancelled;
            Console.WriteLine($"pretrained {r.Steps} steps on Tiny Shakespeare: validation loss {r.FinalMetric:F4}");
        }
        var pretrained = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        Done("pretrain");

        // 2. Instruction tuning.
        var examples = encoder.EncodeAll(train.Select(t => t.Record).ToList()).Examples;
        var evaluator = new InstructionEvaluator(model, encoder) { BatchSize = 50 };
        int maxNew = test.Max(t => encoder.EncodeResponse(t.Record.Output).Length) + 2;
        double Em(string name)
        {
            var e = evaluator.Evaluate(test.Select(t => t.Record).ToList(), maxNew, cancellation);
            var perKind = Enum.GetValues<SyntheticTaskKind>().Select(k =>
            {
                var idx = Enumerable.Range(0, test.Count).Where(i => test[i].Kind == k).ToList();
                double v = idx.Count(i => InstructionEvaluation.Matches(e.Responses[i], test[i].Record.Output)) / (double)Math.Max(1, idx.Count);
                return $"{k.ToString().ToLowerInvariant()} {v:F2}";
            });
            foreach (int i in Enumerable.Range(0, test.Count).Where(i => !InstructionEvaluation.Matches(e.Responses[i], test[i].Record.Output)).Take(s.ShowErrors))
                Console.WriteLine($"  wrong: {test[i].Record.Instruction} {test[i].Record.Input} -> '{e.Responses[i]}' (expected '{test[i].Record.Output}')");
            Console.WriteLine($"{name}: held-out exact match {e.ExactMatch:F3} on {test.Count} ({string.Join(", ", perKind)})");
            return e.ExactMatch;
        }
        if (!Sft(model, examples, s, s.SftSteps, cancellation)) return SharptCli.Cancelled;
        Done("sft");
        double emSft = Em("after instruction tuning");
        Done("sft eval");

        // 3. DPO on pairs with wrong rejected answers.
        if (s.DpoSteps > 0)
        {
            PreferenceExample Pair(SyntheticInstance t, int i) =>
                new(encoder.EncodePrompt(t.Record), encoder.EncodeResponse(t.Record.Output), encoder.EncodeResponse(t.Rejected), i);
            var pairs = prefTrain.Select(Pair).ToList();
            var heldPairs = test.Select(Pair).ToList();
            var dpo = new DpoTrainer(model, null, new DpoOptions { Beta = s.DpoBeta }, Options(s.DpoSteps, s.Batch, s.DpoLr, s.Seed) with { Epochs = 100 });
            dpo.Callbacks.Add(new ConsoleStepLog("dpo", Math.Max(1, s.LogEvery / 4)));
            dpo.PrecomputeReference(heldPairs);
            var start = dpo.Evaluate(heldPairs);
            // Before any step the policy is the reference: every implicit reward is 0, so every pair is a tie (counted as 0.5).
            double before = start["rewards/margins"] == 0 && start["rewards/accuracies"] == 0 ? 0.5 : start["rewards/accuracies"];
            var r = dpo.Train(pairs, null, cancellation);
            if (r.Reason == StopReason.Cancelled) return SharptCli.Cancelled;
            var end = dpo.Evaluate(heldPairs);
            double after = end["rewards/accuracies"];
            Console.WriteLine($"DPO {r.Steps} steps: held-out preference accuracy {before:F3} -> {after:F3} (reward margin {start["rewards/margins"]:F3} -> {end["rewards/margins"]:F3})");
            Done("dpo");
            double emDpo = Em("after DPO");
            Console.WriteLine($"exact match after DPO {emDpo:F3} vs {emSft:F3} before");
            Done("dpo eval");
        }

        // 4. GRPO from a deliberately short instruction-tuning run.
        if (s.GrpoSteps > 0 && s.ShortSftSteps > 0)
        {
            var weights = model.StateDict();
            foreach (var (name, values) in pretrained) weights[name].CopyFrom(values);
            if (!Sft(model, examples, s, s.ShortSftSteps, cancellation)) return SharptCli.Cancelled;
            Done("short sft");
            double emShort = Em("after short instruction tuning");
            Done("short sft eval");
            var prompts = train.Select((t, i) => new GrpoPrompt(encoder.EncodePrompt(t.Record), template.FormatPrompt(t.Record), t.Record.Output, i)).ToList();
            var grpo = new GrpoTrainer(model, null, new ExactAnswerReward(), encoder.DecodeResponse,
                new GrpoOptions { GroupSize = s.GrpoGroup, PromptsPerBatch = s.GrpoPrompts, MaxCompletionLength = maxNew, EndIds = encoder.EndIds, Beta = 0.04f },
                Options(s.GrpoSteps, s.Batch, s.GrpoLr, s.Seed));
            grpo.Callbacks.Add(new ConsoleStepLog("grpo", Math.Max(1, s.LogEvery / 4)));
            var r = grpo.Train(prompts, null, cancellation);
            if (r.Reason == StopReason.Cancelled) return SharptCli.Cancelled;
            Done("grpo");
            double emGrpo = Em("after GRPO");
            Console.WriteLine($"GRPO {r.Steps} steps: held-out exact match {emShort:F3} -> {emGrpo:F3} ({emGrpo - emShort:+0.000;-0.000})");
            Done("grpo eval");
        }
        Console.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static TrainerOptions Options(int steps, int batch, float lr, int seed, int warmup = 100) => new()
    {
        MaxSteps = steps, Epochs = 1000, BatchSize = batch, LearningRate = lr, MinLearningRate = lr / 10, WarmupSteps = Math.Min(warmup, steps / 10),
        Decay = DecayKind.Cosine, WeightDecay = 0.1f, Beta1 = 0.9f, Beta2 = 0.99f, MaxGradNorm = 1f, Seed = (ulong)seed,
    };

    private static bool Sft(CausalLanguageModel model, IReadOnlyList<InstructionExample> examples, Settings s, int steps, CancellationToken cancellation)
    {
        // Lengths follow the task type here: batches grouped by length would each hold one task.
        var trainer = new SftTrainer(model, Options(steps, s.Batch, s.Lr, s.Seed, s.Warmup), padId: 0) { GroupByLength = false };
        trainer.Callbacks.Add(new ConsoleStepLog("sft", s.LogEvery));
        var r = trainer.Train(examples, cancellation);
        Console.WriteLine($"instruction-tuned {r.Steps} steps: training loss {r.FinalLoss:F4}");
        return r.Reason != StopReason.Cancelled;
    }
}
