using ILGPU;
using ILGPU.Runtime;
using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Ilgpu;

/// <summary>
/// Device memory of an <see cref="IlgpuBackend"/>: a pooled ILGPU buffer of 4-byte elements (Float32, or Int32 viewed
/// through the same memory). Disposing returns the buffer to the backend's pool at once; a storage that is dropped without
/// being disposed goes back to the pool when the garbage collector finalises it.
/// </summary>
public sealed class IlgpuStorage : IStorage
{
    private MemoryBuffer1D<float, Stride1D.Dense>? _buffer;

    internal IlgpuStorage(IlgpuBackend owner, MemoryBuffer1D<float, Stride1D.Dense> buffer, DType type, int length)
    {
        Owner = owner;
        _buffer = buffer;
        DType = type;
        Length = length;
    }

    /// <summary>The backend that owns the memory.</summary>
    public IlgpuBackend Owner { get; }

    /// <inheritdoc/>
    public IBackend Backend => Owner;
    /// <inheritdoc/>
    public DType DType { get; }
    /// <inheritdoc/>
    public int Length { get; }
    /// <inheritdoc/>
    public bool IsDisposed => _buffer is null;

    internal MemoryBuffer1D<float, Stride1D.Dense> Buffer => _buffer ?? throw Released();

    /// <summary>The elements as floats (Float32 storage).</summary>
    internal ArrayView<float> F => Buffer.View.BaseView;

    /// <summary>The elements as ints (Int32 storage).</summary>
    internal ArrayView<int> I => Buffer.View.BaseView.Cast<int>();

    internal ObjectDisposedException Released() => new(nameof(IlgpuStorage),
        $"{Owner.Name}: storage of {Length} {DType} elements was released (its TensorScope ended or it was disposed); keep the tensor with TensorScope.Keep or Detach().Clone() it before the scope ends.");

    /// <summary>Returns the memory to the backend's pool.</summary>
    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is null) return;
        GC.SuppressFinalize(this);
        Owner.Return(b);
    }

    /// <summary>Hands the buffer of a storage nobody disposed back to the backend (picked up at its next allocation).</summary>
    ~IlgpuStorage()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null) Owner.Orphan(b);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Owner.Name} storage of {Length} {DType}{(IsDisposed ? " (released)" : "")}";
}
