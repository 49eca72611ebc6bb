using SharpTransformer.Backends;
using SharpTransformer.Tensors;
using SharpTransformer.Tests.Reference;
using static SharpTransformer.Tests.Backends.KernelHarness;

namespace SharpTransformer.Tests.Backends;

/// <summary>Conformance of the batched <see cref="IBackend.MatMul"/> with <see cref="ScalarReference.MatMul"/>.</summary>
public abstract class PrimitiveMatMulConformance
{
    /// <summary>The backends under test.</summary>
    protected abstract IBackend[] Backends { get; }

    /// <summary>How an operand's last two dimensions are laid out.</summary>
    public enum Major
    {
        /// <summary>Row-major (stride 1 along columns).</summary>
        Row,
        /// <summary>Column-major: a transposed view.</summary>
        Column,
        /// <summary>Neither (stride 2 along columns, padded rows): the kernel must cope, e.g. by copying.</summary>
        Neither,
    }

    /// <summary>
    /// A (batch..., rows, cols) layout: the matrix in the given major order with random row padding, the batch dimensions
    /// dense, padded or broadcast (stride 0, as the Tensor layer passes broadcast batches), at a random offset.
    /// </summary>
    public static Layout MatrixLayout(Random rng, int[] batch, bool[] broadcast, int rows, int cols, Major major, out int storage)
    {
        int r = batch.Length + 2;
        var shape = batch.Append(rows).Append(cols).ToArray();
        var st = new int[r];
        int pad = rng.Next(0, 3);
        int matrix;
        switch (major)
        {
            case Major.Row: st[r - 1] = 1; st[r - 2] = cols + pad; matrix = rows * (cols + pad); break;
            case Major.Column: st[r - 2] = 1; st[r - 1] = rows + pad; matrix = cols * (rows + pad); break;
            default: st[r - 1] = 2; st[r - 2] = 2 * cols + 1 + pad; matrix = rows * (2 * cols + 1 + pad); break;
        }
        int acc = Math.Max(1, matrix + rng.Next(0, 3));
        for (int d = batch.Length - 1; d >= 0; d--)
        {
            if (broadcast[d]) { st[d] = 0; continue; }
            st[d] = acc;
            acc *= batch[d];
        }
        int offset = rng.Next(0, 4);
        int last = offset;
        for (int d = 0; d < r; d++) last += (shape[d] - 1) * st[d];
        storage = last + 1;
        return new Layout(shape, st, offset);
    }

    /// <summary>Tolerance: |y - ref| &lt;= 1e-5 * sum_p |a_ip b_pj| + 1e-6 (float accumulation in any order, FMA or not).</summary>
    private void Check(IBackend be, int[] batch, int m, int k, int n, Major ma, Major mb, Random rng, bool accumulate = false,
        bool[]? bcastA = null, bool[]? bcastB = null)
    {
        var al = MatrixLayout(rng, batch, bcastA ?? new bool[batch.Length], m, k, ma, out int la);
        var bl = MatrixLayout(rng, batch, bcastB ?? new bool[batch.Length], k, n, mb, out int lb);
        var a = Uniform(rng, la, -1, 1);
        var b = Uniform(rng, lb, -1, 1);
        int ny = ScalarReference.Numel(batch) * m * n;
        var y0 = Uniform(rng, ny, -1, 1);
        var sa = Up(be, a); var sb = Up(be, b); var sy = Up(be, y0);
        be.MatMul(sa, al, sb, bl, sy, accumulate);
        var expected = ScalarReference.MatMul(a, al, b, bl, accumulate ? y0 : null);
        var scale = ScalarReference.MatMulAbs(a, al, b, bl).Select(s => 1e-5 * s + 1e-6).ToArray();
        Close(expected, Down(be, sy, ny), 0, 0,
            $"MatMul batch {Layout.Format(batch)} m={m} k={k} n={n} a {ma} {al} b {mb} {bl} accumulate={accumulate} on {be.Name}", scale);
        sa.Dispose(); sb.Dispose(); sy.Dispose();
    }

    [Fact]
    public void MatMul_EveryInnerLength1To67_AllTransposeCombinations()
    {
        var rng = new Random(21);
        foreach (var be in Backends)
            for (int k = 1; k <= 67; k++)
                foreach (var ma in Enum.GetValues<Major>())
                    foreach (var mb in Enum.GetValues<Major>())
                        Check(be, [], rng.Next(1, 5), k, rng.Next(1, 5), ma, mb, rng, accumulate: k % 3 == 0);
    }

    [Fact]
    public void MatMul_EveryOuterLength1To67()
    {
        // M and N sweep 1..67 so every row/column tail of a register-tiled kernel is met.
        var rng = new Random(22);
        foreach (var be in Backends)
            for (int s = 1; s <= 67; s++)
            {
                Check(be, [], s, 5, 3, Major.Row, Major.Row, rng);
                Check(be, [], 3, 6, s, Major.Row, Major.Column, rng);
                Check(be, [], s, 4, s, Major.Column, Major.Row, rng, accumulate: true);
            }
    }

    [Fact]
    public void MatMul_Batched_BroadcastBatches_RandomShapes()
    {
        var rng = new Random(23);
        foreach (var be in Backends)
            for (int t = 0; t < 40; t++)
            {
                var batch = RandomShape(rng, 1, 2, 3);
                var ba = batch.Select(_ => rng.Next(3) == 0).ToArray();
                var bb = batch.Select(_ => rng.Next(3) == 0).ToArray();
                Check(be, batch, rng.Next(1, 9), rng.Next(1, 9), rng.Next(1, 9),
                    (Major)rng.Next(3), (Major)rng.Next(3), rng, rng.Next(2) == 0, ba, bb);
            }
    }

    [Fact]
    public void MatMul_LargerShapes()
    {
        var rng = new Random(24);
        foreach (var be in Backends)
        {
            Check(be, [], 67, 129, 45, Major.Row, Major.Row, rng);
            Check(be, [], 45, 67, 70, Major.Column, Major.Column, rng, accumulate: true);
            Check(be, [2], 33, 100, 17, Major.Row, Major.Column, rng, bcastB: [true]);
            Check(be, [], 1, 300, 77, Major.Row, Major.Row, rng);    // GEMV shapes (decoding)
            Check(be, [], 77, 300, 1, Major.Row, Major.Column, rng);
        }
    }

    [Fact]
    public void MatMul_RejectsMismatchedInnerDimensions()
    {
        foreach (var be in Backends)
        {
            var s = be.Allocate(DType.Float32, 64);
            var e = Assert.Throws<ArgumentException>(() => be.MatMul(s, Layout.Contiguous(2, 3), s, Layout.Contiguous(4, 5), s));
            Assert.Contains("(2, 3)", e.Message);
            Assert.Contains("(4, 5)", e.Message);
        }
    }
}
