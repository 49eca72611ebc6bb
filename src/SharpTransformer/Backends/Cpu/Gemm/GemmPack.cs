using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// Packing of GEMM operands into the micro-kernels' panel formats.
/// Ã panel: <c>rows</c> rows of op(A) over <c>kc</c> steps, stored k-major as [p][mr] (zero rows pad to mr).
/// B̃ panel: <c>cols</c> columns of op(B) over <c>kc</c> steps, stored as [p][nr] (zero columns pad to nr).
/// The transposing cases (A row-major, B stored N×K) go through an in-register 16×16 transpose on AVX-512.
/// </summary>
internal static unsafe class GemmPack
{
    // Packing B prefetches the next panel's source into L2, so the next packing pass does not stall on memory.
    private const bool PrefetchNext = true;

    /// <summary>
    /// Packs op(A)[0..rows, 0..kc) into <paramref name="dst"/> as [p][mr]. <paramref name="a"/> points at op(A)[0, 0]:
    /// element (i, p) is a[i*lda + p], or a[p*lda + i] when <paramref name="transA"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(bool transA, float* a, nint lda, int rows, int kc, int mr, float* dst)
    {
        if (transA)
        {
            if (rows == 12 && mr == 12 && Vector256.IsHardwareAccelerated)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* s = a + p * lda;
                    Vector256.Store(Vector256.Load(s), dst);
                    Vector128.Store(Vector128.Load(s + 8), dst + 8);
                    dst += 12;
                }
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                float* s = a + p * lda;
                int i = 0;
                for (; i < rows; i++) dst[i] = s[i];
                for (; i < mr; i++) dst[i] = 0f;
                dst += mr;
            }
            return;
        }

        int p0 = 0;
        if (Avx512F.IsSupported && rows <= 16 && (mr == 12 || mr == 8 || mr == 4))
        {
            // 16 k steps at a time: load up to 16 rows of 16, transpose, store mr floats per k step.
            for (; p0 + 16 <= kc; p0 += 16)
                Transpose16(a + p0, lda, rows, dst + p0 * mr, mr, mr);
        }
        for (int p = p0; p < kc; p++)
        {
            float* d = dst + p * mr;
            int i = 0;
            for (; i < rows; i++) d[i] = a[i * lda + p];
            for (; i < mr; i++) d[i] = 0f;
        }
    }

    /// <summary>
    /// Packs op(B)[0..kc, 0..cols) into <paramref name="dst"/> as [p][nr]. <paramref name="b"/> points at op(B)[0, 0]:
    /// element (p, j) is b[p*ldb + j], or b[j*ldb + p] when <paramref name="transB"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(bool transB, float* b, nint ldb, int kc, int cols, int nr, float* dst)
    {
        if (!transB)
        {
            if (cols == 32 && nr == 32 && Vector512.IsHardwareAccelerated)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* s = b + p * ldb;
                    if (PrefetchNext) { Sse.Prefetch1(s + 32); Sse.Prefetch1(s + 48); } // the next panel's columns
                    Vector512.Store(Vector512.Load(s), dst);
                    Vector512.Store(Vector512.Load(s + 16), dst + 16);
                    dst += 32;
                }
                return;
            }
            if (cols == nr && nr % 8 == 0 && Vector256.IsHardwareAccelerated)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* s = b + p * ldb;
                    for (int j = 0; j < nr; j += 8) Vector256.Store(Vector256.Load(s + j), dst + j);
                    dst += nr;
                }
                return;
            }
            for (int p = 0; p < kc; p++)
            {
                float* s = b + p * ldb;
                int j = 0;
                for (; j < cols; j++) dst[j] = s[j];
                for (; j < nr; j++) dst[j] = 0f;
                dst += nr;
            }
            return;
        }

        int p0 = 0;
        if (Avx512F.IsSupported && nr == 32)
        {
            for (; p0 + 16 <= kc; p0 += 16)
            {
                for (int g = 0; g < 32; g += 16)
                {
                    if (PrefetchNext)
                        for (int j = 0; j < 16; j++) Sse.Prefetch1(b + (g + j + 32) * ldb + p0); // the next panel's rows
                    Transpose16(b + g * ldb + p0, ldb, Math.Clamp(cols - g, 0, 16), dst + p0 * 32 + g, 32, 16);
                }
            }
        }
        for (int p = p0; p < kc; p++)
        {
            float* d = dst + p * nr;
            int j = 0;
            for (; j < cols; j++) d[j] = b[j * ldb + p];
            for (; j < nr; j++) d[j] = 0f;
        }
    }

    /// <summary>
    /// Packs <paramref name="panels"/> consecutive B̃ panels (nr columns each, <paramref name="cols"/> columns in all,
    /// the last panel zero-padded) into <paramref name="dst"/>, panel after panel (kc×nr floats each).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackBPanels(bool transB, float* b, nint ldb, int kc, int cols, int nr, int panels, float* dst)
    {
        if (!transB && nr == 32 && cols == panels * 32 && Vector512.IsHardwareAccelerated)
        {
            // Row by row: one long run of each B row feeds all the panels.
            nint panelFloats = (nint)kc * 32;
            for (int p = 0; p < kc; p++)
            {
                float* s = b + p * ldb;
                float* d = dst + p * 32;
                if (PrefetchNext) for (int q = 0; q < panels * 2; q++) Sse.Prefetch1(s + panels * 32 + q * 16);
                for (int q = 0; q < panels; q++)
                {
                    Vector512.Store(Vector512.Load(s + q * 32), d);
                    Vector512.Store(Vector512.Load(s + q * 32 + 16), d + 16);
                    d += panelFloats;
                }
            }
            return;
        }
        for (int q = 0; q < panels; q++)
        {
            int j0 = q * nr;
            PackB(transB, transB ? b + j0 * ldb : b + j0, ldb, kc, Math.Min(nr, cols - j0), nr, dst + (nint)q * kc * nr);
        }
    }

    /// <summary>
    /// Transposes a 16×16 block: row i of the source (<paramref name="src"/> + i·<paramref name="ld"/>, rows ≥
    /// <paramref name="rows"/> read as zeros) becomes column i of the destination, whose row q (at
    /// <paramref name="dst"/> + q·<paramref name="dstStride"/>) receives the first <paramref name="width"/> (4, 8, 12
    /// or 16) values. All in registers: 16 loads, 64 shuffles, 16 stores. (Too big to inline into the packers.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose16(float* src, nint ld, int rows, float* dst, nint dstStride, int width)
    {
        Vector512<float> r0 = Row(src, ld, rows, 0), r1 = Row(src, ld, rows, 1), r2 = Row(src, ld, rows, 2), r3 = Row(src, ld, rows, 3);
        Vector512<float> r4 = Row(src, ld, rows, 4), r5 = Row(src, ld, rows, 5), r6 = Row(src, ld, rows, 6), r7 = Row(src, ld, rows, 7);
        Vector512<float> r8 = Row(src, ld, rows, 8), r9 = Row(src, ld, rows, 9), r10 = Row(src, ld, rows, 10), r11 = Row(src, ld, rows, 11);
        Vector512<float> r12 = Row(src, ld, rows, 12), r13 = Row(src, ld, rows, 13), r14 = Row(src, ld, rows, 14), r15 = Row(src, ld, rows, 15);

        // Stage 1: interleave pairs of rows (32-bit), stage 2: pairs of pairs (64-bit): u(4g + c) then holds, in
        // 128-bit lane l, column 4l + c of rows 4g..4g+3. Stages 3-4 gather the lanes.
        var t0 = Avx512F.UnpackLow(r0, r1); var t1 = Avx512F.UnpackHigh(r0, r1);
        var t2 = Avx512F.UnpackLow(r2, r3); var t3 = Avx512F.UnpackHigh(r2, r3);
        var t4 = Avx512F.UnpackLow(r4, r5); var t5 = Avx512F.UnpackHigh(r4, r5);
        var t6 = Avx512F.UnpackLow(r6, r7); var t7 = Avx512F.UnpackHigh(r6, r7);
        var t8 = Avx512F.UnpackLow(r8, r9); var t9 = Avx512F.UnpackHigh(r8, r9);
        var t10 = Avx512F.UnpackLow(r10, r11); var t11 = Avx512F.UnpackHigh(r10, r11);
        var t12 = Avx512F.UnpackLow(r12, r13); var t13 = Avx512F.UnpackHigh(r12, r13);
        var t14 = Avx512F.UnpackLow(r14, r15); var t15 = Avx512F.UnpackHigh(r14, r15);

        var u0 = Lo(t0, t2); var u1 = Hi(t0, t2); var u2 = Lo(t1, t3); var u3 = Hi(t1, t3);
        var u4 = Lo(t4, t6); var u5 = Hi(t4, t6); var u6 = Lo(t5, t7); var u7 = Hi(t5, t7);
        var u8 = Lo(t8, t10); var u9 = Hi(t8, t10); var u10 = Lo(t9, t11); var u11 = Hi(t9, t11);
        var u12 = Lo(t12, t14); var u13 = Hi(t12, t14); var u14 = Lo(t13, t15); var u15 = Hi(t13, t15);

        Columns(u0, u4, u8, u12, dst, dstStride, 0, width);
        Columns(u1, u5, u9, u13, dst, dstStride, 1, width);
        Columns(u2, u6, u10, u14, dst, dstStride, 2, width);
        Columns(u3, u7, u11, u15, dst, dstStride, 3, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* src, nint ld, int rows, int i) => i < rows ? Vector512.Load(src + i * ld) : default;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    // a, b, c, d: column c0 (+4, +8, +12 in lanes 1..3) of rows 0-3, 4-7, 8-11, 12-15. Stores columns c0, c0+4, c0+8, c0+12.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, nint stride, int c0, int width)
    {
        var v0 = Avx512F.Shuffle4x128(a, b, 0x88); // lanes a0 a2 b0 b2: columns c0, c0+8 of rows 0-7
        var v1 = Avx512F.Shuffle4x128(a, b, 0xDD); // lanes a1 a3 b1 b3: columns c0+4, c0+12
        var v2 = Avx512F.Shuffle4x128(c, d, 0x88);
        var v3 = Avx512F.Shuffle4x128(c, d, 0xDD);
        Store(Avx512F.Shuffle4x128(v0, v2, 0x88), dst + c0 * stride, width);
        Store(Avx512F.Shuffle4x128(v0, v2, 0xDD), dst + (c0 + 8) * stride, width);
        Store(Avx512F.Shuffle4x128(v1, v3, 0x88), dst + (c0 + 4) * stride, width);
        Store(Avx512F.Shuffle4x128(v1, v3, 0xDD), dst + (c0 + 12) * stride, width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<float> v, float* d, int width)
    {
        if (width == 16) Vector512.Store(v, d);
        else if (width == 12) { Vector256.Store(v.GetLower(), d); Vector128.Store(v.GetUpper().GetLower(), d + 8); }
        else if (width == 8) Vector256.Store(v.GetLower(), d);
        else Vector128.Store(v.GetLower().GetLower(), d);
    }
}
