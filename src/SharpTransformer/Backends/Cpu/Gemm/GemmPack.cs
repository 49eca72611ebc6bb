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
    internal static bool PrefetchNext = Environment.GetEnvironmentVariable("SHARPT_PACK_PF") != "0";

    /// <summary>
    /// Packs op(A)[0..rows, 0..kc) into <paramref name="dst"/> as [p][mr]. <paramref name="a"/> points at op(A)[0, 0]:
    /// element (i, p) is a[i*lda + p], or a[p*lda + i] when <paramref name="transA"/>.
    /// </summary>
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
            var rowsV = stackalloc Vector512<float>[16];
            for (; p0 + 16 <= kc; p0 += 16)
            {
                for (int i = 0; i < 16; i++) rowsV[i] = i < rows ? Vector512.Load(a + i * lda + p0) : default;
                Transpose16(rowsV);
                float* d = dst + p0 * mr;
                for (int q = 0; q < 16; q++)
                {
                    var v = rowsV[q];
                    if (mr == 12) { Vector256.Store(v.GetLower(), d); Vector128.Store(v.GetUpper().GetLower(), d + 8); }
                    else if (mr == 8) Vector256.Store(v.GetLower(), d);
                    else Vector128.Store(v.GetLower().GetLower(), d);
                    d += mr;
                }
            }
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
            var rowsV = stackalloc Vector512<float>[16];
            for (; p0 + 16 <= kc; p0 += 16)
            {
                for (int g = 0; g < 32; g += 16)
                {
                    for (int j = 0; j < 16; j++) rowsV[j] = g + j < cols ? Vector512.Load(b + (g + j) * ldb + p0) : default;
                    if (PrefetchNext)
                        for (int j = 0; j < 16; j++) Sse.Prefetch1(b + (g + j + 32) * ldb + p0); // the next panel's rows
                    Transpose16(rowsV);
                    float* d = dst + p0 * 32 + g;
                    for (int q = 0; q < 16; q++) Vector512.Store(rowsV[q], d + q * 32);
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

    /// <summary>In-place 16×16 transpose of <paramref name="r"/>[0..16) (row q becomes column q).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(Vector512<float>* r)
    {
        // Stage 1: interleave pairs of rows (32-bit), stage 2: pairs of pairs (64-bit), stages 3-4: 128-bit lanes.
        var t0 = Avx512F.UnpackLow(r[0], r[1]); var t1 = Avx512F.UnpackHigh(r[0], r[1]);
        var t2 = Avx512F.UnpackLow(r[2], r[3]); var t3 = Avx512F.UnpackHigh(r[2], r[3]);
        var t4 = Avx512F.UnpackLow(r[4], r[5]); var t5 = Avx512F.UnpackHigh(r[4], r[5]);
        var t6 = Avx512F.UnpackLow(r[6], r[7]); var t7 = Avx512F.UnpackHigh(r[6], r[7]);
        var t8 = Avx512F.UnpackLow(r[8], r[9]); var t9 = Avx512F.UnpackHigh(r[8], r[9]);
        var t10 = Avx512F.UnpackLow(r[10], r[11]); var t11 = Avx512F.UnpackHigh(r[10], r[11]);
        var t12 = Avx512F.UnpackLow(r[12], r[13]); var t13 = Avx512F.UnpackHigh(r[12], r[13]);
        var t14 = Avx512F.UnpackLow(r[14], r[15]); var t15 = Avx512F.UnpackHigh(r[14], r[15]);

        // u(4g + c) holds column c (mod 4) of rows 4g..4g+3 in each 128-bit lane.
        var u0 = Lo(t0, t2); var u1 = Hi(t0, t2); var u2 = Lo(t1, t3); var u3 = Hi(t1, t3);
        var u4 = Lo(t4, t6); var u5 = Hi(t4, t6); var u6 = Lo(t5, t7); var u7 = Hi(t5, t7);
        var u8 = Lo(t8, t10); var u9 = Hi(t8, t10); var u10 = Lo(t9, t11); var u11 = Hi(t9, t11);
        var u12 = Lo(t12, t14); var u13 = Hi(t12, t14); var u14 = Lo(t13, t15); var u15 = Hi(t13, t15);

        Columns(u0, u4, u8, u12, r, 0);
        Columns(u1, u5, u9, u13, r, 1);
        Columns(u2, u6, u10, u14, r, 2);
        Columns(u3, u7, u11, u15, r, 3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    // a, b, c, d: column c0 (+4, +8, +12 in lanes 1..3) of rows 0-3, 4-7, 8-11, 12-15. Writes columns c0, c0+4, c0+8, c0+12.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, Vector512<float>* r, int c0)
    {
        var v0 = Avx512F.Shuffle4x128(a, b, 0x88); // lanes a0 a2 b0 b2: columns c0, c0+8 of rows 0-7
        var v1 = Avx512F.Shuffle4x128(a, b, 0xDD); // lanes a1 a3 b1 b3: columns c0+4, c0+12
        var v2 = Avx512F.Shuffle4x128(c, d, 0x88);
        var v3 = Avx512F.Shuffle4x128(c, d, 0xDD);
        r[c0] = Avx512F.Shuffle4x128(v0, v2, 0x88);
        r[c0 + 8] = Avx512F.Shuffle4x128(v0, v2, 0xDD);
        r[c0 + 4] = Avx512F.Shuffle4x128(v1, v3, 0x88);
        r[c0 + 12] = Avx512F.Shuffle4x128(v1, v3, 0xDD);
    }
}
