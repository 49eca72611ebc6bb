using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Tensors;

/// <summary>Views, contiguity, creation, random generation, element access and printing.</summary>
public sealed class TensorBasicsTests
{
    private static Tensor Grid(int rows, int cols) => Tensor.FromArray(Enumerable.Range(0, rows * cols).Select(i => (float)i).ToArray(), rows, cols);

    // ---------------------------------------------------------------- views share memory

    [Fact]
    public void Reshape_IsAView()
    {
        var x = Grid(3, 4);
        var r = x.Reshape(4, 3);
        Assert.Same(x.Storage, r.Storage);
        x[1, 2] = 100f;                       // linear index 6 = (2, 0) of the 4 x 3 view
        Assert.Equal(100f, r[2, 0]);
        r[0, 1] = -5f;
        Assert.Equal(-5f, x[0, 1]);
        Assert.Same(x.Storage, x.View(12).Storage);
        Assert.Same(x.Storage, x.Flatten().Storage);
        Assert.Same(x.Storage, x.Reshape(2, -1).Storage);
        Assert.Equal([2, 6], x.Reshape(2, -1).Shape.ToArray());
    }

    [Fact]
    public void TransposeAndPermute_AreViews()
    {
        var x = Grid(3, 4);
        var t = x.T;
        Assert.Same(x.Storage, t.Storage);
        Assert.False(t.IsContiguous);
        Assert.Equal([4, 3], t.Shape.ToArray());
        Assert.Equal(x[1, 2], t[2, 1]);
        t[3, 0] = 7f;
        Assert.Equal(7f, x[0, 3]);
        var c = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (float)i).ToArray(), 2, 3, 4);
        var p = c.Permute(2, 0, 1);
        Assert.Same(c.Storage, p.Storage);
        Assert.Equal([4, 2, 3], p.Shape.ToArray());
        Assert.Equal(c[1, 2, 3], p[3, 1, 2]);
        Assert.Equal(c[1, 0, 2], c.Transpose(0, 2)[2, 0, 1]);
        Assert.Equal(c[1, 0, 2], c.Transpose(-1, 0)[2, 0, 1]);
    }

    [Fact]
    public void NarrowSelectSliceSplitChunk_AreViews()
    {
        var x = Grid(3, 4);
        var n = x.Narrow(1, 1, 2);
        Assert.Same(x.Storage, n.Storage);
        Assert.Equal(1, n.Layout.Offset);
        n[2, 0] = 9f;
        Assert.Equal(9f, x[2, 1]);
        var s = x.Select(0, -1);                 // last row
        Assert.Equal([4], s.Shape.ToArray());
        s[0] = -1f;
        Assert.Equal(-1f, x[2, 0]);
        Assert.Equal(x.Narrow(0, 1, 2).ToArray(), x.Slice(0, 1, 3).ToArray());
        Assert.Equal(x.Narrow(1, 2, 2).ToArray(), x.Slice(1, -2, 100).ToArray());
        var parts = x.Split([1, 3], 1);
        Assert.All(parts, p => Assert.Same(x.Storage, p.Storage));
        parts[1][0, 0] = 42f;
        Assert.Equal(42f, x[0, 1]);
        var chunks = x.Chunk(3, 0);
        Assert.Equal(3, chunks.Length);
        Assert.Equal(x.Select(0, 1).ToArray(), chunks[1].Squeeze(0).ToArray());
    }

    [Fact]
    public void ExpandUnsqueezeSqueeze_AreViews()
    {
        var col = Tensor.FromArray([1f, 2f, 3f], 3, 1);
        var e = col.Expand(2, 3, 4);
        Assert.Same(col.Storage, e.Storage);
        Assert.Equal([0, 1, 0], e.Layout.Strides);
        col[1, 0] = 50f;
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 4; j++) Assert.Equal(50f, e[b, 1, j]);
        Assert.Same(col, col.Expand(-1, 1));     // nothing to expand: the same tensor
        var u = col.Unsqueeze(0);
        Assert.Equal([1, 3, 1], u.Shape.ToArray());
        Assert.Same(col.Storage, u.Storage);
        Assert.Equal([3], u.Squeeze().Shape.ToArray());
        Assert.Equal([1, 3], u.Squeeze(-1).Shape.ToArray());
        Assert.Equal([3, 1, 1], col.Unsqueeze(-1).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => col.Squeeze(0));
    }

    [Fact]
    public void ReshapeOfANonContiguousView_Copies()
    {
        var x = Grid(3, 4);
        var r = x.T.Reshape(12);
        Assert.NotSame(x.Storage, r.Storage);
        Assert.Equal([0f, 4f, 8f, 1f, 5f, 9f, 2f, 6f, 10f, 3f, 7f, 11f], r.ToArray());
        Assert.Throws<InvalidOperationException>(() => x.T.View(12));
    }

    [Fact]
    public void Contiguous_CopiesOnlyWhenNeeded()
    {
        var x = Grid(3, 4);
        Assert.Same(x, x.Contiguous());
        var t = x.T;
        var c = t.Contiguous();
        Assert.NotSame(x.Storage, c.Storage);
        Assert.True(c.IsContiguous);
        Assert.Equal(t.ToArray(), c.ToArray());
        Assert.Equal([0f, 4f, 8f, 1f, 5f, 9f, 2f, 6f, 10f, 3f, 7f, 11f], c.ToArray());
        var clone = x.Clone();
        Assert.NotSame(x.Storage, clone.Storage);
        clone[0, 0] = 123f;
        Assert.Equal(0f, x[0, 0]);
        var expanded = Tensor.FromArray([1f, 2f]).Expand(3, 2);
        Assert.Equal([1f, 2f, 1f, 2f, 1f, 2f], expanded.Contiguous().ToArray());
    }

    [Fact]
    public void JoinsOfInt32Tensors_CarryNoGradient()
    {
        var a = Tensor.FromArray([1, 2, 3, 4], 2, 2);
        var b = Tensor.FromArray([5, 6], 1, 2);
        var c = Tensor.Concat([a, b], 0);
        Assert.Equal(DType.Int32, c.DType);
        Assert.Equal([1, 2, 3, 4, 5, 6], c.ToIntArray());
        Assert.Equal([1, 3, 2, 4], a.T.Contiguous().ToIntArray());
        Assert.Equal([1, 2, 5, 6, 3, 4, 5, 6], Tensor.Stack([a.Select(0, 0), b.Select(0, 0), a.Select(0, 1), b.Select(0, 0)], 0).ToIntArray());
        Assert.False(c.RequiresGrad);
    }

    // ---------------------------------------------------------------- creation

    [Fact]
    public void Creation_ZerosOnesFullArangeScalarFromArray()
    {
        var z = Tensor.Zeros(2, 3);
        Assert.Equal([2, 3], z.Shape.ToArray());
        Assert.All(z.ToArray(), v => Assert.Equal(0f, v));
        Assert.All(Tensor.Ones(4).ToArray(), v => Assert.Equal(1f, v));
        var f = Tensor.Full([2, 2], 2.5f);
        Assert.All(f.ToArray(), v => Assert.Equal(2.5f, v));
        var fi = Tensor.Full([3], 7.9f, DType.Int32);
        Assert.Equal(DType.Int32, fi.DType);
        Assert.Equal([7, 7, 7], fi.ToIntArray());
        Assert.Equal([0f, 1f, 2f, 3f, 4f], Tensor.Arange(5).ToArray());
        Assert.Equal([0, 1, 2], Tensor.Arange(3, DType.Int32).ToIntArray());
        Assert.Empty(Tensor.Arange(0).ToArray());
        var s = Tensor.Scalar(3f);
        Assert.Equal(0, s.Rank);
        Assert.Equal(3f, s.Item());
        var a = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        Assert.Equal(6f, a[2, 1]);
        Assert.Equal([3], Tensor.FromArray([1, 2, 3]).Shape.ToArray());
        Assert.Equal(Tensor.Zeros(2, 3).ToArray(), Tensor.Ones(2, 3).ZerosLike().ToArray());
        Assert.All(a.FullLike(-1f).ToArray(), v => Assert.Equal(-1f, v));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tensor.Arange(-1));
    }

    [Fact]
    public void Random_SameSeedSameValues_DifferentSeedsDiffer()
    {
        var a = Tensor.RandN([1000], new Generator(42));
        var b = Tensor.RandN([1000], new Generator(42));
        var c = Tensor.RandN([1000], new Generator(43));
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
        var g = new Generator(7);
        var first = Tensor.Rand([100], g).ToArray();
        var second = Tensor.Rand([100], g).ToArray();
        Assert.NotEqual(first, second);                         // the generator advanced
        Assert.Equal(200UL, g.Offset);
        g.State = (7UL, 100UL);
        Assert.Equal(second, Tensor.Rand([100], g).ToArray());  // restoring the state replays the stream
        // The same draw on a 2-thread backend and a 1-thread backend.
        var one = Tensor.RandN([50_000], new Generator(5), backend: new CpuBackend(1)).ToArray();
        var two = Tensor.RandN([50_000], new Generator(5), backend: new CpuBackend(2)).ToArray();
        Assert.Equal(one, two);
    }

    [Fact]
    public void Random_Moments()
    {
        // 100 000 normal samples: the standard error of the mean is std/316, of the std about std/447; tolerances ~5 of them.
        var x = Tensor.RandN([100_000], new Generator(2024), mean: 3f, std: 0.5f).ToArray();
        double m = x.Average(v => (double)v), sd = Math.Sqrt(x.Average(v => (v - m) * (v - m)));
        Assert.InRange(m, 3 - 0.008, 3 + 0.008);
        Assert.InRange(sd, 0.5 - 0.006, 0.5 + 0.006);
        var n = Tensor.RandN([100_000], new Generator(1)).ToArray();
        double m0 = n.Average(v => (double)v), sd0 = Math.Sqrt(n.Average(v => (v - m0) * (v - m0)));
        Assert.InRange(m0, -0.016, 0.016);
        Assert.InRange(sd0, 1 - 0.012, 1 + 0.012);
        double frac2 = n.Count(v => Math.Abs(v) < 2) / (double)n.Length;   // P(|z| < 2) = 0.9545
        Assert.InRange(frac2, 0.9545 - 0.004, 0.9545 + 0.004);
        var u = Tensor.Rand([100_000], new Generator(3), low: -2f, high: 6f).ToArray();
        Assert.All(u, v => Assert.True(v >= -2f && v < 6f));
        Assert.InRange(u.Average(v => (double)v), 2 - 0.04, 2 + 0.04); // std of U(-2, 6) is 2.31; 5 standard errors
    }

    // ---------------------------------------------------------------- element access

    [Fact]
    public void ElementAccess()
    {
        var x = Grid(2, 3);
        Assert.Equal(5f, x[1, 2]);
        Assert.Equal(5f, x[-1, -1]);
        x[0, -1] = 9f;
        Assert.Equal(9f, x[0, 2]);
        Assert.Throws<IndexOutOfRangeException>(() => x[2, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => x[0, -4]);
        Assert.Throws<ArgumentException>(() => x[0]);
        Assert.Equal(9f, x.Narrow(1, 1, 2)[0, 1]);   // x[0, 2], written above
        Assert.Equal(4f, x.Narrow(1, 1, 2)[1, 0]);
        Assert.Equal(4f, Tensor.FromArray([1f, 2f, 3f, 4f]).Narrow(0, 3, 1).Item());
        Assert.Throws<InvalidOperationException>(() => x.Item());
        var ids = Tensor.FromArray([4, 5, 6]);
        Assert.Equal(6f, ids[2]);
        ids[0] = 8f;
        Assert.Equal([8, 5, 6], ids.ToIntArray());
        x.RequiresGrad = true;
        Assert.Throws<InvalidOperationException>(() => x[0, 0] = 1f);
        Assert.Throws<InvalidOperationException>(() => x.Mul(2f)[0, 0] = 1f);
        Assert.Equal(3, x.Size(-1));
        Assert.Equal("(2, 3)", x.ShapeString);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Size(2));
    }

    // ---------------------------------------------------------------- printing

    [Fact]
    public void ToString_ShowsShapeAndValues()
    {
        var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        var s = x.ToString();
        Assert.StartsWith("tensor([[1.0000, 2.0000, 3.0000]", s);
        Assert.Contains("[4.0000, 5.0000, 6.0000]]", s);
        Assert.EndsWith("shape=(2, 3))", s);
        var longer = Tensor.Arange(100).ToString();
        Assert.Contains("0.0000, 1.0000, 2.0000, ..., 97.0000, 98.0000, 99.0000", longer);
        Assert.DoesNotContain("50.0000", longer);
        Assert.Contains("shape=(100,)", longer);
        Assert.Contains("dtype=Int32", Tensor.FromArray([1, 2]).ToString());
        Assert.Contains("[1, 2]", Tensor.FromArray([1, 2]).ToString());
        Assert.Equal("tensor(3.5000, shape=())", Tensor.Scalar(3.5f).ToString());
        var p = Tensor.FromArray([1f]);
        p.RequiresGrad = true;
        Assert.Contains("requires_grad=True", p.ToString());
        Assert.Contains("grad_fn=mul_scalar", p.Mul(2f).ToString());
        Assert.Contains("[[0.0000, 3.0000]", Grid(2, 3).T.ToString()); // a view prints in its own row-major order
    }

    [Fact]
    public void To_CopiesToAnotherBackend()
    {
        var be = new CpuBackend(1);
        var x = Grid(2, 3);
        x.RequiresGrad = true;
        var y = x.T.To(be);
        Assert.Same(be, y.Backend);
        Assert.NotSame(x.Storage, y.Storage);
        Assert.Equal(x.T.ToArray(), y.ToArray());
        Assert.False(y.RequiresGrad);                   // a non-leaf view does not carry RequiresGrad over
        Assert.True(x.To(be).RequiresGrad);
        Assert.Same(x, x.To(x.Backend));
    }
}
