using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models;
using SharpTransformer.Models.Gpt2;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt bench generate: single-stream KV-cached greedy decoding with random GPT-2 weights on <c>--backend</c> (default
/// cpu); prints tokens/s. Each token ends with a host read of its id, so device timings include the kernels.
/// <c>--arch llama|qwen2|mistral</c> decodes a small Llama-style model (256 wide, 4 layers, 8 heads, 2 key/value heads) whose
/// context is the prompt plus <c>--tokens</c>, with <c>--rope-scaling</c>/<c>--rope-factor</c> and <c>--sliding-window</c>;
/// every <c>--memory-every</c> tokens it prints the cache bytes held and used and the process's working set and GC heap.
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
        var archOption = CliOptions.Choice("--arch", "gpt2 (sized by --model) or a small Llama-style model", "gpt2", "gpt2", "llama", "qwen2", "mistral");
        var ropeOption = CliOptions.Choice("--rope-scaling", "RoPE scaling of the Llama-style model (trained context = context / --rope-factor)", "none", RopeScalingChoice.Names);
        var ropeFactorOption = CliOptions.Float("--rope-factor", "factor of --rope-scaling", 4f, 1f, 1e6f);
        var windowOption = CliOptions.OptionalInt("--sliding-window", "sliding-window attention (mistral, qwen2)", min: 1);
        var memoryOption = CliOptions.Int("--memory-every", "print memory every this many tokens (0 = --tokens / 8)", 0, min: 0);
        var versusOption = CliOptions.Choice("--versus", "decode alternately against a Llama (GQA) of the same parameter count; prints both medians and the ratio", null, "llama");
        var roundsOption = CliOptions.Int("--rounds", "alternated rounds with --versus or --beams", 5, min: 1);
        var backendOptions = new BenchBackendOptions();
        var shapeOptions = new BenchShapeOptions();
        var command = new Command("generate", "KV-cached greedy decoding with random GPT-2 weights; prints tokens/s last")
        {
            modelOption, tokensOption, threadsOption, promptOption, archOption, ropeOption, ropeFactorOption, windowOption, memoryOption,
            versusOption, roundsOption, beamsOption,
        };
        backendOptions.AddTo(command);
        shapeOptions.AddTo(command);
        SharptCli.SetAction(command, (r, _) =>
        {
            if (r.GetValue(beamsOption) is > 0 and var beams)
                return BenchGenerateBeams.Run(r.GetValue(modelOption)!, r.GetValue(tokensOption), r.GetValue(threadsOption), r.GetValue(promptOption), beams, r.GetValue(roundsOption));
            using var backend = backendOptions.Create(r);
            int tokens = r.GetValue(tokensOption), prompt = r.GetValue(promptOption);
            string arch = r.GetValue(archOption)!, model = r.GetValue(modelOption)!;
            CausalLanguageModel net;
            string label = model;
            (LmShape Shape, int Vocab)? benchShape = null;
            if (arch != "gpt2")
            {
                var shape = new LmShape(arch, Layers: 4, Heads: 8, Embedding: 256, Block: prompt + tokens, Dropout: 0f, KvHeads: 2, Hidden: 704,
                    SlidingWindow: r.GetValue(windowOption), RopeScaling: r.GetValue(ropeOption), RopeFactor: r.GetValue(ropeFactorOption));
                net = LmModels.Create(shape, 4096, 1337).Model;
                label = $"{arch} (rope-scaling {r.GetValue(ropeOption)})";
            }
            else if (BenchModels.Handles(model))
            {
                benchShape = shapeOptions.Read(r, model, prompt + tokens);                 // llama / mixtral / deepseek: context = prompt + tokens
                net = BenchModels.Create(model, benchShape.Value.Shape, benchShape.Value.Vocab).Model;
            }
            else
            {
                var config = ModelConfigs.Gpt2(model);
                if (prompt + tokens > config.ContextLength) throw new CliException($"--prompt + --tokens exceeds the context length {config.ContextLength}.");
                net = new Gpt2(config);
            }
            if (r.GetValue(versusOption) is { } versus)
            {
                if (benchShape is not { } bs) throw new CliException("--versus needs --model llama, mixtral or deepseek (shaped by --layers, --embd ...).");
                return BenchDecodeComparison.Run(net, label, BenchModels.MatchedLlama(net, bs.Shape, bs.Vocab), "llama (GQA, same parameters)",
                    r.GetValue(roundsOption), tokens, prompt, r.GetValue(threadsOption), backend);
            }
            int every = r.GetValue(memoryOption);
            return Run(net, label, tokens, r.GetValue(threadsOption), prompt,
                arch == "gpt2" && every == 0 ? int.MaxValue : every == 0 ? Math.Max(1, tokens / 8) : every, backend);
        });
        return command;
    }

    private static int Run(CausalLanguageModel net, string model, int tokens, int threads, int prompt, int memoryEvery, CliBackend backend)
    {
        if (threads > 0) CpuBackend.Default.Threads = threads;
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
            if ((i + 1) % memoryEvery == 0 || (memoryEvery != int.MaxValue && i + 1 == tokens)) PrintMemory(caches, times);
        }
        double median = BenchTrainStepCommand.Median(times);
        double total = times.Sum();
        Console.WriteLine($"cache bytes per token (all layers, measured): {BenchDecodeComparison.CacheBytesPerToken(caches)}" +
            (net is Models.DeepSeek.DeepSeekV2 ds ? $"; (kv_lora_rank + qk_rope_head_dim) × layers × 4 = {ds.Config.CacheBytesPerToken}" : ""));
        Console.WriteLine($"median {median * 1000:F2} ms/token; mean {total / tokens * 1000:F2} ms/token; weight traffic {weightBytes / median / 1e9:F1} GB/s");
        Console.WriteLine($"tokens/s: {tokens / total:F2}");
        return 0;
    }

    // Cache bytes used (the positions stored) and held (the buffers), the working set and the GC heap, and the recent ms/token.
    private static void PrintMemory(IKvCache[] caches, List<double> times)
    {
        long used = 0, held = 0;
        foreach (var c in caches)
        {
            if (c.Length > 0 && (c is not SlidingWindowKvCache w || w.Retained > 0))
            {
                var (k, v) = c.Stored();
                used += 4L * (k.Count + v.Count);
            }
            held += c switch { KvCache kv => kv.Bytes, SlidingWindowKvCache sw => sw.Bytes, LatentKvCache lc => lc.Bytes, _ => 0 };
        }
        var recent = times.Skip(Math.Max(0, times.Count - 64)).ToList();
        using var p = Process.GetCurrentProcess();
        Console.WriteLine($"position {caches[0].Length}: cache used {used / 1e6:F2} MB, held {held / 1e6:F2} MB; working set {p.WorkingSet64 / 1e6:F0} MB; " +
            $"GC heap {GC.GetTotalMemory(false) / 1e6:F0} MB; recent median {BenchTrainStepCommand.Median(recent) * 1000:F2} ms/token");
    }
}
