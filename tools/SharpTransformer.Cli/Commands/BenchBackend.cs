using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Ilgpu;

namespace SharpTransformer.Cli.Commands;

/// <summary>
/// The backend a benchmark runs on, from <c>--backend cpu|ilgpu|ilgpu:&lt;device&gt;</c> (default cpu). GPU work is queued
/// asynchronously, so every timing ends with <see cref="Synchronize"/>; the owner disposes the device.
/// </summary>
internal sealed class BenchBackend : IDisposable
{
    private BenchBackend(IBackend backend) => Backend = backend;

    /// <summary>The backend under test.</summary>
    public IBackend Backend { get; }

    /// <summary>True for <see cref="CpuBackend"/>.</summary>
    public bool IsCpu => Backend is CpuBackend;

    /// <summary>Name and device, e.g. <c>ilgpu:cuda:0 (NVIDIA H200)</c>.</summary>
    public string Description => Backend is IlgpuBackend g ? g.ToString() : $"{Backend.Name} ({CpuBackend.Default.Threads} thread(s))";

    /// <summary>
    /// Reads <c>--backend</c> and, for ILGPU, <c>--gemm-kernel auto|simple|tiled</c> (by hand: the 64 × 64 or the 128 × 128 kernel)
    /// and <c>--gemm-split-k N</c> (K slices of register-tiled products: 0 = by size, the default; 1 = never).
    /// Unknown names and missing devices become <see cref="CliException"/>s that list what is available.
    /// </summary>
    public static BenchBackend FromArgs(Args args)
    {
        string name = args.String("backend") ?? "cpu";
        string kernel = args.String("gemm-kernel") ?? "auto";
        var choice = kernel switch
        {
            "auto" => IlgpuGemmKernel.Auto,
            "simple" => IlgpuGemmKernel.Simple,
            "tiled" => IlgpuGemmKernel.RegisterTiled,
            _ => throw new CliException($"--gemm-kernel expects auto, simple or tiled, got '{kernel}'."),
        };
        int splitK = args.Int("gemm-split-k", 0);
        if (splitK < 0) throw new CliException($"--gemm-split-k expects 0 (by size), 1 (never) or a slice count, got {splitK}.");
        try
        {
            var options = new IlgpuBackendOptions { GemmKernel = choice, GemmSplitK = splitK };
            return new BenchBackend(BackendSelector.Create(name, options));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new CliException($"--backend {name}: {e.Message}");
        }
    }

    /// <summary>Waits until every queued kernel has finished (a no-op on the CPU backend, which runs synchronously).</summary>
    public void Synchronize()
    {
        if (Backend is IlgpuBackend g) g.Synchronize();
    }

    /// <summary>Frees the device (the CPU backend is shared and stays).</summary>
    public void Dispose()
    {
        if (Backend is IlgpuBackend g) g.Dispose();
    }
}
