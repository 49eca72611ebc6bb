using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void MatMul(IStorage a, in Layout al, IStorage b, in Layout bl, IStorage y, bool accumulate = false)
    {
        int r = al.Rank;
        if (r < 2 || bl.Rank != r)
            throw new ArgumentException($"MatMul: operands must have equal rank >= 2, got {Layout.Format(al.Shape)} and {Layout.Format(bl.Shape)}.");
        int m = al.Shape[r - 2], k = al.Shape[r - 1], n = bl.Shape[r - 1];
        if (bl.Shape[r - 2] != k)
            throw new ArgumentException($"MatMul: inner dimensions differ: {Layout.Format(al.Shape)} @ {Layout.Format(bl.Shape)}.");
        var aa = F(a); var ba = F(b); var ya = F(y);
        int batch = 1;
        for (int d = 0; d < r - 2; d++) batch *= al.Shape[d];

        // Each operand must be row- or column-major in its last two dims; otherwise make it contiguous first.
        IStorage? ta = null, tb = null;
        var lA = al; var lB = bl;
        if (!MatrixMajor(al, out _)) { ta = Allocate(DType.Float32, al.Count, false); Copy(a, al, ta, Layout.Contiguous(al.Shape)); aa = F(ta); lA = Layout.Contiguous(al.Shape); }
        if (!MatrixMajor(bl, out _)) { tb = Allocate(DType.Float32, bl.Count, false); Copy(b, bl, tb, Layout.Contiguous(bl.Shape)); ba = F(tb); lB = Layout.Contiguous(bl.Shape); }
        try
        {
            MatrixMajor(lA, out bool transA);
            MatrixMajor(lB, out bool transB);
            int lda = transA ? lA.Strides[r - 1] : lA.Strides[r - 2];
            int ldb = transB ? lB.Strides[r - 1] : lB.Strides[r - 2];
            if (m == 1) lda = transA ? Math.Max(lda, 1) : Math.Max(lda, k);
            if (n == 1) ldb = transB ? Math.Max(ldb, k) : Math.Max(ldb, 1);
            if (lda == 0) lda = transA ? m : k;
            if (ldb == 0) ldb = transB ? k : n;
            var idx = new int[Math.Max(0, r - 2)];
            for (int bi = 0; bi < batch; bi++)
            {
                int ao = lA.Offset, bo = lB.Offset, rem = bi;
                for (int d = r - 3; d >= 0; d--)
                {
                    int i = rem % al.Shape[d]; rem /= al.Shape[d];
                    ao += i * lA.Strides[d]; bo += i * lB.Strides[d];
                }
                Sgemm.Multiply(transA, transB, m, n, k, aa, ao, lda, ba, bo, ldb, ya, bi * m * n, n, accumulate, Threads);
            }
        }
        finally { ta?.Dispose(); tb?.Dispose(); }
    }

    // Row-major: stride(last) == 1 (or size 1); column-major: stride(second-last) == 1.
    private static bool MatrixMajor(in Layout l, out bool transposed)
    {
        int r = l.Rank;
        int rows = l.Shape[r - 2], cols = l.Shape[r - 1];
        int sr = l.Strides[r - 2], sc = l.Strides[r - 1];
        if ((sc == 1 || cols == 1) && (sr >= cols || rows == 1)) { transposed = false; return true; }
        if ((sr == 1 || rows == 1) && (sc >= rows || cols == 1)) { transposed = true; return true; }
        transposed = false;
        return false;
    }
}
