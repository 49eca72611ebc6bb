using System.Buffers;
using System.Numerics.Tensors;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

// Flash-style attention over tiles: a tile of queries meets a tile of keys through small GEMMs (S = Q Kᵀ, O += P V), with an
// online softmax across key tiles, so memory is O(tile²) per task instead of O(Tq·Tk). The backward recomputes P from the
// saved log-sum-exp (FlashAttention-2): dV += Pᵀ dO, dP = dO Vᵀ, dS = P ∘ (dP − rowsum(dO ∘ O)), dQ += dS K, dK += dSᵀ Q.
public sealed partial class CpuBackend
{
    private const int QueryTile = 64;
    private const int KeyTile = 128;

    /// <inheritdoc/>
    public void Attention(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse)
    {
        var qa = F(q); var ka = F(k); var va = F(v); var oa = F(output); var la = F(lse);
        var ma = keyMask is null ? null : F(keyMask);
        var ba = bias is null ? null : F(bias);
        var sh = s;
        var bl = biasLayout;
        s.Validate("cpu.Attention");
        int d = s.HeadDim, dv = s.ValueHeadDim, tq = s.QueryLength, tk = s.KeyLength;
        int qTiles = (tq + QueryTile - 1) / QueryTile;
        ParallelFor(s.Batch * s.Heads * qTiles, (long)Math.Min(tq, QueryTile) * tk * (d + dv) * 2, (t0, t1) =>
        {
            var sbuf = ArrayPool<float>.Shared.Rent(QueryTile * KeyTile);
            var acc = ArrayPool<float>.Shared.Rent(QueryTile * dv);
            Span<float> m = stackalloc float[QueryTile];
            Span<float> l = stackalloc float[QueryTile];
            try
            {
                for (int task = t0; task < t1; task++)
                {
                    int qt = task % qTiles, bh = task / qTiles, h = bh % sh.Heads, b = bh / sh.Heads;
                    int q0 = qt * QueryTile, rows = Math.Min(QueryTile, tq - q0);
                    int qOff = (bh * tq + q0) * d;
                    int kvHead = (b * sh.KvHeads + h / sh.Group) * sh.KeyRows;
                    int kBase = kvHead * d, vBase = kvHead * dv;
                    int kStart = sh.KeyStart(q0), kEnd = sh.KeyEnd(q0 + rows - 1);   // keys any row of the tile may see
                    m[..rows].Fill(float.NegativeInfinity);
                    l[..rows].Clear();
                    Array.Clear(acc, 0, rows * dv);
                    for (int k0 = kStart; k0 < kEnd; k0 += KeyTile)
                    {
                        int nk = Math.Min(KeyTile, kEnd - k0);
                        Sgemm.Multiply(false, true, rows, nk, d, qa, qOff, d, ka, kBase + k0 * d, d, sbuf, 0, nk, false, 1);    // S = Q Kᵀ
                        for (int r = 0; r < rows; r++)
                        {
                            var sr = sbuf.AsSpan(r * nk, nk);
                            Scores(sr, sh, ma, ba, bl, b, h, q0 + r, k0);
                            float bm = TensorPrimitives.Max(sr);
                            if (float.IsNegativeInfinity(bm)) { sr.Clear(); continue; }
                            float nm = Math.Max(m[r], bm);
                            if (nm != m[r])
                            {
                                float corr = MathF.Exp(m[r] - nm);
                                l[r] *= corr;
                                if (corr != 1f) TensorPrimitives.Multiply(acc.AsSpan(r * dv, dv), corr, acc.AsSpan(r * dv, dv));
                                m[r] = nm;
                            }
                            TensorPrimitives.Subtract(sr, nm, sr);
                            TensorPrimitives.Exp(sr, sr);                                                                     // P
                            l[r] += TensorPrimitives.Sum(sr);
                        }
                        Sgemm.Multiply(false, false, rows, dv, nk, sbuf, 0, nk, va, vBase + k0 * dv, dv, acc, 0, dv, true, 1);  // O += P V
                    }
                    for (int r = 0; r < rows; r++)
                    {
                        int row = bh * tq + q0 + r;
                        var o = oa.AsSpan(row * dv, dv);
                        if (l[r] == 0f) { o.Clear(); la[row] = float.NegativeInfinity; continue; }
                        TensorPrimitives.Multiply(acc.AsSpan(r * dv, dv), 1f / l[r], o);
                        la[row] = m[r] + MathF.Log(l[r]);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(sbuf);
                ArrayPool<float>.Shared.Return(acc);
            }
        });
    }

    // Scales one row of raw scores and applies the additive bias, the key padding mask and the causal (and window) limits (-inf).
    // The branches are per row, not per element: the common case (no bias, no mask, no window) costs one multiply.
    private static void Scores(Span<float> sr, in AttentionShape s, float[]? mask, float[]? bias, in Layout bl, int b, int h, int i, int k0)
    {
        int nk = sr.Length;
        TensorPrimitives.Multiply(sr, s.Scale, sr);
        if (bias is not null)
        {
            int bo = bl.Offset + b * bl.Strides[0] + h * bl.Strides[1] + i * bl.Strides[2];
            int bs = bl.Strides[3];
            if (bs == 1) TensorPrimitives.Add(sr, bias.AsSpan(bo + k0, nk), sr);
            else for (int j = 0; j < nk; j++) sr[j] += bias[bo + (k0 + j) * bs];
        }
        if (mask is not null)
        {
            int mo = b * s.KeyLength + k0;
            for (int j = 0; j < nk; j++) if (mask[mo + j] == 0f) sr[j] = float.NegativeInfinity;
        }
        if (s.Causal)
        {
            int limit = i + s.KeyLength - s.QueryLength + 1 - k0;   // first masked column in this tile
            for (int j = Math.Max(0, limit); j < nk; j++) sr[j] = float.NegativeInfinity;
            if (s.Window > 0)
            {
                int start = Math.Min(nk, s.KeyStart(i) - k0);         // columns before it fell out of the window
                for (int j = 0; j < start; j++) sr[j] = float.NegativeInfinity;
            }
        }
    }

    /// <inheritdoc/>
    public void AttentionBackward(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse, IStorage dOutput, IStorage dq, IStorage dk, IStorage dv, IStorage? dbias)
    {
        var qa = F(q); var ka = F(k); var va = F(v); var oa = F(output); var la = F(lse); var ga = F(dOutput);
        var dqa = F(dq); var dka = F(dk); var dva = F(dv);
        var ma = keyMask is null ? null : F(keyMask);
        var ba = bias is null ? null : F(bias);
        var dba = dbias is null ? null : F(dbias);
        var sh = s;
        var bl = biasLayout;
        s.Validate("cpu.AttentionBackward");
        int d = s.HeadDim, dvh = s.ValueHeadDim, tq = s.QueryLength, tk = s.KeyLength;
        ParallelFor(s.Batch * s.KvHeads, (long)s.Group * tq * tk * (d + dvh) * 4, (t0, t1) =>
        {
            var pbuf = ArrayPool<float>.Shared.Rent(QueryTile * KeyTile);
            var dpbuf = ArrayPool<float>.Shared.Rent(QueryTile * KeyTile);
            Span<float> di = stackalloc float[QueryTile];
            try
            {
                for (int task = t0; task < t1; task++)
                {
                    int b = task / sh.KvHeads, kvh = task % sh.KvHeads;
                    int kIn = (b * sh.KvHeads + kvh) * sh.KeyRows * d, vIn = kIn / d * dvh;    // k, v storage
                    int kOut = (b * sh.KvHeads + kvh) * tk * d, vOut = kOut / d * dvh;         // dk, dv storage
                    dka.AsSpan(kOut, tk * d).Clear();
                    dva.AsSpan(vOut, tk * dvh).Clear();
                    for (int h = kvh * sh.Group; h < (kvh + 1) * sh.Group; h++)
                    {
                        int bh = b * sh.Heads + h;
                        dqa.AsSpan(bh * tq * d, tq * d).Clear();
                        if (dba is not null) dba.AsSpan(bh * tq * tk, tq * tk).Clear();
                        for (int q0 = 0; q0 < tq; q0 += QueryTile)
                        {
                            int rows = Math.Min(QueryTile, tq - q0);
                            int qOff = (bh * tq + q0) * d, oOff = (bh * tq + q0) * dvh;
                            for (int r = 0; r < rows; r++) di[r] = TensorPrimitives.Dot(ga.AsSpan(oOff + r * dvh, dvh), oa.AsSpan(oOff + r * dvh, dvh));
                            int kStart = sh.KeyStart(q0), kEnd = sh.KeyEnd(q0 + rows - 1);
                            for (int k0 = kStart; k0 < kEnd; k0 += KeyTile)
                            {
                                int nk = Math.Min(KeyTile, kEnd - k0);
                                Sgemm.Multiply(false, true, rows, nk, d, qa, qOff, d, ka, kIn + k0 * d, d, pbuf, 0, nk, false, 1);    // S = Q Kᵀ
                                for (int r = 0; r < rows; r++)
                                {
                                    var pr = pbuf.AsSpan(r * nk, nk);
                                    float lr = la[bh * tq + q0 + r];
                                    if (float.IsNegativeInfinity(lr)) { pr.Clear(); continue; }
                                    Scores(pr, sh, ma, ba, bl, b, h, q0 + r, k0);
                                    TensorPrimitives.Subtract(pr, lr, pr);
                                    TensorPrimitives.Exp(pr, pr);                                                                    // P
                                }
                                Sgemm.Multiply(true, false, nk, dvh, rows, pbuf, 0, nk, ga, oOff, dvh, dva, vOut + k0 * dvh, dvh, true, 1);  // dV += Pᵀ dO
                                Sgemm.Multiply(false, true, rows, nk, dvh, ga, oOff, dvh, va, vIn + k0 * dvh, dvh, dpbuf, 0, nk, false, 1);  // dP = dO Vᵀ
                                for (int r = 0; r < rows; r++)
                                {
                                    var dp = dpbuf.AsSpan(r * nk, nk);
                                    TensorPrimitives.Subtract(dp, di[r], dp);
                                    TensorPrimitives.Multiply(dp, pbuf.AsSpan(r * nk, nk), dp);                                       // dS
                                    if (dba is not null) dp.CopyTo(dba.AsSpan((bh * tq + q0 + r) * tk + k0, nk));
                                    TensorPrimitives.Multiply(dp, sh.Scale, dp);
                                }
                                Sgemm.Multiply(false, false, rows, d, nk, dpbuf, 0, nk, ka, kIn + k0 * d, d, dqa, qOff, d, true, 1);   // dQ += dS K
                                Sgemm.Multiply(true, false, nk, d, rows, dpbuf, 0, nk, qa, qOff, d, dka, kOut + k0 * d, d, true, 1);  // dK += dSᵀ Q
                            }
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(pbuf);
                ArrayPool<float>.Shared.Return(dpbuf);
            }
        });
    }
}
