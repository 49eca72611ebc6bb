using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>
/// The weighted scatter-add that brings expert outputs back to their tokens: <c>y[n] = Σ_s w[n, s] · rows[slot[n, s]]</c>,
/// a <see cref="CustomFunction"/> with its own backward (<c>∂rows[slot[n, s]] = w[n, s] · ∂y[n]</c>,
/// <c>∂w[n, s] = ∂y[n] · rows[slot[n, s]]</c>). Runs on host arrays, so any backend works (through copies).
/// </summary>
public static class MoeCombine
{
    /// <summary>
    /// rows (M, C) expert outputs, weights (N, k), slots: for token n and choice s, the row of <paramref name="rows"/> (length N·k,
    /// each in [0, M)) → (N, C).
    /// </summary>
    public static Tensor Apply(Tensor rows, Tensor weights, int[] slots)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(slots);
        if (rows.Rank != 2 || weights.Rank != 2)
            throw new ArgumentException($"MoeCombine: rows must be (M, C) and weights (N, k), got {rows.ShapeString} and {weights.ShapeString}.");
        int m = rows.Size(0), c = rows.Size(1), n = weights.Size(0), k = weights.Size(1);
        if (slots.Length != n * k)
            throw new ArgumentException($"MoeCombine: {slots.Length} slots for weights {weights.ShapeString} (expected {n * k}).");
        foreach (var s in slots)
            if ((uint)s >= (uint)m) throw new ArgumentException($"MoeCombine: slot {s} is outside the {m} rows {rows.ShapeString}.");
        return CustomFunction.Apply("moe_combine", [rows, weights], ctx =>
        {
            var r = ctx.Inputs[0].ToArray();
            var w = ctx.Inputs[1].ToArray();
            ctx.SaveForBackward(ctx.Inputs[0], ctx.Inputs[1]);
            var y = new float[n * c];
            for (int t = 0; t < n; t++)
            {
                var yt = y.AsSpan(t * c, c);
                for (int s = 0; s < k; s++)
                {
                    float ws = w[t * k + s];
                    var src = r.AsSpan(slots[t * k + s] * c, c);
                    for (int j = 0; j < c; j++) yt[j] += ws * src[j];
                }
            }
            return Tensor.FromArray(y, n, c).To(ctx.Inputs[0].Backend);
        }, (ctx, g) =>
        {
            var go = g.ToArray();                                                          // (N, C)
            Tensor? gRows = null, gW = null;
            var w = ctx.SavedTensors[1].ToArray();
            if (ctx.NeedsInputGrad(0))
            {
                var gr = new float[m * c];
                for (int t = 0; t < n; t++)
                    for (int s = 0; s < k; s++)
                    {
                        float ws = w[t * k + s];
                        var dst = gr.AsSpan(slots[t * k + s] * c, c);
                        var src = go.AsSpan(t * c, c);
                        for (int j = 0; j < c; j++) dst[j] += ws * src[j];
                    }
                gRows = Tensor.FromArray(gr, m, c).To(g.Backend);
            }
            if (ctx.NeedsInputGrad(1))
            {
                var r = ctx.SavedTensors[0].ToArray();
                var gw = new float[n * k];
                for (int t = 0; t < n; t++)
                    for (int s = 0; s < k; s++)
                        gw[t * k + s] = System.Numerics.Tensors.TensorPrimitives.Dot<float>(go.AsSpan(t * c, c), r.AsSpan(slots[t * k + s] * c, c));
                gW = Tensor.FromArray(gw, n, k).To(g.Backend);
            }
            return [gRows, gW];
        });
    }
}
