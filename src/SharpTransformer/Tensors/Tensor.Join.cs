namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    /// <summary>Joins tensors of equal shape except along <paramref name="dim"/>.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("concat: no tensors given.");
        var first = tensors[0];
        int d = first.NormDim(dim, "concat");
        int total = 0;
        foreach (var t in tensors)
        {
            if (t.Rank != first.Rank || t.DType != first.DType)
                throw new ArgumentException($"concat: {t.ShapeString} {t.DType} does not match {first.ShapeString} {first.DType}.");
            for (int i = 0; i < t.Rank; i++)
                if (i != d && t.Size(i) != first.Size(i))
                    throw new ArgumentException($"concat along {d}: shapes {first.ShapeString} and {t.ShapeString} differ in dimension {i}.");
            SameBackend(first, t, "concat");
            total += t.Size(d);
        }
        var shape = first.Shape.ToArray();
        shape[d] = total;
        var y = Empty(first.Backend, first.DType, shape);
        int off = 0;
        var sizes = new int[tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            sizes[i] = t.Size(d);
            var dst = y.NarrowNoGrad(d, off, sizes[i]);
            y.Backend.Copy(t.Storage, t.Layout, dst.Storage, dst.Layout);
            off += sizes[i];
        }
        if (first.DType != DType.Float32) return y;
        var inputs = tensors.ToArray();
        return y.Record("concat", inputs, g =>
        {
            var r = new Tensor?[inputs.Length];
            int o = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].RequiresGrad) r[i] = g.Narrow(d, o, sizes[i]);
                o += sizes[i];
            }
            return r;
        });
    }

    /// <summary>Stacks tensors of equal shape along a new dimension.</summary>
    public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
    {
        if (tensors.Count == 0) throw new ArgumentException("stack: no tensors given.");
        foreach (var t in tensors)
            if (!t.Shape.SequenceEqual(tensors[0].Shape))
                throw new ArgumentException($"stack: shapes {tensors[0].ShapeString} and {t.ShapeString} differ.");
        return Concat(tensors.Select(t => t.Unsqueeze(dim)).ToList(), dim);
    }

    /// <summary>Splits along <paramref name="dim"/> into views of the given sizes, which must add up to the dimension.</summary>
    public Tensor[] Split(int[] sizes, int dim = 0)
    {
        int d = NormDim(dim, "split");
        if (sizes.Sum() != Size(d) || sizes.Any(s => s < 0))
            throw new ArgumentException($"split: sizes {Layout.Format(sizes)} do not add up to dimension {d} of {ShapeString}.");
        var r = new Tensor[sizes.Length];
        int o = 0;
        for (int i = 0; i < sizes.Length; i++) { r[i] = Narrow(d, o, sizes[i]); o += sizes[i]; }
        return r;
    }

    /// <summary>Splits along <paramref name="dim"/> into <paramref name="chunks"/> equal views.</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        int n = Size(dim);
        if (chunks <= 0 || n % chunks != 0) throw new ArgumentException($"chunk: dimension {dim} of {ShapeString} does not split into {chunks} equal parts.");
        return Split(Enumerable.Repeat(n / chunks, chunks).ToArray(), dim);
    }

    private Tensor NarrowNoGrad(int d, int start, int length)
    {
        var sh = (int[])Layout.Shape.Clone();
        sh[d] = length;
        return new Tensor(Storage, new Layout(sh, (int[])Layout.Strides.Clone(), Layout.Offset + start * Layout.Strides[d]));
    }

    /// <summary>Picks entries of <paramref name="dim"/> by an Int32 index tensor (1-D), as torch.index_select.</summary>
    public Tensor IndexSelect(int dim, Tensor index)
    {
        RequireFloat("index_select");
        if (index.DType != DType.Int32 || index.Rank != 1)
            throw new ArgumentException($"index_select: index must be a 1-D Int32 tensor, got {index.DType} {index.ShapeString}.");
        int d = NormDim(dim, "index_select");
        var x = Contiguous();
        var idx = index.Contiguous();
        int outer = 1, inner = 1, n = Size(d), count = idx.Count;
        for (int i = 0; i < d; i++) outer *= Size(i);
        for (int i = d + 1; i < Rank; i++) inner *= Size(i);
        var shape = Shape.ToArray();
        shape[d] = count;
        var xv = x.Layout.Offset == 0 ? x : x.Clone();
        var iv = idx.Layout.Offset == 0 ? idx : new Tensor(Alloc(idx.Backend, DType.Int32, count, false), Layout.Contiguous(count)).CopyFromReturn(idx);
        var y = Empty(Backend, DType.Float32, shape);
        Backend.Gather(xv.Storage, outer, n, inner, iv.Storage, count, y.Storage);
        var inShape = Shape.ToArray();
        return y.Record("index_select", [xv], g =>
        {
            var gc = g.Contiguous();
            var gv = gc.Layout.Offset == 0 ? gc : gc.Clone();
            if (xv.AcceptsDirectGrad)
            {
                // Embedding tables: scatter straight into the parameter's gradient buffer.
                var buf = xv.GradBuffer(out bool overwrite);
                if (overwrite) g.Backend.Fill(buf.Storage, buf.Layout, 0f);
                g.Backend.ScatterAdd(gv.Storage, outer, n, inner, iv.Storage, count, buf.Storage);
                return [null];
            }
            var gx = Zeros(inShape, DType.Float32, g.Backend);
            g.Backend.ScatterAdd(gv.Storage, outer, n, inner, iv.Storage, count, gx.Storage);
            return [gx];
        });
    }

    private Tensor CopyFromReturn(Tensor src)
    {
        Backend.Copy(src.Storage, src.Layout, Storage, Layout);
        return this;
    }
}
