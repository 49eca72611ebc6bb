using System.Collections.Concurrent;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Exact-size pool of large arrays. Training steps allocate the same sizes every step, so buckets keyed by length give
/// steady-state reuse without large-object-heap churn. Small arrays are left to the GC. The pool holds at most
/// <see cref="MaxPooledBytes"/> in all: with dynamic shapes (batches padded to their longest sequence) arrays of sizes
/// beyond the budget go back to the GC instead of piling up in buckets.
/// </summary>
internal sealed class BufferPool
{
    /// <summary>Budget of the pooled arrays: an eighth of the memory available to the process, at most 2 GiB.</summary>
    public static readonly long MaxPooledBytes = Math.Min(2L << 30, Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 8));
    private long _pooledBytes;

    /// <summary>Arrays below this many elements are not pooled (they stay off the large-object heap anyway).</summary>
    public const int MinPooled = 4096;
    private const int MaxPerBucket = 64;

    private readonly ConcurrentDictionary<int, ConcurrentBag<float[]>> _floats = new();
    private readonly ConcurrentDictionary<int, ConcurrentBag<int[]>> _ints = new();

    public float[] RentFloat(int length, bool zero)
    {
        if (length >= MinPooled && _floats.TryGetValue(length, out var bag) && bag.TryTake(out var a))
        {
            Interlocked.Add(ref _pooledBytes, -4L * a.Length);
            if (zero) Array.Clear(a);
            return a;
        }
        return zero ? new float[length] : GC.AllocateUninitializedArray<float>(length);
    }

    public int[] RentInt(int length, bool zero)
    {
        if (length >= MinPooled && _ints.TryGetValue(length, out var bag) && bag.TryTake(out var a))
        {
            Interlocked.Add(ref _pooledBytes, -4L * a.Length);
            if (zero) Array.Clear(a);
            return a;
        }
        return zero ? new int[length] : GC.AllocateUninitializedArray<int>(length);
    }

    public void Return(float[] a)
    {
        if (a.Length < MinPooled) return;
        if (_floats.TryGetValue(a.Length, out var full) && full.Count >= MaxPerBucket) return;
        if (Reserve(a.Length)) _floats.GetOrAdd(a.Length, _ => new ConcurrentBag<float[]>()).Add(a);
    }

    public void Return(int[] a)
    {
        if (a.Length < MinPooled) return;
        if (_ints.TryGetValue(a.Length, out var full) && full.Count >= MaxPerBucket) return;
        if (Reserve(a.Length)) _ints.GetOrAdd(a.Length, _ => new ConcurrentBag<int[]>()).Add(a);
    }

    /// <summary>Bytes held by the pool now.</summary>
    public long PooledBytes => Interlocked.Read(ref _pooledBytes);

    // Counts an array of 4-byte elements against the budget. When it is full, the pool is emptied (the shapes in use
    // have changed) and the array starts the new working set.
    private bool Reserve(int length)
    {
        long bytes = 4L * length;
        if (Interlocked.Add(ref _pooledBytes, bytes) <= MaxPooledBytes) return true;
        Interlocked.Add(ref _pooledBytes, -bytes);
        if (bytes > MaxPooledBytes / 4) return false;
        Clear();
        Interlocked.Add(ref _pooledBytes, bytes);
        return true;
    }

    /// <summary>Drops every pooled array.</summary>
    public void Clear()
    {
        _floats.Clear();
        _ints.Clear();
        Interlocked.Exchange(ref _pooledBytes, 0);
    }
}
