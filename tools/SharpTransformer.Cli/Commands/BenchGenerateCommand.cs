using System.CommandLine;
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
    public static Command Create()
    {
        var modelOption = ModelConfigs.Option();
        var tokensOption = CliOptions.Int("--tokens", "tokens to generate", 128, min: 1);
        var threadsOption = CliOptions.Threads();
        var promptOption = CliOptions.Int("--prompt", "prompt tokens", 8, min: 1);
        var beamsOption = CliOptions.Int("--beams", "also run beam search of this width alternated with greedy; print cost per token per beam (0 = off, cpu)", 0, min: 0);
        var roundsOption = CliOptions.Int("--rounds", "alternated greedy/beam rounds with --beams", 5, min: 1);
        var backendOptions = new BenchBackendOptions();
        var command = new Command("generate", "KV-cached greedy decoding with random GPT-2 weights; prints tokens/s last")
        {
            modelOption, tokensOption, threadsOption, promptOption, beamsOption, roundsOption,
        };
        backendOptions.AddTo(command);
        SharptCli.SetAction(command, (r, _) =>
        {
            if (r.GetValue(beamsOption) is > 0 and var beams)
                return BenchGenerateBeams.Run(r.GetValue(modelOption)!, r.GetValue(tokensOption), r.GetValue(threadsOption), r.GetValue(promptOption), beams, r.GetValue(roundsOption));
            using var backend = backendOptions.Create(r);
            return Run(r.GetValue(modelOption)!, r.GetValue(tokensOption), r.GetValue(threadsOption), r.GetValue(promptOption), backend);
        });
        return command;
    }

    private static int Run(string model, int tokens, int threads, int prompt, CliBackend backend)
    {
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
