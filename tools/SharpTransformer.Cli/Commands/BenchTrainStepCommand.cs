using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Peft;
using SharpTransformer.Tensors;
using SharpTransformer.Training;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt bench train-step: one GPT-2 training step (forward, backward, AdamW) with random weights on <c>--backend</c>
/// (default cpu); prints ms/step. Each step ends by reading the loss, which waits for a device's queued kernels.
/// </summary>
internal static class BenchTrainStepCommand
{
    public static Command Create()
    {
        var modelOption = ModelConfigs.Option();
        var batchOption = CliOptions.Int("--batch", "batch size", 4, min: 1);
        var seqOption = CliOptions.Int("--seq", "sequence length", 64, min: 1);
        var stepsOption = CliOptions.Int("--steps", "timed steps", 10, min: 1);
        var threadsOption = CliOptions.Threads();
        var warmupOption = CliOptions.Int("--warmup", "untimed steps first", 2, min: 0);
        var loraRankOption = CliOptions.Int("--lora-rank", "LoRA rank on --lora-targets with the base frozen (0 = full fine-tuning)", 0, min: 0);
        var loraTargetsOption = new Option<string>("--lora-targets")
        {
            Description = "comma-separated module names LoRA wraps (PEFT suffix match), or all-linear",
            DefaultValueFactory = _ => "c_attn",
        };
        var archOption = CliOptions.Choice("--arch", "gpt2 (sized by --model) or the small Llama-style model of bench generate", "gpt2", "gpt2", "llama", "qwen2", "mistral");
        var backendOptions = new BenchBackendOptions();
        var shapeOptions = new BenchShapeOptions();
        var command = new Command("train-step", "training step (forward, backward, AdamW) of a GPT-2 size or of --model/--arch, random weights; prints ms/step last")
        {
            modelOption, batchOption, seqOption, stepsOption, threadsOption, warmupOption, loraRankOption, loraTargetsOption, archOption,
        };
        backendOptions.AddTo(command);
        shapeOptions.AddTo(command);
        SharptCli.SetAction(command, (r, _) =>
        {
            using var backend = backendOptions.Create(r);
            string arch = r.GetValue(archOption)!;
            string model = arch == "gpt2" ? r.GetValue(modelOption)! : arch;
            return Run(model, r.GetValue(batchOption), r.GetValue(seqOption), r.GetValue(stepsOption), r.GetValue(threadsOption),
                r.GetValue(warmupOption), r.GetValue(loraRankOption), r.GetValue(loraTargetsOption)!, backend,
                arch == "gpt2" && BenchModels.Handles(model) ? shapeOptions.Read(r, model, r.GetValue(seqOption)) : null);
        });
        return command;
    }

    private static int Run(string model, int batch, int seq, int steps, int threads, int warmup, int loraRank, string loraTargets, CliBackend backend,
        (LmShape Shape, int Vocab)? shape = null)
    {
        if (threads > 0) CpuBackend.Default.Threads = threads;
        double flops;
        Models.CausalLanguageModel net;
        if (shape is { } sh)
        {
            // llama / mixtral / deepseek: 6 × active non-embedding parameters per token (+ the tied head) plus attention.
            var (lm, active, layers, width) = BenchModels.Create(model, sh.Shape, sh.Vocab);
            net = lm;
            flops = 6.0 * (active + (long)sh.Vocab * width) * batch * seq + 12.0 * layers * batch * (double)seq * seq * width;
            Console.WriteLine($"{model}: {active:N0} active non-embedding parameters per token");
        }
        else
        {
            bool llama = model is "llama" or "qwen2" or "mistral";                            // --arch: the small Llama-style model
            var config = llama ? ModelConfigs.SmallLlamaAsGpt2(seq) : ModelConfigs.Gpt2(model);   // sizes for the FLOP count
            if (seq > config.ContextLength) throw new CliException($"--seq {seq} exceeds the context length {config.ContextLength}.");
            net = llama ? ModelConfigs.SmallLlama(model, seq, config.VocabSize) : new Gpt2(config);
            flops = TrainingFlops(config, net.ParameterCount(), batch, seq);
        }
        if (loraRank > 0)
        {
            var names = loraTargets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var lora = names is [LoraConfig.AllLinear]
                ? new LoraConfig(R: loraRank, Alpha: 2f * loraRank, TargetRegex: LoraConfig.AllLinear)
                : new LoraConfig(R: loraRank, Alpha: 2f * loraRank, TargetModules: names);
            net.Freeze();
            int wrapped = Lora.Apply(net, lora).Count;
            Console.WriteLine($"LoRA rank {loraRank} on {wrapped} module(s) ({loraTargets}); base frozen");
        }
        net.To(backend.Backend);
        var opt = new AdamW(net.Parameters(), new AdamWOptions(6e-4f, 0.9f, 0.95f, 1e-8f, 0.1f));
        var g = new Generator(1);
        var ids = Tensor.FromArray(Enumerable.Range(0, batch * seq).Select(_ => g.NextInt(net.VocabSize)).ToArray(), batch, seq).To(backend.Backend);
        var targets = Tensor.FromArray(Enumerable.Range(0, batch * seq).Select(_ => g.NextInt(net.VocabSize)).ToArray(), batch, seq).To(backend.Backend);
        Console.WriteLine($"{model}: {net.ParameterCount():N0} parameters, batch {batch}, seq {seq}, {backend.Description}, {flops / 1e9:F1} GFLOP/step");
        var times = new List<double>();
        var cpuTimes = new List<double>();       // process CPU time per step: less sensitive than wall time to other load on the machine
        var process = Process.GetCurrentProcess();
        for (int s = 0; s < warmup + steps; s++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            float loss;
            using (var scope = TensorScope.Begin())
            {
                var l = Functional.CrossEntropy(net.Forward(ids), targets);
                if (net is Nn.MoE.IMixtureOfExpertsModel moe && Nn.MoE.MoeLosses.Auxiliary(moe) is { } aux) l = l.Add(aux);   // as LanguageModelTrainer
                opt.ZeroGrad();
                l.Backward();
                opt.Step();
                loss = l.Item();                // a host read: waits for the step's kernels on a device
            }
            sw.Stop();
            process.Refresh();
            if (s >= warmup)
            {
                times.Add(sw.Elapsed.TotalMilliseconds);
                cpuTimes.Add((process.TotalProcessorTime - cpu0).TotalMilliseconds);
                Console.WriteLine($"step {s - warmup}: {sw.Elapsed.TotalMilliseconds:F1} ms, loss {loss:F4}, {flops / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s");
            }
        }
        long trainable = net.Parameters().Where(p => p.RequiresGrad).Sum(p => (long)p.Count);
        long state = opt.Moments.Sum(m => (long)(m.M?.Count ?? 0) + (m.V?.Count ?? 0));
        Console.WriteLine($"trainable parameters: {trainable:N0} of {net.ParameterCount():N0}; optimizer state: {state:N0} floats ({state * 4.0 / (1 << 20):F1} MiB)");
        double median = Median(times);
        Console.WriteLine($"median GFLOP/s: {flops / (median / 1000) / 1e9:F1}");
        Console.WriteLine($"cpu ms/step: {Median(cpuTimes):F1}");
        Console.WriteLine($"ms/step: {median:F1}");
        return 0;
    }

    /// <summary>6·N·tokens for the parameter matmuls plus attention (12·L·T²·C·B for scores and values, forward and backward).</summary>
    internal static double TrainingFlops(Gpt2Config c, long parameters, int batch, int seq)
    {
        long nonEmbedding = parameters - (long)c.ContextLength * c.Embedding;    // the tied head counts as a matmul
        double tokens = (double)batch * seq;
        return 6.0 * nonEmbedding * tokens + 12.0 * c.Layers * batch * (double)seq * seq * c.Embedding;
    }

    internal static double Median(List<double> xs)
    {
        var s = xs.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }
}

/// <summary>Named model configurations for the CLI.</summary>
internal static class ModelConfigs
{
    /// <summary>The names <see cref="Gpt2"/> knows.</summary>
    public static readonly string[] Names = ["gpt2", "gpt2-124m", "gpt2-medium", "gpt2-large", "gpt2-xl", "gpt2-tiny"];

    /// <summary><c>--model</c>: one of <see cref="Names"/> (default gpt2, the 124M model).</summary>
    public static System.CommandLine.Option<string> Option() => CliOptions.Choice("--model", "GPT-2 size, or llama/mixtral/deepseek shaped by --layers, --embd, --hidden, --experts, --kv-lora-rank ... (random weights)", "gpt2", [.. Names, .. BenchModels.Names]);

    /// <summary>
    /// The small Llama-style model of <c>bench generate --arch</c> and <c>bench train-step --arch</c>: 256 wide, 4 layers, 8 heads,
    /// 2 key/value heads, SwiGLU 704, <paramref name="vocab"/> tokens, <paramref name="context"/> positions.
    /// </summary>
    public static Models.CausalLanguageModel SmallLlama(string arch, int context, int vocab, int? window = null, string? rope = null, float ropeFactor = 4f) =>
        LmModels.Create(new LmShape(arch, Layers: 4, Heads: 8, Embedding: 256, Block: context, Dropout: 0f, KvHeads: 2, Hidden: 704,
            SlidingWindow: window, RopeScaling: rope, RopeFactor: ropeFactor), vocab, 1337).Model;

    /// <summary>The GPT-2 sizes that give <see cref="SmallLlama"/>'s FLOP count (4 layers, 256 wide, 4,096 tokens).</summary>
    public static Gpt2Config SmallLlamaAsGpt2(int context) => new(VocabSize: 4096, ContextLength: context, Layers: 4, Heads: 8, Embedding: 256);

    public static Gpt2Config Gpt2(string name) => name switch
    {
        "gpt2" or "gpt2-124m" => Gpt2Config.Small,
        "gpt2-medium" => Gpt2Config.Medium,
        "gpt2-large" => Gpt2Config.Large,
        "gpt2-xl" => Gpt2Config.XL,
        "gpt2-tiny" => Gpt2Config.Tiny,
        _ => throw new CliException($"unknown model '{name}' (gpt2, gpt2-medium, gpt2-large, gpt2-xl, gpt2-tiny)."),
    };
}
