using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>GPT-2's initialisation of transformer blocks: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2·layers), zero biases.</summary>
internal static class GptInit
{
    public static void Apply(IEnumerable<TransformerBlock> blocks, int layers, Generator g)
    {
        float residual = 0.02f / MathF.Sqrt(2f * layers);
        using var _ = TensorScope.Suspend();
        foreach (var b in blocks)
        {
            var a = b.Attention;
            ILinear[] projections = a.Qkv is { } qkv ? [qkv, a.Output] : [a.Query!, a.Key!, a.Value!, a.Output];
            foreach (var lin in projections.Concat([b.Mlp.Up, b.Mlp.Down]))
            {
                float std = lin == a.Output || lin == b.Mlp.Down ? residual : 0.02f;
                var w = lin.RequireWeight("GptInit");
                w.CopyFrom(Tensor.RandN(w.Shape.ToArray(), g, 0f, std));
                lin.Bias?.CopyFrom(Tensor.Zeros(lin.Bias.Shape));
            }
        }
    }
}
