using System.CommandLine;
using System.Diagnostics;
using System.Runtime.Intrinsics;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Cli.Commands;
using SharpTransformer.Ilgpu;
using SharpTransformer.Tensors;

namespace SharpTransformer.Cli;

/// <summary>
/// <c>sharpt bench gemm --m M --k K --n N [--transpose-a] [--transpose-b] [--threads T] [--backend cpu|ilgpu[:device]]</c>:
/// C(M×N) = A(M×K) · B, with B stored K×N, or N×K (the Linear weight layout) with <c>--transpose-b</c>. Samples of about
/// 0.1 s each are taken for at least <c>--seconds</c> (default 1); the last line is <c>GFLOP/s: &lt;median&gt;</c>, as in
/// bench/openblas/sgemm_bench. On the CPU backend this times the packed Sgemm directly; on a device backend it times
/// <see cref="IBackend.MatMul"/> on device-resident operands, each sample ending with a device synchronisation (kernel
/// launches are asynchronous), and first checks the device's product against the CPU Sgemm (<c>--no-check</c> skips it).
/// </summary>
internal static class BenchGemmCommand
{
    public static Command Create()
    {
        var mOption = CliOptions.Int("--m", "rows of A and C", 256, min: 1);
        var kOption = CliOptions.Int("--k", "inner dimension", 768, min: 1);
        var nOption = CliOptions.Int("--n", "columns of B and C", 768, min: 1);
        var transAOption = CliOptions.Flag("--transpose-a", "A stored K x M");
        var transBOption = CliOptions.Flag("--transpose-b", "B stored N x K (the Linear weight layout)");
        var threadsOption = CliOptions.Threads(1);
        var secondsOption = CliOptions.Float("--seconds", "least time spent sampling", 1f, 0f, minExclusive: true);
        var noCheck = CliOptions.Flag("--no-check", "skip the check of a device's product against the CPU");
        var backendOptions = new BenchBackendOptions();
        var command = new Command("gemm", "Sgemm throughput C = A B; prints GFLOP/s last")
        {
            mOption, kOption, nOption, transAOption, transBOption, threadsOption, secondsOption, noCheck,
        };
        backendOptions.AddTo(command);
        SharptCli.SetAction(command, (r, _) =>
        {
            using var backend = backendOptions.Create(r);
            return Run(r.GetValue(mOption), r.GetValue(kOption), r.GetValue(nOption), r.GetValue(transAOption), r.GetValue(transBOption),
                r.GetValue(threadsOption), r.GetValue(secondsOption), !r.GetValue(noCheck), backend);
        });
        return command;
    }

    private static int Run(int m, int k, int n, bool transA, bool transB, int threads, float seconds, bool check, CliBackend backend)
    {
        if ((long)m * k > Array.MaxLength || (long)k * n > Array.MaxLength || (long)m * n > Array.MaxLength)
            throw new CliException("a matrix is too large for one array.");

        var rng = new Random(42);
        var a = new float[m * k];
        var b = new float[k * n];
        var c = new float[m * n];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;
        int lda = transA ? m : k, ldb = transB ? k : n;
        string shape = $"M={m} K={k} N={n} A={(transA ? "KxM" : "MxK")} B={(transB ? "NxK" : "KxN")}";
        double flop = 2.0 * m * n * k;

        List<double> samples;
        int reps;
        if (backend.IsCpu)
        {
            (samples, reps) = Measure(() => Sgemm.Multiply(transA, transB, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false, threads), () => { }, flop, seconds);
            string isa = Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";
            Console.WriteLine($"sgemm {shape} threads={threads} kernels={isa}: " +
                $"{samples.Count} samples of {reps} calls, min {samples[0]:F1}, max {samples[^1]:F1} GFLOP/s");
        }
        else
        {
            var dev = backend.Backend;
            using var da = dev.Allocate(DType.Float32, a.Length, zero: false);
            using var db = dev.Allocate(DType.Float32, b.Length, zero: false);
            using var dc = dev.Allocate(DType.Float32, c.Length, zero: false);
            dev.Upload(a, 0, da, 0, a.Length);
            dev.Upload(b, 0, db, 0, b.Length);
            // A is M×K viewed from storage that is M×K (lda = K) or K×M (lda = M); likewise B.
            var al = transA ? new Layout([m, k], [1, m]) : Layout.Contiguous(m, k);
            var bl = transB ? new Layout([k, n], [1, k]) : Layout.Contiguous(k, n);
            void Once() => dev.MatMul(da, al, db, bl, dc);
            string kernel = dev is IlgpuBackend g
                ? (g.UseRegisterTiledGemm(m, n, 1)
                    ? $"register-tiled 8x8/thread, split-K {g.GemmSplitK(m, n, k, 1)} ({g.Multiprocessors} multiprocessors, {g.RegisterTiledGroupsPerMultiprocessor} group(s) each)"
                    : "simple 4x4/thread")
                : "backend";
            Console.WriteLine($"device: {backend.Description}; gemm kernel: {kernel}");
            if (check)
            {
                Once();
                var got = new float[c.Length];
                dev.Download(dc, 0, got, 0, got.Length);
                Sgemm.Multiply(transA, transB, m, n, k, a, 0, lda, b, 0, ldb, c, 0, n, false, Environment.ProcessorCount);
                double worst = 0, scale = 0;
                for (int i = 0; i < c.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(got[i] - c[i]));
                    scale = Math.Max(scale, Math.Abs(c[i]));
                }
                double rel = worst / Math.Max(scale, 1e-30);
                bool ok = rel <= 1e-4 && !double.IsNaN(worst);
                Console.WriteLine($"check vs CPU sgemm: max |diff| {worst:E2}, max |c| {scale:F3}, relative {rel:E2}: {(ok ? "PASS" : "FAIL")}");
                if (!ok) return 1;
            }
            (samples, reps) = Measure(Once, backend.Synchronize, flop, seconds);
            Console.WriteLine($"sgemm {shape} backend={dev.Name}: " +
                $"{samples.Count} samples of {reps} calls, min {samples[0]:F1}, max {samples[^1]:F1} GFLOP/s");
        }
        double median = samples[samples.Count / 2];
        if (m == 1) Console.WriteLine($"GB/s (B matrix stream): {median / 2.0 * 4.0:F1}");
        Console.WriteLine($"GFLOP/s: {(median < 1 ? median.ToString("F4", System.Globalization.CultureInfo.InvariantCulture) : median.ToString("F1", System.Globalization.CultureInfo.InvariantCulture))}");
        return 0;
    }

    // Warms up (JIT tiers, kernel compilation, pack buffers, worker threads), sizes one sample to about 0.1 s, then takes
    // samples for at least `seconds` (and at least 5); each sample ends with `sync`, so queued device work is counted.
    private static (List<double> Sorted, int Reps) Measure(Action once, Action sync, double flop, float seconds)
    {
        var sw = Stopwatch.StartNew();
        int reps = 0;
        do { once(); sync(); reps++; } while (sw.Elapsed.TotalSeconds < 0.1);
        sw.Restart();
        reps = 0;
        do { once(); reps++; } while (sw.Elapsed.TotalSeconds < 0.1 && reps < 1_000_000);
        sync();
        double first = sw.Elapsed.TotalSeconds;
        // Launches may have been queued faster than they ran: rescale the count to the time the work really took.
        if (first > 0.2) reps = Math.Max(1, (int)(reps * 0.1 / first));

        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || samples.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < reps; r++) once();
            sync();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            samples.Add(flop * reps / s / 1e9);
        }
        samples.Sort();
        return (samples, reps);
    }
}
