using SharpTransformer.Backends;
using SharpTransformer.Tensors;

namespace SharpTransformer.Nn;

/// <summary>Differentiable neural-network functions over tensors, as <c>torch.nn.functional</c>; each uses a fused backend kernel.</summary>
public static partial class Functional
{
    private static int Rows(Tensor x, int cols) => cols == 0 ? 0 : x.Count / cols;

    /// <summary>Max-subtracted softmax along <paramref name="dim"/> (safe for large logits).</summary>
    public static Tensor Softmax(this Tensor x, int dim = -1) => SoftmaxCore(x, dim, log: false);

    /// <summary>Max-subtracted log-softmax along <paramref name="dim"/>.</summary>
    public static Tensor LogSoftmax(this Tensor x, int dim = -1) => SoftmaxCore(x, dim, log: true);

    private static Tensor SoftmaxCore(Tensor x, int dim, bool log)
    {
        string name = log ? "log_softmax" : "softmax";
        x.RequireFloat(name);
        int d = x.NormDim(dim, name);
        if (d != x.Rank - 1) return SoftmaxCore(x.Transpose(d, -1), -1, log).Transpose(d, -1);
        var xc = x.Dense();
        int cols = x.Size(-1), rows = Rows(x, cols);
        var y = Tensor.Empty(x.Backend, DType.Float32, x.Shape);
        x.Backend.Softmax(xc.Storage, rows, cols, y.Storage, log);
        return y.Record(name, [xc], g =>
        {
            var gc = g.Dense();
            var dx = Tensor.Empty(g.Backend, DType.Float32, g.Shape);
            g.Backend.SoftmaxBackward(y.Storage, gc.Storage, rows, cols, dx.Storage, log);
            return [dx];
        });
    }

    /// <summary>Layer normalisation over the last dimension with optional affine weight and bias (C).</summary>
    public static Tensor LayerNorm(Tensor x, Tensor? weight, Tensor? bias, float eps = 1e-5f)
    {
        x.RequireFloat("layer_norm");
        int cols = x.Size(-1), rows = Rows(x, cols);
        CheckVector(weight, cols, "layer_norm", "weight", x);
        CheckVector(bias, cols, "layer_norm", "bias", x);
        var xc = x.Dense();
        var w = weight?.Dense();
        var b = bias?.Dense();
        var y = Tensor.Empty(x.Backend, DType.Float32, x.Shape);
        var mean = Tensor.Empty(x.Backend, DType.Float32, [rows]);
        var rstd = Tensor.Empty(x.Backend, DType.Float32, [rows]);
        x.Backend.LayerNorm(xc.Storage, w?.Storage, b?.Storage, rows, cols, eps, y.Storage, mean.Storage, rstd.Storage);
        var inputs = new List<Tensor> { xc };
        if (w is not null) inputs.Add(w);
        if (b is not null) inputs.Add(b);
        return y.Record("layer_norm", [.. inputs], g =>
        {
            var gc = g.Dense();
            var dx = Tensor.Empty(g.Backend, DType.Float32, x.Shape);
            var dw = w is not null ? Tensor.Empty(g.Backend, DType.Float32, [cols]) : null;
            var db = b is not null ? Tensor.Empty(g.Backend, DType.Float32, [cols]) : null;
            g.Backend.LayerNormBackward(xc.Storage, w?.Storage, mean.Storage, rstd.Storage, gc.Storage, rows, cols, dx.Storage, dw?.Storage, db?.Storage);
            var r = new List<Tensor?> { dx };
            if (w is not null) r.Add(dw);
            if (b is not null) r.Add(db);
            return [.. r];
        });
    }

    /// <summary>RMS normalisation over the last dimension: x / sqrt(mean(x²) + eps) * weight.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor? weight, float eps = 1e-6f)
    {
        x.RequireFloat("rms_norm");
        int cols = x.Size(-1), rows = Rows(x, cols);
        CheckVector(weight, cols, "rms_norm", "weight", x);
        var xc = x.Dense();
        var w = weight?.Dense();
        var y = Tensor.Empty(x.Backend, DType.Float32, x.Shape);
        var rstd = Tensor.Empty(x.Backend, DType.Float32, [rows]);
        x.Backend.RmsNorm(xc.Storage, w?.Storage, rows, cols, eps, y.Storage, rstd.Storage);
        Tensor[] inputs = w is null ? [xc] : [xc, w];
        return y.Record("rms_norm", inputs, g =>
        {
            var gc = g.Dense();
            var dx = Tensor.Empty(g.Backend, DType.Float32, x.Shape);
            var dw = w is not null ? Tensor.Empty(g.Backend, DType.Float32, [cols]) : null;
            g.Backend.RmsNormBackward(xc.Storage, w?.Storage, rstd.Storage, gc.Storage, rows, cols, dx.Storage, dw?.Storage);
            return w is null ? [dx] : [dx, dw];
        });
    }

    private static void CheckVector(Tensor? v, int cols, string op, string name, Tensor x)
    {
        if (v is null) return;
        v.RequireFloat(op);
        if (v.Rank != 1 || v.Size(0) != cols)
            throw new ArgumentException($"{op}: {name} {v.ShapeString} does not match the last dimension of input {x.ShapeString}.");
    }

    /// <summary>Rows of <paramref name="weight"/> (V, C) picked by Int32 <paramref name="ids"/> (...): (..., C).</summary>
    public static Tensor Embedding(Tensor ids, Tensor weight)
    {
        if (ids.DType != DType.Int32) throw new ArgumentException($"embedding: ids must be Int32, got {ids.DType} {ids.ShapeString}.");
        if (weight.Rank != 2) throw new ArgumentException($"embedding: weight must be (vocab, dim), got {weight.ShapeString}.");
        var flat = ids.Reshape(-1);
        int[] shape = [.. ids.Shape, weight.Size(1)];
        try
        {
            return weight.IndexSelect(0, flat).Reshape(shape);
        }
        catch (IndexOutOfRangeException e)
        {
            throw new IndexOutOfRangeException($"embedding: an id in {ids.ShapeString} is outside the table of {weight.Size(0)} rows ({e.Message})", e);
        }
    }

    /// <summary>
    /// Cross-entropy between logits (..., C) and Int32 class targets (...), fused with log-softmax. Targets equal to
    /// <paramref name="ignoreIndex"/> do not count; <paramref name="labelSmoothing"/> mixes in a uniform target as PyTorch does.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor targets, int ignoreIndex = -100, float labelSmoothing = 0f,
        Reduction reduction = Reduction.Mean)
    {
        var (classes, rows) = CheckCrossEntropy(logits, targets, null, labelSmoothing);
        var lc = logits.Dense();
        var tc = targets.Dense();
        var b = logits.Backend;
        var rowLoss = Tensor.Empty(b, DType.Float32, [rows]);
        var lse = Tensor.Empty(b, DType.Float32, [rows]);
        var valid = Tensor.Empty(b, DType.Float32, [rows]);
        b.CrossEntropy(lc.Storage, tc.Storage, rows, classes, ignoreIndex, labelSmoothing, rowLoss.Storage, lse.Storage, valid.Storage);

        Tensor y;
        Tensor? count = null;
        switch (reduction)
        {
            case Reduction.None:
                y = Tensor.Empty(b, DType.Float32, targets.Shape);
                b.Copy(rowLoss.Storage, rowLoss.Layout, y.Storage, Layout.Contiguous(rows));
                break;
            case Reduction.Sum:
                y = Reduced(rowLoss, ReduceOp.Sum);
                break;
            default:
                count = Reduced(valid, ReduceOp.Sum);
                y = Reduced(rowLoss, ReduceOp.Sum);
                b.Binary(BinaryOp.Div, y.Storage, y.Layout, count.Storage, count.Layout, y.Storage);
                break;
        }
        return y.Record("cross_entropy", [lc], g =>
        {
            var dl = Tensor.Empty(g.Backend, DType.Float32, lc.Shape);
            Tensor scale, dRow;
            if (reduction == Reduction.None)
            {
                scale = Tensor.Full([1], 1f, DType.Float32, g.Backend);
                dRow = g.Dense();
            }
            else
            {
                scale = Tensor.Empty(g.Backend, DType.Float32, [1]);
                g.Backend.Copy(g.Storage, g.Layout, scale.Storage, Layout.Contiguous(g.Shape.ToArray()));
                if (count is not null) g.Backend.Binary(BinaryOp.Div, scale.Storage, scale.Layout, count.Storage, Layout.Contiguous(1), scale.Storage);
                dRow = Tensor.Full([rows], 1f, DType.Float32, g.Backend);
            }
            g.Backend.CrossEntropyBackward(lc.Storage, tc.Storage, lse.Storage, dRow.Storage, scale.Storage, rows, classes, ignoreIndex, labelSmoothing, dl.Storage);
            return [dl];
        });
    }

    // The arguments of both cross-entropies: float logits (..., C) (and weight), Int32 targets (...), smoothing in [0, 1].
    private static (int Classes, int Rows) CheckCrossEntropy(Tensor logits, Tensor targets, Tensor? weight, float labelSmoothing)
    {
        logits.RequireFloat("cross_entropy");
        weight?.RequireFloat("cross_entropy weight");
        if (targets.DType != DType.Int32) throw new ArgumentException($"cross_entropy: targets must be Int32 class ids, got {targets.DType} {targets.ShapeString}.");
        if (labelSmoothing < 0f || labelSmoothing > 1f) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "cross_entropy: label smoothing must be in [0, 1].");
        int classes = logits.Size(-1);
        int rows = Rows(logits, classes);
        if (targets.Count != rows || !logits.Shape[..^1].SequenceEqual(targets.Shape))
            throw new ArgumentException($"cross_entropy: targets {targets.ShapeString} do not match logits {logits.ShapeString} (expected {Layout.Format(logits.Shape[..^1])}).");
        return (classes, rows);
    }

    // Sum of all elements as a rank-0 tensor, without autograd.
    private static Tensor Reduced(Tensor x, ReduceOp op)
    {
        var y = Tensor.Empty(x.Backend, DType.Float32, []);
        x.Backend.Reduce(op, x.Storage, Layout.Contiguous(x.Count), 0, y.Storage);
        return y;
    }

    /// <summary>Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). Identity when not training.</summary>
    public static Tensor Dropout(Tensor x, float p, bool training, Generator generator)
    {
        if (p < 0f || p >= 1f) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout: probability must be in [0, 1).");
        if (!training || p == 0f) return x;
        x.RequireFloat("dropout");
        var mask = Tensor.Empty(x.Backend, DType.Float32, x.Shape);
        x.Backend.RandomFill(mask.Storage, mask.Count, RandomKind.Bernoulli, 1f - p, 1f / (1f - p), generator.Seed, generator.Advance(mask.Count));
        return x.Mul(mask);
    }

    /// <summary>
    /// Rotary position embedding (Hugging Face rotate-half form) on x (B, H, T, D) with Int32 positions (B, T) or (T).
    /// </summary>
    public static Tensor Rope(Tensor x, Tensor positions, float theta = 10000f)
    {
        x.RequireFloat("rope");
        if (x.Rank != 4) throw new ArgumentException($"rope: input must be (batch, heads, time, head_dim), got {x.ShapeString}.");
        int bsz = x.Size(0), h = x.Size(1), t = x.Size(2), d = x.Size(3);
        if (d % 2 != 0) throw new ArgumentException($"rope: head dimension {d} must be even ({x.ShapeString}).");
        if (positions.DType != DType.Int32) throw new ArgumentException($"rope: positions must be Int32, got {positions.DType}.");
        Tensor pos;
        if (positions.Rank == 1 && positions.Size(0) == t) pos = positions.Unsqueeze(0).Expand(bsz, t).Contiguous();
        else if (positions.Rank == 2 && positions.Size(0) == bsz && positions.Size(1) == t) pos = positions.Dense();
        else throw new ArgumentException($"rope: positions {positions.ShapeString} must be ({t},) or ({bsz}, {t}) for input {x.ShapeString}.");
        if (pos.Layout.Offset != 0) pos = pos.Clone();
        var xc = x.Dense();
        var y = Tensor.Empty(x.Backend, DType.Float32, x.Shape);
        x.Backend.Rope(xc.Storage, pos.Storage, bsz, h, t, d, theta, y.Storage, inverse: false);
        return y.Record("rope", [xc], g =>
        {
            var gc = g.Dense();
            var dx = Tensor.Empty(g.Backend, DType.Float32, x.Shape);
            g.Backend.Rope(gc.Storage, pos.Storage, bsz, h, t, d, theta, dx.Storage, inverse: true);
            return [dx];
        });
    }
}
