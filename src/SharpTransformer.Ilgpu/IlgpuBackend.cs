using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SharpTransformer.Backends;
using SharpTransformer.Ilgpu.Kernels;
using SharpTransformer.Tensors;

namespace SharpTransformer.Ilgpu;

/// <summary>
/// <see cref="IBackend"/> on an ILGPU accelerator: CUDA, OpenCL, or ILGPU's CPU accelerator. Tensors live in device memory
/// and every primitive and fused kernel runs on the device, in order on one stream, so a training step makes no host round
/// trip; values cross to the host only through <see cref="Download(IStorage,int,float[],int,int)"/> (ToArray, Item).
/// Device memory is pooled by exact size, returned when a storage is disposed (the end of a <see cref="TensorScope"/>),
/// so a training step allocates no device memory after warm-up. Dispose the backend to free the device.
/// <code>
/// using var gpu = IlgpuBackend.Create();          // CUDA, else OpenCL, else the CPU accelerator
/// model.To(gpu);                                  // parameters move in place; AdamW state follows on its next step
/// var loss = Functional.CrossEntropy(model.Forward(ids.To(gpu)), targets.To(gpu));
/// </code>
/// Index errors inside kernels (Gather, ScatterAdd, cross-entropy targets) are recorded on the device and thrown at the
/// next host read or <see cref="Synchronize"/>, as CUDA reports device-side asserts.
/// </summary>
public sealed partial class IlgpuBackend : IBackend, IDisposable
{
    private readonly object _sync = new();
    private readonly Context _context;
    private readonly Accelerator _acc;
    private readonly AcceleratorStream _stream;
    private readonly IlgpuBackendOptions _options;
    private readonly Dictionary<int, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> _free = new();
    private readonly ConcurrentQueue<MemoryBuffer1D<float, Stride1D.Dense>> _orphans = new();
    // Every buffer handed to a storage stays reachable from here until it is back in the pool: ILGPU buffers have their own
    // finalizers, so a buffer reachable only from a dropped storage could be freed before the storage's finalizer returns it.
    private readonly HashSet<MemoryBuffer1D<float, Stride1D.Dense>> _live = new(ReferenceEqualityComparer.Instance);
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _errors;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _dummy;
    private readonly (int Dim, int Extra)[] _errorInfo = new (int, int)[ErrorFlags.Count];
    private bool _errorsPending;
    private long _bytesInUse, _bytesPooled, _deviceAllocations;
    private bool _disposed;

    private IlgpuBackend(Context context, Accelerator acc, IlgpuDeviceInfo device, IlgpuBackendOptions options)
    {
        _context = context;
        _acc = acc;
        _stream = acc.DefaultStream;
        _options = options;
        Device = device;
        Name = $"ilgpu:{device.Id}";
        int maxGroup = Math.Min(acc.MaxNumThreadsPerGroup, 1024);
        RowGroup = FloorPow2(Math.Min(maxGroup, 256));
        AttentionGroup = FloorPow2(Math.Min(maxGroup, 64));
        int t = 1;
        while ((t * 2) * (t * 2) <= maxGroup && t * 2 <= 16) t *= 2;
        GemmTile = t;
        GemmKernel = options.GemmKernel;
        _errors = acc.Allocate1D<int>(2 * ErrorFlags.Count);
        _errors.MemSetToZero(_stream);
        _dummy = acc.Allocate1D<float>(1);
        _dummy.MemSetToZero(_stream);
        _stream.Synchronize();
    }

    private static int FloorPow2(int x)
    {
        int p = 1;
        while (p * 2 <= x) p *= 2;
        return p;
    }

    // ----- device selection -----

    /// <summary>Lists the accelerators ILGPU can see on this machine (CUDA, OpenCL, and the CPU accelerator, which is always there).</summary>
    public static IReadOnlyList<IlgpuDeviceInfo> Devices()
    {
        using var context = CreateContext(new IlgpuBackendOptions());
        return Describe(context).Select(d => d.Info).ToList();
    }

    /// <summary>
    /// Creates a backend on the first device of the given kind; <see cref="IlgpuDeviceKind.Auto"/> picks CUDA, else an
    /// OpenCL GPU, else any OpenCL device, else ILGPU's CPU accelerator. Throws <see cref="InvalidOperationException"/>
    /// listing the devices present when none of the requested kind exists.
    /// </summary>
    public static IlgpuBackend Create(IlgpuDeviceKind kind = IlgpuDeviceKind.Auto, IlgpuBackendOptions? options = null)
        => Create(IlgpuDeviceInfo.KindName(kind), options);

    /// <summary>
    /// Creates a backend on a named device: <c>auto</c>, a kind (<c>cuda</c>, <c>opencl</c>, <c>cpu</c>), a kind and index
    /// (<c>cuda:1</c>), or part of a device name (<c>"H100"</c>, case-insensitive). Throws <see cref="InvalidOperationException"/>
    /// listing the devices present when nothing matches.
    /// </summary>
    public static IlgpuBackend Create(string device, IlgpuBackendOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new IlgpuBackendOptions();
        var context = CreateContext(options);
        try
        {
            var all = Describe(context);
            var chosen = Choose(all, device.Trim())
                ?? throw new InvalidOperationException($"IlgpuBackend: no device matches '{device}'. Devices present: " +
                    (all.Count == 0 ? "none" : string.Join("; ", all.Select(d => d.Info.ToString()))) +
                    ". Use IlgpuBackend.Create(\"cpu\") for ILGPU's CPU accelerator, or the CpuBackend.");
            Accelerator acc;
            try { acc = chosen.Device.CreateAccelerator(context); }
            catch (Exception e)
            {
                throw new InvalidOperationException($"IlgpuBackend: could not open {chosen.Info}: {e.Message}", e);
            }
            return new IlgpuBackend(context, acc, chosen.Info, options);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static Context CreateContext(IlgpuBackendOptions options)
    {
        var cpu = new CPUDevice(options.CpuThreadsPerWarp, options.CpuWarpsPerGroup, options.CpuMultiprocessors);
        return Context.Create(b => b.Cuda().OpenCL().CPU(cpu).Optimize(OptimizationLevel.O1));
    }

    private static List<(Device Device, IlgpuDeviceInfo Info)> Describe(Context context)
    {
        var list = new List<(Device, IlgpuDeviceInfo)>();
        int cuda = 0, cl = 0, cpu = 0;
        foreach (var d in context)
        {
            var kind = d.AcceleratorType switch
            {
                AcceleratorType.Cuda => IlgpuDeviceKind.Cuda,
                AcceleratorType.OpenCL => IlgpuDeviceKind.OpenCL,
                _ => IlgpuDeviceKind.Cpu,
            };
            int index = kind switch { IlgpuDeviceKind.Cuda => cuda++, IlgpuDeviceKind.OpenCL => cl++, _ => cpu++ };
            // The CPU accelerator reports an unbounded size; its memory is the host's.
            long memory = kind == IlgpuDeviceKind.Cpu ? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes : d.MemorySize;
            list.Add((d, new IlgpuDeviceInfo(kind, index, d.Name, memory, d.MaxNumThreadsPerGroup, d.WarpSize)));
        }
        return list;
    }

    private static (Device Device, IlgpuDeviceInfo Info)? Choose(List<(Device Device, IlgpuDeviceInfo Info)> all, string spec)
    {
        string s = spec.ToLowerInvariant();
        if (s is "" or "auto")
        {
            foreach (var d in all) if (d.Info.Kind == IlgpuDeviceKind.Cuda) return d;
            foreach (var d in all) if (d.Device is CLDevice c && c.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU) return d;
            foreach (var d in all) if (d.Info.Kind == IlgpuDeviceKind.OpenCL) return d;
            foreach (var d in all) if (d.Info.Kind == IlgpuDeviceKind.Cpu) return d;
            return null;
        }
        string kindPart = s, indexPart = "0";
        int colon = s.IndexOf(':');
        if (colon >= 0) { kindPart = s[..colon]; indexPart = s[(colon + 1)..]; }
        IlgpuDeviceKind? kind = kindPart switch
        {
            "cuda" or "gpu" => IlgpuDeviceKind.Cuda,
            "opencl" or "cl" => IlgpuDeviceKind.OpenCL,
            "cpu" => IlgpuDeviceKind.Cpu,
            _ => null,
        };
        if (kind is { } k && int.TryParse(indexPart, out int idx))
        {
            foreach (var d in all) if (d.Info.Kind == k && d.Info.Index == idx) return d;
            return null;
        }
        foreach (var d in all)
            if (d.Info.Name.Contains(spec, StringComparison.OrdinalIgnoreCase)) return d;
        return null;
    }

    // ----- identity -----

    /// <summary>Short name with the device id, e.g. <c>ilgpu:cuda:0</c> or <c>ilgpu:cpu:0</c>.</summary>
    public string Name { get; }

    /// <summary>The device this backend runs on.</summary>
    public IlgpuDeviceInfo Device { get; }

    /// <summary>The device's name as the driver reports it.</summary>
    public string DeviceName => Device.Name;

    /// <summary>Threads per group of the row-wise kernels (softmax, norms, reductions, cross-entropy).</summary>
    public int RowGroup { get; }

    /// <summary>Threads per group (and keys per block) of the attention kernels.</summary>
    public int AttentionGroup { get; }

    /// <summary>
    /// The GEMM group is GemmTile × GemmTile threads (16 × 16 on GPUs). It computes a 4·GemmTile square tile, or, with the
    /// register-tiled kernel that large products use, an 8·GemmTile square tile (128 × 128 on GPUs).
    /// </summary>
    public int GemmTile { get; }

    /// <summary>The GEMM kernel choice (<see cref="IlgpuBackendOptions.GemmKernel"/>).</summary>
    public IlgpuGemmKernel GemmKernel { get; }

    /// <summary>Bytes held by live storages.</summary>
    public long BytesInUse { get { lock (_sync) return _bytesInUse; } }

    /// <summary>Bytes kept in the pool for reuse.</summary>
    public long BytesPooled { get { lock (_sync) return _bytesPooled; } }

    /// <summary>Number of device allocations made so far (a steady-state training step adds none).</summary>
    public long DeviceAllocations { get { lock (_sync) return _deviceAllocations; } }

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({DeviceName})";

    // ----- memory -----

    /// <inheritdoc/>
    public IStorage Allocate(DType type, int length, bool zero = true)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, $"{Name}.Allocate: length must be >= 0.");
        lock (_sync)
        {
            CheckAlive();
            var buffer = Rent(Math.Max(1, length), type, length);
            if (zero) buffer.View.MemSetToZero(_stream);
            _bytesInUse += buffer.LengthInBytes;
            _live.Add(buffer);
            return new IlgpuStorage(this, buffer, type, length);
        }
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Rent(int elements, DType type, int length)
    {
        DrainOrphans();
        if (_free.TryGetValue(elements, out var stack) && stack.Count > 0)
        {
            var b = stack.Pop();
            _bytesPooled -= b.LengthInBytes;
            return b;
        }
        long bytes = elements * 4L;
        long limit = _options.MemoryLimitBytes > 0 ? _options.MemoryLimitBytes : long.MaxValue;
        for (int attempt = 0; ; attempt++)
        {
            if (_bytesInUse + _bytesPooled + bytes > limit && attempt < 2)
            {
                Reclaim(attempt);
                continue;
            }
            if (_bytesInUse + _bytesPooled + bytes > limit)
                throw OutOfMemory(bytes, type, length, null);
            try
            {
                var b = _acc.Allocate1D<float>(elements);
                _deviceAllocations++;
                return b;
            }
            catch (Exception e) when (e is not DeviceOutOfMemoryException && attempt < 2)
            {
                Reclaim(attempt);
            }
            catch (Exception e) when (e is not DeviceOutOfMemoryException)
            {
                throw OutOfMemory(bytes, type, length, e);
            }
        }
    }

    // First free the pool; then also collect storages that are unreachable but not yet finalised.
    private void Reclaim(int attempt)
    {
        if (attempt > 0)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            DrainOrphans();
        }
        TrimPoolLocked();
    }

    private DeviceOutOfMemoryException OutOfMemory(long bytes, DType type, int length, Exception? inner)
    {
        string limit = _options.MemoryLimitBytes > 0 ? $", limit {Mb(_options.MemoryLimitBytes)}" : "";
        return new DeviceOutOfMemoryException(
            $"{Name} ({DeviceName}): out of device memory allocating {Mb(bytes)} ({length} {type} elements); " +
            $"{Mb(_bytesInUse)} in use by tensors, device memory {Mb(Device.MemoryBytes)}{limit}. " +
            "Use a smaller batch or sequence, release tensors with TensorScope, or train on another device.", inner)
        { RequestedBytes = bytes, BytesInUse = _bytesInUse };
    }

    private static string Mb(long bytes) => bytes >= 1 << 20 ? $"{bytes / (1024.0 * 1024):F1} MiB" : $"{bytes} bytes";

    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        lock (_sync)
        {
            if (!_live.Remove(buffer)) return;
            _bytesInUse -= buffer.LengthInBytes;
            if (_disposed) return;
            Pool(buffer);
        }
    }

    private void Pool(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        if (_bytesPooled + buffer.LengthInBytes > _options.MaxPooledBytes)
        {
            buffer.Dispose();
            return;
        }
        int key = (int)buffer.Length;
        if (!_free.TryGetValue(key, out var stack)) _free[key] = stack = new Stack<MemoryBuffer1D<float, Stride1D.Dense>>();
        stack.Push(buffer);
        _bytesPooled += buffer.LengthInBytes;
    }

    // Called from finalizers: no locks, no device calls.
    internal void Orphan(MemoryBuffer1D<float, Stride1D.Dense> buffer) => _orphans.Enqueue(buffer);

    private void DrainOrphans()
    {
        while (_orphans.TryDequeue(out var b))
        {
            if (!_live.Remove(b)) continue;
            _bytesInUse -= b.LengthInBytes;
            if (!_disposed) Pool(b);
        }
    }

    /// <summary>Frees every pooled buffer (memory held by live tensors stays).</summary>
    public void TrimPool()
    {
        lock (_sync)
        {
            DrainOrphans();
            TrimPoolLocked();
        }
    }

    private void TrimPoolLocked()
    {
        foreach (var stack in _free.Values)
            while (stack.Count > 0) stack.Pop().Dispose();
        _free.Clear();
        _bytesPooled = 0;
    }

    /// <summary>A pooled scratch buffer for one operation; dispose it after enqueueing the kernels that use it.</summary>
    private IlgpuStorage Temp(DType type, int length) => (IlgpuStorage)Allocate(type, length, zero: false);

    /// <summary>Waits for every queued kernel and throws any index error the kernels recorded.</summary>
    public void Synchronize()
    {
        lock (_sync)
        {
            CheckAlive();
            _stream.Synchronize();
            CheckErrors();
        }
    }

    /// <summary>Frees the pool, the kernels and the device. Storages still alive become unusable.</summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed) return;
            try { _stream.Synchronize(); } catch (Exception) { /* the device may already be lost */ }
            DrainOrphans();
            TrimPoolLocked();
            _disposed = true;
            foreach (var b in _live) b.Dispose();
            _live.Clear();
            _errors.Dispose();
            _dummy.Dispose();
            foreach (var b in _invFreq.Values) b.Dispose();
            _invFreq.Clear();
            _acc.Dispose();
            _context.Dispose();
        }
    }

    private void CheckAlive()
    {
        if (_disposed) throw new ObjectDisposedException(nameof(IlgpuBackend), $"{Name} ({DeviceName}) was disposed; create a new backend.");
    }

    // ----- validation -----

    /// <summary>The ILGPU storage behind <paramref name="s"/>, checking that it belongs to this backend, is alive and has the type.</summary>
    private IlgpuStorage S(IStorage s, string op, DType? type = null, [CallerArgumentExpression(nameof(s))] string? what = null)
    {
        ArgumentNullException.ThrowIfNull(s, what);
        if (s is not IlgpuStorage g || !ReferenceEquals(g.Owner, this))
        {
            string where = s is IlgpuStorage o ? $"'{o.Owner.Name}' ({o.Owner.DeviceName})" : $"'{s.Backend.Name}'";
            throw new InvalidOperationException(
                $"{Name} ({DeviceName}).{op}: '{what}' ({s.Length} {s.DType} elements) belongs to backend {where}, not to this one. " +
                "Move tensors with tensor.To(backend) and models with module.To(backend) first.");
        }
        if (g.IsDisposed) throw g.Released();
        if (type is { } t && g.DType != t)
            throw new InvalidOperationException($"{Name}.{op}: '{what}' holds {g.DType} elements, but {t} is required.");
        return g;
    }

    private void Need(IlgpuStorage s, long count, string op, [CallerArgumentExpression(nameof(s))] string? what = null)
    {
        if (count > s.Length)
            throw new ArgumentException($"{Name}.{op}: '{what}' has {s.Length} elements, but {count} are needed.");
    }

    private void Need(IlgpuStorage s, in Layout l, string op, [CallerArgumentExpression(nameof(s))] string? what = null)
    {
        if (l.Count == 0) return;
        long lo = l.Offset, hi = l.Offset;
        for (int d = 0; d < l.Rank; d++)
        {
            long ext = (long)(l.Shape[d] - 1) * l.Strides[d];
            if (ext < 0) lo += ext; else hi += ext;
        }
        if (lo < 0 || hi >= s.Length)
            throw new ArgumentException($"{Name}.{op}: layout {l} of '{what}' reaches elements [{lo}, {hi}] outside its {s.Length} elements.");
    }

    private void CheckRange(IlgpuStorage s, int offset, int count, string op, string side)
    {
        if (offset < 0 || count < 0 || (long)offset + count > s.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"{Name}.{op}: range [{offset}, {(long)offset + count}) is outside the {s.Length} {side} elements.");
    }

    // ----- host transfers -----

    /// <inheritdoc/>
    public void Upload(float[] src, int srcOffset, IStorage dst, int dstOffset, int count)
    {
        lock (_sync)
        {
            CheckAlive();
            var d = S(dst, "Upload");
            CheckRange(d, dstOffset, count, "Upload", "destination");
            if (count == 0) return;
            if (d.DType == DType.Float32) d.F.SubView(dstOffset, count).CopyFromCPU(_stream, new ReadOnlySpan<float>(src, srcOffset, count));
            else
            {
                var tmp = new int[count];
                for (int i = 0; i < count; i++) tmp[i] = (int)src[srcOffset + i];
                d.I.SubView(dstOffset, count).CopyFromCPU(_stream, new ReadOnlySpan<int>(tmp));
            }
        }
    }

    /// <inheritdoc/>
    public void Upload(int[] src, int srcOffset, IStorage dst, int dstOffset, int count)
    {
        lock (_sync)
        {
            CheckAlive();
            var d = S(dst, "Upload");
            CheckRange(d, dstOffset, count, "Upload", "destination");
            if (count == 0) return;
            if (d.DType == DType.Int32) d.I.SubView(dstOffset, count).CopyFromCPU(_stream, new ReadOnlySpan<int>(src, srcOffset, count));
            else
            {
                var tmp = new float[count];
                for (int i = 0; i < count; i++) tmp[i] = src[srcOffset + i];
                d.F.SubView(dstOffset, count).CopyFromCPU(_stream, new ReadOnlySpan<float>(tmp));
            }
        }
    }

    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, float[] dst, int dstOffset, int count)
    {
        lock (_sync)
        {
            CheckAlive();
            var s = S(src, "Download");
            CheckRange(s, srcOffset, count, "Download", "source");
            if (count > 0)
            {
                if (s.DType == DType.Float32) s.F.SubView(srcOffset, count).CopyToCPU(_stream, new Span<float>(dst, dstOffset, count));
                else
                {
                    var tmp = new int[count];
                    s.I.SubView(srcOffset, count).CopyToCPU(_stream, new Span<int>(tmp));
                    for (int i = 0; i < count; i++) dst[dstOffset + i] = tmp[i];
                }
            }
            _stream.Synchronize();
            CheckErrors();
        }
    }

    /// <inheritdoc/>
    public void Download(IStorage src, int srcOffset, int[] dst, int dstOffset, int count)
    {
        lock (_sync)
        {
            CheckAlive();
            var s = S(src, "Download");
            CheckRange(s, srcOffset, count, "Download", "source");
            if (count > 0)
            {
                if (s.DType == DType.Int32) s.I.SubView(srcOffset, count).CopyToCPU(_stream, new Span<int>(dst, dstOffset, count));
                else
                {
                    var tmp = new float[count];
                    s.F.SubView(srcOffset, count).CopyToCPU(_stream, new Span<float>(tmp));
                    for (int i = 0; i < count; i++) dst[dstOffset + i] = (int)tmp[i];
                }
            }
            _stream.Synchronize();
            CheckErrors();
        }
    }

    // ----- device-side error records -----

    private void MarkErrorCheck(int slot, int dim, int extra = 0)
    {
        _errorsPending = true;
        _errorInfo[slot] = (dim, extra);
    }

    private void CheckErrors()
    {
        if (!_errorsPending) return;
        _errorsPending = false;
        var rec = new int[2 * ErrorFlags.Count];
        _errors.View.CopyToCPU(_stream, new Span<int>(rec));
        _stream.Synchronize();
        int slot = -1;
        for (int i = 0; i < ErrorFlags.Count; i++) if (rec[2 * i] != 0) { slot = i; break; }
        if (slot < 0) return;
        _errors.MemSetToZero(_stream);
        _stream.Synchronize();
        int position = int.MaxValue - rec[2 * slot];
        int value = rec[2 * slot + 1];
        var (dim, extra) = _errorInfo[slot];
        const string note = " (GPU kernels record bad indices and report them at the next host read or Synchronize)";
        throw slot switch
        {
            ErrorFlags.Gather => new IndexOutOfRangeException(
                $"{Name}: Gather: index {value} is out of range for a dimension of size {dim} (first bad position: {position}){note}."),
            ErrorFlags.ScatterAdd => new IndexOutOfRangeException(
                $"{Name}: ScatterAdd: index {value} is out of range for a dimension of size {dim} (first bad position: {position}){note}."),
            _ => new ArgumentOutOfRangeException("targets", value,
                $"{Name}: cross_entropy: target {value} is outside [0, {dim}) and is not the ignore index {extra} (first bad row: {position}){note}."),
        };
    }
}
