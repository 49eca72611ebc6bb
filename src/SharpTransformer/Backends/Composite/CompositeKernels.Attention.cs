using SharpTransformer.Tensors;

namespace SharpTransformer.Backends.Composite;

public static partial class CompositeKernels
{
    // Grouped-query attention as batched matrix products: the query heads of one key/value head are consecutive, so q
    // (B, H, Tq, D) is (B·Hkv, G·Tq, D) and the scores (B, H, Tq, Tk) are (B·Hkv, G·Tq, Tk); keys (B·Hkv, Tk, D) and values
    // (B·Hkv, Tk, Dv) are read through strides of KeyRows positions per head (the KV-cache capacity).

    /// <summary>
    /// <see cref="IBackend.Attention"/> from primitives, with every option of <see cref="AttentionShape"/> (grouped-query heads,
    /// value head size, causal and sliding-window masks, key padding mask, additive bias, cache capacity). It materialises the
    /// (Batch, Heads, QueryLength, KeyLength) scores, so memory grows with QueryLength·KeyLength.
    /// </summary>
    public static void Attention(IBackend b, in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias,
        in Layout biasLayout, IStorage output, IStorage lse)
    {
        s.Validate("Attention");
        int rows = s.Batch * s.Heads * s.QueryLength, dv = s.ValueHeadDim;
        if (rows == 0) return;
        if (s.KeyLength == 0)
        {
            b.Fill(output, C(rows * dv), 0f);
            b.Fill(lse, C(rows), float.NegativeInfinity);
            return;
        }
        using var t = new Scratch(b);
        int tk = s.KeyLength;
        var sc = MaskedScores(b, t, s, q, k, keyMask, bias, biasLayout);   // (rows, Tk), -inf where masked
        var m = C(rows, tk);
        var r1 = C(rows);
        var max = t.F(rows);
        b.Reduce(ReduceOp.Max, sc, m, 1, max);
        // A row whose keys are all masked has max -inf: it gets max 0, so exp gives zeros, the output 0 and lse log(0) = -inf.
        var dead = t.F(rows);
        b.Binary(BinaryOp.Equal, max, r1, t.Const(float.NegativeInfinity), Scalar(rows), dead);
        var safeMax = t.F(rows);
        b.Where(dead, r1, t.Const(0f), Scalar(rows), max, r1, safeMax);
        var p = t.F(rows * tk);
        b.Binary(BinaryOp.Sub, sc, m, safeMax, PerRow(rows, tk), p);
        var e = t.F(rows * tk);
        b.Unary(UnaryOp.Exp, p, m, e);
        var l = t.F(rows);
        b.Reduce(ReduceOp.Sum, e, m, 1, l);
        var safeL = t.F(rows);
        b.Where(dead, r1, t.Const(1f), Scalar(rows), l, r1, safeL);
        b.Binary(BinaryOp.Div, e, m, safeL, PerRow(rows, tk), p);           // P
        b.MatMul(p, Probabilities(s), v, Values(s), output);                // O = P V
        var logL = t.F(rows);
        b.Unary(UnaryOp.Log, l, r1, logL);
        b.Binary(BinaryOp.Add, safeMax, r1, logL, r1, lse);
    }

    /// <summary>
    /// <see cref="IBackend.AttentionBackward"/> from primitives: P = exp(S - lse), dV = Pᵀ dO, dP = dO Vᵀ, dS = P (dP - rowsum(dO O)),
    /// dbias = dS, dQ = scale dS K, dK = scale dSᵀ Q (the sums over the query heads of a group come from the batched products).
    /// </summary>
    public static void AttentionBackward(IBackend b, in AttentionShape s, IStorage q, IStorage k, IStorage v, IStorage? keyMask, IStorage? bias,
        in Layout biasLayout, IStorage output, IStorage lse, IStorage dOutput, IStorage dq, IStorage dk, IStorage dv, IStorage? dbias)
    {
        s.Validate("AttentionBackward");
        int rows = s.Batch * s.Heads * s.QueryLength, tk = s.KeyLength, d = s.HeadDim, dvh = s.ValueHeadDim;
        int kvRows = s.Batch * s.KvHeads * tk;
        if (rows == 0 || tk == 0)
        {
            if (rows > 0) b.Fill(dq, C(rows * d), 0f);
            if (kvRows > 0) { b.Fill(dk, C(kvRows * d), 0f); b.Fill(dv, C(kvRows * dvh), 0f); }
            return;
        }
        using var t = new Scratch(b);
        var sc = MaskedScores(b, t, s, q, k, keyMask, bias, biasLayout);
        var m = C(rows, tk);
        var r1 = C(rows);
        // Rows with lse -inf (every key masked) use +inf, so that exp(S - lse) is 0 there.
        var dead = t.F(rows);
        b.Binary(BinaryOp.Equal, lse, r1, t.Const(float.NegativeInfinity), Scalar(rows), dead);
        var safeLse = t.F(rows);
        b.Where(dead, r1, t.Const(float.PositiveInfinity), Scalar(rows), lse, r1, safeLse);
        var p = t.F(rows * tk);
        b.Binary(BinaryOp.Sub, sc, m, safeLse, PerRow(rows, tk), p);
        b.Unary(UnaryOp.Exp, p, m, sc);                                       // P (sc reused)
        var pr = sc;
        int bk = s.Batch * s.KvHeads, gq = s.Group * s.QueryLength;
        var pT = new Layout([bk, tk, gq], [gq * tk, 1, tk]);
        b.MatMul(pr, pT, dOutput, C(bk, gq, dvh), dv);                      // dV = Pᵀ dO
        var dp = t.F(rows * tk);
        var vT = new Layout([bk, dvh, tk], [s.KeyRows * dvh, 1, dvh]);
        b.MatMul(dOutput, C(bk, gq, dvh), v, vT, dp);                       // dP = dO Vᵀ
        var od = t.F(rows * dvh);
        b.Binary(BinaryOp.Mul, dOutput, C(rows, dvh), output, C(rows, dvh), od);
        var delta = t.F(rows);
        b.Reduce(ReduceOp.Sum, od, C(rows, dvh), 1, delta);                 // rowsum(dO O)
        b.Binary(BinaryOp.Sub, dp, m, delta, PerRow(rows, tk), dp);
        var ds = t.F(rows * tk);
        b.Binary(BinaryOp.Mul, dp, m, pr, m, ds);                           // dS
        if (dbias is not null) b.Copy(ds, m, dbias, m);
        b.Unary(UnaryOp.MulScalar, ds, m, dp, s.Scale);                      // scale · dS
        var kLayout = new Layout([bk, tk, d], [s.KeyRows * d, d, 1]);
        b.MatMul(dp, C(bk, gq, tk), k, kLayout, dq);                         // dQ = scale dS K
        b.MatMul(dp, pT, q, C(bk, gq, d), dk);                               // dK = scale dSᵀ Q
    }

    // The scaled scores with bias and every mask applied: (rows, Tk) with -inf where a key is hidden.
    private static IStorage MaskedScores(IBackend b, Scratch t, in AttentionShape s, IStorage q, IStorage k, IStorage? keyMask,
        IStorage? bias, in Layout biasLayout)
    {
        int bk = s.Batch * s.KvHeads, gq = s.Group * s.QueryLength, tk = s.KeyLength, tq = s.QueryLength, d = s.HeadDim;
        int n = s.Batch * s.Heads * tq * tk;
        int[] full = [s.Batch, s.Heads, tq, tk];
        var f = C(full);
        var raw = t.F(n);
        b.MatMul(q, C(bk, gq, d), k, new Layout([bk, d, tk], [s.KeyRows * d, 1, d]), raw);   // Q Kᵀ
        var sc = t.F(n);
        b.Unary(UnaryOp.MulScalar, raw, f, sc, s.Scale);
        if (bias is not null) b.Binary(BinaryOp.Add, sc, f, bias, biasLayout, sc);
        var negInf = t.Const(float.NegativeInfinity);
        if (keyMask is not null)
        {
            b.Where(keyMask, new Layout((int[])full.Clone(), [tk, 0, 0, 1]), sc, f, negInf, Scalar(full), raw);
            (sc, raw) = (raw, sc);
        }
        if (s.Causal)
        {
            // diff[i, j] = j - i; visible when diff <= Tk - Tq (causal) and diff > Tk - Tq - window.
            var qi = t.F(tq); var kj = t.F(tk);
            b.Arange(qi, tq);
            b.Arange(kj, tk);
            var diff = t.F(tq * tk);
            b.Binary(BinaryOp.Sub, kj, PerCol(tq, tk), qi, PerRow(tq, tk), diff);
            var visible = t.F(tq * tk);
            b.Binary(BinaryOp.Less, diff, C(tq, tk), t.Const(tk - tq + 1), Scalar(tq, tk), visible);
            if (s.Window > 0)
            {
                var inWindow = t.F(tq * tk);
                b.Binary(BinaryOp.Greater, diff, C(tq, tk), t.Const(tk - tq - s.Window), Scalar(tq, tk), inWindow);
                b.Binary(BinaryOp.Mul, visible, C(tq, tk), inWindow, C(tq, tk), visible);
            }
            b.Where(visible, new Layout((int[])full.Clone(), [0, 0, tk, 1]), sc, f, negInf, Scalar(full), raw);
            (sc, raw) = (raw, sc);
        }
        return sc;
    }

    // P as (B·Hkv, G·Tq, Tk) and values as (B·Hkv, Tk, Dv) with KeyRows positions per head.
    private static Layout Probabilities(in AttentionShape s) => C(s.Batch * s.KvHeads, s.Group * s.QueryLength, s.KeyLength);

    private static Layout Values(in AttentionShape s) =>
        new([s.Batch * s.KvHeads, s.KeyLength, s.ValueHeadDim], [s.KeyRows * s.ValueHeadDim, s.ValueHeadDim, 1]);
}
