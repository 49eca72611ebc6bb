namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    private Tensor View(Layout layout) => new(Storage, layout);

    /// <summary>
    /// The same elements in a new shape (one dimension may be -1). A view when the memory allows, else a copy.
    /// </summary>
    public Tensor Reshape(params int[] shape)
    {
        var sh = InferShape(shape, "Reshape");
        var src = IsContiguous ? this : Contiguous();
        var y = src.View(new Layout(sh, Layout.ContiguousStrides(sh), src.Layout.Offset));
        var inShape = Shape.ToArray();
        return y.Record("reshape", [src], g => [g.Reshape(inShape)]);
    }

    /// <summary>Alias of <see cref="Reshape"/> that requires contiguous memory, as PyTorch's <c>view</c>.</summary>
    public Tensor View(params int[] shape)
    {
        if (!IsContiguous) throw new InvalidOperationException($"View: tensor {ShapeString} is not contiguous; use Reshape or Contiguous() first.");
        return Reshape(shape);
    }

    /// <summary>Collapses dimensions <paramref name="start"/>..<paramref name="end"/> into one.</summary>
    public Tensor Flatten(int start = 0, int end = -1)
    {
        int s = NormDim(start, "Flatten"), e = NormDim(end, "Flatten");
        var sh = new List<int>();
        for (int d = 0; d < s; d++) sh.Add(Size(d));
        int m = 1;
        for (int d = s; d <= e; d++) m *= Size(d);
        sh.Add(m);
        for (int d = e + 1; d < Rank; d++) sh.Add(Size(d));
        return Reshape([.. sh]);
    }

    private int[] InferShape(int[] shape, string op)
    {
        var sh = (int[])shape.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < sh.Length; i++)
        {
            if (sh[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be -1 in {Layout.Format(shape)}.");
                infer = i;
            }
            else if (sh[i] < 0) throw new ArgumentException($"{op}: invalid dimension {sh[i]} in {Layout.Format(shape)}.");
            else known *= sh[i];
        }
        if (infer >= 0)
        {
            if (known == 0 || Count % known != 0)
                throw new ArgumentException($"{op}: cannot reshape {ShapeString} ({Count} elements) into {Layout.Format(shape)}.");
            sh[infer] = Count / known;
        }
        if (Layout.Numel(sh) != Count)
            throw new ArgumentException($"{op}: cannot reshape {ShapeString} ({Count} elements) into {Layout.Format(shape)}.");
        return sh;
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int a = NormDim(dim0, "Transpose"), b = NormDim(dim1, "Transpose");
        var perm = new int[Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(perm);
    }

    /// <summary>Swaps the last two dimensions (matrix transpose, a view).</summary>
    public Tensor T => Transpose(-2, -1);

    /// <summary>Reorders dimensions (a view): output dimension i is input dimension dims[i].</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank) throw new ArgumentException($"Permute: {dims.Length} dimensions given for a tensor of rank {Rank} {ShapeString}.");
        var seen = new bool[Rank];
        var sh = new int[Rank];
        var st = new int[Rank];
        var inv = new int[Rank];
        for (int i = 0; i < dims.Length; i++)
        {
            int d = NormDim(dims[i], "Permute");
            if (seen[d]) throw new ArgumentException($"Permute: dimension {d} repeated in {Layout.Format(dims)}.");
            seen[d] = true;
            sh[i] = Layout.Shape[d];
            st[i] = Layout.Strides[d];
            inv[d] = i;
        }
        var y = View(new Layout(sh, st, Layout.Offset));
        return y.Record("permute", [this], g => [g.Permute(inv)]);
    }

    /// <summary>Elements start..start+length-1 along <paramref name="dim"/> (a view).</summary>
    public Tensor Narrow(int dim, int start, int length)
    {
        int d = NormDim(dim, "Narrow");
        int n = Layout.Shape[d];
        if (start < 0) start += n;
        if (start < 0 || length < 0 || start + length > n)
            throw new ArgumentOutOfRangeException(nameof(start), $"Narrow: range [{start}, {start + length}) is outside dimension {d} of size {n} in {ShapeString}.");
        var sh = (int[])Layout.Shape.Clone();
        sh[d] = length;
        var y = View(new Layout(sh, (int[])Layout.Strides.Clone(), Layout.Offset + start * Layout.Strides[d]));
        var inShape = Shape.ToArray();
        return y.Record("narrow", [this], g =>
        {
            var full = Zeros(inShape, DType.Float32, g.Backend);
            var dst = full.Narrow(d, start, length);
            g.Backend.Copy(g.Storage, g.Layout, dst.Storage, dst.Layout);
            return [full];
        });
    }

    /// <summary>Python-style slice along one dimension: start inclusive, end exclusive (negative counts from the end).</summary>
    public Tensor Slice(int dim, int start, int end)
    {
        int n = Size(dim);
        if (start < 0) start += n;
        if (end < 0) end += n;
        start = Math.Clamp(start, 0, n);
        end = Math.Clamp(end, start, n);
        return Narrow(dim, start, end - start);
    }

    /// <summary>Element <paramref name="index"/> along <paramref name="dim"/>, with that dimension removed (a view).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = NormDim(dim, "Select");
        if (index < 0) index += Size(d);
        return Narrow(d, index, 1).Squeeze(d);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (a view).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = dim < 0 ? dim + Rank + 1 : dim;
        if (d < 0 || d > Rank) throw new ArgumentOutOfRangeException(nameof(dim), dim, $"Unsqueeze: dimension {dim} is out of range for {ShapeString}.");
        var sh = new List<int>(Layout.Shape);
        var st = new List<int>(Layout.Strides);
        sh.Insert(d, 1);
        st.Insert(d, d < Rank ? Layout.Strides[d] * Layout.Shape[d] : 1);
        var y = View(new Layout([.. sh], [.. st], Layout.Offset));
        return y.Record("unsqueeze", [this], g => [g.Squeeze(d)]);
    }

    /// <summary>Removes dimension <paramref name="dim"/>, which must have size 1 (a view).</summary>
    public Tensor Squeeze(int dim)
    {
        int d = NormDim(dim, "Squeeze");
        if (Layout.Shape[d] != 1) throw new ArgumentException($"Squeeze: dimension {d} of {ShapeString} has size {Layout.Shape[d]}, not 1.");
        var sh = new List<int>(Layout.Shape);
        var st = new List<int>(Layout.Strides);
        sh.RemoveAt(d);
        st.RemoveAt(d);
        var y = View(new Layout([.. sh], [.. st], Layout.Offset));
        return y.Record("squeeze", [this], g => [g.Unsqueeze(d)]);
    }

    /// <summary>Removes every dimension of size 1 (a view).</summary>
    public Tensor Squeeze()
    {
        var t = this;
        for (int d = Rank - 1; d >= 0; d--) if (Size(d) == 1) t = t.Squeeze(d);
        return t;
    }

    /// <summary>
    /// Broadcasts to <paramref name="shape"/> without copying (stride 0 on expanded dimensions); -1 keeps a size.
    /// New leading dimensions may be added. Only size-1 dimensions expand.
    /// </summary>
    public Tensor Expand(params int[] shape)
    {
        int lead = shape.Length - Rank;
        if (lead < 0) throw new ArgumentException($"Expand: target {Layout.Format(shape)} has fewer dimensions than {ShapeString}.");
        var sh = new int[shape.Length];
        var st = new int[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (i < lead)
            {
                if (shape[i] < 0) throw new ArgumentException($"Expand: -1 is not allowed for the new leading dimension {i} in {Layout.Format(shape)}.");
                sh[i] = shape[i]; st[i] = 0;
                continue;
            }
            int src = Layout.Shape[i - lead];
            int want = shape[i] == -1 ? src : shape[i];
            if (src == want) { sh[i] = src; st[i] = Layout.Strides[i - lead]; }
            else if (src == 1) { sh[i] = want; st[i] = 0; }
            else throw new ArgumentException($"Expand: cannot expand {ShapeString} to {Layout.Format(shape)}: dimension {i - lead} has size {src}.");
        }
        if (sh.AsSpan().SequenceEqual(Shape)) return this;
        var y = View(new Layout(sh, st, Layout.Offset));
        var inShape = Shape.ToArray();
        return y.Record("expand", [this], g => [SumToShape(g, inShape)]);
    }

    /// <summary>Broadcasts to another tensor's shape.</summary>
    public Tensor ExpandAs(Tensor other) => Expand(other.Shape.ToArray());

    /// <summary>This tensor when already dense and row-major, else a contiguous copy (recorded for autograd).</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous) return this;
        var y = ContiguousNoGrad();
        return y.Record("contiguous", [this], g => [g]);
    }

    private Tensor ContiguousNoGrad()
    {
        var y = Empty(Backend, DType, Shape);
        Backend.Copy(Storage, Layout, y.Storage, y.Layout);
        return y;
    }

    /// <summary>A contiguous copy with its own memory (recorded for autograd).</summary>
    public Tensor Clone()
    {
        var y = ContiguousNoGrad();
        return y.Record("clone", [this], g => [g]);
    }

    /// <summary>The broadcast shape of two shapes, NumPy rules; throws naming the op on mismatch.</summary>
    public static int[] BroadcastShape(ReadOnlySpan<int> a, ReadOnlySpan<int> b, string op)
    {
        int r = Math.Max(a.Length, b.Length);
        var s = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
                throw new ArgumentException($"{op}: shapes {Layout.Format(a)} and {Layout.Format(b)} cannot be broadcast (dimension {i}: {da} vs {db}).");
            s[i] = da == 1 ? db : da;
        }
        return s;
    }

    /// <summary>This tensor's layout broadcast (stride 0) to <paramref name="shape"/>, without autograd.</summary>
    internal Layout BroadcastLayout(int[] shape)
    {
        int lead = shape.Length - Rank;
        var st = new int[shape.Length];
        for (int i = lead; i < shape.Length; i++)
            st[i] = Layout.Shape[i - lead] == shape[i] ? Layout.Strides[i - lead] : 0;
        return new Layout(shape, st, Layout.Offset);
    }

    /// <summary>This tensor when contiguous from offset 0 (what fused kernels read), else a recorded contiguous copy.</summary>
    internal Tensor Dense()
    {
        if (IsContiguous && Layout.Offset == 0) return this;
        var y = ContiguousNoGrad();
        return y.Record("contiguous", [this], g => [g]);
    }
}
