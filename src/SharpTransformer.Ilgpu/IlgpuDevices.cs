namespace SharpTransformer.Ilgpu;

/// <summary>Which kind of ILGPU accelerator to use.</summary>
public enum IlgpuDeviceKind
{
    /// <summary>The best one present: CUDA, else an OpenCL GPU, else any OpenCL device, else ILGPU's CPU accelerator.</summary>
    Auto,
    /// <summary>An NVIDIA GPU through CUDA (only the driver is needed, not the toolkit).</summary>
    Cuda,
    /// <summary>An OpenCL 2.0+ device (AMD, Intel or NVIDIA GPUs).</summary>
    OpenCL,
    /// <summary>ILGPU's CPU accelerator: the same kernels run on CPU threads. Slow; meant for tests and machines without a GPU.</summary>
    Cpu,
}

/// <summary>An accelerator ILGPU can see.</summary>
/// <param name="Kind">CUDA, OpenCL or CPU.</param>
/// <param name="Index">Position among the devices of that kind (the <c>1</c> of <c>cuda:1</c>).</param>
/// <param name="Name">The device's name as the driver reports it.</param>
/// <param name="MemoryBytes">Device memory in bytes.</param>
/// <param name="MaxThreadsPerGroup">Largest thread group (block) the device runs.</param>
/// <param name="WarpSize">Threads per warp (SIMD width).</param>
public sealed record IlgpuDeviceInfo(IlgpuDeviceKind Kind, int Index, string Name, long MemoryBytes, int MaxThreadsPerGroup, int WarpSize)
{
    /// <summary>The device id accepted by <see cref="IlgpuBackend.Create(string, IlgpuBackendOptions?)"/>, e.g. <c>cuda:0</c>.</summary>
    public string Id => $"{KindName(Kind)}:{Index}";

    internal static string KindName(IlgpuDeviceKind kind) => kind switch
    {
        IlgpuDeviceKind.Cuda => "cuda",
        IlgpuDeviceKind.OpenCL => "opencl",
        IlgpuDeviceKind.Cpu => "cpu",
        _ => "auto",
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {Name} ({MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, {MaxThreadsPerGroup} threads/group)";
}

/// <summary>The GEMM kernels of an <see cref="IlgpuBackend"/>; choosing one by hand is for comparisons and tuning.</summary>
public enum IlgpuGemmKernel
{
    /// <summary>The register-tiled kernel when both sides of the product fill at least half an 8T × 8T tile, else the simple one.</summary>
    Auto,
    /// <summary>Always the simple kernel: 4T × 4T tiles, a 4 × 4 block per thread (64 × 64 tiles on GPUs).</summary>
    Simple,
    /// <summary>Always the register-tiled kernel: 8T × 8T tiles, an 8 × 8 block per thread (128 × 128 tiles on GPUs).</summary>
    RegisterTiled,
}

/// <summary>Options of an <see cref="IlgpuBackend"/>.</summary>
public sealed record IlgpuBackendOptions
{
    /// <summary>
    /// Cap on device memory this backend holds (in use plus pooled), in bytes; 0 = the device's memory. Past it an allocation
    /// first releases pooled buffers and collects unreachable tensors, then throws <see cref="DeviceOutOfMemoryException"/>.
    /// </summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>Most bytes kept in the pool for reuse; buffers returned beyond it are freed. Default: no cap (a caching allocator).</summary>
    public long MaxPooledBytes { get; init; } = long.MaxValue;

    /// <summary>Which GEMM kernel matrix products use; <see cref="IlgpuGemmKernel.Auto"/> (the default) picks by size.</summary>
    public IlgpuGemmKernel GemmKernel { get; init; } = IlgpuGemmKernel.Auto;

    /// <summary>
    /// K slices of register-tiled products (split-K): 0 (the default) picks by size, only for products with fewer tiles
    /// than 1.5 × the device's multiprocessors; 1 never splits; n ≥ 2 splits every register-tiled product into n slices
    /// (fewer when K has fewer steps). The slices' partial products are summed in a second, deterministic pass.
    /// </summary>
    public int GemmSplitK { get; init; }

    /// <summary>Threads per warp of the CPU accelerator (ILGPU requires a power of two, at least 2).</summary>
    public int CpuThreadsPerWarp { get; init; } = 4;

    /// <summary>Warps per thread group of the CPU accelerator.</summary>
    public int CpuWarpsPerGroup { get; init; } = 4;

    /// <summary>Simulated multiprocessors of the CPU accelerator (each runs one group at a time on its own threads).</summary>
    public int CpuMultiprocessors { get; init; } = 1;
}

/// <summary>A device allocation did not fit. The message names the backend, the device and the sizes involved.</summary>
public sealed class DeviceOutOfMemoryException : OutOfMemoryException
{
    /// <summary>Creates the exception.</summary>
    public DeviceOutOfMemoryException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>Bytes that were requested.</summary>
    public long RequestedBytes { get; init; }

    /// <summary>Bytes held by tensors of the backend when the allocation failed.</summary>
    public long BytesInUse { get; init; }
}
