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
    public static int Run(Args args)
    {
        int batch = args.Int("batch", 4), heads = args.Int("heads", 12), seq = args.Int("seq", 1024), dim = args.Int("head-dim", 64);
        int steps = args.Int("steps", 10), threads = args.Int("threads", 0);
        bool causal = !args.Flag("no-causal");
        using var backend = BenchBackend.FromArgs(args);
        args.RejectUnknown();
        if (batch < 1 || heads < 1 || seq < 1 || dim < 1 || steps < 1) throw new CliException("sizes and --steps must be >= 1.");
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
            run();
            backend.Synchronize();                     // warm-up: kernel compilation
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
