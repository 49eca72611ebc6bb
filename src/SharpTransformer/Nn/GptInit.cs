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
            foreach (var lin in new[] { b.Attention.Qkv, b.Attention.Proj, b.Mlp.Up, b.Mlp.Down })
            {
                float std = lin == b.Attention.Proj || lin == b.Mlp.Down ? residual : 0.02f;
                lin.Weight.CopyFrom(Tensor.RandN(lin.Weight.Shape.ToArray(), g, 0f, std));
                lin.Bias?.CopyFrom(Tensor.Zeros(lin.Bias.Shape));
            }
    }
}
