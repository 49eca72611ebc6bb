using System.Diagnostics;
using System.Runtime.Intrinsics;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Cli;

/// <summary>
/// <c>sharpt bench gemm --m M --k K --n N [--transpose-b] [--threads T]</c>: C(M×N) = A(M×K) · B, with B stored K×N, or
/// N×K (the Linear weight layout) with <c>--transpose-b</c>. Samples of about 0.1 s each are taken for at least
/// <c>--seconds</c> (default 1); the last line is <c>GFLOP/s: &lt;median&gt;</c>, as in bench/openblas/sgemm_bench.
/// </summary>
internal static class BenchGemmCommand
{
    public static int Run(string[] argv)
    {
        var args = new Args(argv);
        int m = args.Int("m", 256), k = args.Int("k", 768), n = args.Int("n", 768);
        bool transA = args.Flag("transpose-a"), transB = args.Flag("transpose-b");
        int threads = args.Int("threads", 1);
        float seconds = args.Float("seconds", 1f);
        args.RejectUnknown();
        if (m < 1 || k < 1 || n < 1) throw new CliException($"sizes must be >= 1, got M={m} K={k} N={n}.");
        if (threads < 1) throw new CliException($"--threads must be >= 1, got {threads}.");
        if ((long)m * k > Array.MaxLength || (long)k * n > Array.MaxLength || (long)m * n > Array.MaxLength)
            throw new CliException("a matrix is too large for one array.");

        var rng = new Random(42);
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;
        int lda = transA ? m : k, ldb = transB ? k : n;
        void Once() => Sgemm.Multiply(transA, transB, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false, threads);

        // Warm up (JIT tiers, pack buffers, worker threads) and size one sample to about 0.1 s.
        var sw = Stopwatch.StartNew();
        int reps = 0;
        do { Once(); reps++; } while (sw.Elapsed.TotalSeconds < 0.1);
        sw.Restart();
        reps = 0;
        do { Once(); reps++; } while (sw.Elapsed.TotalSeconds < 0.1);

        double flop = 2.0 * m * n * k;
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || samples.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < reps; r++) Once();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            samples.Add(flop * reps / s / 1e9);
        }
        samples.Sort();
        double median = samples[samples.Count / 2];
        string isa = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";
        Console.WriteLine($"sgemm M={m} K={k} N={n} A={(transA ? "KxM" : "MxK")} B={(transB ? "NxK" : "KxN")} threads={threads} kernels={isa}: " +
            $"{samples.Count} samples of {reps} calls, min {samples[0]:F1}, max {samples[^1]:F1} GFLOP/s");
        if (m == 1) Console.WriteLine($"GB/s (B matrix stream): {median / 2.0 * 4.0:F1}");
        Console.WriteLine($"GFLOP/s: {median:F1}");
        return 0;
    }
}
