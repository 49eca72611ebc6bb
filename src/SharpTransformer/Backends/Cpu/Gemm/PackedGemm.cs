using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SharpTransformer.Backends.Cpu;

/// <summary>
/// The cache-blocked, packed GEMM (Goto/BLIS anatomy, written for row-major C so the vector direction is N).
/// <code>
/// for each M block (MC rows) and K group (as many KC blocks as fit the shared Ã buffer):
///     pack Ã = op(A)[M block, K group] into MR-row panels       (the workers share the panels; barrier)
///     for each column chunk (handed out to the workers one at a time; the C chunk stays in L2 across its k blocks):
///         for each KC block:                                    (the Ã block, MC×KC, sits in L2)
///             for each NR-wide column panel: pack B̃ (KC×NR, 32 KiB, L1), four panels per packing pass
///                 for each MR-row panel: micro-kernel C[MR, NR] (+)= Ã panel · B̃ panel
/// </code>
/// When N is too narrow to share out, the workers split the M panels instead. With small M and B stored K×N the
/// kernels read B in place (<c>directB</c>): packing would cost more than the few rows that reuse it.
/// </summary>
internal sealed unsafe class PackedGemm : GemmJob
{
    private const int KcTarget = 256;         // B̃ micro-panel KC×32 floats = 32 KiB in the 48 KiB L1
    private const int McMax = 512;            // Ã block MC×KC ≤ 512 KiB of the 1 MiB L2
    private const int AGroupFloats = 1 << 20; // shared Ã buffer: at most 4 MiB (K groups beyond)
    private const int NcFloats = 64 * 1024;   // C chunk MC×NC ≤ 256 KiB
    private const int PackPanels = 4;         // B̃ panels packed per pass (128 KiB, L2)

    [ThreadStatic] private static PinnedBuffer? t_a;
    [ThreadStatic] private static PinnedBuffer? t_b;
    [ThreadStatic] private static PackedGemm? t_job;

    // Problem
    private bool _transA, _transB, _accumulate;
    private int _m, _n, _k;
    private float* _a, _b, _c;
    private nint _lda, _ldb, _ldc;

    // Plan
    private int _level, _mr, _nr, _kc, _kBlocks, _mc, _mBlocks, _kbPerGroup, _kGroups, _nPanels, _chunkPanels;
    private int[] _counters = new int[12]; // per (M block, K group) round: Ã tasks claimed, Ã tasks done, chunks handed out
    private bool _splitN, _directB;
    private float* _aPack;

    /// <summary>Runs C (+)= op(A) op(B) on <paramref name="threads"/> workers. Pointers are at element (0, 0).</summary>
    public static void Run(int level, bool transA, bool transB, int m, int n, int k, float* a, nint lda, float* b, nint ldb,
        float* c, nint ldc, bool accumulate, int threads, bool directB = false)
    {
        var job = t_job ??= new PackedGemm();
        job._transA = transA; job._transB = transB; job._accumulate = accumulate;
        job._m = m; job._n = n; job._k = k;
        job._a = a; job._b = b; job._c = c;
        job._lda = lda; job._ldb = ldb; job._ldc = ldc;
        job._level = level;
        job._directB = directB && !transB;
        job._mr = level == 3 ? 12 : 6;
        job._nr = level == 3 ? 32 : level == 2 ? 16 : 8;

        // K blocks of equal size (a multiple of 16 where possible, for the transposing packers).
        int kb = (k + KcTarget - 1) / KcTarget;
        int kc = (k + kb - 1) / kb;
        kc = Math.Min(k, (kc + 15) & ~15);
        job._kc = kc;
        job._kBlocks = (k + kc - 1) / kc;

        // M blocks of equal size, rounded up to whole MR panels.
        int mb = (m + McMax - 1) / McMax;
        int mc = (m + mb - 1) / mb;
        mc = (mc + job._mr - 1) / job._mr * job._mr;
        job._mc = mc;
        job._mBlocks = (m + mc - 1) / mc;

        int mcPad = mc + job._mr;
        job._kbPerGroup = Math.Max(1, AGroupFloats / (mcPad * kc));
        job._kGroups = (job._kBlocks + job._kbPerGroup - 1) / job._kbPerGroup;
        job._nPanels = (n + job._nr - 1) / job._nr;
        int ncPanels = Math.Max(1, NcFloats / (mc * job._nr));

        int mPanels = (Math.Min(m, mc) + job._mr - 1) / job._mr;
        job._splitN = job._nPanels >= 2 * threads || job._nPanels >= mPanels;
        int parts = job._splitN ? job._nPanels : mPanels;
        threads = Math.Max(1, Math.Min(threads, parts));
        // Chunks as large as the cache allows (the Ã block is reused across a chunk's panels), and a whole number of
        // them per worker, so the hand-out is balanced; it is dynamic so a worker the OS delays does not hold the
        // others up at the end.
        int chunks = job._splitN ? threads * ((job._nPanels + threads * ncPanels - 1) / (threads * ncPanels)) : 1;
        job._chunkPanels = job._splitN ? (job._nPanels + chunks - 1) / chunks : ncPanels;
        int rounds = job._mBlocks * job._kGroups;
        if (job._counters.Length < 3 * rounds) job._counters = new int[3 * rounds];
        Array.Clear(job._counters, 0, 3 * rounds);

        job._aPack = PinnedBuffer.Get(ref t_a, Math.Min(job._kbPerGroup, job._kBlocks) * kc * mcPad + 64);
        try
        {
            GemmThreads.Run(job, threads);
        }
        finally
        {
            job._a = job._b = job._c = null;
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(int worker)
    {
        int mr = _mr, kc = _kc;
        float* bPack = PinnedBuffer.Get(ref t_b, PackPanels * kc * _nr + 64);
        float* tile = stackalloc float[12 * 32 + 16];
        tile = (float*)(((nint)tile + 63) & ~(nint)63);
        int workers = Workers;
        int round = 0;

        for (int mBlock = 0; mBlock < _mBlocks; mBlock++)
        {
            int i0 = mBlock * _mc;
            int rowsM = Math.Min(_mc, _m - i0);
            int mPanels = (rowsM + mr - 1) / mr;
            for (int g = 0; g < _kGroups; g++, round++)
            {
                int kb0 = g * _kbPerGroup, kb1 = Math.Min(_kBlocks, kb0 + _kbPerGroup);
                if (round > 0) Barrier(); // everyone is done with the previous Ã

                // Pack Ã for this (M block, K group): tasks are (k block, panel) pairs, claimed one at a time; then
                // wait until every task is done (not for every worker: a late one finds nothing left to pack).
                int tasks = (kb1 - kb0) * mPanels;
                ref int claimed = ref _counters[3 * round], packed = ref _counters[3 * round + 1];
                for (int t; (t = Interlocked.Increment(ref claimed) - 1) < tasks;)
                {
                    int kbi = kb0 + t / mPanels, ir = t % mPanels;
                    int p0 = kbi * kc, kcb = Math.Min(kc, _k - p0);
                    int r0 = ir * mr, rows = Math.Min(mr, rowsM - r0);
                    float* src = _transA ? _a + (nint)p0 * _lda + (i0 + r0) : _a + (nint)(i0 + r0) * _lda + p0;
                    GemmPack.PackA(_transA, src, _lda, rows, kcb, PanelRows(rows), APanel(kb0, kbi, ir, mPanels));
                    Interlocked.Increment(ref packed);
                }
                if (workers > 1) WaitUntil(ref packed, tasks);

                if (_splitN)
                {
                    // Column chunks are handed out dynamically, so a worker the OS delays does not hold the others up.
                    int chunks = (_nPanels + _chunkPanels - 1) / _chunkPanels;
                    for (int ch; (ch = Interlocked.Increment(ref _counters[3 * round + 2]) - 1) < chunks;)
                    {
                        int jc = ch * _chunkPanels;
                        Chunk(jc, Math.Min(_nPanels, jc + _chunkPanels), 0, mPanels, i0, rowsM, mPanels, kb0, kb1, bPack, tile);
                    }
                }
                else
                {
                    int ir0 = mPanels * worker / workers, ir1 = mPanels * (worker + 1) / workers;
                    for (int jc = 0; jc < _nPanels; jc += _chunkPanels)
                        Chunk(jc, Math.Min(_nPanels, jc + _chunkPanels), ir0, ir1, i0, rowsM, mPanels, kb0, kb1, bPack, tile);
                }
            }
        }
    }

    // C[row panels ir0..ir1, column panels jc..jcEnd] over the K group: the C chunk stays in L2 across its k blocks.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Chunk(int jc, int jcEnd, int ir0, int ir1, int i0, int rowsM, int mPanels, int kb0, int kb1, float* bPack, float* tile)
    {
        int mr = _mr, nr = _nr, kc = _kc;
        for (int kbi = kb0; kbi < kb1; kbi++)
        {
            int p0 = kbi * kc, kcb = Math.Min(kc, _k - p0);
            bool acc = _accumulate || kbi > 0;
            for (int jr = jc; jr < jcEnd; jr++)
            {
                int j0 = jr * nr, cols = Math.Min(nr, _n - j0);
                float* bSrc = _transB ? _b + (nint)j0 * _ldb + p0 : _b + (nint)p0 * _ldb + j0;
                float* bp;
                nint bStride = nr;
                if (_directB)
                {
                    // Skinny M: read B in place (only the ragged last panel is packed).
                    if (cols == nr) { bp = bSrc; bStride = _ldb; }
                    else { GemmPack.PackB(_transB, bSrc, _ldb, kcb, cols, nr, bPack); bp = bPack; }
                }
                else
                {
                    // Pack PackPanels panels at once: each B row (K×N) is then read in runs of several cache lines
                    // per TLB lookup, instead of 128 bytes per panel.
                    int q = (jr - jc) % PackPanels;
                    if (q == 0)
                    {
                        int panels = Math.Min(PackPanels, jcEnd - jr);
                        GemmPack.PackBPanels(_transB, bSrc, _ldb, kcb, Math.Min(panels * nr, _n - j0), nr, panels, bPack);
                    }
                    bp = bPack + q * kcb * nr;
                }
                for (int ir = ir0; ir < ir1; ir++)
                {
                    int r0 = ir * mr, rows = Math.Min(mr, rowsM - r0);
                    float* cp = _c + (nint)(i0 + r0) * _ldc + j0;
                    Tile(APanel(kb0, kbi, ir, mPanels), PanelRows(rows), rows, bp, bStride, cols, kcb, cp, acc, tile);
                }
            }
        }
    }

    // Rows of the packed panel that holds `rows` valid rows: AVX-512 has 4/8/12-row kernels, the fallbacks only MR.
    private int PanelRows(int rows) => _level == 3 ? (rows <= 4 ? 4 : rows <= 8 ? 8 : 12) : _mr;

    // Ã layout within a K group: k block after k block; in each, panel after panel of mr×kc (the last may be shorter).
    private float* APanel(int kb0, int kbi, int ir, int mPanels)
    {
        nint blockFloats = (nint)mPanels * _mr * _kc; // every k block but the last of K is a full kc
        int kcb = Math.Min(_kc, _k - kbi * _kc);
        return _aPack + (kbi - kb0) * blockFloats + (nint)ir * _mr * kcb;
    }

    private void Tile(float* ap, int panelRows, int rows, float* bp, nint bStride, int cols, int kc, float* c, bool accumulate, float* tile)
    {
        int nr = _nr;
        if (rows == panelRows && cols == nr)
        {
            Kernel(panelRows, kc, ap, bp, bStride, c, _ldc, accumulate);
            return;
        }
        Kernel(panelRows, kc, ap, bp, bStride, tile, nr, false);
        for (int i = 0; i < rows; i++)
        {
            float* src = tile + i * nr, dst = c + i * _ldc;
            if (accumulate) for (int j = 0; j < cols; j++) dst[j] += src[j];
            else for (int j = 0; j < cols; j++) dst[j] = src[j];
        }
    }

    private void Kernel(int panelRows, nint kc, float* a, float* b, nint ldb, float* c, nint ldc, bool accumulate)
    {
        switch (_level)
        {
            case 3 when ldb != 32:
                if (panelRows == 12) GemmKernels.Avx512x12Direct(kc, a, b, ldb, c, ldc, accumulate);
                else if (panelRows == 8) GemmKernels.Avx512x8Direct(kc, a, b, ldb, c, ldc, accumulate);
                else GemmKernels.Avx512x4Direct(kc, a, b, ldb, c, ldc, accumulate);
                break;
            case 3:
                if (panelRows == 12) GemmKernels.Avx512x12(kc, a, b, ldb, c, ldc, accumulate);
                else if (panelRows == 8) GemmKernels.Avx512x8(kc, a, b, ldb, c, ldc, accumulate);
                else GemmKernels.Avx512x4(kc, a, b, ldb, c, ldc, accumulate);
                break;
            case 2:
                GemmKernels.V256x6(kc, a, b, ldb, c, ldc, accumulate);
                break;
            default:
                GemmKernels.V128x6(kc, a, b, ldb, c, ldc, accumulate);
                break;
        }
    }

    /// <summary>The widest kernel set this machine accelerates: 3 = AVX-512, 2 = Vector256, 1 = Vector128, 0 = none.</summary>
    public static readonly int Level =
        Vector512.IsHardwareAccelerated ? 3 : Vector256.IsHardwareAccelerated ? 2 : Vector128.IsHardwareAccelerated ? 1 : 0;
}
