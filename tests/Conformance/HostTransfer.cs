using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Conformance;

/// <summary>Raw storages from and to host arrays, for kernel-level checks below the tensor API.</summary>
public static class HostTransfer
{
    /// <summary>A new Float32 storage on <paramref name="backend"/> holding <paramref name="data"/>.</summary>
    public static IStorage Put(IBackend backend, float[] data)
    {
        var s = backend.Allocate(DType.Float32, data.Length, zero: false);
        backend.Upload(data, 0, s, 0, data.Length);
        return s;
    }

    /// <summary>Every element of a Float32 storage.</summary>
    public static float[] Get(IBackend backend, IStorage storage)
    {
        var r = new float[storage.Length];
        backend.Download(storage, 0, r, 0, r.Length);
        return r;
    }
}
