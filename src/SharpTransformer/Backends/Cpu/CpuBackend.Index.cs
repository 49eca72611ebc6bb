namespace SharpTransformer.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Gather(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y)
    {
        var sa = F(src); var ia = I(index); var ya = F(y);
        CheckIndices(ia, count, dim, "Gather");
        ParallelFor(outer * count, inner, (s, e) =>
        {
            for (int t = s; t < e; t++)
            {
                int o = t / count, i = t % count;
                sa.AsSpan((o * dim + ia[i]) * inner, inner).CopyTo(ya.AsSpan(t * inner, inner));
            }
        });
    }

    /// <inheritdoc/>
    public void ScatterAdd(IStorage src, int outer, int dim, int inner, IStorage index, int count, IStorage y)
    {
        var sa = F(src); var ia = I(index); var ya = F(y);
        CheckIndices(ia, count, dim, "ScatterAdd");
        // Parallel over the inner dimension so that repeated indices never race.
        ParallelFor(inner, (long)outer * count, (c0, c1) =>
        {
            int w = c1 - c0;
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < count; i++)
                {
                    var s = sa.AsSpan((o * count + i) * inner + c0, w);
                    var d = ya.AsSpan((o * dim + ia[i]) * inner + c0, w);
                    System.Numerics.Tensors.TensorPrimitives.Add(d, s, d);
                }
        });
    }

    private static void CheckIndices(int[] ia, int count, int dim, string op)
    {
        for (int i = 0; i < count; i++)
            if ((uint)ia[i] >= (uint)dim)
                throw new IndexOutOfRangeException($"{op}: index {ia[i]} at position {i} is out of range for a dimension of size {dim}.");
    }
}
