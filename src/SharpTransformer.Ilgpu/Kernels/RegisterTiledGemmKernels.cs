using System.Runtime.CompilerServices;
using ILGPU;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Threads per dimension of a register-tiled GEMM group, fixed at kernel compile time (ILGPU folds the constant).</summary>
internal interface IGemmTile
{
    /// <summary>The group is T × T threads; the tile is 8T × 8T; K advances T/2 at a time.</summary>
    int T { get; }
}

/// <summary>16 × 16 threads, 128 × 128 tiles, K steps of 8: the GPU configuration.</summary>
internal struct GemmTile16 : IGemmTile { public readonly int T => 16; }

/// <summary>8 × 8 threads, 64 × 64 tiles, K steps of 4.</summary>
internal struct GemmTile8 : IGemmTile { public readonly int T => 8; }

/// <summary>4 × 4 threads, 32 × 32 tiles, K steps of 2 (ILGPU's CPU accelerator with its default group of 16).</summary>
internal struct GemmTile4 : IGemmTile { public readonly int T => 4; }

/// <summary>2 × 2 threads, 16 × 16 tiles, K steps of 1 (tests with tiny CPU-accelerator groups).</summary>
internal struct GemmTile2 : IGemmTile { public readonly int T => 2; }

/// <summary>Eight floats held in registers: one row (or column) of a thread's 8 × 8 block.</summary>
internal struct Float8
{
    public float X0, X1, X2, X3, X4, X5, X6, X7;

    public Float8(float x0, float x1, float x2, float x3, float x4, float x5, float x6, float x7)
    {
        X0 = x0; X1 = x1; X2 = x2; X3 = x3; X4 = x4; X5 = x5; X6 = x6; X7 = x7;
    }

    /// <summary>c + a·b, elementwise over b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float8 MulAdd(Float8 c, float a, Float8 b) => new(
        c.X0 + a * b.X0, c.X1 + a * b.X1, c.X2 + a * b.X2, c.X3 + a * b.X3,
        c.X4 + a * b.X4, c.X5 + a * b.X5, c.X6 + a * b.X6, c.X7 + a * b.X7);
}

/// <summary>A thread's 8 × 8 block of accumulators: 64 registers, passed by value so ILGPU keeps them in registers.</summary>
internal struct Block8x8
{
    public Float8 R0, R1, R2, R3, R4, R5, R6, R7;
}

/// <summary>
/// Register-tiled GEMM for large products. A group of T × T threads computes an 8T × 8T tile of y (128 × 128 on GPUs);
/// each thread holds an 8 × 8 block in 64 registers (rows ty + iT, columns tx + jT, so shared reads are broadcasts or
/// conflict-free). K advances T/2 at a time (8 on GPUs) through two shared-memory buffers: while the group multiplies
/// the panels of one buffer, each thread has already issued the global loads of the next panels (four elements of A and
/// four of B) and stores them into the other buffer afterwards, so one barrier per step suffices and load latency hides
/// behind 8·64 multiply-adds. Panels are stored k-major with 4 floats of padding per row, so the transposing stores of a
/// row-major A (or of a Linear weight B) do not conflict. Any strides work; contiguous dimensions pick coalesced loads.
/// With <see cref="GemmArgs.SplitK"/> &gt; 1 each group sums one K slice into a workspace and <see cref="SplitKReduce"/>
/// adds the slices into C in a second pass (split-K, for products with too few tiles to fill the device).
/// </summary>
internal static class RegisterTiledGemmKernels
{
    /// <summary>Shared floats the kernel needs for tile size <paramref name="t"/> (two buffers of an A and a B panel).</summary>
    public static int SharedFloats(int t) => 2 * 2 * (t / 2) * (8 * t + 4);

    public static void Gemm<TTile>(ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, GemmArgs g)
        where TTile : struct, IGemmTile
    {
        int T = default(TTile).T;
        int bm = 8 * T;                 // tile rows = tile columns
        int bk = T / 2;                 // k per step
        int ld = bm + 4;                // padded panel row
        int panel = bk * ld;            // floats per panel
        var sh = SharedMemory.GetDynamic<float>();
        int tx = Group.IdxX, ty = Group.IdxY;
        int tid = ty * T + tx, nt = T * T;
        int split = g.SplitK > 1 ? g.SplitK : 1;
        int zLocal = Grid.IdxZ / split, slice = Grid.IdxZ - zLocal * split;
        int z = zLocal + g.BatchStart;
        g.Batch.Offsets(z, out int aBase, out int bBase, out _);
        // K range of this group: all of K, or one slice of it (split-K).
        int kBegin = split > 1 ? slice * g.KSlice : 0;
        int kEnd = split > 1 ? Math.Min(g.K, kBegin + g.KSlice) : g.K;
        int m0 = Grid.IdxY * bm, n0 = Grid.IdxX * bm;

        var c = default(Block8x8);

        int steps = (kEnd - kBegin + bk - 1) / bk;
        // Step 0 goes straight to buffer 0.
        float ra0 = LoadA(a, g, aBase, m0, kBegin, kEnd, tid, bk, bm), ra1 = LoadA(a, g, aBase, m0, kBegin, kEnd, tid + nt, bk, bm);
        float ra2 = LoadA(a, g, aBase, m0, kBegin, kEnd, tid + 2 * nt, bk, bm), ra3 = LoadA(a, g, aBase, m0, kBegin, kEnd, tid + 3 * nt, bk, bm);
        float rb0 = LoadB(b, g, bBase, n0, kBegin, kEnd, tid, bk, bm), rb1 = LoadB(b, g, bBase, n0, kBegin, kEnd, tid + nt, bk, bm);
        float rb2 = LoadB(b, g, bBase, n0, kBegin, kEnd, tid + 2 * nt, bk, bm), rb3 = LoadB(b, g, bBase, n0, kBegin, kEnd, tid + 3 * nt, bk, bm);
        StorePanels(sh, g, 0, panel, ld, tid, nt, bk, bm, ra0, ra1, ra2, ra3, rb0, rb1, rb2, rb3);
        Group.Barrier();

        for (int s = 0; s < steps; s++)
        {
            int cur = (s & 1) * 2 * panel;
            bool more = s + 1 < steps;
            if (more)
            {
                int k0 = kBegin + (s + 1) * bk;
                ra0 = LoadA(a, g, aBase, m0, k0, kEnd, tid, bk, bm); ra1 = LoadA(a, g, aBase, m0, k0, kEnd, tid + nt, bk, bm);
                ra2 = LoadA(a, g, aBase, m0, k0, kEnd, tid + 2 * nt, bk, bm); ra3 = LoadA(a, g, aBase, m0, k0, kEnd, tid + 3 * nt, bk, bm);
                rb0 = LoadB(b, g, bBase, n0, k0, kEnd, tid, bk, bm); rb1 = LoadB(b, g, bBase, n0, k0, kEnd, tid + nt, bk, bm);
                rb2 = LoadB(b, g, bBase, n0, k0, kEnd, tid + 2 * nt, bk, bm); rb3 = LoadB(b, g, bBase, n0, k0, kEnd, tid + 3 * nt, bk, bm);
            }
            // The k loop of the step, unrolled: bk is a compile-time constant (1, 2, 4 or 8), so the guards fold away.
            var pa = sh.SubView(cur + ty);
            var pb = sh.SubView(cur + panel + tx);
            c = MultiplyAdd(c, pa, pb, 0, T);
            if (bk > 1) c = MultiplyAdd(c, pa, pb, ld, T);
            if (bk > 2)
            {
                c = MultiplyAdd(c, pa, pb, 2 * ld, T);
                c = MultiplyAdd(c, pa, pb, 3 * ld, T);
            }
            if (bk > 4)
            {
                c = MultiplyAdd(c, pa, pb, 4 * ld, T);
                c = MultiplyAdd(c, pa, pb, 5 * ld, T);
                c = MultiplyAdd(c, pa, pb, 6 * ld, T);
                c = MultiplyAdd(c, pa, pb, 7 * ld, T);
            }
            if (more) StorePanels(sh, g, 2 * panel - cur, panel, ld, tid, nt, bk, bm, ra0, ra1, ra2, ra3, rb0, rb1, rb2, rb3);
            Group.Barrier();
        }

        // Split-K: slice's own partial matrix of the workspace, written (never accumulated); SplitKReduce sums the slices.
        int yBase = (split > 1 ? z * split + slice : z) * g.M * g.N;
        int row = m0 + ty, col = n0 + tx;
        StoreRow(y, g, yBase, row, col, T, c.R0);
        StoreRow(y, g, yBase, row + T, col, T, c.R1);
        StoreRow(y, g, yBase, row + 2 * T, col, T, c.R2);
        StoreRow(y, g, yBase, row + 3 * T, col, T, c.R3);
        StoreRow(y, g, yBase, row + 4 * T, col, T, c.R4);
        StoreRow(y, g, yBase, row + 5 * T, col, T, c.R5);
        StoreRow(y, g, yBase, row + 6 * T, col, T, c.R6);
        StoreRow(y, g, yBase, row + 7 * T, col, T, c.R7);
    }

    // One k of the thread's 8 × 8 block: column k of the A panel (rows ty + iT) times row k of the B panel (columns tx + jT).
    // pa and pb start at the thread's first row and column, so every shared read is at a constant offset.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Block8x8 MultiplyAdd(Block8x8 c, ArrayView<float> pa, ArrayView<float> pb, int k, int T)
    {
        var av = new Float8(pa[k], pa[k + T], pa[k + 2 * T], pa[k + 3 * T], pa[k + 4 * T], pa[k + 5 * T], pa[k + 6 * T], pa[k + 7 * T]);
        var bv = new Float8(pb[k], pb[k + T], pb[k + 2 * T], pb[k + 3 * T], pb[k + 4 * T], pb[k + 5 * T], pb[k + 6 * T], pb[k + 7 * T]);
        c.R0 = Float8.MulAdd(c.R0, av.X0, bv); c.R1 = Float8.MulAdd(c.R1, av.X1, bv);
        c.R2 = Float8.MulAdd(c.R2, av.X2, bv); c.R3 = Float8.MulAdd(c.R3, av.X3, bv);
        c.R4 = Float8.MulAdd(c.R4, av.X4, bv); c.R5 = Float8.MulAdd(c.R5, av.X5, bv);
        c.R6 = Float8.MulAdd(c.R6, av.X6, bv); c.R7 = Float8.MulAdd(c.R7, av.X7, bv);
        return c;
    }

    // Element e of the bm × bk panel of A at k0: k-fastest when A's k is contiguous (coalesced rows), else m-fastest.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LoadA(ArrayView<float> a, GemmArgs g, int aBase, int m0, int k0, int kEnd, int e, int bk, int bm)
    {
        int mm, kk;
        if (g.AKFast != 0) { mm = e / bk; kk = e - mm * bk; }
        else { kk = e / bm; mm = e - kk * bm; }
        int m = m0 + mm, k = k0 + kk;
        return m < g.M && k < kEnd ? a[aBase + m * g.Sam + k * g.Sak] : 0f;
    }

    // Element e of the bk × bm panel of B at k0: n-fastest when B's n is contiguous, else k-fastest (a Linear weight).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float LoadB(ArrayView<float> b, GemmArgs g, int bBase, int n0, int k0, int kEnd, int e, int bk, int bm)
    {
        int nn, kk;
        if (g.BNFast != 0) { kk = e / bm; nn = e - kk * bm; }
        else { nn = e / bk; kk = e - nn * bk; }
        int n = n0 + nn, k = k0 + kk;
        return n < g.N && k < kEnd ? b[bBase + k * g.Sbk + n * g.Sbn] : 0f;
    }

    // Writes the four A and four B elements a thread loaded into the buffer at `buffer` (A panel, then B panel).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePanels(ArrayView<float> sh, GemmArgs g, int buffer, int panel, int ld, int tid, int nt, int bk, int bm,
        float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        sh[buffer + PanelIndexA(g, tid, bk, bm, ld)] = a0;
        sh[buffer + PanelIndexA(g, tid + nt, bk, bm, ld)] = a1;
        sh[buffer + PanelIndexA(g, tid + 2 * nt, bk, bm, ld)] = a2;
        sh[buffer + PanelIndexA(g, tid + 3 * nt, bk, bm, ld)] = a3;
        sh[buffer + panel + PanelIndexB(g, tid, bk, bm, ld)] = b0;
        sh[buffer + panel + PanelIndexB(g, tid + nt, bk, bm, ld)] = b1;
        sh[buffer + panel + PanelIndexB(g, tid + 2 * nt, bk, bm, ld)] = b2;
        sh[buffer + panel + PanelIndexB(g, tid + 3 * nt, bk, bm, ld)] = b3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PanelIndexA(GemmArgs g, int e, int bk, int bm, int ld)
    {
        int mm, kk;
        if (g.AKFast != 0) { mm = e / bk; kk = e - mm * bk; }
        else { kk = e / bm; mm = e - kk * bm; }
        return kk * ld + mm;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int PanelIndexB(GemmArgs g, int e, int bk, int bm, int ld)
    {
        int nn, kk;
        if (g.BNFast != 0) { kk = e / bm; nn = e - kk * bm; }
        else { nn = e / bk; kk = e - nn * bk; }
        return kk * ld + nn;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(ArrayView<float> y, GemmArgs g, int yBase, int m, int n, int T, Float8 v)
    {
        if (m >= g.M) return;
        int o = yBase + m * g.N;
        Store(y, g, o, n, v.X0);
        Store(y, g, o, n + T, v.X1);
        Store(y, g, o, n + 2 * T, v.X2);
        Store(y, g, o, n + 3 * T, v.X3);
        Store(y, g, o, n + 4 * T, v.X4);
        Store(y, g, o, n + 5 * T, v.X5);
        Store(y, g, o, n + 6 * T, v.X6);
        Store(y, g, o, n + 7 * T, v.X7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ArrayView<float> y, GemmArgs g, int rowOffset, int n, float v)
    {
        if (n >= g.N) return;
        int i = rowOffset + n;
        y[i] = g.Accumulate != 0 && g.SplitK <= 1 ? y[i] + v : v;
    }

    /// <summary>
    /// Second pass of split-K: element i of the batch × M × N output is the sum of its <paramref name="slices"/> partial
    /// values in slice order (so results are deterministic), added to y[i] when <paramref name="accumulate"/> is 1.
    /// Partial matrices sit at ws[(z·slices + s)·mn ..].
    /// </summary>
    public static void SplitKReduce(Index1D i, ArrayView<float> ws, ArrayView<float> y, int mn, int slices, int accumulate)
    {
        int z = i / mn, e = i - z * mn;
        int p = z * slices * mn + e;
        float sum = ws[p];
        for (int s = 1; s < slices; s++) sum += ws[p + s * mn];
        y[i] = accumulate != 0 ? y[i] + sum : sum;
    }
}
