using System.Diagnostics;
using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Models;
using SharpTransformer.Models.DeepSeek;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// <c>sharpt bench generate --versus llama</c>: single-stream cached greedy decoding of two models alternated round by round
/// (A, B, A, B ...), so that both see the same machine load; prints each model's parameters, cache bytes per token (measured
/// from what the caches store) and median ms/token, and the speed ratio of the first to the second last (<c>decoding speed ratio: x</c>).
/// </summary>
internal static class BenchDecodeComparison
{
    public static int Run(CausalLanguageModel a, string labelA, CausalLanguageModel b, string labelB, int rounds, int tokens, int prompt, int threads,
        CliBackend backend)
    {
        if (threads > 0) CpuBackend.Default.Threads = threads;
        foreach (var (m, label) in new[] { (a, labelA), (b, labelB) })
        {
            m.To(backend.Backend);
            m.Eval();
            Console.WriteLine($"{label}: {m.ParameterCount():N0} parameters; {Describe(m)}");
        }
        Console.WriteLine($"{backend.Description}, {prompt} prompt + {tokens} tokens, {rounds} alternated rounds");
        var ma = new List<double>();
        var mb = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            var (ta, ba) = Decode(a, tokens, prompt, backend);
            var (tb, bb) = Decode(b, tokens, prompt, backend);
            ma.Add(ta); mb.Add(tb);
            Console.WriteLine($"round {r + 1}: {labelA} {ta * 1000:F3} ms/token, {ba} cache bytes/token; {labelB} {tb * 1000:F3} ms/token, {bb} cache bytes/token");
        }
        double medA = BenchTrainStepCommand.Median(ma), medB = BenchTrainStepCommand.Median(mb);
        Console.WriteLine($"median {labelA} {medA * 1000:F3} ms/token, {labelB} {medB * 1000:F3} ms/token");
        Console.WriteLine($"decoding speed ratio ({labelA} tokens/s over {labelB} tokens/s, from the medians):");
        Console.WriteLine($"decoding speed ratio: {medB / medA:F3}");
        return 0;
    }

    /// <summary>The expected cache size of a latent-attention model, else nothing.</summary>
    private static string Describe(CausalLanguageModel m) => m is DeepSeekV2 ds
        ? $"latent cache (kv_lora_rank {ds.Config.KvLoraRank} + qk_rope_head_dim {ds.Config.QkRopeHeadDim}) × {ds.Config.Layers} layers × 4 = {ds.Config.CacheBytesPerToken} bytes/token"
        : "per-head key/value cache";

    // One decoding run: median seconds per token and the cache bytes per token measured at the end.
    private static (double Median, long BytesPerToken) Decode(CausalLanguageModel net, int tokens, int prompt, CliBackend backend)
    {
        using var _ = GradMode.NoGrad();
        var caches = net.CreateCaches();
        int next;
        using (TensorScope.Begin())
            next = net.Forward(Tensor.FromArray(Enumerable.Range(1, prompt).ToArray(), 1, prompt).To(backend.Backend), caches).Narrow(1, prompt - 1, 1).ArgMax(-1).ToIntArray()[0];
        var times = new List<double>(tokens);
        for (int i = 0; i < tokens; i++)
        {
            var sw = Stopwatch.StartNew();
            using (TensorScope.Begin())
                next = net.Forward(Tensor.FromArray([next], 1, 1).To(backend.Backend), caches).ArgMax(-1).ToIntArray()[0];   // (1, 1, V) → id
            times.Add(sw.Elapsed.TotalSeconds);
        }
        return (BenchTrainStepCommand.Median(times), CacheBytesPerToken(caches));
    }

    /// <summary>
    /// Bytes per token of every layer's cache together, measured from what they store: Σ 4·(keys + values elements) / (positions ×
    /// batch rows). For DeepSeek's latent cache that is (kv_lora_rank + qk_rope_head_dim) × layers × 4.
    /// </summary>
    public static long CacheBytesPerToken(IKvCache[] caches)
    {
        long bytes = 0;
        foreach (var c in caches)
        {
            if (c.Length == 0) continue;
            var (k, v) = c.Stored();
            bytes += 4L * (k.Count + v.Count) / ((long)c.Length * k.Size(0));
        }
        return bytes;
    }
}
