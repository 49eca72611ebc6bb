using SharpTransformer.Autograd;
using SharpTransformer.Tensors;

namespace SharpTransformer.Tests.Autograd.CustomOps;

/// <summary>
/// The combine step of a mixture-of-experts layer, written outside the library as a <see cref="CustomFunction"/>:
/// the expert outputs of the routed rows (N, C), one routing weight per row (N) and the token each row came from (N, Int32)
/// give y (Tokens, C) with y[token[n]] += weight[n] · rows[n]. Forward on raw storages (the backend's ScatterAdd), backward
/// with tensor ops: d rows[n] = weight[n] · dy[token[n]], d weight[n] = dy[token[n]] · rows[n]; the token ids get none.
/// </summary>
public sealed class ExpertCombine(int tokens) : CustomFunction("moe_combine")
{
    /// <summary>Number of tokens (rows of the output).</summary>
    public int Tokens { get; } = tokens;

    /// <summary>y (Tokens, C) from rows (N, C), weights (N) and token ids (N).</summary>
    public static Tensor Apply(Tensor rows, Tensor weights, Tensor token, int tokens) => new ExpertCombine(tokens).Apply(rows, weights, token);

    /// <inheritdoc/>
    protected override Tensor Forward(FunctionContext ctx, IReadOnlyList<Tensor> inputs)
    {
        var (rows, weights, token) = (inputs[0], inputs[1], inputs[2]);
        if (rows.Rank != 2 || weights.Rank != 1 || token.Rank != 1 || weights.Size(0) != rows.Size(0) || token.Size(0) != rows.Size(0) || token.DType != DType.Int32)
            throw new ArgumentException($"moe_combine: expected rows (N, C), weights (N) and Int32 token ids (N), got {rows.ShapeString}, {weights.ShapeString}, {token.DType} {token.ShapeString}.");
        foreach (var id in token.ToIntArray())
            if ((uint)id >= (uint)Tokens) throw new ArgumentOutOfRangeException(nameof(inputs), id, $"moe_combine: token id {id} is outside [0, {Tokens}).");
        int n = rows.Size(0), c = rows.Size(1);
        var weighted = rows.Mul(weights.Unsqueeze(1));                         // (N, C), fresh and contiguous
        var ids = token.Clone();                                               // dense from offset 0, as the kernel reads it
        var y = Tensor.Zeros([Tokens, c], DType.Float32, rows.Backend);        // (Tokens, C)
        rows.Backend.ScatterAdd(weighted.Storage, 1, Tokens, c, ids.Storage, n, y.Storage);
        return y;
    }

    /// <inheritdoc/>
    protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
    {
        var (rows, weights, token) = (ctx.Inputs[0], ctx.Inputs[1], ctx.Inputs[2]);
        var gRows = gradOutput.IndexSelect(0, token);                          // (N, C): dy of each row's token
        var dRows = ctx.NeedsInputGrad(0) ? gRows.Mul(weights.Unsqueeze(1)) : null;
        var dWeights = ctx.NeedsInputGrad(1) ? gRows.Mul(rows).Sum(1) : null;  // (N)
        return [dRows, dWeights, null];
    }
}
