using SharpTransformer.Backends;

namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    private static IBackend Pick(IBackend? backend) => backend ?? DefaultBackend;

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(ReadOnlySpan<int> shape, DType type = DType.Float32, IBackend? backend = null)
        => Empty(Pick(backend), type, shape, zero: true);

    /// <summary>A tensor of zeros of the given shape.</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape.AsSpan());

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor filled with one value.</summary>
    public static Tensor Full(ReadOnlySpan<int> shape, float value, DType type = DType.Float32, IBackend? backend = null)
    {
        var t = Empty(Pick(backend), type, shape);
        t.Backend.Fill(t.Storage, t.Layout, value);
        return t;
    }

    /// <summary>A zero tensor with this tensor's shape, type and backend.</summary>
    public Tensor ZerosLike() => Empty(Backend, DType, Shape, zero: true);

    /// <summary>A tensor filled with <paramref name="value"/>, with this tensor's shape, type and backend.</summary>
    public Tensor FullLike(float value) => Full(Shape, value, DType, Backend);

    /// <summary>0, 1, ..., n-1.</summary>
    public static Tensor Arange(int n, DType type = DType.Float32, IBackend? backend = null)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Arange: n must be >= 0.");
        var t = Empty(Pick(backend), type, [n]);
        t.Backend.Arange(t.Storage, n);
        return t;
    }

    /// <summary>A one-element Float32 tensor of rank 0.</summary>
    public static Tensor Scalar(float value, IBackend? backend = null) => Full(ReadOnlySpan<int>.Empty, value, DType.Float32, backend);

    /// <summary>A Float32 tensor with a copy of <paramref name="data"/> in the given shape (default: 1-D).</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        if (shape.Length == 0) shape = [data.Length];
        if (Layout.Numel(shape) != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Layout.Format(shape)} ({Layout.Numel(shape)} elements).");
        var t = Empty(DefaultBackend, DType.Float32, shape);
        t.Backend.Upload(data, 0, t.Storage, 0, data.Length);
        return t;
    }

    /// <summary>An Int32 tensor (ids, labels) with a copy of <paramref name="data"/> in the given shape (default: 1-D).</summary>
    public static Tensor FromArray(int[] data, params int[] shape)
    {
        if (shape.Length == 0) shape = [data.Length];
        if (Layout.Numel(shape) != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {Layout.Format(shape)} ({Layout.Numel(shape)} elements).");
        var t = Empty(DefaultBackend, DType.Int32, shape);
        t.Backend.Upload(data, 0, t.Storage, 0, data.Length);
        return t;
    }

    /// <summary>Normal samples with the given mean and standard deviation from a seeded generator.</summary>
    public static Tensor RandN(int[] shape, Generator generator, float mean = 0f, float std = 1f, IBackend? backend = null)
        => Random(shape, generator, RandomKind.Normal, mean, std, backend);

    /// <summary>Uniform samples in [low, high) from a seeded generator.</summary>
    public static Tensor Rand(int[] shape, Generator generator, float low = 0f, float high = 1f, IBackend? backend = null)
        => Random(shape, generator, RandomKind.Uniform, low, high, backend);

    private static Tensor Random(int[] shape, Generator g, RandomKind kind, float a, float b, IBackend? backend)
    {
        var t = Empty(Pick(backend), DType.Float32, shape);
        t.Backend.RandomFill(t.Storage, t.Count, kind, a, b, g.Seed, g.Advance(t.Count));
        return t;
    }

    /// <summary>A copy of this tensor on <paramref name="backend"/> (the same tensor when already there), like PyTorch's <c>.to(device)</c>.</summary>
    public Tensor To(IBackend backend)
    {
        if (ReferenceEquals(backend, Backend)) return this;
        var src = Contiguous();
        var t = Empty(backend, DType, Shape);
        if (DType == DType.Float32)
        {
            var host = new float[Count];
            Backend.Download(src.Storage, src.Layout.Offset, host, 0, Count);
            backend.Upload(host, 0, t.Storage, 0, Count);
        }
        else
        {
            var host = new int[Count];
            Backend.Download(src.Storage, src.Layout.Offset, host, 0, Count);
            backend.Upload(host, 0, t.Storage, 0, Count);
        }
        t.RequiresGrad = RequiresGrad && IsLeaf;
        t.Name = Name;
        return t;
    }

    /// <summary>Copies values from <paramref name="source"/> (same shape) into this tensor's memory, outside autograd.</summary>
    public void CopyFrom(Tensor source)
    {
        CheckSameShape(source, "CopyFrom");
        Backend.Copy(source.Storage, source.Layout, Storage, Layout);
    }

    /// <summary>Copies host values (row-major) into this contiguous tensor, outside autograd.</summary>
    public void CopyFrom(float[] values)
    {
        if (values.Length != Count) throw new ArgumentException($"CopyFrom: {values.Length} values for a tensor of shape {ShapeString}.");
        if (!IsContiguous) throw new InvalidOperationException($"CopyFrom: tensor {ShapeString} is not contiguous.");
        Backend.Upload(values, 0, Storage, Layout.Offset, values.Length);
    }

    internal void CheckSameShape(Tensor other, string op)
    {
        if (!Shape.SequenceEqual(other.Shape))
            throw new ArgumentException($"{op}: shapes differ: {ShapeString} and {other.ShapeString}.");
    }
}
