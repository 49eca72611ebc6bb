using System.Numerics.Tensors;
using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Cpu;

// Flash-style attention: each query row streams over key blocks with an online softmax, so memory is O(D + block)
// per row instead of O(Tq·Tk). The backward recomputes probabilities from the saved log-sum-exp.
public sealed partial class CpuBackend
{
    private const int KeyBlock = 64;

    /// <inheritdoc/>
    public void Attention(in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias, in Layout biasLayout,
        IStorage output, IStorage lse)
    {
        var qa = F(q); var ka = F(k); var va = F(v); var oa = F(output); var la = F(lse);
        var ma = keyMask is null ? null : F(keyMask);
        var ba = bias is null ? null : F(bias);
        var sh = s;
        var bl = biasLayout;
        int d = s.HeadDim, tq = s.QueryLength, tk = s.KeyLength;
        ParallelFor(s.Batch * s.Heads * tq, (long)tk * d * 2, (r0, r1) =>
        {
            Span<float> scores = stackalloc float[KeyBlock];
            Span<float> acc = d <= 1024 ? stackalloc float[d] : new float[d];
            for (int row = r0; row < r1; row++)
            {
                int i = row % tq, bh = row / tq, h = bh % sh.Heads, b = bh / sh.Heads;
                int kvBase = (b * sh.KvHeads + h / sh.Group) * sh.KeyRows * d;
                var qi = qa.AsSpan(row * d, d);
                int limit = sh.Causal ? Math.Min(tk, i + tk - tq + 1) : tk;
                float m = float.NegativeInfinity, l = 0f;
                acc.Clear();
                for (int j0 = 0; j0 < limit; j0 += KeyBlock)
                {
                    int n = Math.Min(KeyBlock, limit - j0);
                    float bm = float.NegativeInfinity;
                    for (int jj = 0; jj < n; jj++)
                    {
                        int j = j0 + jj;
                        float sc = ScoreOf(qi, ka, kvBase + j * d, d, sh.Scale, ma, b, tk, j, ba, bl, h, i);
                        scores[jj] = sc;
                        if (sc > bm) bm = sc;
                    }
                    if (float.IsNegativeInfinity(bm)) continue;
                    float nm = Math.Max(m, bm);
                    if (nm != m)
                    {
                        float corr = MathF.Exp(m - nm);
                        l *= corr;
                        TensorPrimitives.Multiply(acc, corr, acc);
                        m = nm;
                    }
                    for (int jj = 0; jj < n; jj++)
                    {
                        float p = MathF.Exp(scores[jj] - m);
                        if (p == 0f) continue;
                        l += p;
                        TensorPrimitives.MultiplyAdd(va.AsSpan(kvBase + (j0 + jj) * d, d), p, acc, acc);
                    }
                }
                var oi = oa.AsSpan(row * d, d);
                if (l == 0f) { oi.Clear(); la[row] = float.NegativeInfinity; continue; }
                TensorPrimitives.Multiply(acc, 1f / l, oi);
                la[row] = m + MathF.Log(l);
            }
        });
    }

    private static float ScoreOf(ReadOnlySpan<float> qi, float[] ka, int kOff, int d, float scale, float[]? mask, int b, int tk, int j,
        float[]? bias, in Layout bl, int h, int i)
    {
        if (mask is not null && mask[b * tk + j] == 0f) return float.NegativeInfinity;
        float sc = TensorPrimitives.Dot(qi, ka.AsSpan(kOff, d)) * scale;
        if (bias is not null) sc += bias[bl.Offset + b * bl.Strides[0] + h * bl.Strides[1] + i * bl.Strides[2] + j * bl.Strides[3]];
        return sc;
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
        int d = s.HeadDim, tq = s.QueryLength, tk = s.KeyLength;
        ParallelFor(s.Batch * s.KvHeads, (long)s.Group * tq * tk * d * 4, (t0, t1) =>
        {
            for (int task = t0; task < t1; task++)
            {
                int b = task / sh.KvHeads, kvh = task % sh.KvHeads;
                int kvBase = (b * sh.KvHeads + kvh) * sh.KeyRows * d;   // k, v: (B, KvHeads, KeyRows, D)
                int outBase = (b * sh.KvHeads + kvh) * tk * d;          // dk, dv: (B, KvHeads, KeyLength, D)
                dka.AsSpan(outBase, tk * d).Clear();
                dva.AsSpan(outBase, tk * d).Clear();
                for (int h = kvh * sh.Group; h < (kvh + 1) * sh.Group; h++)
                {
                    for (int i = 0; i < tq; i++)
                    {
                        int row = (b * sh.Heads + h) * tq + i;
                        var dqi = dqa.AsSpan(row * d, d);
                        dqi.Clear();
                        int dbRow = dba is null ? 0 : row * tk;
                        if (dba is not null) dba.AsSpan(dbRow, tk).Clear();
                        float lsei = la[row];
                        if (float.IsNegativeInfinity(lsei)) continue;
                        var qi = qa.AsSpan(row * d, d);
                        var gi = ga.AsSpan(row * d, d);
                        float di = TensorPrimitives.Dot(gi, oa.AsSpan(row * d, d));
                        int limit = sh.Causal ? Math.Min(tk, i + tk - tq + 1) : tk;
                        for (int j = 0; j < limit; j++)
                        {
                            float sc = ScoreOf(qi, ka, kvBase + j * d, d, sh.Scale, ma, b, tk, j, ba, bl, h, i);
                            if (float.IsNegativeInfinity(sc)) continue;
                            float p = MathF.Exp(sc - lsei);
                            var kj = ka.AsSpan(kvBase + j * d, d);
                            var vj = va.AsSpan(kvBase + j * d, d);
                            float dp = TensorPrimitives.Dot(gi, vj);
                            float ds = p * (dp - di);
                            if (dba is not null) dba[dbRow + j] = ds;
                            var dvj = dva.AsSpan(outBase + j * d, d);
                            TensorPrimitives.MultiplyAdd(gi, p, dvj, dvj);
                            float dss = ds * sh.Scale;
                            TensorPrimitives.MultiplyAdd(kj, dss, dqi, dqi);
                            var dkj = dka.AsSpan(outBase + j * d, d);
                            TensorPrimitives.MultiplyAdd(qi, dss, dkj, dkj);
                        }
                    }
                }
            }
        });
    }
}
