using System.CommandLine;
using System.Diagnostics;
using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// sharpt bench attention: the fused scaled-dot-product attention kernels, forward and backward, on <c>--backend</c>
/// (default cpu) at <c>--batch 4 --heads 12 --seq 1024 --head-dim 64</c>, causal unless <c>--no-causal</c>. Prints the
/// median milliseconds of each and, last, <c>GFLOP/s: &lt;median forward&gt;</c> (4·B·H·T²·D, halved when causal).
/// </summary>
internal static class BenchAttentionCommand
{
    public static Command Create()
    {
        var batchOption = CliOptions.Int("--batch", "batch size", 4, min: 1);
        var headsOption = CliOptions.Int("--heads", "attention heads", 12, min: 1);
        var seqOption = CliOptions.Int("--seq", "sequence length", 1024, min: 1);
        var dimOption = CliOptions.Int("--head-dim", "head dimension", 64, min: 1);
        var stepsOption = CliOptions.Int("--steps", "timed calls of each kernel", 10, min: 1);
        var threadsOption = CliOptions.Threads();
        var noCausal = CliOptions.Flag("--no-causal", "attend to every position (default: causal)");
        var backendOptions = new BenchBackendOptions();
        var command = new Command("attention", "fused attention forward and backward; prints GFLOP/s (forward) last")
        {
            batchOption, headsOption, seqOption, dimOption, stepsOption, threadsOption, noCausal,
        };
        backendOptions.AddTo(command);
        SharptCli.SetAction(command, (r, _) =>
        {
            using var backend = backendOptions.Create(r);
            return Run(r.GetValue(batchOption), r.GetValue(headsOption), r.GetValue(seqOption), r.GetValue(dimOption), r.GetValue(stepsOption),
                r.GetValue(threadsOption), !r.GetValue(noCausal), backend);
        });
        return command;
    }

    private static int Run(int batch, int heads, int seq, int dim, int steps, int threads, bool causal, CliBackend backend)
    {
        if (threads > 0) Backends.Cpu.CpuBackend.Default.Threads = threads;
        var dev = backend.Backend;
        var s = new AttentionShape(batch, heads, heads, seq, seq, dim, causal, 1f / MathF.Sqrt(dim));
        int n = batch * heads * seq * dim;
        var g = new Generator(7);
        IStorage Random()
        {
            var x = dev.Allocate(DType.Float32, n, zero: false);
            dev.RandomFill(x, n, RandomKind.Normal, 0f, 1f, g.Seed, g.Advance(n));
            return x;
        }
        using var q = Random();
        using var k = Random();
        using var v = Random();
        using var dOut = Random();
        using var o = dev.Allocate(DType.Float32, n);
        using var dq = dev.Allocate(DType.Float32, n);
        using var dk = dev.Allocate(DType.Float32, n);
        using var dv = dev.Allocate(DType.Float32, n);
        using var lse = dev.Allocate(DType.Float32, batch * heads * seq);
        double flop = 4.0 * batch * heads * (double)seq * seq * dim * (causal ? 0.5 : 1.0);
        Console.WriteLine($"attention B={batch} H={heads} T={seq} D={dim} causal={causal}, {backend.Description}, {flop / 1e9:F1} GFLOP forward");

        double Time(Action run)
        {
            // Warm-up: kernel compilation, and on the CPU .NET's tiered JIT, which optimises a method after about 30 calls
            // (fewer calls time tier-0 code: the 1,024-token forward measured 4x slower after a single warm-up call).
            long w0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < 40 && (i < 2 || Stopwatch.GetElapsedTime(w0).TotalSeconds < 3); i++)
            {
                run();
                backend.Synchronize();
            }
            var times = new List<double>();
            for (int i = 0; i < steps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                run();
                backend.Synchronize();
                times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            }
            return BenchTrainStepCommand.Median(times);
        }
        double fwd = Time(() => dev.Attention(s, q, k, v, null, null, default, o, lse));
        double bwd = Time(() => dev.AttentionBackward(s, q, k, v, null, null, default, o, lse, dOut, dq, dk, dv, null));
        Console.WriteLine($"forward {fwd:F3} ms ({flop / (fwd / 1000) / 1e9:F1} GFLOP/s); backward {bwd:F3} ms ({2.5 * flop / (bwd / 1000) / 1e9:F1} GFLOP/s at 2.5x the forward work)");
        Console.WriteLine($"GFLOP/s: {flop / (fwd / 1000) / 1e9:F1}");
        return 0;
    }
}
