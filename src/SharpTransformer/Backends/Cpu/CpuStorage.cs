using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

/// <summary>Host memory of the CPU backend: a pooled float[] or int[].</summary>
public sealed class CpuStorage : IStorage
{
    private float[]? _f;
    private int[]? _i;
    private readonly BufferPool _pool;

    internal CpuStorage(CpuBackend backend, BufferPool pool, DType type, int length, bool zero)
    {
        Backend = backend;
        _pool = pool;
        DType = type;
        Length = length;
        if (type == DType.Float32) _f = pool.RentFloat(length, zero);
        else _i = pool.RentInt(length, zero);
    }

    /// <inheritdoc/>
    public IBackend Backend { get; }
    /// <inheritdoc/>
    public DType DType { get; }
    /// <inheritdoc/>
    public int Length { get; }
    /// <inheritdoc/>
    public bool IsDisposed => _f is null && _i is null;

    /// <summary>The float elements (the array may be longer than <see cref="Length"/>).</summary>
    public float[] Floats => _f ?? throw Fail(DType.Float32);
    /// <summary>The int elements (the array may be longer than <see cref="Length"/>).</summary>
    public int[] Ints => _i ?? throw Fail(DType.Int32);

    private Exception Fail(DType wanted) =>
        IsDisposed
            ? new ObjectDisposedException(nameof(CpuStorage),
                $"Storage of {Length} {DType} elements was released (its TensorScope ended or it was disposed); keep the tensor with TensorScope.Keep or Detach().Clone() it before the scope ends.")
            : new InvalidOperationException($"Storage holds {DType} elements, but {wanted} was expected.");

    /// <summary>Returns the memory to the pool.</summary>
    public void Dispose()
    {
        if (_f is not null) { _pool.Return(_f); _f = null; }
        if (_i is not null) { _pool.Return(_i); _i = null; }
    }
}
