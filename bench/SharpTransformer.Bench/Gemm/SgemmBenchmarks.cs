using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Bench.Gemm;

/// <summary>One GEMM shape: C(M×N) = A(M×K) · B.</summary>
public readonly record struct GemmShape(int M, int K, int N)
{
    /// <inheritdoc/>
    public override string ToString() => $"{M}x{K}x{N}";
}

/// <summary>
/// Sgemm on the GPT-2-small shapes of the performance issue (M = 256 tokens): the attention/MLP projections and the
/// LM head, with B stored K×N or N×K (the Linear weight layout), on 1 and 2 threads; plus the decoding GEMV (M = 1).
/// Compare with OpenBLAS on the same machine through bench/openblas (see its README). Run:
/// <code>dotnet run -c Release --project bench/SharpTransformer.Bench -- --filter '*Sgemm*'</code>
/// Fallback kernels: add <c>--envVars DOTNET_EnableAVX512:0</c> (Vector256) or <c>DOTNET_EnableAVX2:0</c> (Vector128);
/// .NET 10 ignores <c>DOTNET_EnableAVX512F</c>.
/// </summary>
[Config(typeof(GflopsConfig))]
public class SgemmBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>The shapes (M, K, N).</summary>
    public static IEnumerable<GemmShape> Shapes =>
    [
        new(256, 768, 768), new(256, 768, 3072), new(256, 3072, 768), new(256, 768, 50257),
    ];

    /// <summary>Problem shape.</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; }

    /// <summary>B stored N×K (true, the Linear weight layout) or K×N.</summary>
    [Params(false, true)]
    public bool TransposeB { get; set; }

    /// <summary>Worker threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_a, _b, _c) = Operands(Shape);
    }

    /// <summary>C = A · B.</summary>
    [Benchmark]
    public void Sgemm()
    {
        var s = Shape;
        Backends.Cpu.Sgemm.Multiply(false, TransposeB, s.M, s.N, s.K, _a, 0, s.K, _b, 0, TransposeB ? s.K : s.N, _c, 0, s.N, false, Threads);
    }

    internal static (float[] A, float[] B, float[] C) Operands(GemmShape s)
    {
        var rng = new Random(42);
        var a = new float[s.M * s.K];
        var b = new float[s.K * s.N];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rng.NextDouble() - 0.5f;
        for (int i = 0; i < b.Length; i++) b[i] = (float)rng.NextDouble() - 0.5f;
        return (a, b, new float[s.M * s.N]);
    }
}

/// <summary>Decoding: one token through the LM head (M = 1, K = 768, N = 50257), a memory-bandwidth-bound GEMV.</summary>
[Config(typeof(GflopsConfig))]
public class SgemvBenchmarks
{
    private float[] _a = [], _b = [], _c = [];

    /// <summary>B stored N×K (true, the Linear weight layout) or K×N.</summary>
    [Params(false, true)]
    public bool TransposeB { get; set; }

    /// <summary>Worker threads.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>The shape, for the GFLOP/s and GB/s columns.</summary>
    public GemmShape Shape { get; } = new(1, 768, 50257);

    /// <summary>Allocates and fills the operands.</summary>
    [GlobalSetup]
    public void Setup() => (_a, _b, _c) = SgemmBenchmarks.Operands(Shape);

    /// <summary>c = a · B.</summary>
    [Benchmark]
    public void Gemv()
    {
        var s = Shape;
        Sgemm.Multiply(false, TransposeB, 1, s.N, s.K, _a, 0, s.K, _b, 0, TransposeB ? s.K : s.N, _c, 0, s.N, false, Threads);
    }
}

/// <summary>Adds GFLOP/s (2·M·N·K per call) and, for the GEMV, the GB/s of streaming B.</summary>
public sealed class GflopsConfig : ManualConfig
{
    /// <summary>Registers the columns.</summary>
    public GflopsConfig()
    {
        AddColumn(new RateColumn(bytes: false));
        AddColumn(new RateColumn(bytes: true));
    }

    private sealed class RateColumn(bool bytes) : IColumn
    {
        public string Id => bytes ? "SgemmGBps" : "SgemmGflops";
        public string ColumnName => bytes ? "B GB/s" : "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => bytes ? 1 : 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => bytes ? "Bytes of B streamed per second (1e9 B/s)" : "2·M·N·K / mean time (1e9 flop/s)";
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } stats) return "-";
            var shape = benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Shape")?.Value as GemmShape?
                ?? (benchmarkCase.Descriptor.Type == typeof(SgemvBenchmarks) ? new GemmShape(1, 768, 50257) : null);
            if (shape is not { } s || (bytes && s.M != 1)) return "-";
            double seconds = stats.Mean * 1e-9;
            return bytes
                ? (4.0 * s.K * s.N / seconds / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture)
                : (2.0 * s.M * s.N * s.K / seconds / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
