using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

public static partial class Functional
{
    /// <summary>
    /// Scaled dot-product attention, tiled flash-style (memory linear in sequence length), forward and backward.
    /// q (B, H, Tq, D); k (B, Hkv, Tk, D); v (B, Hkv, Tk, Dv) with H a multiple of Hkv (grouped-query attention); the result is
    /// (B, H, Tq, Dv). The value head size Dv may differ from the query-key head size D (DeepSeek's latent attention).
    /// <paramref name="causal"/>: query i sees keys j &lt;= i' with i' = i + Tk - Tq (aligned at the end, as with a KV cache).
    /// <paramref name="keyMask"/>: optional (B, Tk) Float32, 0 hides a padding key. <paramref name="bias"/>: optional additive
    /// scores broadcastable to (B, H, Tq, Tk), with its gradient (e.g. T5's relative positions, (1, H, Tq, Tk)).
    /// <paramref name="scale"/> defaults to 1/sqrt(D) (T5 uses 1). <paramref name="window"/>: a sliding window (Mistral), only with
    /// <paramref name="causal"/>: query i sees keys i' - window &lt; j &lt;= i'; null is unlimited.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, bool causal = false,
        Tensor? keyMask = null, Tensor? bias = null, float? scale = null, int? window = null)
    {
        const string op = "scaled_dot_product_attention";
        q.RequireFloat(op); k.RequireFloat(op); v.RequireFloat(op);
        if (q.Rank != 4 || k.Rank != 4 || v.Rank != 4)
            throw new ArgumentException($"{op}: q, k, v must be (batch, heads, time, head_dim); got {q.ShapeString}, {k.ShapeString}, {v.ShapeString}.");
        int bsz = q.Size(0), h = q.Size(1), tq = q.Size(2), d = q.Size(3);
        int hkv = k.Size(1), tk = k.Size(2), dv = v.Size(3);
        if (k.Size(0) != bsz || v.Size(0) != bsz || k.Size(3) != d || v.Size(1) != hkv || v.Size(2) != tk)
            throw new ArgumentException($"{op}: shapes do not agree: q {q.ShapeString}, k {k.ShapeString}, v {v.ShapeString} " +
                "(expected q (B, H, Tq, D), k (B, Hkv, Tk, D), v (B, Hkv, Tk, Dv)).");
        if (d == 0 || dv == 0)
            throw new ArgumentException($"{op}: head sizes must be positive: q {q.ShapeString}, v {v.ShapeString}.");
        if (hkv == 0 || h % hkv != 0)
            throw new ArgumentException($"{op}: {h} query heads are not a multiple of {hkv} key/value heads (q {q.ShapeString}, k {k.ShapeString}).");
        if (causal && tq > tk)
            throw new ArgumentException($"{op}: causal attention with more queries ({tq}) than keys ({tk}).");
        if (window is int w && (w < 1 || !causal))
            throw new ArgumentException(w < 1
                ? $"{op}: window must be at least 1, got {w}."
                : $"{op}: a sliding window ({w}) needs causal: true.");
        Tensor? mask = null;
        if (keyMask is not null)
        {
            keyMask.RequireFloat(op);
            if (keyMask.Rank != 2 || keyMask.Size(0) != bsz || keyMask.Size(1) != tk)
                throw new ArgumentException($"{op}: key mask {keyMask.ShapeString} must be ({bsz}, {tk}).");
            mask = keyMask.Dense();
        }
        Layout biasLayout = default;
        if (bias is not null)
        {
            bias.RequireFloat(op);
            int[] full = [bsz, h, tq, tk];
            if (bias.Rank > 4) throw new ArgumentException($"{op}: bias {bias.ShapeString} has more than 4 dimensions.");
            var bs = Tensor.BroadcastShape(bias.Shape, full, op);
            if (!bs.AsSpan().SequenceEqual(full)) throw new ArgumentException($"{op}: bias {bias.ShapeString} does not broadcast to {Layout.Format(full)}.");
            biasLayout = bias.BroadcastLayout(full);
        }
        // Keys and values read in place from a KV cache buffer (B, Hkv, capacity, D) narrowed to the first Tk positions.
        // Only when no gradient is needed: the backward reads dense keys and values, so with gradients they are copied.
        int capacity = 0;
        bool cached = !AnyGrad(q, bias) && !k.RequiresGrad && !v.RequiresGrad && CacheCapacity(k) is int ck && CacheCapacity(v) == ck;
        if (cached) capacity = CacheCapacity(k)!.Value;
        // A window that covers every key is no window: the kernels then take the plain causal path.
        int win = window is int ww && ww < tk ? ww : 0;
        var s = new AttentionShape(bsz, h, hkv, tq, tk, d, causal, scale ?? 1f / MathF.Sqrt(d), capacity, dv == d ? 0 : dv, win);
        var qc = q.Dense();
        var kc = cached ? k : k.Dense();
        var vc = cached ? v : v.Dense();
        var b = q.Backend;
        var y = Tensor.Empty(b, DType.Float32, [bsz, h, tq, dv]);
        var lse = Tensor.Empty(b, DType.Float32, [bsz, h, tq]);
        b.Attention(s, qc.Storage, kc.Storage, vc.Storage, mask?.Storage, bias?.Storage, biasLayout, y.Storage, lse.Storage);
        Tensor[] inputs = bias is null ? [qc, kc, vc] : [qc, kc, vc, bias];
        var biasShape = bias?.Shape.ToArray();
        return y.Record("attention", inputs, g =>
        {
            var gc = g.Dense();
            var dq = Tensor.Empty(b, DType.Float32, qc.Shape);
            var dk = Tensor.Empty(b, DType.Float32, kc.Shape);   // kc is dense here: cached attention records no backward
            var dv = Tensor.Empty(b, DType.Float32, vc.Shape);
            Tensor? dbias = bias is not null && bias.RequiresGrad ? Tensor.Empty(b, DType.Float32, [bsz, h, tq, tk]) : null;
            b.AttentionBackward(s, qc.Storage, kc.Storage, vc.Storage, mask?.Storage, bias?.Storage, biasLayout, y.Storage, lse.Storage,
                gc.Storage, dq.Storage, dk.Storage, dv.Storage, dbias?.Storage);
            if (bias is null) return [dq, dk, dv];
            return [dq, dk, dv, dbias is null ? null : Tensor.SumToShape(dbias, biasShape!)];
        });
    }

    private static bool AnyGrad(Tensor q, Tensor? bias) => Autograd.GradMode.IsEnabled && (q.RequiresGrad || (bias?.RequiresGrad ?? false));

    // The capacity of a (B, H, capacity, D) buffer of which t is the narrowed prefix (B, H, Tk, D), or null (D is t's own last size).
    private static int? CacheCapacity(Tensor t)
    {
        var l = t.Layout;
        int d = l.Shape[3], h = l.Shape[1];
        if (l.Offset != 0 || l.Strides[3] != 1 || l.Strides[2] != d || l.Strides[1] % d != 0) return null;
        int cap = l.Strides[1] / d;
        if (cap <= l.Shape[2] || (l.Shape[0] > 1 && l.Strides[0] != h * cap * d)) return null;
        return cap;
    }
}
