using SharpTransformer.Tensors;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>
/// A shape shared by up to three strided operands (A, B, C), passed by value to kernels. Dimensions are stored innermost
/// first (N0 is the last dimension); size-1 dimensions are dropped and dimensions that are contiguous for every operand
/// are merged on the host, so most layouts arrive with rank 1 or 2. Element i (row-major) of operand A sits at
/// <c>OffA + Σ coord_d · A_d</c>.
/// </summary>
internal struct Strided
{
    public const int MaxRank = 8;

    public int Rank;
    public int N0, N1, N2, N3, N4, N5, N6, N7;
    public int A0, A1, A2, A3, A4, A5, A6, A7;
    public int B0, B1, B2, B3, B4, B5, B6, B7;
    public int C0, C1, C2, C3, C4, C5, C6, C7;
    public int OffA, OffB, OffC;
    /// <summary>Bit 0, 1, 2: operand A, B, C is dense (element i at Off + i).</summary>
    public int Dense;

    /// <summary>Storage offsets of element <paramref name="i"/> in A, B and C.</summary>
    public readonly void Offsets(int i, out int a, out int b, out int c)
    {
        a = OffA; b = OffB; c = OffC;
        if (Dense == 7) { a += i; b += i; c += i; return; }
        int r = i, q, x;
        if (Rank > 0) { q = r / N0; x = r - q * N0; r = q; a += x * A0; b += x * B0; c += x * C0; }
        if (Rank > 1) { q = r / N1; x = r - q * N1; r = q; a += x * A1; b += x * B1; c += x * C1; }
        if (Rank > 2) { q = r / N2; x = r - q * N2; r = q; a += x * A2; b += x * B2; c += x * C2; }
        if (Rank > 3) { q = r / N3; x = r - q * N3; r = q; a += x * A3; b += x * B3; c += x * C3; }
        if (Rank > 4) { q = r / N4; x = r - q * N4; r = q; a += x * A4; b += x * B4; c += x * C4; }
        if (Rank > 5) { q = r / N5; x = r - q * N5; r = q; a += x * A5; b += x * B5; c += x * C5; }
        if (Rank > 6) { q = r / N6; x = r - q * N6; r = q; a += x * A6; b += x * B6; c += x * C6; }
        if (Rank > 7) { x = r; a += x * A7; b += x * B7; c += x * C7; }
    }

    /// <summary>Storage offset of element <paramref name="i"/> in A.</summary>
    public readonly int OffsetA(int i)
    {
        if ((Dense & 1) != 0) return OffA + i;
        Offsets(i, out int a, out _, out _);
        return a;
    }

    // ----- host side -----

    /// <summary>Builds the kernel layout for one to three operands of one shape (strides per operand, offsets per operand).</summary>
    public static Strided Create(ReadOnlySpan<int> shape, int[] sa, int offA, int[]? sb = null, int offB = 0, int[]? sc = null, int offC = 0)
    {
        int n = shape.Length;
        Span<int> dims = stackalloc int[Math.Max(1, n)];
        Span<int> a = stackalloc int[Math.Max(1, n)];
        Span<int> b = stackalloc int[Math.Max(1, n)];
        Span<int> c = stackalloc int[Math.Max(1, n)];
        int r = 0;
        // Walk from the innermost dimension outwards, dropping size-1 dims and merging contiguous neighbours.
        for (int d = n - 1; d >= 0; d--)
        {
            int size = shape[d];
            if (size == 1) continue;
            int xa = sa[d], xb = sb is null ? 0 : sb[d], xc = sc is null ? 0 : sc[d];
            if (r > 0 && xa == a[r - 1] * dims[r - 1] && xb == b[r - 1] * dims[r - 1] && xc == c[r - 1] * dims[r - 1])
            {
                dims[r - 1] *= size;
                continue;
            }
            dims[r] = size; a[r] = xa; b[r] = xb; c[r] = xc;
            r++;
        }
        if (r > MaxRank)
            throw new NotSupportedException($"ILGPU backend: a layout of shape {Layout.Format(shape)} has {r} dimensions that cannot be merged; at most {MaxRank} are supported. Make the tensor contiguous first.");
        var s = new Strided { Rank = r, OffA = offA, OffB = offB, OffC = offC };
        for (int d = 0; d < r; d++) s.Set(d, dims[d], a[d], b[d], c[d]);
        for (int d = r; d < MaxRank; d++) s.Set(d, 1, 0, 0, 0);
        bool denseA = r == 0 || (r == 1 && a[0] == 1), denseB = sb is null || r == 0 || (r == 1 && b[0] == 1), denseC = sc is null || r == 0 || (r == 1 && c[0] == 1);
        // An operand without strides (absent) is never read; mark it dense so the fast path stays available.
        s.Dense = (denseA ? 1 : 0) | (denseB ? 2 : 0) | (denseC ? 4 : 0);
        return s;
    }

    /// <summary>A layout for one operand.</summary>
    public static Strided Of(in Layout l) => Create(l.Shape, l.Strides, l.Offset);

    /// <summary>A layout for two operands of the same shape.</summary>
    public static Strided Of(in Layout l0, in Layout l1) => Create(l0.Shape, l0.Strides, l0.Offset, l1.Strides, l1.Offset);

    /// <summary>A layout for three operands of the same shape.</summary>
    public static Strided Of(in Layout l0, in Layout l1, in Layout l2) =>
        Create(l0.Shape, l0.Strides, l0.Offset, l1.Strides, l1.Offset, l2.Strides, l2.Offset);

    private void Set(int d, int n, int a, int b, int c)
    {
        switch (d)
        {
            case 0: N0 = n; A0 = a; B0 = b; C0 = c; break;
            case 1: N1 = n; A1 = a; B1 = b; C1 = c; break;
            case 2: N2 = n; A2 = a; B2 = b; C2 = c; break;
            case 3: N3 = n; A3 = a; B3 = b; C3 = c; break;
            case 4: N4 = n; A4 = a; B4 = b; C4 = c; break;
            case 5: N5 = n; A5 = a; B5 = b; C5 = c; break;
            case 6: N6 = n; A6 = a; B6 = b; C6 = c; break;
            default: N7 = n; A7 = a; B7 = b; C7 = c; break;
        }
    }
}
