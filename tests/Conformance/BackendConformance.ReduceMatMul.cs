using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using Xunit;

namespace SharpTransformer.Conformance;

public abstract partial class BackendConformance
{
    [Fact]
    public void Conformance_Reduce_EveryOpAndAxisOnStridedInputs()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 4; trial++)
        {
            var shape = RandShape(rng, 1, 4, 5);
            var xl = RandLayout(rng, shape, out int len);
            var xd = Rand(rng, len);
            var x = Put(xd);
            for (int axis = 0; axis < shape.Length; axis++)
                foreach (var op in Enum.GetValues<ReduceOp>())
                {
                    int outputs = xl.Count / shape[axis];
                    var y = New(outputs, op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32);
                    B.Reduce(op, x, xl, axis, y);
                    var expect = Reference.Reduce(op, xd, xl, axis);
                    if (op == ReduceOp.ArgMax) Assert.Equal(expect.Select(v => (int)v).ToArray(), GetI(y));
                    else Close(expect, Get(y), 1e-5f, 1e-5f, $"{op} axis {axis} of {Layout.Format(shape)}");
                }
        }
    }

    [Fact]
    public void Conformance_Reduce_LongAxesTiesAndNaN()
    {
        var rng = new Random(8);
        // Long axes (the GPU backends switch to a group per output), contiguous and strided.
        foreach (var (shape, axis) in new[] { (new[] { 1000 }, 0), (new[] { 3, 700 }, 1), (new[] { 650, 2 }, 0) })
        {
            var xl = Layout.Contiguous(shape);
            var xd = Rand(rng, xl.Count);
            var x = Put(xd);
            foreach (var op in Enum.GetValues<ReduceOp>())
            {
                var y = New(xl.Count / shape[axis], op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32);
                B.Reduce(op, x, xl, axis, y);
                var expect = Reference.Reduce(op, xd, xl, axis);
                if (op == ReduceOp.ArgMax) Assert.Equal(expect.Select(v => (int)v).ToArray(), GetI(y));
                else Close(expect, Get(y), 1e-5f, 2e-5f, $"{op} over {Layout.Format(shape)}");
            }
        }
        // ArgMax keeps the first of equal maxima and prefers NaN; Max propagates NaN.
        var t = Put([1, 5, 5, 2, 1, 3, float.NaN, 3, 0, 2, 2, 2]);
        var am = New(3, DType.Int32);
        B.Reduce(ReduceOp.ArgMax, t, Layout.Contiguous(3, 4), 1, am);
        Assert.Equal(new[] { 1, 2, 1 }, GetI(am));
        var mx = New(3);
        B.Reduce(ReduceOp.Max, t, Layout.Contiguous(3, 4), 1, mx);
        var m = Get(mx);
        Assert.Equal(5f, m[0]);
        Assert.True(float.IsNaN(m[1]));
        Assert.Equal(2f, m[2]);
        var big = Enumerable.Range(0, 900).Select(i => i == 777 || i == 801 ? 9f : 1f).ToArray();
        var am1 = New(1, DType.Int32);
        B.Reduce(ReduceOp.ArgMax, Put(big), Layout.Contiguous(900), 0, am1);
        Assert.Equal(777, GetI(am1)[0]);
    }

    [Fact]
    public void Conformance_SumSquares_AccumulatesIntoTheFirstElement()
    {
        var rng = new Random(9);
        foreach (int n in new[] { 1, 37, 5000 })
        {
            var xd = Rand(rng, n + 3);
            var acc = Put([1.5f, 7f]);
            B.SumSquares(Put(xd), n, acc);
            double expect = 1.5 + xd.Take(n).Sum(v => (double)v * v);
            var got = Get(acc);
            Assert.True(Math.Abs(got[0] - expect) <= 1e-5 * expect, $"n={n}: expected {expect}, got {got[0]}");
            Assert.Equal(7f, got[1]);
        }
    }

    [Fact]
    public void Conformance_MatMul_BatchedTransposedBroadcastAndAccumulate()
    {
        var rng = new Random(10);
        var cases = new List<(int[] Batch, int M, int K, int N)>
        {
            ([], 1, 1, 1), ([], 1, 7, 5), ([], 9, 1, 3), ([], 6, 5, 1), ([], 17, 13, 19), ([], 33, 40, 35),
            ([2], 5, 6, 7), ([2, 3], 4, 9, 5), ([3], 1, 16, 16),
        };
        foreach (var (batch, m, k, n) in cases)
            for (int variant = 0; variant < 4; variant++)
            {
                bool transA = (variant & 1) != 0, transB = (variant & 2) != 0;
                var (al, alen) = MatrixLayout(rng, batch, m, k, transA);
                var (bl, blen) = MatrixLayout(rng, batch, k, n, transB);
                if (batch.Length > 0 && variant == 3)
                {
                    // b broadcast over the first batch dimension (stride 0), as Linear with a 3-D input does.
                    var s = (int[])bl.Strides.Clone();
                    s[0] = 0;
                    bl = new Layout(bl.Shape, s, bl.Offset);
                }
                var ad = Rand(rng, alen);
                var bd = Rand(rng, blen);
                int count = batch.Aggregate(1, (x, y) => x * y) * m * n;
                var expect = Reference.MatMul(ad, al, bd, bl);
                var y = New(count);
                var a = Put(ad);
                var b = Put(bd);
                B.MatMul(a, al, b, bl, y);
                Close(expect, Get(y), 1e-5f, 2e-5f, $"matmul batch {Layout.Format(batch)} {m}x{k}x{n} transA={transA} transB={transB}");
                var prior = Rand(rng, count);
                var y2 = Put(prior);
                B.MatMul(a, al, b, bl, y2, accumulate: true);
                Close(expect.Select((v, i) => v + prior[i]).ToArray(), Get(y2), 1e-5f, 2e-5f, "matmul accumulate");
            }
    }

    // (batch..., rows, cols) either row-major or stored transposed, at a random offset.
    private static (Layout Layout, int Length) MatrixLayout(Random rng, int[] batch, int rows, int cols, bool transposed)
    {
        var shape = batch.Concat(new[] { rows, cols }).ToArray();
        int off = rng.Next(3);
        int matrix = rows * cols;
        var strides = new int[shape.Length];
        int acc = matrix;
        for (int d = batch.Length - 1; d >= 0; d--) { strides[d] = acc; acc *= batch[d]; }
        if (transposed) { strides[^2] = 1; strides[^1] = rows; }
        else { strides[^2] = cols; strides[^1] = 1; }
        return (new Layout(shape, strides, off), off + acc);
    }

    [Fact]
    public void Conformance_GatherAndScatterAdd_WithRepeatedIndices()
    {
        var rng = new Random(11);
        int outer = 2, dim = 5, inner = 3, count = 7;
        var src = Rand(rng, outer * dim * inner);
        var idx = new[] { 4, 0, 4, 2, 2, 4, 1 };
        var y = New(outer * count * inner);
        B.Gather(Put(src), outer, dim, inner, PutI(idx), count, y);
        var g = Get(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < count; i++)
                for (int r = 0; r < inner; r++)
                    Assert.Equal(src[(o * dim + idx[i]) * inner + r], g[(o * count + i) * inner + r]);

        var grad = Rand(rng, outer * count * inner);
        var prior = Rand(rng, outer * dim * inner);
        var acc = Put(prior);
        B.ScatterAdd(Put(grad), outer, dim, inner, PutI(idx), count, acc);
        var expect = (float[])prior.Clone();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < count; i++)
                for (int r = 0; r < inner; r++)
                    expect[(o * dim + idx[i]) * inner + r] += grad[(o * count + i) * inner + r];
        Close(expect, Get(acc), 1e-6f, 1e-6f, "scatter_add");
    }

    [Fact]
    public void Conformance_Gather_OutOfRangeIndexThrowsAndTheBackendKeepsWorking()
    {
        var src = Put([1, 2, 3, 4]);
        var y = New(2);
        var ex = Assert.ThrowsAny<Exception>(() =>
        {
            B.Gather(src, 1, 4, 1, PutI([1, 9]), 2, y);
            Get(y);                                   // GPU backends report the bad index at the next host read
        });
        Assert.IsType<IndexOutOfRangeException>(ex);
        Assert.Contains("9", ex.Message);
        var y2 = New(2);
        B.Gather(src, 1, 4, 1, PutI([3, 0]), 2, y2);
        Assert.Equal(new float[] { 4, 1 }, Get(y2));
    }
}
