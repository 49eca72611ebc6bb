using System.Globalization;
using System.Text;
using SharpTransformer.Autograd;
using SharpTransformer.Backends;
using SharpTransformer.Backends.Cpu;

namespace SharpTransformer.Tensors;

/// <summary>
/// An n-dimensional array of Float32 (or Int32 ids) on a backend, with a <see cref="Layout"/> over shared storage
/// (views cost nothing) and reverse-mode autodiff: ops on tensors that require gradients record their backward,
/// and <see cref="Backward"/> fills <see cref="Grad"/> of the leaves.
/// </summary>
public sealed partial class Tensor
{
    private bool _requiresGrad;

    internal Tensor(IStorage storage, Layout layout)
    {
        Storage = storage;
        Layout = layout;
    }

    /// <summary>The backend memory (shared by views).</summary>
    public IStorage Storage { get; private set; }

    /// <summary>Shape, strides and offset into <see cref="Storage"/>.</summary>
    public Layout Layout { get; private set; }

    /// <summary>Points this tensor (a leaf) at other memory: used to move parameters between backends in place.</summary>
    internal void ReplaceStorage(IStorage storage, Layout layout)
    {
        if (!IsLeaf) throw new InvalidOperationException($"Cannot move a non-leaf tensor {ShapeString} between backends in place.");
        Storage = storage;
        Layout = layout;
    }

    /// <summary>The size of each dimension.</summary>
    public ReadOnlySpan<int> Shape => Layout.Shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Layout.Rank;

    /// <summary>Number of elements.</summary>
    public int Count => Layout.Count;

    /// <summary>Element type.</summary>
    public DType DType => Storage.DType;

    /// <summary>The backend that holds the data.</summary>
    public IBackend Backend => Storage.Backend;

    /// <summary>Optional name (parameters carry their hierarchical name).</summary>
    public string? Name { get; set; }

    /// <summary>The op that produced this tensor, or null for a leaf.</summary>
    public Node? GradFn { get; internal set; }

    /// <summary>True for tensors created directly rather than by a recorded op.</summary>
    public bool IsLeaf => GradFn is null;

    private Tensor? _grad;
    private bool _gradIsStale;   // set by ZeroGrad: the buffer is kept but its contents count as zero

    /// <summary>Accumulated gradient of a leaf after <see cref="Backward"/>.</summary>
    public Tensor? Grad
    {
        get
        {
            if (_gradIsStale && _grad is not null)
            {
                _grad.Backend.Fill(_grad.Storage, _grad.Layout, 0f);
                _gradIsStale = false;
            }
            return _grad;
        }
        set
        {
            _grad = value;
            _gradIsStale = false;
        }
    }

    /// <summary>
    /// The gradient buffer of a leaf for kernels that write into it directly (no temporary, no extra add).
    /// When <paramref name="overwrite"/> comes back true the buffer holds no valid gradient and must be fully written;
    /// otherwise the kernel must add to it.
    /// </summary>
    internal Tensor GradBuffer(out bool overwrite)
    {
        if (_grad is null)
        {
            using var _ = TensorScope.Suspend();
            _grad = Empty(Backend, DType.Float32, Shape);
            overwrite = true;
        }
        else overwrite = _gradIsStale;
        _gradIsStale = false;
        return _grad;
    }

    /// <summary>True when a kernel may write this leaf's gradient directly (contiguous dense leaf that requires gradients).</summary>
    internal bool AcceptsDirectGrad => IsLeaf && RequiresGrad && IsContiguous && Layout.Offset == 0;

    /// <summary>Whether gradients flow to this tensor. Only leaves may be switched; only Float32 tensors can require them.</summary>
    public bool RequiresGrad
    {
        get => _requiresGrad;
        set
        {
            if (!IsLeaf && !value) throw new InvalidOperationException($"RequiresGrad: cannot turn off gradients of a non-leaf tensor {ShapeString}; use Detach().");
            if (value && DType != DType.Float32) throw new InvalidOperationException($"RequiresGrad: only Float32 tensors can require gradients, this one is {DType}.");
            _requiresGrad = value;
        }
    }

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Size(int dim) => Layout.Shape[NormDim(dim, "Size")];

    /// <summary>The shape as text, e.g. <c>(2, 3)</c>.</summary>
    public string ShapeString => Layout.Format(Layout.Shape);

    /// <summary>True when the elements are dense and row-major.</summary>
    public bool IsContiguous => Layout.IsContiguous;

    internal int NormDim(int dim, string op)
    {
        int r = Rank;
        int d = dim < 0 ? dim + r : dim;
        if (d < 0 || d >= r) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"{op}: dimension {dim} is out of range for a tensor of shape {ShapeString}.");
        return d;
    }

    internal static IStorage Alloc(IBackend backend, DType type, int count, bool zero)
    {
        var s = backend.Allocate(type, count, zero);
        TensorScope.Track(s);
        return s;
    }

    /// <summary>A new tensor with fresh storage (tracked by the current <see cref="TensorScope"/>).</summary>
    internal static Tensor Empty(IBackend backend, DType type, ReadOnlySpan<int> shape, bool zero = false)
    {
        var sh = shape.ToArray();
        foreach (var d in sh)
            if (d < 0) throw new ArgumentException($"Tensor: negative dimension in shape {Layout.Format(sh)}.");
        return new Tensor(Alloc(backend, type, Layout.Numel(sh), zero), new Layout(sh, Layout.ContiguousStrides(sh)));
    }

    /// <summary>The default backend for new tensors (the shared CPU backend unless changed).</summary>
    public static IBackend DefaultBackend { get; set; } = CpuBackend.Default;

    // ----- host access -----

    /// <summary>Copies the elements, row-major, to a new float array.</summary>
    public float[] ToArray()
    {
        var t = IsContiguous ? this : ContiguousNoGrad();
        var r = new float[Count];
        Backend.Download(t.Storage, t.Layout.Offset, r, 0, Count);
        return r;
    }

    /// <summary>Copies the elements, row-major, to a new int array.</summary>
    public int[] ToIntArray()
    {
        var t = IsContiguous ? this : ContiguousNoGrad();
        var r = new int[Count];
        Backend.Download(t.Storage, t.Layout.Offset, r, 0, Count);
        return r;
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Count != 1) throw new InvalidOperationException($"Item: tensor of shape {ShapeString} has {Count} elements, not 1.");
        var r = new float[1];
        Backend.Download(Storage, Layout.Offset, r, 0, 1);
        return r[0];
    }

    /// <summary>Reads or writes one element. Writing is allowed only on tensors outside any graph.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public float this[params int[] index]
    {
        get
        {
            var r = new float[1];
            Backend.Download(Storage, CheckIndex(index), r, 0, 1);
            return r[0];
        }
        set
        {
            if (RequiresGrad || !IsLeaf) throw new InvalidOperationException($"Tensor indexer: cannot write into a tensor that takes part in autograd ({ShapeString}).");
            Backend.Upload([value], 0, Storage, CheckIndex(index), 1);
        }
    }

    private int CheckIndex(int[] index)
    {
        if (index.Length != Rank) throw new ArgumentException($"Tensor indexer: {index.Length} indices for a tensor of rank {Rank} {ShapeString}.");
        for (int d = 0; d < index.Length; d++)
        {
            int n = Layout.Shape[d];
            int i = index[d] < 0 ? index[d] + n : index[d];
            if (i < 0 || i >= n) throw new IndexOutOfRangeException($"Tensor indexer: index {index[d]} is out of range for dimension {d} of size {n} in {ShapeString}.");
            index[d] = i;
        }
        return Layout.IndexOf(index);
    }

    /// <summary>Shows the shape and the values (long dimensions elided), like PyTorch's repr.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("tensor(");
        if (Storage.IsDisposed) return $"tensor(<released>, shape={ShapeString})";
        float[] v = ToArray();
        AppendValues(sb, v, 0, 0);
        sb.Append(", shape=").Append(ShapeString);
        if (DType != DType.Float32) sb.Append(", dtype=").Append(DType);
        if (GradFn is not null) sb.Append(", grad_fn=").Append(GradFn.Op);
        else if (RequiresGrad) sb.Append(", requires_grad=True");
        return sb.Append(')').ToString();
    }

    private void AppendValues(StringBuilder sb, float[] v, int dim, int offset)
    {
        if (Rank == 0) { sb.Append(Fmt(v[0])); return; }
        int n = Layout.Shape[dim];
        int inner = 1;
        for (int d = dim + 1; d < Rank; d++) inner *= Layout.Shape[d];
        sb.Append('[');
        for (int i = 0; i < n; i++)
        {
            if (n > 6 && i == 3) { sb.Append("..., "); i = n - 3; }
            if (dim == Rank - 1) sb.Append(Fmt(v[offset + i]));
            else AppendValues(sb, v, dim + 1, offset + i * inner);
            if (i < n - 1) sb.Append(dim == Rank - 1 ? ", " : ",\n" + new string(' ', dim + 8));
        }
        sb.Append(']');
    }

    private string Fmt(float x) => DType == DType.Int32 ? ((int)x).ToString(CultureInfo.InvariantCulture) : x.ToString("0.0000", CultureInfo.InvariantCulture);
}
