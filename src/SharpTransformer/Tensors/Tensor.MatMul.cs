namespace SharpTransformer.Tensors;

public sealed partial class Tensor
{
    /// <summary>
    /// Matrix product with PyTorch's <c>matmul</c> rules: (..., M, K) @ (..., K, N) with broadcast batch dimensions;
    /// a 1-D operand is treated as a row (left) or column (right) vector and that dimension is removed.
    /// Transposed views are consumed in place, without copies.
    /// </summary>
    public Tensor MatMul(Tensor b)
    {
        RequireFloat("matmul"); b.RequireFloat("matmul");
        SameBackend(this, b, "matmul");
        if (Rank == 0 || b.Rank == 0) throw new ArgumentException($"matmul: operands must have at least one dimension, got {ShapeString} and {b.ShapeString}.");
        if (Rank == 1 && b.Rank == 1) return Unsqueeze(0).MatMul(b.Unsqueeze(1)).Reshape(); // dot product: rank 0
        if (Rank == 1) return Unsqueeze(0).MatMul(b).Squeeze(-2);
        if (b.Rank == 1) return MatMul(b.Unsqueeze(1)).Squeeze(-1);
        int m = Size(-2), k = Size(-1), n = b.Size(-1);
        if (b.Size(-2) != k) throw new ArgumentException($"matmul: {ShapeString} @ {b.ShapeString}: inner dimensions {k} and {b.Size(-2)} differ.");
        var batch = BroadcastShape(Shape[..^2], b.Shape[..^2], "matmul");
        int[] aShape = [.. batch, m, k], bShape = [.. batch, k, n], yShape = [.. batch, m, n];
        var y = Empty(Backend, DType.Float32, yShape);
        Backend.MatMul(Storage, BroadcastLayout(aShape), b.Storage, b.BroadcastLayout(bShape), y.Storage);
        var a = this;
        var aOrig = Shape.ToArray(); var bOrig = b.Shape.ToArray();
        return y.Record("matmul", [this, b], g =>
        [
            a.RequiresGrad ? SumToShape(g.MatMul(b.Transpose(-2, -1)), aOrig) : null,
            b.RequiresGrad ? SumToShape(a.Transpose(-2, -1).MatMul(g), bOrig) : null,
        ]);
    }

    /// <summary>
    /// x @ weightᵀ + bias for x (..., in), weight (out, in) as nn.Linear stores it, bias (out) or null.
    /// The backward computes the weight gradient directly in the (out, in) layout.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        x.RequireFloat("linear"); weight.RequireFloat("linear");
        if (weight.Rank != 2) throw new ArgumentException($"linear: weight must be (out, in), got {weight.ShapeString}.");
        int outF = weight.Size(0), inF = weight.Size(1);
        if (x.Rank < 1 || x.Size(-1) != inF) throw new ArgumentException($"linear: input {x.ShapeString} does not end in {inF} features (weight {weight.ShapeString}).");
        if (bias is not null && (bias.Rank != 1 || bias.Size(0) != outF)) throw new ArgumentException($"linear: bias {bias.ShapeString} does not match weight {weight.ShapeString}.");
        var lead = x.Shape[..^1].ToArray();
        var x2 = x.Contiguous();
        int rows = x.Count / Math.Max(1, inF);
        var xl = Layout.Contiguous(rows, inF);
        var xv = new Tensor(x2.Storage, new Layout(xl.Shape, xl.Strides, x2.Layout.Offset));
        var y = Empty(x.Backend, DType.Float32, [.. lead, outF]);
        var yl = Layout.Contiguous(rows, outF);
        var wt = weight.Transpose(0, 1);
        x.Backend.MatMul(xv.Storage, xv.Layout, weight.Storage, wt.Layout, y.Storage);
        if (bias is not null)
            x.Backend.Binary(Backends.BinaryOp.Add, y.Storage, yl, bias.Storage, bias.BroadcastLayout(yl.Shape), y.Storage);
        var inputs = bias is null ? new[] { x2, weight } : new[] { x2, weight, bias };
        return y.Record("linear", inputs, g =>
        {
            var gc = g.Contiguous();
            var g2 = new Tensor(gc.Storage, new Layout(yl.Shape, yl.Strides, gc.Layout.Offset));
            Tensor? gx = null, gw = null, gb = null;
            if (x2.RequiresGrad) gx = g2.MatMul(weight).Reshape([.. lead, inF]);      // (rows, out) @ (out, in)
            if (weight.AcceptsDirectGrad)
            {
                // dW (out, in) = g2ᵀ @ x, written straight into the parameter's gradient buffer.
                var buf = weight.GradBuffer(out bool overwrite);
                var g2t = g2.Transpose(0, 1);
                g.Backend.MatMul(g2t.Storage, g2t.Layout, xv.Storage, xv.Layout, buf.Storage, accumulate: !overwrite);
            }
            else if (weight.RequiresGrad) gw = g2.Transpose(0, 1).MatMul(xv);          // (out, rows) @ (rows, in)
            if (bias is not null && bias.RequiresGrad) gb = g2.Sum(0);
            return bias is null ? [gx, gw] : [gx, gw, gb];
        });
    }
}
