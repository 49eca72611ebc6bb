using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt bench generate: single-stream KV-cached greedy decoding with random GPT-2 weights on <c>--backend</c> (default
/// cpu); prints tokens/s. Each token ends with a host read of its id, so device timings include the kernels.
/// </summary>
internal static class BenchGenerateCommand
{
    public static int Run(Args args)
    {
        string model = args.String("model") ?? "gpt2";
        int tokens = args.Int("tokens", 128), threads = args.Int("threads", 0), prompt = args.Int("prompt", 8);
        using var backend = BenchBackend.FromArgs(args);
        args.RejectUnknown();
        var config = ModelConfigs.Gpt2(model);
        if (threads > 0) CpuBackend.Default.Threads = threads;
        if (prompt + tokens > config.ContextLength) throw new CliException($"--prompt + --tokens exceeds the context length {config.ContextLength}.");
        var net = new Gpt2(config);
        net.To(backend.Backend);
        net.Eval();
        long weightBytes = net.ParameterCount() * 4;
        Console.WriteLine($"{model}: {net.ParameterCount():N0} parameters ({weightBytes / 1e6:F0} MB fp32), {backend.Description}, {tokens} tokens");
        using var _ = GradMode.NoGrad();
        var caches = net.CreateCaches();
        int next;
        using (TensorScope.Begin())
            next = net.Forward(Tensor.FromArray(Enumerable.Range(1, prompt).ToArray(), 1, prompt).To(backend.Backend), caches).Narrow(1, prompt - 1, 1).ArgMax(-1).ToIntArray()[0];
        var times = new List<double>();
        for (int i = 0; i < tokens; i++)
        {
            var sw = Stopwatch.StartNew();
            using (TensorScope.Begin())
            {
                var logits = net.Forward(Tensor.FromArray([next], 1, 1).To(backend.Backend), caches);     // (1, 1, V)
                next = logits.ArgMax(-1).ToIntArray()[0];
            }
            times.Add(sw.Elapsed.TotalSeconds);
        }
        double median = BenchTrainStepCommand.Median(times);
        double total = times.Sum();
        Console.WriteLine($"median {median * 1000:F2} ms/token; mean {total / tokens * 1000:F2} ms/token; weight traffic {weightBytes / median / 1e9:F1} GB/s");
        Console.WriteLine($"tokens/s: {tokens / total:F2}");
        return 0;
    }
}
