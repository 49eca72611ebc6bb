using SharpTransformer.Backends;
using SharpTransformer.Conformance;
using Xunit.Abstractions;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace SharpTransformer.Ilgpu.Tests;

/// <summary>One ILGPU CPU-accelerator backend for the whole test run: 4 threads per group, so group-wide reductions,
/// multi-block attention and multi-tile GEMM paths all run, while each kernel launch stays cheap on a small machine.</summary>
public static class TestBackend
{
    private static readonly Lazy<IlgpuBackend> Instance = new(() => IlgpuBackend.Create(IlgpuDeviceKind.Cpu, Options));

    /// <summary>CPU accelerator: warps of 2 threads, 2 warps per group, 1 multiprocessor.</summary>
    public static IlgpuBackendOptions Options => new() { CpuThreadsPerWarp = 2, CpuWarpsPerGroup = 2, CpuMultiprocessors = 1 };

    /// <summary>The shared backend.</summary>
    public static IlgpuBackend Shared => Instance.Value;
}

/// <summary>The shared backend conformance suite (tests/Conformance) against ILGPU's CPU accelerator.</summary>
public sealed class IlgpuConformanceTests(ITestOutputHelper output) : BackendConformance
{
    protected override IBackend CreateBackend() => TestBackend.Shared;

    protected override void Log(string line) => output.WriteLine(line);
}
