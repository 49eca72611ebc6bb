using System.Text;
using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Backends;

/// <summary>How a test input sits in its storage.</summary>
public enum LayoutKind
{
    /// <summary>Row-major, dense, offset 0.</summary>
    Contiguous,
    /// <summary>Row-major, dense, starting at a non-zero offset.</summary>
    Offset,
    /// <summary>A random non-identity permutation of the memory order (a transposed / permuted view).</summary>
    Transposed,
    /// <summary>A window of a larger tensor: every dimension padded, non-zero offset (a narrowed view).</summary>
    Narrowed,
    /// <summary>Some dimensions of size &gt; 1 with stride 0 (an expanded view); input-only.</summary>
    Broadcast,
    /// <summary>Random permutation, padding, inner step 1..3 and offset.</summary>
    Strided,
}

/// <summary>Host-side helpers for kernel conformance tests: storage round trips, random layouts, tolerant comparison.</summary>
public static class KernelHarness
{
    /// <summary>Every layout kind.</summary>
    public static readonly LayoutKind[] AllKinds = Enum.GetValues<LayoutKind>();

    /// <summary>Layout kinds that a kernel may write through (no stride 0).</summary>
    public static readonly LayoutKind[] WritableKinds = AllKinds.Where(k => k != LayoutKind.Broadcast).ToArray();

    /// <summary>Uploads floats into new storage.</summary>
    public static IStorage Up(IBackend be, float[] data)
    {
        var s = be.Allocate(DType.Float32, data.Length);
        be.Upload(data, 0, s, 0, data.Length);
        return s;
    }

    /// <summary>Uploads ints into new storage.</summary>
    public static IStorage Up(IBackend be, int[] data)
    {
        var s = be.Allocate(DType.Int32, data.Length);
        be.Upload(data, 0, s, 0, data.Length);
        return s;
    }

    /// <summary>Downloads the first n floats.</summary>
    public static float[] Down(IBackend be, IStorage s, int n)
    {
        var r = new float[n];
        be.Download(s, 0, r, 0, n);
        return r;
    }

    /// <summary>Downloads the first n ints.</summary>
    public static int[] DownInt(IBackend be, IStorage s, int n)
    {
        var r = new int[n];
        be.Download(s, 0, r, 0, n);
        return r;
    }

    /// <summary>A random shape of the given rank range with dimensions in [1, maxDim].</summary>
    public static int[] RandomShape(Random rng, int minRank, int maxRank, int maxDim)
    {
        var s = new int[rng.Next(minRank, maxRank + 1)];
        for (int i = 0; i < s.Length; i++) s[i] = rng.Next(1, maxDim + 1);
        return s;
    }

    /// <summary>
    /// A layout of <paramref name="shape"/> of the requested kind and the storage length it needs (with slack).
    /// </summary>
    public static Layout MakeLayout(Random rng, int[] shape, LayoutKind kind, out int storageLength)
    {
        int r = shape.Length;
        var strides = new int[r];
        int offset = 0;
        var order = Enumerable.Range(0, r).Reverse().ToArray(); // fastest first: row-major
        var pad = new int[r];
        var zero = new bool[r];
        int step = 1;
        switch (kind)
        {
            case LayoutKind.Contiguous: break;
            case LayoutKind.Offset: offset = rng.Next(1, 8); break;
            case LayoutKind.Transposed:
                if (r >= 2)
                {
                    do order = order.OrderBy(_ => rng.Next()).ToArray();
                    while (order.SequenceEqual(Enumerable.Range(0, r).Reverse()));
                }
                break;
            case LayoutKind.Narrowed:
                for (int d = 0; d < r; d++) pad[d] = rng.Next(1, 3);
                break;
            case LayoutKind.Broadcast:
                {
                    var cands = Enumerable.Range(0, r).Where(d => shape[d] > 1).ToList();
                    if (cands.Count > 0)
                    {
                        zero[cands[rng.Next(cands.Count)]] = true;
                        foreach (var d in cands) if (rng.Next(3) == 0) zero[d] = true;
                    }
                    offset = rng.Next(0, 3);
                    break;
                }
            case LayoutKind.Strided:
                order = order.OrderBy(_ => rng.Next()).ToArray();
                for (int d = 0; d < r; d++) pad[d] = rng.Next(0, 3);
                step = rng.Next(1, 4);
                offset = rng.Next(0, 5);
                break;
        }
        int acc = step;
        foreach (var d in order)
        {
            if (zero[d]) { strides[d] = 0; continue; }
            strides[d] = acc;
            acc *= shape[d] + pad[d];
        }
        if (kind == LayoutKind.Narrowed)
            for (int d = 0; d < r; d++) offset += rng.Next(0, pad[d] + 1) * strides[d];
        int last = offset;
        bool empty = shape.Any(x => x == 0);
        if (!empty) for (int d = 0; d < r; d++) last += (shape[d] - 1) * strides[d];
        storageLength = last + 1 + rng.Next(0, 3);
        return new Layout((int[])shape.Clone(), strides, offset);
    }

    /// <summary>Random floats, uniform in [lo, hi).</summary>
    public static float[] Uniform(Random rng, int n, float lo, float hi)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * (float)rng.NextDouble();
        return a;
    }

    /// <summary>Uniform magnitudes in [lo, hi) with random signs (keeps values away from zero).</summary>
    public static float[] SignedAway(Random rng, int n, float lo, float hi)
    {
        var a = Uniform(rng, n, lo, hi);
        for (int i = 0; i < n; i++) if (rng.Next(2) == 0) a[i] = -a[i];
        return a;
    }

    /// <summary>Values from a small grid (multiples of 0.5 in [-1.5, 1.5]), so that ties and equalities are frequent.</summary>
    public static float[] Grid(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rng.Next(-3, 4) * 0.5f;
        return a;
    }

    /// <summary>
    /// Asserts |actual - expected| &lt;= atol[i] + rtol * |expected| elementwise (NaN matches NaN, infinities must match).
    /// Reports the first few mismatches with their positions.
    /// </summary>
    public static void Close(double[] expected, float[] actual, double rtol, double atol, string what, double[]? atolPerElement = null)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        var sb = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            bool ok;
            if (double.IsNaN(e)) ok = double.IsNaN(a);
            else if (double.IsInfinity(e)) ok = a == e;
            else
            {
                double tol = (atolPerElement?[i] ?? 0) + atol + rtol * Math.Abs(e);
                ok = Math.Abs(a - e) <= tol;
            }
            if (!ok)
            {
                if (bad < 5) sb.Append($"\n  [{i}] got {a:R}, expected {e:R} (diff {Math.Abs(a - e):E2})");
                bad++;
            }
        }
        Assert.True(bad == 0, $"{what}: {bad} of {expected.Length} elements out of tolerance (rtol {rtol}, atol {atol}):{sb}");
    }

    /// <summary>Exact equality of ints.</summary>
    public static void Same(int[] expected, int[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"{what}: [{i}] got {actual[i]}, expected {expected[i]}");
    }

    /// <summary>Widens floats to doubles.</summary>
    public static double[] D(float[] a) => a.Select(x => (double)x).ToArray();

    /// <summary>Widens ints to doubles.</summary>
    public static double[] D(int[] a) => a.Select(x => (double)x).ToArray();

    /// <summary>Describes a layout for failure messages.</summary>
    public static string Describe(in Layout l, LayoutKind k) => $"{k} {l}";
}
