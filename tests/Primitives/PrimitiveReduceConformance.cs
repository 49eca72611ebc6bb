using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>Conformance of <see cref="IBackend.Reduce"/> (Sum, Max, Min, ArgMax along one axis) with <see cref="ScalarReference"/>.</summary>
public abstract class PrimitiveReduceConformance
{
    /// <summary>The backends under test.</summary>
    protected abstract IBackend[] Backends { get; }

    /// <summary>
    /// Tolerance: Sum within 1e-5 * sum|x| + 1e-7 of the double sum (float accumulation of up to ~300 terms in any order);
    /// Max and Min exact; ArgMax exact, first index among ties.
    /// </summary>
    private void Check(IBackend be, ReduceOp op, int[] shape, int axis, LayoutKind kind, Random rng, bool ties = false)
    {
        var xl = MakeLayout(rng, shape, kind, out int len);
        var x = ties ? Grid(rng, len) : Uniform(rng, len, -2f, 2f);
        var xs = Up(be, x);
        var outShape = (int[])shape.Clone();
        outShape[axis] = 1;
        int n = ScalarReference.Numel(outShape);
        var ys = be.Allocate(op == ReduceOp.ArgMax ? DType.Int32 : DType.Float32, n, zero: false);
        be.Reduce(op, xs, xl, axis, ys);
        var expected = ScalarReference.Reduce(op, x, xl, axis);
        string what = $"Reduce {op} axis {axis} of {Describe(xl, kind)} on {be.Name}";
        if (op == ReduceOp.ArgMax)
            Same(expected.Select(v => (int)v).ToArray(), DownInt(be, ys, n), what);
        else
        {
            double[]? scale = null;
            if (op == ReduceOp.Sum)
            {
                var abs = x.Select(MathF.Abs).ToArray();
                scale = ScalarReference.Reduce(ReduceOp.Sum, abs, xl, axis).Select(s => 1e-5 * s + 1e-7).ToArray();
            }
            Close(expected, Down(be, ys, n), 0, 0, what, scale);
        }
        xs.Dispose(); ys.Dispose();
    }

    [Fact]
    public void Reduce_EveryLength1To67_InnerAndOuterAxes()
    {
        var rng = new Random(11);
        foreach (var be in Backends)
            foreach (var op in Enum.GetValues<ReduceOp>())
                for (int n = 1; n <= 67; n++)
                {
                    Check(be, op, [n], 0, LayoutKind.Contiguous, rng);           // one row
                    Check(be, op, [3, n], 1, LayoutKind.Offset, rng);            // rows, reduced axis innermost
                    Check(be, op, [n, 5], 0, LayoutKind.Contiguous, rng);        // reduced axis outermost, inner 5
                    Check(be, op, [2, 4, n], 0, LayoutKind.Contiguous, rng);      // inner run of length n
                    Check(be, op, [2, n, 3], 1, LayoutKind.Transposed, rng);     // non-contiguous input
                    Check(be, op, [n, 2], 1, LayoutKind.Strided, rng, ties: true);
                }
    }

    [Fact]
    public void Reduce_RandomShapesAndAxes_EveryLayoutKind()
    {
        var rng = new Random(12);
        foreach (var be in Backends)
            foreach (var op in Enum.GetValues<ReduceOp>())
                foreach (var kind in AllKinds)
                    for (int t = 0; t < 6; t++)
                    {
                        var shape = RandomShape(rng, 1, 4, 6);
                        Check(be, op, shape, rng.Next(shape.Length), kind, rng, ties: t % 2 == 0);
                    }
    }

    [Fact]
    public void Reduce_Large_SplitAcrossThreads()
    {
        var rng = new Random(13);
        foreach (var be in Backends)
            foreach (var op in Enum.GetValues<ReduceOp>())
            {
                Check(be, op, [301, 257], 1, LayoutKind.Contiguous, rng);
                Check(be, op, [257, 301], 0, LayoutKind.Offset, rng);
                Check(be, op, [7, 97, 101], 1, LayoutKind.Transposed, rng);
            }
    }

    [Fact]
    public void Reduce_EmptyAxis_SumIsZero_OthersThrow()
    {
        foreach (var be in Backends)
        {
            var xs = be.Allocate(DType.Float32, 1);
            var ys = be.Allocate(DType.Float32, 3);
            be.Upload([1f, 1f, 1f], 0, ys, 0, 3);
            be.Reduce(ReduceOp.Sum, xs, Layout.Contiguous(3, 0), 1, ys);
            Close([0, 0, 0], Down(be, ys, 3), 0, 0, "sum over an empty axis");
            var e = Assert.Throws<ArgumentException>(() => be.Reduce(ReduceOp.Max, xs, Layout.Contiguous(3, 0), 1, ys));
            Assert.Contains("(3, 0)", e.Message);
            Assert.Throws<ArgumentOutOfRangeException>(() => be.Reduce(ReduceOp.Sum, xs, Layout.Contiguous(3, 0), 2, ys));
        }
    }
}
