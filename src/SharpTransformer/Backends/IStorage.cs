using SharpTransformer.Tensors;

namespace SharpTransformer.Backends;

/// <summary>
/// Opaque, backend-resident memory for tensor elements. The host sees values only through
/// <see cref="IBackend.Download(IStorage,int,float[],int,int)"/>. Disposing returns the memory to the backend's pool.
/// </summary>
public interface IStorage : IDisposable
{
    /// <summary>The backend that owns this memory.</summary>
    IBackend Backend { get; }
    /// <summary>Element type.</summary>
    DType DType { get; }
    /// <summary>Number of elements.</summary>
    int Length { get; }
    /// <summary>True once the memory went back to the pool; any further use throws.</summary>
    bool IsDisposed { get; }
}
