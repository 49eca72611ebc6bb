using System.Collections.Concurrent;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Exact-size pool of large arrays. Training steps allocate the same sizes every step, so buckets keyed by length give
/// steady-state reuse without large-object-heap churn. Small arrays are left to the GC.
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Arrays below this many elements are not pooled (they stay off the large-object heap anyway).</summary>
    public const int MinPooled = 4096;
    private const int MaxPerBucket = 64;

    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _floats = new();
    private readonly ConcurrentDictionary<int, ConcurrentBag<int[]>> _ints = new();

    public float[] RentFloat(int length, bool zero)
    {
        if (length >= MinPooled && _floats.TryGetValue(length, out var bag) && bag.TryTake(out var a))
        {
            if (zero) Array.Clear(a);
            return a;
        }
        return zero ? new float[length] : GC.AllocateUninitializedArray<float>(length);
    }

    public int[] RentInt(int length, bool zero)
    {
        if (length >= MinPooled && _ints.TryGetValue(length, out var bag) && bag.TryTake(out var a))
        {
            if (zero) Array.Clear(a);
            return a;
        }
        return zero ? new int[length] : GC.AllocateUninitializedArray<int>(length);
    }

    public void Return(float[] a)
    {
        if (a.Length < MinPooled) return;
        var bag = _floats.GetOrAdd(a.Length, _ => new ConcurrentBag<float[]>());
        if (bag.Count < MaxPerBucket) bag.Add(a);
    }

    public void Return(int[] a)
    {
        if (a.Length < MinPooled) return;
        var bag = _ints.GetOrAdd(a.Length, _ => new ConcurrentBag<int[]>());
        if (bag.Count < MaxPerBucket) bag.Add(a);
    }

    /// <summary>Drops every pooled array.</summary>
    public void Clear()
    {
        _floats.Clear();
        _ints.Clear();
    }
}
