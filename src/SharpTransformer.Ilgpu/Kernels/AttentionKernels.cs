using ILGPU;

namespace SharpTransformer.Ilgpu.Kernels;

/// <summary>Attention sizes for kernels (see <see cref="SharpTransformer.Backends.AttentionShape"/>) and the bias layout.</summary>
internal struct AttnArgs
{
    public int B, H, KvH, Tq, Tk, D, Dv, KeyRows, Group, Causal, Window;
    public float Scale;
    public int HasMask, HasBias, HasDBias;
    public int BiasOff, BiasS0, BiasS1, BiasS2, BiasS3;

    /// <summary>Last key index + 1 that query i may see.</summary>
    public readonly int Limit(int i)
    {
        if (Causal == 0) return Tk;
        int l = i + Tk - Tq + 1;
        return l < Tk ? l : Tk;
    }

    /// <summary>First key index query i may see (a sliding window cuts earlier keys off).</summary>
    public readonly int Start(int i)
    {
        if (Causal == 0 || Window <= 0) return 0;
        int st = i + Tk - Tq - Window + 1;
        return st > 0 ? st : 0;
    }
}

/// <summary>
/// Flash-style attention. Forward: one group per query row streams over blocks of group-size keys with an online softmax
/// (each thread scores one key of the block, then every thread updates its share of the value head dimensions), so memory
/// stays O(HeadDim + ValueDim + group) per row. Only the keys in [Start(i), Limit(i)) are visited (causal and sliding window).
/// Keys are (.., D) and values (.., Dv) per position. Backward recomputes probabilities from the saved log-sum-exp in two deterministic
/// passes without atomics: one group per query row for dq (and dbias), one group per key row for dk and dv.
/// </summary>
internal static class AttentionKernels
{
    private static float Score(ArrayView<float> qsh, ArrayView<float> k, ArrayView<float> mask, ArrayView<float> bias, AttnArgs s,
        int kOff, int b, int h, int i, int j)
    {
        if (s.HasMask != 0 && mask[b * s.Tk + j] == 0f) return float.NegativeInfinity;
        float dot = 0f;
        for (int d = 0; d < s.D; d++) dot += qsh[d] * k[kOff + d];
        float sc = dot * s.Scale;
        if (s.HasBias != 0) sc += bias[s.BiasOff + b * s.BiasS0 + h * s.BiasS1 + i * s.BiasS2 + j * s.BiasS3];
        return sc;
    }

    /// <summary>Grid = Batch·Heads·QueryLength groups. Shared: q (D), acc (Dv), block (G) floats.</summary>
    public static void Forward(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask, ArrayView<float> bias,
        ArrayView<float> output, ArrayView<float> lse, AttnArgs s)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int G = Group.DimX, t = Group.IdxX;
        int row = Grid.IdxX;
        int D = s.D, Dv = s.Dv;
        int i = row % s.Tq, bh = row / s.Tq, h = bh % s.H, b = bh / s.H;
        int kvHead = (b * s.KvH + h / s.Group) * s.KeyRows;
        int kBase = kvHead * D, vBase = kvHead * Dv;
        var qsh = sh.SubView(0, D);
        int accOff = D, blk = D + Dv;
        for (int d = t; d < D; d += G) sh[d] = q[row * D + d];
        for (int d = t; d < Dv; d += G) sh[accOff + d] = 0f;
        Group.Barrier();
        int start = s.Start(i), limit = s.Limit(i);
        float m = float.NegativeInfinity, l = 0f;
        for (int j0 = start; j0 < limit; j0 += G)
        {
            int n = limit - j0 < G ? limit - j0 : G;
            float sc = t < n ? Score(qsh, k, mask, bias, s, kBase + (j0 + t) * D, b, h, i, j0 + t) : float.NegativeInfinity;
            sh[blk + t] = sc;
            Group.Barrier();
            float bmax = float.NegativeInfinity;
            for (int jj = 0; jj < n; jj++) bmax = DeviceMath.Max(bmax, sh[blk + jj]);
            bool any = bmax != float.NegativeInfinity;
            float nm = DeviceMath.Max(m, bmax);
            float p = any && t < n ? DeviceMath.Exp(sc - nm) : 0f;
            Group.Barrier();
            sh[blk + t] = p;
            Group.Barrier();
            if (any)
            {
                float corr = m == float.NegativeInfinity ? 0f : DeviceMath.Exp(m - nm);
                float ps = 0f;
                for (int jj = 0; jj < n; jj++) ps += sh[blk + jj];
                l = l * corr + ps;
                for (int d = t; d < Dv; d += G)
                {
                    float acc = sh[accOff + d] * corr;
                    for (int jj = 0; jj < n; jj++) acc += sh[blk + jj] * v[vBase + (j0 + jj) * Dv + d];
                    sh[accOff + d] = acc;
                }
                m = nm;
            }
            Group.Barrier();
        }
        if (l == 0f)
        {
            for (int d = t; d < Dv; d += G) output[row * Dv + d] = 0f;
            if (t == 0) lse[row] = float.NegativeInfinity;
            return;
        }
        float inv = 1f / l;
        for (int d = t; d < Dv; d += G) output[row * Dv + d] = sh[accOff + d] * inv;
        if (t == 0) lse[row] = m + DeviceMath.Log(l);
    }

    /// <summary>delta[row] = dO[row] · O[row], one thread per query row.</summary>
    public static void Delta(Index1D row, ArrayView<float> output, ArrayView<float> dOutput, ArrayView<float> delta, int d)
    {
        float s = 0f;
        for (int c = 0; c < d; c++) s += dOutput[row * d + c] * output[row * d + c];
        delta[row] = s;
    }

    /// <summary>dq (and dbias) with one group per query row. Shared: q (D), dO (Dv), dq acc (D), block (G) floats.</summary>
    public static void BackwardQuery(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask, ArrayView<float> bias,
        ArrayView<float> lse, ArrayView<float> delta, ArrayView<float> dOutput, ArrayView<float> dq, ArrayView<float> dbias, AttnArgs s)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int G = Group.DimX, t = Group.IdxX;
        int row = Grid.IdxX;
        int D = s.D, Dv = s.Dv;
        int i = row % s.Tq, bh = row / s.Tq, h = bh % s.H, b = bh / s.H;
        int kvHead = (b * s.KvH + h / s.Group) * s.KeyRows;
        int kBase = kvHead * D, vBase = kvHead * Dv;
        var qsh = sh.SubView(0, D);
        int goOff = D, accOff = D + Dv, blk = 2 * D + Dv;
        float lsei = lse[row];
        bool live = lsei != float.NegativeInfinity;
        int start = live ? s.Start(i) : 0, limit = live ? s.Limit(i) : 0;
        for (int d = t; d < D; d += G) { sh[d] = q[row * D + d]; sh[accOff + d] = 0f; }
        for (int d = t; d < Dv; d += G) sh[goOff + d] = dOutput[row * Dv + d];
        if (s.HasDBias != 0)
        {
            for (int j = t; j < start; j += G) dbias[row * s.Tk + j] = 0f;
            for (int j = limit + t; j < s.Tk; j += G) dbias[row * s.Tk + j] = 0f;
        }
        Group.Barrier();
        float di = delta[row];
        for (int j0 = start; j0 < limit; j0 += G)
        {
            int n = limit - j0 < G ? limit - j0 : G;
            float ds = 0f;
            if (t < n)
            {
                int j = j0 + t;
                float sc = Score(qsh, k, mask, bias, s, kBase + j * D, b, h, i, j);
                if (sc != float.NegativeInfinity)
                {
                    float p = DeviceMath.Exp(sc - lsei);
                    float dp = 0f;
                    int vOff = vBase + j * Dv;
                    for (int d = 0; d < Dv; d++) dp += sh[goOff + d] * v[vOff + d];
                    ds = p * (dp - di);
                }
                if (s.HasDBias != 0) dbias[row * s.Tk + j] = ds;
            }
            sh[blk + t] = ds * s.Scale;
            Group.Barrier();
            for (int d = t; d < D; d += G)
            {
                float acc = sh[accOff + d];
                for (int jj = 0; jj < n; jj++) acc += sh[blk + jj] * k[kBase + (j0 + jj) * D + d];
                sh[accOff + d] = acc;
            }
            Group.Barrier();
        }
        for (int d = t; d < D; d += G) dq[row * D + d] = sh[accOff + d];
    }

    /// <summary>
    /// dk and dv with one group per key row (Batch·KvHeads·KeyLength groups): the group walks every query row of the heads
    /// that share this key head (only the queries whose causal window holds the key). Shared: k (D), v (Dv), dk acc (D), dv acc (Dv),
    /// p block (G), ds block (G) floats.
    /// </summary>
    public static void BackwardKey(ArrayView<float> q, ArrayView<float> k, ArrayView<float> v, ArrayView<float> mask, ArrayView<float> bias,
        ArrayView<float> lse, ArrayView<float> delta, ArrayView<float> dOutput, ArrayView<float> dk, ArrayView<float> dv, AttnArgs s)
    {
        var sh = SharedMemory.GetDynamic<float>();
        int G = Group.DimX, t = Group.IdxX;
        int krow = Grid.IdxX;
        int D = s.D, Dv = s.Dv;
        int j = krow % s.Tk, bk = krow / s.Tk, kvh = bk % s.KvH, b = bk / s.KvH;
        int kvPos = (b * s.KvH + kvh) * s.KeyRows + j;
        int kOff = kvPos * D, vIn = kvPos * Dv;
        var ksh = sh.SubView(0, D);
        int vOff = D, dkOff = D + Dv, dvOff = 2 * D + Dv, pBlk = 2 * D + 2 * Dv, dsBlk = pBlk + G;
        for (int d = t; d < D; d += G) { sh[d] = k[kOff + d]; sh[dkOff + d] = 0f; }
        for (int d = t; d < Dv; d += G) { sh[vOff + d] = v[vIn + d]; sh[dvOff + d] = 0f; }
        Group.Barrier();
        bool masked = s.HasMask != 0 && mask[b * s.Tk + j] == 0f;
        // Causal: query i sees key j when j <= i + Tk - Tq, i.e. i >= j - (Tk - Tq); with a window w also j > i + Tk - Tq - w,
        // i.e. i < j - (Tk - Tq) + w.
        int iStart = s.Causal != 0 ? j - (s.Tk - s.Tq) : 0;
        if (iStart < 0) iStart = 0;
        int iEnd = s.Tq;
        if (s.Causal != 0 && s.Window > 0)
        {
            int e = j - (s.Tk - s.Tq) + s.Window;
            if (e < iEnd) iEnd = e;
        }
        int perHead = iEnd - iStart;
        int total = masked || perHead <= 0 ? 0 : s.Group * perHead;
        for (int e0 = 0; e0 < total; e0 += G)
        {
            int n = total - e0 < G ? total - e0 : G;
            float p = 0f, ds = 0f;
            if (t < n)
            {
                int e = e0 + t;
                int h = kvh * s.Group + e / perHead, i = iStart + e % perHead;
                int row = (b * s.H + h) * s.Tq + i;
                float lsei = lse[row];
                if (lsei != float.NegativeInfinity)
                {
                    float dot = 0f, dp = 0f;
                    for (int d = 0; d < D; d++) dot += q[row * D + d] * sh[d];
                    for (int d = 0; d < Dv; d++) dp += dOutput[row * Dv + d] * sh[vOff + d];
                    float sc = dot * s.Scale;
                    if (s.HasBias != 0) sc += bias[s.BiasOff + b * s.BiasS0 + h * s.BiasS1 + i * s.BiasS2 + j * s.BiasS3];
                    if (sc != float.NegativeInfinity)
                    {
                        p = DeviceMath.Exp(sc - lsei);
                        ds = p * (dp - delta[row]) * s.Scale;
                    }
                }
            }
            sh[pBlk + t] = p;
            sh[dsBlk + t] = ds;
            Group.Barrier();
            for (int d = t; d < D; d += G)
            {
                float adk = sh[dkOff + d];
                for (int jj = 0; jj < n; jj++)
                {
                    int e = e0 + jj;
                    int h = kvh * s.Group + e / perHead, i = iStart + e % perHead;
                    adk += sh[dsBlk + jj] * q[((b * s.H + h) * s.Tq + i) * D + d];
                }
                sh[dkOff + d] = adk;
            }
            for (int d = t; d < Dv; d += G)
            {
                float adv = sh[dvOff + d];
                for (int jj = 0; jj < n; jj++)
                {
                    int e = e0 + jj;
                    int h = kvh * s.Group + e / perHead, i = iStart + e % perHead;
                    adv += sh[pBlk + jj] * dOutput[((b * s.H + h) * s.Tq + i) * Dv + d];
                }
                sh[dvOff + d] = adv;
            }
            Group.Barrier();
        }
        for (int d = t; d < D; d += G) dk[krow * D + d] = sh[dkOff + d];
        for (int d = t; d < Dv; d += G) dv[krow * Dv + d] = sh[dvOff + d];
    }
}
