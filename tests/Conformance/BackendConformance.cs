using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using Xunit;

namespace SharpTransformer.Conformance;

/// <summary>
/// The backend conformance suite, written once and run against every <see cref="IBackend"/>: each test project derives a
/// class that supplies the backend. Kernels are compared with <see cref="Reference"/> on random shapes (including
/// non-contiguous, offset and broadcast layouts), gradients are checked through Tensor ops on the backend, and a tiny
/// GPT trains for 50 steps on the backend and on the CPU backend with matching losses.
/// Sizes are small because ILGPU's CPU accelerator emulates GPU threads.
/// </summary>
public abstract partial class BackendConformance : IDisposable
{
    private readonly List<IStorage> _owned = new();
    private IBackend? _backend;

    /// <summary>The backend under test (may be a shared instance; it is not disposed by the suite).</summary>
    protected abstract IBackend CreateBackend();

    /// <summary>The backend under test.</summary>
    protected IBackend B => _backend ??= CreateBackend();

    /// <summary>Releases the storages the test allocated.</summary>
    public void Dispose()
    {
        foreach (var s in _owned) s.Dispose();
        _owned.Clear();
        GC.SuppressFinalize(this);
    }

    // ----- helpers -----

    protected IStorage Put(float[] data)
    {
        var s = B.Allocate(DType.Float32, data.Length, zero: false);
        _owned.Add(s);
        B.Upload(data, 0, s, 0, data.Length);
        return s;
    }

    protected IStorage PutI(int[] data)
    {
        var s = B.Allocate(DType.Int32, data.Length, zero: false);
        _owned.Add(s);
        B.Upload(data, 0, s, 0, data.Length);
        return s;
    }

    protected IStorage New(int n, DType type = DType.Float32, bool zero = true)
    {
        var s = B.Allocate(type, n, zero);
        _owned.Add(s);
        return s;
    }

    protected float[] Get(IStorage s, int n = -1)
    {
        var r = new float[n < 0 ? s.Length : n];
        B.Download(s, 0, r, 0, r.Length);
        return r;
    }

    protected int[] GetI(IStorage s, int n = -1)
    {
        var r = new int[n < 0 ? s.Length : n];
        B.Download(s, 0, r, 0, r.Length);
        return r;
    }

    protected static float[] Rand(Random rng, int n, float lo = -2f, float hi = 2f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)rng.NextDouble();
        return a;
    }

    protected static int[] RandShape(Random rng, int minRank = 1, int maxRank = 4, int maxDim = 5)
    {
        int r = rng.Next(minRank, maxRank + 1);
        var s = new int[r];
        for (int i = 0; i < r; i++) s[i] = rng.Next(1, maxDim + 1);
        return s;
    }

    /// <summary>
    /// A random strided layout of <paramref name="shape"/> over a larger buffer: a permuted (transposed) base with padded
    /// dimensions (sliced views), a random offset, and optionally broadcast (stride-0) dimensions. Returns the buffer length needed.
    /// </summary>
    protected static Layout RandLayout(Random rng, int[] shape, out int length, bool allowBroadcast = false, bool forceStrided = false)
    {
        int r = shape.Length;
        if (!forceStrided && rng.Next(4) == 0)
        {
            int off0 = rng.Next(3);
            length = off0 + Layout.Numel(shape);
            return new Layout((int[])shape.Clone(), Layout.ContiguousStrides(shape), off0);
        }
        var perm = Enumerable.Range(0, r).OrderBy(_ => rng.Next()).ToArray();
        var baseShape = new int[r];
        for (int i = 0; i < r; i++) baseShape[i] = shape[perm[i]] + rng.Next(2);    // padded: the view is a slice
        var baseStrides = Layout.ContiguousStrides(baseShape);
        var strides = new int[r];
        for (int i = 0; i < r; i++) strides[perm[i]] = baseStrides[i];
        if (allowBroadcast)
            for (int d = 0; d < r; d++)
                if (rng.Next(3) == 0) strides[d] = 0;
        int off = rng.Next(4);
        long max = off;
        for (int d = 0; d < r; d++) max += (long)(shape[d] - 1) * strides[d];
        length = (int)max + 1 + rng.Next(2);
        return new Layout((int[])shape.Clone(), strides, off);
    }

    /// <summary>Asserts |e − a| ≤ atol + rtol·|e| elementwise (NaNs must match NaNs, infinities must match exactly).</summary>
    protected static void Close(float[] expected, float[] actual, float rtol = 1e-5f, float atol = 1e-6f, string what = "")
    {
        Assert.True(expected.Length <= actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) || float.IsNaN(a))
            {
                Assert.True(float.IsNaN(e) && float.IsNaN(a), $"{what}[{i}]: expected {e}, got {a}");
                continue;
            }
            if (float.IsInfinity(e) || float.IsInfinity(a))
            {
                Assert.True(e == a, $"{what}[{i}]: expected {e}, got {a}");
                continue;
            }
            Assert.True(Math.Abs(e - a) <= atol + rtol * Math.Abs(e), $"{what}[{i}]: expected {e:R}, got {a:R} (diff {Math.Abs(e - a):E2})");
        }
    }

    private static Layout Contig(params int[] shape) => Layout.Contiguous(shape);
}
