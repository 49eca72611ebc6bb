using SharpTransformer.Autograd;
using SharpTransformer.Nn;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd.CustomOps;

/// <summary>
/// Top-k routing of a mixture-of-experts layer, written outside the library with the lambda form of
/// <see cref="CustomFunction.Apply(string, IReadOnlyList{Tensor}, Func{FunctionContext, Tensor}, Func{FunctionContext, Tensor, Tensor?[]})"/>:
/// router logits (T, E) give the softmax over each token's k largest logits (T, k); the chosen expert ids come back through
/// <paramref name="experts"/> (not differentiable, held in the context's state). The backward is the softmax backward
/// scattered into the chosen columns with the backend's ScatterAdd; the other logits get zero.
/// </summary>
public static class TopKGate
{
    /// <summary>Routing weights (T, k) and the chosen experts (T·k ids, row-major, largest first).</summary>
    public static Tensor Apply(Tensor logits, int k, out int[] experts)
    {
        int t = logits.Size(0), e = logits.Size(1);
        if (k < 1 || k > e) throw new ArgumentOutOfRangeException(nameof(k), k, $"top_k_gate: k must be in [1, {e}].");
        int[] chosen = [];
        var y = CustomFunction.Apply("top_k_gate", [logits], ctx =>
        {
            var host = ctx.Inputs[0].ToArray();
            chosen = new int[t * k];
            var flat = new int[t * k];
            for (int r = 0; r < t; r++)
            {
                var best = Enumerable.Range(0, e).OrderByDescending(j => host[r * e + j]).ThenBy(j => j).Take(k).ToArray();
                for (int j = 0; j < k; j++) { chosen[r * k + j] = best[j]; flat[r * k + j] = r * e + best[j]; }
            }
            var index = Tensor.FromArray(flat, t * k).To(ctx.Inputs[0].Backend);
            var weights = ctx.Inputs[0].Reshape(t * e).IndexSelect(0, index).Reshape(t, k).Softmax(-1);   // (T, k)
            ctx.SaveForBackward(weights, index);
            return weights;
        }, (ctx, g) =>
        {
            var (p, index) = (ctx.SavedTensors[0], ctx.SavedTensors[1]);
            var dSel = p.Mul(g.Sub(g.Mul(p).Sum(1, keepDim: true))).Contiguous();   // softmax backward, (T, k)
            var dLogits = Tensor.Zeros([t, e], DType.Float32, g.Backend);
            g.Backend.ScatterAdd(dSel.Storage, 1, t * e, 1, index.Storage, t * k, dLogits.Storage);
            return [dLogits];
        });
        experts = chosen;
        return y;
    }
}
