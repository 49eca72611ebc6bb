using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>Conformance of <see cref="IBackend.Gather"/> and <see cref="IBackend.ScatterAdd"/> with <see cref="ScalarReference"/>.</summary>
public abstract class PrimitiveIndexConformance
{
    /// <summary>The backends under test.</summary>
    protected abstract IBackend[] Backends { get; }

    private static int[] Indices(Random rng, int count, int dim)
    {
        var ix = new int[count];
        for (int i = 0; i < count; i++) ix[i] = rng.Next(dim);
        if (count >= 2) ix[count - 1] = ix[0]; // at least one repeat: scatter-add must accumulate, not overwrite
        return ix;
    }

    /// <summary>Gather copies (exact); ScatterAdd sums floats within 1e-6 * (|y0| + sum|src|) of the double reference.</summary>
    private void Check(IBackend be, int outer, int dim, int inner, int count, Random rng)
    {
        var ix = Indices(rng, count, dim);
        var src = Uniform(rng, outer * dim * inner, -2, 2);
        var ss = Up(be, src); var si = Up(be, ix);
        var ys = be.Allocate(DType.Float32, outer * count * inner, zero: false);
        be.Gather(ss, outer, dim, inner, si, count, ys);
        Close(ScalarReference.Gather(src, outer, dim, inner, ix), Down(be, ys, outer * count * inner), 0, 0,
            $"Gather outer={outer} dim={dim} inner={inner} count={count} on {be.Name}");

        var g = Uniform(rng, outer * count * inner, -2, 2);
        var y0 = Uniform(rng, outer * dim * inner, -2, 2);
        var sg = Up(be, g); var sy = Up(be, y0);
        be.ScatterAdd(sg, outer, dim, inner, si, count, sy);
        var abs = ScalarReference.ScatterAdd(g.Select(MathF.Abs).ToArray(), outer, dim, inner, ix, y0.Select(MathF.Abs).ToArray());
        Close(ScalarReference.ScatterAdd(g, outer, dim, inner, ix, y0), Down(be, sy, outer * dim * inner), 0, 0,
            $"ScatterAdd outer={outer} dim={dim} inner={inner} count={count} on {be.Name}", abs.Select(s => 1e-6 * s).ToArray());
        ss.Dispose(); si.Dispose(); ys.Dispose(); sg.Dispose(); sy.Dispose();
    }

    [Fact]
    public void GatherAndScatterAdd_EveryInnerLength1To67()
    {
        var rng = new Random(31);
        foreach (var be in Backends)
            for (int inner = 1; inner <= 67; inner++)
                Check(be, rng.Next(1, 4), rng.Next(1, 6), inner, rng.Next(1, 8), rng);
    }

    [Fact]
    public void GatherAndScatterAdd_RandomShapes_AndLargeSplitAcrossThreads()
    {
        var rng = new Random(32);
        foreach (var be in Backends)
        {
            for (int t = 0; t < 30; t++) Check(be, rng.Next(1, 5), rng.Next(1, 9), rng.Next(1, 9), rng.Next(1, 12), rng);
            Check(be, 1, 50, 768, 300, rng);    // embedding-sized: many rows, repeated ids
            Check(be, 3, 40, 131, 257, rng);
            Check(be, 2000, 7, 1, 40, rng);     // inner 1, large outer
        }
    }

    [Fact]
    public void Gather_OutOfRangeIndex_Throws()
    {
        foreach (var be in Backends)
            foreach (int bad in new[] { 5, -1 })
            {
                var src = be.Allocate(DType.Float32, 10);
                var ix = Up(be, new[] { 0, bad });
                var y = be.Allocate(DType.Float32, 4);
                // A GPU backend records the bad index in the kernel and reports it at the next host read (the Down inside).
                var e = Assert.Throws<IndexOutOfRangeException>(() => { be.Gather(src, 1, 5, 2, ix, 2, y); Down(be, y, 4); });
                Assert.Contains(bad.ToString(), e.Message);
                Assert.Throws<IndexOutOfRangeException>(() => { be.ScatterAdd(y, 1, 5, 2, ix, 2, src); Down(be, src, 10); });
            }
    }
}
