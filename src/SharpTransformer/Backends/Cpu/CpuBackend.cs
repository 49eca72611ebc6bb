using System.Runtime.CompilerServices;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// The CPU backend: TensorPrimitives and Vector512/Vector256 kernels over pooled host arrays, multithreaded.
/// </summary>
public sealed partial class CpuBackend : IBackend
{
    private readonly BufferPool _pool = new();
    private static CpuBackend? _default;

    /// <summary>Creates a backend that uses up to <paramref name="threads"/> cores (default: all).</summary>
    public CpuBackend(int threads = 0)
    {
        if (threads < 0) throw new ArgumentOutOfRangeException(nameof(threads), threads, "CpuBackend: thread count must be >= 0 (0 = all cores).");
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
    }

    /// <summary>The process-wide default CPU backend (all cores).</summary>
    public static CpuBackend Default => _default ??= new CpuBackend();

    /// <summary>Number of worker threads kernels may use.</summary>
    public int Threads { get; set; }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <inheritdoc/>
    public IStorage Allocate(DType type, int length, bool zero = true)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, "CpuBackend.Allocate: length must be >= 0.");
        return new CpuStorage(this, _pool, type, length, zero);
    }

    /// <summary>Drops the arrays kept for reuse.</summary>
    public void TrimPool() => _pool.Clear();

    internal CpuStorage Cast(IStorage s, string op)
    {
        if (s is CpuStorage c && ReferenceEquals(c.Backend, this)) return c;
        if (s is CpuStorage) return (CpuStorage)s; // another CpuBackend instance: same memory space
        throw new InvalidOperationException($"{op}: storage belongs to backend '{s.Backend.Name}', not 'cpu'. Move the tensor with To(backend) first.");
    }

    internal float[] F(IStorage s, [CallerArgumentExpression(nameof(s))] string? name = null) => Cast(s, name ?? "cpu").Floats;
    internal int[] I(IStorage s, [CallerArgumentExpression(nameof(s))] string? name = null) => Cast(s, name ?? "cpu").Ints;

    /// <inheritdoc/>
    public void Upload(float[] src, int srcOffset, IStorage dst, int dstOffset, int count)
    {
        var d = Cast(dst, "Upload");
        if (d.DType == DType.Float32) Array.Copy(src, srcOffset, d.Floats, dstOffset, count);
        else for (int i = 0; i < count; i++) d.Ints[dstOffset + i] = (int)src[srcOffset + i];
    }

    /// <inheritdoc/>
    public void Upload(int[] src, int srcOffset, IStorage dst, int dstOffset, int count)
    {
        var d = Cast(dst, "Upload");
        if (d.DType == DType.Int32) Array.Copy(src, srcOffset, d.Ints, dstOffset, count);
        else for (int i = 0; i < count; i++) d.Floats[dstOffset + i] = src[srcOffset + i];
    }

    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, float[] dst, int dstOffset, int count)
    {
        var s = Cast(src, "Download");
        if (s.DType == DType.Float32) Array.Copy(s.Floats, srcOffset, dst, dstOffset, count);
        else for (int i = 0; i < count; i++) dst[dstOffset + i] = s.Ints[srcOffset + i];
    }

    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, int[] dst, int dstOffset, int count)
    {
        var s = Cast(src, "Download");
        if (s.DType == DType.Int32) Array.Copy(s.Ints, srcOffset, dst, dstOffset, count);
        else for (int i = 0; i < count; i++) dst[dstOffset + i] = (int)s.Floats[srcOffset + i];
    }

    /// <summary>Runs body(start, end) over [0, n) in chunks across the worker threads when the work is large enough.</summary>
    internal void ParallelFor(int n, long workPerItem, Action<int, int> body)
    {
        const long minWorkPerChunk = 32_768;
        int threads = Threads;
        long total = n * Math.Max(1, workPerItem);
        if (threads <= 1 || n <= 1 || total < 2 * minWorkPerChunk)
        {
            body(0, n);
            return;
        }
        int chunks = (int)Math.Min(Math.Min(n, threads * 4L), Math.Max(1, total / minWorkPerChunk));
        if (chunks <= 1) { body(0, n); return; }
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = (int)((long)n * c / chunks);
            int end = (int)((long)n * (c + 1) / chunks);
            if (end > start) body(start, end);
        });
    }
}
