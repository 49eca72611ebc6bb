using SharpTransformer.Autograd;
using SharpTransformer.Backends.Cpu;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn.MoE;

/// <summary>
/// The weighted scatter-add that brings expert outputs back to their tokens: <c>y[n] = Σ_s w[n, s] · rows[slot[n, s]]</c>,
/// a <see cref="CustomFunction"/> with its own backward (<c>∂rows[slot[n, s]] = w[n, s] · ∂y[n]</c>,
/// <c>∂w[n, s] = ∂y[n] · rows[slot[n, s]]</c>). On the CPU backend it reads and writes the tensors' storage in place; other
/// backends go through host copies.
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
            var r = Host(ctx.Inputs[0]);
            var w = Host(ctx.Inputs[1]);
            ctx.SaveForBackward(ctx.Inputs[0], ctx.Inputs[1]);
            return Output(ctx.Inputs[0].Backend, [n, c], y =>
            {
                for (int t = 0; t < n; t++)
                {
                    var yt = y.Slice(t * c, c);
                    for (int s = 0; s < k; s++)
                    {
                        var src = r.Span.Slice(slots[t * k + s] * c, c);
                        float ws = w.Span[t * k + s];
                        if (s == 0) System.Numerics.Tensors.TensorPrimitives.Multiply(src, ws, yt);
                        else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, ws, yt, yt);
                    }
                }
            });
        }, (ctx, g) =>
        {
            var go = Host(g);                                                           // (N, C)
            Tensor? gRows = null, gW = null;
            if (ctx.NeedsInputGrad(0))
            {
                var w = Host(ctx.SavedTensors[1]);
                // Every row of rows is one (token, choice) slot, so each row of the gradient is written exactly once.
                bool unique = new HashSet<int>(slots).Count == slots.Length;
                gRows = Output(g.Backend, [m, c], gr =>
                {
                    for (int t = 0; t < n; t++)
                        for (int s = 0; s < k; s++)
                        {
                            var src = go.Span.Slice(t * c, c);
                            var dst = gr.Slice(slots[t * k + s] * c, c);
                            // Distinct slots (SparseMoe's) write each row once; repeated ones accumulate.
                            if (unique) System.Numerics.Tensors.TensorPrimitives.Multiply(src, w.Span[t * k + s], dst);
                            else System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(src, w.Span[t * k + s], dst, dst);
                        }
                });
            }
            if (ctx.NeedsInputGrad(1))
            {
                var r = Host(ctx.SavedTensors[0]);
                gW = Output(g.Backend, [n, k], gw =>
                {
                    for (int t = 0; t < n; t++)
                        for (int s = 0; s < k; s++)
                            gw[t * k + s] = System.Numerics.Tensors.TensorPrimitives.Dot(go.Span.Slice(t * c, c), r.Span.Slice(slots[t * k + s] * c, c));
                });
            }
            return [gRows, gW];
        });
    }

    // A read-only view of a Float32 tensor's values: its CPU storage in place when contiguous, else a host copy.
    private static ReadOnlyMemory<float> Host(Tensor t)
    {
        if (t.Storage is CpuStorage cs && t.IsContiguous) return cs.Floats.AsMemory(t.Layout.Offset, t.Count);
        return t.ToArray();
    }

    // A new zero tensor on the backend, filled by write (on the CPU straight into its storage).
    private static Tensor Output(Backends.IBackend backend, int[] shape, SpanAction write)
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        if (backend is CpuBackend)
        {
            var y = Tensor.Zeros(shape, DType.Float32, backend);
            write(((CpuStorage)y.Storage).Floats.AsSpan(y.Layout.Offset, count));
            return y;
        }
        var host = new float[count];
        write(host);
        return Tensor.FromArray(host, shape).To(backend);
    }

    private delegate void SpanAction(Span<float> values);
}
